//! Cross-origin protection (CSRF) in the layer: an unsafe request that a
//! browser sends for a page of an origin the policy does not trust (a
//! cross-site `<form method=post>`, a `fetch(…, {mode: "no-cors"})` POST) is
//! answered `403` here and never reaches the service. The decision is the
//! engine's ([`corsair::cross_origin`]); this module tells it the same three
//! ways as a CORS rejection: a `tracing` event (target `corsair`), a
//! [`CrossOriginRefusal`] in the response's extensions, and the app's
//! [`on_cross_origin_refusal`](crate::CorsLayer::on_cross_origin_refusal)
//! hook.

use std::fmt;
use std::sync::Arc;

use corsair::cross_origin::CrossOriginRejection;
use http::{Method, Request, Response};
use tracing::level_filters::LevelFilter;

use crate::reasons::{event_at, Reasons};

/// The hook [`CorsLayer::on_cross_origin_refusal`](crate::CorsLayer::on_cross_origin_refusal)
/// installs.
pub(crate) type RefusalHook = Arc<dyn Fn(&CrossOriginRefusal) + Send + Sync>;

/// Why the layer's cross-origin protection refused the request this `403`
/// answers: in the response's extensions (unless
/// [`rejection_extensions(false)`](crate::CorsLayer::rejection_extensions)),
/// and given to the
/// [`on_cross_origin_refusal`](crate::CorsLayer::on_cross_origin_refusal)
/// hook.
///
/// ```
/// use corsair::PolicyConfig;
/// use corsair_tower::{CorsLayer, CrossOriginRefusal};
/// use http::{Request, Response, StatusCode};
/// use tower::{service_fn, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let policy = PolicyConfig::new().allow_origins(["https://app.example.com"]).build()?;
/// let svc = CorsLayer::new(policy).named("api").layer(service_fn(|_req: Request<String>| async {
///     Ok::<_, std::convert::Infallible>(Response::new(String::from("transferred")))
/// }));
/// // A cross-site form POST from a page of an origin the policy does not allow.
/// let req = Request::post("/transfer")
///     .header("origin", "https://evil.example")
///     .header("sec-fetch-site", "cross-site")
///     .header("content-type", "application/x-www-form-urlencoded")
///     .body(String::from("to=mallory"))?;
/// let resp = svc.oneshot(req).await?;
/// assert_eq!(resp.status(), StatusCode::FORBIDDEN);
/// assert!(resp.body().is_empty()); // the service never ran
/// let why = resp.extensions().get::<CrossOriginRefusal>().expect("refused");
/// assert_eq!(why.rejection.code(), "cross_origin_request");
/// assert_eq!(why.policy.as_deref(), Some("api"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CrossOriginRefusal {
    /// The layer's name.
    pub policy: Option<Arc<str>>,
    /// The request's method.
    pub method: Method,
    /// The request's path.
    pub path: Arc<str>,
    /// Why: [`CrossOriginRejection::code`] is the stable reason
    /// (`cross_origin_request` or `origin_host_mismatch`), `Display` the
    /// detail, [`CrossOriginRejection::origin`] the request's origin.
    pub rejection: CrossOriginRejection,
}

impl fmt::Display for CrossOriginRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cross-origin {} {} refused ({}): {}",
            self.method,
            self.path,
            self.rejection.code(),
            self.rejection
        )
    }
}

/// The `403` for a refused request: no CORS header, the
/// [`CrossOriginRejection`]'s own headers, an empty body (the layer cannot
/// make one of the service's body type), the refusal told as the layer's
/// options say.
#[cold]
#[inline(never)]
pub(crate) fn refuse<B, R: Default>(
    reasons: &Reasons,
    req: &Request<B>,
    rejection: CrossOriginRejection,
) -> Response<R> {
    let mut resp = Response::new(R::default());
    *resp.status_mut() = rejection.status();
    rejection.write_headers(resp.headers_mut());
    if reasons.level <= LevelFilter::current() {
        log(reasons, req, &rejection, "cross-origin request refused (403)");
    }
    if reasons.refusal_hook.is_none() && !reasons.extensions {
        return resp;
    }
    let refusal = CrossOriginRefusal {
        policy: reasons.name.clone(),
        method: req.method().clone(),
        path: req.uri().path().into(),
        rejection,
    };
    if let Some(hook) = &reasons.refusal_hook {
        hook(&refusal);
    }
    if reasons.extensions {
        resp.extensions_mut().insert(refusal);
    }
    resp
}

/// The `tracing` event of a refusal (or, in report-only mode, of one that
/// would have happened).
pub(crate) fn log<B>(reasons: &Reasons, req: &Request<B>, rejection: &CrossOriginRejection, message: &str) {
    event_at!(
        reasons.level,
        policy = reasons.name.as_deref(),
        origin = rejection
            .origin()
            .map(|o| String::from_utf8_lossy(o.as_bytes()))
            .as_deref(),
        reason = rejection.code(),
        detail = %rejection,
        kind = "unsafe",
        method = %req.method(),
        path = req.uri().path(),
        "{message}"
    );
}
