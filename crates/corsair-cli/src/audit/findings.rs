//! What an audit reports: the finding ids, their severities, and the rules that rank
//! them (severity, and which findings follow from a broader one).
//!
//! # Severity rule
//!
//! *credentials* means the granting response also carries exactly
//! `Access-Control-Allow-Credentials: true`.
//!
//! | finding | high | medium | low |
//! |---|---|---|---|
//! | `reflect-any-origin`, `null-origin`, `prefix-match`, `suffix-match`, `unescaped-dot`, `special-chars`, `third-party-host` (origins anybody can obtain or register) | always | | |
//! | `insecure-scheme` (needs a network attacker) | with credentials | | without |
//! | `any-subdomain` (needs a foothold on a subdomain: XSS or a taken-over DNS name) | with credentials | | without |
//! | `port-bypass`, `local-origin` (need a service on another port of the host, or on the user's machine or network) | | with credentials | without |
//! | `preflight-reflects-anything` | granted to the untrusted origin itself | | only with `ACAO: *` |
//! | `permissive-preflight` (a trusted origin's preflight gets whatever it asks for) | | with credentials | without |
//! | `wildcard-with-credentials` (browsers refuse the pair, so no credentials leak) | | always | |
//! | `missing-vary` | | an untrusted origin is echoed | only trusted origins are echoed |
//! | `crlf-in-origin` (a carriage return reflected into a response header) | | always | |
//! | `private-network-header` | | granted to an untrusted origin | otherwise (a leftover Chrome ignores) |
//! | `invalid-allow-origin`, `multiple-allow-origin`, `error-without-cors`, `preflight-disagrees` (breakage: browsers refuse these responses) | | | always |
//! | `websocket-any-origin`, `websocket-null-origin` (a WebSocket opened from any site or a sandboxed page: browsers send the cookies and make no CORS check) | always | | |
//! | `cross-site-post` (`--unsafe-probes`: a cross-site form POST accepted; dangerous when the endpoint acts on cookies, which a probe without them cannot see) | | always | |
//! | `cross-site-post-without-sec-fetch-site` (the same without `Sec-Fetch-Site`) | | when the target is plain http off loopback (every browser sends it so) | otherwise (browsers older than 2023) |
//!
//! The rule: high when credentials come along or an attacker can obtain the origin, lower
//! otherwise. One refinement: `*` with credentials never actually sends credentials
//! (browsers refuse the pair), so it is medium.
//!
//! # Noise control
//!
//! One finding per id (the other granted origins of the same class are listed in
//! `also_granted`). Findings that follow from a broader one carry `implied_by`: every
//! look-alike class (and `port-bypass`, `local-origin`) is implied by
//! `reflect-any-origin`; `special-chars` and `port-bypass` are implied by `prefix-match`;
//! `any-subdomain` is implied by `suffix-match`; `permissive-preflight` is implied by
//! `preflight-reflects-anything`; `cross-site-post-without-sec-fetch-site` is implied by
//! `cross-site-post`. They are still reported
//! (and counted), but the text report lists them briefly at the end.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Serialize, Serializer};

use super::explanation::Explanation;
use crate::report::HeaderList;

/// The finding ids, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Id {
    ReflectAnyOrigin,
    NullOrigin,
    PrefixMatch,
    SuffixMatch,
    UnescapedDot,
    SpecialChars,
    InsecureScheme,
    AnySubdomain,
    ThirdPartyHost,
    PortBypass,
    LocalOrigin,
    WildcardWithCredentials,
    MissingVary,
    PreflightReflectsAnything,
    PermissivePreflight,
    CrlfInOrigin,
    PrivateNetworkHeader,
    InvalidAllowOrigin,
    MultipleAllowOrigin,
    ErrorWithoutCors,
    PreflightDisagrees,
    WebsocketAnyOrigin,
    WebsocketNullOrigin,
    CrossSitePost,
    CrossSitePostWithoutSecFetchSite,
}

impl Id {
    /// The kebab-case id of the reports.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Id::ReflectAnyOrigin => "reflect-any-origin",
            Id::NullOrigin => "null-origin",
            Id::PrefixMatch => "prefix-match",
            Id::SuffixMatch => "suffix-match",
            Id::UnescapedDot => "unescaped-dot",
            Id::SpecialChars => "special-chars",
            Id::InsecureScheme => "insecure-scheme",
            Id::AnySubdomain => "any-subdomain",
            Id::ThirdPartyHost => "third-party-host",
            Id::PortBypass => "port-bypass",
            Id::LocalOrigin => "local-origin",
            Id::WildcardWithCredentials => "wildcard-with-credentials",
            Id::MissingVary => "missing-vary",
            Id::PreflightReflectsAnything => "preflight-reflects-anything",
            Id::PermissivePreflight => "permissive-preflight",
            Id::CrlfInOrigin => "crlf-in-origin",
            Id::PrivateNetworkHeader => "private-network-header",
            Id::InvalidAllowOrigin => "invalid-allow-origin",
            Id::MultipleAllowOrigin => "multiple-allow-origin",
            Id::ErrorWithoutCors => "error-without-cors",
            Id::PreflightDisagrees => "preflight-disagrees",
            Id::WebsocketAnyOrigin => "websocket-any-origin",
            Id::WebsocketNullOrigin => "websocket-null-origin",
            Id::CrossSitePost => "cross-site-post",
            Id::CrossSitePostWithoutSecFetchSite => "cross-site-post-without-sec-fetch-site",
        }
    }

    /// Every id, in report order.
    pub(crate) const ALL: [Id; 25] = [
        Id::ReflectAnyOrigin,
        Id::NullOrigin,
        Id::PrefixMatch,
        Id::SuffixMatch,
        Id::UnescapedDot,
        Id::SpecialChars,
        Id::InsecureScheme,
        Id::AnySubdomain,
        Id::ThirdPartyHost,
        Id::PortBypass,
        Id::LocalOrigin,
        Id::WildcardWithCredentials,
        Id::MissingVary,
        Id::PreflightReflectsAnything,
        Id::PermissivePreflight,
        Id::CrlfInOrigin,
        Id::PrivateNetworkHeader,
        Id::InvalidAllowOrigin,
        Id::MultipleAllowOrigin,
        Id::ErrorWithoutCors,
        Id::PreflightDisagrees,
        Id::WebsocketAnyOrigin,
        Id::WebsocketNullOrigin,
        Id::CrossSitePost,
        Id::CrossSitePostWithoutSecFetchSite,
    ];

    /// What is probed for this class (a clean report lists it).
    pub(crate) fn probed_with(self) -> &'static str {
        match self {
            Id::ReflectAnyOrigin => "GET from an arbitrary origin",
            Id::NullOrigin => "GET with `Origin: null`",
            Id::PrefixMatch => "GET from a trusted origin followed by another domain",
            Id::SuffixMatch => "GET from another domain that ends with the trusted one",
            Id::UnescapedDot => "GET from a trusted host with a dot replaced by a letter",
            Id::SpecialChars => "GET from a trusted host followed by a special character and another domain",
            Id::InsecureScheme => "GET from the http twin of a trusted https origin",
            Id::AnySubdomain => "GET from an invented subdomain of a trusted origin",
            Id::ThirdPartyHost => "GET from shared-hosting and code-playground origins",
            Id::PortBypass => "GET from a trusted origin on another port",
            Id::LocalOrigin => "GET from localhost, loopback and private-network origins",
            Id::WildcardWithCredentials => "every GET answer: `*` together with credentials",
            Id::MissingVary => "every GET answer: an origin-dependent ACAO without `Vary: Origin`",
            Id::PreflightReflectsAnything => "OPTIONS from an arbitrary origin for a made-up method and headers",
            Id::PermissivePreflight => "OPTIONS from a trusted origin for a made-up method and headers",
            Id::CrlfInOrigin => "GET with a carriage return in its Origin, over a connection of its own",
            Id::PrivateNetworkHeader => "OPTIONS asking for private network access, and every answer",
            Id::InvalidAllowOrigin => "every answer: an ACAO that is not an origin",
            Id::MultipleAllowOrigin => "every answer: several ACAO values",
            Id::ErrorWithoutCors => "GET of a path that does not exist, from a trusted origin",
            Id::PreflightDisagrees => "OPTIONS for GET alone from a trusted origin, against its actual GET",
            Id::WebsocketAnyOrigin => "a WebSocket handshake (closed at once) from an arbitrary origin",
            Id::WebsocketNullOrigin => "a WebSocket handshake (closed at once) with `Origin: null`",
            Id::CrossSitePost => {
                "--unsafe-probes: a form POST from an arbitrary origin with Sec-Fetch-Site: cross-site"
            }
            Id::CrossSitePostWithoutSecFetchSite => {
                "--unsafe-probes: a form POST from an arbitrary origin without Sec-Fetch-Site"
            }
        }
    }

    /// The `GET` probe classes, each a granted-origin check.
    pub(crate) const ORIGIN_CLASSES: [Id; 11] = [
        Id::ReflectAnyOrigin,
        Id::NullOrigin,
        Id::PrefixMatch,
        Id::SuffixMatch,
        Id::UnescapedDot,
        Id::SpecialChars,
        Id::InsecureScheme,
        Id::AnySubdomain,
        Id::ThirdPartyHost,
        Id::PortBypass,
        Id::LocalOrigin,
    ];
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// How bad a finding is (see the severity rule in the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// The severity of a granted-origin finding, given whether credentials came along.
pub(crate) fn severity_for(id: Id, creds: bool) -> Severity {
    match id {
        Id::InsecureScheme if creds => Severity::High,
        Id::InsecureScheme => Severity::Low,
        Id::AnySubdomain if creds => Severity::High,
        Id::AnySubdomain => Severity::Low,
        Id::PortBypass | Id::LocalOrigin | Id::PermissivePreflight if creds => Severity::Medium,
        Id::PortBypass | Id::LocalOrigin | Id::PermissivePreflight => Severity::Low,
        Id::WildcardWithCredentials | Id::CrlfInOrigin | Id::CrossSitePost => Severity::Medium,
        // Medium for a plain-http target: decided where the target is known.
        Id::CrossSitePostWithoutSecFetchSite => Severity::Low,
        Id::PrivateNetworkHeader
        | Id::InvalidAllowOrigin
        | Id::MultipleAllowOrigin
        | Id::ErrorWithoutCors
        | Id::PreflightDisagrees => Severity::Low,
        _ => Severity::High,
    }
}

/// The request a probe sent, as a finding shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SentRequest {
    /// `GET` or `OPTIONS` (`POST` with `--unsafe-probes`).
    pub(crate) method: String,
    /// Every header line sent (besides `Host`).
    pub(crate) headers: HeaderList,
}

/// One reported problem; serialized as an element of the report's `findings`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Finding {
    pub(crate) id: Id,
    pub(crate) severity: Severity,
    /// The `Origin` the probe sent.
    pub(crate) probe_origin: String,
    /// The trusted origin the probe imitates, if it is a look-alike.
    pub(crate) imitates: Option<String>,
    pub(crate) request: SentRequest,
    pub(crate) response_status: u16,
    /// The CORS-relevant lines of the response (ACAO, ACAC, ACAM, ACAH, `Vary`).
    pub(crate) response_headers: HeaderList,
    /// Whether the response carried exactly `Access-Control-Allow-Credentials: true`.
    pub(crate) credentials: bool,
    /// The other probe origins of the same class that were granted too.
    pub(crate) also_granted: Vec<String>,
    /// The broader finding this one follows from.
    pub(crate) implied_by: Option<Id>,
    /// What is wrong, why it matters, and the fix.
    pub(crate) explanation: Explanation,
    /// The fix alone.
    pub(crate) fix: String,
}

/// The broader finding `id` follows from, among the ids that fired.
fn implied_by(id: Id, fired: &BTreeSet<Id>) -> Option<Id> {
    match id {
        Id::PrefixMatch
        | Id::SuffixMatch
        | Id::UnescapedDot
        | Id::SpecialChars
        | Id::InsecureScheme
        | Id::AnySubdomain
        | Id::ThirdPartyHost
        | Id::PortBypass
        | Id::LocalOrigin
            if fired.contains(&Id::ReflectAnyOrigin) =>
        {
            Some(Id::ReflectAnyOrigin)
        }
        Id::SpecialChars | Id::PortBypass if fired.contains(&Id::PrefixMatch) => Some(Id::PrefixMatch),
        Id::PermissivePreflight if fired.contains(&Id::PreflightReflectsAnything) => {
            Some(Id::PreflightReflectsAnything)
        }
        Id::AnySubdomain if fired.contains(&Id::SuffixMatch) => Some(Id::SuffixMatch),
        Id::CrossSitePostWithoutSecFetchSite if fired.contains(&Id::CrossSitePost) => Some(Id::CrossSitePost),
        _ => None,
    }
}

/// Noise control: marks the findings that follow from a broader one, then orders the
/// findings: primary ones first, each group by falling severity, then by id.
pub(crate) fn rank(findings: &mut [Finding]) {
    let fired: BTreeSet<Id> = findings.iter().map(|f| f.id).collect();
    for f in findings.iter_mut() {
        f.implied_by = implied_by(f.id, &fired);
    }
    findings.sort_by_key(|f| (f.implied_by.is_some(), std::cmp::Reverse(f.severity), f.id));
}

/// The number of (high, medium, low) findings.
pub(crate) fn counts(findings: &[Finding]) -> (usize, usize, usize) {
    let n = |s| findings.iter().filter(|f| f.severity == s).count();
    (n(Severity::High), n(Severity::Medium), n(Severity::Low))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_rule() {
        assert_eq!(severity_for(Id::ReflectAnyOrigin, false), Severity::High);
        assert_eq!(severity_for(Id::ThirdPartyHost, false), Severity::High);
        assert_eq!(severity_for(Id::InsecureScheme, true), Severity::High);
        assert_eq!(severity_for(Id::InsecureScheme, false), Severity::Low);
        assert_eq!(severity_for(Id::AnySubdomain, true), Severity::High);
        assert_eq!(severity_for(Id::AnySubdomain, false), Severity::Low);
        assert_eq!(severity_for(Id::WildcardWithCredentials, true), Severity::Medium);
    }

    #[test]
    fn implication_rule() {
        let fired = |ids: &[Id]| ids.iter().copied().collect::<BTreeSet<Id>>();
        let all = fired(&[Id::ReflectAnyOrigin, Id::PrefixMatch, Id::SuffixMatch]);
        assert_eq!(implied_by(Id::SpecialChars, &all), Some(Id::ReflectAnyOrigin));
        assert_eq!(implied_by(Id::NullOrigin, &all), None);
        assert_eq!(implied_by(Id::MissingVary, &all), None);
        let no_reflect = fired(&[Id::PrefixMatch, Id::SuffixMatch]);
        assert_eq!(implied_by(Id::SpecialChars, &no_reflect), Some(Id::PrefixMatch));
        assert_eq!(implied_by(Id::AnySubdomain, &no_reflect), Some(Id::SuffixMatch));
        assert_eq!(implied_by(Id::PrefixMatch, &no_reflect), None);
    }

    #[test]
    fn ids_and_severities_serialize_as_their_names() {
        assert_eq!(
            serde_json::to_value(Id::PreflightReflectsAnything).unwrap(),
            "preflight-reflects-anything"
        );
        for s in [Severity::Low, Severity::Medium, Severity::High] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
