//! Report-only (shadow) mode: how a policy's verdict on a request compares
//! with what the service actually answered, judged as a browser would, and
//! a bounded aggregate of the disagreements ([`ShadowReport`]).
//!
//! A service that today reflects any origin, or answers `*`, can run a
//! strict corsair policy in report-only mode: the policy decides every
//! request as usual, but the service's own answer goes out untouched. For
//! each CORS request, [`compare`] runs the browser's checks (the [`agent`]
//! half of the engine: the CORS check on an actual response, the
//! CORS-preflight check on a preflight's answer) twice, once on the
//! service's answer and once on the answer the policy would have given, and
//! says whether they agree:
//!
//! - **would reject**: the policy would refuse what the service allowed
//!   (a client the policy would break), with the policy's reason;
//! - **would allow**: the policy would allow what the service refused, with
//!   the reason the browser refuses the service's answer.
//!
//! [`ShadowReport`] keeps one entry per (policy, verdict, reason, origin)
//! with counts, first and last time seen and one example request, bounded
//! in size whatever the traffic. Both are pure: the caller passes the time
//! in. The tower layer (`corsair_tower::CorsLayer::report_only`) and the
//! gateway (`mode = "report-only"`) use the same code.
//!
//! ```
//! use corsair::shadow::{compare, Comparison, ShadowVerdict};
//! use corsair::PolicyConfig;
//! use http::{HeaderMap, HeaderValue, Method, StatusCode};
//!
//! let policy = PolicyConfig::new().allow_origins(["https://app.example.com"]).build()?;
//! let mut req = HeaderMap::new();
//! req.insert("origin", HeaderValue::from_static("https://old.example.com"));
//! let decision = policy.evaluate(&Method::GET, &req);
//!
//! // The service reflects every origin today.
//! let mut resp = HeaderMap::new();
//! resp.insert("access-control-allow-origin", HeaderValue::from_static("https://old.example.com"));
//! match compare(&policy, &decision, &Method::GET, &req, StatusCode::OK, &resp) {
//!     Comparison::Disagree(d) => {
//!         assert_eq!(d.verdict, ShadowVerdict::WouldReject);
//!         assert_eq!(d.reason, "origin_not_allowed");
//!     }
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), corsair::ConfigErrors>(())
//! ```
//!
//! [`agent`]: crate::agent

mod report;
mod time;

pub use report::{ExampleRequest, OtherOrigins, Sample, ShadowEntry, ShadowReport, DEFAULT_ORIGIN_LIMIT};
pub use time::rfc3339;

use std::fmt;

use http::header::{self, HeaderMap};
use http::{Method, StatusCode};

use crate::agent::{check_preflight, cors_check, CredentialsMode, Failure, FailureKind, Request};
use crate::cross_origin::CrossOriginRejection;
use crate::fetch::list::first_line;
use crate::{Decision, Policy, RequestKind};

/// Which way a policy and a service disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ShadowVerdict {
    /// The policy would refuse what the service allowed.
    WouldReject,
    /// The policy would allow what the service refused.
    WouldAllow,
}

impl ShadowVerdict {
    /// `would_reject` or `would_allow`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WouldReject => "would_reject",
            Self::WouldAllow => "would_allow",
        }
    }
}

impl fmt::Display for ShadowVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy and a service disagree on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// Which way.
    pub verdict: ShadowVerdict,
    /// A stable snake_case code. For [`ShadowVerdict::WouldReject`], the
    /// policy's [`Rejection::code`](crate::Rejection::code) (or, when the
    /// policy allowed the request but a browser would still refuse its
    /// answer, the browser's reason, e.g. `wildcard_origin_with_credentials`
    /// for a public policy and a request with cookies); for
    /// [`ShadowVerdict::WouldAllow`], why the browser refuses the service's
    /// answer (e.g. `missing_allow_origin`, `header_not_allowed`).
    pub reason: &'static str,
    /// The same for a person.
    pub detail: String,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.verdict {
            ShadowVerdict::WouldReject => write!(
                f,
                "would reject ({}: {}), though the service allowed it",
                self.reason, self.detail
            ),
            ShadowVerdict::WouldAllow => write!(
                f,
                "would allow, though the service refused it ({}: {})",
                self.reason, self.detail
            ),
        }
    }
}

/// Why a request was not compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Skip {
    /// No `Origin`: not a CORS request; browsers check nothing.
    NotCors,
    /// `Sec-Fetch-Site: same-origin`: the browser does not run the CORS
    /// check on a same-origin response, whatever its headers.
    SameOrigin,
    /// Nothing a browser sends (several `Origin` headers, an `Origin` that
    /// is not a serialized origin, a forbidden method or header name in a
    /// preflight): no browser will read the answer, so there is nothing to
    /// compare.
    NotFromBrowser,
}

impl Skip {
    /// `not_cors`, `same_origin` or `not_from_browser`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotCors => "not_cors",
            Self::SameOrigin => "same_origin",
            Self::NotFromBrowser => "not_from_browser",
        }
    }
}

/// The outcome of [`compare`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    /// The browser would reach the same conclusion on both answers
    /// (`allowed`: the page may read the response, or send the actual
    /// request after this preflight).
    Agree {
        /// What both conclude.
        allowed: bool,
    },
    /// Not compared.
    Skipped(Skip),
    /// The policy and the service disagree.
    Disagree(Disagreement),
}

impl Comparison {
    /// The disagreement, if there is one.
    pub fn disagreement(&self) -> Option<&Disagreement> {
        match self {
            Self::Disagree(d) => Some(d),
            _ => None,
        }
    }
}

/// The value a header that a preflight names gets in the browser's model of
/// the request: `{` is a CORS-unsafe request-header byte, so every named
/// header counts as unsafe, as it did for the browser that named it.
const UNSAFE_VALUE: &str = "{";

/// A cross-origin URL for the browser's model of the request: the CORS
/// checks read the request's origin and credentials mode, not its URL.
const ELSEWHERE: [&str; 2] = ["https://corsair.invalid/", "https://corsair-other.invalid/"];

/// Cross-origin protection's side of report-only mode: a request that
/// protection would have refused (`refusal`), which the service accepted
/// (any `status` below 400), is a [`ShadowVerdict::WouldReject`] with the
/// refusal's code; a refusal the service answered with an error of its own
/// agrees. Checked before [`compare`]: in enforce mode the refusal comes
/// before the CORS decision.
pub fn protection_disagreement(refusal: &CrossOriginRejection, status: StatusCode) -> Option<Disagreement> {
    (status.as_u16() < 400).then(|| Disagreement {
        verdict: ShadowVerdict::WouldReject,
        reason: refusal.code(),
        detail: refusal.to_string(),
    })
}

/// Compares the policy's verdict on a request (`decision`, from
/// [`Policy::evaluate`] on `method` and `request`) with the service's
/// actual answer (`status` and `response` headers), as a browser judges
/// both: the CORS check for an actual request, the CORS-preflight check
/// (status included) for a preflight.
///
/// The request's credentials mode is what its headers show: a request with
/// `Cookie` was sent with credentials (`include`; a browser sends cookies
/// cross-origin only then), any other as uncredentialed. A preflight never
/// carries credentials, so it is judged as uncredentialed; the actual
/// request that follows it is judged on its own.
///
/// Allocates (it builds the browser's model of the request): call it only
/// in report-only mode.
pub fn compare(
    policy: &Policy,
    decision: &Decision,
    method: &Method,
    request: &HeaderMap,
    status: StatusCode,
    response: &HeaderMap,
) -> Comparison {
    let kind = decision.kind();
    if kind == RequestKind::NotCors {
        return Comparison::Skipped(Skip::NotCors);
    }
    if request
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"same-origin"))
    {
        return Comparison::Skipped(Skip::SameOrigin);
    }
    let Some(req) = browser_request(kind, method, request) else {
        return Comparison::Skipped(Skip::NotFromBrowser);
    };
    let judge = |status: StatusCode, headers: &HeaderMap| -> Result<(), Failure> {
        match kind {
            RequestKind::Preflight => check_preflight(&req, status.as_u16(), headers).map(|_| ()),
            _ => cors_check(&req, headers),
        }
    };
    let service = judge(status, response);
    // The policy's side: its rejection, or else its answer as the browser
    // reads it (a public policy's `*` fails a request with cookies).
    let policy_verdict: Result<(), (&'static str, String)> = match decision.rejection() {
        Some(r) => Err((r.code(), r.to_string())),
        None => {
            let outcome = match policy.preflight_response(decision) {
                Some((s, h)) => judge(s, &h),
                None => {
                    let mut h = response.clone();
                    policy.apply(decision, &mut h);
                    judge(status, &h)
                }
            };
            outcome.map_err(|f| (failure_code(f.kind), f.explanation))
        }
    };
    match (policy_verdict, service) {
        (Ok(()), Ok(())) => Comparison::Agree { allowed: true },
        (Err(_), Err(_)) => Comparison::Agree { allowed: false },
        (Err((reason, detail)), Ok(())) => Comparison::Disagree(Disagreement {
            verdict: ShadowVerdict::WouldReject,
            reason,
            detail,
        }),
        (Ok(()), Err(f)) => Comparison::Disagree(Disagreement {
            verdict: ShadowVerdict::WouldAllow,
            reason: failure_code(f.kind),
            detail: f.explanation,
        }),
    }
}

/// The browser's model of the request, or `None` when no browser sends it.
fn browser_request(kind: RequestKind, method: &Method, request: &HeaderMap) -> Option<Request> {
    let (origin, more_origins) = first_line(request, &header::ORIGIN);
    let origin = origin?.to_str().ok()?;
    if more_origins {
        return None;
    }
    let url = ELSEWHERE.into_iter().find(|u| u.trim_end_matches('/') != origin)?;
    let mut b = Request::builder(origin, url);
    if kind == RequestKind::Preflight {
        let (acrm, more_acrm) = first_line(request, &header::ACCESS_CONTROL_REQUEST_METHOD);
        let m = acrm?.to_str().ok()?;
        if more_acrm {
            return None;
        }
        b = b.method(m);
        for line in request.get_all(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            for name in line.to_str().ok()?.split(',') {
                let name = name.trim_matches([' ', '\t']);
                if !name.is_empty() {
                    b = b.header(name, UNSAFE_VALUE);
                }
            }
        }
    } else {
        b = b.method(method.as_str());
        if request.contains_key(header::COOKIE) {
            b = b.credentials(CredentialsMode::Include);
        }
    }
    let req = b.build().ok()?;
    // A browser sends the serialization itself: anything the parser had to
    // rewrite (case, a default port, a trailing slash) came from elsewhere.
    (req.origin() == origin
        // A browser sends the normalized method, byte for byte (Fetch §4.8
        // step 3).
        && (kind != RequestKind::Preflight || req.method().as_bytes() == request.get(header::ACCESS_CONTROL_REQUEST_METHOD)?.as_bytes()))
    .then_some(req)
}

/// The snake_case code of a browser failure, as in the report.
pub fn failure_code(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::PreflightRedirect => "preflight_redirect",
        FailureKind::PreflightStatus => "preflight_status",
        FailureKind::MissingAllowOrigin => "missing_allow_origin",
        FailureKind::MultipleAllowOrigin => "multiple_allow_origin",
        FailureKind::AllowOriginMismatch => "allow_origin_mismatch",
        FailureKind::WildcardOriginWithCredentials => "wildcard_origin_with_credentials",
        FailureKind::MissingAllowCredentials => "missing_allow_credentials",
        FailureKind::InvalidAllowCredentials => "invalid_allow_credentials",
        FailureKind::InvalidAllowMethods => "invalid_allow_methods",
        FailureKind::InvalidAllowHeaders => "invalid_allow_headers",
        FailureKind::MethodNotAllowed => "method_not_allowed",
        FailureKind::HeaderNotAllowed => "header_not_allowed",
        FailureKind::AuthorizationNotAllowed => "authorization_not_allowed",
        FailureKind::InvalidRedirect => "invalid_redirect",
        FailureKind::RedirectWithCredentials => "redirect_with_credentials",
        FailureKind::RedirectScheme => "redirect_scheme",
        FailureKind::TooManyRedirects => "too_many_redirects",
    }
}

#[cfg(test)]
mod tests;
