//! Report-only mode over a real loopback socket: in front of an axum app
//! that reflects any origin with credentials, every response is what the
//! app alone gives (status, headers, body), and the layer's report lists
//! the would-be rejections with their reasons.

use std::net::SocketAddr;

use axum::extract::Request as AxumRequest;
use axum::response::{IntoResponse, Response as AxumResponse};
use axum::routing::any;
use axum::Router;
use corsair::shadow::ShadowVerdict;
use corsair::{PolicyConfig, PolicyMode, RequestKind};
use corsair_tower::CorsLayer;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

const APP: &str = "https://app.example.com";

/// A request: method, path and headers.
type Case = (Method, &'static str, Vec<(&'static str, &'static str)>);
const EVIL: &str = "https://evil.example";

/// Today's service: reflects any origin with credentials, and answers
/// every preflight with whatever it asks for.
async fn reflect(req: AxumRequest) -> AxumResponse {
    let h = req.headers();
    let mut out = HeaderMap::new();
    if let Some(o) = h.get("origin") {
        out.insert("access-control-allow-origin", o.clone());
        out.insert("access-control-allow-credentials", "true".parse().expect("value"));
    }
    if let Some(m) = h.get("access-control-request-method") {
        out.insert("access-control-allow-methods", m.clone());
    }
    if let Some(v) = h.get("access-control-request-headers") {
        out.insert("access-control-allow-headers", v.clone());
    }
    out.insert("vary", "accept-encoding".parse().expect("value"));
    (StatusCode::OK, out, "body").into_response()
}

fn strict() -> corsair::Policy {
    PolicyConfig::new()
        .allow_origins([APP])
        .allow_methods(["PUT"])
        .allow_headers(["content-type"])
        .allow_credentials(true)
        .build()
        .expect("policy")
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    addr
}

/// Status, headers (without `date`, which changes by the second) and body.
async fn send(
    addr: SocketAddr,
    method: &Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Bytes) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut b = Request::builder()
        .method(method.clone())
        .uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = client
        .request(b.body(Empty::new()).expect("request"))
        .await
        .expect("response");
    let (mut parts, body) = resp.into_parts();
    parts.headers.remove("date");
    (
        parts.status,
        parts.headers,
        body.collect().await.expect("body").to_bytes(),
    )
}

#[tokio::test]
async fn responses_are_untouched_and_the_report_lists_the_would_be_rejections() {
    let layer = CorsLayer::report_only(strict()).named("api");
    assert_eq!(layer.mode(), PolicyMode::ReportOnly);
    let shadowed = serve(Router::new().route("/{*p}", any(reflect)).layer(layer.clone())).await;
    let alone = serve(Router::new().route("/{*p}", any(reflect))).await;

    let pf = |origin: &'static str, acrh: &'static str| {
        vec![
            ("origin", origin),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", acrh),
        ]
    };
    let cases: Vec<Case> = vec![
        (Method::GET, "/items", vec![]),
        (Method::GET, "/items", vec![("origin", APP), ("cookie", "s=1")]),
        (Method::GET, "/items", vec![("origin", EVIL), ("cookie", "s=1")]),
        (Method::GET, "/items", vec![("origin", EVIL), ("cookie", "s=1")]),
        // Cross-origin protection would refuse it (no Sec-Fetch-Site, and
        // Origin is not the request's own host): reported as such.
        (Method::POST, "/orders", vec![("origin", EVIL)]),
        (Method::GET, "/items", vec![("origin", "null")]),
        (Method::OPTIONS, "/items/1", pf(APP, "content-type")),
        (Method::OPTIONS, "/items/1", pf(APP, "content-type,x-secret")),
        (Method::OPTIONS, "/items/1", pf(EVIL, "content-type")),
        // Not compared: a same-origin request, and one no browser sends.
        (
            Method::POST,
            "/items",
            vec![("origin", EVIL), ("sec-fetch-site", "same-origin")],
        ),
        (Method::GET, "/items", vec![("origin", "https://EVIL.example")]),
    ];
    for (method, path, headers) in &cases {
        let got = send(shadowed, method, path, headers).await;
        let want = send(alone, method, path, headers).await;
        assert_eq!(got, want, "{method} {path} {headers:?}");
    }

    let report = layer.report().expect("report-only");
    let entries: Vec<(ShadowVerdict, &str, String, u64, RequestKind)> = report
        .entries()
        .into_iter()
        .map(|e| (e.verdict, e.reason, e.origin, e.count, e.example.kind))
        .collect();
    use RequestKind::{Actual, Preflight};
    use ShadowVerdict::WouldReject;
    assert_eq!(
        entries,
        [
            (WouldReject, "header_not_allowed", APP.to_owned(), 1, Preflight),
            (WouldReject, "null_origin", "null".to_owned(), 1, Actual),
            (WouldReject, "origin_host_mismatch", EVIL.to_owned(), 1, Actual),
            (WouldReject, "origin_not_allowed", EVIL.to_owned(), 3, Actual),
        ]
    );
    let e = report
        .entries()
        .into_iter()
        .find(|e| e.reason == "header_not_allowed")
        .expect("entry");
    assert_eq!(e.policy, "api");
    assert_eq!(e.example.path, "/items/1");
    assert_eq!(e.example.requested_method.as_deref(), Some("PUT"));
    assert_eq!(e.example.requested_headers, ["content-type", "x-secret"]);
    assert!(e.first_seen <= e.last_seen);
    assert!(report.other_origins().is_empty());

    // The JSON the gateway will serve at GET /report.
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["origin_limit"], 1000);
    assert_eq!(json["entries"][2]["verdict"], "would_reject");
    assert_eq!(json["entries"][2]["reason"], "origin_host_mismatch");
    assert_eq!(json["entries"][2]["example"]["method"], "POST");
    assert_eq!(json["entries"][3]["origin"], EVIL);
    assert_eq!(json["entries"][3]["count"], 3);
    assert_eq!(json["entries"][3]["example"]["method"], "GET");

    layer.clear_report();
    assert!(layer.report().expect("report-only").is_empty());
}

/// The other way round: the service refuses (no CORS headers at all, no
/// OPTIONS route), the policy would allow.
#[tokio::test]
async fn would_allow_names_what_the_browser_refuses_in_the_services_answer() {
    let layer = CorsLayer::new(strict()).with_mode(PolicyMode::ReportOnly);
    let app = Router::new()
        .route("/items/{id}", axum::routing::put(|| async { "updated" }))
        .layer(layer.clone());
    let addr = serve(app).await;
    let (status, headers, _) = send(addr, &Method::GET, "/items/1", &[("origin", APP)]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "the service's own answer");
    assert!(!headers.contains_key("access-control-allow-origin"));
    let (status, _, _) = send(
        addr,
        &Method::OPTIONS,
        "/items/1",
        &[("origin", APP), ("access-control-request-method", "PUT")],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::METHOD_NOT_ALLOWED,
        "the preflight reached the service"
    );
    let report = layer.report().expect("report-only");
    let got: Vec<(ShadowVerdict, &str, RequestKind)> = report
        .entries()
        .iter()
        .map(|e| (e.verdict, e.reason, e.example.kind))
        .collect();
    assert_eq!(
        got,
        [(ShadowVerdict::WouldAllow, "missing_allow_origin", RequestKind::Actual),],
        "one entry per (verdict, reason, origin): the preflight's first request is the example"
    );
    assert_eq!(report.entries()[0].count, 2);
    // An enforcing layer has no report.
    assert!(CorsLayer::new(strict()).report().is_none());
}
