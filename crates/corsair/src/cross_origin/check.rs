//! The decision: [`CrossOriginProtection::check`] and why a request passed
//! ([`Passed`]). See the parent module for the algorithm.

use std::fmt;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request};

use super::rejection::CrossOriginRejection;
use super::{CrossOriginProtection, SEC_FETCH_SITE};
use crate::fetch::list::first_line;
use crate::policy::Policy;

/// Why cross-origin protection let a request through. Every variant has a
/// stable [`code`](Passed::code) and a human explanation (`Display`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Passed {
    /// `GET`, `HEAD` or `OPTIONS`: never checked.
    SafeMethod,
    /// Protection is off for this policy.
    Disabled,
    /// `Sec-Fetch-Site: same-origin`.
    SameOrigin,
    /// `Sec-Fetch-Site: none`: a navigation the user started.
    UserInitiated,
    /// Neither `Sec-Fetch-Site` nor `Origin`: not a browser (or a
    /// same-origin request from a browser too old for both).
    NotBrowser,
    /// No `Sec-Fetch-Site`, and `Origin` names the request's own host and port.
    OriginMatchesHost,
    /// The policy allows the request's `Origin`.
    TrustedOrigin,
    /// The path is exempt.
    ExemptPath,
}

impl Passed {
    /// A stable identifier: `safe_method`, `disabled`, `same_origin`,
    /// `user_initiated`, `not_browser`, `origin_matches_host`,
    /// `trusted_origin` or `exempt_path`.
    pub fn code(self) -> &'static str {
        match self {
            Self::SafeMethod => "safe_method",
            Self::Disabled => "disabled",
            Self::SameOrigin => "same_origin",
            Self::UserInitiated => "user_initiated",
            Self::NotBrowser => "not_browser",
            Self::OriginMatchesHost => "origin_matches_host",
            Self::TrustedOrigin => "trusted_origin",
            Self::ExemptPath => "exempt_path",
        }
    }

    /// Every variant, in declaration order.
    pub const ALL: [Passed; 8] = [
        Self::SafeMethod,
        Self::Disabled,
        Self::SameOrigin,
        Self::UserInitiated,
        Self::NotBrowser,
        Self::OriginMatchesHost,
        Self::TrustedOrigin,
        Self::ExemptPath,
    ];
}

impl fmt::Display for Passed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SafeMethod => "GET, HEAD and OPTIONS are never checked (they must not change state)",
            Self::Disabled => "cross-origin protection is off for this policy (protect_unsafe_requests = false)",
            Self::SameOrigin => "Sec-Fetch-Site is `same-origin`: the page is the service's own",
            Self::UserInitiated => "Sec-Fetch-Site is `none`: the user started this navigation (URL bar, bookmark)",
            Self::NotBrowser => "neither Sec-Fetch-Site nor Origin: not a browser's cross-origin request",
            Self::OriginMatchesHost => "no Sec-Fetch-Site, and Origin names the request's own host and port",
            Self::TrustedOrigin => "the origin is in allow_origins, so it is trusted",
            Self::ExemptPath => "the path is in protect_unsafe_requests_exempt",
        })
    }
}

/// Go's safe methods: exactly GET, HEAD and OPTIONS (not TRACE, which RFC
/// 9110 calls safe: no browser sends it, but nothing should act on it
/// either).
#[inline]
fn is_safe(method: &Method) -> bool {
    *method == Method::GET || *method == Method::HEAD || *method == Method::OPTIONS
}

impl CrossOriginProtection {
    /// Decides one request (see the [module docs](super) for the algorithm):
    /// `Ok` with why it passed, or `Err` with why it must be refused (403,
    /// never forwarded).
    ///
    /// - `policy`: the CORS policy that covers the request; its
    ///   `allow_origins` are the trusted origins.
    /// - `path`: the request's path without the query, compared exactly
    ///   with the exempt paths (the gateway passes its canonical path).
    /// - `authority`: the request's own `host[:port]`, for the
    ///   Origin-vs-Host fallback: an absolute-form target's or HTTP/2
    ///   `:authority`'s authority, else the single `Host` header (the
    ///   gateway passes its canonical authority; [`Self::check_request`]
    ///   finds it in a request); `None` when the request names none.
    ///
    /// Pure and allocation-free: a safe method costs one comparison, an
    /// unsafe one a lookup or two in the header map.
    pub fn check(
        &self,
        policy: &Policy,
        method: &Method,
        path: &str,
        authority: Option<&[u8]>,
        headers: &HeaderMap,
    ) -> Result<Passed, CrossOriginRejection> {
        if is_safe(method) {
            return Ok(Passed::SafeMethod);
        }
        if !self.enabled {
            return Ok(Passed::Disabled);
        }
        let (site, more_sites) = first_line(headers, &SEC_FETCH_SITE);
        let (origin, more_origins) = first_line(headers, &header::ORIGIN);
        // An empty Origin is no Origin (as Go's `Header.Get`).
        let origin = origin.filter(|o| !o.is_empty());
        let trusted = || !more_origins && origin.is_some_and(|o| trusts(policy, o));
        match site.map(HeaderValue::as_bytes) {
            // Fetch Metadata §2.1: `same-origin`, `same-site`, `cross-site`
            // or `none`, compared as sent (Go compares exact lowercase text).
            Some(b"same-origin") if !more_sites => return Ok(Passed::SameOrigin),
            Some(b"none") if !more_sites => return Ok(Passed::UserInitiated),
            Some(s) if !s.is_empty() || more_sites => {
                return if trusted() {
                    Ok(Passed::TrustedOrigin)
                } else if self.is_exempt(path) {
                    Ok(Passed::ExemptPath)
                } else {
                    Err(CrossOriginRejection::CrossOriginRequest {
                        sec_fetch_site: site.cloned().unwrap_or(HeaderValue::from_static("")),
                        several_sites: more_sites,
                        origin: origin.cloned(),
                        several_origins: more_origins,
                    })
                };
            }
            _ => {}
        }
        let Some(o) = origin else {
            return Ok(Passed::NotBrowser);
        };
        if !more_origins && authority.is_some_and(|a| origin_matches_authority(o.as_bytes(), a)) {
            return Ok(Passed::OriginMatchesHost);
        }
        if trusted() {
            Ok(Passed::TrustedOrigin)
        } else if self.is_exempt(path) {
            Ok(Passed::ExemptPath)
        } else {
            Err(CrossOriginRejection::OriginHostMismatch {
                origin: o.clone(),
                several_origins: more_origins,
            })
        }
    }

    /// [`Self::check`] for a request as a middleware sees it: the path of
    /// its URI (raw: a layer has no canonical form; a path spelled otherwise
    /// than an exempt one is protected), and its authority: the URI's (an
    /// absolute-form target, HTTP/2 `:authority`), else the `Host` header
    /// when there is exactly one.
    ///
    /// ```
    /// use corsair::cross_origin::{CrossOriginProtection, Passed};
    /// use corsair::PolicyConfig;
    ///
    /// let policy = PolicyConfig::new().allow_origins(["https://app.example.com"]).build()?;
    /// let protection = CrossOriginProtection::new();
    /// let req = http::Request::post("/orders")
    ///     .header("host", "shop.example.com")
    ///     .header("origin", "https://shop.example.com")
    ///     .body(())
    ///     .unwrap();
    /// // No Sec-Fetch-Site (plain-http site or old browser): Origin matches Host.
    /// assert_eq!(protection.check_request(&policy, &req), Ok(Passed::OriginMatchesHost));
    /// # Ok::<(), corsair::ConfigErrors>(())
    /// ```
    #[inline]
    pub fn check_request<B>(&self, policy: &Policy, req: &Request<B>) -> Result<Passed, CrossOriginRejection> {
        // Safe methods first: they need no authority (a Host lookup).
        if is_safe(req.method()) {
            return Ok(Passed::SafeMethod);
        }
        let authority = match req.uri().authority() {
            Some(a) => Some(a.as_str().as_bytes()),
            None => match first_line(req.headers(), &header::HOST) {
                (Some(h), false) => Some(h.as_bytes()),
                _ => None,
            },
        };
        self.check(policy, req.method(), req.uri().path(), authority, req.headers())
    }
}

/// Whether the policy trusts this origin for unsafe requests: one it allows
/// (a public policy allows every origin), never `null`.
fn trusts(policy: &Policy, origin: &HeaderValue) -> bool {
    let b = origin.as_bytes();
    if b == b"null" {
        return false;
    }
    policy.origins.matches_exact(b) || origin.to_str().is_ok_and(|s| policy.origins.matches_pattern(s))
}

/// Splits `host[:port]` (a bracketed IPv6 literal kept whole): the host,
/// and the port's digits when there is a `:`.
fn split_authority(a: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let end = if a.first() == Some(&b'[') {
        a.iter().position(|&b| b == b']')? + 1
    } else {
        a.iter().position(|&b| b == b':').unwrap_or(a.len())
    };
    let (host, rest) = a.split_at(end);
    match rest {
        [] => Some((host, None)),
        [b':', port @ ..] => Some((host, Some(port))),
        _ => None,
    }
}

/// A port's digits as a number (at most 65535); `None` when malformed.
fn port_number(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits
        .iter()
        .try_fold(0u16, |n, &d| n.checked_mul(10)?.checked_add(u16::from(d - b'0')))
}

/// The Origin-vs-Host fallback: whether an `http`/`https` `Origin` names the
/// host and port of the request's authority, scheme ignored (see the module
/// docs). Hosts compare ASCII case-insensitively; a port left out stands
/// for the origin scheme's default.
pub fn origin_matches_authority(origin: &[u8], authority: &[u8]) -> bool {
    let (rest, default_port) = if let Some(r) = origin.strip_prefix(b"https://") {
        (r, 443)
    } else if let Some(r) = origin.strip_prefix(b"http://") {
        (r, 80)
    } else {
        return false;
    };
    let (Some((o_host, o_port)), Some((a_host, a_port))) = (split_authority(rest), split_authority(authority)) else {
        return false;
    };
    if o_host.is_empty() || !o_host.eq_ignore_ascii_case(a_host) {
        return false;
    }
    let port = |digits: Option<&[u8]>| match digits {
        None | Some([]) => Some(default_port),
        Some(d) => port_number(d),
    };
    match (port(o_port), port(a_port)) {
        (Some(o), Some(a)) => o == a,
        _ => false,
    }
}
