//! Decisions: classify a request and decide it against a
//! [`Policy`](crate::Policy) ([`classify`], with [`request_headers`] for
//! `Access-Control-Request-Headers`), and write the answer into response
//! headers: a preflight's own answer ([`preflight`]), or the CORS headers of
//! any other response ([`apply`]). [`Rejection`] says why a request was
//! refused.

use http::header::{HeaderName, HeaderValue};

mod apply;
mod classify;
mod preflight;
mod rejection;
mod request_headers;
#[cfg(test)]
mod tests;

pub use rejection::Rejection;

/// `Access-Control-Request-Private-Network`.
pub const ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-request-private-network");
/// `Access-Control-Allow-Private-Network`.
pub const ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-allow-private-network");

const STAR: HeaderValue = HeaderValue::from_static("*");
const TRUE: HeaderValue = HeaderValue::from_static("true");

/// What kind of request this is, CORS-wise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// No `Origin` header: not a CORS request.
    NotCors,
    /// `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
    Preflight,
    /// Any other request with an `Origin` header.
    Actual,
}

impl RequestKind {
    /// A short lowercase name (`not_cors`, `preflight`, `actual`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotCors => "not_cors",
            Self::Preflight => "preflight",
            Self::Actual => "actual",
        }
    }
}

/// The policy's verdict on one request, owned so that it can outlive the
/// request (the middleware needs it again for the response).
///
/// Holds no heap data of its own: the values it keeps are reference-counted
/// clones of the request's header values.
#[derive(Debug, Clone)]
pub struct Decision {
    kind: RequestKind,
    rejection: Option<Rejection>,
    /// The origin to echo in `Access-Control-Allow-Origin` (None for `*`).
    origin: Option<HeaderValue>,
    acrm: Option<HeaderValue>,
    acrh: Option<HeaderValue>,
    private_network: bool,
}

impl Decision {
    fn new(kind: RequestKind) -> Self {
        Self {
            kind,
            rejection: None,
            origin: None,
            acrm: None,
            acrh: None,
            private_network: false,
        }
    }

    fn reject(mut self, r: Rejection) -> Self {
        self.rejection = Some(r);
        self
    }

    /// The kind of request.
    pub fn kind(&self) -> RequestKind {
        self.kind
    }

    /// Whether corsair must answer this request itself (a preflight),
    /// without calling the inner service.
    pub fn is_preflight(&self) -> bool {
        self.kind == RequestKind::Preflight
    }

    /// Whether the CORS request was allowed (`false` for non-CORS requests).
    pub fn is_allowed(&self) -> bool {
        self.kind != RequestKind::NotCors && self.rejection.is_none()
    }

    /// Why the request was rejected, if it was.
    pub fn rejection(&self) -> Option<&Rejection> {
        self.rejection.as_ref()
    }

    /// A short outcome label: `not_cors`, `allowed` or the rejection code.
    pub fn outcome(&self) -> &'static str {
        match (&self.rejection, self.kind) {
            (Some(r), _) => r.code(),
            (None, RequestKind::NotCors) => "not_cors",
            (None, _) => "allowed",
        }
    }
}
