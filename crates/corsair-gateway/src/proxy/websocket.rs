//! A WebSocket handshake through the gateway (see [`crate::websocket`] for
//! what is checked and why): checked, routed on its canonical target like
//! any request, its `Origin` decided, then sent to the upstream over
//! HTTP/1.1 on a connection of its own; the upstream's 101 is relayed (a
//! 200 to an HTTP/2 client, RFC 8441 §5) and the two connections become a
//! tunnel; any other answer is relayed as a response.
//!
//! On the way up, `Upgrade` and `Connection` (hop-by-hop, removed with the
//! others) are re-created (RFC 9110 §7.8: a sender of `Upgrade` also sends
//! the `upgrade` connection option); `Origin`, `Sec-WebSocket-*` and the
//! cookies travel unchanged, with the gateway's forwarding headers. An
//! HTTP/2 client sends no key (RFC 8441 §5): the gateway sends its own and
//! checks the upstream's `Sec-WebSocket-Accept` against it. Every 101 is
//! checked the same way (and must name `websocket` in `Upgrade`): an
//! upstream that switches to something else is a 502, never a tunnel.
//!
//! No CORS headers are added to any answer of a handshake: browsers make no
//! CORS check on WebSockets (Fetch: mode `websocket`).

use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderValue};
use http::uri::PathAndQuery;
use http::{Method, Request, Response, StatusCode, Version};
use http_body::Body as _;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tracing::{debug, info, warn};

use super::body::{boxed, full, gateway_error, Body};
use super::headers::{forwarded_for, strip_hop_by_hop, X_FORWARDED_FOR, X_FORWARDED_HOST, X_FORWARDED_PROTO};
use super::{ConnCtx, RoutedPolicy};
use crate::config::Upstream;
use crate::ops::metrics::websocket::Handshake;
use crate::ops::metrics::UpstreamError;
use crate::runtime::deadline;
use crate::state::Active;
use crate::upstream::h1::SetField;
use crate::upstream::upgrade::Upgraded;
use crate::websocket::handshake::{
    self, has_token, Kind, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION,
};
use crate::websocket::{accept_key, new_key, origin, tunnel, Refusal, VERSION};

/// Whether a request is a WebSocket handshake, and of which kind. Costs an
/// extension lookup for an ordinary request: hyper marks the HTTP/1.1
/// requests that carry `Upgrade` (HTTP/1.0 ones are not: RFC 9110 §7.8
/// says to ignore `Upgrade` there, and they are forwarded as plain
/// requests, without it); an HTTP/2 one is an extended CONNECT.
pub(super) fn recognise<B>(req: &Request<B>) -> Option<Kind> {
    if req.version() == Version::HTTP_2 {
        let websocket = req.method() == Method::CONNECT
            && req
                .extensions()
                .get::<hyper::ext::Protocol>()
                .is_some_and(|p| p.as_str().eq_ignore_ascii_case("websocket"));
        return websocket.then_some(Kind::Http2);
    }
    let websocket = req.extensions().get::<hyper::upgrade::OnUpgrade>().is_some()
        && req.method() != Method::CONNECT
        && handshake::asks_for_websocket(req.headers());
    websocket.then_some(Kind::Http1)
}

/// Serves a WebSocket handshake.
pub(super) async fn serve(
    mut req: Request<Incoming>,
    kind: Kind,
    ctx: &Arc<ConnCtx>,
    active: &Active,
) -> Response<Body> {
    let cfg = &*active.config;
    let has_body = !req.body().is_end_stream();
    if let Err(r) = handshake::check(kind, req.method(), req.headers(), has_body) {
        return refuse(ctx, &req, None, r);
    }
    let resolved = match super::resolve(&req, cfg) {
        Ok(r) => r,
        Err(refusal) => return super::refuse(ctx, &req, refusal),
    };
    let route = resolved.route.and_then(|i| cfg.policies.get(i));
    let authority = resolved.host.as_ref().map(HeaderValue::as_bytes);
    let allowed = match origin::decide(req.headers(), authority, route.map(|r| &*r.policy)) {
        Ok(a) => a,
        Err(r) => return refuse(ctx, &req, route, r),
    };
    let metrics = &ctx.shared.metrics;
    let pool = match (&cfg.upstream, &active.http1) {
        (Upstream::Url(_), Some(pool)) => pool.clone(),
        (Upstream::Echo, _) => {
            metrics.websocket.handshake(Handshake::Declined);
            return gateway_error(
                StatusCode::NOT_IMPLEMENTED,
                "corsair: the built-in echo upstream does not accept WebSocket handshakes\n",
            );
        }
        // Active::build makes a pool for every URL upstream.
        (Upstream::Url(_), None) => return upstream_failed(ctx, UpstreamError::Unreachable),
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let (mut parts, _) = req.into_parts();
    // An HTTP/2 stream holds its connection busy while the tunnel lives.
    let busy = parts.extensions.remove::<crate::listener::StreamBusy>();
    let target = match resolved.target {
        Some(t) => t,
        None => parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or(PathAndQuery::from_static("/")),
    };
    strip_hop_by_hop(&mut parts.headers);
    let key = match kind {
        Kind::Http1 => parts.headers.get(SEC_WEBSOCKET_KEY).cloned(),
        Kind::Http2 => new_key().and_then(|k| HeaderValue::try_from(k).ok()),
    };
    let Some(key) = key else {
        warn!("no randomness for a Sec-WebSocket-Key");
        return upstream_failed(ctx, UpstreamError::Unreachable);
    };
    let xff = forwarded_for(&parts.headers, &ctx.peer_ip);
    let xfp = HeaderValue::from_static(ctx.scheme());
    let version = HeaderValue::from_static(VERSION);
    let set = [
        (&header::UPGRADE, SetField::Value(&WEBSOCKET)),
        (&header::CONNECTION, SetField::Value(&UPGRADE)),
        (&SEC_WEBSOCKET_KEY, SetField::Value(&key)),
        (&SEC_WEBSOCKET_VERSION, SetField::Value(&version)),
        (&X_FORWARDED_FOR, SetField::Value(&xff)),
        (&X_FORWARDED_PROTO, SetField::Value(&xfp)),
        (
            &X_FORWARDED_HOST,
            resolved.host.as_ref().map_or(SetField::Remove, SetField::Value),
        ),
        (&header::FORWARDED, SetField::Remove),
    ];
    let limits = &cfg.limits;
    let answer = deadline::within(
        limits.upstream_timeout,
        pool.upgrade(target.as_str(), &parts.headers, &set, limits.upstream_read_timeout),
    )
    .await;
    let path = target.path();
    let (version, mut headers, upstream) = match answer {
        Err(_) => {
            warn!(
                path,
                timeout_s = limits.upstream_timeout.as_secs(),
                "upstream did not answer the WebSocket handshake in time (504)"
            );
            return upstream_failed(ctx, UpstreamError::Timeout);
        }
        Ok(Err(e)) => {
            warn!(path, error = %super::forward::chain(&e), "upstream unreachable for a WebSocket handshake (502)");
            return upstream_failed(ctx, UpstreamError::Unreachable);
        }
        Ok(Ok(Upgraded::Declined(resp))) => {
            metrics.websocket.handshake(Handshake::Declined);
            info!(
                target: "corsair::websocket",
                status = resp.status().as_u16(),
                path,
                "WebSocket handshake declined by the upstream"
            );
            let mut resp = (*resp).map(boxed);
            strip_hop_by_hop(resp.headers_mut());
            *resp.version_mut() = Version::HTTP_11;
            return resp;
        }
        Ok(Ok(Upgraded::Switched {
            version,
            headers,
            tunnel,
        })) => (version, headers, tunnel),
    };
    // RFC 6455 §4.1, the client's checks of the server's handshake; RFC
    // 9110 §15.2.2: a 101 names the protocol switched to.
    let expected = accept_key(key.as_bytes());
    let accepted = version == Version::HTTP_11
        && has_token(&headers, &header::UPGRADE, "websocket")
        && headers.get(SEC_WEBSOCKET_ACCEPT).map(HeaderValue::as_bytes) == Some(expected.as_bytes());
    if !accepted {
        warn!(
            path,
            "the upstream answered the WebSocket handshake with a 101 that does not accept it (502)"
        );
        let mut resp = upstream_failed(ctx, UpstreamError::Unreachable);
        *resp.body_mut() = full("corsair: the upstream's 101 does not accept the WebSocket handshake\n");
        return resp;
    }
    strip_hop_by_hop(&mut headers);
    let mut resp = Response::new(super::empty());
    match kind {
        Kind::Http1 => {
            *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
            headers.insert(header::UPGRADE, WEBSOCKET);
            headers.insert(header::CONNECTION, UPGRADE);
        }
        Kind::Http2 => {
            // RFC 8441 §5: a 2xx, without the key's answer.
            headers.remove(SEC_WEBSOCKET_ACCEPT);
        }
    }
    *resp.headers_mut() = headers;
    metrics.websocket.handshake(Handshake::Upgraded);
    info!(
        target: "corsair::websocket",
        policy = route.map_or("", |r| r.name.as_str()),
        allowed = allowed.code(),
        path,
        peer = %ctx.peer,
        http2 = kind == Kind::Http2,
        "WebSocket opened"
    );
    let tunnel_limits = tunnel::Limits {
        idle: limits.websocket_idle_timeout,
        max: limits.websocket_max_duration,
    };
    let ctx = ctx.clone();
    let path = path.to_owned();
    tokio::spawn(async move {
        let _busy = busy;
        let client = match on_upgrade.await {
            Ok(u) => TokioIo::new(u),
            Err(e) => {
                debug!(error = %e, "the client's connection was not upgraded");
                return;
            }
        };
        let ended = tunnel::run(
            client,
            upstream,
            tunnel_limits,
            &ctx.shared.metrics.websocket,
            ctx.drain.clone(),
        )
        .await;
        info!(
            target: "corsair::websocket",
            reason = ended.reason.as_str(),
            path = %path,
            peer = %ctx.peer,
            bytes_to_upstream = ended.to_upstream,
            bytes_to_client = ended.to_client,
            duration_ms = u64::try_from(ended.duration.as_millis()).unwrap_or(u64::MAX),
            "WebSocket closed"
        );
    });
    resp
}

const WEBSOCKET: HeaderValue = HeaderValue::from_static("websocket");
const UPGRADE: HeaderValue = HeaderValue::from_static("upgrade");

/// The gateway's own answer to a handshake it refuses, logged and counted.
fn refuse<B>(ctx: &ConnCtx, req: &Request<B>, route: Option<&RoutedPolicy>, r: Refusal) -> Response<Body> {
    ctx.shared.metrics.websocket.refused(r);
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned())
        .unwrap_or_default();
    info!(
        target: "corsair::websocket",
        reason = r.code(),
        detail = %r,
        status = r.status().as_u16(),
        policy = route.map_or("", |p| p.name.as_str()),
        origin = %origin,
        path = %req.uri().path(),
        peer = %ctx.peer,
        "WebSocket handshake refused"
    );
    let mut resp = gateway_error(r.status(), "");
    *resp.body_mut() = full(format!("corsair: {}: {r}\n", r.code()));
    let h: &mut HeaderMap = resp.headers_mut();
    if r.is_origin() {
        // The answer depends on the Origin.
        h.insert(header::VARY, HeaderValue::from_static("origin"));
    }
    if matches!(r, Refusal::VersionUnsupported | Refusal::VersionMissing) {
        h.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static(VERSION));
    }
    if req.version() <= Version::HTTP_11 {
        // What follows a refused upgrade on this connection need not be
        // HTTP.
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

/// The gateway's 502 or 504 for a handshake the upstream failed.
fn upstream_failed(ctx: &ConnCtx, e: UpstreamError) -> Response<Body> {
    ctx.shared.metrics.upstream_error(e);
    ctx.shared.metrics.websocket.handshake(Handshake::UpstreamError);
    match e {
        UpstreamError::Unreachable => gateway_error(StatusCode::BAD_GATEWAY, "corsair: the upstream is unreachable\n"),
        UpstreamError::Timeout => gateway_error(
            StatusCode::GATEWAY_TIMEOUT,
            "corsair: the upstream did not answer in time\n",
        ),
    }
}
