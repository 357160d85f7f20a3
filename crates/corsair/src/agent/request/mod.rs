//! The request a page makes: [`Request`], built and validated by
//! [`RequestBuilder`], with [`CredentialsMode`], [`BodyType`] and
//! [`RequestError`]; what it needs (a preflight or not) and what it sends.

mod builder;
mod error;
mod explain;
mod options;
#[cfg(test)]
mod tests;

pub use builder::RequestBuilder;
pub use error::RequestError;
pub use options::{BodyType, CredentialsMode};

use super::preflight::PreflightRequest;
use super::safelist::{classify, Classification};
use crate::fetch::{is_cors_non_wildcard_request_header_name, is_cors_safelisted_method, is_request_body_header_name};

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
    /// The URL as given.
    url: String,
    /// The URL as parsed and serialized.
    current_url: String,
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
    /// The serialized page origin (what `Origin` carries), e.g. `https://app.example`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL as the URL parser serializes it (Fetch's "current URL"):
    /// what the preflight cache keys on.
    pub(crate) fn current_url(&self) -> &str {
        &self.current_url
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
        // Fetch §4.1 "Main fetch", step 12, first branch: the current URL's
        // origin is same origin with the request's origin (an opaque origin,
        // serialized `null`, is same origin with no URL) and the response
        // tainting is still "basic" (a tainted request has `null` here).
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
    /// (Fetch §2.2.2 "CORS-unsafe request-header names" of the header list.)
    pub fn unsafe_header_names(&self) -> Vec<String> {
        self.classification().unsafe_names
    }

    /// Whether the browser takes the CORS-with-preflight path (ignoring the
    /// preflight cache): a cross-origin request with the use-CORS-preflight
    /// flag, a non-safelisted method, or a CORS-unsafe header.
    pub fn needs_preflight(&self) -> bool {
        // Fetch §4.1 "Main fetch", step 12: the CORS-with-preflight branch
        // is taken for the use-CORS-preflight flag, or (the unsafe-request
        // flag being set by `fetch()`) for a method that is not
        // CORS-safelisted or a non-empty list of CORS-unsafe names.
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
        // Fetch §4.8 "CORS-preflight fetch", step 1: an OPTIONS request to
        // the same URL with the same origin (`Origin`, as §3.2 appends it for
        // a "cors" response tainting); step 2: `Accept: */*`; step 3:
        // `Access-Control-Request-Method`, the request's (normalized) method.
        let mut headers = vec![
            ("Origin".to_string(), self.origin.clone()),
            ("Accept".to_string(), "*/*".to_string()),
            ("Access-Control-Request-Method".to_string(), self.method.clone()),
        ];
        // Steps 4 and 5: the CORS-unsafe request-header names (lowercase,
        // sorted, deduplicated), joined with `,` alone, when there are any.
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
        // Fetch §3.2 "append a request `Origin` header", step 3: always for
        // a "cors" response tainting (cross-origin); step 4: otherwise only
        // for a method that is neither `GET` nor `HEAD` (mode "cors" keeps
        // the origin whatever the referrer policy).
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
        // Fetch §4.5 "HTTP-redirect fetch", step 12: 301/302 with `POST`,
        // or 303 with anything but `GET`/`HEAD`, become `GET` without a
        // body (12.1) and without the request-body headers (12.2).
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
        // Step 13: a hop to another origin deletes the CORS non-wildcard
        // request-header names (`Authorization`).
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
        // Fetch §2.2.5 "serializing a request origin", step 2: a request
        // whose redirect-taint is not "same-origin" serializes its origin
        // as `null`.
        if tainted {
            next.origin = "null".to_string();
        }
        next.url = url.to_string();
        next.current_url = url.to_string();
        next.url_origin = url_origin.to_string();
        next
    }
}
