//! Which requests an audit sends: the probe origins derived from the trusted ones, and
//! the headers of each probe.
//!
//! Every probe is a plain `GET` (with an `Origin` header) or an `OPTIONS` preflight;
//! nothing is ever sent that changes state. The probe origins follow the public research
//! and scanners (PortSwigger 2016, CORScanner, Corsy): look-alikes of the trusted origins
//! (prefix, suffix, unescaped regex dot, special characters, http twin, arbitrary
//! subdomain), origins anybody can obtain (`null`, an arbitrary site, shared hosting
//! platforms) and a preflight asking for a method and headers nobody would allow.

use std::collections::BTreeSet;

use http::header::{self, HeaderName, HeaderValue};
use http::Method;

use super::findings::{Id, SentRequest};
use super::origin::{registrable_domain, Origin};
use crate::report::HeaderList;

/// An origin nobody trusts on purpose (`.example` is reserved, so it is never a real site).
const ARBITRARY_ORIGIN: &str = "https://corsair-probe.evil.example";
/// The attacker's registrable domain used in look-alike probes.
pub(crate) const EVIL_DOMAIN: &str = "evil.net";
/// Label used for invented subdomains.
const PROBE_LABEL: &str = "corsair-probe";
/// The method asked for by the preflight probe: nobody allows it on purpose.
pub(crate) const PROBE_METHOD: &str = "CORSAIRPROBE";
/// The headers asked for by the preflight probe.
pub(crate) const PROBE_REQUEST_HEADERS: &str = "x-corsair-probe,authorization";
/// The custom header among [`PROBE_REQUEST_HEADERS`].
pub(crate) const PROBE_HEADER: &str = "x-corsair-probe";

/// Characters appended to a trusted host in `special-chars` probes (CORScanner's list;
/// `%60` is how Safari once encoded a backtick, see PortSwigger's research).
const SPECIAL_CHARS: &[&str] = &[
    "_", "-", "`", "%60", "!", "~", "{", "}", "\"", "'", "(", ")", "*", "+", ",", ";", "=", "$", "&", "|", "^",
];

/// Shared-hosting origins anybody can obtain by signing up.
const THIRD_PARTY_ORIGINS: &[&str] = &[
    "https://corsair-probe.github.io",
    "https://corsair-probe.gitlab.io",
    "https://corsair-probe.herokuapp.com",
    "https://corsair-probe.netlify.app",
    "https://corsair-probe.vercel.app",
    "https://corsair-probe.pages.dev",
    "https://corsair-probe.workers.dev",
    "https://corsair-probe.web.app",
    "https://corsair-probe.firebaseapp.com",
    "https://corsair-probe.glitch.me",
    "https://corsair-probe.ngrok-free.app",
    "https://corsair-probe.blogspot.com",
    "https://corsair-probe.s3.amazonaws.com",
    "https://storage.googleapis.com",
    "https://codepen.io",
    "https://cdpn.io",
    "https://jsfiddle.net",
    "https://fiddle.jshell.net",
    "https://jsbin.com",
    "http://jsbin.com",
];

/// What a probe is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProbeKind {
    /// `GET` with a trusted origin: reachability, and the reference for `missing-vary`.
    Baseline,
    /// `GET` with an origin the server should not trust.
    Origin(Id),
    /// `OPTIONS` preflight from an untrusted origin asking for anything.
    Preflight,
}

/// One request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Probe {
    pub(crate) kind: ProbeKind,
    /// The `Origin` header value.
    pub(crate) origin: String,
    /// The trusted origin this probe imitates, if any.
    pub(crate) imitates: Option<String>,
}

impl Probe {
    pub(crate) fn method(&self) -> Method {
        match self.kind {
            ProbeKind::Preflight => Method::OPTIONS,
            _ => Method::GET,
        }
    }

    /// The name of what the probe tests: `baseline` or the id of the finding it looks for.
    pub(crate) fn class(&self) -> &'static str {
        match self.kind {
            ProbeKind::Baseline => "baseline",
            ProbeKind::Origin(id) => id.as_str(),
            ProbeKind::Preflight => Id::PreflightReflectsAnything.as_str(),
        }
    }

    /// The headers sent (besides `Host`).
    pub(crate) fn headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
        let origin = HeaderValue::from_str(&self.origin)
            .map_err(|_| format!("probe origin `{}` is not a valid header value", self.origin))?;
        let mut headers = vec![(header::ORIGIN, origin)];
        match self.kind {
            ProbeKind::Preflight => {
                headers.push((
                    header::ACCESS_CONTROL_REQUEST_METHOD,
                    HeaderValue::from_static(PROBE_METHOD),
                ));
                headers.push((
                    header::ACCESS_CONTROL_REQUEST_HEADERS,
                    HeaderValue::from_static(PROBE_REQUEST_HEADERS),
                ));
            }
            _ => headers.push((header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))),
        }
        headers.push((header::ACCEPT, HeaderValue::from_static("*/*")));
        headers.push((
            header::USER_AGENT,
            HeaderValue::from_static(concat!("corsair-audit/", env!("CARGO_PKG_VERSION"))),
        ));
        Ok(headers)
    }

    /// The request as a report shows it.
    pub(crate) fn sent_request(&self) -> SentRequest {
        let headers = self.headers().unwrap_or_default();
        SentRequest {
            method: self.method().to_string(),
            headers: HeaderList::from_lines(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()))),
        }
    }
}

/// All probes for a target, deduplicated, with the trusted origins' baselines first.
pub(crate) fn derive_probes(trusted: &[Origin]) -> Vec<Probe> {
    let trusted_set: BTreeSet<String> = trusted.iter().map(Origin::serialize).collect();
    let mut probes: Vec<Probe> = Vec::new();
    let mut push = |kind: ProbeKind, origin: String, imitates: Option<&Origin>| {
        let is_lookalike = !matches!(kind, ProbeKind::Baseline);
        if is_lookalike && trusted_set.contains(&origin) {
            return; // the user trusts it on purpose
        }
        let method_is_get = !matches!(kind, ProbeKind::Preflight);
        let duplicate = probes
            .iter()
            .any(|p| p.origin == origin && !matches!(p.kind, ProbeKind::Preflight) == method_is_get);
        if !duplicate {
            probes.push(Probe {
                kind,
                origin,
                imitates: imitates.map(Origin::serialize),
            });
        }
    };

    for t in trusted {
        push(ProbeKind::Baseline, t.serialize(), None);
    }
    push(
        ProbeKind::Origin(Id::ReflectAnyOrigin),
        ARBITRARY_ORIGIN.to_owned(),
        None,
    );
    push(ProbeKind::Origin(Id::NullOrigin), "null".to_owned(), None);

    for t in trusted {
        let host = t.host();
        // prefix-match: the trusted host followed by the attacker's domain
        push(
            ProbeKind::Origin(Id::PrefixMatch),
            t.with_host(&format!("{host}.{EVIL_DOMAIN}")),
            Some(t),
        );
        // suffix-match: "evil" glued in front of the registrable domain
        if let Some(reg) = registrable_domain(host) {
            push(
                ProbeKind::Origin(Id::SuffixMatch),
                t.with_host(&format!("evil{reg}")),
                Some(t),
            );
        }
        // unescaped-dot: the dot before the registrable domain replaced by `x`, which
        // yields a name the attacker can register (`www.example.com` -> `wwwxexample.com`)
        if let Some(h) = unescaped_dot_host(host) {
            push(ProbeKind::Origin(Id::UnescapedDot), t.with_host(&h), Some(t));
        }
        for c in SPECIAL_CHARS {
            push(
                ProbeKind::Origin(Id::SpecialChars),
                t.with_host(&format!("{host}{c}.{EVIL_DOMAIN}")),
                Some(t),
            );
        }
        if t.scheme() == "https" {
            push(
                ProbeKind::Origin(Id::InsecureScheme),
                t.http_twin().serialize(),
                Some(t),
            );
        }
        if !t.is_ip() {
            push(
                ProbeKind::Origin(Id::AnySubdomain),
                t.with_host(&format!("{PROBE_LABEL}.{host}")),
                Some(t),
            );
        }
    }
    for o in THIRD_PARTY_ORIGINS {
        push(ProbeKind::Origin(Id::ThirdPartyHost), (*o).to_owned(), None);
    }
    push(ProbeKind::Preflight, ARBITRARY_ORIGIN.to_owned(), None);
    probes
}

/// `sub.example.com` -> `subxexample.com`; `None` when the host has no label in front of
/// its registrable domain (replacing a dot inside the public suffix gives nothing an
/// attacker can register).
pub(crate) fn unescaped_dot_host(host: &str) -> Option<String> {
    let reg = registrable_domain(host)?;
    let sub = host.strip_suffix(reg)?.strip_suffix('.')?;
    if sub.is_empty() {
        return None;
    }
    Some(format!("{sub}x{reg}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(s: &str) -> Origin {
        Origin::parse(s).unwrap()
    }

    fn probes_of(probes: &[Probe], id: Id) -> Vec<String> {
        probes
            .iter()
            .filter(|p| p.kind == ProbeKind::Origin(id))
            .map(|p| p.origin.clone())
            .collect()
    }

    #[test]
    fn unescaped_dot_hosts() {
        assert_eq!(
            unescaped_dot_host("www.example.com").as_deref(),
            Some("wwwxexample.com")
        );
        assert_eq!(
            unescaped_dot_host("api.www.example.co.uk").as_deref(),
            Some("api.wwwxexample.co.uk")
        );
        assert_eq!(unescaped_dot_host("example.com"), None);
        assert_eq!(unescaped_dot_host("10.0.0.1"), None);
    }

    #[test]
    fn probes_for_www_example_com() {
        let t = origin("https://www.example.com");
        let probes = derive_probes(std::slice::from_ref(&t));
        assert_eq!(probes[0].kind, ProbeKind::Baseline);
        assert_eq!(probes[0].origin, "https://www.example.com");
        assert_eq!(
            probes_of(&probes, Id::ReflectAnyOrigin),
            ["https://corsair-probe.evil.example"]
        );
        assert_eq!(probes_of(&probes, Id::NullOrigin), ["null"]);
        assert_eq!(
            probes_of(&probes, Id::PrefixMatch),
            ["https://www.example.com.evil.net"]
        );
        assert_eq!(probes_of(&probes, Id::SuffixMatch), ["https://evilexample.com"]);
        assert_eq!(probes_of(&probes, Id::UnescapedDot), ["https://wwwxexample.com"]);
        assert_eq!(probes_of(&probes, Id::InsecureScheme), ["http://www.example.com"]);
        assert_eq!(
            probes_of(&probes, Id::AnySubdomain),
            ["https://corsair-probe.www.example.com"]
        );
        let special = probes_of(&probes, Id::SpecialChars);
        for want in [
            "https://www.example.com_.evil.net",
            "https://www.example.com-.evil.net",
            "https://www.example.com`.evil.net",
            "https://www.example.com%60.evil.net",
            "https://www.example.com!.evil.net",
            "https://www.example.com{.evil.net",
            "https://www.example.com}.evil.net",
        ] {
            assert!(special.iter().any(|s| s == want), "missing {want}");
        }
        let third = probes_of(&probes, Id::ThirdPartyHost);
        assert!(third.iter().any(|s| s == "https://corsair-probe.github.io"));
        assert!(third.iter().any(|s| s == "https://codepen.io"));
        assert!(third.iter().any(|s| s == "https://jsfiddle.net"));
        let pre: Vec<&Probe> = probes.iter().filter(|p| p.kind == ProbeKind::Preflight).collect();
        assert_eq!(pre.len(), 1);
        assert_eq!(pre[0].method(), Method::OPTIONS);
        // every probe origin must be sendable as a header value
        for p in &probes {
            assert!(p.headers().is_ok(), "{}", p.origin);
        }
    }

    #[test]
    fn probes_keep_ports_and_skip_meaningless_ones() {
        let t = origin("http://127.0.0.1:8080");
        let probes = derive_probes(std::slice::from_ref(&t));
        assert_eq!(probes_of(&probes, Id::PrefixMatch), ["http://127.0.0.1.evil.net:8080"]);
        assert!(probes_of(&probes, Id::SuffixMatch).is_empty());
        assert!(probes_of(&probes, Id::UnescapedDot).is_empty());
        assert!(probes_of(&probes, Id::AnySubdomain).is_empty());
        assert!(probes_of(&probes, Id::InsecureScheme).is_empty()); // already http

        let t = origin("https://app.example.com:8443");
        let probes = derive_probes(std::slice::from_ref(&t));
        assert_eq!(probes_of(&probes, Id::InsecureScheme), ["http://app.example.com:8443"]);
        assert_eq!(probes_of(&probes, Id::SuffixMatch), ["https://evilexample.com:8443"]);
    }

    #[test]
    fn trusted_origins_are_never_probes() {
        let a = origin("https://example.com");
        let b = origin("http://example.com");
        let c = origin("https://codepen.io");
        let probes = derive_probes(&[a, b, c]);
        // http://example.com is trusted explicitly, so only codepen's twin is probed
        assert_eq!(probes_of(&probes, Id::InsecureScheme), ["http://codepen.io"]);
        assert!(!probes_of(&probes, Id::ThirdPartyHost).contains(&"https://codepen.io".to_owned()));
        // no duplicate (method, origin) pairs
        let mut seen = BTreeSet::new();
        for p in &probes {
            assert!(seen.insert((p.method().to_string(), p.origin.clone())), "{}", p.origin);
        }
    }

    #[test]
    fn preflight_probe_headers_in_order() {
        let probes = derive_probes(&[origin("https://example.com")]);
        let pre = probes.iter().find(|p| p.kind == ProbeKind::Preflight).unwrap();
        let sent = pre.sent_request();
        assert_eq!(sent.method, "OPTIONS");
        let names: Vec<&str> = sent.headers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "origin",
                "access-control-request-method",
                "access-control-request-headers",
                "accept",
                "user-agent"
            ]
        );
        assert_eq!(pre.class(), "preflight-reflects-anything");
    }
}
