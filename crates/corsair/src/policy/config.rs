//! [`PolicyConfig`]: a CORS policy as written by a user, plain data with
//! builder-style setters.

use std::time::Duration;

use http::header::{HeaderName, HeaderValue};
use http::Method;

use super::{ConfigErrors, Policy};
use crate::DynamicOrigins;

/// A CORS policy as written by a user: plain data, validated by
/// [`PolicyConfig::build`].
///
/// With the `serde` feature this deserializes from the keys of a corsair
/// `[[policy]]` table (unknown keys are errors).
///
/// ```
/// use corsair::PolicyConfig;
///
/// let policy = PolicyConfig::new()
///     .allow_origins(["https://app.example.com", "https://*.admin.example.com"])
///     .allow_methods(["GET", "PUT", "DELETE"])
///     .allow_headers(["content-type", "x-request-id"])
///     .expose_headers(["x-request-id"])
///     .allow_credentials(true)
///     .max_age(600)
///     .build()
///     .expect("a sound policy");
/// assert!(policy.allows_origin("https://app.example.com"));
/// assert!(policy.allows_origin("https://eu.admin.example.com"));
/// assert!(!policy.allows_origin("https://admin.example.com"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct PolicyConfig {
    /// Allowed origins: exact `scheme://host[:port]`, `*`,
    /// `scheme://*.domain[:port]` (any subdomain), `:*` for any port.
    pub allow_origins: Vec<String>,
    /// Methods a preflight may ask for (case-sensitive after Fetch
    /// normalization; `GET`, `HEAD` and `POST` always pass; `*` = any,
    /// without credentials only).
    pub allow_methods: Vec<String>,
    /// Request headers a preflight may ask for (case-insensitive). `*` =
    /// any name a script can set but `Authorization` (list it too to allow
    /// it), with or without credentials: an allowed preflight's answer
    /// reflects the names it asked for, never a literal `*` (which browsers
    /// read as a header name when credentials are allowed).
    pub allow_headers: Vec<String>,
    /// Response headers scripts may read (`*` = all, without credentials only).
    pub expose_headers: Vec<String>,
    /// Whether cookies and HTTP authentication may come along.
    pub allow_credentials: bool,
    /// Seconds a browser may cache a preflight answer (0..=86400); unset
    /// leaves the header out (browsers then cache for 5 s).
    pub max_age: Option<i64>,
    /// Answer `Access-Control-Allow-Private-Network: true` to allowed
    /// preflights that ask for it (Private Network Access).
    pub allow_private_network: bool,
    /// Permit origins that are not potentially trustworthy (plain `http`
    /// on a non-loopback host). Off by default.
    pub allow_insecure_origins: bool,
    /// Debug mode: a preflight rejected for its method or headers still gets
    /// `Access-Control-Allow-Origin` (and, for a header rejection, the method,
    /// which passed), so the browser console names the cause.
    pub debug: bool,
}

macro_rules! list_setter {
    ($(#[$doc:meta])* $name:ident, $item:ident, $into:ident) => {
        $(#[$doc])*
        pub fn $name<I>(mut self, items: I) -> Self
        where
            I: IntoIterator,
            I::Item: $item,
        {
            self.$name = items.into_iter().map($item::$into).collect();
            self
        }
    };
}

impl PolicyConfig {
    /// An empty configuration (which allows nothing until origins are added).
    pub fn new() -> Self {
        Self::default()
    }

    list_setter!(
        /// Sets `allow_origins`: strings (`&str`, `String`) or
        /// [`http::HeaderValue`]s, each validated by [`PolicyConfig::build`].
        allow_origins,
        IntoOrigin,
        into_origin
    );
    list_setter!(
        /// Sets `allow_methods`: strings or [`http::Method`]s.
        ///
        /// ```
        /// use corsair::PolicyConfig;
        /// use http::Method;
        ///
        /// let a = PolicyConfig::new().allow_methods([Method::PUT, Method::DELETE]);
        /// let b = PolicyConfig::new().allow_methods(["PUT", "DELETE"]);
        /// assert_eq!(a, b);
        /// ```
        allow_methods,
        IntoMethod,
        into_method
    );
    list_setter!(
        /// Sets `allow_headers`: strings or [`http::HeaderName`]s.
        ///
        /// ```
        /// use corsair::PolicyConfig;
        /// use http::header::{HeaderName, CONTENT_TYPE};
        ///
        /// let a = PolicyConfig::new().allow_headers([CONTENT_TYPE, HeaderName::from_static("x-request-id")]);
        /// let b = PolicyConfig::new().allow_headers(["content-type", "x-request-id"]);
        /// assert_eq!(a, b);
        /// ```
        allow_headers,
        IntoHeaderName,
        into_header_name
    );
    list_setter!(
        /// Sets `expose_headers`: strings or [`http::HeaderName`]s.
        expose_headers,
        IntoHeaderName,
        into_header_name
    );

    /// Sets `allow_credentials`.
    pub fn allow_credentials(mut self, yes: bool) -> Self {
        self.allow_credentials = yes;
        self
    }

    /// Sets `max_age`: seconds as an integer, or a [`Duration`] (whole
    /// seconds; a fraction is dropped, as browsers read whole seconds).
    /// Out-of-range values are refused by [`PolicyConfig::build`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use corsair::PolicyConfig;
    ///
    /// assert_eq!(PolicyConfig::new().max_age(Duration::from_secs(600)).max_age, Some(600));
    /// assert_eq!(PolicyConfig::new().max_age(600).max_age, Some(600));
    /// assert_eq!(PolicyConfig::new().max_age(600u64).max_age, Some(600));
    /// ```
    pub fn max_age(mut self, age: impl IntoMaxAge) -> Self {
        self.max_age = Some(age.into_seconds());
        self
    }

    /// Sets `allow_private_network`.
    pub fn allow_private_network(mut self, yes: bool) -> Self {
        self.allow_private_network = yes;
        self
    }

    /// Sets `allow_insecure_origins`.
    pub fn allow_insecure_origins(mut self, yes: bool) -> Self {
        self.allow_insecure_origins = yes;
        self
    }

    /// Sets `debug`.
    pub fn debug(mut self, yes: bool) -> Self {
        self.debug = yes;
        self
    }

    /// Validates the configuration and compiles it into a [`Policy`].
    ///
    /// Every problem is reported, not just the first, each naming the key,
    /// the offending value and what is wrong.
    ///
    /// ```
    /// use corsair::PolicyConfig;
    ///
    /// let errors = PolicyConfig::new()
    ///     .allow_origins(["*", "https://example.com/"])
    ///     .allow_credentials(true)
    ///     .build()
    ///     .unwrap_err();
    /// let keys: Vec<_> = errors.iter().map(|e| e.key.as_str()).collect();
    /// assert!(keys.contains(&"allow_origins[0]")); // `*` with credentials
    /// assert!(keys.contains(&"allow_origins[1]")); // trailing slash
    /// ```
    pub fn build(&self) -> Result<Policy, ConfigErrors> {
        Policy::compile(self, None)
    }

    /// [`build`](Self::build), for a policy that also allows, at each
    /// request, the origins `origins` holds at that moment (see
    /// [`DynamicOrigins`]). `allow_origins` may then be empty (and cannot be
    /// `*`); a set made with [`DynamicOrigins::allowing_insecure_origins`]
    /// needs `allow_insecure_origins = true`.
    ///
    /// ```
    /// use corsair::{DynamicOrigins, PolicyConfig};
    ///
    /// let tenants = DynamicOrigins::new();
    /// let policy = PolicyConfig::new()
    ///     .allow_origins(["https://admin.example.com"])
    ///     .build_with_dynamic_origins(&tenants)?;
    /// tenants.insert("https://app.tenant.example")?;
    /// assert!(policy.allows_origin("https://admin.example.com"));
    /// assert!(policy.allows_origin("https://app.tenant.example"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build_with_dynamic_origins(&self, origins: &DynamicOrigins) -> Result<Policy, ConfigErrors> {
        Policy::compile(self, Some(origins))
    }
}

/// An entry of [`PolicyConfig::allow_origins`]: `&str`, `String` or an
/// [`HeaderValue`] (as tower-http's `AllowOrigin::exact` takes). A value
/// that is not text becomes a string that validation refuses.
pub trait IntoOrigin {
    /// The origin as written.
    fn into_origin(self) -> String;
}

/// An entry of [`PolicyConfig::allow_methods`]: `&str`, `String` or an
/// [`http::Method`].
pub trait IntoMethod {
    /// The method as written.
    fn into_method(self) -> String;
}

/// An entry of [`PolicyConfig::allow_headers`] or
/// [`PolicyConfig::expose_headers`]: `&str`, `String` or an
/// [`http::HeaderName`].
pub trait IntoHeaderName {
    /// The header name as written.
    fn into_header_name(self) -> String;
}

/// A [`PolicyConfig::max_age`]: integer seconds or a [`Duration`].
pub trait IntoMaxAge {
    /// Whole seconds (saturating at `i64::MAX`, which validation refuses).
    fn into_seconds(self) -> i64;
}

macro_rules! string_impls {
    ($trait:ident, $method:ident) => {
        impl $trait for &str {
            fn $method(self) -> String {
                self.to_owned()
            }
        }
        impl $trait for String {
            fn $method(self) -> String {
                self
            }
        }
        impl $trait for &String {
            fn $method(self) -> String {
                self.clone()
            }
        }
    };
}

string_impls!(IntoOrigin, into_origin);
string_impls!(IntoMethod, into_method);
string_impls!(IntoHeaderName, into_header_name);

impl IntoOrigin for HeaderValue {
    fn into_origin(self) -> String {
        (&self).into_origin()
    }
}

impl IntoOrigin for &HeaderValue {
    fn into_origin(self) -> String {
        String::from_utf8_lossy(self.as_bytes()).into_owned()
    }
}

impl IntoMethod for Method {
    fn into_method(self) -> String {
        self.as_str().to_owned()
    }
}

impl IntoMethod for &Method {
    fn into_method(self) -> String {
        self.as_str().to_owned()
    }
}

impl IntoHeaderName for HeaderName {
    fn into_header_name(self) -> String {
        self.as_str().to_owned()
    }
}

impl IntoHeaderName for &HeaderName {
    fn into_header_name(self) -> String {
        self.as_str().to_owned()
    }
}

macro_rules! int_max_age {
    ($($t:ty),*) => {$(
        impl IntoMaxAge for $t {
            fn into_seconds(self) -> i64 {
                i64::try_from(self).unwrap_or(i64::MAX)
            }
        }
    )*};
}

int_max_age!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl IntoMaxAge for Duration {
    fn into_seconds(self) -> i64 {
        i64::try_from(self.as_secs()).unwrap_or(i64::MAX)
    }
}
