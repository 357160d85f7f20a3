//! The admin listener (`[admin] listen`): `GET /healthz`, `GET /metrics`,
//! and `GET /report` (what report-only policies found, as JSON: see
//! [`corsair::shadow::ShadowReport`]).
//!
//! It is separate from the gateway's listener so that operations endpoints
//! are never reachable through the proxy. It keeps answering while the
//! gateway drains: `/healthz` then says 503 `draining`, so a load balancer
//! stops sending traffic.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tracing::{debug, warn};

use crate::proxy::{full, Body};
use crate::state::Shared;

/// Serves the admin endpoints until the task is aborted.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                warn!(error = %e, "admin accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(answer(&req, &shared)) }
            });
            let mut b = http1::Builder::new();
            b.timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .max_header_size(16 * 1024);
            if let Err(e) = b.serve_connection(TokioIo::new(stream), svc).await {
                debug!(error = %e, "admin connection ended with an error");
            }
        });
    }
}

fn answer(req: &Request<Incoming>, shared: &Shared) -> Response<Body> {
    let draining = shared.draining.load(Ordering::SeqCst);
    let (status, ctype, body) = match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/healthz") if draining => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            "draining\n".to_owned(),
        ),
        (&Method::GET | &Method::HEAD, "/healthz") => (StatusCode::OK, "text/plain; charset=utf-8", "ok\n".to_owned()),
        (&Method::GET | &Method::HEAD, "/metrics") => (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            shared.metrics.render(draining),
        ),
        (&Method::GET | &Method::HEAD, "/report") => {
            let report = shared.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut json = serde_json::to_string_pretty(&*report)
                .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
            json.push('\n');
            (StatusCode::OK, "application/json", json)
        }
        (_, "/healthz" | "/metrics" | "/report") => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "GET only\n".to_owned(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "corsair admin: GET /healthz, GET /metrics or GET /report\n".to_owned(),
        ),
    };
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
