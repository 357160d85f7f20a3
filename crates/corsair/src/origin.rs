//! Origins: the browser's serialization of a request's `Origin`, the patterns a
//! policy may name, and the matcher that decides between them.
//!
//! Configured patterns are parsed strictly: anything a browser would never send
//! as an `Origin` (uppercase, a path, a trailing slash, a default port, a
//! non-canonical IP address, a Unicode host) is a configuration error, so the
//! request path can compare bytes exactly.
//!
//! Matching costs a scan of a short list (or one hash lookup beyond a few
//! names) for exact origins and one lookup per label of the request's host
//! for subdomain patterns, whatever the number of configured origins; it
//! never allocates.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::nameset::{FastHash, NameSet};

/// The schemes that subdomain and any-port patterns may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum WebScheme {
    Http,
    Https,
}

impl WebScheme {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "http" => Some(Self::Http),
            "https" => Some(Self::Https),
            _ => None,
        }
    }

    fn default_port(self) -> u16 {
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

/// One parsed entry of `allow_origins`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginPattern {
    /// `*`: every origin (public resources only, never with credentials).
    Any,
    /// One exact origin, stored in its browser serialization.
    Exact(String),
    /// `scheme://host:*`: one host on any port.
    AnyPort {
        /// `http` or `https`.
        scheme: String,
        /// The host, canonical.
        host: String,
    },
    /// `scheme://*.domain[:port]`: every subdomain of `domain`, at any depth,
    /// never `domain` itself.
    Subdomains {
        /// `http` or `https`.
        scheme: String,
        /// The parent domain, canonical.
        domain: String,
        /// `None` for the default port, `Some(0)` for `:*`.
        port: Option<u16>,
    },
}

/// Why a configured origin pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub(crate) String);

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError(msg.into()))
}

impl OriginPattern {
    /// Parses one `allow_origins` entry.
    ///
    /// ```
    /// use corsair::OriginPattern;
    /// assert!(OriginPattern::parse("https://app.example.com").is_ok());
    /// assert!(OriginPattern::parse("https://*.example.com").is_ok());
    /// assert!(OriginPattern::parse("http://localhost:*").is_ok());
    /// assert!(OriginPattern::parse("https://example.com/").is_err()); // trailing slash
    /// assert!(OriginPattern::parse("https://example.com:443").is_err()); // default port
    /// assert!(OriginPattern::parse("https://foo*.example.com").is_err()); // partial label
    /// ```
    pub fn parse(s: &str) -> Result<Self, PatternError> {
        if s == "*" {
            return Ok(Self::Any);
        }
        if s.eq_ignore_ascii_case("null") {
            return err(
                "the `null` origin is shared by sandboxed iframes, `file:` pages, `data:` documents and \
                 cross-origin redirects, so trusting it trusts all of them; it is refused",
            );
        }
        if !s.is_ascii() {
            return err("non-ASCII origin: write the host in punycode (`xn--…`), as browsers serialize it");
        }
        if s.trim() != s || s.is_empty() {
            return err("an origin has no surrounding whitespace and is not empty");
        }
        let Some((scheme, rest)) = s.split_once("://") else {
            return err("expected `scheme://host[:port]`, e.g. `https://app.example.com`");
        };
        if scheme.bytes().any(|b| b.is_ascii_uppercase()) {
            return err(format!(
                "browsers serialize the scheme in lowercase: write `{}://{rest}`",
                scheme.to_ascii_lowercase()
            ));
        }
        if scheme == "file" {
            return err("`file://` pages have an opaque origin (`null`) and cannot be allowed");
        }
        if !is_scheme(scheme) {
            return err(format!("`{scheme}` is not a valid URL scheme"));
        }
        if let Some(i) = rest.find(['/', '?', '#']) {
            let (authority, tail) = rest.split_at(i);
            return err(format!(
                "an origin has no path, query, fragment or trailing slash (found `{tail}`): write `{scheme}://{authority}`"
            ));
        }
        if rest.contains('@') {
            return err("an origin has no user information (`user@`)");
        }
        let (host, port) = split_host_port(rest)?;
        let web = WebScheme::parse(scheme);
        if web.is_none() && !EXTENSION_SCHEMES.contains(&scheme) {
            return err(format!(
                "unsupported scheme `{scheme}`: origins are `https://…`, `http://…` or a browser-extension scheme ({})",
                EXTENSION_SCHEMES.join(", ")
            ));
        }
        let port_spec = match port {
            None => PortSpec::Default,
            Some("*") => PortSpec::Any,
            Some(p) => {
                let n = parse_port(p)?;
                if web.map(WebScheme::default_port) == Some(n) {
                    return err(format!(
                        "browsers omit the default port {n} for {scheme}: write `{scheme}://{host}`"
                    ));
                }
                PortSpec::Port(n)
            }
        };
        if let Some(domain) = host.strip_prefix("*.") {
            let Some(_) = web else {
                return err("subdomain patterns are only for `http` and `https` origins");
            };
            if domain.contains('*') {
                return err("only one leading `*.` label is allowed in a subdomain pattern");
            }
            check_domain(domain)?;
            if is_ip_literal(domain) {
                return err("an IP address has no subdomains: `*.` cannot precede it");
            }
            if is_public_suffix(domain) {
                return err(format!(
                    "`{domain}` is a public suffix: anyone can register a subdomain of it, so `*.{domain}` would trust strangers; list the exact origins instead"
                ));
            }
            return Ok(Self::Subdomains {
                scheme: scheme.to_owned(),
                domain: domain.to_owned(),
                port: match port_spec {
                    PortSpec::Default => None,
                    PortSpec::Port(n) => Some(n),
                    PortSpec::Any => Some(0),
                },
            });
        }
        if host.contains('*') {
            return err(format!(
                "`*` may only stand for whole leading labels (`{scheme}://*.example.com`), not part of a label (`{host}`)"
            ));
        }
        check_host(host)?;
        match port_spec {
            PortSpec::Any => {
                if web.is_none() {
                    return err("`:*` is only for `http` and `https` origins");
                }
                Ok(Self::AnyPort {
                    scheme: scheme.to_owned(),
                    host: host.to_owned(),
                })
            }
            PortSpec::Default => Ok(Self::Exact(format!("{scheme}://{host}"))),
            PortSpec::Port(n) => Ok(Self::Exact(format!("{scheme}://{host}:{n}"))),
        }
    }

    /// Whether every origin this pattern admits is potentially trustworthy
    /// (https, a browser extension, or a loopback host).
    pub fn is_potentially_trustworthy(&self) -> bool {
        match self {
            Self::Any => false,
            Self::Exact(s) => {
                let Some((scheme, rest)) = s.split_once("://") else {
                    return false;
                };
                match scheme {
                    "https" => true,
                    "http" => split_host_port(rest).is_ok_and(|(h, _)| is_loopback_host(h)),
                    other => EXTENSION_SCHEMES.contains(&other),
                }
            }
            Self::AnyPort { scheme, host } => scheme == "https" || is_loopback_host(host),
            Self::Subdomains { scheme, domain, .. } => {
                scheme == "https" || domain == "localhost" || domain.ends_with(".localhost")
            }
        }
    }
}

fn is_scheme(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_lowercase()
        && b[1..]
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.'))
}

/// Splits `host[:port]`, handling bracketed IPv6 literals.
fn split_host_port(rest: &str) -> Result<(&str, Option<&str>), PatternError> {
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

fn parse_port(p: &str) -> Result<u16, PatternError> {
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
fn is_public_suffix(domain: &str) -> bool {
    if domain == "localhost" || domain.ends_with(".localhost") {
        return false;
    }
    psl::suffix_str(domain).is_none_or(|suffix| suffix == domain)
}

fn is_ip_literal(host: &str) -> bool {
    host.starts_with('[') || host.parse::<Ipv4Addr>().is_ok()
}

/// Whether a host is a loopback host in the sense of Secure Contexts.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return v4.is_loopback();
    }
    host == "[::1]"
}

/// Checks a host for the canonical form a browser would serialize.
fn check_host(host: &str) -> Result<(), PatternError> {
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
fn check_domain(host: &str) -> Result<(), PatternError> {
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
fn is_label(l: &[u8]) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_')
}

/// A request's `Origin`, split without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequestOrigin<'a> {
    pub(crate) scheme: WebScheme,
    /// `scheme://host`, a prefix of the serialization.
    pub(crate) scheme_host: &'a str,
    pub(crate) host: &'a str,
    pub(crate) port: PortSpec,
}

impl<'a> RequestOrigin<'a> {
    /// Parses an http(s) origin serialization strictly; anything a browser
    /// would not send yields `None` (and so matches no pattern).
    pub(crate) fn parse(s: &'a str) -> Option<Self> {
        let (scheme, rest, skip) = if let Some(r) = s.strip_prefix("https://") {
            (WebScheme::Https, r, 8)
        } else if let Some(r) = s.strip_prefix("http://") {
            (WebScheme::Http, r, 7)
        } else {
            return None;
        };
        let (host, port) = match rest.as_bytes().first() {
            Some(b'[') => {
                let end = rest.find(']')?;
                let (h, after) = rest.split_at(end + 1);
                (
                    h,
                    if after.is_empty() {
                        None
                    } else {
                        Some(after.strip_prefix(':')?)
                    },
                )
            }
            _ => match rest.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            },
        };
        let port = match port {
            None => PortSpec::Default,
            Some(p) => {
                if p.is_empty() || p.len() > 5 || p.starts_with('0') || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let n: u16 = p.parse().ok()?;
                if n == scheme.default_port() {
                    return None;
                }
                PortSpec::Port(n)
            }
        };
        if host.is_empty() || !(host.starts_with('[') || host.split('.').all(|l| is_label(l.as_bytes()))) {
            return None;
        }
        Some(Self {
            scheme,
            scheme_host: &s[..skip + host.len()],
            host,
            port,
        })
    }
}

/// The compiled `allow_origins` of a policy.
#[derive(Debug, Clone, Default)]
pub(crate) struct OriginMatcher {
    pub(crate) any: bool,
    exact: NameSet,
    any_port: HashSet<Box<str>, FastHash>,
    subdomains: HashMap<(WebScheme, PortSpec), HashSet<Box<str>, FastHash>>,
}

impl OriginMatcher {
    pub(crate) fn insert(&mut self, p: &OriginPattern) {
        match p {
            OriginPattern::Any => self.any = true,
            OriginPattern::Exact(s) => {
                self.exact.insert(s);
            }
            OriginPattern::AnyPort { scheme, host } => {
                self.any_port.insert(format!("{scheme}://{host}").into());
            }
            OriginPattern::Subdomains { scheme, domain, port } => {
                let Some(scheme) = WebScheme::parse(scheme) else {
                    return;
                };
                let port = match port {
                    None => PortSpec::Default,
                    Some(0) => PortSpec::Any,
                    Some(n) => PortSpec::Port(*n),
                };
                self.subdomains
                    .entry((scheme, port))
                    .or_default()
                    .insert(domain.as_str().into());
            }
        }
    }

    /// Whether a request origin (its exact bytes) is allowed.
    #[inline]
    pub(crate) fn matches(&self, origin: &str) -> bool {
        if self.any {
            return true;
        }
        if self.exact.contains(origin.as_bytes()) {
            return true;
        }
        self.matches_pattern(origin)
    }

    /// Whether the exact bytes of a request origin are an allowed origin:
    /// the first half of [`OriginMatcher::matches`], which needs no check
    /// that the bytes are text (configured origins are ASCII).
    #[inline]
    pub(crate) fn matches_exact(&self, origin: &[u8]) -> bool {
        self.any || self.exact.contains(origin)
    }

    /// Whether a request origin matches an any-port or subdomain pattern:
    /// the second half of [`OriginMatcher::matches`].
    pub(crate) fn matches_pattern(&self, origin: &str) -> bool {
        if self.any_port.is_empty() && self.subdomains.is_empty() {
            return false;
        }
        let Some(o) = RequestOrigin::parse(origin) else {
            return false;
        };
        if !self.any_port.is_empty() && self.any_port.contains(o.scheme_host) {
            return true;
        }
        for key in [(o.scheme, o.port), (o.scheme, PortSpec::Any)] {
            if let Some(domains) = self.subdomains.get(&key) {
                // Every proper suffix of the host that starts after a dot.
                let host = o.host;
                for (i, b) in host.bytes().enumerate() {
                    if b == b'.' && domains.contains(&host[i + 1..]) {
                        return true;
                    }
                }
            }
        }
        false
    }

    pub(crate) fn len(&self) -> usize {
        self.exact.len() + self.any_port.len() + self.subdomains.values().map(|s| s.len()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(patterns: &[&str]) -> OriginMatcher {
        let mut m = OriginMatcher::default();
        for p in patterns {
            m.insert(&OriginPattern::parse(p).unwrap());
        }
        m
    }

    #[test]
    fn exact_patterns_parse_to_serialization() {
        assert_eq!(
            OriginPattern::parse("https://example.com").unwrap(),
            OriginPattern::Exact("https://example.com".into())
        );
        assert_eq!(
            OriginPattern::parse("http://127.0.0.1:8080").unwrap(),
            OriginPattern::Exact("http://127.0.0.1:8080".into())
        );
        assert_eq!(
            OriginPattern::parse("http://[::1]:3000").unwrap(),
            OriginPattern::Exact("http://[::1]:3000".into())
        );
        assert!(OriginPattern::parse("chrome-extension://abcdefghijklmnop").is_ok());
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for bad in [
            "",
            " https://a.com",
            "null",
            "NULL",
            "file://",
            "file:///etc",
            "https://example.com/",
            "https://example.com/path",
            "https://example.com?q",
            "HTTPS://example.com",
            "https://Example.com",
            "https://example.com:443",
            "http://example.com:80",
            "https://example.com:0",
            "https://example.com:65536",
            "https://example.com:08080",
            "https://example.com:",
            "https://user@example.com",
            "https://foo*.example.com",
            "https://*foo.example.com",
            "https://a.*.example.com",
            "https://*.*.example.com",
            "https://*",
            "https://*.com",
            "https://*.co.uk",
            "https://*.github.io",
            "https://*.127.0.0.1",
            "https://127.1",
            "https://0x7f.0.0.1",
            "https://0127.0.0.1",
            "https://[0:0:0:0:0:0:0:1]",
            "https://[::ffff:1.2.3.4]",
            "https://bücher.de",
            "https://example.com.",
            "ftp://example.com",
            "example.com",
            "//example.com",
            "https://exa mple.com",
            "https://ex!ample.com",
        ] {
            assert!(OriginPattern::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn subdomain_patterns_match_any_depth_never_the_apex() {
        let m = m(&["https://*.example.com"]);
        assert!(m.matches("https://a.example.com"));
        assert!(m.matches("https://a.b.example.com"));
        assert!(!m.matches("https://example.com"));
        assert!(!m.matches("https://evilexample.com"));
        assert!(!m.matches("https://a.example.com.evil.net"));
        assert!(!m.matches("http://a.example.com"));
        assert!(!m.matches("https://a.example.com:8443"));
        assert!(!m.matches("https://.example.com"));
        assert!(!m.matches("https://a..example.com"));
        assert!(!m.matches("https://A.example.com"));
        assert!(!m.matches("https://a.example.com."));
        assert!(!m.matches("https://a.example.com/"));
    }

    #[test]
    fn port_wildcards() {
        let m = m(&["http://localhost:*", "https://*.example.com:*"]);
        assert!(m.matches("http://localhost"));
        assert!(m.matches("http://localhost:3000"));
        assert!(!m.matches("https://localhost:3000"));
        assert!(!m.matches("http://localhost:03000"));
        assert!(!m.matches("http://localhost:80"));
        assert!(!m.matches("http://localhost.evil.net:3000"));
        assert!(m.matches("https://a.example.com:8443"));
        assert!(m.matches("https://a.example.com"));
        assert!(!m.matches("https://example.com:8443"));
    }

    #[test]
    fn exact_matching_is_byte_exact() {
        let m = m(&["https://foo.com", "https://bar.com"]);
        assert!(m.matches("https://foo.com"));
        assert!(!m.matches("https://barfoo.com"));
        assert!(!m.matches("https://foo.com/"));
        assert!(!m.matches("https://FOO.com"));
        assert!(!m.matches("https://foo.com:443"));
        assert!(!m.matches("http://foo.com"));
        assert!(!m.matches("https://foo.com.evil.net"));
        assert!(!m.matches("null"));
    }

    #[test]
    fn trustworthiness() {
        let t = |s: &str| OriginPattern::parse(s).unwrap().is_potentially_trustworthy();
        assert!(t("https://example.com"));
        assert!(t("http://localhost:3000"));
        assert!(t("http://app.localhost"));
        assert!(t("http://127.0.0.2:*"));
        assert!(t("http://[::1]:8080"));
        assert!(t("http://*.localhost:*"));
        assert!(!t("http://example.com"));
        assert!(!t("http://*.example.com"));
        assert!(!t("http://10.0.0.1"));
        assert!(!t("*"));
    }
}
