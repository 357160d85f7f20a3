//! The policy, the services and the request shapes that both benchmarks of
//! corsair's tower layer against tower-http's `CorsLayer` measure:
//! `crates/corsair-tower/benches/vs_tower_http.rs` (criterion time and
//! allocations) and `bench/insn` (instructions under callgrind) include this
//! file with `#[path = ...]`, so they cannot drift apart.

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{Method, Request, Response};
use http_body_util::Empty;
use tower_layer::Layer;
use tower_service::Service;

pub type Body = Empty<Bytes>;

/// The innermost service: answers at once with a small header set, as a
/// real handler would.
#[derive(Clone, Copy)]
pub struct Handler;

impl Service<Request<()>> for Handler {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Body>, Infallible>>;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, _: Request<()>) -> Self::Future {
        let mut r = Response::new(Body::new());
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        ready(Ok(r))
    }
}

/// Polls a future that is ready at once (both middlewares' futures are, with
/// this handler) without an executor.
pub fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

const APP: &str = "https://app.example.com";
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// `n` allowed origins, the one the requests send listed last (the worst
/// case for a list scan).
pub fn origins(n: usize) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = (1..n)
        .map(|i| &*Box::leak(format!("https://app{i}.example.com").into_boxed_str()))
        .collect();
    v.push(APP);
    v
}

/// corsair's layer around [`Handler`].
pub fn corsair_svc(
    origins: &[&'static str],
) -> impl Service<Request<()>, Response = Response<Body>, Error = Infallible> + Clone {
    let policy = corsair::PolicyConfig::new()
        .allow_origins(origins.iter().copied())
        .allow_methods(["PUT", "DELETE"])
        .allow_headers(["content-type", "x-request-id"])
        .expose_headers(["x-request-id"])
        .allow_credentials(true)
        .max_age(600)
        .build()
        .expect("policy");
    corsair_tower::CorsLayer::new(policy).layer(Handler)
}

/// tower-http's `CorsLayer`, configured to the same policy, around [`Handler`].
pub fn tower_http_svc(
    origins: &[&'static str],
) -> impl Service<Request<()>, Response = Response<Body>, Error = Infallible> + Clone {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().map(|o| HeaderValue::from_static(o))))
        .allow_methods([Method::PUT, Method::DELETE])
        .allow_headers([CONTENT_TYPE, X_REQUEST_ID])
        .expose_headers([X_REQUEST_ID])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600))
        .layer(Handler)
}

/// One request shape: its name, the number of allowed origins, and the
/// request, built once (every measured request is a clone of it).
pub struct Shape {
    pub name: &'static str,
    pub origins: usize,
    pub request: Request<()>,
}

/// Every shape, in report order.
pub fn shapes() -> Vec<Shape> {
    fn get(origin: Option<&'static str>) -> Request<()> {
        let mut b = Request::get("/items");
        if let Some(o) = origin {
            b = b.header("origin", HeaderValue::from_static(o));
        }
        b.body(()).expect("request")
    }
    fn preflight(origin: &'static str, acrh: &'static str) -> Request<()> {
        Request::options("/items/1")
            .header("origin", HeaderValue::from_static(origin))
            .header("access-control-request-method", HeaderValue::from_static("PUT"))
            .header("access-control-request-headers", HeaderValue::from_static(acrh))
            .body(())
            .expect("request")
    }
    let commas: &'static str = Box::leak(",".repeat(60 * 1024).into_boxed_str());
    let shape = |name, origins, request| Shape { name, origins, request };
    vec![
        shape("non_cors", 1, get(None)),
        shape("actual_allowed", 1, get(Some(APP))),
        shape("actual_rejected", 1, get(Some("https://evil.example"))),
        shape("preflight_allowed", 1, preflight(APP, "content-type,x-request-id")),
        shape(
            "preflight_rejected",
            1,
            preflight("https://evil.example", "content-type"),
        ),
        shape("preflight_acrh_60k_commas", 1, preflight(APP, commas)),
        shape("origins_1_actual_allowed", 1, get(Some(APP))),
        shape("origins_100_actual_allowed", 100, get(Some(APP))),
        shape("origins_10000_actual_allowed", 10_000, get(Some(APP))),
        shape(
            "origins_10000_preflight_allowed",
            10_000,
            preflight(APP, "content-type"),
        ),
    ]
}
