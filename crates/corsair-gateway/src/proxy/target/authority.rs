//! The request's authority (RFC 9112 §3.2 and §3.2.2, RFC 9113 §8.3.1,
//! RFC 9110 §7.2): see the parent module.

use std::borrow::Cow;
use std::net::Ipv6Addr;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Uri, Version};

use super::Refusal;

/// A request's authority: its host name (lowercase, no trailing dot) and
/// port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority<'a> {
    /// The name, an IPv4 address, or a bracketed IPv6 address (`[::1]`):
    /// ASCII letters, digits, `-`, `_`, `.`, or `[`, hex digits, `:`, `.`
    /// and `]`.
    pub name: Cow<'a, [u8]>,
    /// The port, if one was given.
    pub port: Option<u16>,
    /// The header value it was read from, when it came from `Host`.
    pub from_host: Option<&'a HeaderValue>,
    /// Whether the text it was read from is exactly `name[:port]` (then
    /// that text is forwarded as it is, with no formatting).
    pub canonical_text: bool,
}

impl Authority<'_> {
    /// The name as text.
    pub fn name_str(&self) -> &str {
        // Validated: ASCII only (see `parse_host`).
        std::str::from_utf8(&self.name).unwrap_or("")
    }

    /// `name[:port]`, for `X-Forwarded-Host` and `Forwarded: host=`.
    pub fn to_header_text(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.name_str()),
            None => self.name_str().to_owned(),
        }
    }
}

/// The authority of a request (see the module docs): `Ok(None)` when the
/// request names none (HTTP/1.0 without Host, an empty Host, HTTP/2
/// without either).
pub fn request_authority<'a>(
    uri: &'a Uri,
    headers: &'a HeaderMap,
    version: Version,
) -> Result<Option<Authority<'a>>, Refusal> {
    let mut hosts = headers.get_all(header::HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        return Err(Refusal::MultipleHosts);
    }
    if let Some(s) = uri.scheme_str() {
        if !s.eq_ignore_ascii_case("http") && !s.eq_ignore_ascii_case("https") {
            return Err(Refusal::InvalidScheme);
        }
    }
    let from_target = match uri.authority() {
        Some(a) => parse_host(a.as_str().as_bytes())?,
        None => None,
    };
    let from_host = |h: &'a HeaderValue| {
        parse_host(h.as_bytes()).map(|a| {
            a.map(|mut a| {
                a.from_host = Some(h);
                a
            })
        })
    };
    if version == Version::HTTP_2 {
        return match (from_target, host) {
            (Some(a), Some(h)) => {
                // RFC 9113 §8.3.1: compared after scheme-based normalization
                // (a default port equals no port).
                let h = parse_host(h.as_bytes())?;
                let port = |p: Option<u16>| p.or_else(|| default_port(uri));
                match h {
                    Some(h) if h.name == a.name && port(h.port) == port(a.port) => Ok(Some(a)),
                    _ => Err(Refusal::AuthorityMismatch),
                }
            }
            (Some(a), None) => Ok(Some(a)),
            (None, Some(h)) => from_host(h),
            (None, None) => Ok(None),
        };
    }
    let Some(host) = host else {
        return if version >= Version::HTTP_11 {
            Err(Refusal::MissingHost)
        } else {
            Ok(from_target)
        };
    };
    // The Host must be valid even when an absolute-form target overrides it.
    let host = from_host(host)?;
    Ok(if from_target.is_some() { from_target } else { host })
}

fn default_port(uri: &Uri) -> Option<u16> {
    match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => Some(443),
        Some(s) if s.eq_ignore_ascii_case("http") => Some(80),
        _ => None,
    }
}

/// The class of each byte in a host name.
const NAME: u8 = 1;
const UPPER: u8 = 2;
const DOT: u8 = 3;
const COLON: u8 = 4;
static HOST_BYTE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_' {
            NAME
        } else if c.is_ascii_uppercase() {
            UPPER
        } else if c == b'.' {
            DOT
        } else if c == b':' {
            COLON
        } else {
            0
        };
        b += 1;
    }
    t
};

/// What [`parse_host`] found in a valid name: enough to rebuild its
/// [`Authority`] from the same bytes.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// The end of the name (a trailing dot excluded).
    name_end: usize,
    port: Option<u16>,
    upper: bool,
    canonical_text: bool,
}

/// The longest host value remembered by [`LAST_HOST`].
const REMEMBERED: usize = 64;

thread_local! {
    /// The last valid host name parsed on this thread (the bytes and what
    /// they parse to). A worker's connections mostly name the same host, so
    /// the next request usually costs a comparison instead of a parse.
    static LAST_HOST: std::cell::RefCell<(usize, [u8; REMEMBERED], Option<Shape>)> =
        const { std::cell::RefCell::new((0, [0; REMEMBERED], None)) };
}

impl Shape {
    fn authority(self, v: &[u8]) -> Authority<'_> {
        let host = &v[..self.name_end];
        Authority {
            name: if self.upper {
                Cow::Owned(host.to_ascii_lowercase())
            } else {
                Cow::Borrowed(host)
            },
            port: self.port,
            from_host: None,
            canonical_text: self.canonical_text,
        }
    }
}

/// Parses `uri-host [":" port]` (see the module docs); `Ok(None)` for an
/// empty value. One lean pass over the bytes for a name (the common case),
/// none when the calling thread parsed the same bytes last.
pub fn parse_host(v: &[u8]) -> Result<Option<Authority<'_>>, Refusal> {
    if v.is_empty() {
        return Ok(None);
    }
    if v[0] == b'[' {
        return parse_ip_literal(v).map(Some);
    }
    if v.len() <= REMEMBERED {
        let hit = LAST_HOST.with(|last| {
            let last = last.borrow();
            match last.2 {
                Some(shape) if last.0 == v.len() && last.1[..v.len()] == *v => Some(shape),
                _ => None,
            }
        });
        if let Some(shape) = hit {
            return Ok(Some(shape.authority(v)));
        }
    }
    let shape = parse_name_shape(v)?;
    if v.len() <= REMEMBERED {
        LAST_HOST.with(|last| {
            let mut last = last.borrow_mut();
            last.0 = v.len();
            last.1[..v.len()].copy_from_slice(v);
            last.2 = Some(shape);
        });
    }
    Ok(Some(shape.authority(v)))
}

/// Validates a host name with an optional port (see [`parse_host`]).
fn parse_name_shape(v: &[u8]) -> Result<Shape, Refusal> {
    if v.len() > 253 + 6 {
        return Err(Refusal::InvalidHost);
    }
    // A DNS name or IPv4 address: non-empty labels of letters, digits, `-`
    // and `_`, separated by dots, optionally ending in one dot.
    let mut upper = false;
    let mut label_start = 0;
    let mut i = 0;
    while i < v.len() {
        let class = HOST_BYTE[usize::from(v[i])];
        if class != NAME {
            match class {
                UPPER => upper = true,
                DOT if i > label_start => label_start = i + 1,
                COLON => break,
                _ => return Err(Refusal::InvalidHost),
            }
        }
        i += 1;
    }
    let end = i;
    let trailing_dot = label_start == end;
    // Empty, or ending in a dot: one trailing dot is the same name.
    if trailing_dot && end < 2 {
        return Err(Refusal::InvalidHost);
    }
    let (port, port_canonical) = if end < v.len() {
        let digits = &v[end + 1..];
        (parse_port(digits)?, digits.first().is_some_and(|&d| d != b'0'))
    } else {
        (None, true)
    };
    Ok(Shape {
        name_end: if trailing_dot { end - 1 } else { end },
        port,
        upper,
        canonical_text: !upper && !trailing_dot && port_canonical,
    })
}

/// `"[" IPv6address "]" [":" port]`.
fn parse_ip_literal(v: &[u8]) -> Result<Authority<'_>, Refusal> {
    let end = v.iter().position(|&b| b == b']').ok_or(Refusal::InvalidHost)?;
    let inside = std::str::from_utf8(&v[1..end]).map_err(|_| Refusal::InvalidHost)?;
    inside.parse::<Ipv6Addr>().map_err(|_| Refusal::InvalidHost)?;
    let port = match &v[end + 1..] {
        [] => None,
        [b':', p @ ..] => parse_port(p)?,
        _ => return Err(Refusal::InvalidHost),
    };
    let host = &v[..=end];
    let name = if host.iter().any(u8::is_ascii_uppercase) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    };
    Ok(Authority {
        name,
        port,
        from_host: None,
        canonical_text: false,
    })
}

/// `*DIGIT` (RFC 3986 §3.2.3), at most 65535; empty is no port.
fn parse_port(p: &[u8]) -> Result<Option<u16>, Refusal> {
    if p.is_empty() {
        return Ok(None);
    }
    let mut n: u32 = 0;
    for &b in p {
        if !b.is_ascii_digit() {
            return Err(Refusal::InvalidHost);
        }
        n = n * 10 + u32::from(b - b'0');
        if n > 65535 {
            return Err(Refusal::InvalidHost);
        }
    }
    Ok(u16::try_from(n).ok())
}
