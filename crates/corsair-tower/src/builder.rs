//! [`CorsLayerBuilder`]: the layer written the way tower-http's `CorsLayer`
//! is, validated once at [`build`](CorsLayerBuilder::build) (corsair never
//! panics on a bad configuration: it returns every problem).

use std::sync::Arc;

use corsair::cross_origin::CrossOriginProtection;
use corsair::{
    ConfigErrors, DynamicOrigins, IntoHeaderName, IntoMaxAge, IntoMethod, IntoOrigin, Policy, PolicyConfig, PolicyMode,
};
use tracing::Level;

use crate::reasons::RejectionEvent;
use crate::{CorsLayer, PolicyHandle};

/// `*`, for the list setters: `allow_origin(Any)`, `allow_methods(Any)`,
/// `allow_headers(Any)`, `expose_headers(Any)`, as with tower-http's `Any`.
/// The rules of `*` apply: [`build`](CorsLayerBuilder::build) refuses it for
/// origins, methods and exposed headers when credentials are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Any;

impl IntoIterator for Any {
    type Item = &'static str;
    type IntoIter = std::iter::Once<&'static str>;

    fn into_iter(self) -> Self::IntoIter {
        std::iter::once("*")
    }
}

/// Builds a [`CorsLayer`] with the method names of tower-http's
/// `CorsLayer`, from [`CorsLayer::builder`]. Nothing is allowed until
/// origins are; [`build`](Self::build) validates everything at once.
///
/// ```
/// use std::time::Duration;
/// use corsair_tower::CorsLayer;
/// use http::{header, Method};
///
/// let layer = CorsLayer::builder()
///     .allow_origin(["https://app.example.com"])
///     .allow_methods([Method::GET, Method::PUT])
///     .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
///     .expose_headers([header::ETAG])
///     .allow_credentials(true)
///     .max_age(Duration::from_secs(600))
///     .name("api")
///     .build()?;
/// assert!(layer.policy().allows_origin("https://app.example.com"));
///
/// // What tower-http would panic on (or allow), corsair refuses with reasons.
/// let errors = CorsLayer::builder()
///     .allow_origin(corsair_tower::Any)
///     .allow_credentials(true)
///     .build()
///     .unwrap_err();
/// assert_eq!(errors.iter().next().unwrap().code(), "wildcard_with_credentials");
/// # Ok::<(), corsair::ConfigErrors>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct CorsLayerBuilder {
    config: PolicyConfig,
    dynamic: Option<DynamicOrigins>,
    name: Option<Arc<str>>,
    level: Option<Level>,
    hook: Option<Hook>,
    extensions: Option<bool>,
    mode: PolicyMode,
    protect: Option<bool>,
    exempt: Vec<String>,
}

/// A cloneable rejection hook.
#[derive(Clone)]
struct Hook(Arc<dyn Fn(&RejectionEvent<'_>) + Send + Sync>);

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fn(&RejectionEvent)")
    }
}

impl CorsLayerBuilder {
    /// The allowed origins (exact origins, `https://*.example.com`,
    /// `http://localhost:*`, or [`Any`]). Replaces earlier ones.
    pub fn allow_origin<I>(mut self, origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoOrigin,
    {
        self.config = self.config.allow_origins(origins);
        self
    }

    /// Origins allowed at run time besides `allow_origin`'s (see
    /// [`DynamicOrigins`]).
    pub fn allow_origins_dynamic(mut self, origins: DynamicOrigins) -> Self {
        self.dynamic = Some(origins);
        self
    }

    /// The methods a preflight may ask for (`http::Method`s or strings, or
    /// [`Any`]).
    pub fn allow_methods<I>(mut self, methods: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoMethod,
    {
        self.config = self.config.allow_methods(methods);
        self
    }

    /// The request headers a preflight may ask for (`http::HeaderName`s or
    /// strings, or [`Any`]: any name a script can set but `Authorization`).
    pub fn allow_headers<I>(mut self, headers: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoHeaderName,
    {
        self.config = self.config.allow_headers(headers);
        self
    }

    /// The response headers scripts may read.
    pub fn expose_headers<I>(mut self, headers: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoHeaderName,
    {
        self.config = self.config.expose_headers(headers);
        self
    }

    /// Whether cookies and HTTP authentication may come along.
    pub fn allow_credentials(mut self, yes: bool) -> Self {
        self.config = self.config.allow_credentials(yes);
        self
    }

    /// How long a browser may cache a preflight's answer: a
    /// `std::time::Duration` or integer seconds, at most 86400.
    pub fn max_age(mut self, age: impl IntoMaxAge) -> Self {
        self.config = self.config.max_age(age);
        self
    }

    /// Answer `Access-Control-Allow-Private-Network: true` to allowed
    /// preflights that ask for it.
    pub fn allow_private_network(mut self, yes: bool) -> Self {
        self.config = self.config.allow_private_network(yes);
        self
    }

    /// Permit plain-`http` origins off loopback.
    pub fn allow_insecure_origins(mut self, yes: bool) -> Self {
        self.config = self.config.allow_insecure_origins(yes);
        self
    }

    /// Debug mode (see [`PolicyConfig::debug`](corsair::PolicyConfig)).
    pub fn debug(mut self, yes: bool) -> Self {
        self.config = self.config.debug(yes);
        self
    }

    /// Starts from a [`PolicyConfig`] (replaces every policy setting made so
    /// far).
    pub fn config(mut self, config: PolicyConfig) -> Self {
        self.config = config;
        self
    }

    /// See [`CorsLayer::named`].
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// See [`CorsLayer::rejection_level`].
    pub fn rejection_level(mut self, level: Level) -> Self {
        self.level = Some(level);
        self
    }

    /// See [`CorsLayer::on_rejection`].
    pub fn on_rejection<F>(mut self, hook: F) -> Self
    where
        F: Fn(&RejectionEvent<'_>) + Send + Sync + 'static,
    {
        self.hook = Some(Hook(Arc::new(hook)));
        self
    }

    /// See [`CorsLayer::rejection_extensions`].
    pub fn rejection_extensions(mut self, yes: bool) -> Self {
        self.extensions = Some(yes);
        self
    }

    /// Report-only mode (see [`CorsLayer::report_only`]).
    pub fn report_only(mut self, yes: bool) -> Self {
        self.mode = if yes {
            PolicyMode::ReportOnly
        } else {
            PolicyMode::Enforce
        };
        self
    }

    /// Cross-origin protection (CSRF): on by default; `false` turns it off
    /// (see [`CorsLayer::cross_origin_protection`]).
    pub fn protect_unsafe_requests(mut self, yes: bool) -> Self {
        self.protect = Some(yes);
        self
    }

    /// Exact paths that take unsafe requests from browsers of any origin (an
    /// OpenID Connect `form_post` callback); checked by
    /// [`build`](Self::build) (see [`CrossOriginProtection::exempt_paths`]).
    /// Adds to earlier ones.
    pub fn protect_unsafe_requests_exempt<I, S>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.exempt.extend(paths.into_iter().map(Into::into));
        self
    }

    /// Validates the policy and the exempt paths (every problem at once)
    /// and builds the layer.
    pub fn build(self) -> Result<CorsLayer, ConfigErrors> {
        let (policy, protection) = self.validate()?;
        Ok(self.options(CorsLayer::new(policy), protection))
    }

    /// [`build`](Self::build), for a layer whose policy the returned handle
    /// can replace (see [`CorsLayer::reloadable`]).
    pub fn build_reloadable(self) -> Result<(CorsLayer, PolicyHandle), ConfigErrors> {
        let (policy, protection) = self.validate()?;
        let (layer, handle) = CorsLayer::reloadable(policy);
        Ok((self.options(layer, protection), handle))
    }

    fn validate(&self) -> Result<(Policy, CrossOriginProtection), ConfigErrors> {
        let policy = match &self.dynamic {
            Some(d) => self.config.build_with_dynamic_origins(d),
            None => self.config.build(),
        };
        let base = if self.protect.unwrap_or(true) {
            CrossOriginProtection::new()
        } else {
            CrossOriginProtection::disabled()
        };
        match (policy, base.exempt_paths(&self.exempt)) {
            (Ok(policy), Ok(protection)) => Ok((policy, protection)),
            (Err(mut a), Err(b)) => {
                a.0.extend(b);
                Err(a)
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }

    fn options(self, mut layer: CorsLayer, protection: CrossOriginProtection) -> CorsLayer {
        layer = layer.cross_origin_protection(protection);
        if let Some(name) = self.name {
            layer = layer.named(name);
        }
        if let Some(level) = self.level {
            layer = layer.rejection_level(level);
        }
        if let Some(yes) = self.extensions {
            layer = layer.rejection_extensions(yes);
        }
        if let Some(Hook(hook)) = self.hook {
            layer = layer.on_rejection(move |e| hook(e));
        }
        layer.with_mode(self.mode)
    }
}

impl CorsLayer {
    /// A builder with tower-http's method names (see [`CorsLayerBuilder`]).
    pub fn builder() -> CorsLayerBuilder {
        CorsLayerBuilder::default()
    }
}
