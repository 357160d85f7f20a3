//! The `CorsRejection` of a rejected actual request joins the extensions
//! of the service's response (in a process of its own: no `tracing`
//! subscriber here, and none of reasons.rs's).

use std::convert::Infallible;

use corsair::PolicyConfig;
use corsair_tower::{CorsLayer, CorsRejection};
use http::{HeaderValue, Request, Response};
use tower::{service_fn, Layer, ServiceExt};

fn policy() -> corsair::Policy {
    PolicyConfig::new()
        .allow_origins(["https://app.example.com"])
        .build()
        .expect("policy")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("runtime")
}

/// The response of a layer wrapping `service` to a GET from `origin`.
async fn respond<S>(layer: CorsLayer, service: S, origin: &str) -> Response<String>
where
    S: tower::Service<Request<String>, Response = Response<String>, Error = Infallible> + Send + 'static,
    S::Future: Send,
{
    let req = Request::get("/")
        .header("origin", origin)
        .body(String::new())
        .expect("request");
    layer.layer(service).oneshot(req).await.expect("response")
}

/// The reason joins the extensions the service put in its response (merged
/// into its map, which the service's own values keep), and replaces a
/// `CorsRejection` already there (an inner layer's), as an insertion would.
#[test]
fn the_reason_joins_the_services_own_extensions() {
    #[derive(Clone, Debug, PartialEq)]
    struct Mine(u32);
    let rt = rt();
    let plain = service_fn(|_req: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) });
    let inner = rt.block_on(respond(
        CorsLayer::new(policy()).named("inner"),
        plain,
        "https://other.example",
    ));
    let inner = inner
        .extensions()
        .get::<CorsRejection>()
        .cloned()
        .expect("inner reason");
    assert_eq!(inner.policy.as_deref(), Some("inner"));

    let service = service_fn(move |_req: Request<String>| {
        let inner = inner.clone();
        async move {
            let mut resp = Response::new(String::new());
            resp.extensions_mut().insert(Mine(7));
            resp.extensions_mut().insert(inner);
            Ok::<_, Infallible>(resp)
        }
    });
    let resp = rt.block_on(respond(
        CorsLayer::new(policy()).named("outer"),
        service,
        "https://evil.example",
    ));
    assert_eq!(resp.extensions().get::<Mine>(), Some(&Mine(7)));
    let why = resp.extensions().get::<CorsRejection>().expect("reason");
    assert_eq!(why.policy.as_deref(), Some("outer"));
    assert_eq!(why.origin, Some(HeaderValue::from_static("https://evil.example")));
    assert_eq!(why.rejection.code(), "origin_not_allowed");
}
