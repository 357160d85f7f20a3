//! The texts of the findings: what is wrong, why it is dangerous, and the fix.

use std::fmt;

use http::header::{self, HeaderMap};
use serde::{Serialize, Serializer};

use super::analysis::{grant, tokens, Grant};
use super::findings::Id;
use super::origin::Origin;
use super::probes::{Probe, ProbeKind, EVIL_DOMAIN, MISSING_SEGMENT, PROBE_METHOD, PROBE_REQUEST_HEADERS};

/// One finding's paragraph: what the probe showed and why it matters (`text`), and what
/// to change (`fix`). Shown, and serialized, as `"{text} Fix: {fix}"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Explanation {
    pub(crate) text: String,
    pub(crate) fix: String,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Fix: {}", self.text, self.fix)
    }
}

impl Serialize for Explanation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What the explanation of one finding may draw on.
pub(crate) struct Evidence<'a> {
    /// The audited URL's origin.
    pub(crate) target: &'a Origin,
    /// The probe whose response shows the problem.
    pub(crate) probe: &'a Probe,
    /// Whether that response carried exactly `Access-Control-Allow-Credentials: true`.
    pub(crate) creds: bool,
    /// That response's headers.
    pub(crate) headers: &'a HeaderMap,
}

/// The fix shared by the origin-check findings.
const EXACT_FIX: &str = "compare the complete Origin string for equality against an allow-list \
                         of full origins (scheme, host and port), echo it only on a match, and send \
                         `Vary: Origin`";

/// The explanation of finding `id`.
pub(crate) fn explain(id: Id, e: &Evidence<'_>) -> Explanation {
    let o = &e.probe.origin;
    let trusted = e.probe.imitates.as_deref().unwrap_or("the trusted origin");
    let creds = e.creds;
    let with_creds = if creds {
        " together with `Access-Control-Allow-Credentials: true`"
    } else {
        ""
    };
    let read = if creds {
        "read this endpoint's responses with the victim's cookies and HTTP authentication \
         (account data, CSRF tokens, anything the victim can see)"
    } else {
        "read this endpoint's responses from inside the victim's browser; without credentials \
         that exposes what the victim's network position unlocks (intranet hosts, IP \
         allow-lists)"
    };
    let (text, fix) = match id {
        Id::ReflectAnyOrigin => (
            format!(
                "The server copied the arbitrary origin `{o}` into Access-Control-Allow-Origin{with_creds}, \
                 so it trusts every web site: any page the victim visits can {read}."
            ),
            format!(
                "{EXACT_FIX}; never echo the request's Origin unconditionally. If the resource is \
                 truly public and needs no credentials, send `Access-Control-Allow-Origin: *` instead."
            ),
        ),
        Id::NullOrigin => (
            format!(
                "The server grants the origin `null`{with_creds}. Any site can make a browser send \
                 `Origin: null` (a sandboxed iframe, a `data:` URL, some cross-origin redirects), so \
                 trusting `null` lets any page the victim visits {read}."
            ),
            "remove `null` from the allow-list; it never identifies a party you can trust.".to_owned(),
        ),
        Id::PrefixMatch => (
            format!(
                "The server grants `{o}`, which merely starts with the trusted `{trusted}`{with_creds}. \
                 The origin check is a prefix test (startsWith, or a regular expression without a \
                 closing `$`); an attacker who registers `{EVIL_DOMAIN}` can serve a page from that \
                 host and {read}."
            ),
            format!("{EXACT_FIX}."),
        ),
        Id::SuffixMatch => (
            format!(
                "The server grants `{o}`, an unrelated domain that merely ends with the trusted \
                 domain{with_creds}. The origin check is a suffix test (endsWith, or a regular \
                 expression without an anchored `^` and `\\.` boundary); anyone can register such a \
                 name and {read}."
            ),
            format!(
                "{EXACT_FIX}; if subdomains must be trusted, require the dot \
                 boundary (`host == d || host.ends_with(\".\" + d)`) and prefer listing them."
            ),
        ),
        Id::UnescapedDot => (
            format!(
                "The server grants `{o}`, which differs from the trusted `{trusted}` only in that a \
                 dot became `x`{with_creds}. That is the mark of a regular expression with an \
                 unescaped `.` (matching any character); anyone can register that name and {read}."
            ),
            format!("escape every dot (`\\.`) and anchor the pattern (`^...$`), or better, {EXACT_FIX}."),
        ),
        Id::SpecialChars => (
            format!(
                "The server grants `{o}`: the trusted host followed by a special character and the \
                 attacker's domain `{EVIL_DOMAIN}`{with_creds}. Its origin parser stops at a \
                 character that is not valid in a host name, but browsers send such origins \
                 (`_` and `-` everywhere, more characters such as `` ` `` or `{{` in Safari), so the \
                 owner of `{EVIL_DOMAIN}` can {read}."
            ),
            format!("do not tokenize or URL-parse the Origin leniently; {EXACT_FIX}."),
        ),
        Id::InsecureScheme => {
            let note = if e.target.scheme() == "http" {
                " (This target is itself served over plain http, so such an attacker can already \
                 read it directly: move it to https too.)"
            } else {
                ""
            };
            (
                format!(
                    "The server grants `{o}`, the plain-http twin of the trusted `{trusted}`{with_creds}. \
                     An attacker on the victim's network (public Wi-Fi, a rogue router) can inject a \
                     page into any http response from that host and, from that origin, {read}, undoing \
                     what TLS protects.{note}"
                ),
                "allow only `https://` origins, and enable HSTS on the trusted site.".to_owned(),
            )
        }
        Id::AnySubdomain => {
            let risk = if creds {
                "read this endpoint with the victim's cookies"
            } else {
                "read this endpoint from the victim's browser (without credentials the risk \
                 is low)"
            };
            (
                format!(
                    "The server grants `{o}`, an arbitrary subdomain of the trusted `{trusted}`{with_creds}, \
                     so every subdomain is trusted. A cross-site scripting bug, a forgotten staging \
                     host or a dangling DNS record (subdomain takeover) on any one of them becomes a \
                     way to {risk}."
                ),
                "list the subdomains that really need access instead of trusting a whole domain.".to_owned(),
            )
        }
        Id::ThirdPartyHost => (
            format!(
                "The server grants `{o}`, an origin on a shared hosting or code-playground platform \
                 where anyone can publish pages{with_creds}. An attacker signs up, publishes a page \
                 there and can {read}."
            ),
            "remove shared-hosting origins and wildcards over them (such as `*.github.io` or \
             `*.herokuapp.com`) from the allow-list; trust only origins you control."
                .to_owned(),
        ),
        Id::WildcardWithCredentials => (
            format!(
                "The response to `Origin: {o}` carries `Access-Control-Allow-Origin: *` together with \
                 `Access-Control-Allow-Credentials: true`. Browsers refuse this pair, so credentialed \
                 requests fail while every site can still read the response without credentials. \
                 The server evidently means to share credentialed responses with everyone, and the \
                 usual 'fix' (echoing the Origin) turns this into `reflect-any-origin`, the worst \
                 case."
            ),
            format!("for public data drop Access-Control-Allow-Credentials; for data behind cookies {EXACT_FIX}."),
        ),
        Id::MissingVary => {
            let echoed_untrusted = e.probe.kind != ProbeKind::Baseline;
            let risk = if echoed_untrusted {
                "Because the server also echoes untrusted origins, an attacker can get a response \
                 naming their origin stored in a cache and served to others (cache poisoning)."
            } else {
                "The main effect is breakage: responses cached for one allowed origin fail the \
                 CORS check for another."
            };
            let vary = tokens(e.headers, &header::VARY);
            let vary_note = if vary.is_empty() {
                "has no `Vary` header".to_owned()
            } else {
                format!("has `Vary: {}` but not `Origin`", vary.join(", "))
            };
            (
                format!(
                    "Access-Control-Allow-Origin depends on the request's Origin (the response to \
                     `{o}` echoes it), but the response {vary_note}. Browser and shared caches may \
                     then store the response made for one origin and serve it to another. {risk}"
                ),
                "send `Vary: Origin` on every response whose CORS headers depend on the \
                 Origin, including the responses that omit them."
                    .to_owned(),
            )
        }
        Id::PortBypass => (
            format!(
                "The server grants `{o}`, the trusted `{trusted}` on another port{with_creds}. Its origin check \
                 ignores the port, so any service on another port of that host (a test server, another \
                 tenant's application, anything an attacker can start there) can {read}."
            ),
            "compare the port too: list each trusted origin with its exact port (scheme, host and port), \
             and nothing else."
                .to_owned(),
        ),
        Id::LocalOrigin => (
            format!(
                "The server grants `{o}`, an origin on the user's own machine or local network{with_creds}. Any \
                 page served from there (a development server, a local tool, malware, a device on the same \
                 network) can {read}."
            ),
            "remove localhost, loopback and private-network origins from the production allow-list; if \
             development needs them, allow them only in a development configuration."
                .to_owned(),
        ),
        Id::WebsocketAnyOrigin | Id::WebsocketNullOrigin => {
            let who = if id == Id::WebsocketNullOrigin {
                "with `Origin: null` (which any page can get: a sandboxed iframe, a `data:` URL)".to_owned()
            } else {
                format!("from the arbitrary origin `{o}`")
            };
            (
                format!(
                    "The server accepted a WebSocket handshake {who} (101). Browsers make no \
                     CORS check on WebSockets and send the victim's cookies with the handshake, so any \
                     page the victim visits can open this socket as the victim and read and write on it \
                     (Cross-Site WebSocket Hijacking)."
                ),
                "check the handshake's Origin against an allow-list of full origins and answer 403 to \
                 any other (RFC 6455 §10.2); a corsair gateway in front does it with the covering \
                 policy's allow_origins."
                    .to_owned(),
            )
        }
        // These classes are explained from what their analysis found (see the functions
        // below); this text is never the one reported for them.
        _ => (
            format!("The response to `Origin: {o}` shows the class `{id}`."),
            "see the finding's class in the documentation.".to_owned(),
        ),
    };
    Explanation { text, fix }
}

/// What a 2xx answer to the made-up preflight approved (see `analysis::preflights`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Approval {
    /// Whether the made-up method was approved (listed, or `*` without credentials).
    pub(crate) method: bool,
    /// The requested headers that were approved.
    pub(crate) headers: Vec<String>,
    /// What Access-Control-Allow-Methods listed.
    pub(crate) listed_methods: Vec<String>,
    /// What Access-Control-Allow-Headers listed.
    pub(crate) listed_headers: Vec<String>,
}

fn listed(values: &[String]) -> String {
    if values.is_empty() {
        "nothing".to_owned()
    } else {
        format!("`{}`", values.join(", "))
    }
}

/// `preflight-reflects-anything` and `permissive-preflight`: only what the answer showed.
pub(crate) fn approval(id: Id, e: &Evidence<'_>, a: &Approval) -> Explanation {
    let o = &e.probe.origin;
    let exact = grant(e.headers, o) == Grant::Exact;
    let who = match (id, exact) {
        (Id::PermissivePreflight, _) => format!("the trusted origin `{o}`"),
        (_, true) => format!("the untrusted origin `{o}`"),
        (_, false) => "every origin (`*`)".to_owned(),
    };
    let mut approved = Vec::new();
    if a.method {
        approved.push(format!(
            "the made-up method `{PROBE_METHOD}` (Access-Control-Allow-Methods: {})",
            listed(&a.listed_methods)
        ));
    }
    if !a.headers.is_empty() {
        approved.push(format!(
            "the requested header{} `{}` (Access-Control-Allow-Headers: {})",
            if a.headers.len() == 1 { "" } else { "s" },
            a.headers.join("`, `"),
            listed(&a.listed_headers)
        ));
    }
    let mut shown = format!(
        "A preflight from {who} asking for the made-up method `{PROBE_METHOD}` and the headers \
         `{PROBE_REQUEST_HEADERS}` got a {} answer that approves {}",
        "2xx",
        approved.join(" and ")
    );
    if !a.method {
        shown.push_str(&format!(
            "; it did not approve the method: Access-Control-Allow-Methods lists only {}",
            listed(&a.listed_methods)
        ));
    }
    let echoed = if a.method && !a.headers.is_empty() {
        "the method and headers it is asked for"
    } else if a.method {
        "the method it is asked for"
    } else {
        "the headers it is asked for"
    };
    let creds = e.creds;
    let danger = match (id, exact, creds) {
        (Id::PermissivePreflight, _, true) => {
            "the trusted origin may send any such request with the user's cookies: a single script injection \
             there can use every method and header of this API"
        }
        (Id::PermissivePreflight, _, false) => {
            "the trusted origin may send any such request; a fixed list keeps mistakes and injected scripts \
             there to what the API expects"
        }
        (_, true, true) => "any site can send such requests with the victim's cookies and read the answers",
        (_, true, false) => "any site can send such requests from the victim's browser and read the answers",
        _ => {
            "any site can send such requests without credentials; harmless for a truly public API, but a \
              blanket approval rather than a policy"
        }
    };
    Explanation {
        text: format!("{shown}. The server echoes {echoed} instead of checking them, so {danger}."),
        fix: "answer preflights with a fixed list of the methods and request headers the API uses (and only \
              for allow-listed origins)."
            .to_owned(),
    }
}

/// `preflight-disagrees`, from the sentence that says how.
pub(crate) fn disagreement(what: &str) -> Explanation {
    Explanation {
        text: what.to_owned(),
        fix: "give the preflight and the actual response the same Access-Control-Allow-Origin and \
              Access-Control-Allow-Credentials for the same origin (one CORS layer in front of every route, \
              OPTIONS included)."
            .to_owned(),
    }
}

/// `error-without-cors`.
pub(crate) fn error_without_cors(e: &Evidence<'_>, status: u16) -> Explanation {
    let o = &e.probe.origin;
    Explanation {
        text: format!(
            "The audited URL grants the trusted origin `{o}`, but a GET of a path under it that does not exist \
             (`…/{MISSING_SEGMENT}`) from the same origin got {status} without Access-Control-Allow-Origin. Error \
             responses then reach the page as network errors: it cannot read their status or body, and the \
             console shows a CORS error instead of the real one."
        ),
        fix: "add the CORS headers to error responses too (4xx and 5xx, including those of an authentication \
              layer, a gateway or a proxy) for allowed origins."
            .to_owned(),
    }
}

/// `cross-site-post` and `cross-site-post-without-sec-fetch-site`: a cross-site form POST
/// got `status`; the same-origin one got `baseline`; `trustworthy`: browsers send the URL
/// `Sec-Fetch-Site`.
pub(crate) fn cross_site_post(
    e: &Evidence<'_>,
    id: Id,
    status: u16,
    baseline: Option<u16>,
    trustworthy: bool,
) -> Explanation {
    let o = &e.probe.origin;
    let how = if id == Id::CrossSitePost {
        "with `Sec-Fetch-Site: cross-site`, as every current browser sends a form or a no-cors fetch from another \
         site"
            .to_owned()
    } else if trustworthy {
        "without `Sec-Fetch-Site`, as a browser older than 2023 sends it (the server may rely on Sec-Fetch-Site \
         alone, with no Origin check behind it)"
            .to_owned()
    } else {
        format!(
            "without `Sec-Fetch-Site`, as every browser sends it to this plain-http URL (Fetch Metadata goes to \
             https and loopback URLs only), with an Origin that is not `{}`",
            e.target
        )
    };
    let same = match baseline {
        Some(b) => format!(" (the same POST from the site's own origin got {b})"),
        None => String::new(),
    };
    Explanation {
        text: format!(
            "A form POST from `{o}` {how}, was accepted: {status}{same}. A page of any site can make a visitor's \
             browser send it, with the visitor's cookies when they are SameSite=None (or the browser is old), \
             and the service acts on it; CORS does not stop this, it only hides the answer. If this endpoint \
             changes state on behalf of a logged-in user, that is cross-site request forgery. (The probe carries \
             no cookies, so it cannot tell whether a session would be needed.)"
        ),
        fix: "refuse unsafe requests (POST, PUT, PATCH, DELETE) whose Sec-Fetch-Site is not same-origin or none, \
              or, without Sec-Fetch-Site, whose Origin is neither this host nor a trusted origin (a corsair \
              gateway does with protect_unsafe_requests, on by default; Go's http.CrossOriginProtection; \
              tower-http's CsrfLayer), or require an anti-CSRF token; set session cookies SameSite=Lax or \
              Strict."
            .to_owned(),
    }
}

/// `crlf-in-origin`.
pub(crate) fn crlf() -> Explanation {
    Explanation {
        text: "A GET whose Origin holds a carriage return followed by `X-Corsair-Injected: 1` got a response \
               whose head holds that text as a header line of its own or after a bare carriage return: the \
               server copies the Origin into a response header without checking it. Caches, proxies and some \
               clients read a bare carriage return as the end of a line, so a request sent directly (not \
               through a browser) can inject headers into a response that a shared cache then serves to \
               others (cache poisoning, PortSwigger 2016)."
            .to_owned(),
        fix: "never copy the Origin into a response unless it exactly equals an allow-listed origin; refuse \
              request headers that contain control characters (400)."
            .to_owned(),
    }
}

/// `private-network-header`.
pub(crate) fn private_network(e: &Evidence<'_>, untrusted: bool) -> Explanation {
    let o = &e.probe.origin;
    let text = if untrusted {
        format!(
            "The answer to `Origin: {o}`, an untrusted origin, grants it and carries \
             `Access-Control-Allow-Private-Network: true`: browsers that still read this Private Network Access \
             header (Chrome before 142) let any site reach this private-network service from the victim's \
             browser."
        )
    } else {
        format!(
            "The answer to a preflight from `{o}` asking for private network access carries \
             `Access-Control-Allow-Private-Network: true`. Chrome replaced Private Network Access with Local \
             Network Access in Chrome 142: a permission the user grants; no response header authorizes such a \
             request any more, so this header is a leftover that does nothing."
        )
    };
    Explanation {
        text,
        fix: "drop Access-Control-Allow-Private-Network (with `allow_private_network = false` in corsair); for \
              Chrome 142 and later, the page needs the user's Local Network Access permission instead."
            .to_owned(),
    }
}

/// `multiple-allow-origin`.
pub(crate) fn multiple_acao(e: &Evidence<'_>, values: &[String]) -> Explanation {
    let o = &e.probe.origin;
    let shown: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    Explanation {
        text: format!(
            "The answer to `Origin: {o}` carries Access-Control-Allow-Origin {} ({} line{}). Browsers join \
             several lines with `, ` and accept only one origin, so they refuse this response whatever the \
             origin: two layers (a proxy or gateway and the application) probably both add the header, or the \
             server sends its whole allow-list.",
            shown.join(" and "),
            values.len(),
            if values.len() == 1 { "" } else { "s" }
        ),
        fix: "let one layer send exactly one Access-Control-Allow-Origin, the requesting origin (or `*`).".to_owned(),
    }
}

/// `invalid-allow-origin`.
pub(crate) fn invalid_acao(e: &Evidence<'_>, value: &str) -> Explanation {
    let o = &e.probe.origin;
    Explanation {
        text: format!(
            "The answer to `Origin: {o}` carries `Access-Control-Allow-Origin: {value}`, which is neither `*` \
             nor an origin as browsers serialize it (scheme://host[:port], lowercase, no path, no default \
             port, no pattern): browsers refuse it whatever the origin."
        ),
        fix: "send the requesting origin exactly as the Origin header carries it (or `*` for a public \
              resource)."
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_as_text_then_fix() {
        let e = Explanation {
            text: "The server does X.".to_owned(),
            fix: "do Y.".to_owned(),
        };
        assert_eq!(e.to_string(), "The server does X. Fix: do Y.");
        assert_eq!(serde_json::to_value(&e).unwrap(), "The server does X. Fix: do Y.");
    }

    #[test]
    fn origin_class_explanations_name_the_origin_and_say_whether_credentials_came_along() {
        let target = Origin::parse("https://www.example.com").unwrap();
        let probes = super::super::probes::derive_probes(std::slice::from_ref(&target));
        let headers = HeaderMap::new();
        for probe in &probes {
            let ProbeKind::Origin(id) = probe.kind else { continue };
            for creds in [false, true] {
                let evidence = Evidence {
                    target: &target,
                    probe,
                    creds,
                    headers: &headers,
                };
                let e = explain(id, &evidence);
                assert!(e.text.contains(&format!("`{}`", probe.origin)), "{id}: {e}");
                assert_eq!(
                    e.text
                        .contains("together with `Access-Control-Allow-Credentials: true`"),
                    creds,
                    "{id} creds={creds}: {e}"
                );
                assert!(
                    !e.fix.is_empty() && !e.text.contains("Fix:") && !e.fix.contains("Fix:"),
                    "{id}: {e}"
                );
            }
        }
    }
}
