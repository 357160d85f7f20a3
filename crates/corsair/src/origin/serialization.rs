//! The parts of an origin in the form a browser serializes them: scheme,
//! host (domain, IPv4, IPv6) and port, checked for canonical form, plus the
//! host classes a policy cares about (loopback, public suffix, IP literal).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::pattern::{err, PatternError};

pub(super) fn is_scheme(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_lowercase()
        && b[1..]
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.'))
}

/// Splits `host[:port]`, handling bracketed IPv6 literals.
pub(super) fn split_host_port(rest: &str) -> Result<(&str, Option<&str>), PatternError> {
    if rest.starts_with('[') {
        let Some(end) = rest.find(']') else {
            return err("unterminated IPv6 literal (missing `]`)");
        };
        let (host, after) = rest.split_at(end + 1);
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(p) => Ok((host, Some(p))),
                None => err(format!("unexpected `{after}` after the IPv6 literal")),
            },
        };
    }
    Ok(match rest.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    })
}

pub(super) fn parse_port(p: &str) -> Result<u16, PatternError> {
    let canonical = !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && !p.starts_with('0');
    match p.parse::<u16>() {
        Ok(n) if canonical && n != 0 => Ok(n),
        _ => err(format!(
            "invalid port `{p}`: a port is 1-65535 without leading zeros, or `*` for any port"
        )),
    }
}

/// Whether `domain` is a public suffix (`com`, `co.uk`, `github.io`, …) per
/// the Public Suffix List. `localhost` is reserved for loopback (RFC 6761) and
/// is not treated as one.
pub(super) fn is_public_suffix(domain: &str) -> bool {
    if domain == "localhost" || domain.ends_with(".localhost") {
        return false;
    }
    psl::suffix_str(domain).is_none_or(|suffix| suffix == domain)
}

pub(super) fn is_ip_literal(host: &str) -> bool {
    host.starts_with('[') || host.parse::<Ipv4Addr>().is_ok()
}

/// Whether a host is a loopback host in the sense of Secure Contexts.
pub(super) fn is_loopback_host(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return v4.is_loopback();
    }
    host == "[::1]"
}

/// Checks a host for the canonical form a browser would serialize.
pub(super) fn check_host(host: &str) -> Result<(), PatternError> {
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.strip_suffix(']').unwrap_or(inner);
        return match inner.parse::<Ipv6Addr>() {
            Ok(addr) if !inner.contains('.') && addr.to_string() == inner => Ok(()),
            Ok(addr) if !inner.contains('.') => err(format!(
                "non-canonical IPv6 address `{host}`: browsers serialize it as `[{addr}]`"
            )),
            _ => err(format!("invalid IPv6 address `{host}`")),
        };
    }
    check_domain(host)
}

/// Checks a domain (or IPv4 address) for canonical form.
pub(super) fn check_domain(host: &str) -> Result<(), PatternError> {
    if host.is_empty() {
        return err("empty host");
    }
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        return err(format!(
            "browsers serialize hosts in lowercase: write `{}`",
            host.to_ascii_lowercase()
        ));
    }
    if host.ends_with('.') {
        return err(format!(
            "`{host}` ends with a dot: browsers keep it, so it names a different origin than `{}`; remove it",
            host.trim_end_matches('.')
        ));
    }
    if host.len() > 253 {
        return err("host longer than 253 bytes");
    }
    // The URL parser treats a host whose last label is numeric (or hex) as IPv4.
    let last = host.rsplit('.').next().unwrap_or(host);
    let numeric_last = last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x");
    if numeric_last {
        return match host.parse::<Ipv4Addr>() {
            Ok(addr) if addr.to_string() == host => Ok(()),
            Ok(addr) => err(format!(
                "non-canonical IPv4 address `{host}`: browsers serialize it as `{addr}`"
            )),
            Err(_) => err(format!(
                "`{host}` is not a canonical IPv4 address (browsers would rewrite it); write the dotted-quad form"
            )),
        };
    }
    for label in host.split('.') {
        if !is_label(label.as_bytes()) {
            return err(format!("invalid host `{host}`: each label is 1-63 of `a-z 0-9 - _`"));
        }
    }
    Ok(())
}

#[inline]
pub(super) fn is_label(l: &[u8]) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
}
