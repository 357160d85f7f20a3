//! The request's authority (RFC 9112 §3.2 and §3.2.2, RFC 9113 §8.3.1,
//! RFC 9110 §7.2): see the parent module.

use std::borrow::Cow;
use std::net::Ipv6Addr;

use http::header::{self, HeaderMap};
use http::{Uri, Version};

use super::Refusal;

/// A request's authority: its host name (lowercase, no trailing dot) and
/// port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority<'a> {
    /// The name, an IPv4 address, or a bracketed IPv6 address (`[::1]`).
    pub name: Cow<'a, str>,
    /// The port, if one was given.
    pub port: Option<u16>,
}

impl Authority<'_> {
    /// `name[:port]`, for `X-Forwarded-Host` and `Forwarded: host=`.
    pub fn to_header_text(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.name),
            None => self.name.to_string(),
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
            (None, Some(h)) => parse_host(h.as_bytes()),
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
    let host = parse_host(host.as_bytes())?;
    Ok(if from_target.is_some() { from_target } else { host })
}

fn default_port(uri: &Uri) -> Option<u16> {
    match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => Some(443),
        Some(s) if s.eq_ignore_ascii_case("http") => Some(80),
        _ => None,
    }
}

/// Parses `uri-host [":" port]` (see the module docs); `Ok(None)` for an
/// empty value.
pub fn parse_host(v: &[u8]) -> Result<Option<Authority<'_>>, Refusal> {
    if v.is_empty() {
        return Ok(None);
    }
    let (host, port) = if v[0] == b'[' {
        let end = v.iter().position(|&b| b == b']').ok_or(Refusal::InvalidHost)?;
        let inside = std::str::from_utf8(&v[1..end]).map_err(|_| Refusal::InvalidHost)?;
        inside.parse::<Ipv6Addr>().map_err(|_| Refusal::InvalidHost)?;
        let rest = &v[end + 1..];
        let port = match rest {
            [] => None,
            [b':', p @ ..] => parse_port(p)?,
            _ => return Err(Refusal::InvalidHost),
        };
        (&v[..=end], port)
    } else {
        let (host, port) = match v.iter().position(|&b| b == b':') {
            Some(i) => (&v[..i], parse_port(&v[i + 1..])?),
            None => (v, None),
        };
        check_name(host)?;
        (host, port)
    };
    // ASCII only by now.
    let text = std::str::from_utf8(host).map_err(|_| Refusal::InvalidHost)?;
    let text = text.strip_suffix('.').unwrap_or(text);
    let name = if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    };
    Ok(Some(Authority { name, port }))
}

/// `*DIGIT` (RFC 3986 §3.2.3), at most 65535; empty is no port.
fn parse_port(p: &[u8]) -> Result<Option<u16>, Refusal> {
    if p.is_empty() {
        return Ok(None);
    }
    if !p.iter().all(u8::is_ascii_digit) {
        return Err(Refusal::InvalidHost);
    }
    let digits = p.iter().skip_while(|&&b| b == b'0').count();
    if digits > 5 {
        return Err(Refusal::InvalidHost);
    }
    let n = p.iter().fold(0u32, |n, &b| n * 10 + u32::from(b - b'0'));
    u16::try_from(n).map(Some).map_err(|_| Refusal::InvalidHost)
}

/// A DNS name or IPv4 address: non-empty labels of letters, digits, `-`
/// and `_`, separated by dots, optionally ending in one dot; at most 253
/// bytes.
fn check_name(h: &[u8]) -> Result<(), Refusal> {
    let h = h.strip_suffix(b".").unwrap_or(h);
    if h.is_empty() || h.len() > 253 {
        return Err(Refusal::InvalidHost);
    }
    for label in h.split(|&b| b == b'.') {
        if label.is_empty()
            || label.len() > 63
            || !label
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Refusal::InvalidHost);
        }
    }
    Ok(())
}
