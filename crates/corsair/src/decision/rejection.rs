//! Why a CORS request was rejected: [`Rejection`], with a stable code and a
//! human explanation.

use std::fmt;

use http::header::HeaderValue;

/// Why a CORS request was rejected. Every rejection has a stable
/// machine-readable [`code`](Rejection::code) and a human explanation
/// (`Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The origin is not allowed by the policy.
    OriginNotAllowed(HeaderValue),
    /// `Origin: null` (sandboxed iframes, `file:` pages, redirects): never allowed.
    NullOrigin,
    /// The request carries several `Origin` headers.
    MultipleOrigins,
    /// `Access-Control-Request-Method` is not a single method token.
    InvalidMethod(HeaderValue),
    /// The preflight asks for a method the policy does not allow.
    MethodNotAllowed(HeaderValue),
    /// `Access-Control-Request-Headers` is malformed (not a list of tokens,
    /// or padded beyond what a browser sends).
    InvalidHeaders,
    /// The preflight asks for a request header the policy does not allow.
    HeaderNotAllowed {
        /// The header line that named it.
        line: HeaderValue,
        /// Byte offset of the name in `line`.
        start: usize,
        /// Length of the name.
        len: usize,
    },
}

impl Rejection {
    /// A stable identifier, e.g. `origin_not_allowed`, for metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::OriginNotAllowed(_) => "origin_not_allowed",
            Self::NullOrigin => "null_origin",
            Self::MultipleOrigins => "multiple_origins",
            Self::InvalidMethod(_) => "invalid_method",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::InvalidHeaders => "invalid_headers",
            Self::HeaderNotAllowed { .. } => "header_not_allowed",
        }
    }

    /// For [`Rejection::HeaderNotAllowed`], the header name as requested.
    pub fn header_name(&self) -> Option<&str> {
        match self {
            Self::HeaderNotAllowed { line, start, len } => line
                .as_bytes()
                .get(*start..start + len)
                .and_then(|b| std::str::from_utf8(b).ok()),
            _ => None,
        }
    }

    /// Whether the origin itself was acceptable (the rejection is about the
    /// method or headers of a preflight).
    pub fn origin_was_allowed(&self) -> bool {
        matches!(
            self,
            Self::InvalidMethod(_) | Self::MethodNotAllowed(_) | Self::InvalidHeaders | Self::HeaderNotAllowed { .. }
        )
    }
}

fn lossy(v: &HeaderValue) -> String {
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OriginNotAllowed(o) => write!(f, "origin `{}` is not in allow_origins", lossy(o)),
            Self::NullOrigin => f.write_str("the `null` origin is never allowed"),
            Self::MultipleOrigins => f.write_str("the request carries several Origin headers"),
            Self::InvalidMethod(m) => write!(f, "Access-Control-Request-Method `{}` is not a single method", lossy(m)),
            Self::MethodNotAllowed(m) => write!(
                f,
                "method `{}` is not in allow_methods (methods are case-sensitive)",
                lossy(m)
            ),
            Self::InvalidHeaders => f.write_str("Access-Control-Request-Headers is not a valid list of header names"),
            Self::HeaderNotAllowed { .. } => write!(
                f,
                "request header `{}` is not in allow_headers",
                self.header_name().unwrap_or("?")
            ),
        }
    }
}

impl std::error::Error for Rejection {}
