//! The matcher: a request's `Origin` split without allocating
//! ([`RequestOrigin`]) and the compiled `allow_origins` of a policy
//! ([`OriginMatcher`]): a set lookup for exact origins, one lookup per label
//! for subdomain patterns.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use super::serialization::is_label;
use super::{OriginPattern, PortSpec, WebScheme};
use crate::nameset::{FastHash, NameSet};

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
    patterns: PatternMatcher<FastHash>,
}

impl OriginMatcher {
    pub(crate) fn insert(&mut self, p: &OriginPattern) {
        match p {
            OriginPattern::Any => self.any = true,
            OriginPattern::Exact(s) => {
                self.exact.insert(s);
            }
            _ => {
                self.patterns.insert(p);
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
        self.patterns.matches(origin)
    }

    /// Whether there is any any-port or subdomain pattern.
    #[inline]
    pub(crate) fn has_patterns(&self) -> bool {
        !self.patterns.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.exact.len() + self.patterns.len()
    }
}

/// The any-port and subdomain patterns of an origin set: one set lookup
/// for any-port patterns, one per label of the request's host for
/// subdomain patterns. `S` hashes the stored names: the policy's sets, built
/// once from the configuration, use [`FastHash`]; the dynamic set, whose
/// contents may come from outside, uses the standard library's SipHash.
#[derive(Debug, Clone, Default)]
pub(crate) struct PatternMatcher<S> {
    any_port: HashSet<Box<str>, S>,
    subdomains: HashMap<(WebScheme, PortSpec), HashSet<Box<str>, S>>,
}

impl<S: BuildHasher + Default> PatternMatcher<S> {
    /// Whether there is no pattern.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.any_port.is_empty() && self.subdomains.is_empty()
    }

    /// Adds an any-port or subdomain pattern (other patterns are not
    /// patterns and are ignored); `false` if it was there already.
    pub(crate) fn insert(&mut self, p: &OriginPattern) -> bool {
        match p {
            OriginPattern::AnyPort { scheme, host } => self.any_port.insert(format!("{scheme}://{host}").into()),
            OriginPattern::Subdomains { scheme, domain, port } => {
                let Some(key) = subdomain_key(scheme, *port) else {
                    return false;
                };
                self.subdomains.entry(key).or_default().insert(domain.as_str().into())
            }
            OriginPattern::Any | OriginPattern::Exact(_) => false,
        }
    }

    /// Removes an any-port or subdomain pattern; `false` if it was absent.
    pub(crate) fn remove(&mut self, p: &OriginPattern) -> bool {
        match p {
            OriginPattern::AnyPort { scheme, host } => self.any_port.remove(format!("{scheme}://{host}").as_str()),
            OriginPattern::Subdomains { scheme, domain, port } => {
                let Some(key) = subdomain_key(scheme, *port) else {
                    return false;
                };
                let Some(set) = self.subdomains.get_mut(&key) else {
                    return false;
                };
                let removed = set.remove(domain.as_str());
                if set.is_empty() {
                    self.subdomains.remove(&key);
                }
                removed
            }
            OriginPattern::Any | OriginPattern::Exact(_) => false,
        }
    }

    /// Whether this any-port or subdomain pattern is in the set.
    pub(crate) fn contains(&self, p: &OriginPattern) -> bool {
        match p {
            OriginPattern::AnyPort { scheme, host } => self.any_port.contains(format!("{scheme}://{host}").as_str()),
            OriginPattern::Subdomains { scheme, domain, port } => subdomain_key(scheme, *port)
                .and_then(|key| self.subdomains.get(&key))
                .is_some_and(|set| set.contains(domain.as_str())),
            OriginPattern::Any | OriginPattern::Exact(_) => false,
        }
    }

    /// Whether a request origin (its serialization) matches a pattern.
    pub(crate) fn matches(&self, origin: &str) -> bool {
        if self.is_empty() {
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
        self.any_port.len() + self.subdomains.values().map(|s| s.len()).sum::<usize>()
    }

    /// The patterns, written as in a configuration.
    pub(crate) fn to_strings(&self) -> Vec<String> {
        let mut out: Vec<String> = self.any_port.iter().map(|sh| format!("{sh}:*")).collect();
        for ((scheme, port), domains) in &self.subdomains {
            let scheme = match scheme {
                WebScheme::Http => "http",
                WebScheme::Https => "https",
            };
            let port = match port {
                PortSpec::Default => String::new(),
                PortSpec::Port(n) => format!(":{n}"),
                PortSpec::Any => ":*".to_owned(),
            };
            out.extend(domains.iter().map(|d| format!("{scheme}://*.{d}{port}")));
        }
        out
    }
}

/// The map key of a subdomain pattern.
fn subdomain_key(scheme: &str, port: Option<u16>) -> Option<(WebScheme, PortSpec)> {
    let scheme = WebScheme::parse(scheme)?;
    let port = match port {
        None => PortSpec::Default,
        Some(0) => PortSpec::Any,
        Some(n) => PortSpec::Port(n),
    };
    Some((scheme, port))
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
}
