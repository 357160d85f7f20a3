//! Which requests an audit sends: the probe origins derived from the trusted ones, and
//! the headers of each probe.
//!
//! Every probe is a plain `GET` (with an `Origin` header) or an `OPTIONS` preflight;
//! nothing is sent that changes state unless asked (`--unsafe-probes`, below). The probe origins follow the public research
//! and scanners (PortSwigger 2016, CORScanner, Corsy, nuclei): look-alikes of the trusted
//! origins (prefix, suffix, unescaped regex dot, special characters, http twin, arbitrary
//! subdomain, another port), origins anybody can obtain (`null`, an arbitrary site, shared
//! hosting platforms), local and internal origins, and preflights asking for a method and
//! headers nobody would allow (from an untrusted and from a trusted origin). From the first
//! trusted origin also: a preflight for `GET` alone (does its answer agree with the
//! actual response?), one asking for private network access (a leftover
//! `Access-Control-Allow-Private-Network`?), a `GET` of a path that does not exist (do
//! error responses carry CORS headers?), and a `GET` sent over a connection of its own
//! whose `Origin` holds a carriage return (is it reflected into a header?). Last, three
//! WebSocket handshakes (a `GET` with `Upgrade: websocket`, closed at once after a 101):
//! from the first trusted origin, from an arbitrary one and with `null`.
//!
//! With `--unsafe-probes` (opt in), three form POSTs ([`unsafe_probes`]): from the target's
//! own origin, then from an arbitrary origin with `Sec-Fetch-Site: cross-site`, and the same
//! without it. They look for an endpoint that accepts cross-site unsafe requests
//! (cross-site request forgery); their body is the harmless-looking [`POST_BODY`], but a
//! POST can change state, so they are never sent by default.

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
/// The path segment appended to the URL for the error probe: no server has it.
pub(crate) const MISSING_SEGMENT: &str = "corsair-probe-not-found";
/// The header name smuggled after a carriage return in the `crlf-in-origin` probe.
pub(crate) const INJECTED_HEADER: &str = "X-Corsair-Injected";

/// Origins on the user's machine or network: a local dev server, a router, an
/// intranet host (nuclei's and PortSwigger's "trusted internal origin" class).
const LOCAL_ORIGINS: &[&str] = &[
    "http://localhost",
    "http://localhost:3000",
    "http://127.0.0.1",
    "http://127.0.0.1:8080",
    "http://[::1]:3000",
    "http://192.168.0.1",
    "http://10.0.0.1",
];

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
    /// `OPTIONS` preflight from a trusted origin asking for anything.
    TrustedPreflight,
    /// `OPTIONS` preflight from a trusted origin asking for `GET` alone.
    PlainPreflight,
    /// `OPTIONS` preflight from a trusted origin asking for private network access.
    PrivateNetwork,
    /// `GET` of a path under the URL that does not exist, from a trusted origin.
    Missing,
    /// `GET` whose `Origin` holds a carriage return, sent over a raw connection.
    Crlf,
    /// A WebSocket handshake from a trusted origin: does the URL take WebSockets?
    WebSocketBaseline,
    /// A WebSocket handshake from an origin the server should refuse.
    WebSocket(Id),
    /// `--unsafe-probes`: a form `POST` from the target's own origin
    /// (`Sec-Fetch-Site: same-origin`): does the endpoint take POSTs at all?
    SameOriginPost,
    /// `--unsafe-probes`: a form `POST` from an arbitrary origin with
    /// `Sec-Fetch-Site: cross-site`, as a current browser sends a cross-site form or
    /// no-cors fetch.
    CrossSitePost,
    /// `--unsafe-probes`: the same without `Sec-Fetch-Site`, as an older browser, or
    /// any browser to a plain-http URL off loopback, sends it.
    LegacyCrossSitePost,
}

/// The body of the `--unsafe-probes` POSTs (`application/x-www-form-urlencoded`).
pub(crate) const POST_BODY: &str = "corsair_probe=1";

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
        if self.is_preflight() {
            Method::OPTIONS
        } else if self.is_post() {
            Method::POST
        } else {
            Method::GET
        }
    }

    /// Whether it is one of the `--unsafe-probes` POSTs.
    pub(crate) fn is_post(&self) -> bool {
        matches!(
            self.kind,
            ProbeKind::SameOriginPost | ProbeKind::CrossSitePost | ProbeKind::LegacyCrossSitePost
        )
    }

    /// The body sent (the POSTs' form body; nothing for the others).
    pub(crate) fn body(&self) -> &'static str {
        if self.is_post() {
            POST_BODY
        } else {
            ""
        }
    }

    /// Whether it is an `OPTIONS` preflight.
    pub(crate) fn is_preflight(&self) -> bool {
        matches!(
            self.kind,
            ProbeKind::Preflight | ProbeKind::TrustedPreflight | ProbeKind::PlainPreflight | ProbeKind::PrivateNetwork
        )
    }

    /// The finding this probe looks for (`None` for the baseline).
    pub(crate) fn id(&self) -> Option<Id> {
        Some(match self.kind {
            ProbeKind::Baseline | ProbeKind::SameOriginPost => return None,
            ProbeKind::Origin(id) => id,
            ProbeKind::Preflight => Id::PreflightReflectsAnything,
            ProbeKind::TrustedPreflight => Id::PermissivePreflight,
            ProbeKind::PlainPreflight => Id::PreflightDisagrees,
            ProbeKind::PrivateNetwork => Id::PrivateNetworkHeader,
            ProbeKind::Missing => Id::ErrorWithoutCors,
            ProbeKind::Crlf => Id::CrlfInOrigin,
            ProbeKind::WebSocketBaseline => return None,
            ProbeKind::WebSocket(id) => id,
            ProbeKind::CrossSitePost => Id::CrossSitePost,
            ProbeKind::LegacyCrossSitePost => Id::CrossSitePostWithoutSecFetchSite,
        })
    }

    /// The name of what the probe tests: `baseline`, `same-origin-post` or the id of the
    /// finding it looks for.
    pub(crate) fn class(&self) -> &'static str {
        match self.kind {
            ProbeKind::WebSocketBaseline => "websocket-baseline",
            ProbeKind::SameOriginPost => "same-origin-post",
            _ => self.id().map_or("baseline", Id::as_str),
        }
    }

    /// The URL the probe asks for: the audited one, or a path under it that does not exist.
    pub(crate) fn url(&self, audited: &str) -> String {
        if self.kind != ProbeKind::Missing {
            return audited.to_owned();
        }
        match url::Url::parse(audited) {
            Ok(mut u) => {
                let path = u.path().trim_end_matches('/').to_owned();
                u.set_path(&format!("{path}/{MISSING_SEGMENT}"));
                u.set_query(None);
                u.to_string()
            }
            Err(_) => audited.to_owned(),
        }
    }

    /// The `Origin` value as sent (the `Crlf` probe's holds a carriage return).
    pub(crate) fn origin_bytes(&self) -> Vec<u8> {
        match self.kind {
            ProbeKind::Crlf => format!("{}\r{INJECTED_HEADER}: 1", self.origin).into_bytes(),
            _ => self.origin.clone().into_bytes(),
        }
    }

    /// The headers sent (besides `Host`).
    pub(crate) fn headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
        let origin = HeaderValue::from_str(&self.origin)
            .map_err(|_| format!("probe origin `{}` is not a valid header value", self.origin))?;
        let mut headers = vec![(header::ORIGIN, origin)];
        match self.kind {
            ProbeKind::Preflight | ProbeKind::TrustedPreflight => {
                headers.push((
                    header::ACCESS_CONTROL_REQUEST_METHOD,
                    HeaderValue::from_static(PROBE_METHOD),
                ));
                headers.push((
                    header::ACCESS_CONTROL_REQUEST_HEADERS,
                    HeaderValue::from_static(PROBE_REQUEST_HEADERS),
                ));
            }
            ProbeKind::PlainPreflight => {
                headers.push((header::ACCESS_CONTROL_REQUEST_METHOD, HeaderValue::from_static("GET")));
            }
            ProbeKind::PrivateNetwork => {
                headers.push((header::ACCESS_CONTROL_REQUEST_METHOD, HeaderValue::from_static("GET")));
                headers.push((
                    corsair::ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK,
                    HeaderValue::from_static("true"),
                ));
            }
            ProbeKind::WebSocketBaseline | ProbeKind::WebSocket(_) => {
                // The key is made when the handshake is sent (`wsprobe`).
                headers.push((header::UPGRADE, HeaderValue::from_static("websocket")));
                headers.push((header::CONNECTION, HeaderValue::from_static("Upgrade")));
                headers.push((
                    header::SEC_WEBSOCKET_VERSION,
                    HeaderValue::from_static(corsair_gateway::websocket::VERSION),
                ));
            }
            ProbeKind::SameOriginPost | ProbeKind::CrossSitePost | ProbeKind::LegacyCrossSitePost => {
                headers.push((
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                ));
                // Fetch Metadata, as a browser sends it with a no-cors fetch.
                let site = match self.kind {
                    ProbeKind::SameOriginPost => Some("same-origin"),
                    ProbeKind::CrossSitePost => Some("cross-site"),
                    _ => None,
                };
                if let Some(site) = site {
                    for (name, value) in [
                        ("sec-fetch-site", site),
                        ("sec-fetch-mode", "no-cors"),
                        ("sec-fetch-dest", "empty"),
                    ] {
                        headers.push((HeaderName::from_static(name), HeaderValue::from_static(value)));
                    }
                }
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
        let origin = self.origin_bytes();
        SentRequest {
            method: self.method().to_string(),
            headers: HeaderList::from_lines(headers.iter().map(|(n, v)| {
                // The raw probe's Origin, as it went on the wire.
                if *n == header::ORIGIN {
                    (n.as_str(), origin.as_slice())
                } else {
                    (n.as_str(), v.as_bytes())
                }
            })),
        }
    }
}

/// All probes for a target, deduplicated, with the trusted origins' baselines first.
pub(crate) fn derive_probes(trusted: &[Origin]) -> Vec<Probe> {
    let trusted_set: BTreeSet<String> = trusted.iter().map(Origin::serialize).collect();
    let mut probes: Vec<Probe> = Vec::new();
    let mut push = |kind: ProbeKind, origin: String, imitates: Option<&Origin>| {
        let is_lookalike = matches!(kind, ProbeKind::Origin(_));
        if is_lookalike && trusted_set.contains(&origin) {
            return; // the user trusts it on purpose
        }
        // One GET per origin (the first class that asks for it tests it).
        let origin_get = matches!(kind, ProbeKind::Baseline | ProbeKind::Origin(_));
        let duplicate = origin_get
            && probes
                .iter()
                .any(|p| p.origin == origin && matches!(p.kind, ProbeKind::Baseline | ProbeKind::Origin(_)));
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
        // port-bypass: the same scheme and host on another port.
        push(ProbeKind::Origin(Id::PortBypass), t.other_port().serialize(), Some(t));
    }
    for o in THIRD_PARTY_ORIGINS {
        push(ProbeKind::Origin(Id::ThirdPartyHost), (*o).to_owned(), None);
    }
    // Local origins, unless a local origin is trusted on purpose (a local setup).
    if !trusted.iter().any(Origin::is_local) {
        for o in LOCAL_ORIGINS {
            push(ProbeKind::Origin(Id::LocalOrigin), (*o).to_owned(), None);
        }
    }
    push(ProbeKind::Preflight, ARBITRARY_ORIGIN.to_owned(), None);
    if let Some(t) = trusted.first() {
        let o = t.serialize();
        push(ProbeKind::TrustedPreflight, o.clone(), None);
        push(ProbeKind::PlainPreflight, o.clone(), None);
        push(ProbeKind::PrivateNetwork, o.clone(), None);
        push(ProbeKind::Missing, o, None);
    }
    push(ProbeKind::Crlf, ARBITRARY_ORIGIN.to_owned(), None);
    // WebSocket handshakes (each closed at once): browsers send them with the
    // user's cookies from any page and make no CORS check, so only the
    // server's Origin check stands in the way (Cross-Site WebSocket
    // Hijacking). The trusted one tells whether the URL takes WebSockets.
    if let Some(t) = trusted.first() {
        push(ProbeKind::WebSocketBaseline, t.serialize(), None);
    }
    push(
        ProbeKind::WebSocket(Id::WebsocketAnyOrigin),
        ARBITRARY_ORIGIN.to_owned(),
        None,
    );
    push(ProbeKind::WebSocket(Id::WebsocketNullOrigin), "null".to_owned(), None);
    probes
}

/// The `--unsafe-probes` POSTs: a same-origin form POST (does the endpoint take POSTs?),
/// then the cross-site one a current browser sends for a page of any site, and the same
/// without `Sec-Fetch-Site` (an older browser, or a plain-http URL).
pub(crate) fn unsafe_probes(target: &Origin) -> Vec<Probe> {
    [
        (ProbeKind::SameOriginPost, target.serialize()),
        (ProbeKind::CrossSitePost, ARBITRARY_ORIGIN.to_owned()),
        (ProbeKind::LegacyCrossSitePost, ARBITRARY_ORIGIN.to_owned()),
    ]
    .into_iter()
    .map(|(kind, origin)| Probe {
        kind,
        origin,
        imitates: None,
    })
    .collect()
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
mod tests;
