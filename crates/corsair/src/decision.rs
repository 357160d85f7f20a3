//! Decisions: classify a request, decide it against a [`Policy`], and write
//! the answer into response headers.

use std::fmt;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};

use crate::fetch::list::{for_each_token, MAX_EMPTY_ELEMENTS, MAX_OWS};
use crate::fetch::syntax::split_ows;
use crate::fetch::{is_cors_non_wildcard_request_header_name, is_cors_safelisted_method, is_method};
use crate::headers::append_vary;
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

/// Request maps up to this size are scanned once for the CORS headers of
/// a preflight rather than looked up name by name (four hashed lookups cost
/// more than comparing a dozen names; browsers send about a dozen).
const SCAN_MAX: usize = 16;

/// The CORS request headers: the first line of each, and whether there are
/// more lines of those that must have one.
#[derive(Default)]
struct Found<'a> {
    origin: Option<&'a HeaderValue>,
    more_origins: bool,
    acrm: Option<&'a HeaderValue>,
    more_acrm: bool,
    acrh: Option<&'a HeaderValue>,
    more_acrh: bool,
    pna: Option<&'a HeaderValue>,
}

impl<'a> Found<'a> {
    /// One pass over every line (for an OPTIONS request).
    fn scan(headers: &'a HeaderMap) -> Self {
        let mut f = Found::default();
        for (name, value) in headers {
            let (first, more) = if name == header::ORIGIN {
                (&mut f.origin, &mut f.more_origins)
            } else if name == header::ACCESS_CONTROL_REQUEST_METHOD {
                (&mut f.acrm, &mut f.more_acrm)
            } else if name == header::ACCESS_CONTROL_REQUEST_HEADERS {
                (&mut f.acrh, &mut f.more_acrh)
            } else if name == ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK {
                if f.pna.is_none() {
                    f.pna = Some(value);
                }
                continue;
            } else {
                continue;
            };
            if first.is_some() {
                *more = true;
            } else {
                *first = Some(value);
            }
        }
        f
    }

    /// Lookups by name: `Origin`, and for an OPTIONS request the others.
    fn lookup(headers: &'a HeaderMap, options: bool) -> Self {
        let mut f = Found::default();
        let mut origins = headers.get_all(header::ORIGIN).iter();
        f.origin = origins.next();
        if f.origin.is_none() {
            return f;
        }
        f.more_origins = origins.next().is_some();
        if options {
            let mut acrm = headers.get_all(header::ACCESS_CONTROL_REQUEST_METHOD).iter();
            f.acrm = acrm.next();
            f.more_acrm = acrm.next().is_some();
            if f.acrm.is_some() {
                let mut acrh = headers.get_all(header::ACCESS_CONTROL_REQUEST_HEADERS).iter();
                f.acrh = acrh.next();
                f.more_acrh = acrh.next().is_some();
                f.pna = headers.get(ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK);
            }
        }
        f
    }
}

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
        let is_options = method == Method::OPTIONS;
        let f = if is_options && headers.len() <= SCAN_MAX {
            Found::scan(headers)
        } else {
            Found::lookup(headers, is_options)
        };
        let Some(origin) = f.origin else {
            return Decision::new(RequestKind::NotCors);
        };
        // A preflight: an OPTIONS request with Access-Control-Request-Method
        // (`f.acrm` is only looked for on OPTIONS requests).
        let preflight = f.acrm.is_some();
        let mut d = Decision::new(if preflight {
            RequestKind::Preflight
        } else {
            RequestKind::Actual
        });

        if !self.origins.any {
            if f.more_origins {
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
        let Some(acrm) = f.acrm else {
            return d;
        };

        // The method.
        if f.more_acrm || !is_method(acrm.as_bytes()) {
            return d.reject(Rejection::InvalidMethod(acrm.clone()));
        }
        let m = acrm.as_bytes();
        let method_ok = is_cors_safelisted_method(m) || self.any_method || self.methods.contains(m);
        if !method_ok {
            return d.reject(Rejection::MethodNotAllowed(acrm.clone()));
        }
        d.acrm = Some(acrm.clone());

        // The headers: one line (the usual case), or several joined.
        let checked = match (f.acrh, f.more_acrh) {
            (None, _) => Ok(None),
            (Some(line), false) => match self.all_listed(line.as_bytes()) {
                Some(true) => Ok(Some(line.clone())),
                Some(false) => Ok(None),
                None => self.check_request_headers(|| std::iter::once(line)),
            },
            (Some(_), true) => {
                let lines = headers.get_all(header::ACCESS_CONTROL_REQUEST_HEADERS);
                self.check_request_headers(|| lines.iter())
            }
        };
        match checked {
            Ok(acrh) => d.acrh = acrh,
            Err(r) => return d.reject(r),
        }

        d.private_network = self.private_network && f.pna.is_some_and(|v| v.as_bytes() == b"true");
        d
    }

    /// The usual `Access-Control-Request-Headers` line, decided in one
    /// pass: every element, as sent, is a listed name. `Some(named)` when so
    /// (`named`: the line names at least one header); `None` when the full
    /// check must decide (a name not found as sent, whitespace or empty
    /// elements beyond the limits, or a wildcard policy). Listed names are
    /// lowercase tokens, so a name found here is one the full check accepts:
    /// the full check only adds the token check and the lowercasing that
    /// the rejections and the rare uppercase names need.
    pub(crate) fn all_listed(&self, line: &[u8]) -> Option<bool> {
        if self.any_header {
            return None;
        }
        let (mut named, mut empty) = (false, 0usize);
        let mut start = 0;
        while let Some(rest) = line.get(start..) {
            let end = rest.iter().position(|&b| b == b',').unwrap_or(rest.len());
            let mut name = &rest[..end];
            // Browsers send no whitespace ("a,b"): trim only when there is.
            if let [b' ' | b'\t', ..] | [.., b' ' | b'\t'] = name {
                name = trim_ows_within_bounds(name)?;
            }
            if name.is_empty() {
                empty += 1;
                if empty > MAX_EMPTY_ELEMENTS {
                    return None;
                }
            } else if self.headers.contains(name) {
                named = true;
            } else {
                return None;
            }
            start += end + 1;
        }
        Some(named)
    }

    /// Checks every name of the `Access-Control-Request-Headers` lines
    /// `lines()` yields; returns them (joined when several) for the answer,
    /// `None` when they name nothing.
    pub(crate) fn check_request_headers<'a, I>(&self, lines: impl Fn() -> I) -> Result<Option<HeaderValue>, Rejection>
    where
        I: Iterator<Item = &'a HeaderValue>,
    {
        let mut count = 0usize;
        let mut names = 0usize;
        let checked = for_each_token(lines(), |line_no, e| {
            count = count.max(line_no + 1);
            names += 1;
            if self.header_allowed(e.name) {
                Ok(())
            } else {
                Err((line_no, e.start, e.name.len()))
            }
        });
        match checked {
            Ok(()) => {}
            Err(None) => return Err(Rejection::InvalidHeaders),
            Err(Some((line_no, start, len))) => {
                let line = lines().nth(line_no).cloned().unwrap_or(STAR);
                return Err(Rejection::HeaderNotAllowed { line, start, len });
            }
        }
        Ok(match (names, count) {
            (0, _) => None,
            (_, 1) => lines().next().cloned(),
            _ => join_lines(lines()),
        })
    }

    #[inline]
    fn header_allowed(&self, name: &[u8]) -> bool {
        if self.any_header && (self.authorization_listed || !is_cors_non_wildcard_request_header_name(name)) {
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

/// A list element without its optional whitespace, `None` when either side
/// has more than [`MAX_OWS`] bytes of it (the full check decides those).
fn trim_ows_within_bounds(part: &[u8]) -> Option<&[u8]> {
    let (lead, name, trail) = split_ows(part);
    (lead <= MAX_OWS && trail <= MAX_OWS).then_some(name)
}
