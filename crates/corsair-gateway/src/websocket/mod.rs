//! WebSocket through the gateway: what a handshake must be, whose origin
//! may open one, and the refusals (each with a stable reason code).
//!
//! CORS never applies to WebSockets: a browser sends the handshake with the
//! user's cookies and the page's `Origin` whatever the server answers, and
//! a page that gets the 101 reads and writes freely (Cross-Site WebSocket
//! Hijacking; RFC 6455 §10.2). The defence is the server's own check of
//! `Origin`, which the gateway makes before the upstream sees anything:
//!
//! - [`handshake`]: an HTTP/1.1 `Upgrade: websocket` request (RFC 6455
//!   §4.1, §4.2.1) or an HTTP/2 extended CONNECT (RFC 8441 §4, §5), checked
//!   field by field: a malformed one is a 400, an unsupported version a 426
//!   with `Sec-WebSocket-Version: 13`;
//! - [`origin`]: the origin decision: no `Origin` (a non-browser client,
//!   RFC 6455 §4.2.1 item 7), the request's own origin, or an origin the
//!   covering policy allows; anything else is a 403;
//! - the tunnel (bytes both ways with an idle and a total limit, counted,
//!   closed on shutdown) is the gateway's (`proxy::websocket`).
//!
//! Public so that `corsair check` and `audit` decide and compute exactly as
//! the gateway does; not a stable API.

pub mod handshake;
pub mod origin;
pub(crate) mod tunnel;

use std::fmt;

use http::StatusCode;

/// The GUID of RFC 6455 §1.3, appended to the key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only WebSocket version (RFC 6455 §4.1 item 9).
pub const VERSION: &str = "13";

/// Why the gateway refuses a WebSocket handshake: answered here, never
/// forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a `GET` (RFC 6455 §4.1 item 2).
    Method,
    /// `Sec-WebSocket-Key` missing, repeated, or not the base64 of 16 bytes
    /// (RFC 6455 §4.1 item 7).
    Key,
    /// No `Sec-WebSocket-Version` (RFC 6455 §4.1 item 9).
    VersionMissing,
    /// A `Sec-WebSocket-Version` other than 13: 426 (RFC 6455 §4.2.2, §4.4).
    VersionUnsupported,
    /// A handshake with a body: where the frames start would depend on who
    /// reads the framing.
    Body,
    /// More than one `Origin` field line.
    MultipleOrigins,
    /// An `Origin` the covering policy does not allow (and not the
    /// request's own).
    OriginNotAllowed,
    /// `Origin: null` (sandboxed frames, `file:` pages, some redirects):
    /// anybody can make a page with it.
    NullOrigin,
    /// A cross-origin handshake on a path no policy covers: there is no
    /// list of origins to allow it.
    CrossOriginUncovered,
}

impl Refusal {
    /// A stable code for logs and metrics.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Method => "websocket_method",
            Refusal::Key => "websocket_key",
            Refusal::VersionMissing => "websocket_version_missing",
            Refusal::VersionUnsupported => "websocket_version_unsupported",
            Refusal::Body => "websocket_body",
            Refusal::MultipleOrigins => "websocket_multiple_origins",
            Refusal::OriginNotAllowed => "websocket_origin_not_allowed",
            Refusal::NullOrigin => "websocket_null_origin",
            Refusal::CrossOriginUncovered => "websocket_cross_origin_uncovered",
        }
    }

    /// The status answered: 400 for a malformed handshake, 426 for an
    /// unsupported version, 403 for an origin the gateway refuses.
    pub fn status(self) -> StatusCode {
        match self {
            Refusal::VersionUnsupported => StatusCode::UPGRADE_REQUIRED,
            Refusal::OriginNotAllowed | Refusal::NullOrigin | Refusal::CrossOriginUncovered => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether it is a refusal of the origin (403), not of a malformed
    /// handshake.
    pub fn is_origin(self) -> bool {
        self.status() == StatusCode::FORBIDDEN
    }

    /// Every refusal, for the metrics.
    pub const ALL: [Refusal; 9] = [
        Refusal::Method,
        Refusal::Key,
        Refusal::VersionMissing,
        Refusal::VersionUnsupported,
        Refusal::Body,
        Refusal::MultipleOrigins,
        Refusal::OriginNotAllowed,
        Refusal::NullOrigin,
        Refusal::CrossOriginUncovered,
    ];
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Method => "a WebSocket handshake must be a GET (RFC 6455 §4.1)",
            Refusal::Key => "a WebSocket handshake needs one Sec-WebSocket-Key, the base64 of 16 bytes (RFC 6455 §4.1)",
            Refusal::VersionMissing => "a WebSocket handshake needs `Sec-WebSocket-Version: 13` (RFC 6455 §4.1)",
            Refusal::VersionUnsupported => "unsupported Sec-WebSocket-Version: only 13 (RFC 6455 §4.4)",
            Refusal::Body => "a WebSocket handshake must not have a body",
            Refusal::MultipleOrigins => "more than one Origin header",
            Refusal::OriginNotAllowed => {
                "the origin is not allowed to open a WebSocket here (the policy's allow_origins)"
            }
            Refusal::NullOrigin => "the `null` origin may not open a WebSocket (any page can have it)",
            Refusal::CrossOriginUncovered => {
                "no policy covers this path, so only the page's own origin may open a WebSocket to it"
            }
        })
    }
}

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455 §4.2.2 item
/// 5.4): the base64 of the SHA-1 of the key and the GUID.
pub fn accept_key(key: &[u8]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(key);
    ctx.update(GUID);
    base64(ctx.finish().as_ref())
}

/// A fresh `Sec-WebSocket-Key`: the base64 of 16 random bytes (RFC 6455
/// §4.1 item 7), for the handshakes the gateway itself sends upstream (an
/// HTTP/2 client sends none) and `corsair check`'s. `None` when the system
/// has no randomness to give.
pub fn new_key() -> Option<String> {
    let mut nonce = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce).ok()?;
    Some(base64(&nonce))
}

/// Base64 with padding (RFC 4648 §4).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The value of a base64 digit, if it is one.
fn base64_digit(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
