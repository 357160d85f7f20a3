//! Why was it refused? An axum app behind corsair's layer tells it twice:
//! its own `tracing` subscriber logs the rejection's reason (target
//! `corsair`), and an outer middleware reads the same reason back from the
//! response's extensions (a `CorsRejection`), as an app would to count it
//! or to answer with details in development.
//!
//! `cargo run -p corsair-tower --example reasons` serves the app on a
//! loopback port, sends it an allowed and a refused preflight, and prints
//! what each side saw. `crates/corsair-tower/tests/reasons_example.rs` runs
//! the same functions and checks both.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::put;
use axum::Router;
use corsair::PolicyConfig;
use corsair_tower::{CorsLayer, CorsRejection};
use http::{Method, StatusCode};
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tracing::Level;
use tracing_subscriber::fmt::MakeWriter;

/// What the outer middleware read from the responses' extensions:
/// `(policy, reason code, detail)` per rejected request.
pub type Seen = Arc<Mutex<Vec<(String, &'static str, String)>>>;

/// The app: one route behind corsair (named `api`, rejections logged at
/// INFO), and outside it a middleware that reads each response's
/// `CorsRejection`.
pub fn app(seen: Seen) -> Router {
    let policy = PolicyConfig::new()
        .allow_origins(["https://app.example.com"])
        .allow_methods(["PUT"])
        .allow_headers(["content-type"])
        .build()
        .expect("a sound policy");
    Router::new()
        .route("/items/{id}", put(|| async { "updated" }))
        .layer(CorsLayer::new(policy).named("api").rejection_level(Level::INFO))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let seen = seen.clone();
            async move {
                let resp: Response = next.run(req).await;
                if let Some(why) = resp.extensions().get::<CorsRejection>() {
                    let policy = why.policy.as_deref().unwrap_or("").to_owned();
                    let entry = (policy, why.rejection.code(), why.rejection.to_string());
                    seen.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
                }
                resp
            }
        }))
}

/// The app's own subscriber: plain text, INFO and above, to `writer`.
pub fn subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_max_level(Level::INFO)
        .with_ansi(false)
        .finish()
}

/// Serves `app` on a loopback port; returns its address.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    addr
}

/// Sends a preflight for `PUT /items/1` from `origin`; returns its status.
pub async fn preflight(addr: SocketAddr, origin: &str) -> StatusCode {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let req = http::Request::builder()
        .method(Method::OPTIONS)
        .uri(format!("http://{addr}/items/1"))
        .header("origin", origin)
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "content-type")
        .body(Empty::new())
        .expect("request");
    client.request(req).await.expect("response").status()
}

#[tokio::main(flavor = "current_thread")]
#[allow(dead_code)]
async fn main() {
    tracing::subscriber::set_global_default(subscriber(std::io::stderr)).expect("one subscriber");
    let seen = Seen::default();
    let addr = serve(app(seen.clone())).await;
    for origin in ["https://app.example.com", "https://evil.example"] {
        println!("preflight from {origin}: {}", preflight(addr, origin).await);
    }
    for (policy, code, detail) in seen.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        println!("read from the response's extensions: policy {policy}, reason {code}: {detail}");
    }
}
