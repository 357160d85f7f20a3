//! A connection of its own for the exchanges the HTTP client cannot make
//! (an `Origin` holding a carriage return, a WebSocket handshake): TCP, and
//! TLS for `https://` and `wss://` with the project's one client
//! configuration, offering HTTP/1.1 only.

use std::pin::Pin;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// A byte stream to the server, plain or TLS.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Send {}

impl<S: AsyncRead + AsyncWrite + Send> Stream for S {}

/// Connects to `host` (brackets of an IPv6 literal allowed) on `port`, with
/// TLS when `tls`; `authority` names the server in errors.
pub(crate) async fn connect(host: &str, port: u16, authority: &str, tls: bool) -> Result<Pin<Box<dyn Stream>>, String> {
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
