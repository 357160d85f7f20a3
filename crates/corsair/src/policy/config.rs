//! [`PolicyConfig`]: a CORS policy as written by a user, plain data with
//! builder-style setters.

use super::{ConfigErrors, Policy};

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
    /// `Access-Control-Allow-Origin`, so the browser console names the cause.
    pub debug: bool,
}

macro_rules! list_setter {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub fn $name<I, S>(mut self, items: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            self.$name = items.into_iter().map(Into::into).collect();
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
        /// Sets `allow_origins`.
        allow_origins
    );
    list_setter!(
        /// Sets `allow_methods`.
        allow_methods
    );
    list_setter!(
        /// Sets `allow_headers`.
        allow_headers
    );
    list_setter!(
        /// Sets `expose_headers`.
        expose_headers
    );

    /// Sets `allow_credentials`.
    pub fn allow_credentials(mut self, yes: bool) -> Self {
        self.allow_credentials = yes;
        self
    }

    /// Sets `max_age` in seconds.
    pub fn max_age(mut self, seconds: i64) -> Self {
        self.max_age = Some(seconds);
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
        Policy::compile(self)
    }
}
