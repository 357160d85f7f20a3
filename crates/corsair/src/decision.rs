//! Decisions: classify a request, decide it against a [`Policy`], and write
//! the answer into response headers.

use std::fmt;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};

use crate::headers::{append_vary, for_each_list_element};
use crate::method::{is_safelisted_method, is_token};
use crate::policy::{Policy, MAX_HEADER_NAME};

/// `Access-Control-Request-Private-Network`.
pub const ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-request-private-network");
/// `Access-Control-Allow-Private-Network`.
pub const ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-allow-private-network");

const STAR: HeaderValue = HeaderValue::from_static("*");
const TRUE: HeaderValue = HeaderValue::from_static("true");
const VARY_ORIGIN: HeaderValue = HeaderValue::from_static("Origin");

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

impl Policy {
    /// Decides a request from its method and headers. Pure, allocation-free
    /// (except when a preflight spreads `Access-Control-Request-Headers` over
    /// several lines), and bounded in time whatever the headers hold.
    ///
    /// ```
    /// use corsair::{PolicyConfig, RequestKind};
    /// use http::{HeaderMap, HeaderValue, Method};
    ///
    /// let policy = PolicyConfig::new()
    ///     .allow_origins(["https://app.example.com"])
    ///     .allow_methods(["PUT"])
    ///     .build()
    ///     .unwrap();
    /// let mut h = HeaderMap::new();
    /// h.insert("origin", HeaderValue::from_static("https://app.example.com"));
    /// h.insert("access-control-request-method", HeaderValue::from_static("PUT"));
    /// let d = policy.evaluate(&Method::OPTIONS, &h);
    /// assert_eq!(d.kind(), RequestKind::Preflight);
    /// assert!(d.is_allowed());
    ///
    /// h.insert("access-control-request-method", HeaderValue::from_static("DELETE"));
    /// let d = policy.evaluate(&Method::OPTIONS, &h);
    /// assert_eq!(d.rejection().unwrap().code(), "method_not_allowed");
    /// ```
    pub fn evaluate(&self, method: &Method, headers: &HeaderMap) -> Decision {
        let mut origins = headers.get_all(header::ORIGIN).iter();
        let Some(origin) = origins.next() else {
            return Decision::new(RequestKind::NotCors);
        };
        // One lookup of Access-Control-Request-Method serves both to classify
        // the request and to check the method.
        let acrm_lines = (method == Method::OPTIONS).then(|| headers.get_all(header::ACCESS_CONTROL_REQUEST_METHOD));
        let preflight = acrm_lines.as_ref().is_some_and(|l| l.iter().next().is_some());
        let mut d = Decision::new(if preflight {
            RequestKind::Preflight
        } else {
            RequestKind::Actual
        });

        if !self.origins.any {
            if origins.next().is_some() {
                return d.reject(Rejection::MultipleOrigins);
            }
            if origin.as_bytes() == b"null" {
                return d.reject(Rejection::NullOrigin);
            }
            // Exact origins compare bytes (a match is text: configured origins
            // are ASCII); patterns need the origin as text.
            if self.origins.matches_exact(origin.as_bytes())
                || origin.to_str().is_ok_and(|s| self.origins.matches_pattern(s))
            {
                d.origin = Some(origin.clone());
            } else {
                return d.reject(Rejection::OriginNotAllowed(origin.clone()));
            }
        }
        if !preflight {
            return d;
        }

        // The method.
        // (`acrm_lines` is `Some` here: a preflight is an OPTIONS request.)
        let mut acrm_lines = acrm_lines.iter().flatten();
        let Some(acrm) = acrm_lines.next() else {
            return d.reject(Rejection::InvalidHeaders);
        };
        if acrm_lines.next().is_some() || !is_token(acrm.as_bytes()) {
            return d.reject(Rejection::InvalidMethod(acrm.clone()));
        }
        let m = acrm.as_bytes();
        let method_ok = is_safelisted_method(m) || self.any_method || self.methods.contains(m);
        if !method_ok {
            return d.reject(Rejection::MethodNotAllowed(acrm.clone()));
        }
        d.acrm = Some(acrm.clone());

        // The headers.
        let acrh = headers.get_all(header::ACCESS_CONTROL_REQUEST_HEADERS);
        let mut lines = 0usize;
        let mut names = 0usize;
        let checked = for_each_list_element(acrh.iter(), |line_no, e| {
            lines = lines.max(line_no + 1);
            names += 1;
            if self.header_allowed(e.name) {
                Ok(())
            } else {
                Err((line_no, e.start, e.name.len()))
            }
        });
        match checked {
            Ok(()) => {}
            Err(None) => return d.reject(Rejection::InvalidHeaders),
            Err(Some((line_no, start, len))) => {
                let line = acrh.iter().nth(line_no).cloned().unwrap_or(STAR);
                return d.reject(Rejection::HeaderNotAllowed { line, start, len });
            }
        }
        if names > 0 {
            d.acrh = if lines == 1 {
                acrh.iter().next().cloned()
            } else {
                join_lines(acrh.iter())
            };
        }

        d.private_network = self.private_network
            && headers
                .get(ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK)
                .is_some_and(|v| v.as_bytes() == b"true");
        d
    }

    #[inline]
    fn header_allowed(&self, name: &[u8]) -> bool {
        if self.any_header && (self.authorization_listed || !name.eq_ignore_ascii_case(b"authorization")) {
            return true;
        }
        if name.len() > MAX_HEADER_NAME {
            return false;
        }
        // Browsers send lowercase names: look the name up as it is first
        // (the set holds lowercase names only), and lowercase it only when
        // that fails on a name with uppercase letters.
        if self.headers.contains(name) {
            return true;
        }
        if !name.iter().any(u8::is_ascii_uppercase) {
            return false;
        }
        let mut buf = [0u8; MAX_HEADER_NAME];
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.headers.contains(lower)
    }

    /// The answer to a preflight: the status (204 when accepted, 403 when
    /// rejected) and the headers corsair sends without calling the inner
    /// service. Rejections carry no CORS headers, so they reveal nothing about
    /// the policy (in debug mode, a rejection on method or headers from an
    /// allowed origin gets 204 with `Access-Control-Allow-Origin` only, so the
    /// browser's console names the precise cause).
    ///
    /// For a decision that is not a preflight, returns `None`. Builds a new
    /// header map: to write the answer straight into a response, use
    /// [`Policy::write_preflight`].
    pub fn preflight_response(&self, d: &Decision) -> Option<(StatusCode, HeaderMap)> {
        let mut h = HeaderMap::new();
        let status = self.write_preflight(d, &mut h)?;
        Some((status, h))
    }

    /// Writes the answer to a preflight into `headers` (usually the empty
    /// header map of the response being built) and returns its status: the
    /// same answer as [`Policy::preflight_response`], without a map of its
    /// own. Each header of the answer replaces any value `headers` already
    /// had under that name; other headers are kept.
    ///
    /// For a decision that is not a preflight, returns `None` and leaves
    /// `headers` alone.
    ///
    /// ```
    /// use corsair::PolicyConfig;
    /// use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
    ///
    /// let policy = PolicyConfig::new()
    ///     .allow_origins(["https://app.example.com"])
    ///     .allow_methods(["PUT"])
    ///     .max_age(600)
    ///     .build()
    ///     .unwrap();
    /// let mut req = HeaderMap::new();
    /// req.insert("origin", HeaderValue::from_static("https://app.example.com"));
    /// req.insert("access-control-request-method", HeaderValue::from_static("PUT"));
    /// let d = policy.evaluate(&Method::OPTIONS, &req);
    ///
    /// let mut resp = Response::new(());
    /// let status = policy.write_preflight(&d, resp.headers_mut()).unwrap();
    /// *resp.status_mut() = status;
    /// assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    /// assert_eq!(resp.headers()["access-control-allow-origin"], "https://app.example.com");
    /// assert_eq!(resp.headers()["access-control-allow-methods"], "PUT");
    /// assert_eq!(resp.headers()["access-control-max-age"], "600");
    ///
    /// // Not a preflight: nothing to answer.
    /// let d = policy.evaluate(&Method::GET, &req);
    /// assert_eq!(policy.write_preflight(&d, resp.headers_mut()), None);
    /// ```
    pub fn write_preflight(&self, d: &Decision, headers: &mut HeaderMap) -> Option<StatusCode> {
        if !d.is_preflight() {
            return None;
        }
        if d.rejection.is_none() && headers.is_empty() {
            if let Some(m) = &d.acrm {
                // The usual case: clone the answer prebuilt for this shape
                // (no hashing of names; the same small table) and fill in
                // what the request decides, in place: about 500 instructions
                // less per preflight than six insertions (callgrind).
                let t = usize::from(d.acrh.is_some()) | usize::from(d.private_network) << 1;
                *headers = self.preflight_ok[t].clone();
                for (name, value) in headers.iter_mut() {
                    if name == header::ACCESS_CONTROL_ALLOW_ORIGIN {
                        if let Some(o) = &d.origin {
                            *value = o.clone();
                        }
                    } else if name == header::ACCESS_CONTROL_ALLOW_METHODS {
                        *value = m.clone();
                    } else if name == header::ACCESS_CONTROL_ALLOW_HEADERS {
                        if let Some(v) = &d.acrh {
                            *value = v.clone();
                        }
                    }
                }
                return Some(StatusCode::NO_CONTENT);
            }
        }
        Some(self.insert_preflight(d, headers))
    }

    /// [`Policy::write_preflight`] by insertions, for any decision and map.
    pub(crate) fn insert_preflight(&self, d: &Decision, h: &mut HeaderMap) -> StatusCode {
        if h.is_empty() {
            // Room for the usual six headers in the smallest table `http`
            // makes (8 slots): a larger one costs ~800 instructions more per
            // preflight (callgrind), mostly in zeroing and allocating it.
            h.reserve(6);
        }
        h.insert(header::VARY, self.preflight_vary.clone());
        match &d.rejection {
            None => {
                self.put_origin(d, h);
                if let Some(m) = &d.acrm {
                    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, m.clone());
                }
                if let Some(v) = &d.acrh {
                    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
                }
                if let Some(v) = &self.max_age {
                    h.insert(header::ACCESS_CONTROL_MAX_AGE, v.clone());
                }
                if d.private_network {
                    h.insert(ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK, TRUE);
                }
                StatusCode::NO_CONTENT
            }
            Some(r) if self.debug && r.origin_was_allowed() => {
                self.put_origin(d, h);
                // An explicit method list: without it, a browser reads a
                // missing Access-Control-Allow-Methods as "the requested
                // method" for requests with the use-CORS-preflight flag
                // (upload listeners, streams) and would pass the preflight.
                if matches!(r, Rejection::MethodNotAllowed(_)) {
                    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, self.listed_methods.clone());
                }
                StatusCode::NO_CONTENT
            }
            Some(_) => StatusCode::FORBIDDEN,
        }
    }

    /// The answers to accepted preflights, built once with the policy's
    /// values and placeholders for the request's, indexed by
    /// `acrh.is_some() | private_network << 1`: exactly the headers, in the
    /// order, that [`Policy::insert_preflight`] writes for such a decision.
    pub(crate) fn preflight_templates(&self) -> [HeaderMap; 4] {
        std::array::from_fn(|t| {
            let mut d = Decision::new(RequestKind::Preflight);
            d.acrm = Some(STAR);
            d.acrh = (t & 1 != 0).then_some(STAR);
            d.private_network = t & 2 != 0;
            let mut h = HeaderMap::new();
            self.insert_preflight(&d, &mut h);
            h
        })
    }

    fn put_origin(&self, d: &Decision, h: &mut HeaderMap) {
        match &d.origin {
            Some(o) => h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o.clone()),
            None => h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, STAR),
        };
        if self.credentials {
            h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, TRUE);
        }
    }

    /// Applies the policy's answer to a response from the inner service (or
    /// to an error response of the gateway): removes any
    /// `Access-Control-Allow-*`/`-Expose-Headers`/`-Max-Age` header the
    /// inner service set (the policy is the single authority), adds the
    /// policy's headers for an allowed origin, and merges `Origin` into
    /// `Vary` whenever the answer depends on it.
    ///
    /// ```
    /// use corsair::PolicyConfig;
    /// use http::{HeaderMap, HeaderValue, Method};
    ///
    /// let policy = PolicyConfig::new().allow_origins(["https://app.example.com"]).build().unwrap();
    /// let mut req = HeaderMap::new();
    /// req.insert("origin", HeaderValue::from_static("https://app.example.com"));
    /// let d = policy.evaluate(&Method::GET, &req);
    ///
    /// let mut resp = HeaderMap::new();
    /// resp.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    /// policy.apply(&d, &mut resp);
    /// assert_eq!(resp["access-control-allow-origin"], "https://app.example.com");
    /// assert_eq!(resp["vary"], "Origin");
    /// ```
    pub fn apply(&self, d: &Decision, headers: &mut HeaderMap) {
        // One pass over the (usually few) response header names; removal
        // only when the service did set CORS headers. Every
        // `Access-Control-*` name goes, not only the standard ones: the
        // policy is the single authority.
        strip_cors_headers(headers);
        if self.origins.any {
            // A public resource: the same headers whatever the Origin, so no
            // Vary (Fetch, "CORS protocol and HTTP caches").
            if d.rejection.is_none() {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, STAR);
                if let Some(v) = &self.expose {
                    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, v.clone());
                }
            }
            return;
        }
        append_vary(headers, "origin", &VARY_ORIGIN);
        if d.kind == RequestKind::NotCors || d.rejection.is_some() {
            return;
        }
        self.put_origin(d, headers);
        if let Some(v) = &self.expose {
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, v.clone());
        }
    }
}

/// Removes every `Access-Control-*` header: one pass over the (usually
/// few) names, and a hashed removal only for those present.
fn strip_cors_headers(headers: &mut HeaderMap) {
    const MAX: usize = 8;
    let mut found: [Option<HeaderName>; MAX] = Default::default();
    let mut n = 0;
    for k in headers.keys() {
        if k.as_str().starts_with("access-control-") {
            if n == MAX {
                // More than MAX distinct names: remove what was found so
                // far and look again (only hostile upstreams get here).
                break;
            }
            found[n] = Some(k.clone());
            n += 1;
        }
    }
    if n == 0 {
        return;
    }
    for name in found.iter_mut().take(n) {
        if let Some(name) = name.take() {
            headers.remove(&name);
        }
    }
    if n == MAX {
        strip_cors_headers(headers);
    }
}

/// Joins several `Access-Control-Request-Headers` lines into one value.
fn join_lines<'a>(lines: impl Iterator<Item = &'a HeaderValue>) -> Option<HeaderValue> {
    let mut out = Vec::new();
    for l in lines {
        let b = l.as_bytes().trim_ascii();
        if b.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(b);
    }
    HeaderValue::from_bytes(&out).ok()
}
