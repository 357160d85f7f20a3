//! The one probe the HTTP client cannot send: a `GET` whose `Origin` holds a carriage
//! return (`crlf-in-origin`), written byte for byte over a connection of its own (TLS
//! for `https://`, with the project's one client configuration and HTTP/1.1), and the
//! response head read back as raw bytes, so that a carriage return the server reflects
//! into a header is seen as it was sent.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::analysis::Observed;
use crate::client::parse_url;
use crate::client::raw::{find, target, Endpoint};

/// The most bytes of a response head read.
const HEAD_LIMIT: usize = 32 * 1024;

/// Sends `GET url` with these raw header lines (name, value bytes) and reads the head.
pub(crate) async fn get(url: &str, lines: &[(&str, Vec<u8>)], timeout: Duration) -> Result<Observed, String> {
    let parsed = parse_url(url).map_err(|e| e.to_string())?;
    let endpoint = Endpoint::of(&parsed);
    let mut request = format!("GET {} HTTP/1.1\r\nHost: {}\r\n", target(&parsed), endpoint.authority).into_bytes();
    for (name, value) in lines {
        request.extend_from_slice(name.as_bytes());
        request.extend_from_slice(b": ");
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"Connection: close\r\n\r\n");
    let exchange = async { exchange_on(endpoint.connect().await?, &request).await };
    let head = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("no answer within {} s", timeout.as_secs()))??;
    parse_head(&head)
}

async fn exchange_on<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, request: &[u8]) -> Result<Vec<u8>, String> {
    s.write_all(request).await.map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match s.read(&mut buf).await {
            Ok(n) => n,
            // A server may reset after answering a request it refused.
            Err(e) if head.is_empty() => return Err(e.to_string()),
            Err(_) => 0,
        };
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = find(&head, b"\r\n\r\n") {
            head.truncate(end + 2);
            break;
        }
        if head.len() > HEAD_LIMIT {
            head.truncate(HEAD_LIMIT);
            break;
        }
    }
    if head.is_empty() {
        return Err("the server closed the connection without answering".to_owned());
    }
    Ok(head)
}

/// The status and the header lines an HTTP client can carry; the raw head is kept.
fn parse_head(head: &[u8]) -> Result<Observed, String> {
    let (status, headers) = crate::client::raw::parse_head(head)?;
    Ok(Observed {
        status,
        headers,
        raw: Some(head.to_vec()),
        refusal: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_keep_their_raw_bytes() {
        let head = b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: https://a\rX-Injected: 1\r\nVary: Origin\r\n\r\n";
        let o = parse_head(head).unwrap();
        assert_eq!(o.status, 200);
        assert_eq!(o.headers.get("vary").unwrap(), "Origin");
        // The line with a bare CR cannot be an HTTP header value: only the raw head has it.
        assert!(o.headers.get("access-control-allow-origin").is_none());
        assert_eq!(o.raw.as_deref(), Some(&head[..]));
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }
}
