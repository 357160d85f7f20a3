//! Policies that change while the layer serves: a reloadable layer's
//! policy replaced atomically (each request decided and answered by one
//! policy), and a dynamic origin set changed under running requests.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;

use corsair::{DynamicOrigins, PolicyConfig};
use corsair_tower::CorsLayer;
use http::{HeaderMap, Request, Response};
use tower::{service_fn, Layer, Service};

/// Polls a future that is ready at once (the services here answer at once).
fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn policy(origin: &str, method: &str, max_age: i64) -> corsair::Policy {
    PolicyConfig::new()
        .allow_origins([origin])
        .allow_methods([method])
        .max_age(max_age)
        .build()
        .expect("policy")
}

fn request(method: &str, headers: &[(&str, &str)]) -> Request<String> {
    let mut b = Request::builder().method(method).uri("/x");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(String::new()).expect("request")
}

fn ok() -> impl Service<Request<String>, Response = Response<String>, Error = Infallible, Future: Send> + Clone + Send {
    service_fn(|_req: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) })
}

const A: &str = "https://a.example";
const B: &str = "https://b.example";

/// Which policy answered a preflight: `Some('a')` / `Some('b')` when the
/// whole answer is that policy's, `None` for a refusal; panics on a
/// mixture.
fn answered_by(status: u16, h: &HeaderMap) -> Option<char> {
    if status == 403 {
        assert!(h.keys().all(|k| !k.as_str().starts_with("access-control-")), "{h:?}");
        return None;
    }
    assert_eq!(status, 204);
    let acao = h["access-control-allow-origin"].to_str().expect("text");
    let acam = h["access-control-allow-methods"].to_str().expect("text");
    let max_age = h["access-control-max-age"].to_str().expect("text");
    match (acao, acam, max_age) {
        (A, "PUT", "100") => Some('a'),
        (B, "DELETE", "200") => Some('b'),
        other => panic!("an answer from no single policy: {other:?}"),
    }
}

#[test]
fn replacing_the_policy_while_requests_run() {
    let (layer, handle) = CorsLayer::reloadable(policy(A, "PUT", 100));
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let mut svc = layer.layer(ok());
            let done = done.clone();
            thread::spawn(move || {
                let mut n = 0;
                while !done.load(Ordering::Acquire) || n < 500 {
                    for (origin, method) in [(A, "PUT"), (B, "DELETE")] {
                        let req = request(
                            "OPTIONS",
                            &[("origin", origin), ("access-control-request-method", method)],
                        );
                        let resp = now(svc.call(req)).expect("response");
                        let by = answered_by(resp.status().as_u16(), resp.headers());
                        // An origin is answered only by the policy allowing it.
                        assert!(by.is_none() || by == Some(origin.as_bytes()[8] as char));
                    }
                    n += 1;
                }
            })
        })
        .collect();
    for i in 0..500 {
        if i % 2 == 0 {
            handle.replace(policy(B, "DELETE", 200));
        } else {
            handle
                .reconfigure(
                    &PolicyConfig::new()
                        .allow_origins([A])
                        .allow_methods(["PUT"])
                        .max_age(100),
                )
                .expect("sound");
        }
    }
    handle.replace(policy(B, "DELETE", 200));
    done.store(true, Ordering::Release);
    for r in readers {
        r.join().expect("reader");
    }
    // After the last replacement, every request sees B.
    let mut svc = layer.layer(ok());
    let resp = now(svc.call(request(
        "OPTIONS",
        &[("origin", B), ("access-control-request-method", "DELETE")],
    )))
    .expect("response");
    assert_eq!(answered_by(resp.status().as_u16(), resp.headers()), Some('b'));
    assert!(layer.policy().allows_origin(B));
    assert!(handle.current().allows_origin(B));
}

#[test]
fn a_request_is_answered_by_the_policy_that_decided_it() {
    let (layer, handle) = CorsLayer::reloadable(policy(A, "PUT", 100));
    let mut svc = layer.layer(ok());
    // Decided under A...
    let fut = svc.call(request("GET", &[("origin", A)]));
    // ...replaced before the service answers...
    handle.replace(policy(B, "DELETE", 200));
    let resp = now(fut).expect("response");
    // ...and answered under A.
    assert_eq!(resp.headers()["access-control-allow-origin"], A);
    let resp = now(svc.call(request("GET", &[("origin", A)]))).expect("response");
    assert!(!resp.headers().contains_key("access-control-allow-origin"));
}

#[test]
fn an_invalid_reconfiguration_keeps_the_current_policy() {
    let (layer, handle) = CorsLayer::reloadable(policy(A, "PUT", 100));
    let errs = handle
        .reconfigure(&PolicyConfig::new().allow_origins(["*"]).allow_credentials(true))
        .unwrap_err();
    assert_eq!(errs.iter().next().expect("error").code(), "wildcard_with_credentials");
    assert!(layer.policy().allows_origin(A));
    // The builder makes reloadable layers too, options included.
    let (built, handle) = CorsLayer::builder()
        .allow_origin([A])
        .name("api")
        .build_reloadable()
        .expect("layer");
    assert_eq!(built.name(), Some("api"));
    handle.replace(policy(B, "DELETE", 200));
    assert!(built.policy().allows_origin(B));
}

#[test]
fn a_dynamic_origin_set_changes_under_running_requests() {
    let tenants = DynamicOrigins::new();
    let layer = CorsLayer::builder()
        .allow_origin([A])
        .allow_origins_dynamic(tenants.clone())
        .build()
        .expect("layer");
    let added = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let origins: Arc<Vec<String>> = Arc::new((0..300).map(|i| format!("https://t{i}.tenant.example")).collect());
    let readers: Vec<_> = (0..3)
        .map(|r| {
            let mut svc = layer.layer(ok());
            let (added, done, origins) = (added.clone(), done.clone(), origins.clone());
            thread::spawn(move || {
                let mut i = r;
                let mut n = 0;
                while !done.load(Ordering::Acquire) || n < 500 {
                    let k = added.load(Ordering::Acquire);
                    if k > 0 {
                        let o = &origins[i % k];
                        let resp = now(svc.call(request("GET", &[("origin", o)]))).expect("response");
                        assert_eq!(resp.headers()["access-control-allow-origin"], o.as_str());
                    }
                    let resp =
                        now(svc.call(request("GET", &[("origin", "https://never.tenant.example")]))).expect("response");
                    assert!(!resp.headers().contains_key("access-control-allow-origin"));
                    i = i.wrapping_mul(17).wrapping_add(3);
                    n += 1;
                }
            })
        })
        .collect();
    for (i, o) in origins.iter().enumerate() {
        tenants.insert(o).expect("a sound origin");
        added.store(i + 1, Ordering::Release);
    }
    done.store(true, Ordering::Release);
    for r in readers {
        r.join().expect("reader");
    }
    // Removed: refused from the next request on.
    tenants.remove(&origins[0]);
    let mut svc = layer.layer(ok());
    let resp = now(svc.call(request("GET", &[("origin", &origins[0])]))).expect("response");
    assert!(!resp.headers().contains_key("access-control-allow-origin"));
}
