//! Why cross-origin protection refused a request: [`CrossOriginRejection`],
//! with a stable code, a human detail, and the 403 answer.

use std::fmt;

use http::header::{self, HeaderMap, HeaderValue};
use http::StatusCode;

/// Why cross-origin protection refused an unsafe request. Like a CORS
/// [`Rejection`](crate::Rejection), it has a stable machine-readable
/// [`code`](Self::code) (for logs and metrics) and a human detail
/// (`Display`, naming the header values); the client gets
/// [`status`](Self::status) (403), [`body`](Self::body) (which names the
/// code, never a header value) and [`write_headers`](Self::write_headers).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrossOriginRejection {
    /// `cross_origin_request`: `Sec-Fetch-Site` says another origin's page
    /// sent it (`same-site`, `cross-site`, or another value), and its
    /// `Origin` is not trusted (absent, `null`, several, or not in
    /// `allow_origins`).
    CrossOriginRequest {
        /// The (first) `Sec-Fetch-Site` value.
        sec_fetch_site: HeaderValue,
        /// Whether there were several `Sec-Fetch-Site` lines.
        several_sites: bool,
        /// The (first) `Origin`, when there is one.
        origin: Option<HeaderValue>,
        /// Whether there were several `Origin` lines.
        several_origins: bool,
    },
    /// `origin_host_mismatch`: no `Sec-Fetch-Site` (an older browser, or a
    /// plain-`http` site off loopback, to which browsers send none), and
    /// `Origin` names another host or port than the request's own and is not
    /// trusted.
    OriginHostMismatch {
        /// The (first) `Origin`.
        origin: HeaderValue,
        /// Whether there were several `Origin` lines.
        several_origins: bool,
    },
}

impl CrossOriginRejection {
    /// A stable identifier: `cross_origin_request` or `origin_host_mismatch`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::CrossOriginRequest { .. } => "cross_origin_request",
            Self::OriginHostMismatch { .. } => "origin_host_mismatch",
        }
    }

    /// Every code, in declaration order (for tables such as metrics).
    pub const CODES: [&'static str; 2] = ["cross_origin_request", "origin_host_mismatch"];

    /// The request's (first) `Origin`, if it had one.
    pub fn origin(&self) -> Option<&HeaderValue> {
        match self {
            Self::CrossOriginRequest { origin, .. } => origin.as_ref(),
            Self::OriginHostMismatch { origin, .. } => Some(origin),
        }
    }

    /// The status of the answer: always `403 Forbidden`.
    pub fn status(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    /// The body of the answer: one line of text naming the code. It repeats
    /// no header value (the detail is for the log).
    pub fn body(&self) -> &'static str {
        match self {
            Self::CrossOriginRequest { .. } => {
                "corsair: cross-origin request refused (cross_origin_request): Sec-Fetch-Site says a page of \
                 another origin sent it, and that origin is not trusted\n"
            }
            Self::OriginHostMismatch { .. } => {
                "corsair: cross-origin request refused (origin_host_mismatch): its Origin is not this host, and \
                 that origin is not trusted\n"
            }
        }
    }

    /// Writes the answer's headers: `Content-Type: text/plain;
    /// charset=utf-8` and `X-Content-Type-Options: nosniff` (as Go's
    /// `http.Error`). No CORS header: the page learns nothing from a refusal.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    }
}

/// A header value for a message: lossy text, control bytes escaped.
struct Shown<'a>(&'a HeaderValue);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in String::from_utf8_lossy(self.0.as_bytes()).chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// Why the origin is not trusted, as a clause.
fn untrusted(f: &mut fmt::Formatter<'_>, origin: Option<&HeaderValue>, several: bool) -> fmt::Result {
    match origin {
        None => f.write_str("it carries no Origin to trust"),
        Some(_) if several => f.write_str("it carries several Origin headers, which are never trusted"),
        Some(o) if o.as_bytes() == b"null" => f.write_str("its Origin is `null`, which is never trusted"),
        Some(o) => write!(f, "its origin `{}` is not in allow_origins", Shown(o)),
    }
}

impl fmt::Display for CrossOriginRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CrossOriginRequest {
                sec_fetch_site,
                several_sites,
                origin,
                several_origins,
            } => {
                if *several_sites {
                    f.write_str("the request carries several Sec-Fetch-Site headers (read as cross-origin), and ")?;
                } else {
                    write!(
                        f,
                        "Sec-Fetch-Site is `{}`: a page of another origin sent this request, and ",
                        Shown(sec_fetch_site)
                    )?;
                }
                untrusted(f, origin.as_ref(), *several_origins)
            }
            Self::OriginHostMismatch {
                origin,
                several_origins,
            } => {
                if *several_origins {
                    f.write_str("no Sec-Fetch-Site, and ")?;
                    return untrusted(f, Some(origin), true);
                }
                f.write_str("no Sec-Fetch-Site, the Origin names another host or port than the request's, and ")?;
                untrusted(f, Some(origin), false)
            }
        }
    }
}

impl std::error::Error for CrossOriginRejection {}
