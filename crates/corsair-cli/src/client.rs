//! The HTTP client shared by `check` and `audit`.
//!
//! A deliberately small wrapper around [`hyper_util::client::legacy::Client`] with a
//! [`hyper_rustls::HttpsConnector`], so that both `http://` and `https://` URLs work.
//! TLS uses rustls with the `ring` provider and the Mozilla root store (`webpki-roots`);
//! certificates are verified normally, there is no "insecure" switch.
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
//! A one-shot [`send`] function exists for callers that make a single request.
#![allow(dead_code)] // parts of the API are for `corsair check`, which is written separately

use std::error::Error as StdError;
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

/// Default bound on one whole request/response exchange.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default number of body bytes kept; the rest of the body is discarded unread.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What came back from the server.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// The HTTP version the exchange used (HTTP/2 is negotiated over TLS via ALPN).
    pub version: Version,
    /// All response headers; repeated header lines are kept as separate values.
    pub headers: HeaderMap,
    /// The first [`Client::max_body`] bytes of the body.
    pub body: Bytes,
    /// True when the body was longer than the limit and has been cut.
    pub body_truncated: bool,
    /// Set when reading the body failed after the head arrived (the status and headers
    /// are still valid; a browser would report a network error for the body).
    pub body_error: Option<String>,
}

/// Why a request could not be made or did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The URL is not an absolute `http://` or `https://` URL with a host.
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request could not be built (e.g. a method or header hyper rejects).
    InvalidRequest {
        /// What is wrong.
        reason: String,
    },
    /// The TLS configuration could not be built (should not happen with the bundled roots).
    Setup {
        /// What failed.
        reason: String,
    },
    /// The host name could not be resolved.
    Dns {
        /// The host that failed to resolve.
        host: String,
        /// The resolver's message.
        reason: String,
    },
    /// Nothing listens on the target address (TCP RST).
    ConnectionRefused {
        /// `host:port` that refused.
        authority: String,
    },
    /// The TLS handshake failed (certificate not trusted, name mismatch, protocol error, ...).
    Tls {
        /// `host:port` of the server.
        authority: String,
        /// The TLS library's message.
        reason: String,
    },
    /// Any other failure while connecting (unreachable network, reset, ...).
    Connect {
        /// `host:port` of the server.
        authority: String,
        /// What failed.
        reason: String,
    },
    /// The exchange did not complete within the timeout.
    Timeout {
        /// The URL requested.
        url: String,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// The connection was established but the HTTP exchange failed
    /// (connection closed early, malformed response, HTTP/2 error, ...).
    Http {
        /// The URL requested.
        url: String,
        /// What failed.
        reason: String,
    },
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::InvalidUrl { url, reason } => write!(f, "invalid URL `{url}`: {reason}"),
            ClientError::InvalidRequest { reason } => write!(f, "invalid request: {reason}"),
            ClientError::Setup { reason } => write!(f, "could not set up the HTTP client: {reason}"),
            ClientError::Dns { host, reason } => {
                write!(f, "could not resolve host `{host}`: {reason}")
            }
            ClientError::ConnectionRefused { authority } => {
                write!(f, "connection refused by {authority} (is the server running?)")
            }
            ClientError::Tls { authority, reason } => {
                write!(f, "TLS handshake with {authority} failed: {reason}")
            }
            ClientError::Connect { authority, reason } => {
                write!(f, "could not connect to {authority}: {reason}")
            }
            ClientError::Timeout { url, after } => {
                write!(f, "request to {url} timed out after {} s", after.as_secs_f64())
            }
            ClientError::Http { url, reason } => write!(f, "request to {url} failed: {reason}"),
        }
    }
}

impl StdError for ClientError {}

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
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| ClientError::Setup { reason: e.to_string() })?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .build();
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

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The body limit in bytes.
    pub fn max_body(&self) -> usize {
        self.max_body
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
        let uri = parse_url(url)?;
        let authority = authority_of(&uri);
        let host = uri.host().unwrap_or_default().to_owned();

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

/// One-shot request with a fresh [`Client`] (default timeout and body limit).
///
/// Prefer a shared [`Client`] when sending several requests.
pub async fn send(method: &Method, url: &str, headers: &[(HeaderName, HeaderValue)]) -> Result<Response, ClientError> {
    Client::new()?.send(method, url, headers).await
}

/// Parse and validate a request URL: absolute, `http` or `https`, with a host.
pub fn parse_url(url: &str) -> Result<Uri, ClientError> {
    let invalid = |reason: &str| ClientError::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: Uri = url
        .trim()
        .parse()
        .map_err(|e: http::uri::InvalidUri| ClientError::InvalidUrl {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
    match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => {}
        Some(s) => return Err(invalid(&format!("unsupported scheme `{s}` (use http or https)"))),
        None => {
            return Err(invalid(
                "not an absolute URL (expected http://host/... or https://host/...)",
            ))
        }
    }
    match uri.host() {
        Some(h) if !h.is_empty() => {}
        _ => return Err(invalid("missing host")),
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(invalid("user information (`user@`) is not supported in the URL"));
    }
    Ok(uri)
}

/// `host:port` with the scheme's default port filled in, for error messages.
fn authority_of(uri: &Uri) -> String {
    let host = uri.host().unwrap_or_default();
    let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => 443,
        _ => 80,
    });
    format!("{host}:{port}")
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

/// Turn hyper-util's error into a [`ClientError`] by walking its source chain.
fn classify(err: &hyper_util::client::legacy::Error, url: &str, host: &str, authority: &str) -> ClientError {
    let chain = error_chain(err);
    if err.is_connect() {
        for e in error_tree(err) {
            if let Some(tls) = e.downcast_ref::<rustls::Error>() {
                return ClientError::Tls {
                    authority: authority.to_owned(),
                    reason: tls.to_string(),
                };
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::ConnectionRefused {
                    return ClientError::ConnectionRefused {
                        authority: authority.to_owned(),
                    };
                }
            }
        }
        let lower = chain.to_ascii_lowercase();
        if lower.contains("dns error")
            || lower.contains("failed to lookup address")
            || lower.contains("name or service not known")
            || lower.contains("no such host")
        {
            return ClientError::Dns {
                host: host.to_owned(),
                reason: innermost(err),
            };
        }
        return ClientError::Connect {
            authority: authority.to_owned(),
            reason: chain,
        };
    }
    ClientError::Http {
        url: url.to_owned(),
        reason: chain,
    }
}

/// Every error reachable from `err`: its `source()` chain and, for `io::Error`s (which
/// hide the error they wrap from `source()`), the wrapped error. hyper-rustls reports a
/// failed handshake as `io::Error(io::Error(rustls::Error))`.
fn error_tree<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out: Vec<&'a (dyn StdError + 'static)> = Vec::new();
    let mut stack = vec![err];
    while let Some(e) = stack.pop() {
        if out.len() > 64 {
            break; // pathological chains
        }
        out.push(e);
        if let Some(next) = e.source() {
            stack.push(next);
        }
        if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            stack.push(inner);
        }
    }
    out
}

/// The message of the deepest error in the chain (the actual cause).
fn innermost(err: &(dyn StdError + 'static)) -> String {
    let mut last = err;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// `outer: inner: innermost`, skipping messages already contained in the text so far.
fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let msg = e.to_string();
        if !msg.is_empty() && !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        source = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_url_accepts_http_and_https() {
        assert!(parse_url("http://127.0.0.1:8080/x?y=1").is_ok());
        assert!(parse_url("https://example.com").is_ok());
        assert!(parse_url("HTTPS://Example.com/").is_ok());
    }

    #[test]
    fn parse_url_rejects_bad_urls() {
        for bad in [
            "",
            "example.com",
            "/path",
            "ftp://example.com/",
            "http://",
            "http://user@example.com/",
            "http://exa mple.com/",
        ] {
            assert!(
                matches!(parse_url(bad), Err(ClientError::InvalidUrl { .. })),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn authority_fills_default_ports() {
        let u: Uri = "https://example.com/".parse().unwrap();
        assert_eq!(authority_of(&u), "example.com:443");
        let u: Uri = "http://example.com:81/".parse().unwrap();
        assert_eq!(authority_of(&u), "example.com:81");
    }

    #[tokio::test]
    async fn refused_connection_is_reported() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = send(&Method::GET, &format!("http://127.0.0.1:{port}/"), &[])
            .await
            .unwrap_err();
        assert_eq!(
            err,
            ClientError::ConnectionRefused {
                authority: format!("127.0.0.1:{port}")
            }
        );
    }

    /// A self-signed certificate for `localhost` / `127.0.0.1` (100 years), not in any root store.
    const SELF_SIGNED_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUZJW1Jpz+Zxa2mqWZ5/80aCy8ePkwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNTEyMDIxNloYDzIxMjYxMTAx
MTIwMjE2WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATi8WJzDz5XJHqBVxAVsWltszBn438aBD6YK0rJPQHElLkX6Wvk5pvU
q4m6+fG6RrzWwoZLFrxdHTkR9Xe78aedo28wbTAdBgNVHQ4EFgQUKQCisj/krrAh
dBuRoKH66zbS8AUwHwYDVR0jBBgwFoAUKQCisj/krrAhdBuRoKH66zbS8AUwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDRwAwRAIgKV/ft4hEXQpbCiKdY2mqJYxC4ONEbNq0rPw4tuOPvbYCIHQG
eFQ/H5+cw6mv9IXpKzxcjDew5dWssr1oZFpnGDM0
-----END CERTIFICATE-----
";
    const SELF_SIGNED_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPjf1vkKFyDPDgVA+
82KPZ/lW/DVVuIOV9MFL1ze6EHmhRANCAATi8WJzDz5XJHqBVxAVsWltszBn438a
BD6YK0rJPQHElLkX6Wvk5pvUq4m6+fG6RrzWwoZLFrxdHTkR9Xe78aed
-----END PRIVATE KEY-----
";

    #[tokio::test]
    async fn untrusted_certificate_is_a_tls_error() {
        let certs: Vec<_> = rustls_pemfile::certs(&mut SELF_SIGNED_CERT.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        let key = rustls_pemfile::private_key(&mut SELF_SIGNED_KEY.as_bytes())
            .unwrap()
            .unwrap();
        let config =
            rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _ = acceptor.accept(s).await;
                });
            }
        });
        let err = send(&Method::GET, &format!("https://localhost:{port}/"), &[])
            .await
            .unwrap_err();
        match &err {
            ClientError::Tls { authority, reason } => {
                assert_eq!(authority, &format!("localhost:{port}"));
                assert!(reason.contains("certificate"), "{reason}");
            }
            other => panic!("expected a TLS error, got {other:?}"),
        }
    }

    /// Serve one raw HTTP/1.1 response per connection, after reading the request head.
    async fn raw_server(response: Vec<u8>) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let response = response.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let _ = s.write_all(&response).await;
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn keeps_repeated_headers_and_limits_the_body() {
        let mut response = b"HTTP/1.1 200 OK\r\n\
            Access-Control-Allow-Origin: https://a.example\r\n\
            Access-Control-Allow-Origin: https://b.example\r\n\
            Vary: Origin\r\nVary: Accept-Encoding\r\n\
            Content-Length: 100000\r\n\r\n"
            .to_vec();
        response.extend(std::iter::repeat_n(b'x', 100_000));
        let port = raw_server(response).await;
        let origin = (http::header::ORIGIN, HeaderValue::from_static("https://a.example"));
        let resp = send(&Method::GET, &format!("http://127.0.0.1:{port}/"), &[origin])
            .await
            .unwrap();
        assert_eq!(resp.status, StatusCode::OK);
        let acao: Vec<_> = resp.headers.get_all("access-control-allow-origin").iter().collect();
        assert_eq!(acao, ["https://a.example", "https://b.example"]);
        assert_eq!(resp.headers.get_all("vary").iter().count(), 2);
        assert_eq!(resp.body.len(), MAX_BODY_BYTES);
        assert!(resp.body_truncated);
        assert_eq!(resp.body_error, None);
    }

    #[tokio::test]
    async fn early_close_is_a_body_error_not_a_failure() {
        let response = b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n".to_vec();
        let port = raw_server(response).await;
        let resp = send(&Method::OPTIONS, &format!("http://127.0.0.1:{port}/"), &[])
            .await
            .unwrap();
        assert_eq!(resp.status, StatusCode::NO_CONTENT);
        assert!(resp.body.is_empty() && !resp.body_truncated);

        let response = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec();
        let port = raw_server(response).await;
        // the server closes the connection after 3 of the 10 announced bytes
        let resp = send(&Method::GET, &format!("http://127.0.0.1:{port}/"), &[])
            .await
            .unwrap();
        assert_eq!(resp.status, StatusCode::OK);
        assert_eq!(&resp.body[..], b"abc");
        assert!(resp.body_error.is_some());
    }

    #[tokio::test]
    async fn garbage_response_is_an_http_error() {
        let port = raw_server(b"this is not HTTP\r\n\r\n".to_vec()).await;
        let err = send(&Method::GET, &format!("http://127.0.0.1:{port}/"), &[])
            .await
            .unwrap_err();
        assert!(matches!(err, ClientError::Http { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn timeout_is_reported() {
        // accepts the TCP connection but never answers
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let _hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        let client = Client::new().unwrap().with_timeout(Duration::from_millis(200));
        let err = client
            .send(&Method::GET, &format!("http://127.0.0.1:{port}/"), &[])
            .await
            .unwrap_err();
        assert!(matches!(err, ClientError::Timeout { .. }), "{err:?}");
    }
}
