//! The policy model: a plain configuration ([`PolicyConfig`]) and its
//! validated, precompiled form ([`Policy`]).

use std::collections::HashSet;
use std::fmt;

use http::{HeaderMap, HeaderValue};

use crate::fetch::{
    is_cors_non_wildcard_request_header_name, is_forbidden_method, is_forbidden_request_header_name,
    is_forbidden_response_header_name, is_header_name, is_method, normalize_method,
};
use crate::nameset::NameSet;
use crate::origin::{OriginMatcher, OriginPattern};

/// The longest header name a policy may list (and that a preflight may ask
/// for by name). Browsers have no such limit, but no real header comes close.
pub(crate) const MAX_HEADER_NAME: usize = 128;

/// The largest `max_age`: browsers cap it lower (Chromium 7200 s), and
/// Firefox's cap of 86400 s is the highest any browser honours.
pub const MAX_AGE_LIMIT: i64 = 86_400;

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
    /// Request headers a preflight may ask for (case-insensitive; `*` = any
    /// but `Authorization`, without credentials only).
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

/// One problem in a policy configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key, e.g. `allow_origins[2]` or `max_age`.
    pub key: String,
    /// The offending value as written, when there is one.
    pub value: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "`{}` = {:?}: {}", self.key, v, self.message),
            None => write!(f, "`{}`: {}", self.key, self.message),
        }
    }
}

/// Every problem found in a policy configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// Iterates over the problems.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    /// The number of problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no problem.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn push(&mut self, key: impl Into<String>, value: Option<&str>, message: impl Into<String>) {
        self.0.push(ConfigError {
            key: key.into(),
            value: value.map(str::to_owned),
            message: message.into(),
        });
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A validated, immutable CORS policy with every response header value
/// precomputed. Build one with [`PolicyConfig::build`], share it (it is
/// `Send + Sync`; wrap it in an `Arc`), and ask it for decisions with
/// [`Policy::evaluate`].
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) origins: OriginMatcher,
    pub(crate) credentials: bool,
    pub(crate) any_method: bool,
    pub(crate) methods: NameSet,
    pub(crate) any_header: bool,
    pub(crate) headers: NameSet,
    pub(crate) authorization_listed: bool,
    pub(crate) expose: Option<HeaderValue>,
    pub(crate) max_age: Option<HeaderValue>,
    pub(crate) private_network: bool,
    pub(crate) debug: bool,
    pub(crate) preflight_vary: HeaderValue,
    /// The configured methods, for debug-mode answers to method rejections.
    pub(crate) listed_methods: HeaderValue,
    /// The answers to accepted preflights, see `Policy::preflight_templates`.
    pub(crate) preflight_ok: [HeaderMap; 4],
    config: PolicyConfig,
}

impl Policy {
    /// Whether this policy answers `Access-Control-Allow-Origin: *` (a public
    /// resource), in which case its headers do not depend on `Origin`.
    pub fn is_public(&self) -> bool {
        self.origins.any
    }

    /// Whether credentials are allowed.
    pub fn allows_credentials(&self) -> bool {
        self.credentials
    }

    /// Whether debug mode is on.
    pub fn is_debug(&self) -> bool {
        self.debug
    }

    /// Whether the policy allows this origin (its exact serialization).
    /// A public (`*`) policy allows every origin, `null` included (its
    /// answer is the same `*` for every request); any other policy never
    /// allows `null`.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origins.any || (origin != "null" && self.origins.matches(origin))
    }

    /// The configuration this policy was built from (normalized: methods
    /// uppercased where Fetch uppercases them).
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// The number of exact origins and patterns (excluding `*`).
    pub fn origin_count(&self) -> usize {
        self.origins.len()
    }

    fn compile(c: &PolicyConfig) -> Result<Self, ConfigErrors> {
        let mut errs = ConfigErrors::default();
        let creds = c.allow_credentials;
        let mut normalized = c.clone();

        // Origins.
        let mut origins = OriginMatcher::default();
        let mut seen = HashSet::new();
        if c.allow_origins.is_empty() {
            errs.push(
                "allow_origins",
                None,
                "no origin listed: the policy would allow nothing; list exact origins such as `https://app.example.com`",
            );
        }
        for (i, raw) in c.allow_origins.iter().enumerate() {
            let key = format!("allow_origins[{i}]");
            let pattern = match OriginPattern::parse(raw) {
                Ok(p) => p,
                Err(e) => {
                    errs.push(key, Some(raw), e.0);
                    continue;
                }
            };
            if !seen.insert(raw.as_str()) {
                errs.push(key, Some(raw), "listed twice");
                continue;
            }
            if pattern == OriginPattern::Any {
                if creds {
                    errs.push(
                        key,
                        Some(raw),
                        "`*` cannot be used with allow_credentials = true: any site could read \
                         responses with the user's cookies; list the trusted origins instead",
                    );
                    continue;
                }
                if c.allow_origins.len() > 1 {
                    errs.push(
                        key,
                        Some(raw),
                        "`*` already allows every origin; remove the other entries or remove `*`",
                    );
                    continue;
                }
            } else if !c.allow_insecure_origins && !pattern.is_potentially_trustworthy() {
                errs.push(
                    key,
                    Some(raw),
                    "not potentially trustworthy: plain http on a non-loopback host can be spoofed by \
                     anyone on the network path; use https, or set allow_insecure_origins = true",
                );
                continue;
            }
            origins.insert(&pattern);
        }

        // Methods.
        let mut methods = NameSet::default();
        let mut any_method = false;
        normalized.allow_methods.clear();
        for (i, raw) in c.allow_methods.iter().enumerate() {
            let key = format!("allow_methods[{i}]");
            if raw == "*" {
                if creds {
                    errs.push(
                        key,
                        Some(raw),
                        "`*` is taken literally by browsers when credentials are allowed; list the methods",
                    );
                } else {
                    any_method = true;
                    normalized.allow_methods.push(raw.clone());
                }
                continue;
            }
            if !is_method(raw) {
                errs.push(key, Some(raw), "not a method name (an HTTP token such as `PUT`)");
                continue;
            }
            if is_forbidden_method(raw) {
                errs.push(
                    key,
                    Some(raw),
                    "browsers never send CONNECT, TRACE or TRACK from scripts; remove it",
                );
                continue;
            }
            let m = normalize_method(raw).to_owned();
            if !methods.insert(m.as_str()) {
                errs.push(key, Some(raw), format!("`{m}` is listed twice (after normalization)"));
                continue;
            }
            normalized.allow_methods.push(m);
        }

        // Request headers.
        let mut headers = NameSet::default();
        let mut any_header = false;
        let mut authorization_listed = false;
        for (i, raw) in c.allow_headers.iter().enumerate() {
            let key = format!("allow_headers[{i}]");
            if raw == "*" {
                if creds {
                    errs.push(
                        key,
                        Some(raw),
                        "`*` is taken literally by browsers when credentials are allowed; list the headers",
                    );
                } else {
                    any_header = true;
                }
                continue;
            }
            if !is_header_name(raw) || raw.len() > MAX_HEADER_NAME {
                errs.push(key, Some(raw), "not a header name (an HTTP token of at most 128 bytes)");
                continue;
            }
            let lower = raw.to_ascii_lowercase();
            if lower.starts_with("access-control-") {
                errs.push(
                    key,
                    Some(raw),
                    "`Access-Control-*` are CORS protocol headers, not request headers a script sends",
                );
                continue;
            }
            if is_forbidden_request_header_name(&lower) {
                errs.push(
                    key,
                    Some(raw),
                    "a forbidden request-header name: browsers never let scripts set it, so allowing it does nothing",
                );
                continue;
            }
            if is_cors_non_wildcard_request_header_name(raw) {
                authorization_listed = true;
            }
            if !headers.insert(lower.as_str()) {
                errs.push(key, Some(raw), "listed twice (header names are case-insensitive)");
            }
        }

        // Exposed headers.
        let mut expose = Vec::new();
        let mut expose_seen = HashSet::new();
        for (i, raw) in c.expose_headers.iter().enumerate() {
            let key = format!("expose_headers[{i}]");
            if raw == "*" {
                if creds {
                    errs.push(
                        key,
                        Some(raw),
                        "`*` is taken literally by browsers when credentials are allowed; list the headers",
                    );
                    continue;
                }
            } else if !is_header_name(raw) {
                errs.push(key, Some(raw), "not a header name (an HTTP token)");
                continue;
            } else if is_forbidden_response_header_name(raw) {
                errs.push(key, Some(raw), "browsers never expose Set-Cookie to scripts; remove it");
                continue;
            }
            if !expose_seen.insert(raw.to_ascii_lowercase()) {
                errs.push(key, Some(raw), "listed twice (header names are case-insensitive)");
                continue;
            }
            expose.push(raw.as_str());
        }

        // Max age.
        let max_age = match c.max_age {
            None => None,
            Some(n) if (0..=MAX_AGE_LIMIT).contains(&n) => Some(HeaderValue::from(n)),
            Some(n) => {
                errs.push(
                    "max_age",
                    Some(&n.to_string()),
                    format!(
                        "must be between 0 and {MAX_AGE_LIMIT} seconds (0 disables preflight caching; \
                         leave it unset to omit the header)"
                    ),
                );
                None
            }
        };

        if !errs.is_empty() {
            return Err(errs);
        }
        let expose = if expose.is_empty() {
            None
        } else {
            HeaderValue::from_str(&expose.join(", ")).ok()
        };
        let preflight_vary = HeaderValue::from_static(if c.allow_private_network {
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
        } else {
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        });
        let listed_methods = HeaderValue::from_str(&normalized.allow_methods.join(", "))
            .unwrap_or_else(|_| HeaderValue::from_static(""));
        let mut policy = Self {
            listed_methods,
            origins,
            credentials: creds,
            any_method,
            methods,
            any_header,
            headers,
            authorization_listed,
            expose,
            max_age,
            private_network: c.allow_private_network,
            debug: c.debug,
            preflight_vary,
            preflight_ok: Default::default(),
            config: normalized,
        };
        policy.preflight_ok = policy.preflight_templates();
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(c: PolicyConfig) -> Vec<(String, String)> {
        c.build().unwrap_err().into_iter().map(|e| (e.key, e.message)).collect()
    }

    fn keys(c: PolicyConfig) -> Vec<String> {
        errors(c).into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn sound_policies_build() {
        let p = PolicyConfig::new()
            .allow_origins(["https://a.example.com", "http://localhost:*", "https://*.example.org"])
            .allow_methods(["get", "PUT", "PATCH", "purge"])
            .allow_headers(["Content-Type", "Authorization"])
            .expose_headers(["X-Request-Id"])
            .allow_credentials(true)
            .max_age(0)
            .build()
            .unwrap();
        assert_eq!(p.config().allow_methods, ["GET", "PUT", "PATCH", "purge"]);
        assert!(p.authorization_listed);
        assert_eq!(p.max_age.as_ref().unwrap(), "0");
        assert_eq!(p.origin_count(), 3);
    }

    #[test]
    fn all_errors_are_collected_with_keys() {
        let k = keys(
            PolicyConfig::new()
                .allow_origins(["*", "https://ok.example.com", "https://x.com/"])
                .allow_methods(["CONNECT", "GET POST", "*"])
                .allow_headers(["cookie", "*", "sec-fetch-mode", "x ok"])
                .expose_headers(["*", "set-cookie"])
                .allow_credentials(true)
                .max_age(86_401),
        );
        for want in [
            "allow_origins[0]",
            "allow_origins[2]",
            "allow_methods[0]",
            "allow_methods[1]",
            "allow_methods[2]",
            "allow_headers[0]",
            "allow_headers[1]",
            "allow_headers[2]",
            "allow_headers[3]",
            "expose_headers[0]",
            "expose_headers[1]",
            "max_age",
        ] {
            assert!(k.iter().any(|x| x == want), "missing {want} in {k:?}");
        }
    }

    #[test]
    fn empty_origins_are_refused() {
        assert_eq!(keys(PolicyConfig::new()), ["allow_origins"]);
    }

    #[test]
    fn wildcard_is_alone_and_never_with_credentials() {
        assert!(PolicyConfig::new().allow_origins(["*"]).build().is_ok());
        assert_eq!(
            keys(PolicyConfig::new().allow_origins(["*"]).allow_credentials(true)),
            ["allow_origins[0]"]
        );
        assert_eq!(
            keys(PolicyConfig::new().allow_origins(["*", "https://a.com"])),
            ["allow_origins[0]"]
        );
    }

    #[test]
    fn insecure_origins_need_the_opt_in() {
        let c = PolicyConfig::new().allow_origins(["http://example.com", "http://*.example.net"]);
        assert_eq!(keys(c.clone()), ["allow_origins[0]", "allow_origins[1]"]);
        assert!(c.allow_insecure_origins(true).build().is_ok());
        assert!(PolicyConfig::new()
            .allow_origins(["http://127.0.0.1:8080", "http://[::1]:*", "http://dev.localhost"])
            .build()
            .is_ok());
    }

    #[test]
    fn public_suffix_patterns_are_refused_even_with_the_opt_in() {
        for p in [
            "https://*.github.io",
            "https://*.com",
            "https://*.co.uk",
            "https://*.herokuapp.com",
        ] {
            assert_eq!(
                keys(PolicyConfig::new().allow_origins([p]).allow_insecure_origins(true)),
                ["allow_origins[0]"],
                "{p}"
            );
        }
        assert!(PolicyConfig::new()
            .allow_origins(["https://*.example.co.uk"])
            .build()
            .is_ok());
        assert!(PolicyConfig::new()
            .allow_origins(["http://*.localhost:*"])
            .build()
            .is_ok());
    }

    #[test]
    fn max_age_bounds() {
        assert!(PolicyConfig::new().allow_origins(["*"]).max_age(86_400).build().is_ok());
        assert_eq!(keys(PolicyConfig::new().allow_origins(["*"]).max_age(-1)), ["max_age"]);
    }

    #[test]
    fn header_wildcard_rules() {
        assert!(PolicyConfig::new()
            .allow_origins(["*"])
            .allow_headers(["*"])
            .build()
            .is_ok());
        assert!(PolicyConfig::new()
            .allow_origins(["https://a.com"])
            .allow_headers(["*", "authorization"])
            .expose_headers(["*"])
            .build()
            .is_ok());
        assert_eq!(
            keys(
                PolicyConfig::new()
                    .allow_origins(["https://a.com"])
                    .allow_headers(["X-A", "x-a"])
            ),
            ["allow_headers[1]"]
        );
        assert_eq!(
            keys(PolicyConfig::new().allow_origins(["https://a.com"]).allow_headers([
                "access-control-allow-origin",
                "proxy-authorization",
                "host"
            ])),
            ["allow_headers[0]", "allow_headers[1]", "allow_headers[2]"]
        );
    }

    #[test]
    fn messages_name_the_problem() {
        let e = errors(PolicyConfig::new().allow_origins(["https://example.com:443"]));
        assert!(e[0].1.contains("default port"), "{e:?}");
        let e = errors(PolicyConfig::new().allow_origins(["https://*.github.io"]));
        assert!(e[0].1.contains("public suffix"), "{e:?}");
    }
}
