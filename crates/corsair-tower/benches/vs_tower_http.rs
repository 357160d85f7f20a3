//! corsair's tower layer against tower-http's `CorsLayer`, configured to the
//! same policy, on the same requests: time per request (criterion) and heap
//! allocations per request (a counting global allocator).
//!
//! Run: `cargo bench -p corsair-tower --bench vs_tower_http`
//! (add `-- --quick` for a fast pass).

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{Method, Request, Response};
use http_body_util::Empty;
use tower_layer::Layer;
use tower_service::Service;

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

type Body = Empty<Bytes>;

/// The innermost service: answers at once with a small header set, as a
/// real handler would.
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

/// Polls a future that is ready at once (both middlewares' futures are, with
/// this handler) without an executor.
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
    // The allowed origin is listed last, the worst case for a list scan.
    let mut v: Vec<&'static str> = (1..n)
        .map(|i| &*Box::leak(format!("https://app{i}.example.com").into_boxed_str()))
        .collect();
    v.push(APP);
    v
}

fn corsair_svc(
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

fn tower_http_svc(
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

type Shape = (&'static str, usize, fn() -> Request<()>);

fn commas() -> &'static str {
    static C: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    C.get_or_init(|| ",".repeat(60 * 1024))
}

fn shapes() -> Vec<Shape> {
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
    vec![
        ("non_cors", 1, || get(None)),
        ("actual_allowed", 1, || get(Some(APP))),
        ("actual_rejected", 1, || get(Some("https://evil.example"))),
        ("preflight_allowed", 1, || preflight(APP, "content-type,x-request-id")),
        ("preflight_rejected", 1, || {
            preflight("https://evil.example", "content-type")
        }),
        ("preflight_acrh_60k_commas", 1, || preflight(APP, commas())),
        ("origins_1_actual_allowed", 1, || get(Some(APP))),
        ("origins_100_actual_allowed", 100, || get(Some(APP))),
        ("origins_10000_actual_allowed", 10_000, || get(Some(APP))),
        ("origins_10000_preflight_allowed", 10_000, || {
            preflight(APP, "content-type")
        }),
    ]
}

fn allocs_per_request<S>(mut svc: S, make: fn() -> Request<()>) -> u64
where
    S: Service<Request<()>, Response = Response<Body>, Error = Infallible>,
{
    const N: u64 = 1000;
    let mut total = 0;
    for _ in 0..N {
        let req = make();
        ALLOCS.store(0, Ordering::SeqCst);
        COUNTING.store(true, Ordering::SeqCst);
        let resp = now(svc.call(req));
        COUNTING.store(false, Ordering::SeqCst);
        total += ALLOCS.load(Ordering::SeqCst);
        drop(black_box(resp));
    }
    total / N
}

fn bench(c: &mut Criterion) {
    println!("\nheap allocations per request (middleware + response, request built beforehand)");
    println!("{:<34} {:>8} {:>11}", "shape", "corsair", "tower-http");
    for (name, n, make) in shapes() {
        let o = origins(n);
        let a = allocs_per_request(corsair_svc(&o), make);
        let b = allocs_per_request(tower_http_svc(&o), make);
        println!("{name:<34} {a:>8} {b:>11}");
    }
    println!();

    for (name, n, make) in shapes() {
        let o = origins(n);
        let mut g = c.benchmark_group(name);
        let mut svc = corsair_svc(&o);
        g.bench_function("corsair", |b| {
            b.iter_batched(make, |req| now(svc.call(req)), BatchSize::SmallInput)
        });
        let mut svc = tower_http_svc(&o);
        g.bench_function("tower-http", |b| {
            b.iter_batched(make, |req| now(svc.call(req)), BatchSize::SmallInput)
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
