//! Origins: the browser's serialization of a request's `Origin`, the patterns a
//! policy may name, and the matcher that decides between them.
//!
//! Configured patterns are parsed strictly: anything a browser would never send
//! as an `Origin` (uppercase, a path, a trailing slash, a default port, a
//! non-canonical IP address, a Unicode host) is a configuration error, so the
//! request path can compare bytes exactly. The form is Fetch §3.2 "`Origin`
//! header"'s `serialized-origin` ABNF: lowercase scheme and host, punycode,
//! no default port, IPv4 dotted-quad and compressed lowercase IPv6.
//!
//! Matching costs a scan of a short list (or one hash lookup beyond a few
//! names) for exact origins and one lookup per label of the request's host
//! for subdomain patterns, whatever the number of configured origins; it
//! never allocates.

mod dynamic;
mod matcher;
mod pattern;
mod serialization;

pub use dynamic::DynamicOrigins;
pub(crate) use matcher::OriginMatcher;
pub use pattern::{OriginPattern, PatternError};

/// The schemes that subdomain and any-port patterns may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum WebScheme {
    Http,
    Https,
}

impl WebScheme {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "http" => Some(Self::Http),
            "https" => Some(Self::Https),
            _ => None,
        }
    }

    pub(crate) fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }
}

/// Schemes other than http(s) that browsers use for the origins of extension
/// pages. Such origins may be named exactly, never by pattern.
const EXTENSION_SCHEMES: &[&str] = &["chrome-extension", "moz-extension", "safari-web-extension"];

/// The port part of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PortSpec {
    /// No port in the serialization: the scheme's default.
    Default,
    /// An explicit, non-default port.
    Port(u16),
    /// `:*`: any port, the default included.
    Any,
}
