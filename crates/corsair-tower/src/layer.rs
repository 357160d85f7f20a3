//! [`CorsLayer`]: the policy (fixed or reloadable), the mode (enforce or
//! report only) and what to do with rejections, shared by every service the
//! layer wraps.

use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::{ArcSwap, Guard};
use corsair::cross_origin::CrossOriginProtection;
use corsair::shadow::ShadowReport;
use corsair::{Policy, PolicyMode};
use tower_layer::Layer;
use tracing::Level;

use crate::reasons::{Reasons, RejectionEvent};
use crate::reload::PolicyHandle;
use crate::service::Cors;

/// A [`Layer`] that wraps services in [`Cors`].
///
/// Clones share everything: the policy (and its reloads), the options and
/// the report-only [`report`](Self::report).
#[derive(Debug, Clone)]
pub struct CorsLayer {
    pub(crate) shared: Arc<Shared>,
}

/// Where the policy comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    Fixed(Arc<Policy>),
    Reloadable(Arc<ArcSwap<Policy>>),
}

/// The policy of one request: borrowed from a fixed layer, or loaded from a
/// reloadable one (lock-free).
pub(crate) enum Loaded<'a> {
    Fixed(&'a Arc<Policy>),
    Swapped(Guard<Arc<Policy>>),
}

impl Deref for Loaded<'_> {
    type Target = Arc<Policy>;

    #[inline]
    fn deref(&self) -> &Arc<Policy> {
        match self {
            Self::Fixed(p) => p,
            Self::Swapped(g) => g,
        }
    }
}

impl Source {
    #[inline]
    pub(crate) fn load(&self) -> Loaded<'_> {
        match self {
            Self::Fixed(p) => Loaded::Fixed(p),
            Self::Reloadable(s) => Loaded::Swapped(s.load()),
        }
    }
}

/// Everything the services of one layer share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) source: Source,
    /// The policy when it is fixed and enforced (the usual layer): the
    /// request path's shortcut.
    pub(crate) enforced: Option<Arc<Policy>>,
    pub(crate) report_only: bool,
    /// Cross-origin protection (on by default).
    pub(crate) protection: CrossOriginProtection,
    pub(crate) reasons: Reasons,
    /// Report-only mode's disagreements.
    pub(crate) report: Mutex<ShadowReport>,
}

impl Shared {
    fn new(source: Source) -> Self {
        let mut s = Self {
            source,
            enforced: None,
            report_only: false,
            protection: CrossOriginProtection::new(),
            reasons: Reasons::default(),
            report: Mutex::new(ShadowReport::new()),
        };
        s.refresh();
        s
    }

    /// Recomputes the shortcut after a change of mode.
    fn refresh(&mut self) {
        self.enforced = match &self.source {
            Source::Fixed(p) if !self.report_only => Some(p.clone()),
            _ => None,
        };
    }
}

impl CorsLayer {
    /// A layer enforcing `policy`.
    pub fn new(policy: Policy) -> Self {
        Self::from_shared(Arc::new(policy))
    }

    /// A layer enforcing a shared policy.
    pub fn from_shared(policy: Arc<Policy>) -> Self {
        Self::with_source(Source::Fixed(policy))
    }

    pub(crate) fn with_source(source: Source) -> Self {
        Self {
            shared: Arc::new(Shared::new(source)),
        }
    }

    /// A layer in report-only (shadow) mode: `policy` decides every request
    /// as usual, but the response is exactly what the inner service gives
    /// (preflights go to it, its own `Access-Control-*` headers are left
    /// alone, nothing is added). Where the policy and the service disagree,
    /// as a browser would judge them (see [`corsair::shadow`]), the
    /// disagreement is logged (target `corsair`, at the
    /// [`rejection_level`](Self::rejection_level)) and recorded in the
    /// layer's [`report`](Self::report).
    ///
    /// The rollout: run the strict policy in report-only mode for a while,
    /// read the report, fix the policy (or the clients), then switch to
    /// [`CorsLayer::new`].
    ///
    /// ```
    /// use corsair::PolicyConfig;
    /// use corsair::shadow::ShadowVerdict;
    /// use corsair_tower::CorsLayer;
    /// use http::{Request, Response};
    /// use tower::{service_fn, Layer, ServiceExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // Today's service reflects any origin, with credentials.
    /// let service = service_fn(|req: Request<String>| async move {
    ///     let mut resp = Response::new(String::from("data"));
    ///     if let Some(o) = req.headers().get("origin") {
    ///         resp.headers_mut().insert("access-control-allow-origin", o.clone());
    ///         resp.headers_mut().insert("access-control-allow-credentials", "true".parse().unwrap());
    ///     }
    ///     Ok::<_, std::convert::Infallible>(resp)
    /// });
    /// let strict = PolicyConfig::new()
    ///     .allow_origins(["https://app.example.com"])
    ///     .allow_credentials(true)
    ///     .build()?;
    /// let layer = CorsLayer::report_only(strict).named("api");
    /// let svc = layer.layer(service);
    ///
    /// let req = Request::get("/me")
    ///     .header("origin", "https://partner.example")
    ///     .header("cookie", "session=1")
    ///     .body(String::new())?;
    /// let resp = svc.oneshot(req).await?;
    /// // Untouched: the service's own answer.
    /// assert_eq!(resp.headers()["access-control-allow-origin"], "https://partner.example");
    ///
    /// let report = layer.report().unwrap();
    /// let e = &report.entries()[0];
    /// assert_eq!((e.verdict, e.reason), (ShadowVerdict::WouldReject, "origin_not_allowed"));
    /// assert_eq!((e.policy.as_str(), e.origin.as_str()), ("api", "https://partner.example"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn report_only(policy: Policy) -> Self {
        Self::new(policy).with_mode(PolicyMode::ReportOnly)
    }

    /// A layer whose policy can be replaced while it serves: each request
    /// is decided by the policy current when it arrives (read lock-free), and
    /// answered by that same policy. Replace it with the returned handle.
    ///
    /// ```
    /// use corsair::PolicyConfig;
    /// use corsair_tower::CorsLayer;
    ///
    /// let (layer, handle) = CorsLayer::reloadable(
    ///     PolicyConfig::new().allow_origins(["https://a.example"]).build()?,
    /// );
    /// assert!(layer.policy().allows_origin("https://a.example"));
    ///
    /// handle.replace(PolicyConfig::new().allow_origins(["https://b.example"]).build()?);
    /// assert!(layer.policy().allows_origin("https://b.example"));
    ///
    /// // An invalid configuration leaves the current policy in place.
    /// let bad = PolicyConfig::new().allow_origins(["https://c.example/"]);
    /// assert!(handle.reconfigure(&bad).is_err());
    /// assert!(layer.policy().allows_origin("https://b.example"));
    /// # Ok::<(), corsair::ConfigErrors>(())
    /// ```
    pub fn reloadable(policy: Policy) -> (Self, PolicyHandle) {
        let swap = Arc::new(ArcSwap::from_pointee(policy));
        (
            Self::with_source(Source::Reloadable(swap.clone())),
            PolicyHandle::new(swap),
        )
    }

    /// Changes this layer's options. Clones made earlier keep the old ones
    /// (and their own report).
    fn edit(mut self, f: impl FnOnce(&mut Shared)) -> Self {
        match Arc::get_mut(&mut self.shared) {
            Some(shared) => {
                f(shared);
                shared.refresh();
            }
            None => {
                let mut shared = Shared::new(self.shared.source.clone());
                shared.report_only = self.shared.report_only;
                shared.protection = self.shared.protection.clone();
                shared.reasons = self.shared.reasons.clone();
                f(&mut shared);
                shared.refresh();
                self.shared = Arc::new(shared);
            }
        }
        self
    }

    /// Names the layer's policy: the `policy` field of its log events, its
    /// [`RejectionEvent`]s and [`CorsRejection`](crate::CorsRejection)s, and
    /// the policy of its report's entries.
    pub fn named(self, name: impl Into<Arc<str>>) -> Self {
        let name = name.into();
        self.edit(|s| s.reasons.name = Some(name))
    }

    /// The level of the `tracing` events (target `corsair`) for rejections
    /// and report-only disagreements. Default `DEBUG`, so a quiet service
    /// stays quiet; nothing is formatted when the level is disabled.
    ///
    /// Each event has the fields `policy` (the layer's name, if any),
    /// `origin`, `reason` ([`Rejection::code`](corsair::Rejection::code)),
    /// `detail` (the same in words), `kind` (`preflight` or `actual`),
    /// `method` and `path`; disagreements also have `verdict`.
    pub fn rejection_level(self, level: Level) -> Self {
        self.edit(|s| s.reasons.level = level)
    }

    /// Calls `hook` for every rejection (after the log event, before the
    /// response is built), to count or log it the app's own way. It runs on
    /// the request path: keep it short.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use corsair::PolicyConfig;
    /// use corsair_tower::CorsLayer;
    /// use http::{Request, Response};
    /// use tower::{service_fn, Layer, ServiceExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let refused = Arc::new(AtomicUsize::new(0));
    /// let counter = refused.clone();
    /// let policy = PolicyConfig::new().allow_origins(["https://app.example.com"]).build()?;
    /// let layer = CorsLayer::new(policy).on_rejection(move |e| {
    ///     assert_eq!(e.rejection.code(), "origin_not_allowed");
    ///     counter.fetch_add(1, Ordering::Relaxed);
    /// });
    /// let svc = layer.layer(service_fn(|_req: Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(Response::new(String::new()))
    /// }));
    /// let req = Request::get("/").header("origin", "https://evil.example").body(String::new())?;
    /// svc.oneshot(req).await?;
    /// assert_eq!(refused.load(Ordering::Relaxed), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn on_rejection<F>(self, hook: F) -> Self
    where
        F: Fn(&RejectionEvent<'_>) + Send + Sync + 'static,
    {
        let hook = Arc::new(hook);
        self.edit(|s| s.reasons.hook = Some(hook))
    }

    /// Cross-origin protection (CSRF) for this layer: on by default
    /// ([`CrossOriginProtection::new`]). An unsafe request (any method but
    /// `GET`, `HEAD` and `OPTIONS`) that a browser sends for a page of an
    /// origin the policy does not allow (a cross-site `<form method=post>`,
    /// a `fetch(…, {mode: "no-cors"})` POST, which CORS lets through because
    /// the page never reads the answer) is answered `403` (empty body, no
    /// CORS headers) and never reaches the service. The trusted origins are
    /// the policy's `allow_origins`; a request with neither `Sec-Fetch-Site`
    /// nor `Origin` (not a browser) always passes; a request without
    /// `Sec-Fetch-Site` passes when its `Origin` names the request's own
    /// authority (the URI's, else its one `Host`). See
    /// [`corsair::cross_origin`] for the algorithm.
    ///
    /// [`CrossOriginProtection::disabled`] turns it off;
    /// [`CrossOriginProtection::exempt_paths`] lets endpoints that receive
    /// cross-site POSTs by design (an OpenID Connect `form_post` callback)
    /// take them. Paths are compared with the request's path as it arrives:
    /// a layer has no canonical form, so a path spelled otherwise than an
    /// exempt one is protected.
    ///
    /// ```
    /// use corsair::cross_origin::CrossOriginProtection;
    /// use corsair::PolicyConfig;
    /// use corsair_tower::CorsLayer;
    ///
    /// let policy = PolicyConfig::new().allow_origins(["https://app.example.com"]).build()?;
    /// let layer = CorsLayer::new(policy)
    ///     .cross_origin_protection(CrossOriginProtection::new().exempt_paths(["/oauth/callback"])?);
    /// assert!(layer.protection().is_exempt("/oauth/callback"));
    /// # Ok::<(), corsair::ConfigErrors>(())
    /// ```
    pub fn cross_origin_protection(self, protection: CrossOriginProtection) -> Self {
        self.edit(|s| s.protection = protection)
    }

    /// The layer's cross-origin protection.
    pub fn protection(&self) -> &CrossOriginProtection {
        &self.shared.protection
    }

    /// Calls `hook` for every request cross-origin protection refuses (after
    /// the log event, before the `403` is returned). In report-only mode
    /// nothing is refused: a request it would refuse is a disagreement in the
    /// [`report`](Self::report) instead.
    pub fn on_cross_origin_refusal<F>(self, hook: F) -> Self
    where
        F: Fn(&crate::CrossOriginRefusal) + Send + Sync + 'static,
    {
        let hook = Arc::new(hook);
        self.edit(|s| s.reasons.refusal_hook = Some(hook))
    }

    /// Whether the responses to rejected requests carry a
    /// [`CorsRejection`](crate::CorsRejection) in their extensions (on by
    /// default). Putting it there costs a few allocations per rejected
    /// request; turn it off when nothing reads it.
    pub fn rejection_extensions(self, yes: bool) -> Self {
        self.edit(|s| s.reasons.extensions = yes)
    }

    /// The same layer in `mode`: enforce (the default) or report only (see
    /// [`CorsLayer::report_only`]).
    pub fn with_mode(self, mode: PolicyMode) -> Self {
        self.edit(|s| s.report_only = mode == PolicyMode::ReportOnly)
    }

    /// The mode.
    pub fn mode(&self) -> PolicyMode {
        if self.shared.report_only {
            PolicyMode::ReportOnly
        } else {
            PolicyMode::Enforce
        }
    }

    /// The layer's name.
    pub fn name(&self) -> Option<&str> {
        self.shared.reasons.name.as_deref()
    }

    /// The policy (for a reloadable layer, the current one).
    pub fn policy(&self) -> Arc<Policy> {
        Arc::clone(&self.shared.source.load())
    }

    /// A snapshot of the report-only disagreements recorded so far (`None`
    /// for a layer that enforces). Its entries' policy is the layer's
    /// [name](Self::named), empty when unnamed.
    pub fn report(&self) -> Option<ShadowReport> {
        self.shared.report_only.then(|| {
            self.shared
                .report
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        })
    }

    /// Forgets the recorded disagreements.
    pub fn clear_report(&self) {
        self.shared
            .report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Cors::new(inner, self.shared.clone())
    }
}
