//! Configuration errors: every problem found, each with its kind (a stable
//! code), key, value and message.

use std::fmt;

/// What kind of problem a [`ConfigError`] is. [`code`](Self::code) is a
/// stable identifier for tools, tests and metrics (as
/// [`Rejection::code`](crate::Rejection::code) is for decisions); the
/// error's message says the same to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// `allow_origins` is empty: the policy would allow nothing.
    NoOrigins,
    /// An `allow_origins` entry is not an origin or pattern in the form a
    /// browser serializes origins (a path, uppercase, a default port, a
    /// partial wildcard, a non-canonical address, …).
    InvalidOrigin,
    /// `null` or a `file:` origin: opaque origins are shared by unrelated
    /// documents, so they are never trusted.
    OpaqueOrigin,
    /// `scheme://*.suffix` where `suffix` is a public suffix: anyone could
    /// register a matching origin.
    PublicSuffixPattern,
    /// Plain `http` on a non-loopback host without `allow_insecure_origins`.
    InsecureOrigin,
    /// `*` in `allow_origins` next to other entries.
    WildcardNotAlone,
    /// `*` in `allow_origins`, `allow_methods` or `expose_headers` with
    /// `allow_credentials = true` (browsers read `*` literally, or, for
    /// origins, refuse it, when credentials are allowed). `*` in
    /// `allow_headers` is allowed with credentials: the answer reflects the
    /// requested names.
    WildcardWithCredentials,
    /// An entry listed twice (methods after normalization, header names
    /// case-insensitively).
    Duplicate,
    /// An `allow_methods` entry is not a method (an HTTP token).
    InvalidMethod,
    /// `CONNECT`, `TRACE` or `TRACK`, which no browser script can send.
    ForbiddenMethod,
    /// An `allow_headers` or `expose_headers` entry is not a header name.
    InvalidHeaderName,
    /// An `Access-Control-*` name in `allow_headers`: a CORS protocol
    /// header, not one a script sends.
    CorsProtocolHeader,
    /// A forbidden request-header name in `allow_headers`: scripts can never
    /// set it.
    ForbiddenRequestHeader,
    /// A forbidden response-header name (`Set-Cookie`) in `expose_headers`:
    /// browsers never expose it.
    ForbiddenResponseHeader,
    /// `max_age` outside `0..=86400`.
    MaxAgeOutOfRange,
    /// A cross-origin protection exempt path that is not an exact path a
    /// browser sends (no `/` first, a query, a wildcard, a dot segment, …).
    InvalidExemptPath,
}

impl ConfigErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ConfigErrorKind; 16] = [
        Self::NoOrigins,
        Self::InvalidOrigin,
        Self::OpaqueOrigin,
        Self::PublicSuffixPattern,
        Self::InsecureOrigin,
        Self::WildcardNotAlone,
        Self::WildcardWithCredentials,
        Self::Duplicate,
        Self::InvalidMethod,
        Self::ForbiddenMethod,
        Self::InvalidHeaderName,
        Self::CorsProtocolHeader,
        Self::ForbiddenRequestHeader,
        Self::ForbiddenResponseHeader,
        Self::MaxAgeOutOfRange,
        Self::InvalidExemptPath,
    ];

    /// A stable identifier, e.g. `insecure_origin`.
    pub fn code(self) -> &'static str {
        match self {
            Self::NoOrigins => "no_origins",
            Self::InvalidOrigin => "invalid_origin",
            Self::OpaqueOrigin => "opaque_origin",
            Self::PublicSuffixPattern => "public_suffix_pattern",
            Self::InsecureOrigin => "insecure_origin",
            Self::WildcardNotAlone => "wildcard_not_alone",
            Self::WildcardWithCredentials => "wildcard_with_credentials",
            Self::Duplicate => "duplicate",
            Self::InvalidMethod => "invalid_method",
            Self::ForbiddenMethod => "forbidden_method",
            Self::InvalidHeaderName => "invalid_header_name",
            Self::CorsProtocolHeader => "cors_protocol_header",
            Self::ForbiddenRequestHeader => "forbidden_request_header",
            Self::ForbiddenResponseHeader => "forbidden_response_header",
            Self::MaxAgeOutOfRange => "max_age_out_of_range",
            Self::InvalidExemptPath => "invalid_exempt_path",
        }
    }
}

impl fmt::Display for ConfigErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One problem in a policy configuration.
///
/// ```
/// use corsair::{ConfigErrorKind, PolicyConfig};
///
/// let errors = PolicyConfig::new().allow_origins(["http://app.example.com"]).build().unwrap_err();
/// let e = errors.iter().next().unwrap();
/// assert_eq!(e.kind, ConfigErrorKind::InsecureOrigin);
/// assert_eq!(e.code(), "insecure_origin");
/// assert_eq!(e.key, "allow_origins[0]");
/// assert_eq!(e.value.as_deref(), Some("http://app.example.com"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// What kind of problem it is.
    pub kind: ConfigErrorKind,
    /// The key, e.g. `allow_origins[2]` or `max_age`.
    pub key: String,
    /// The offending value as written, when there is one.
    pub value: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ConfigError {
    /// The stable code of the error's kind, e.g. `insecure_origin`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "`{}` = {:?}: {}", self.key, v, self.message),
            None => write!(f, "`{}`: {}", self.key, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

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

    pub(crate) fn push(
        &mut self,
        kind: ConfigErrorKind,
        key: impl Into<String>,
        value: Option<&str>,
        message: impl Into<String>,
    ) {
        self.0.push(ConfigError {
            kind,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_snake_case_identifiers() {
        let codes: Vec<&str> = ConfigErrorKind::ALL.iter().map(|k| k.code()).collect();
        for (i, c) in codes.iter().enumerate() {
            assert!(
                !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{c}"
            );
            assert!(!codes[i + 1..].contains(c), "{c} twice");
            assert_eq!(ConfigErrorKind::ALL[i].to_string(), *c);
        }
    }
}
