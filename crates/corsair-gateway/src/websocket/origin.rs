//! Whose page may open a WebSocket through the gateway.
//!
//! The handshake's `Origin` (one field line at most) is allowed when:
//! 1. there is none: a non-browser client (RFC 6455 §4.2.1 item 7: such a
//!    request "SHOULD NOT be interpreted as coming from a browser client");
//!    browsers always send it for a WebSocket (Fetch: mode `websocket`),
//!    and a non-browser can send any value anyway, so no check on it can
//!    stop one;
//! 2. it is the request's own origin: its host and port are those of the
//!    request's canonical authority (`Host`, or `:authority`), a missing
//!    port being the `Origin` scheme's default on both sides. The scheme is
//!    not compared, as in Go's `CrossOriginProtection` (a gateway behind a
//!    TLS-terminating proxy sees `http` while the page is `https`). A page
//!    of the site itself is never cross-origin, and CORS policies list the
//!    *other* origins that may call an API, so the page's own origin is
//!    usually not listed;
//! 3. the covering policy allows it ([`corsair::Policy::allows_origin`]: the
//!    same list, patterns and `*` as its CORS answers; `null` only under
//!    `*`).
//!
//! Anything else is refused (403): `null` ([`Refusal::NullOrigin`]), an
//! origin the covering policy does not allow
//! ([`Refusal::OriginNotAllowed`]), and any other origin on a path no
//! policy covers ([`Refusal::CrossOriginUncovered`]: with no list, only
//! rule 2 can allow a browser's handshake, which is what an uncovered
//! path's plain requests get from the browser too: no CORS headers, so
//! only the same origin reads them).

use corsair::Policy;
use http::header::{self, HeaderMap};

use super::Refusal;

/// Why a handshake's origin is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// No `Origin`: not a browser.
    NoOrigin,
    /// The request's own origin.
    SameOrigin,
    /// The covering policy allows it.
    Policy,
}

impl Allowed {
    /// A stable code for logs (`no_origin`, `same_origin`, `policy`).
    pub fn code(self) -> &'static str {
        match self {
            Allowed::NoOrigin => "no_origin",
            Allowed::SameOrigin => "same_origin",
            Allowed::Policy => "policy",
        }
    }
}

/// Decides a handshake's origin: `headers` are the handshake's,
/// `authority` the request's canonical `name[:port]` (lowercase, no
/// trailing dot), `policy` the covering policy, if any.
pub fn decide(headers: &HeaderMap, authority: Option<&[u8]>, policy: Option<&Policy>) -> Result<Allowed, Refusal> {
    let mut all = headers.get_all(header::ORIGIN).iter();
    let origin = match (all.next(), all.next()) {
        (None, _) => return Ok(Allowed::NoOrigin),
        (Some(o), None) => o.as_bytes(),
        (Some(_), Some(_)) => return Err(Refusal::MultipleOrigins),
    };
    if origin == b"null" && !policy.is_some_and(Policy::is_public) {
        return Err(Refusal::NullOrigin);
    }
    if authority.is_some_and(|a| same_origin(origin, a)) {
        return Ok(Allowed::SameOrigin);
    }
    match policy {
        None => Err(Refusal::CrossOriginUncovered),
        Some(p) => match std::str::from_utf8(origin) {
            Ok(o) if p.allows_origin(o) => Ok(Allowed::Policy),
            _ => Err(Refusal::OriginNotAllowed),
        },
    }
}

/// Whether the origin `scheme://host[:port]` (http or https) has the host
/// and port of `authority` (`name[:port]`, canonical), a missing port on
/// either side being the origin scheme's default: the engine's Origin-vs-Host
/// rule of cross-origin protection
/// ([`corsair::cross_origin::origin_matches_authority`]).
pub fn same_origin(origin: &[u8], authority: &[u8]) -> bool {
    corsair::cross_origin::origin_matches_authority(origin, authority)
}
