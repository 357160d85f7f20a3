//! One request through the gateway: its canonical target ([`target`]),
//! the policy that covers it, the CORS decision and cross-origin protection
//! (an untrusted browser's unsafe request is refused with 403, never
//! forwarded), and the answer: a
//! preflight answered here, everything else forwarded ([`forward`]) with the
//! policy's headers applied to whatever comes back (the gateway's own 502
//! and 504 included).
//!
//! Bodies are streamed both ways: the client's body is handed to the
//! upstream client as it arrives, the upstream's is handed back frame by
//! frame. Nothing here buffers a whole body.

mod body;
mod forward;
pub(crate) mod headers;
mod report_only;
pub(crate) mod target;
mod websocket;

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::header::{self, HeaderValue};
use http::uri::PathAndQuery;
use http::{Method, Request, Response, StatusCode, Version};
use hyper::body::Incoming;
use tokio::sync::OwnedSemaphorePermit;
use tracing::info;

pub use body::{empty, full, gateway_error, Body};

use corsair::cross_origin::{CrossOriginRejection, Passed};

use crate::config::{Config, RoutedPolicy};
use crate::runtime::drain::Watcher;
use crate::state::Shared;
use target::{Authority, Refusal};

/// What a request needs to know about its connection.
pub struct ConnCtx {
    /// Shared state.
    pub shared: Arc<Shared>,
    /// The client's address.
    pub peer: SocketAddr,
    /// The client's IP as an `X-Forwarded-For` element, formatted once per
    /// connection.
    peer_ip: HeaderValue,
    /// The connection's view of the shutdown; with `_permit`, kept by a
    /// WebSocket tunnel after hyper has handed the connection over, so that
    /// the tunnel counts as an open connection for the drain and for
    /// `limits.max_connections`.
    pub(crate) drain: Watcher,
    _permit: Option<OwnedSemaphorePermit>,
}

impl ConnCtx {
    /// The context of a connection from `peer`, holding its place in the
    /// drain and (when limited) in `limits.max_connections`.
    pub fn new(shared: Arc<Shared>, peer: SocketAddr, drain: Watcher, permit: Option<OwnedSemaphorePermit>) -> Self {
        let ip = peer.ip().to_canonical().to_string();
        let peer_ip = HeaderValue::from_str(&ip).unwrap_or(HeaderValue::from_static("unknown"));
        Self {
            shared,
            peer,
            peer_ip,
            drain,
            _permit: permit,
        }
    }

    fn scheme(&self) -> &'static str {
        if self.shared.listener_tls {
            "https"
        } else {
            "http"
        }
    }
}

/// Serves one request.
pub async fn handle(req: Request<Incoming>, ctx: Arc<ConnCtx>) -> Response<Body> {
    let started = Instant::now();
    let resp = serve(req, &ctx).await;
    ctx.shared.metrics.observe(started.elapsed());
    resp
}

/// The meaning of a request, computed once: the policy that covers it, its
/// authority for the upstream's forwarding headers, and the target to
/// forward when its canonical form differs from what the client sent.
pub(crate) struct Resolved {
    /// The covering policy's index in the config.
    route: Option<usize>,
    /// The canonical authority, `name[:port]`.
    host: Option<HeaderValue>,
    /// The canonical path and the query, when the path was not canonical.
    target: Option<PathAndQuery>,
}

async fn serve(req: Request<Incoming>, ctx: &Arc<ConnCtx>) -> Response<Body> {
    // One snapshot of the config for the whole request.
    let active = ctx.shared.active();
    let cfg = &*active.config;
    // The WebSocket and report-only paths are boxed: their state machines
    // are large, and unboxed they would size every request's future (one
    // tokio task per HTTP/2 stream), preflights included.
    if let Some(kind) = websocket::recognise(&req) {
        return Box::pin(websocket::serve(req, kind, ctx, &active)).await;
    }
    if req.method() == Method::CONNECT {
        return gateway_error(StatusCode::METHOD_NOT_ALLOWED, "corsair: CONNECT is not supported\n");
    }
    let resolved = match resolve(&req, cfg) {
        Ok(r) => r,
        Err(refusal) => return refuse(ctx, &req, refusal),
    };
    let Some(index) = resolved.route else {
        ctx.shared.metrics.uncovered();
        return forward::forward(req, resolved, ctx, &active).await;
    };
    let route = &cfg.policies[index];
    let counters = active.counters.get(index);

    let decision = route.policy.evaluate(req.method(), req.headers());
    // Cross-origin protection (CSRF): an unsafe request that a browser sends
    // for a page of an origin the policy does not trust is refused here and
    // never reaches the upstream. Counted and logged instead of the CORS
    // outcome: it decided the answer.
    let protection = protect(route, &req, &resolved);
    if route.mode == corsair::PolicyMode::ReportOnly {
        if let Some(c) = counters {
            let outcome = protection.as_ref().err().map_or(decision.outcome(), |r| r.code());
            c.request(decision.kind(), outcome);
        }
        let refusal = protection.err();
        return Box::pin(report_only::serve(
            req,
            resolved,
            route,
            counters.map(|c| &**c),
            (decision, refusal),
            ctx,
            &active,
        ))
        .await;
    }
    if let Err(r) = protection {
        if let Some(c) = counters {
            c.request(decision.kind(), r.code());
        }
        log_refusal(route, &req, decision.kind().as_str(), &r);
        let mut resp = gateway_error(r.status(), r.body());
        r.write_headers(resp.headers_mut());
        return resp;
    }
    if let Some(c) = counters {
        c.request(decision.kind(), decision.outcome());
    }
    if let Some(r) = decision.rejection() {
        log_rejection(route, &req, decision.kind().as_str(), r);
    }
    if decision.is_preflight() {
        // Answered here, never forwarded: the policy writes its answer
        // straight into the response's headers.
        if let Some(c) = counters {
            c.preflight(decision.is_allowed());
        }
        let mut resp = Response::new(empty());
        if let Some(status) = route.policy.write_preflight(&decision, resp.headers_mut()) {
            *resp.status_mut() = status;
        }
        return resp;
    }
    let mut resp = forward::forward(req, resolved, ctx, &active).await;
    route.policy.apply(&decision, resp.headers_mut());
    resp
}

/// The route's cross-origin protection decides the request on its
/// canonical path and authority (see [`corsair::cross_origin`]).
fn protect<B>(route: &RoutedPolicy, req: &Request<B>, resolved: &Resolved) -> Result<Passed, CrossOriginRejection> {
    let path = resolved.target.as_ref().map_or(req.uri().path(), PathAndQuery::path);
    let authority = resolved.host.as_ref().map(HeaderValue::as_bytes);
    route
        .protection
        .check(&route.policy, req.method(), path, authority, req.headers())
}

/// The request's canonical authority and path, and the policy covering
/// them; or why it has no single meaning.
fn resolve<B>(req: &Request<B>, cfg: &Config) -> Result<Resolved, Refusal> {
    let uri = req.uri();
    let authority = target::request_authority(uri, req.headers(), req.version())?;
    let path = target::canonical_path(uri.path(), &cfg.paths)?;
    let route = cfg.route_name(authority.as_ref().map(|a| &*a.name), &path);
    let host = authority.as_ref().map(host_value);
    let target = match path {
        Cow::Borrowed(_) => None,
        Cow::Owned(p) => {
            let pq = match uri.query() {
                Some(q) => format!("{p}?{q}"),
                None => p,
            };
            Some(PathAndQuery::try_from(pq).map_err(|_| Refusal::InvalidPath)?)
        }
    };
    Ok(Resolved { route, host, target })
}

/// The canonical authority as a header value: the client's own `Host`
/// value when it is canonical already (no allocation), else formatted.
fn host_value(a: &Authority<'_>) -> HeaderValue {
    match a.from_host {
        Some(h) if a.canonical_text => h.clone(),
        _ => HeaderValue::from_str(&a.to_header_text()).unwrap_or(HeaderValue::from_static("invalid")),
    }
}

/// A 400 for a request with no single meaning: never routed nor forwarded,
/// logged and counted with its reason. On HTTP/1.1 the connection is closed
/// after it (what came with the request cannot be trusted to frame the
/// next one).
fn refuse<B>(ctx: &ConnCtx, req: &Request<B>, refusal: Refusal) -> Response<Body> {
    ctx.shared.metrics.refused(refusal);
    info!(
        target: "corsair::request",
        reason = refusal.code(),
        detail = %refusal,
        method = %req.method(),
        peer = %ctx.peer,
        "request refused: no single meaning (400)"
    );
    let mut resp = gateway_error(StatusCode::BAD_REQUEST, "");
    *resp.body_mut() = full(format!("corsair: {refusal}\n"));
    if req.version() <= Version::HTTP_11 {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

/// The request's `Origin` for a log line (empty when it has none).
fn origin_text<B>(req: &Request<B>) -> String {
    req.headers()
        .get(header::ORIGIN)
        .map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// A request refused by cross-origin protection: the same fields as a CORS
/// rejection's line.
fn log_refusal<B>(route: &RoutedPolicy, req: &Request<B>, kind: &'static str, r: &CrossOriginRejection) {
    info!(
        target: "corsair::cors",
        policy = %route.name,
        origin = %origin_text(req),
        kind = %kind,
        method = %req.method(),
        path = %req.uri().path(),
        reason = %r.code(),
        detail = %r,
        "cross-origin request refused (403)"
    );
}

fn log_rejection<B>(route: &RoutedPolicy, req: &Request<B>, kind: &'static str, r: &corsair::Rejection) {
    let origin = origin_text(req);
    info!(
        target: "corsair::cors",
        policy = %route.name,
        origin = %origin,
        kind = %kind,
        method = %req.method(),
        path = %req.uri().path(),
        reason = %r.code(),
        detail = %r,
        "CORS request rejected"
    );
}
