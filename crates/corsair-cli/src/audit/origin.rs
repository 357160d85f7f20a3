//! The origins an audit reasons about: the target URL's origin, the trusted origins given
//! with `--origin`, and the registrable domain of a host.
//!
//! Parsing is the `url` crate's, which implements the WHATWG URL Standard that browsers
//! (and Fetch) use, so a host is read as a browser reads it: lowercased, IDNA-mapped to
//! its `xn--` form, IPv4 numbers in any notation normalized, IPv6 compressed.

use std::cell::RefCell;
use std::fmt;

use url::{Host, ParseError, SyntaxViolation, Url};

use crate::client::{is_structural, url_error_reason};

/// A tuple origin with an `http` or `https` scheme (URL Standard §4 "origin" of a URL).
/// The port is kept only when it is not the scheme's default, so that
/// [`Origin::serialize`] is the browser's serialization, the value of an `Origin` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    scheme: &'static str,
    /// The serialized host: a domain, a dotted IPv4 address or a bracketed IPv6 address.
    host: String,
    ip: bool,
    port: Option<u16>,
}

impl Origin {
    /// The origin of a request URL.
    pub(crate) fn of_url(url: &Url) -> Result<Origin, String> {
        let scheme = match url.scheme() {
            "http" => "http",
            "https" => "https",
            other => return Err(format!("unsupported scheme `{other}` (use http or https)")),
        };
        let (host, ip) = match url.host() {
            None | Some(Host::Domain("")) => return Err("the URL has no host".to_owned()),
            Some(h @ Host::Domain(_)) => (h.to_string(), false),
            Some(h) => (h.to_string(), true),
        };
        // `Url::port` is `None` for the scheme's default port.
        Ok(Origin {
            scheme,
            host,
            ip,
            port: url.port(),
        })
    }

    /// Parses a `--origin` value: `scheme://host[:port]`, optionally with one trailing `/`.
    ///
    /// The value must be written as an origin is serialized: anything the URL Standard
    /// accepts only with a validation error (a missing `//`, a backslash, a tab) is
    /// refused, as are a path, a query, a fragment, user information and an empty port.
    pub(crate) fn parse(text: &str) -> Result<Origin, String> {
        let text = text.trim();
        let bad = |why: &str| format!("invalid origin `{text}`: {why}");
        if text == "null" || text == "*" {
            return Err(bad("give the scheme://host[:port] of a site the server should trust"));
        }
        let violations = RefCell::new(Vec::new());
        let record = |v: SyntaxViolation| violations.borrow_mut().push(v);
        let url = Url::options()
            .syntax_violation_callback(Some(&record))
            .parse(text)
            .map_err(|e| match e {
                ParseError::RelativeUrlWithoutBase => bad("expected scheme://host[:port]"),
                e => bad(&url_error_reason(e)),
            })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("the scheme must be http or https"));
        }
        if let Some(&v) = violations.borrow().first() {
            let why = is_structural(v).map_or_else(|| v.to_string(), str::to_owned);
            return Err(bad(&format!("{why}; write it as scheme://host[:port]")));
        }
        if !url.username().is_empty()
            || url.password().is_some()
            || url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(bad("an origin has no path, query, fragment or user information"));
        }
        // The URL Standard ignores an empty port (`https://host:`); an origin never has one,
        // and a user who typed the colon probably meant to give a port.
        let authority = text
            .split_once("://")
            .map_or("", |(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""));
        if authority.ends_with(':') {
            return Err(bad("empty port"));
        }
        Origin::of_url(&url).map_err(|e| bad(&e))
    }

    /// The browser's serialization: `scheme://host[:port]`.
    pub(crate) fn serialize(&self) -> String {
        self.with_host(&self.host)
    }

    /// This origin's scheme and port around another host (which need not be a valid host:
    /// look-alike probes carry characters a URL parser refuses).
    pub(crate) fn with_host(&self, host: &str) -> String {
        match self.port {
            Some(p) => format!("{}://{}:{}", self.scheme, host, p),
            None => format!("{}://{}", self.scheme, host),
        }
    }

    /// The same host and port under plain `http` (the port dropped when it is 80).
    pub(crate) fn http_twin(&self) -> Origin {
        Origin {
            scheme: "http",
            host: self.host.clone(),
            ip: self.ip,
            port: self.port.filter(|&p| p != 80),
        }
    }

    pub(crate) fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// The serialized host.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// Whether the host is an IPv4 or IPv6 address.
    pub(crate) fn is_ip(&self) -> bool {
        self.ip
    }

    /// The same scheme and host on another port: 8443 (https) or 8080 (http) for an
    /// origin on its default port, the next port otherwise.
    pub(crate) fn other_port(&self) -> Origin {
        let port = match self.port {
            None if self.scheme == "https" => 8443,
            None => 8080,
            Some(p) => p.checked_add(1).unwrap_or(p - 1),
        };
        Origin {
            port: Some(port),
            ..self.clone()
        }
    }

    /// Whether the host is on the user's machine or a private network: `localhost`
    /// (and `*.localhost`), a loopback, private or link-local address.
    pub(crate) fn is_local(&self) -> bool {
        match Host::parse(&self.host) {
            Ok(Host::Ipv4(a)) => a.is_loopback() || a.is_private() || a.is_link_local(),
            Ok(Host::Ipv6(a)) => {
                a.is_loopback() || (a.segments()[0] & 0xfe00) == 0xfc00 || (a.segments()[0] & 0xffc0) == 0xfe80
            }
            _ => self.host == "localhost" || self.host.ends_with(".localhost"),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.serialize())
    }
}

/// The registrable domain ("eTLD+1") of a host, by the Public Suffix List
/// (the `psl` crate, which the engine also uses for `*.domain` patterns).
/// `None` for IP addresses, single-label hosts and hosts that are themselves a suffix.
pub(crate) fn registrable_domain(host: &str) -> Option<&str> {
    if matches!(Host::parse(host), Ok(Host::Ipv4(_) | Host::Ipv6(_))) {
        return None;
    }
    let host = host.trim_end_matches('.');
    if host.split('.').any(str::is_empty) {
        return None;
    }
    psl::domain_str(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(s: &str) -> Origin {
        Origin::parse(s).unwrap()
    }

    #[test]
    fn other_ports_and_local_hosts() {
        assert_eq!(
            origin("https://a.example").other_port().serialize(),
            "https://a.example:8443"
        );
        assert_eq!(
            origin("http://a.example").other_port().serialize(),
            "http://a.example:8080"
        );
        assert_eq!(
            origin("http://a.example:3000").other_port().serialize(),
            "http://a.example:3001"
        );
        assert_eq!(
            origin("http://a.example:65535").other_port().serialize(),
            "http://a.example:65534"
        );
        for local in [
            "http://localhost:3000",
            "http://app.localhost",
            "http://127.0.0.1:9",
            "http://[::1]",
            "http://10.1.2.3",
            "http://192.168.0.1",
            "http://[fd00::1]",
        ] {
            assert!(origin(local).is_local(), "{local}");
        }
        for public in [
            "https://example.com",
            "http://8.8.8.8",
            "http://[2001:db8::1]",
            "https://localhost.example.com",
        ] {
            assert!(!origin(public).is_local(), "{public}");
        }
    }

    #[test]
    fn target_origin_from_url() {
        let o = |u: &str| Origin::of_url(&Url::parse(u).unwrap()).unwrap().serialize();
        assert_eq!(o("https://API.Example.com/v1/users?x=1"), "https://api.example.com");
        assert_eq!(o("https://example.com:443/"), "https://example.com");
        assert_eq!(o("http://example.com:80"), "http://example.com");
        assert_eq!(o("http://127.0.0.1:8080/x"), "http://127.0.0.1:8080");
        assert_eq!(o("https://example.com:8443/"), "https://example.com:8443");
        assert_eq!(o("http://[::1]:3000/"), "http://[::1]:3000");
        // read as a browser reads them
        assert_eq!(o("http://0x7f.1/"), "http://127.0.0.1");
        assert_eq!(o("https://B\u{fc}cher.example/"), "https://xn--bcher-kva.example");
        assert_eq!(o("http://[0:0::1]/"), "http://[::1]");
        assert!(Origin::of_url(&Url::parse("ftp://example.com/").unwrap()).is_err());
    }

    #[test]
    fn trusted_origin_parsing() {
        assert_eq!(origin("https://Example.COM/").serialize(), "https://example.com");
        assert_eq!(origin("http://localhost:3000").serialize(), "http://localhost:3000");
        assert_eq!(origin("https://example.com:443").serialize(), "https://example.com");
        assert!(origin("http://[::1]:8080").is_ip());
        assert!(!origin("https://example.com").is_ip());
        for bad in [
            "example.com",
            "null",
            "*",
            "ftp://example.com",
            "https://example.com/path",
            "https://example.com?q",
            "https://example.com#top",
            "https://user@example.com",
            "https://",
            "https://example.com:",
            "https://exa mple.com",
            "https:example.com",
            "https:\\\\example.com",
            "https://example.com:99999",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn origin_errors_say_what_is_wrong() {
        let err = |s: &str| Origin::parse(s).unwrap_err();
        assert!(
            err("example.com").contains("expected scheme://host[:port]"),
            "{}",
            err("example.com")
        );
        assert!(err("ftp://example.com").contains("http or https"));
        assert!(err("https://example.com:").contains("empty port"));
        assert!(err("https://").contains("empty host"), "{}", err("https://"));
        assert!(
            err("https:example.com").contains("expected `//` after the scheme"),
            "{}",
            err("https:example.com")
        );
        assert!(err("https://exa mple.com").contains("not a valid domain name"));
        assert!(err("https://example.com:99999").contains("port"));
    }

    #[test]
    fn twins_and_other_hosts_keep_the_port_rules() {
        assert_eq!(
            origin("https://example.com").http_twin().serialize(),
            "http://example.com"
        );
        assert_eq!(
            origin("https://example.com:8443").http_twin().serialize(),
            "http://example.com:8443"
        );
        assert_eq!(
            origin("https://example.com:80").http_twin().serialize(),
            "http://example.com"
        );
        assert_eq!(
            origin("http://127.0.0.1:8080").with_host("127.0.0.1.evil.net"),
            "http://127.0.0.1.evil.net:8080"
        );
    }

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable_domain("example.com"), Some("example.com"));
        assert_eq!(registrable_domain("www.example.com"), Some("example.com"));
        assert_eq!(registrable_domain("a.b.example.co.uk"), Some("example.co.uk"));
        assert_eq!(registrable_domain("me.github.io"), Some("me.github.io"));
        assert_eq!(registrable_domain("co.uk"), None);
        assert_eq!(registrable_domain("localhost"), None);
        assert_eq!(registrable_domain("127.0.0.1"), None);
        assert_eq!(registrable_domain("[::1]"), None);
    }
}
