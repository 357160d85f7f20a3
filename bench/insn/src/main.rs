//! `corsair-bench-insn SHAPE LIB N MODE`: builds N requests of SHAPE, then
//! (MODE `call`) passes each through LIB's CORS layer around a handler that
//! answers at once, dropping the response, or (MODE `setup`) just drops
//! them. Under callgrind, (Ir(call) - Ir(setup)) / N is the cost of one
//! request through the middleware, response included. The policy and the
//! shapes are those of crates/corsair-tower/benches/vs_tower_http.rs.

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{Method, Request, Response};
use http_body_util::Empty;
use tower_layer::Layer;
use tower_service::Service;

type Body = Empty<Bytes>;

#[derive(Clone, Copy)]
struct Handler;

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

fn now<F: Future>(f: F) -> F::Output {
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

fn origins(n: usize) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = (1..n)
        .map(|i| &*Box::leak(format!("https://app{i}.example.com").into_boxed_str()))
        .collect();
    v.push(APP);
    v
}

fn run<S>(mut svc: S, reqs: Vec<Request<()>>, call: bool)
where
    S: Service<Request<()>, Response = Response<Body>, Error = Infallible>,
{
    if !call {
        drop(black_box(reqs));
        drop(black_box(svc));
        return;
    }
    for r in reqs {
        drop(black_box(now(svc.call(r))));
    }
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [shape, lib, n, mode] = &a[..] else {
        panic!("usage: corsair-bench-insn SHAPE corsair|tower-http N call|setup");
    };
    let n: usize = n.parse().expect("N");
    let commas: &'static str = Box::leak(",".repeat(60 * 1024).into_boxed_str());
    let commas = HeaderValue::from_static(commas);
    let get = |origin: Option<&'static str>| {
        let mut b = Request::get("/items");
        if let Some(o) = origin {
            b = b.header("origin", HeaderValue::from_static(o));
        }
        b.body(()).expect("request")
    };
    let preflight = |origin: &'static str, acrh: HeaderValue| {
        Request::options("/items/1")
            .header("origin", HeaderValue::from_static(origin))
            .header("access-control-request-method", HeaderValue::from_static("PUT"))
            .header("access-control-request-headers", acrh)
            .body(())
            .expect("request")
    };
    let (count, make): (usize, Box<dyn Fn() -> Request<()>>) = match shape.as_str() {
        "non_cors" => (1, Box::new(|| get(None))),
        "actual_allowed" | "origins_1_actual_allowed" => (1, Box::new(|| get(Some(APP)))),
        "actual_rejected" => (1, Box::new(|| get(Some("https://evil.example")))),
        "preflight_allowed" => (
            1,
            Box::new(|| preflight(APP, HeaderValue::from_static("content-type,x-request-id"))),
        ),
        "preflight_rejected" => (
            1,
            Box::new(|| preflight("https://evil.example", HeaderValue::from_static("content-type"))),
        ),
        // A clone of a static value: no 60 KB copy or validation per request.
        "preflight_acrh_60k_commas" => (1, Box::new(move || preflight(APP, commas.clone()))),
        "origins_100_actual_allowed" => (100, Box::new(|| get(Some(APP)))),
        "origins_10000_actual_allowed" => (10_000, Box::new(|| get(Some(APP)))),
        "origins_10000_preflight_allowed" => (
            10_000,
            Box::new(|| preflight(APP, HeaderValue::from_static("content-type"))),
        ),
        s => panic!("unknown shape {s}"),
    };
    let o = origins(count);
    let reqs: Vec<Request<()>> = (0..n).map(|_| make()).collect();
    let call = mode == "call";
    match lib.as_str() {
        "corsair" => {
            let policy = corsair::PolicyConfig::new()
                .allow_origins(o.iter().copied())
                .allow_methods(["PUT", "DELETE"])
                .allow_headers(["content-type", "x-request-id"])
                .expose_headers(["x-request-id"])
                .allow_credentials(true)
                .max_age(600)
                .build()
                .expect("policy");
            run(corsair_tower::CorsLayer::new(policy).layer(Handler), reqs, call);
        }
        "tower-http" => {
            use tower_http::cors::{AllowOrigin, CorsLayer};
            let svc = CorsLayer::new()
                .allow_origin(AllowOrigin::list(o.iter().map(|o| HeaderValue::from_static(o))))
                .allow_methods([Method::PUT, Method::DELETE])
                .allow_headers([CONTENT_TYPE, X_REQUEST_ID])
                .expose_headers([X_REQUEST_ID])
                .allow_credentials(true)
                .max_age(Duration::from_secs(600))
                .layer(Handler);
            run(svc, reqs, call);
        }
        l => panic!("unknown lib {l}"),
    }
}
