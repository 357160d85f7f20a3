//! The layer allocates nothing of its own on the request path when nothing
//! is rejected: a request through it costs exactly the allocations of the
//! service's own response (and, for a preflight, of the engine's answer),
//! whatever the layer's name, hook or log level, fixed or reloadable. A
//! rejection does no logging work when its level is disabled. Checked with
//! a counting global allocator (as `crates/corsair/tests/no_alloc.rs`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use corsair::PolicyConfig;
use corsair_tower::CorsLayer;
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use http::{Method, Request, Response};
use tower::{Layer, Service};
use tracing_subscriber::layer::SubscriberExt;

struct Counting;

thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation() {
    let _ = MEASURING.try_with(|m| {
        if m.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every call is forwarded unchanged to `System`.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f`, returning its result and the heap allocations it made on this
/// thread; the result is dropped by the caller, outside the window.
fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    ALLOCATIONS.with(|n| n.set(0));
    MEASURING.with(|m| m.set(true));
    let r = std::hint::black_box(f());
    MEASURING.with(|m| m.set(false));
    (r, ALLOCATIONS.with(Cell::get))
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

/// A handler whose response has room for the CORS headers, so that adding
/// them never grows its header map.
#[derive(Clone, Copy)]
struct Handler;

impl Service<Request<()>> for Handler {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<Response<()>, Infallible>>;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, _: Request<()>) -> Self::Future {
        let mut r = Response::new(());
        *r.headers_mut() = HeaderMap::with_capacity(16);
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        ready(Ok(r))
    }
}

const APP: &str = "https://app.example.com";

fn policy() -> corsair::Policy {
    PolicyConfig::new()
        .allow_origins([APP])
        .allow_methods(["PUT"])
        .allow_headers(["content-type"])
        .expose_headers(["x-request-id"])
        .allow_credentials(true)
        .max_age(600)
        .build()
        .expect("policy")
}

fn get(origin: Option<&'static str>) -> Request<()> {
    let mut b = Request::get("/items");
    if let Some(o) = origin {
        b = b.header("origin", HeaderValue::from_static(o));
    }
    b.body(()).expect("request")
}

fn preflight(origin: &'static str) -> Request<()> {
    Request::options("/items/1")
        .header("origin", HeaderValue::from_static(origin))
        .header("access-control-request-method", HeaderValue::from_static("PUT"))
        .header(
            "access-control-request-headers",
            HeaderValue::from_static("content-type"),
        )
        .body(())
        .expect("request")
}

/// Allocations of one request through `svc` (after one warm-up request,
/// which may register tracing call sites or an arc-swap slot).
fn through<S>(svc: &mut S, req: impl Fn() -> Request<()>) -> usize
where
    S: Service<Request<()>, Response = Response<()>, Error = Infallible>,
{
    drop(now(svc.call(req())));
    let r = req();
    let (resp, n) = allocations(|| now(svc.call(r)));
    drop(resp);
    n
}

/// The layers that must cost nothing extra: plain, named with a hook and a
/// loud level, reloadable.
fn layers() -> Vec<(&'static str, CorsLayer)> {
    vec![
        ("plain", CorsLayer::new(policy())),
        (
            "named, hook, INFO",
            CorsLayer::new(policy())
                .named("api")
                .rejection_level(tracing::Level::INFO)
                .on_rejection(|_| {}),
        ),
        ("reloadable", CorsLayer::reloadable(policy()).0),
    ]
}

#[test]
fn nothing_rejected_nothing_allocated_beyond_the_response() {
    // A subscriber that records everything, so that a stray event would
    // allocate.
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(tracing_subscriber::fmt::layer().with_writer(std::io::sink)),
    );
    let handler_alone = through(&mut Handler, || get(Some(APP)));
    assert!(handler_alone > 0, "the counter counts");
    let p = policy();
    let answer = {
        let d = p.evaluate(&Method::OPTIONS, preflight(APP).headers());
        let ((), n) = allocations(|| {
            let mut resp = Response::new(());
            p.write_preflight(&d, resp.headers_mut());
            drop(std::hint::black_box(resp));
        });
        n
    };
    for (name, layer) in layers() {
        let mut svc = layer.layer(Handler);
        assert_eq!(through(&mut svc, || get(None)), handler_alone, "{name}: not CORS");
        assert_eq!(through(&mut svc, || get(Some(APP))), handler_alone, "{name}: allowed");
        assert_eq!(
            through(&mut svc, || preflight(APP)),
            answer,
            "{name}: allowed preflight"
        );
    }
}

#[test]
fn a_disabled_level_does_no_logging_work() {
    let refused = || get(Some("https://evil.example"));
    // No subscriber at all: the rejection's own cost (the extension).
    let quiet = through(&mut CorsLayer::new(policy()).layer(Handler), refused);
    // A subscriber that would format and write a DEBUG event, at INFO: the
    // same cost, so the DEBUG event was never built.
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    assert_eq!(through(&mut CorsLayer::new(policy()).layer(Handler), refused), quiet);
    // At INFO the event is built and written: it costs more.
    let loud = CorsLayer::new(policy()).rejection_level(tracing::Level::INFO);
    assert!(through(&mut loud.layer(Handler), refused) > quiet);
    drop(guard);
    // Without the extension, a rejected actual request costs no more than
    // an allowed one.
    let handler_alone = through(&mut Handler, || get(Some(APP)));
    let bare = CorsLayer::new(policy()).rejection_extensions(false);
    assert_eq!(through(&mut bare.layer(Handler), refused), handler_alone);
}
