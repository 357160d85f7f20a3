//! Reasons: every rejection the layer's policy makes, told three ways: a
//! `tracing` event, a [`CorsRejection`] in the response's extensions, and
//! the app's own [`on_rejection`](crate::CorsLayer::on_rejection) hook.

use std::fmt;
use std::sync::Arc;

use corsair::{Rejection, RequestKind};
use http::header::{self, HeaderValue};
use http::{Extensions, HeaderMap, Method};
use tracing::level_filters::LevelFilter;
use tracing::Level;

/// The hook [`CorsLayer::on_rejection`](crate::CorsLayer::on_rejection)
/// installs.
pub(crate) type Hook = Arc<dyn Fn(&RejectionEvent<'_>) + Send + Sync>;

/// One rejection, as the [`on_rejection`](crate::CorsLayer::on_rejection)
/// hook sees it: borrowed from the request, valid during the call.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RejectionEvent<'a> {
    /// The layer's name ([`CorsLayer::named`](crate::CorsLayer::named)).
    pub policy: Option<&'a str>,
    /// A preflight or an actual request.
    pub kind: RequestKind,
    /// The request's (first) `Origin`.
    pub origin: Option<&'a HeaderValue>,
    /// Why: [`Rejection::code`] is the stable reason, `Display` the detail.
    pub rejection: &'a Rejection,
    /// The request's method.
    pub method: &'a Method,
    /// The request's path.
    pub path: &'a str,
}

impl RejectionEvent<'_> {
    /// The origin as text (`None` without one; lossy for bytes that are not
    /// UTF-8).
    pub fn origin_str(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.origin.map(|o| String::from_utf8_lossy(o.as_bytes()))
    }
}

/// Why the layer rejected the request this response answers: put in the
/// response's extensions (for rejected preflights, and for the responses to
/// actual requests whose origin, or whose `Origin` headers, the policy
/// refused), so that an outer layer or the app can read it. On by default;
/// [`CorsLayer::rejection_extensions`](crate::CorsLayer::rejection_extensions)
/// turns it off.
///
/// ```
/// use corsair::PolicyConfig;
/// use corsair_tower::{CorsLayer, CorsRejection};
/// use http::{Request, Response};
/// use tower::{service_fn, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let policy = PolicyConfig::new().allow_origins(["https://app.example.com"]).build()?;
/// let svc = CorsLayer::new(policy).named("api").layer(service_fn(|_req: Request<String>| async {
///     Ok::<_, std::convert::Infallible>(Response::new(String::new()))
/// }));
/// let req = Request::get("/items").header("origin", "https://evil.example").body(String::new())?;
/// let resp = svc.oneshot(req).await?;
/// let why = resp.extensions().get::<CorsRejection>().expect("rejected");
/// assert_eq!(why.rejection.code(), "origin_not_allowed");
/// assert_eq!(why.policy.as_deref(), Some("api"));
/// assert_eq!(why.origin.as_ref().unwrap(), "https://evil.example");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CorsRejection {
    /// The layer's name.
    pub policy: Option<Arc<str>>,
    /// A preflight or an actual request.
    pub kind: RequestKind,
    /// The request's (first) `Origin`.
    pub origin: Option<HeaderValue>,
    /// Why.
    pub rejection: Rejection,
}

impl fmt::Display for CorsRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CORS {} rejected ({}): {}",
            self.kind.as_str(),
            self.rejection.code(),
            self.rejection
        )
    }
}

/// What the layer does with a rejection, set by the layer's options.
#[derive(Clone)]
pub(crate) struct Reasons {
    pub(crate) name: Option<Arc<str>>,
    pub(crate) level: Level,
    pub(crate) hook: Option<Hook>,
    /// The hook for cross-origin protection's refusals.
    pub(crate) refusal_hook: Option<crate::protection::RefusalHook>,
    /// Whether rejected responses carry a [`CorsRejection`] (or, refused by
    /// cross-origin protection, a
    /// [`CrossOriginRefusal`](crate::CrossOriginRefusal)).
    pub(crate) extensions: bool,
}

impl Default for Reasons {
    fn default() -> Self {
        Self {
            name: None,
            level: Level::DEBUG,
            hook: None,
            refusal_hook: None,
            extensions: true,
        }
    }
}

impl fmt::Debug for Reasons {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reasons")
            .field("name", &self.name)
            .field("level", &self.level)
            .field("hook", &self.hook.as_ref().map(|_| "Fn(&RejectionEvent)"))
            .field(
                "refusal_hook",
                &self.refusal_hook.as_ref().map(|_| "Fn(&CrossOriginRefusal)"),
            )
            .field("extensions", &self.extensions)
            .finish()
    }
}

/// Emits a `tracing` event with target `corsair` at a level chosen at run
/// time (the macros want a constant level: one call site per level). The
/// macros check the level and the subscriber's interest before evaluating
/// any field, so a disabled level costs a comparison.
macro_rules! event_at {
    ($level:expr, $($rest:tt)+) => {
        match $level {
            l if l == tracing::Level::ERROR => tracing::event!(target: "corsair", tracing::Level::ERROR, $($rest)+),
            l if l == tracing::Level::WARN => tracing::event!(target: "corsair", tracing::Level::WARN, $($rest)+),
            l if l == tracing::Level::INFO => tracing::event!(target: "corsair", tracing::Level::INFO, $($rest)+),
            l if l == tracing::Level::DEBUG => tracing::event!(target: "corsair", tracing::Level::DEBUG, $($rest)+),
            _ => tracing::event!(target: "corsair", tracing::Level::TRACE, $($rest)+),
        }
    };
}
pub(crate) use event_at;

impl Reasons {
    /// Whether anything wants to hear of a rejection: a hook, the
    /// extension, or a subscriber at the level.
    #[inline]
    pub(crate) fn wanted(&self) -> bool {
        self.extensions || self.hook.is_some() || self.level <= LevelFilter::current()
    }

    /// Logs a rejection, calls the hook, and returns what goes in the
    /// response's extensions (unless they are off): an [`Extensions`] that
    /// holds the [`CorsRejection`], built here once and later merged into
    /// the response's (taken whole when the response has none, as usual),
    /// so that the reason costs no allocation of its own besides the map's,
    /// and the future that carries it stays small (one pointer). Only called
    /// for rejected requests; does only the work that something will use.
    #[cold]
    #[inline(never)]
    pub(crate) fn rejected(
        &self,
        kind: RequestKind,
        rejection: &Rejection,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Option<Extensions> {
        // No subscriber wants this level: skip the call sites altogether
        // (they check it again, and then their subscriber's interest; the
        // fields are evaluated only when the event is enabled).
        if self.level <= LevelFilter::current() {
            self.log(kind, rejection, method, path, headers);
        }
        if self.hook.is_none() && !self.extensions {
            return None;
        }
        let origin = request_origin(rejection, headers);
        if let Some(hook) = &self.hook {
            hook(&RejectionEvent {
                policy: self.name.as_deref(),
                kind,
                origin,
                rejection,
                method,
                path,
            });
        }
        self.extensions.then(|| {
            let mut ext = Extensions::new();
            ext.insert(CorsRejection {
                policy: self.name.clone(),
                kind,
                origin: origin.cloned(),
                rejection: rejection.clone(),
            });
            ext
        })
    }

    /// The `tracing` event of a rejection.
    fn log(&self, kind: RequestKind, rejection: &Rejection, method: &Method, path: &str, headers: &HeaderMap) {
        event_at!(
            self.level,
            policy = self.name.as_deref(),
            origin = request_origin(rejection, headers)
                .map(|o| String::from_utf8_lossy(o.as_bytes()))
                .as_deref(),
            reason = rejection.code(),
            detail = %rejection,
            kind = kind.as_str(),
            method = %method,
            path,
            "CORS request rejected"
        );
    }
}

/// The request's (first) `Origin`: the one a rejection of the origin
/// carries, else looked up.
fn request_origin<'a>(rejection: &'a Rejection, headers: &'a HeaderMap) -> Option<&'a HeaderValue> {
    match rejection {
        Rejection::OriginNotAllowed(o) => Some(o),
        _ => headers.get(header::ORIGIN),
    }
}
