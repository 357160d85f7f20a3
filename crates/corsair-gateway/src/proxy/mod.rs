//! One request through the gateway: route it to a policy, answer preflights,
//! forward everything else to the upstream and apply the policy's headers to
//! whatever comes back (the gateway's own 502 and 504 included).
//!
//! Bodies are streamed both ways: the client's body is handed to the
//! upstream client as it arrives, the upstream's is handed back frame by
//! frame. Nothing here buffers a whole body.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::{PathAndQuery, Uri};
use http::{Method, Request, Response, StatusCode, Version};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use tracing::{debug, info, warn};

use crate::config::{RoutedPolicy, Upstream};
use crate::ops::metrics::UpstreamError;
use crate::runtime::deadline;
use crate::state::{Active, Shared};
use crate::upstream::echo;

/// The response body type of the gateway.
pub type Body = BoxBody<Bytes, BoxError>;

/// The error of a response body: the upstream's body broke off.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");

/// Hop-by-hop headers (RFC 9110 §7.6.1) and their common relatives, never
/// forwarded in either direction. Any other `proxy-*` header (and `proxy`,
/// see httpoxy) is dropped as well.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    KEEP_ALIVE,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
];

/// What a request needs to know about its connection.
pub struct ConnCtx {
    /// Shared state.
    pub shared: Arc<Shared>,
    /// The client's address.
    pub peer: SocketAddr,
    /// The client's IP as an `X-Forwarded-For` element, formatted once per
    /// connection.
    peer_ip: HeaderValue,
}

impl ConnCtx {
    /// The context of a connection from `peer`.
    pub fn new(shared: Arc<Shared>, peer: SocketAddr) -> Self {
        let ip = peer.ip().to_canonical().to_string();
        let peer_ip = HeaderValue::from_str(&ip).unwrap_or(HeaderValue::from_static("unknown"));
        Self { shared, peer, peer_ip }
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

async fn serve(req: Request<Incoming>, ctx: &ConnCtx) -> Response<Body> {
    // One snapshot of the config for the whole request.
    let active = ctx.shared.active();
    let cfg = &*active.config;
    let host = request_host(&req);
    let Some((index, route)) = cfg.route_indexed(host.as_ref().and_then(|h| h.to_str().ok()), req.uri().path()) else {
        ctx.shared.metrics.uncovered();
        return forward(req, host, ctx, &active).await;
    };
    let counters = active.counters.get(index);

    let decision = route.policy.evaluate(req.method(), req.headers());
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
    let mut resp = forward(req, host, ctx, &active).await;
    route.policy.apply(&decision, resp.headers_mut());
    resp
}

/// The host a request is for: the Host header, or the authority of the
/// request target (HTTP/2 `:authority`). Read once: it routes the request
/// and travels upstream in `X-Forwarded-Host`.
fn request_host<B>(req: &Request<B>) -> Option<HeaderValue> {
    match req.headers().get(header::HOST) {
        Some(h) => Some(h.clone()),
        None => req
            .uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok()),
    }
}

fn log_rejection<B>(route: &RoutedPolicy, req: &Request<B>, kind: &'static str, r: &corsair::Rejection) {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned())
        .unwrap_or_default();
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

/// Sends a request to the upstream (or the built-in echo) and returns its
/// response with the hop-by-hop headers removed, or the gateway's own error.
/// `original_host`: the request's [`request_host`].
async fn forward(
    req: Request<Incoming>,
    original_host: Option<HeaderValue>,
    ctx: &ConnCtx,
    active: &Active,
) -> Response<Body> {
    let cfg = &*active.config;
    if req.method() == Method::CONNECT {
        return gateway_error(StatusCode::METHOD_NOT_ALLOWED, "corsair: CONNECT is not supported\n");
    }
    let (mut parts, body) = req.into_parts();
    let path_and_query = match parts.uri.path_and_query() {
        Some(pq) if pq.as_str().starts_with('/') => pq.clone(),
        Some(_) => return gateway_error(StatusCode::BAD_REQUEST, "corsair: the request target must be a path\n"),
        None => PathAndQuery::from_static("/"),
    };
    strip_hop_by_hop(&mut parts.headers);
    parts.version = Version::HTTP_11;
    // X-Forwarded-For (the client's address appended to any the client
    // sent), -Proto and -Host (replacing the client's; no Host, none).
    let xff = forwarded_for(&parts.headers, ctx);
    let xfp = HeaderValue::from_static(ctx.scheme());
    let forwarded = [
        (&X_FORWARDED_FOR, Some(&xff)),
        (&X_FORWARDED_PROTO, Some(&xfp)),
        (&X_FORWARDED_HOST, original_host.as_ref()),
    ];
    let timeout = cfg.limits.upstream_timeout;
    // For the logs: the path only (queries may carry secrets).
    let method = parts.method.clone();
    let path = path_and_query.clone();

    let result = match (&cfg.upstream, &active.http1) {
        (Upstream::Echo, _) => {
            set_headers(&mut parts.headers, &forwarded);
            parts.uri = Uri::from(path_and_query);
            if let Some(h) = original_host.clone() {
                parts.headers.insert(header::HOST, h);
            }
            match deadline::within(timeout, Box::pin(echo::respond(Request::from_parts(parts, body)))).await {
                Ok(resp) => return resp,
                Err(_) => Err(UpstreamError::Timeout),
            }
        }
        (Upstream::Url(_), Some(pool)) => {
            // Origin form: the pool sends the upstream's Host; the client's
            // Host travels in X-Forwarded-Host. The X-Forwarded-* headers
            // go straight into the request head, not through the map.
            parts.uri = Uri::from(path_and_query);
            let r = deadline::within(timeout, pool.send(Request::from_parts(parts, body), &forwarded)).await;
            upstream_outcome(
                r.map(|r| r.map(|resp| resp.map(boxed)).map_err(|e| chain(&e))),
                &method,
                &path,
                timeout,
            )
        }
        (Upstream::Url(base), None) => {
            set_headers(&mut parts.headers, &forwarded);
            let mut uri = base.clone().into_parts();
            uri.path_and_query = Some(path_and_query);
            parts.uri = match Uri::from_parts(uri) {
                Ok(u) => u,
                Err(_) => return gateway_error(StatusCode::BAD_REQUEST, "corsair: invalid request target\n"),
            };
            // The client sets Host from the upstream URL; the client's
            // Host travels in X-Forwarded-Host.
            parts.headers.remove(header::HOST);
            let r = deadline::within(
                timeout,
                Box::pin(ctx.shared.client.request(Request::from_parts(parts, body))),
            )
            .await;
            upstream_outcome(
                r.map(|r| r.map(|resp| resp.map(boxed)).map_err(|e| chain(&e))),
                &method,
                &path,
                timeout,
            )
        }
    };
    match result {
        Ok(mut resp) => {
            strip_hop_by_hop(resp.headers_mut());
            *resp.version_mut() = Version::HTTP_11;
            resp
        }
        Err(e) => {
            ctx.shared.metrics.upstream_error(e);
            match e {
                UpstreamError::Unreachable => {
                    gateway_error(StatusCode::BAD_GATEWAY, "corsair: the upstream is unreachable\n")
                }
                UpstreamError::Timeout => gateway_error(
                    StatusCode::GATEWAY_TIMEOUT,
                    "corsair: the upstream did not answer in time\n",
                ),
            }
        }
    }
}

/// The upstream's answer, or the error to answer with (logged here).
fn upstream_outcome(
    r: Result<Result<Response<Body>, String>, deadline::Elapsed>,
    method: &Method,
    path: &PathAndQuery,
    timeout: std::time::Duration,
) -> Result<Response<Body>, UpstreamError> {
    match r {
        Ok(Ok(resp)) => Ok(resp),
        Ok(Err(error)) => {
            warn!(%method, path = %path.path(), %error, "upstream unreachable (502)");
            Err(UpstreamError::Unreachable)
        }
        Err(_) => {
            warn!(%method, path = %path.path(), timeout_s = timeout.as_secs(), "upstream timed out (504)");
            Err(UpstreamError::Timeout)
        }
    }
}

/// Removes the hop-by-hop headers: those named by `Connection`, the fixed
/// list, and every `proxy-*` header. One pass over the names when there are
/// none (the common case).
pub fn strip_hop_by_hop(h: &mut HeaderMap) {
    if !h.keys().any(|k| is_hop_by_hop(k.as_str())) {
        return;
    }
    if h.contains_key(header::CONNECTION) {
        let named: Vec<HeaderName> = h
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
            .collect();
        for n in named {
            h.remove(n);
        }
    }
    for n in &HOP_BY_HOP {
        if h.contains_key(n) {
            h.remove(n);
        }
    }
    if h.keys().any(|k| is_proxy_header(k.as_str())) {
        let names: Vec<HeaderName> = h.keys().filter(|k| is_proxy_header(k.as_str())).cloned().collect();
        for n in names {
            h.remove(n);
        }
    }
}

/// A name of [`HOP_BY_HOP`] or a `proxy-*` name.
fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "proxy-authenticate"
            | "proxy-authorization"
    ) || is_proxy_header(name)
}

fn is_proxy_header(name: &str) -> bool {
    name == "proxy" || name.starts_with("proxy-")
}

/// Puts each header of `set` in `h`, replacing any of the same name (a
/// `None` value only removes it): what the upstream client does while
/// writing the request head, for the paths that go through a map.
fn set_headers(h: &mut HeaderMap, set: &[(&HeaderName, Option<&HeaderValue>)]) {
    // One growth of the map at most.
    h.reserve(set.len());
    for (name, value) in set {
        match value {
            Some(v) => h.insert(*name, (*v).clone()),
            None => h.remove(*name),
        };
    }
}

/// The `X-Forwarded-For` to send: the client's address, appended to the
/// list the client sent, if any.
fn forwarded_for(h: &HeaderMap, ctx: &ConnCtx) -> HeaderValue {
    if !h.contains_key(X_FORWARDED_FOR) {
        // The common case: no proxy before us; no formatting per request.
        return ctx.peer_ip.clone();
    }
    let mut xff = String::new();
    for v in h.get_all(X_FORWARDED_FOR) {
        if let Ok(s) = v.to_str() {
            let s = s.trim();
            if !s.is_empty() {
                xff.push_str(s);
                xff.push_str(", ");
            }
        }
    }
    let ip = ctx.peer_ip.as_bytes();
    xff.push_str(std::str::from_utf8(ip).unwrap_or("unknown"));
    HeaderValue::from_str(&xff).unwrap_or_else(|_| ctx.peer_ip.clone())
}

/// An error answered by the gateway itself (the caller applies the policy).
pub fn gateway_error(status: StatusCode, message: &'static str) -> Response<Body> {
    let mut resp = Response::new(full(message));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    debug!(status = status.as_u16(), "gateway error response");
    resp
}

/// A body as the gateway's, its error boxed.
fn boxed<B>(b: B) -> Body
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<BoxError>,
{
    b.map_err(Into::into).boxed()
}

/// An empty body.
pub fn empty() -> Body {
    Empty::<Bytes>::new().map_err(|never| match never {}).boxed()
}

/// A body of known bytes.
pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|never| match never {}).boxed()
}

/// An error and its sources, `a: b: c`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_are_removed() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive, X-Secret"),
            ("connection", "x-other"),
            ("x-secret", "1"),
            ("x-other", "1"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("trailer", "x"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("proxy-authorization", "Basic x"),
            ("proxy-connection", "keep-alive"),
            ("proxy", "http://evil"),
            ("x-kept", "1"),
            ("origin", "https://a.example"),
        ] {
            h.append(k, HeaderValue::from_static(v));
        }
        strip_hop_by_hop(&mut h);
        let mut left: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["origin", "x-kept"]);
    }

    #[test]
    fn each_hop_by_hop_header_alone_is_removed() {
        for name in [
            "connection",
            "keep-alive",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
            "proxy-authenticate",
            "proxy-authorization",
            "proxy-connection",
            "proxy",
        ] {
            let mut h = HeaderMap::new();
            h.insert("x-kept", HeaderValue::from_static("1"));
            h.insert(HeaderName::from_static(name), HeaderValue::from_static("x-kept2"));
            h.insert("x-kept2", HeaderValue::from_static("1"));
            strip_hop_by_hop(&mut h);
            assert!(h.get(name).is_none(), "{name} survived");
            assert!(h.contains_key("x-kept"), "{name}");
            // Only `Connection` names other headers.
            assert_eq!(h.contains_key("x-kept2"), name != "connection", "{name}");
        }
        let mut h = HeaderMap::new();
        h.insert("x-proxyish", HeaderValue::from_static("1"));
        h.insert("content-type", HeaderValue::from_static("text/plain"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 2, "nothing hop-by-hop: nothing removed");
    }
}
