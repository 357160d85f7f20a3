//! [`OriginPattern`]: one `allow_origins` entry, parsed strictly into the
//! browser's serialization, or refused with a [`PatternError`].

use std::fmt;

use super::serialization::{
    check_domain, check_host, is_ip_literal, is_loopback_host, is_public_suffix, is_scheme, parse_port, split_host_port,
};
use super::{PortSpec, WebScheme, EXTENSION_SCHEMES};
use crate::policy::ConfigErrorKind;

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
pub struct PatternError {
    kind: ConfigErrorKind,
    message: String,
}

impl PatternError {
    /// What kind of problem it is: [`ConfigErrorKind::OpaqueOrigin`],
    /// [`ConfigErrorKind::PublicSuffixPattern`] or
    /// [`ConfigErrorKind::InvalidOrigin`] (anything else).
    ///
    /// ```
    /// use corsair::{ConfigErrorKind, OriginPattern};
    /// let e = OriginPattern::parse("https://*.github.io").unwrap_err();
    /// assert_eq!(e.kind(), ConfigErrorKind::PublicSuffixPattern);
    /// assert_eq!(OriginPattern::parse("null").unwrap_err().code(), "opaque_origin");
    /// ```
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The stable code of [`kind`](Self::kind), e.g. `invalid_origin`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// What is wrong and how to fix it (the `Display` text).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PatternError {}

/// An [`InvalidOrigin`](ConfigErrorKind::InvalidOrigin) pattern error.
pub(super) fn err<T>(message: impl Into<String>) -> Result<T, PatternError> {
    err_of(ConfigErrorKind::InvalidOrigin, message)
}

/// A pattern error of this kind.
fn err_of<T>(kind: ConfigErrorKind, message: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError {
        kind,
        message: message.into(),
    })
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
            return err_of(
                ConfigErrorKind::OpaqueOrigin,
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
            return err_of(
                ConfigErrorKind::OpaqueOrigin,
                "`file://` pages have an opaque origin (`null`) and cannot be allowed",
            );
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
                return err_of(
                    ConfigErrorKind::PublicSuffixPattern,
                    format!(
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

#[cfg(test)]
mod tests {
    use super::*;

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
