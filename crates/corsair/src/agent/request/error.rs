//! [`RequestError`]: why `fetch()` would refuse to make a request at all.

use std::fmt;

/// Why a request cannot be made at all: the API (`fetch()`, XHR) would throw
/// or silently drop something.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum RequestError {
    /// The page origin is not `scheme://host[:port]` or `null`.
    InvalidOrigin {
        /// The input.
        input: String,
        /// What is wrong.
        reason: String,
    },
    /// The URL is not an absolute `http(s)` URL.
    InvalidUrl {
        /// The input.
        input: String,
        /// What is wrong.
        reason: String,
    },
    /// The method is not an HTTP token.
    InvalidMethod {
        /// The method.
        method: String,
    },
    /// `CONNECT`, `TRACE` or `TRACK`.
    ForbiddenMethod {
        /// The method.
        method: String,
    },
    /// The header name is not an HTTP token.
    InvalidHeaderName {
        /// The name.
        name: String,
    },
    /// The header value cannot be set (NUL, CR, LF, or a character above U+00FF).
    InvalidHeaderValue {
        /// The header name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A forbidden request-header that scripts cannot set.
    ForbiddenHeader {
        /// The header name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A `GET` or `HEAD` request cannot have a body.
    BodyWithGetOrHead {
        /// The method.
        method: String,
    },
}

impl RequestError {
    /// Machine-readable code, e.g. `forbidden-header`.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::InvalidOrigin { .. } => "invalid-origin",
            RequestError::InvalidUrl { .. } => "invalid-url",
            RequestError::InvalidMethod { .. } => "invalid-method",
            RequestError::ForbiddenMethod { .. } => "forbidden-method",
            RequestError::InvalidHeaderName { .. } => "invalid-header-name",
            RequestError::InvalidHeaderValue { .. } => "invalid-header-value",
            RequestError::ForbiddenHeader { .. } => "forbidden-header",
            RequestError::BodyWithGetOrHead { .. } => "body-with-get-or-head",
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::InvalidOrigin { input, reason } => write!(
                f,
                "invalid origin `{input}`: {reason} (expected `scheme://host[:port]` or `null`)"
            ),
            RequestError::InvalidUrl { input, reason } => {
                write!(f, "invalid URL `{input}`: {reason}")
            }
            RequestError::InvalidMethod { method } => {
                write!(f, "`{method}` is not a valid HTTP method (it must be a token)")
            }
            RequestError::ForbiddenMethod { method } => write!(
                f,
                "`{method}` is a forbidden method: fetch() and XMLHttpRequest refuse CONNECT, TRACE and TRACK"
            ),
            RequestError::InvalidHeaderName { name } => write!(
                f,
                "`{name}` is not a valid header name (it must be a token: no spaces, colons or quotes)"
            ),
            RequestError::InvalidHeaderValue { name, reason } => {
                write!(f, "the value of `{name}` cannot be set: {reason}")
            }
            RequestError::ForbiddenHeader { reason, .. } => {
                write!(f, "{reason}; a script cannot set it, so leave it out")
            }
            RequestError::BodyWithGetOrHead { method } => {
                write!(f, "a {method} request cannot have a body (fetch() throws a TypeError)")
            }
        }
    }
}

impl std::error::Error for RequestError {}
