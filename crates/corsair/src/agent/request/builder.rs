//! [`RequestBuilder`]: a request as a script writes it, validated and
//! normalized as the `Request` constructor and `Headers` do.

use super::{BodyType, CredentialsMode, Request, RequestError};
use crate::agent::origin::{includes_credentials, origin_serialization, parse_origin, parse_url};
use crate::agent::text::show;
use crate::fetch::syntax::{isomorphic_encode, trim_http_whitespace};
use crate::fetch::{
    forbidden_request_header, is_forbidden_method, is_header_name, is_method, normalize_method, Forbidden,
};

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
        // Fetch §5.4 "Request class", constructor step 5.1: parse the URL
        // (step 5.2: failure throws).
        let url = parse_url(&self.url).map_err(|reason| RequestError::InvalidUrl {
            input: self.url.clone(),
            reason,
        })?;
        // Fetch §4.1 "Main fetch", step 12: a scheme that is not HTTP(S)
        // is a network error on the CORS path.
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(RequestError::InvalidUrl {
                input: self.url,
                reason: "only http and https URLs take part in CORS".to_string(),
            });
        }
        // Constructor step 5.3: a URL that includes credentials throws.
        if includes_credentials(&url) {
            return Err(RequestError::InvalidUrl {
                input: self.url,
                reason: "a URL with credentials (`user:password@`) makes fetch() throw".to_string(),
            });
        }
        // Constructor step 25.2: not a method, or a forbidden method,
        // throws; step 25.3: normalize it.
        let method_input = self.method.trim().to_string();
        if !is_method(&method_input) {
            return Err(RequestError::InvalidMethod { method: method_input });
        }
        if is_forbidden_method(&method_input) {
            return Err(RequestError::ForbiddenMethod { method: method_input });
        }
        let method = normalize_method(&method_input).to_owned();

        let mut headers: Vec<(String, Vec<u8>)> = Vec::with_capacity(self.headers.len() + 2);
        // Fetch §5.1 "Headers class", "append" for the "request" guard.
        for (name, value) in &self.headers {
            let name = name.trim();
            if !is_header_name(name) {
                return Err(RequestError::InvalidHeaderName { name: name.to_string() });
            }
            let bytes = isomorphic_encode(value).ok_or_else(|| RequestError::InvalidHeaderValue {
                name: name.to_string(),
                reason: "it contains a character above U+00FF, which is not a ByteString".to_string(),
            })?;
            // "append", step 1: normalize the value (Fetch §2.2.2); step 2,
            // "validate" step 1: a name that is not a header name or a
            // value that is not a header value throws.
            let bytes = trim_http_whitespace(&bytes).to_vec();
            if let Some(b) = bytes.iter().find(|b| matches!(b, 0 | b'\n' | b'\r')) {
                return Err(RequestError::InvalidHeaderValue {
                    name: name.to_string(),
                    reason: format!("it contains the byte `{}`", show(&[*b])),
                });
            }
            // "validate", step 3: a forbidden request-header is dropped
            // silently by the browser; here it is an error that says so.
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
            // Constructor step 35: a body with `GET` or `HEAD` throws.
            if method == "GET" || method == "HEAD" {
                return Err(RequestError::BodyWithGetOrHead { method });
            }
            // Constructor step 37.4: the body's type becomes `Content-Type`
            // unless the headers have one.
            if let Some(ct) = body.content_type() {
                if !has(&headers, "content-type") {
                    headers.push(("Content-Type".to_string(), ct.clone().into_bytes()));
                    added_content_type = Some(ct);
                }
            }
        }
        // Fetch §4 "fetch", step 12: `Accept: */*` unless the script set one.
        let added_accept = !has(&headers, "accept");
        if added_accept {
            headers.push(("Accept".to_string(), b"*/*".to_vec()));
        }
        let url_origin = origin_serialization(&url);
        Ok(Request {
            origin,
            origin_input: self.origin,
            url: self.url.trim().to_string(),
            current_url: url.as_str().to_string(),
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
}
