//! The texts of the findings: what is wrong, why it is dangerous, and the fix.

use std::fmt;

use http::header::{self, HeaderMap};
use serde::{Serialize, Serializer};

use super::analysis::{grant, tokens, Grant};
use super::findings::Id;
use super::origin::Origin;
use super::probes::{Probe, ProbeKind, EVIL_DOMAIN, PROBE_METHOD, PROBE_REQUEST_HEADERS};

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
        Id::PreflightReflectsAnything => {
            let g = grant(e.headers, o);
            let who = if g == Grant::Exact {
                format!("the untrusted origin `{o}`")
            } else {
                "every origin (`*`)".to_owned()
            };
            let danger = if g == Grant::Exact && creds {
                "any site can send PUT, DELETE and custom-header requests (including \
                 `Authorization` and anti-CSRF headers) with the victim's cookies and read the \
                 answers"
            } else if g == Grant::Exact {
                "any site can send arbitrary methods and headers (including `Authorization`) \
                 from the victim's browser and read the answers"
            } else {
                "any site can send arbitrary methods and custom headers without credentials; \
                 harmless for a truly public API, but it is a blanket approval rather than a \
                 policy"
            };
            (
                format!(
                    "A preflight from {who} asking for the made-up method `{PROBE_METHOD}` and the \
                     headers `{PROBE_REQUEST_HEADERS}` was approved: the server echoes what the \
                     preflight asks for instead of checking it, so {danger}."
                ),
                "answer preflights only for allow-listed origins, with a fixed list of methods and \
                 request headers."
                    .to_owned(),
            )
        }
    };
    Explanation { text, fix }
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
