//! Cross-origin protection: refusing unsafe requests (anything but `GET`,
//! `HEAD` and `OPTIONS`) that a browser sends on behalf of a page of an
//! origin the service does not trust — cross-site request forgery (CSRF).
//!
//! CORS decides who may *read* a response. It does not stop a browser from
//! *sending* a cross-origin `<form method=post>` or a
//! `fetch(url, {method: "POST", mode: "no-cors"})` with a simple content
//! type: those need no preflight, so the service receives them, with the
//! user's cookies, whatever its CORS policy. [`CrossOriginProtection`]
//! refuses them before the service sees them, from two request headers the
//! page cannot forge (`Sec-Fetch-Site` and `Origin` are forbidden request
//! headers: Fetch §2.2.2), and it trusts exactly the origins the CORS
//! policy allows: one list of trusted origins, not two.
//!
//! # The decision ([`CrossOriginProtection::check`]), in order
//!
//! 1. `GET`, `HEAD` and `OPTIONS` pass ([`Passed::SafeMethod`]); every
//!    other method is checked, `TRACE` and lowercase `post` included (the
//!    comparison is exact, as Go's). A service must not change state on a
//!    safe method: nothing here protects it then.
//! 2. Protection turned off for the policy: pass ([`Passed::Disabled`]).
//! 3. `Sec-Fetch-Site` (Fetch Metadata Request Headers §2.1; sent by every
//!    current browser to potentially trustworthy URLs):
//!    - `same-origin` ([`Passed::SameOrigin`]) or `none` (a navigation the
//!      user started: the URL bar, a bookmark; [`Passed::UserInitiated`]):
//!      pass;
//!    - any other value (`same-site`, `cross-site`, an unknown or
//!      differently cased value, several lines): pass only when the request's
//!      `Origin` is one the policy allows ([`Passed::TrustedOrigin`]) or the
//!      path is exempt ([`Passed::ExemptPath`]); otherwise
//!      [`CrossOriginRejection::CrossOriginRequest`] (`cross_origin_request`).
//!      `same-site` is refused like `cross-site`: a sibling subdomain is
//!      another origin;
//!    - absent or empty: go on.
//! 4. No `Origin` either (or an empty one): a client that is not a browser
//!    (curl, a server, a mobile app), or a same-origin request from a
//!    browser too old for both headers: pass ([`Passed::NotBrowser`]).
//! 5. `Origin` names the request's own host and port
//!    ([`Passed::OriginMatchesHost`]; see "the Origin-vs-Host fallback"
//!    below), or is one the policy allows, or the path is exempt: pass;
//!    otherwise [`CrossOriginRejection::OriginHostMismatch`]
//!    (`origin_host_mismatch`).
//!
//! `Origin: null` (sandboxed frames, `file:` pages, a request redirected
//! across origins) is never trusted, not even by a public `*` policy, and
//! never matches a host. Several `Origin` lines (no browser sends two) are
//! never trusted either.
//!
//! A refused request gets `403 Forbidden` with a short `text/plain` body
//! ([`CrossOriginRejection::body`]), `X-Content-Type-Options: nosniff` and no
//! CORS headers ([`CrossOriginRejection::write_headers`]); it must never
//! reach the service.
//!
//! # Where corsair differs from Go's `http.CrossOriginProtection`, and why
//!
//! The algorithm is Go 1.25's `CrossOriginProtection.Check` (with the
//! 1.25.1 fix), with these differences:
//!
//! - **Trusted origins are the policy's `allow_origins`**, patterns
//!   included (`https://*.example.com`, `http://localhost:*`), not a second
//!   list of exact origins (Go's `AddTrustedOrigin`). A CORS policy that
//!   lets `https://app.example.com` read responses expects its
//!   preflighted and simple POSTs to arrive (a CORS request from an allowed
//!   origin comes with `Sec-Fetch-Site: cross-site` or `same-site`); two
//!   lists drift apart, and then protection refuses exactly the requests the
//!   CORS policy permits.
//! - **A public policy (`allow_origins = ["*"]`) trusts every origin for
//!   unsafe requests too** (except `null`). Such a policy says "any page may
//!   call this"; it must then not rely on cookies or other ambient
//!   credentials (CORS forbids credentials with `*` for reading, but a form
//!   POST carries cookies anyway). Protection then only refuses `Origin:
//!   null`, several `Origin` lines, and requests whose `Sec-Fetch-Site` is
//!   cross-site but which carry no `Origin`. If the endpoints behind a `*`
//!   policy act on cookies, list the origins instead of `*`.
//! - **Exempt paths are exact paths**, compared byte for byte with the
//!   request's path (the gateway's canonical path; the raw path in the
//!   layer), not `ServeMux` patterns. Go's CVE-2025-47910 (fixed in 1.25.1)
//!   came from exempting requests that the router would *redirect* to a
//!   bypass pattern (`/bypass` to `/bypass/`, `/foo/../bypass/x` to
//!   `/bypass/x`), so an attacker's path could reach a protected handler
//!   through an exemption meant for another. An exact path has no such
//!   neighbours: a path spelled differently is simply not exempt, and is
//!   protected (a false refusal at worst, never a bypass).
//! - **The Origin-vs-Host fallback ignores the scheme, as Go's does, but
//!   compares host and port, not text**: the host case-insensitively, and a
//!   request authority's explicit default port equals the `Origin`'s
//!   implied one (`https://a.example` matches `a.example` and
//!   `a.example:443`; Go accepts only the former). Why the scheme is
//!   ignored: neither a layer behind a TLS-terminating proxy nor the
//!   gateway behind a load balancer knows which scheme the browser used, so
//!   comparing it would refuse legitimate same-origin requests. What it lets
//!   through: a page on `http://a.example` posting to `https://a.example`
//!   from a browser that sends no `Sec-Fetch-Site`; that page is the same
//!   site's, and only a network attacker who can rewrite it profits (HSTS
//!   removes the `http` page). Only `http` and `https` origins are compared
//!   (any other scheme is a mismatch).
//! - **Every refusal has a stable reason code** (`cross_origin_request`,
//!   `origin_host_mismatch`) and a detail naming the header values, logged
//!   and counted like a CORS rejection; the 403 body names the code (Go: its
//!   error text; tower-http: an empty body).
//! - **Ambiguous headers are refused**: several `Sec-Fetch-Site` lines count
//!   as "another value" (Go reads the first), several `Origin` lines are
//!   never trusted.
//! - **Nothing changes at run time**: a protection is built once, like a
//!   policy, and replaced whole (Go's trusted origins and patterns can be
//!   added while serving).
//!
//! Where the fallback matters: browsers send `Sec-Fetch-Site` only to
//! potentially trustworthy URLs (`https`, and `http` on loopback hosts), so
//! a site served over plain `http` on a public host is decided by the
//! Origin-vs-Host comparison for every browser, not only old ones. A proxy in
//! front that rewrites `Host` (without the gateway's canonical authority) or
//! strips `Origin` weakens the fallback: forward both unchanged.

mod check;
mod paths;
mod rejection;
#[cfg(test)]
mod tests;

use http::header::HeaderName;

pub use check::{origin_matches_authority, Passed};
pub use paths::path_has_prefix;
pub use rejection::CrossOriginRejection;

use crate::nameset::NameSet;
use crate::policy::{ConfigErrorKind, ConfigErrors};

/// `Sec-Fetch-Site` (Fetch Metadata Request Headers §2.1).
pub const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// The key exempt paths are reported under in configuration errors
/// (`protect_unsafe_requests_exempt[i]`, the gateway's key).
pub const EXEMPT_KEY: &str = "protect_unsafe_requests_exempt";

/// A problem of one `protect_unsafe_requests_exempt` entry, found by
/// [`CrossOriginProtection::from_table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExemptProblem {
    /// The entry's index in the list.
    pub index: usize,
    /// The engine's kind, for problems that have one (a path no browser
    /// sends, a duplicate); `None` for a path outside `path_prefix` or not in
    /// the caller's canonical form.
    pub kind: Option<ConfigErrorKind>,
    /// What is wrong, naming the entry.
    pub message: String,
}

/// Cross-origin protection for the requests one policy covers: on or off,
/// and the exact paths it exempts. The trusted origins are the policy's own
/// (`allow_origins`); see the [module docs](self) for the decision and where
/// it differs from Go's.
///
/// The default protects (restrictive by default); non-browser clients,
/// which send neither `Sec-Fetch-Site` nor `Origin`, are never affected.
///
/// ```
/// use corsair::cross_origin::{CrossOriginProtection, Passed};
/// use corsair::PolicyConfig;
/// use http::{HeaderMap, HeaderValue, Method};
///
/// let policy = PolicyConfig::new().allow_origins(["https://app.example.com"]).build()?;
/// let protection = CrossOriginProtection::new().exempt_paths(["/oauth/callback"])?;
///
/// let mut h = HeaderMap::new();
/// h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
/// h.insert("origin", HeaderValue::from_static("https://evil.example"));
/// let authority = Some(&b"api.example.com"[..]);
/// let refused = protection.check(&policy, &Method::POST, "/transfer", authority, &h).unwrap_err();
/// assert_eq!(refused.code(), "cross_origin_request");
///
/// // The exact exempt path passes; a path spelled otherwise does not.
/// assert_eq!(protection.check(&policy, &Method::POST, "/oauth/callback", authority, &h), Ok(Passed::ExemptPath));
/// assert!(protection.check(&policy, &Method::POST, "/oauth/callback/", authority, &h).is_err());
///
/// // The policy's origin is trusted.
/// h.insert("origin", HeaderValue::from_static("https://app.example.com"));
/// assert_eq!(protection.check(&policy, &Method::POST, "/transfer", authority, &h), Ok(Passed::TrustedOrigin));
/// # Ok::<(), corsair::ConfigErrors>(())
/// ```
#[derive(Debug, Clone)]
pub struct CrossOriginProtection {
    enabled: bool,
    exempt: NameSet,
    /// The exempt paths in the order given, for display.
    listed: Vec<String>,
}

impl Default for CrossOriginProtection {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for CrossOriginProtection {
    fn eq(&self, other: &Self) -> bool {
        self.enabled == other.enabled && self.listed == other.listed
    }
}

impl Eq for CrossOriginProtection {}

impl CrossOriginProtection {
    /// Protection on, no exempt path.
    pub fn new() -> Self {
        Self {
            enabled: true,
            exempt: NameSet::default(),
            listed: Vec::new(),
        }
    }

    /// Protection off: every request passes ([`Passed::Disabled`]).
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::new()
        }
    }

    /// Whether protection is on.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The same protection with these exact paths exempt (added to those
    /// already exempt). Each must be a path a browser sends: starting with
    /// `/`, printable ASCII, no query (`?`), fragment (`#`), wildcard (`*`),
    /// dot segment (`/./`, `/../`) or malformed percent-encoding. Every
    /// problem is reported, each under `protect_unsafe_requests_exempt[i]`
    /// with the kind [`ConfigErrorKind::InvalidExemptPath`] (or
    /// [`ConfigErrorKind::Duplicate`]).
    ///
    /// An exemption lets browsers of *every* origin send unsafe requests to
    /// that path: use it for endpoints that must receive cross-site POSTs by
    /// design, such as an OpenID Connect `response_mode=form_post` callback
    /// or a payment provider's return URL, and have them verify what they
    /// receive (the `state` and nonce of OIDC) themselves.
    pub fn exempt_paths<I, S>(mut self, paths: I) -> Result<Self, ConfigErrors>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut errors = ConfigErrors::default();
        for (i, p) in paths.into_iter().enumerate() {
            let p = p.as_ref();
            let key = format!("{EXEMPT_KEY}[{i}]");
            if let Err(why) = paths::check_exempt_path(p) {
                errors.push(ConfigErrorKind::InvalidExemptPath, key, Some(p), why);
            } else if !self.exempt.insert(p) {
                errors.push(ConfigErrorKind::Duplicate, key, Some(p), "listed twice");
            } else {
                self.listed.push(p.to_owned());
            }
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }

    /// The protection of one `[[policy]]` table from its two keys, as the
    /// gateway and `PolicyFile` read them: on unless
    /// `protect_unsafe_requests = false`, with each listed exempt path that
    /// is a path a browser sends ([`Self::exempt_paths`]' rules), passes
    /// `canonical` (the gateway's `[paths]` form, where requests are decided),
    /// is under the table's `path_prefix` (else the policy never decides a
    /// request for it) and is not listed twice. Every other path is left out
    /// and named in the problems, by its index in the list, in order.
    pub fn from_table(
        enabled: Option<bool>,
        exempt: &[String],
        path_prefix: &str,
        case_sensitive: bool,
        canonical: impl Fn(&str) -> Result<(), String>,
    ) -> (Self, Vec<ExemptProblem>) {
        let mut problems = Vec::new();
        let mut valid: Vec<&str> = Vec::new();
        for (index, e) in exempt.iter().enumerate() {
            let mut problem = |kind, message| problems.push(ExemptProblem { index, kind, message });
            if let Err(why) = paths::check_exempt_path(e) {
                problem(Some(ConfigErrorKind::InvalidExemptPath), format!("{e:?}: {why}"));
            } else if let Err(why) = canonical(e) {
                problem(None, why);
            } else if !path_has_prefix(e, path_prefix, case_sensitive) {
                problem(
                    None,
                    format!(
                        "{e:?} is outside this policy's path_prefix {path_prefix:?}: the policy never decides a \
                         request for it"
                    ),
                );
            } else if valid.contains(&e.as_str()) {
                problem(Some(ConfigErrorKind::Duplicate), format!("{e:?}: listed twice"));
            } else {
                valid.push(e);
            }
        }
        let mut protection = if enabled.unwrap_or(true) {
            Self::new()
        } else {
            Self::disabled()
        };
        for p in valid {
            // Checked above, and listed once: inserted as `exempt_paths` would.
            protection.exempt.insert(p);
            protection.listed.push(p.to_owned());
        }
        (protection, problems)
    }

    /// The exempt paths, in the order given.
    pub fn exempt(&self) -> impl Iterator<Item = &str> {
        self.listed.iter().map(String::as_str)
    }

    /// Whether `path` (without the query) is exempt: exactly one of the
    /// listed paths.
    pub fn is_exempt(&self, path: &str) -> bool {
        self.exempt.len() != 0 && self.exempt.contains(path.as_bytes())
    }
}
