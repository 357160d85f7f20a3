//! One WebSocket handshake to a live URL, for `check --websocket` and
//! `audit`: a `GET` with `Upgrade: websocket` (safe: it asks to open a
//! socket, it changes nothing) written over a connection of its own (TLS
//! for `wss://` and `https://`, with the project's one client configuration
//! and HTTP/1.1), the answer's head read back (and the start of its body,
//! where a corsair gateway names its reason), and, after a 101, a close
//! frame (1000, RFC 6455 §5.5.1) and the end of the connection at once: no
//! message is ever sent.

use std::time::Duration;

use corsair_gateway::websocket::{accept_key, new_key};
use http::header::{HeaderMap, HeaderValue};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use url::Url;

use crate::client::parse_url;
use crate::client::raw::{find, parse_head, target, Endpoint};

/// The most bytes of a head, and of the body kept.
const HEAD_LIMIT: usize = 32 * 1024;
const BODY_LIMIT: usize = 1024;

/// What the server answered.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    /// The start of the body (of an answer other than 101), as text.
    pub(crate) body: String,
    /// A 101 that accepts the handshake: `Upgrade: websocket` and the
    /// `Sec-WebSocket-Accept` of the key sent.
    pub(crate) accepted: bool,
}

impl Answer {
    /// The reason code a corsair gateway gives in its refusal's body
    /// (`corsair: websocket_…: …`).
    pub(crate) fn corsair_reason(&self) -> Option<&str> {
        let rest = self.body.strip_prefix("corsair: ")?;
        let (code, _) = rest.split_once(':')?;
        code.starts_with("websocket_").then_some(code)
    }
}

/// The `http(s)` URL of a `ws(s)` one (the others unchanged), checked.
pub(crate) fn http_url(url: &str) -> Result<Url, String> {
    let t = url.trim();
    let lower = t.get(..6).unwrap_or("").to_ascii_lowercase();
    let swapped = if lower.starts_with("wss://") {
        format!("https://{}", &t[6..])
    } else if lower.starts_with("ws://") {
        format!("http://{}", &t[5..])
    } else {
        t.to_owned()
    };
    parse_url(&swapped).map_err(|e| e.to_string().replace("use http or https", "use ws, wss, http or https"))
}

/// Whether a URL names the WebSocket schemes.
pub(crate) fn is_ws_url(url: &str) -> bool {
    let l = url.trim().get(..6).unwrap_or("").to_ascii_lowercase();
    l.starts_with("ws://") || l.starts_with("wss://")
}

/// Sends one handshake to `url` from `origin` (none: as a non-browser).
pub(crate) async fn handshake(url: &Url, origin: Option<&str>, timeout: Duration) -> Result<Answer, String> {
    let endpoint = Endpoint::of(url);
    let (target, authority) = (target(url), &endpoint.authority);
    let key = new_key().ok_or("no randomness for a Sec-WebSocket-Key")?;
    let mut request = format!(
        "GET {target} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: corsair/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(o) = origin {
        if o.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(format!("the origin {o:?} holds a control character"));
        }
        request.push_str(&format!("Origin: {o}\r\n"));
    }
    request.push_str("\r\n");
    let exchange = async { exchange_on(endpoint.connect().await?, request.as_bytes(), &key).await };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
}

async fn exchange_on<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, request: &[u8], key: &str) -> Result<Answer, String> {
    s.write_all(request).await.map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            break end + 4;
        }
        if buf.len() > HEAD_LIMIT {
            return Err(format!("a response head larger than {HEAD_LIMIT} bytes"));
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) if buf.is_empty() => return Err("the server closed the connection without answering".into()),
            Ok(0) | Err(_) => return Err("the server closed the connection in the middle of its answer".into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let (status, headers) = parse_head(&buf[..head_end])?;
    if status == 101 {
        let upgrade = headers
            .get_all(http::header::UPGRADE)
            .iter()
            .any(|v| v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"websocket"));
        let accept = headers.get("sec-websocket-accept").map(HeaderValue::as_bytes);
        let accepted = upgrade && accept == Some(accept_key(key.as_bytes()).as_bytes());
        // Close at once: a close frame (masked, as a client's must be), then
        // the end of the connection. Failures here change nothing.
        let _ = s.write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8]).await;
        let _ = s.shutdown().await;
        return Ok(Answer {
            status,
            headers,
            body: String::new(),
            accepted,
        });
    }
    // The start of the body, within its length (a refusal's explanation).
    let length = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(BODY_LIMIT);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(length);
    Ok(Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).trim_end().to_owned(),
        accepted: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls_become_http_ones() {
        assert_eq!(http_url("ws://a.example/x?y").unwrap().as_str(), "http://a.example/x?y");
        assert_eq!(
            http_url("WSS://a.example:8443").unwrap().as_str(),
            "https://a.example:8443/"
        );
        assert_eq!(http_url("https://a.example/").unwrap().as_str(), "https://a.example/");
        assert!(http_url("ftp://a.example")
            .unwrap_err()
            .contains("ws, wss, http or https"));
        assert!(is_ws_url(" wss://a") && is_ws_url("ws://a") && !is_ws_url("https://a"));
    }

    #[test]
    fn a_corsair_refusal_names_its_reason() {
        let a = |body: &str| Answer {
            status: 403,
            headers: HeaderMap::new(),
            body: body.to_owned(),
            accepted: false,
        };
        assert_eq!(
            a("corsair: websocket_origin_not_allowed: the origin …").corsair_reason(),
            Some("websocket_origin_not_allowed")
        );
        assert_eq!(a("forbidden").corsair_reason(), None);
        assert_eq!(a("corsair: the upstream is unreachable").corsair_reason(), None);
    }
}
