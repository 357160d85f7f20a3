//! Cross-origin protection (CSRF) in the layer: an axum app behind
//! `CorsLayer`, served on a real loopback socket. An untrusted browser's
//! unsafe request is answered 403 by the layer and never reaches a handler;
//! trusted origins, the app's own pages, non-browser clients and exempt paths
//! pass; the refusal is logged, put in the response's extensions and given
//! to the hook; report-only mode refuses nothing and reports it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::Router;
use corsair::cross_origin::CrossOriginProtection;
use corsair::shadow::ShadowVerdict;
use corsair::PolicyConfig;
use corsair_testkit::events::Recorder;
use corsair_tower::{CorsLayer, CrossOriginRefusal};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{service_fn, Layer, ServiceExt};
use tracing_subscriber::layer::SubscriberExt;

const APP: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example";

fn policy() -> corsair::Policy {
    PolicyConfig::new()
        .allow_origins([APP, "https://*.partner.example"])
        .allow_methods(["PUT", "DELETE"])
        .allow_credentials(true)
        .build()
        .expect("policy")
}

/// An axum app whose handlers count the requests that reach them.
async fn serve(layer: CorsLayer) -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let handler = move || {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            "done"
        }
    };
    let app = Router::new()
        .route(
            "/transfer",
            post(handler.clone()).put(handler.clone()).get(handler.clone()),
        )
        .route("/oauth/callback", post(handler.clone()))
        .route("/oauth/callback/", post(handler))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    (addr, hits)
}

/// Sends one request with a form body; `host` overrides the `Host` the
/// client would send (the socket's address).
async fn send(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = Request::builder().method(method).uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from_static(b"to=mallory&amount=100")))
        .expect("request");
    let resp = client.request(req).await.expect("response");
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    (parts.status, parts.headers, String::from_utf8_lossy(&body).into_owned())
}

fn assert_refused(r: &(StatusCode, HeaderMap, String), what: &str) {
    assert_eq!(r.0, StatusCode::FORBIDDEN, "{what}: {}", r.2);
    assert_eq!(r.2, "", "{what}: the layer's 403 has an empty body");
    assert_eq!(r.1["x-content-type-options"], "nosniff", "{what}");
    for (name, _) in &r.1 {
        assert!(!name.as_str().starts_with("access-control-"), "{what}: {name}");
    }
}

#[tokio::test]
async fn an_untrusted_browsers_unsafe_request_never_reaches_the_service() {
    let (addr, hits) = serve(CorsLayer::new(policy())).await;
    let own = format!("http://{addr}");
    // Refused: what a browser sends for a page of another site.
    for (method, headers, what) in [
        (
            Method::POST,
            vec![("sec-fetch-site", "cross-site"), ("origin", EVIL)],
            "cross-site form POST",
        ),
        (
            Method::POST,
            vec![("sec-fetch-site", "same-site"), ("origin", "https://blog.example.com")],
            "same-site, unlisted",
        ),
        (
            Method::PUT,
            vec![("sec-fetch-site", "cross-site"), ("origin", EVIL)],
            "cross-site PUT",
        ),
        (
            Method::POST,
            vec![("sec-fetch-site", "cross-site"), ("origin", "null")],
            "sandboxed page",
        ),
        (
            Method::POST,
            vec![("sec-fetch-site", "cross-site")],
            "cross-site without Origin",
        ),
        (
            Method::POST,
            vec![("origin", EVIL)],
            "no Sec-Fetch-Site, Origin not this host",
        ),
        (
            Method::POST,
            vec![("sec-fetch-site", "cross-site"), ("origin", "https://partner.example")],
            "a pattern never covers its bare domain",
        ),
    ] {
        let r = send(addr, method, "/transfer", &headers).await;
        assert_refused(&r, what);
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "a refused request reached a handler");

    // Passed: the app's own pages, trusted origins, non-browsers, safe methods.
    for (method, headers, what) in [
        (
            Method::POST,
            vec![("sec-fetch-site", "same-origin"), ("origin", EVIL)],
            "same-origin page",
        ),
        (
            Method::POST,
            vec![("sec-fetch-site", "none")],
            "a navigation the user started",
        ),
        (
            Method::POST,
            vec![("sec-fetch-site", "cross-site"), ("origin", APP)],
            "listed origin",
        ),
        (
            Method::PUT,
            vec![
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://eu.partner.example"),
            ],
            "pattern",
        ),
        (
            Method::POST,
            vec![("origin", own.as_str())],
            "no Sec-Fetch-Site, Origin is this host",
        ),
        (Method::POST, vec![], "not a browser"),
        (
            Method::GET,
            vec![("sec-fetch-site", "cross-site"), ("origin", EVIL)],
            "safe method",
        ),
    ] {
        let (status, _, body) = send(addr, method, "/transfer", &headers).await;
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        assert_eq!(body, "done", "{what}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 7);
}

#[tokio::test]
async fn exempt_paths_are_exact_and_protection_can_be_turned_off() {
    let layer = CorsLayer::new(policy()).cross_origin_protection(
        CrossOriginProtection::new()
            .exempt_paths(["/oauth/callback"])
            .expect("exempt"),
    );
    let (addr, hits) = serve(layer).await;
    let cross = [("sec-fetch-site", "cross-site"), ("origin", "https://idp.example")];
    let (status, _, _) = send(addr, Method::POST, "/oauth/callback", &cross).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the exempt path takes the identity provider's POST"
    );
    assert_refused(
        &send(addr, Method::POST, "/oauth/callback/", &cross).await,
        "not the same path",
    );
    assert_refused(
        &send(addr, Method::POST, "/transfer", &cross).await,
        "other paths stay protected",
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    let off = CorsLayer::new(policy()).cross_origin_protection(CrossOriginProtection::disabled());
    let (addr, hits) = serve(off).await;
    let (status, _, _) = send(addr, Method::POST, "/transfer", &cross).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[test]
fn a_refusal_is_logged_put_in_extensions_and_given_to_the_hook() {
    let events = Recorder::default();
    let subscriber = tracing_subscriber::registry().with(events.clone());
    let seen: Arc<Mutex<Vec<CrossOriginRefusal>>> = Arc::default();
    let s = seen.clone();
    let layer = CorsLayer::new(policy())
        .named("bank")
        .on_cross_origin_refusal(move |r| s.lock().expect("seen").push(r.clone()));
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let resp = tracing::subscriber::with_default(subscriber, || {
        rt.block_on(async {
            let svc = layer.layer(service_fn(|_req: Request<String>| async {
                Ok::<_, std::convert::Infallible>(Response::new(String::from("done")))
            }));
            let req = Request::post("/transfer")
                .header("host", "bank.example")
                .header("origin", EVIL)
                .body(String::new())
                .expect("request");
            svc.oneshot(req).await.expect("response")
        })
    });
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let ext = resp.extensions().get::<CrossOriginRefusal>().expect("extension");
    assert_eq!(ext.rejection.code(), "origin_host_mismatch");
    assert_eq!(ext.policy.as_deref(), Some("bank"));
    assert_eq!((ext.method.as_str(), &*ext.path), ("POST", "/transfer"));
    assert_eq!(ext.rejection.origin().expect("origin"), EVIL);
    assert_eq!(seen.lock().expect("seen").as_slice(), std::slice::from_ref(ext));

    // The default level is DEBUG: a subscriber that takes everything sees it.
    let events = events.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let (_, target, e) = &events[0];
    assert_eq!(target, "corsair");
    assert_eq!(e["reason"], "origin_host_mismatch");
    assert_eq!(e["policy"], "bank");
    assert_eq!(e["origin"], EVIL);
    assert_eq!(e["method"], "POST");
    assert_eq!(e["path"], "/transfer");
    assert!(e["detail"].contains("evil.example"), "{e:?}");
    assert_eq!(e["message"], "cross-origin request refused (403)");
}

#[tokio::test]
async fn report_only_refuses_nothing_and_reports_what_it_would_refuse() {
    let layer = CorsLayer::report_only(policy()).named("bank");
    let (addr, hits) = serve(layer.clone()).await;
    let cross = [("sec-fetch-site", "cross-site"), ("origin", EVIL)];
    for _ in 0..2 {
        let (status, _, body) = send(addr, Method::POST, "/transfer", &cross).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "done"));
    }
    // Trusted: nothing for protection to report (the service's missing
    // CORS headers are another disagreement, `would_allow`).
    let (status, _, _) = send(
        addr,
        Method::POST,
        "/transfer",
        &[("sec-fetch-site", "cross-site"), ("origin", APP)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    let report = layer.report().expect("report-only");
    let all = report.entries();
    let entries: Vec<_> = all.iter().filter(|e| e.verdict == ShadowVerdict::WouldReject).collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = entries[0];
    assert_eq!(e.reason, "cross_origin_request");
    assert_eq!((e.policy.as_str(), e.origin.as_str(), e.count), ("bank", EVIL, 2));
    assert!(e.detail.contains("not in allow_origins"), "{}", e.detail);
}

#[test]
fn the_builder_and_the_config_file_set_protection() {
    let layer = CorsLayer::builder()
        .allow_origin([APP])
        .protect_unsafe_requests_exempt(["/oauth/callback"])
        .build()
        .expect("layer");
    assert!(layer.protection().is_enabled());
    assert!(layer.protection().is_exempt("/oauth/callback"));
    let off = CorsLayer::builder()
        .allow_origin([APP])
        .protect_unsafe_requests(false)
        .build()
        .expect("layer");
    assert!(!off.protection().is_enabled());
    assert!(CorsLayer::builder()
        .allow_origin([APP])
        .build()
        .expect("layer")
        .protection()
        .is_enabled());

    // Every problem at once: the policy's and the exempt paths'.
    let errs = CorsLayer::builder()
        .allow_origin(["https://app.example.com/"])
        .protect_unsafe_requests_exempt(["/cb?x=1", "/ok", "/ok"])
        .build()
        .unwrap_err();
    let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "allow_origins[0]",
            "protect_unsafe_requests_exempt[0]",
            "protect_unsafe_requests_exempt[2]"
        ],
        "{errs}"
    );

    let text = r#"
[[policy]]
name = "bank"
path_prefix = "/bank"
allow_origins = ["https://app.example.com"]
protect_unsafe_requests_exempt = ["/bank/oauth/callback"]

[[policy]]
name = "open"
allow_origins = ["*"]
protect_unsafe_requests = false
"#;
    let bank = CorsLayer::from_config_text(text, "bank").expect("bank");
    assert!(bank.protection().is_enabled());
    assert_eq!(bank.protection().exempt().collect::<Vec<_>>(), ["/bank/oauth/callback"]);
    assert!(!CorsLayer::from_config_text(text, "open")
        .expect("open")
        .protection()
        .is_enabled());

    let bad = "[[policy]]\npath_prefix = \"/bank\"\nprotect_unsafe_requests_exempt = [\"/other\"]\n";
    let err = CorsLayer::from_config_text(bad, "policy[0]").unwrap_err().to_string();
    assert!(err.contains("protect_unsafe_requests_exempt[0]"), "{err}");
    assert!(err.contains("outside this policy's path_prefix"), "{err}");
}
