//! The request a page makes: [`Request`], built and validated by
//! [`RequestBuilder`], with [`CredentialsMode`], [`BodyType`] and [`RequestError`].

use std::fmt;

use super::origin::{parse_origin, parse_url};
use super::preflight::PreflightRequest;
use super::safelist::{classify, Classification};
use super::text::{quote_list, show};
use super::trace::{Step, Trace};
use crate::fetch::syntax::{isomorphic_encode, trim_http_whitespace};
use crate::fetch::{
    forbidden_request_header, is_cors_non_wildcard_request_header_name, is_cors_safelisted_method, is_forbidden_method,
    is_header_name, is_method, is_request_body_header_name, is_uppercased_by_normalization, normalize_method,
    Forbidden,
};

/// The request's credentials mode (`fetch(url, { credentials })`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum CredentialsMode {
    /// Never send credentials.
    Omit,
    /// Send credentials to the same origin only (the `fetch()` default); a
    /// cross-origin request is then uncredentialed.
    #[default]
    SameOrigin,
    /// Always send credentials (`credentials: "include"`, XHR `withCredentials`).
    Include,
}

impl CredentialsMode {
    /// The `fetch()` spelling: `omit`, `same-origin` or `include`.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialsMode::Omit => "omit",
            CredentialsMode::SameOrigin => "same-origin",
            CredentialsMode::Include => "include",
        }
    }

    /// Whether the mode is `include`, the only mode in which CORS treats a
    /// cross-origin request as credentialed.
    pub fn is_include(self) -> bool {
        self == CredentialsMode::Include
    }
}

impl fmt::Display for CredentialsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of body a script sends, which decides the `Content-Type` the
/// browser adds when the script set none.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum BodyType {
    /// A string: `text/plain;charset=UTF-8`.
    Text,
    /// `URLSearchParams`: `application/x-www-form-urlencoded;charset=UTF-8`.
    UrlSearchParams,
    /// `FormData`: `multipart/form-data; boundary=…`.
    FormData,
    /// A `Blob` (or `File`) with this `type`: the type itself, lowercased; an
    /// empty type sets no `Content-Type`.
    Blob(String),
}

impl BodyType {
    /// Reads a CLI-style body type: `text`/`string`, `urlsearchparams`/`form`,
    /// `formdata`/`multipart`, otherwise a MIME type (as a `Blob` type).
    ///
    /// ```
    /// use corsair::agent::BodyType;
    /// assert_eq!(BodyType::parse("text"), BodyType::Text);
    /// assert_eq!(BodyType::parse("application/json"), BodyType::Blob("application/json".into()));
    /// ```
    pub fn parse(s: &str) -> BodyType {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "string" => BodyType::Text,
            "urlsearchparams" | "form" | "urlencoded" => BodyType::UrlSearchParams,
            "formdata" | "multipart" => BodyType::FormData,
            _ => BodyType::Blob(s.trim().to_string()),
        }
    }

    /// The `Content-Type` the browser sets for this body, if any.
    pub fn content_type(&self) -> Option<String> {
        match self {
            BodyType::Text => Some("text/plain;charset=UTF-8".to_string()),
            BodyType::UrlSearchParams => Some("application/x-www-form-urlencoded;charset=UTF-8".to_string()),
            BodyType::FormData => Some("multipart/form-data; boundary=----corsairFormBoundary".to_string()),
            BodyType::Blob(t) => {
                // Blob type: any code point outside U+0020..U+007E empties it; else lowercase.
                if t.is_empty() || !t.chars().all(|c| (' '..='~').contains(&c)) {
                    None
                } else {
                    Some(t.to_ascii_lowercase())
                }
            }
        }
    }
}

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

/// Builds a [`Request`]; [`RequestBuilder::build`] validates and normalizes.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    origin: String,
    url: String,
    method: String,
    headers: Vec<(String, String)>,
    credentials: CredentialsMode,
    body: Option<BodyType>,
    use_cors_preflight: bool,
}

impl RequestBuilder {
    /// The method as the script passes it (normalized on build). Default `GET`.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = method.into();
        self
    }

    /// Adds a header as `headers.append(name, value)` would. A value is a
    /// JavaScript-like string: code points up to U+00FF, each one byte.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the credentials mode. Default [`CredentialsMode::SameOrigin`].
    pub fn credentials(mut self, mode: CredentialsMode) -> Self {
        self.credentials = mode;
        self
    }

    /// Adds a body of this type; it sets `Content-Type` unless a header did.
    pub fn body(mut self, body: BodyType) -> Self {
        self.body = Some(body);
        self
    }

    /// Sets the use-CORS-preflight flag (an upload listener on XHR, or a
    /// streaming body), which forces a preflight.
    pub fn use_cors_preflight(mut self, flag: bool) -> Self {
        self.use_cors_preflight = flag;
        self
    }

    /// Validates and normalizes the request as the `Request` constructor does.
    pub fn build(self) -> Result<Request, RequestError> {
        let origin = parse_origin(&self.origin).map_err(|reason| RequestError::InvalidOrigin {
            input: self.origin.clone(),
            reason,
        })?;
        let url = parse_url(&self.url).map_err(|reason| RequestError::InvalidUrl {
            input: self.url.clone(),
            reason,
        })?;
        if url.scheme != "http" && url.scheme != "https" {
            return Err(RequestError::InvalidUrl {
                input: self.url,
                reason: "only http and https URLs take part in CORS".to_string(),
            });
        }
        if url.has_credentials {
            return Err(RequestError::InvalidUrl {
                input: self.url,
                reason: "a URL with credentials (`user:password@`) makes fetch() throw".to_string(),
            });
        }
        let method_input = self.method.trim().to_string();
        if !is_method(&method_input) {
            return Err(RequestError::InvalidMethod { method: method_input });
        }
        if is_forbidden_method(&method_input) {
            return Err(RequestError::ForbiddenMethod { method: method_input });
        }
        let method = normalize_method(&method_input).to_owned();

        let mut headers: Vec<(String, Vec<u8>)> = Vec::with_capacity(self.headers.len() + 2);
        for (name, value) in &self.headers {
            let name = name.trim();
            if !is_header_name(name) {
                return Err(RequestError::InvalidHeaderName { name: name.to_string() });
            }
            let bytes = isomorphic_encode(value).ok_or_else(|| RequestError::InvalidHeaderValue {
                name: name.to_string(),
                reason: "it contains a character above U+00FF, which is not a ByteString".to_string(),
            })?;
            let bytes = trim_http_whitespace(&bytes).to_vec();
            if let Some(b) = bytes.iter().find(|b| matches!(b, 0 | b'\n' | b'\r')) {
                return Err(RequestError::InvalidHeaderValue {
                    name: name.to_string(),
                    reason: format!("it contains the byte `{}`", show(&[*b])),
                });
            }
            if let Some(reason) = forbidden_reason(name, &bytes) {
                return Err(RequestError::ForbiddenHeader {
                    name: name.to_string(),
                    reason,
                });
            }
            headers.push((name.to_string(), bytes));
        }
        let has = |headers: &[(String, Vec<u8>)], n: &str| headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n));
        let mut added_content_type = None;
        if let Some(body) = &self.body {
            if method == "GET" || method == "HEAD" {
                return Err(RequestError::BodyWithGetOrHead { method });
            }
            if let Some(ct) = body.content_type() {
                if !has(&headers, "content-type") {
                    headers.push(("Content-Type".to_string(), ct.clone().into_bytes()));
                    added_content_type = Some(ct);
                }
            }
        }
        let added_accept = !has(&headers, "accept");
        if added_accept {
            headers.push(("Accept".to_string(), b"*/*".to_vec()));
        }
        let url_origin = url.origin();
        Ok(Request {
            origin,
            origin_input: self.origin,
            url: self.url.trim().to_string(),
            url_origin,
            method,
            method_input,
            headers,
            added_accept,
            added_content_type,
            credentials: self.credentials,
            use_cors_preflight: self.use_cors_preflight,
        })
    }
}

/// Why (`name`, `value`) is a forbidden request-header, as a sentence, or
/// `None` when a script may set it.
fn forbidden_reason(name: &str, value: &[u8]) -> Option<String> {
    Some(match forbidden_request_header(name.as_bytes(), value)? {
        Forbidden::Name => {
            format!("`{name}` is a forbidden request-header name: the browser controls it and ignores a script's value")
        }
        Forbidden::Prefix(prefix) => format!("`{name}` starts with `{prefix}`, which the browser reserves for itself"),
        Forbidden::MethodOverride(method) => {
            format!("`{name}` names the forbidden method `{method}`, so the browser refuses to send it")
        }
    })
}

/// A validated cross-origin (or same-origin) request, as `fetch()` would make it.
///
/// ```
/// use corsair::agent::{CredentialsMode, Request};
/// let req = Request::builder("https://app.example", "https://api.example/r")
///     .method("put")
///     .header("X-Token", "abc")
///     .credentials(CredentialsMode::Include)
///     .build()?;
/// assert_eq!(req.method(), "PUT");
/// assert!(req.needs_preflight());
/// assert_eq!(req.unsafe_header_names(), ["x-token"]);
/// # Ok::<(), corsair::agent::RequestError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    origin: String,
    origin_input: String,
    url: String,
    url_origin: String,
    method: String,
    method_input: String,
    headers: Vec<(String, Vec<u8>)>,
    added_accept: bool,
    added_content_type: Option<String>,
    credentials: CredentialsMode,
    use_cors_preflight: bool,
}

impl Request {
    /// Starts a `GET` request from a page at `origin` to `url`.
    pub fn builder(origin: impl Into<String>, url: impl Into<String>) -> RequestBuilder {
        RequestBuilder {
            origin: origin.into(),
            url: url.into(),
            method: "GET".to_string(),
            headers: Vec::new(),
            credentials: CredentialsMode::default(),
            body: None,
            use_cors_preflight: false,
        }
    }

    /// The serialized page origin (what `Origin` carries), e.g. `https://app.example`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The serialized origin of the URL.
    pub fn url_origin(&self) -> &str {
        &self.url_origin
    }

    /// The normalized method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The credentials mode.
    pub fn credentials(&self) -> CredentialsMode {
        self.credentials
    }

    /// Whether the use-CORS-preflight flag is set.
    pub fn use_cors_preflight_flag(&self) -> bool {
        self.use_cors_preflight
    }

    /// The request's header list: the script's headers (values normalized),
    /// the body's `Content-Type` and the default `Accept: */*` when the script
    /// set none. Values are bytes (one per code point up to U+00FF).
    pub fn headers(&self) -> &[(String, Vec<u8>)] {
        &self.headers
    }

    /// Whether the page origin and the URL's origin are the same (then CORS
    /// does not apply at all).
    pub fn is_same_origin(&self) -> bool {
        self.origin != "null" && self.origin == self.url_origin
    }

    /// Whether the request is credentialed for CORS purposes (`include`).
    pub fn is_credentialed(&self) -> bool {
        self.credentials.is_include()
    }

    fn classification(&self) -> Classification {
        classify(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())))
    }

    /// The CORS-unsafe request-header names: lowercase, deduplicated, byte-sorted.
    pub fn unsafe_header_names(&self) -> Vec<String> {
        self.classification().unsafe_names
    }

    /// Whether the browser takes the CORS-with-preflight path (ignoring the
    /// preflight cache): a cross-origin request with the use-CORS-preflight
    /// flag, a non-safelisted method, or a CORS-unsafe header.
    pub fn needs_preflight(&self) -> bool {
        !self.is_same_origin()
            && (self.use_cors_preflight
                || !is_cors_safelisted_method(&self.method)
                || !self.unsafe_header_names().is_empty())
    }

    /// The preflight the browser sends before this request (ignoring the
    /// preflight cache), or `None` when it sends none.
    ///
    /// ```
    /// use corsair::agent::Request;
    /// let req = Request::builder("https://app.example", "https://api.example/r")
    ///     .method("DELETE")
    ///     .header("X-B", "1")
    ///     .header("x-a", "2")
    ///     .build()?;
    /// let pf = req.preflight().expect("DELETE needs a preflight");
    /// assert_eq!(pf.method, "OPTIONS");
    /// assert_eq!(pf.header("access-control-request-method"), Some("DELETE"));
    /// assert_eq!(pf.header("access-control-request-headers"), Some("x-a,x-b"));
    /// assert_eq!(pf.header("origin"), Some("https://app.example"));
    /// # Ok::<(), corsair::agent::RequestError>(())
    /// ```
    pub fn preflight(&self) -> Option<PreflightRequest> {
        if !self.needs_preflight() {
            return None;
        }
        let mut headers = vec![
            ("Origin".to_string(), self.origin.clone()),
            ("Accept".to_string(), "*/*".to_string()),
            ("Access-Control-Request-Method".to_string(), self.method.clone()),
        ];
        let names = self.unsafe_header_names();
        if !names.is_empty() {
            headers.push(("Access-Control-Request-Headers".to_string(), names.join(",")));
        }
        Some(PreflightRequest {
            method: "OPTIONS".to_string(),
            url: self.url.clone(),
            headers,
        })
    }

    /// The headers of the actual request as the browser sends them: the
    /// header list plus `Origin` (always when cross-origin; for same-origin
    /// only when the method is neither `GET` nor `HEAD`). Cookies and other
    /// headers the browser adds itself are not included.
    pub fn actual_headers(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = self.headers.clone();
        if !self.is_same_origin() || !(self.method == "GET" || self.method == "HEAD") {
            out.push(("Origin".to_string(), self.origin.clone().into_bytes()));
        }
        out
    }

    /// The request after a redirect to `url` (HTTP-redirect fetch steps):
    /// 301/302 turn `POST` into `GET`, 303 turns anything but `GET`/`HEAD`
    /// into `GET` (dropping the body and its headers), a cross-origin hop
    /// drops `Authorization`, and a taint serializes the origin as `null`.
    pub(crate) fn redirected(
        &self,
        url: &str,
        url_origin: &str,
        status: u16,
        tainted: bool,
        notes: &mut Vec<String>,
    ) -> Request {
        let mut next = self.clone();
        let to_get = ((status == 301 || status == 302) && self.method == "POST")
            || (status == 303 && !(self.method == "GET" || self.method == "HEAD"));
        if to_get {
            notes.push(format!(
                "`{}` becomes `GET` and the body and its headers are dropped",
                self.method
            ));
            next.method = "GET".to_string();
            next.method_input = "GET".to_string();
            next.headers.retain(|(n, _)| !is_request_body_header_name(n));
            next.added_content_type = None;
        }
        if self.url_origin != url_origin
            && next
                .headers
                .iter()
                .any(|(n, _)| is_cors_non_wildcard_request_header_name(n))
        {
            notes.push("`Authorization` is removed on a cross-origin hop".to_string());
            next.headers
                .retain(|(n, _)| !is_cors_non_wildcard_request_header_name(n));
        }
        if tainted {
            next.origin = "null".to_string();
        }
        next.url = url.to_string();
        next.url_origin = url_origin.to_string();
        next
    }

    /// Explains the request as the browser sees it before any network
    /// traffic: origin, method normalization, each header's safelist verdict
    /// and whether a preflight is needed.
    pub fn trace(&self) -> Trace {
        let mut trace = Trace::new();
        let origin_note = if self.origin_input.trim() == self.origin {
            String::new()
        } else {
            format!(" (`{}` serialized)", self.origin_input.trim())
        };
        if self.is_same_origin() {
            trace.push(Step::pass(
                "origin",
                format!(
                    "the page origin `{}`{origin_note} is the URL's origin: a same-origin request, CORS does not apply",
                    self.origin
                ),
            ));
        } else {
            trace.push(Step::pass(
                "origin",
                format!(
                    "cross-origin request from `{}`{origin_note} to `{}`; credentials mode `{}`{}",
                    self.origin,
                    self.url_origin,
                    self.credentials,
                    if self.is_credentialed() {
                        " (credentialed: `*` is never a wildcard)"
                    } else {
                        " (not credentialed)"
                    }
                ),
            ));
        }
        let method_note = if self.method_input != self.method {
            format!("`{}` is normalized to `{}`", self.method_input, self.method)
        } else if is_uppercased_by_normalization(&self.method) {
            format!("`{}`", self.method)
        } else {
            format!(
                "`{}` (only DELETE, GET, HEAD, OPTIONS, POST and PUT are uppercased; this one is sent and compared as written)",
                self.method
            )
        };
        let safelisted = if is_cors_safelisted_method(&self.method) {
            "a CORS-safelisted method"
        } else {
            "not a CORS-safelisted method (only GET, HEAD and POST are)"
        };
        trace.push(Step::pass("method", format!("{method_note}: {safelisted}")));

        let c = self.classification();
        let mut lines = Vec::new();
        for (verdict, (_, value)) in c.verdicts.iter().zip(&self.headers) {
            let origin = if verdict.name == "Accept" && self.added_accept {
                " (added by the browser)"
            } else if verdict.name == "Content-Type"
                && self.added_content_type.as_deref().map(str::as_bytes) == Some(value.as_slice())
            {
                " (set by the body)"
            } else {
                ""
            };
            match &verdict.unsafe_reason {
                None => lines.push(format!("`{}: {}`{origin} is safelisted", verdict.name, show(value))),
                Some(why) => lines.push(format!(
                    "`{}: {}`{origin} is not safelisted: {why}",
                    verdict.name,
                    show(value)
                )),
            }
        }
        if c.safelisted_total > super::safelist::MAX_SAFELISTED_TOTAL_LEN {
            lines.push(format!(
                "the safelisted values add up to {} bytes, more than 1024, so they all count as unsafe",
                c.safelisted_total
            ));
        }
        trace.push(Step::pass("request-headers", lines.join("; ")));

        let step = if self.is_same_origin() {
            Step::pass("preflight", "no preflight: same-origin requests never preflight")
        } else if self.needs_preflight() {
            let mut why = Vec::new();
            if self.use_cors_preflight {
                why.push("the use-CORS-preflight flag is set".to_string());
            }
            if !is_cors_safelisted_method(&self.method) {
                why.push(format!("`{}` is not a safelisted method", self.method));
            }
            if !c.unsafe_names.is_empty() {
                why.push(format!("of the unsafe header names {}", quote_list(&c.unsafe_names)));
            }
            let acrh = if c.unsafe_names.is_empty() {
                "no Access-Control-Request-Headers".to_string()
            } else {
                format!("`Access-Control-Request-Headers: {}`", c.unsafe_names.join(","))
            };
            Step::pass(
                "preflight",
                format!(
                    "a preflight is needed because {}: OPTIONS with `Access-Control-Request-Method: {}` and {acrh}",
                    why.join(" and because "),
                    self.method
                ),
            )
        } else {
            Step::pass(
                "preflight",
                format!(
                    "no preflight: `{}` is safelisted and every header is safelisted",
                    self.method
                ),
            )
        };
        trace.push(step);
        trace
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const O: &str = "https://app.example";
    const T: &str = "https://api.example/r";

    fn req(method: &str, headers: &[(&str, &str)]) -> Request {
        let mut b = Request::builder(O, T).method(method);
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        match b.build() {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn vector_1_no_preflight_and_origin_sent() {
        for m in ["GET", "HEAD", "POST", "get", "post"] {
            let r = req(m, &[]);
            assert!(!r.needs_preflight(), "{m}");
            assert!(r.preflight().is_none());
            let h = r.actual_headers();
            assert!(h.iter().any(|(n, v)| n == "Origin" && v == O.as_bytes()));
            assert!(h.iter().any(|(n, v)| n == "Accept" && v == b"*/*"));
        }
    }

    #[test]
    fn vector_2_3_4_safe_headers_no_preflight() {
        for headers in [
            vec![("Accept", "*/*")],
            vec![("Accept-Language", "fr")],
            vec![("Content-Language", "fr")],
            vec![("Content-Type", "text/plain;charset=utf-8")],
            vec![("Content-Type", "Text/Plain;charset=utf-8")],
            vec![("Content-Type", "multipart/form-data")],
            vec![("Content-Type", "application/x-www-form-urlencoded")],
        ] {
            assert!(!req("GET", &headers).needs_preflight(), "{headers:?}");
        }
        for m in ["Get", "post"] {
            let r = req(m, &[("content-type", "text/plain; parameter=extra_bonus")]);
            assert!(!r.needs_preflight(), "{m}");
        }
    }

    #[test]
    fn vector_9_preflight_names() {
        for (name, value) in [
            ("authorization", "basics"),
            ("test", "hi"),
            ("content-type", "text/html"),
        ] {
            let r = req("GET", &[(name, value)]);
            let pf = r.preflight().unwrap();
            assert_eq!(pf.header("Access-Control-Request-Headers"), Some(name));
            assert_eq!(pf.header("Access-Control-Request-Method"), Some("GET"));
        }
    }

    #[test]
    fn vector_11_preflight_request_exact() {
        let r = req(
            "GET",
            &[
                ("x-test-header1", "v"),
                ("x-test-header2", "v"),
                ("X-test-header3", "v"),
                ("x-test-header-b", "v"),
                ("x-test-header-D", "v"),
                ("x-test-header-C", "v"),
                ("x-test-header-a", "v"),
                ("Content-Type", "allowedOrRefused"),
                ("Accept", "*"),
                ("Accept-Language", "bzh"),
                ("Content-Language", "eu"),
            ],
        );
        let pf = r.preflight().unwrap();
        assert_eq!(
            pf.headers,
            vec![
                ("Origin".to_string(), O.to_string()),
                ("Accept".to_string(), "*/*".to_string()),
                ("Access-Control-Request-Method".to_string(), "GET".to_string()),
                (
                    "Access-Control-Request-Headers".to_string(),
                    "content-type,x-test-header-a,x-test-header-b,x-test-header-c,x-test-header-d,x-test-header1,x-test-header2,x-test-header3".to_string()
                ),
            ]
        );
        assert_eq!(pf.url, T);
        // The script set Accept, so the browser does not add its own.
        assert_eq!(
            r.headers()
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("accept"))
                .count(),
            1
        );
    }

    #[test]
    fn vector_12_13_method_only_preflight() {
        for m in ["PUT", "DELETE", "PATCH", "NEW", "put"] {
            let r = req(m, &[]);
            let pf = r.preflight().unwrap();
            assert_eq!(pf.header("Access-Control-Request-Method"), Some(normalize_method(m)));
            assert_eq!(pf.header("Access-Control-Request-Headers"), None);
        }
        let r = req("PUT", &[("Accept-Language", "fr"), ("Content-Type", "text/plain")]);
        assert_eq!(r.preflight().unwrap().header("Access-Control-Request-Headers"), None);
    }

    #[test]
    fn use_cors_preflight_flag_forces_preflight() {
        let r = Request::builder(O, T).use_cors_preflight(true).build().unwrap();
        assert!(r.needs_preflight());
        assert_eq!(
            r.preflight().unwrap().header("access-control-request-method"),
            Some("GET")
        );
    }

    #[test]
    fn body_types_set_content_type() {
        let r = Request::builder(O, T)
            .method("POST")
            .body(BodyType::Text)
            .build()
            .unwrap();
        assert!(!r.needs_preflight());
        assert!(r
            .headers()
            .iter()
            .any(|(n, v)| n == "Content-Type" && v == b"text/plain;charset=UTF-8"));
        for b in [
            BodyType::UrlSearchParams,
            BodyType::FormData,
            BodyType::Blob("Text/Plain".into()),
        ] {
            let r = Request::builder(O, T).method("POST").body(b).build().unwrap();
            assert!(!r.needs_preflight());
        }
        let r = Request::builder(O, T)
            .method("POST")
            .body(BodyType::parse("application/json"))
            .build()
            .unwrap();
        assert_eq!(r.unsafe_header_names(), ["content-type"]);
        // An explicit Content-Type wins over the body's.
        let r = Request::builder(O, T)
            .method("POST")
            .header("content-type", "application/json")
            .body(BodyType::Text)
            .build()
            .unwrap();
        assert_eq!(r.unsafe_header_names(), ["content-type"]);
        // Empty blob type: no Content-Type at all.
        let r = Request::builder(O, T)
            .method("POST")
            .body(BodyType::Blob(String::new()))
            .build()
            .unwrap();
        assert!(!r.headers().iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")));
        let e = Request::builder(O, T).body(BodyType::Text).build().unwrap_err();
        assert_eq!(e.code(), "body-with-get-or-head");
    }

    #[test]
    fn input_errors() {
        let e = |b: RequestBuilder| b.build().unwrap_err().code();
        assert_eq!(e(Request::builder(O, T).method("connect")), "forbidden-method");
        assert_eq!(e(Request::builder(O, T).method("TRACK")), "forbidden-method");
        assert_eq!(e(Request::builder(O, T).method("Bad method")), "invalid-method");
        assert_eq!(e(Request::builder(O, T).header("Cookie", "a=b")), "forbidden-header");
        assert_eq!(
            e(Request::builder(O, T).header("Sec-Fetch-Mode", "cors")),
            "forbidden-header"
        );
        assert_eq!(
            e(Request::builder(O, T).header("Origin", "https://x")),
            "forbidden-header"
        );
        assert_eq!(
            e(Request::builder(O, T).header("header name", "x")),
            "invalid-header-name"
        );
        assert_eq!(e(Request::builder(O, T).header("x", "a\nb")), "invalid-header-value");
        assert_eq!(
            e(Request::builder(O, T).header("x", "\u{20ac}")),
            "invalid-header-value"
        );
        assert_eq!(e(Request::builder("app.example", T)), "invalid-origin");
        assert_eq!(e(Request::builder(O, "ftp://api.example/")), "invalid-url");
        assert_eq!(e(Request::builder(O, "https://u:p@api.example/")), "invalid-url");
        assert_eq!(e(Request::builder(O, "/relative")), "invalid-url");
        let msg = Request::builder(O, T)
            .header("Cookie", "a")
            .build()
            .unwrap_err()
            .to_string();
        assert!(msg.contains("cannot set"), "{msg}");
    }

    #[test]
    fn values_are_normalized_and_latin1() {
        let r = req("GET", &[("X-A", "  v \t"), ("X-B", "caf\u{e9}")]);
        assert_eq!(r.headers()[0].1, b"v");
        assert_eq!(r.headers()[1].1, b"caf\xE9");
        // An empty value is fine (x-force-preflight:).
        let r = req("GET", &[("x-force-preflight", "")]);
        assert_eq!(r.unsafe_header_names(), ["x-force-preflight"]);
    }

    #[test]
    fn same_origin_never_preflights() {
        let r = Request::builder("https://api.example", T)
            .method("PUT")
            .header("X-A", "1")
            .build()
            .unwrap();
        assert!(r.is_same_origin());
        assert!(r.preflight().is_none());
        // Same-origin PUT still carries Origin; same-origin GET does not.
        assert!(r.actual_headers().iter().any(|(n, _)| n == "Origin"));
        let r = Request::builder("https://api.example:443", T).build().unwrap();
        assert!(!r.actual_headers().iter().any(|(n, _)| n == "Origin"));
        // A null origin is never same-origin.
        let r = Request::builder("null", T).build().unwrap();
        assert!(!r.is_same_origin());
        assert!(r.actual_headers().iter().any(|(n, v)| n == "Origin" && v == b"null"));
    }

    #[test]
    fn trace_explains() {
        let r = req("patch", &[("Content-Type", "application/json")]);
        let t = r.trace();
        assert!(t.is_ok());
        let text = t.to_string();
        assert!(text.contains("`patch`"), "{text}");
        assert!(text.contains("application/json"), "{text}");
        assert!(text.contains("Access-Control-Request-Headers: content-type"), "{text}");
        let r = req("get", &[]);
        let text = r.trace().to_string();
        assert!(text.contains("`get` is normalized to `GET`"), "{text}");
        assert!(text.contains("no preflight"), "{text}");
    }
}
