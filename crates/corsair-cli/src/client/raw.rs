//! A connection of its own for the exchanges the HTTP client cannot make
//! (an `Origin` holding a carriage return, a WebSocket handshake): TCP, and
//! TLS for `https://` and `wss://` with the project's one client
//! configuration, offering HTTP/1.1 only; and the response head read back
//! as raw bytes, parsed as far as an HTTP client can carry it.

use std::pin::Pin;
use std::sync::Arc;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use url::Url;

/// A byte stream to the server, plain or TLS.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Send {}

impl<S: AsyncRead + AsyncWrite + Send> Stream for S {}

/// Where a request to an `http(s)` URL goes, and how it names the server.
pub(crate) struct Endpoint {
    /// The host (an IPv6 literal in brackets).
    pub(crate) host: String,
    /// The port, given or the scheme's default.
    pub(crate) port: u16,
    /// `host[:port]` as the `Host` header carries it (the port only when
    /// the URL gives one).
    pub(crate) authority: String,
    /// `https`: TLS.
    pub(crate) tls: bool,
}

impl Endpoint {
    /// The endpoint of `url`.
    pub(crate) fn of(url: &Url) -> Self {
        let host = url.host_str().unwrap_or_default().to_owned();
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        Self {
            port: url.port_or_known_default().unwrap_or(80),
            tls: url.scheme() == "https",
            host,
            authority,
        }
    }

    /// Connects to it.
    pub(crate) async fn connect(&self) -> Result<Pin<Box<dyn Stream>>, String> {
        connect(&self.host, self.port, &self.authority, self.tls).await
    }
}

/// The request target of `url`: its path and query.
pub(crate) fn target(url: &Url) -> &str {
    &url[url::Position::BeforePath..url::Position::AfterQuery]
}

/// Where `needle` first occurs in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The status and the header lines an HTTP client can carry of a response
/// head read as raw bytes (lines that are not valid fields are left out).
pub(crate) fn parse_head(head: &[u8]) -> Result<(u16, HeaderMap), String> {
    let first_end = find(head, b"\r\n").unwrap_or(head.len());
    let first = String::from_utf8_lossy(&head[..first_end]);
    let status = first
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| first.starts_with("HTTP/"))
        .ok_or_else(|| format!("not an HTTP response: {first:?}"))?;
    let mut headers = HeaderMap::new();
    for line in head[first_end..].split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let value = line[colon + 1..].trim_ascii();
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(&line[..colon]), HeaderValue::from_bytes(value)) {
            headers.append(n, v);
        }
    }
    Ok((status, headers))
}

/// Connects to `host` (brackets of an IPv6 literal allowed) on `port`, with
/// TLS when `tls`; `authority` names the server in errors.
async fn connect(host: &str, port: u16, authority: &str, tls: bool) -> Result<Pin<Box<dyn Stream>>, String> {
    let connect_host = host.trim_start_matches('[').trim_end_matches(']');
    let tcp = TcpStream::connect((connect_host, port))
        .await
        .map_err(|e| format!("cannot connect to {authority}: {e}"))?;
    if !tls {
        return Ok(Box::pin(tcp));
    }
    let mut config = corsair_gateway::upstream::https::client_config().map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = rustls::pki_types::ServerName::try_from(connect_host.to_owned())
        .map_err(|e| format!("invalid TLS server name {connect_host}: {e}"))?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS with {authority} failed: {e}"))?;
    Ok(Box::pin(stream))
}
