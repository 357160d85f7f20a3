//! What a WebSocket handshake must be (RFC 6455 §4.1, §4.2.1; RFC 8441 §4,
//! §5 on HTTP/2), checked on what the client sent before anything is
//! forwarded.

use http::header::{self, HeaderMap, HeaderName};
use http::Method;

use super::{base64_digit, Refusal, VERSION};

/// `Sec-WebSocket-Key`.
pub const SEC_WEBSOCKET_KEY: HeaderName = HeaderName::from_static("sec-websocket-key");
/// `Sec-WebSocket-Accept`.
pub const SEC_WEBSOCKET_ACCEPT: HeaderName = HeaderName::from_static("sec-websocket-accept");
/// `Sec-WebSocket-Version`.
pub const SEC_WEBSOCKET_VERSION: HeaderName = HeaderName::from_static("sec-websocket-version");
/// `Sec-WebSocket-Protocol`.
pub const SEC_WEBSOCKET_PROTOCOL: HeaderName = HeaderName::from_static("sec-websocket-protocol");
/// `Sec-WebSocket-Extensions`.
pub const SEC_WEBSOCKET_EXTENSIONS: HeaderName = HeaderName::from_static("sec-websocket-extensions");

/// How the client asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// HTTP/1.1 `GET` with `Upgrade: websocket` (RFC 6455 §4.1); a 101
    /// answers it.
    Http1,
    /// HTTP/2 extended CONNECT with `:protocol websocket` (RFC 8441 §4); a
    /// 200 answers it, and it carries no key (§5).
    Http2,
}

/// Whether an HTTP/1.1 request asks to upgrade to WebSocket: `Upgrade`
/// names `websocket` (case-insensitive, RFC 6455 §4.2.1 item 3) and
/// `Connection` has the `upgrade` option (item 4; RFC 9110 §7.8: a sender
/// of `Upgrade` also sends the option, so that no intermediary forwards it
/// by mistake). A request with only one of the two asks for no upgrade: it
/// is an ordinary request, forwarded without either (they are hop-by-hop).
pub fn asks_for_websocket(headers: &HeaderMap) -> bool {
    has_token(headers, &header::UPGRADE, "websocket") && has_token(headers, &header::CONNECTION, "upgrade")
}

/// Checks a handshake's method and fields: `Ok` when it is one the
/// gateway forwards, else the refusal (400, or 426 for a version other
/// than 13). `has_body`: the request carries a body (a length that is not
/// 0, or a transfer coding). The `Origin` is decided apart
/// ([`super::origin`]).
pub fn check(kind: Kind, method: &Method, headers: &HeaderMap, has_body: bool) -> Result<(), Refusal> {
    match kind {
        Kind::Http1 => {
            // RFC 6455 §4.2.1 items 1 and 5 (3 and 4 made it a handshake:
            // [`asks_for_websocket`]).
            if method != Method::GET {
                return Err(Refusal::Method);
            }
            let mut keys = headers.get_all(SEC_WEBSOCKET_KEY).iter();
            match (keys.next(), keys.next()) {
                (Some(k), None) if is_key(k.as_bytes()) => {}
                _ => return Err(Refusal::Key),
            }
        }
        Kind::Http2 => {
            // RFC 8441 §4: the extended CONNECT; §5: no key.
            if method != Method::CONNECT {
                return Err(Refusal::Method);
            }
        }
    }
    // RFC 6455 §4.2.1 item 6, §4.4.
    let mut versions = headers.get_all(SEC_WEBSOCKET_VERSION).iter();
    match (versions.next(), versions.next()) {
        (None, _) => return Err(Refusal::VersionMissing),
        (Some(v), None) if v.as_bytes().trim_ascii() == VERSION.as_bytes() => {}
        _ => return Err(Refusal::VersionUnsupported),
    }
    if has_body {
        return Err(Refusal::Body);
    }
    Ok(())
}

/// Whether `k` is the base64 of 16 bytes, in its one canonical spelling:
/// 22 digits, the last of which carries no bits past the 128th, and `==`.
pub fn is_key(k: &[u8]) -> bool {
    k.len() == 24
        && k.ends_with(b"==")
        && k[..22].iter().all(|&c| base64_digit(c).is_some())
        && base64_digit(k[21]).is_some_and(|d| d & 0x0F == 0)
}

/// Whether a comma-separated header names `token` (case-insensitive).
pub(crate) fn has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}
