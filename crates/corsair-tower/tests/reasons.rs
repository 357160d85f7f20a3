//! Every rejection the layer makes, preflight or actual, is told three
//! ways: a `tracing` event (target `corsair`, at the chosen level), a
//! `CorsRejection` in the response's extensions, and the `on_rejection`
//! hook; allowed and non-CORS requests get none of them.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use corsair::{PolicyConfig, RequestKind};
use corsair_testkit::events::Recorder;
use corsair_tower::{CorsLayer, CorsRejection};
use http::{HeaderValue, Method, Request, Response};
use tower::{service_fn, Layer, ServiceExt};
use tracing::Level;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Registry;

const APP: &str = "https://app.example.com";

fn policy() -> corsair::Policy {
    PolicyConfig::new()
        .allow_origins([APP])
        .allow_methods(["PUT"])
        .allow_headers(["content-type"])
        .allow_credentials(true)
        .build()
        .expect("policy")
}

/// What a test saw for one request.
struct Outcome {
    status: u16,
    rejection: Option<CorsRejection>,
}

async fn send(layer: &CorsLayer, method: Method, path: &str, headers: &[(&str, &str)]) -> Outcome {
    let svc = layer.layer(service_fn(|_req: Request<String>| async {
        Ok::<_, Infallible>(Response::new(String::from("ok")))
    }));
    let mut b = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = svc
        .oneshot(b.body(String::new()).expect("request"))
        .await
        .expect("response");
    Outcome {
        status: resp.status().as_u16(),
        rejection: resp.extensions().get::<CorsRejection>().cloned(),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("runtime")
}

#[test]
fn rejections_are_logged_put_in_extensions_and_given_to_the_hook() {
    let events = Recorder::default();
    let _guard = tracing::subscriber::set_default(Registry::default().with(events.clone()));
    let hooked: Arc<Mutex<Vec<String>>> = Arc::default();
    let h = hooked.clone();
    let layer = CorsLayer::new(policy()).named("api").on_rejection(move |e| {
        h.lock().expect("hook").push(format!(
            "{:?} {} {} {} {} {:?}",
            e.policy,
            e.kind.as_str(),
            e.origin_str().unwrap_or_default(),
            e.method,
            e.path,
            e.rejection.code()
        ));
    });
    let rt = rt();
    // Allowed, non-CORS: nothing.
    let ok = rt.block_on(send(&layer, Method::GET, "/a", &[("origin", APP)]));
    assert!(ok.rejection.is_none());
    let plain = rt.block_on(send(&layer, Method::GET, "/a", &[]));
    assert!(plain.rejection.is_none());
    let ok_pf = rt.block_on(send(
        &layer,
        Method::OPTIONS,
        "/a",
        &[("origin", APP), ("access-control-request-method", "PUT")],
    ));
    assert_eq!((ok_pf.status, ok_pf.rejection.is_none()), (204, true));
    assert!(events.0.lock().expect("events").is_empty());

    // An actual request from a refused origin: passed through, with a reason.
    // (A GET: cross-origin protection would refuse an unsafe one before the
    // CORS decision; tests/cross_origin.rs checks that.)
    let r = rt.block_on(send(
        &layer,
        Method::GET,
        "/items",
        &[("origin", "https://evil.example")],
    ));
    assert_eq!(r.status, 200);
    let why = r.rejection.expect("a reason");
    assert_eq!(why.kind, RequestKind::Actual);
    assert_eq!(why.policy.as_deref(), Some("api"));
    assert_eq!(why.origin, Some(HeaderValue::from_static("https://evil.example")));
    assert_eq!(why.rejection.code(), "origin_not_allowed");
    assert_eq!(
        why.to_string(),
        "CORS actual rejected (origin_not_allowed): origin `https://evil.example` is not in allow_origins"
    );

    // A preflight from an allowed origin asking for a header not allowed.
    let r = rt.block_on(send(
        &layer,
        Method::OPTIONS,
        "/items/1",
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type,x-secret"),
        ],
    ));
    assert_eq!(r.status, 403);
    let why = r.rejection.expect("a reason");
    assert_eq!(why.kind, RequestKind::Preflight);
    assert_eq!(why.rejection.header_name(), Some("x-secret"));

    // `null`, and two origins.
    let r = rt.block_on(send(&layer, Method::GET, "/", &[("origin", "null")]));
    assert_eq!(r.rejection.expect("reason").rejection.code(), "null_origin");
    let r = rt.block_on(send(&layer, Method::GET, "/", &[("origin", APP), ("origin", APP)]));
    assert_eq!(r.rejection.expect("reason").rejection.code(), "multiple_origins");

    assert_eq!(
        *hooked.lock().expect("hook"),
        [
            "Some(\"api\") actual https://evil.example GET /items \"origin_not_allowed\"",
            "Some(\"api\") preflight https://app.example.com OPTIONS /items/1 \"header_not_allowed\"",
            "Some(\"api\") actual null GET / \"null_origin\"",
            "Some(\"api\") actual https://app.example.com GET / \"multiple_origins\"",
        ]
    );
    let events = events.0.lock().expect("events");
    assert_eq!(events.len(), 4);
    let (level, target, f) = &events[1];
    assert_eq!((*level, target.as_str()), (Level::DEBUG, "corsair"));
    let want: BTreeMap<String, String> = [
        ("message", "CORS request rejected"),
        ("policy", "api"),
        ("origin", APP),
        ("reason", "header_not_allowed"),
        ("detail", "request header `x-secret` is not in allow_headers"),
        ("kind", "preflight"),
        ("method", "OPTIONS"),
        ("path", "/items/1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(*f, want);
    assert!(events.iter().all(|(l, t, _)| *l == Level::DEBUG && t == "corsair"));
}

#[test]
fn the_level_is_the_users_and_a_disabled_level_logs_nothing() {
    let events = Recorder::default();
    let filter = tracing_subscriber::filter::LevelFilter::INFO;
    let subscriber = Registry::default().with(tracing_subscriber::Layer::with_filter(events.clone(), filter));
    let _guard = tracing::subscriber::set_default(subscriber);
    let rt = rt();
    let refused = [("origin", "https://evil.example")];
    // DEBUG (the default) under an INFO subscriber: silent, but the
    // extension is still there.
    let quiet = CorsLayer::new(policy());
    let r = rt.block_on(send(&quiet, Method::GET, "/", &refused));
    assert!(r.rejection.is_some());
    assert!(events.0.lock().expect("events").is_empty());
    // WARN: logged, without a policy name (the layer has none).
    let loud = CorsLayer::new(policy()).rejection_level(Level::WARN);
    rt.block_on(send(&loud, Method::GET, "/", &refused));
    let events = events.0.lock().expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, Level::WARN);
    assert!(!events[0].2.contains_key("policy"));
}

#[test]
fn extensions_can_be_turned_off() {
    let rt = rt();
    let layer = CorsLayer::new(policy()).rejection_extensions(false);
    let r = rt.block_on(send(&layer, Method::GET, "/", &[("origin", "https://evil.example")]));
    assert!(r.rejection.is_none());
    let r = rt.block_on(send(
        &layer,
        Method::OPTIONS,
        "/",
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "PUT"),
        ],
    ));
    assert_eq!((r.status, r.rejection.is_none()), (403, true));
}

#[test]
fn options_set_on_a_clone_do_not_change_the_original() {
    let a = CorsLayer::new(policy()).named("a");
    let b = a.clone().named("b");
    assert_eq!((a.name(), b.name()), (Some("a"), Some("b")));
    // The builder sets the same options.
    let built = CorsLayer::builder()
        .config(policy().config().clone())
        .name("c")
        .rejection_level(Level::ERROR)
        .rejection_extensions(false)
        .build()
        .expect("layer");
    assert_eq!(built.name(), Some("c"));
    let rt = rt();
    let r = rt.block_on(send(&built, Method::GET, "/", &[("origin", "https://evil.example")]));
    assert!(r.rejection.is_none());
}
