//! Forwarding a request to the upstream (or the built-in echo): the
//! canonical target, hop-by-hop headers removed, the forwarding headers
//! set, `upstream_timeout` on the response head; the gateway's own 502 or
//! 504 when the upstream fails.

use http::header::{self, HeaderValue};
use http::uri::{PathAndQuery, Uri};
use http::{Method, Request, Response, StatusCode, Version};
use hyper::body::Incoming;
use tracing::warn;

use super::body::{boxed, gateway_error, Body};
use super::headers::{
    forwarded_for, set_headers, strip_hop_by_hop, X_FORWARDED_FOR, X_FORWARDED_HOST, X_FORWARDED_PROTO,
};
use super::{ConnCtx, Resolved};
use crate::config::Upstream;
use crate::ops::metrics::UpstreamError;
use crate::runtime::deadline;
use crate::state::Active;
use crate::upstream::echo;
use crate::upstream::h1::SetField;

/// Sends a request to the upstream (or the built-in echo) and returns its
/// response with the hop-by-hop headers removed, or the gateway's own error.
pub(super) async fn forward(
    req: Request<Incoming>,
    resolved: Resolved,
    ctx: &ConnCtx,
    active: &Active,
) -> Response<Body> {
    let cfg = &*active.config;
    let (mut parts, body) = req.into_parts();
    let path_and_query = match resolved.target {
        Some(t) => t,
        None => match parts.uri.path_and_query() {
            Some(pq) => pq.clone(),
            None => PathAndQuery::from_static("/"),
        },
    };
    strip_hop_by_hop(&mut parts.headers);
    parts.version = Version::HTTP_11;
    let xff = forwarded_for(&parts.headers, &ctx.peer_ip);
    let xfp = HeaderValue::from_static(ctx.scheme());
    let host = resolved.host.as_ref();
    let forwarded = [
        (&X_FORWARDED_FOR, SetField::Value(&xff)),
        (&X_FORWARDED_PROTO, SetField::Value(&xfp)),
        (&X_FORWARDED_HOST, host.map_or(SetField::Remove, SetField::Value)),
        (&header::FORWARDED, SetField::Remove),
    ];
    let timeout = cfg.limits.upstream_timeout;
    // For the logs: the path only (queries may carry secrets).
    let method = parts.method.clone();
    let path = path_and_query.clone();

    let result = match (&cfg.upstream, &active.http1) {
        (Upstream::Echo, _) => {
            set_headers(&mut parts.headers, &forwarded);
            parts.uri = Uri::from(path_and_query);
            if let Some(h) = resolved.host.clone() {
                parts.headers.insert(header::HOST, h);
            }
            match deadline::within(timeout, Box::pin(echo::respond(Request::from_parts(parts, body)))).await {
                Ok(resp) => return resp,
                Err(_) => Err(UpstreamError::Timeout),
            }
        }
        (Upstream::Url(_), Some(pool)) => {
            // Origin form: the pool sends the upstream's Host; the client's
            // travels in X-Forwarded-Host. The forwarding headers go
            // straight into the request head, not through the map.
            parts.uri = Uri::from(path_and_query);
            let r = deadline::within(
                timeout,
                pool.send(
                    Request::from_parts(parts, body),
                    &forwarded,
                    cfg.limits.upstream_read_timeout,
                ),
            )
            .await;
            upstream_outcome(
                r.map(|r| r.map(|resp| resp.map(boxed)).map_err(|e| chain(&e))),
                &method,
                &path,
                timeout,
            )
        }
        (Upstream::Url(_), None) => {
            // Active::build makes a pool for every URL upstream.
            Err(UpstreamError::Unreachable)
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

/// An error and its sources, `a: b: c`.
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}
