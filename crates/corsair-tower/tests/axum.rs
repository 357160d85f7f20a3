//! An axum app behind the corsair layer, served over a real loopback socket.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::routing::{get, put};
use axum::Router;
use corsair::PolicyConfig;
use corsair_tower::CorsLayer;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

const APP: &str = "https://app.example.com";

async fn serve() -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let policy = PolicyConfig::new()
        .allow_origins([APP, "https://*.example.net"])
        .allow_methods(["PUT", "DELETE"])
        .allow_headers(["content-type", "x-request-id"])
        .expose_headers(["x-request-id"])
        .allow_credentials(true)
        .max_age(600)
        .build()
        .expect("policy");
    let h1 = hits.clone();
    let h2 = hits.clone();
    let app = Router::new()
        .route(
            "/items",
            get(move || async move {
                h1.fetch_add(1, Ordering::SeqCst);
                (
                    [
                        ("x-request-id", "42"),
                        ("access-control-allow-origin", "*"),
                        ("vary", "Accept-Encoding"),
                    ],
                    "items",
                )
            }),
        )
        .route(
            "/items/1",
            put(move || async move {
                h2.fetch_add(1, Ordering::SeqCst);
                "updated"
            })
            .options(|| async { "plain options reached the handler" }),
        )
        .layer(CorsLayer::new(policy));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    (addr, hits)
}

async fn send(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut req = Request::builder().method(method).uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = client
        .request(req.body(Empty::new()).expect("request"))
        .await
        .expect("response");
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    (parts.status, parts.headers, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn allowed_actual_request_gets_exact_headers() {
    let (addr, hits) = serve().await;
    let (s, h, body) = send(addr, Method::GET, "/items", &[("origin", APP)]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, "items");
    assert_eq!(
        h.get_all("access-control-allow-origin").iter().collect::<Vec<_>>(),
        [APP]
    );
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-expose-headers"], "x-request-id");
    assert_eq!(
        h.get_all("vary").iter().collect::<Vec<_>>(),
        ["Accept-Encoding", "Origin"]
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn rejected_origin_reaches_handler_without_cors_headers() {
    let (addr, _) = serve().await;
    for origin in [
        "https://evil.example",
        "https://example.net",
        "null",
        "https://app.example.com.evil.net",
    ] {
        let (s, h, _) = send(addr, Method::GET, "/items", &[("origin", origin)]).await;
        assert_eq!(s, StatusCode::OK);
        assert!(h.get("access-control-allow-origin").is_none(), "{origin}");
        assert!(h.get("access-control-allow-credentials").is_none(), "{origin}");
        assert_eq!(
            h.get_all("vary").iter().collect::<Vec<_>>(),
            ["Accept-Encoding", "Origin"]
        );
    }
    let (_, h, _) = send(addr, Method::GET, "/items", &[]).await;
    assert!(h.get("access-control-allow-origin").is_none(), "no Origin, no CORS");
}

#[tokio::test]
async fn preflights_are_answered_by_the_layer() {
    let (addr, hits) = serve().await;
    let (s, h, body) = send(
        addr,
        Method::OPTIONS,
        "/items/1",
        &[
            ("origin", "https://a.b.example.net"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type,x-request-id"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(body, "");
    assert_eq!(h["access-control-allow-origin"], "https://a.b.example.net");
    assert_eq!(h["access-control-allow-methods"], "PUT");
    assert_eq!(h["access-control-allow-headers"], "content-type,x-request-id");
    assert_eq!(h["access-control-max-age"], "600");

    let (s, h, _) = send(
        addr,
        Method::OPTIONS,
        "/items/1",
        &[("origin", APP), ("access-control-request-method", "PATCH")],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(h.keys().all(|k| !k.as_str().starts_with("access-control-")));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no preflight reached a handler");

    let (s, _, body) = send(addr, Method::OPTIONS, "/items/1", &[("origin", APP)]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, "plain options reached the handler");
}
