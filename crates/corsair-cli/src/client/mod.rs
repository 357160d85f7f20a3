//! The HTTP client shared by `check` and `audit`.
//!
//! A deliberately small wrapper around [`hyper_util::client::legacy::Client`] with a
//! [`hyper_rustls::HttpsConnector`], so that both `http://` and `https://` URLs work.
//! TLS is the project's one client configuration
//! ([`corsair_gateway::upstream::https`]: rustls with `ring`, the system's trust store or,
//! when it has none, Mozilla's roots); certificates are verified normally, there is no
//! "insecure" switch.
//!
//! What it does, and what it deliberately does not do:
//!
//! - It sends exactly the method and headers it is given (plus the `Host` header that
//!   hyper derives from the URL). It adds nothing else: no `User-Agent`, no
//!   `Accept`, no cookies, so callers stay in control of what a "browser" would send.
//! - It does **not** follow redirects: a 3xx comes back as the response, because CORS
//!   checks apply to each hop and the caller has to decide what to do with it.
//! - It returns the status and **every** response header line ([`HeaderMap`] keeps
//!   repeated lines as separate values, which matters for CORS: two
//!   `Access-Control-Allow-Origin` lines make a browser fail the check).
//! - It reads at most [`MAX_BODY_BYTES`] of the body (by default) and drops the rest.
//! - The whole exchange (connect, TLS, request, response head and the body prefix) is
//!   bounded by one timeout, [`DEFAULT_TIMEOUT`] unless changed.
//!
//! ```ignore
//! let client = client::Client::new()?;
//! let origin = (http::header::ORIGIN, HeaderValue::from_static("https://app.example.com"));
//! let resp = client.send(&Method::GET, "https://api.example.com/", &[origin]).await?;
//! println!("{} {:?}", resp.status, resp.headers.get_all("access-control-allow-origin"));
//! ```
//!
//! URLs are parsed by the `url` crate (the WHATWG URL Standard, as `fetch()` parses
//! them); see [`parse_url`].

mod error;
pub(crate) mod raw;

use std::cell::RefCell;
use std::fmt;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, StatusCode, Uri, Version};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use url::{ParseError, SyntaxViolation, Url};

use self::error::classify;
pub use self::error::ClientError;

/// Default bound on one whole request/response exchange.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default number of body bytes kept; the rest of the body is discarded unread.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What came back from the server.
///
/// `check` and `audit` read the status and the headers; the version and the body prefix
/// are kept for callers that show them (the tests read them).
#[derive(Debug, Clone)]
#[allow(dead_code)]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// The HTTP version the exchange used (HTTP/2 is negotiated over TLS via ALPN).
    pub version: Version,
    /// All response headers; repeated header lines are kept as separate values.
    pub headers: HeaderMap,
    /// The first bytes of the body, up to the client's limit ([`Client::with_max_body`]).
    pub body: Bytes,
    /// True when the body was longer than the limit and has been cut.
    pub body_truncated: bool,
    /// Set when reading the body failed after the head arrived (the status and headers
    /// are still valid; a browser would report a network error for the body).
    pub body_error: Option<String>,
}

type Inner = LegacyClient<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A reusable client (keeps a connection pool). Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Inner,
    timeout: Duration,
    max_body: usize,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.timeout)
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with [`DEFAULT_TIMEOUT`] and [`MAX_BODY_BYTES`].
    ///
    /// Does not need to run inside a Tokio runtime, but [`Client::send`] does.
    pub fn new() -> Result<Self, ClientError> {
        let connector =
            corsair_gateway::upstream::https::connector().map_err(|e| ClientError::Setup { reason: e.to_string() })?;
        let inner = LegacyClient::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Client {
            inner,
            timeout: DEFAULT_TIMEOUT,
            max_body: MAX_BODY_BYTES,
        })
    }

    /// Change the per-request timeout (covers connect, TLS, head and body prefix).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Change how many body bytes are kept (`0` skips reading the body entirely).
    pub fn with_max_body(mut self, max_body: usize) -> Self {
        self.max_body = max_body;
        self
    }

    /// Send a request without a body.
    ///
    /// `headers` are appended in order (a name given twice is sent as two lines).
    pub async fn send(
        &self,
        method: &Method,
        url: &str,
        headers: &[(HeaderName, HeaderValue)],
    ) -> Result<Response, ClientError> {
        self.send_with_body(method, url, headers, Bytes::new()).await
    }

    /// Send a request with a body (set `Content-Type` in `headers` yourself).
    pub async fn send_with_body(
        &self,
        method: &Method,
        url: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: Bytes,
    ) -> Result<Response, ClientError> {
        let parsed = parse_url(url)?;
        let authority = authority_of(&parsed);
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let uri = request_uri(&parsed)?;

        let mut builder = Request::builder().method(method.clone()).uri(uri);
        if let Some(map) = builder.headers_mut() {
            for (name, value) in headers {
                map.append(name.clone(), value.clone());
            }
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|e| ClientError::InvalidRequest { reason: e.to_string() })?;

        let exchange = async {
            let response = self
                .inner
                .request(request)
                .await
                .map_err(|e| classify(&e, url, &host, &authority))?;
            let (parts, body) = response.into_parts();
            let (body, body_truncated, body_error) = read_prefix(body, self.max_body).await;
            Ok(Response {
                status: parts.status,
                version: parts.version,
                headers: parts.headers,
                body,
                body_truncated,
                body_error,
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::Timeout {
                url: url.to_owned(),
                after: self.timeout,
            }),
        }
    }
}

/// Parses and validates a request URL by the WHATWG URL Standard (the `url` crate), as
/// `fetch()` does: absolute, `http` or `https` (which always have a host), and without
/// user information, which `fetch()` refuses too (Fetch §5.4, the `Request` constructor:
/// "If parsedURL includes credentials, then throw a TypeError"). A fragment is allowed and
/// never sent.
///
/// Input whose structure the URL Standard repairs with a validation error is refused
/// rather than silently reread: a backslash read as `/`, a missing `//` after the scheme,
/// a tab or newline dropped from the middle ([`is_structural`]). Leading and trailing
/// spaces are trimmed; characters the standard percent-encodes (a space in the path,
/// non-ASCII) are encoded as a browser encodes them.
pub fn parse_url(url: &str) -> Result<Url, ClientError> {
    let invalid = |reason: &str| ClientError::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let violations = RefCell::new(Vec::new());
    let record = |v: SyntaxViolation| violations.borrow_mut().push(v);
    let parsed = Url::options()
        .syntax_violation_callback(Some(&record))
        .parse(url.trim())
        .map_err(|e| invalid(&url_error_reason(e)))?;
    match parsed.scheme() {
        "http" | "https" => {}
        s => return Err(invalid(&format!("unsupported scheme `{s}` (use http or https)"))),
    }
    if let Some(reason) = violations.borrow().iter().find_map(|&v| is_structural(v)) {
        return Err(invalid(reason));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("missing host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("user information (`user@`) is not supported in the URL"));
    }
    Ok(parsed)
}

/// Why the URL Standard's parser refused a URL, in words for the command line.
pub(crate) fn url_error_reason(e: ParseError) -> String {
    match e {
        ParseError::RelativeUrlWithoutBase => {
            "not an absolute URL (expected http://host/... or https://host/...)".to_owned()
        }
        ParseError::IdnaError | ParseError::InvalidDomainCharacter => {
            "the host is not a valid domain name (it holds a space or another character a domain cannot contain)"
                .to_owned()
        }
        ParseError::InvalidPort => "invalid port number (0 to 65535)".to_owned(),
        e => e.to_string(),
    }
}

/// The validation errors after which the parsed URL is not what was written (the parser
/// reread its structure), with the reason to give; `None` for the others.
pub(crate) fn is_structural(v: SyntaxViolation) -> Option<&'static str> {
    match v {
        SyntaxViolation::Backslash => Some("a backslash where a `/` belongs (browsers read it as `/`; write `/`)"),
        SyntaxViolation::ExpectedDoubleSlash => Some("expected `//` after the scheme"),
        SyntaxViolation::TabOrNewlineIgnored => Some("a tab or newline inside the URL"),
        _ => None,
    }
}

/// The request target for hyper: the URL without its fragment, as an [`http::Uri`].
fn request_uri(url: &Url) -> Result<Uri, ClientError> {
    let end = url.as_str().len() - url.fragment().map_or(0, |f| f.len() + 1);
    url.as_str()[..end]
        .parse()
        .map_err(|e: http::uri::InvalidUri| ClientError::InvalidUrl {
            url: url.to_string(),
            reason: format!("the HTTP client cannot send this URL: {e}"),
        })
}

/// `host:port` with the scheme's default port filled in, for error messages.
fn authority_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Read at most `limit` bytes of `body`; never fails (errors are reported in the tuple).
async fn read_prefix<B>(mut body: B, limit: usize) -> (Bytes, bool, Option<String>)
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: fmt::Display,
{
    let mut buf = BytesMut::new();
    if limit == 0 {
        return (buf.freeze(), !body.is_end_stream(), None);
    }
    loop {
        match body.frame().await {
            None => return (buf.freeze(), false, None),
            Some(Err(e)) => return (buf.freeze(), false, Some(e.to_string())),
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue; // trailers
                };
                let room = limit.saturating_sub(buf.len());
                if data.len() > room {
                    buf.extend_from_slice(&data[..room]);
                    return (buf.freeze(), true, None);
                }
                buf.extend_from_slice(&data);
            }
        }
    }
}

#[cfg(test)]
mod tests;
