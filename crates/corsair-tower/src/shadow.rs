//! Report-only mode's half in the layer: what it keeps of a request until
//! the inner service answers ([`Observation`]), then the comparison
//! ([`corsair::shadow::compare`]), the log event and the report.

use std::sync::{Arc, PoisonError};
use std::time::SystemTime;

use corsair::cross_origin::CrossOriginRejection;
use corsair::shadow::{compare, protection_disagreement, Comparison, Sample};
use corsair::{Decision, Policy, RequestKind};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response};

use crate::layer::Shared;
use crate::reasons::event_at;

/// The request headers the comparison and the report read. `Cookie` only
/// says that the request was credentialed: its value is not kept.
const KEPT: [HeaderName; 4] = [
    header::ORIGIN,
    header::ACCESS_CONTROL_REQUEST_METHOD,
    header::ACCESS_CONTROL_REQUEST_HEADERS,
    HeaderName::from_static("sec-fetch-site"),
];

/// A CORS request in report-only mode, kept until the inner service answers.
pub(crate) struct Observation {
    shared: Arc<Shared>,
    policy: Arc<Policy>,
    decision: Decision,
    /// Why cross-origin protection would refuse the request, if it would.
    refusal: Option<CrossOriginRejection>,
    method: Method,
    path: Box<str>,
    headers: HeaderMap,
}

impl Observation {
    /// What to keep of `req`, or `None` when there is nothing to compare
    /// (not a CORS request, and nothing cross-origin protection would
    /// refuse).
    pub(crate) fn new<B>(
        shared: &Arc<Shared>,
        policy: &Arc<Policy>,
        decision: Decision,
        refusal: Option<CrossOriginRejection>,
        req: &Request<B>,
    ) -> Option<Box<Self>> {
        if decision.kind() == RequestKind::NotCors && refusal.is_none() {
            return None;
        }
        let mut headers = HeaderMap::new();
        for name in KEPT {
            for v in req.headers().get_all(&name) {
                headers.append(name.clone(), v.clone());
            }
        }
        if req.headers().contains_key(header::COOKIE) {
            headers.insert(header::COOKIE, HeaderValue::from_static("(present)"));
        }
        Some(Box::new(Self {
            shared: shared.clone(),
            policy: policy.clone(),
            decision,
            refusal,
            method: req.method().clone(),
            path: req.uri().path().into(),
            headers,
        }))
    }

    /// Compares the policy's verdict with the service's answer, and logs
    /// and records a disagreement. A request cross-origin protection would
    /// have refused that the service accepted (any status below 400) is a
    /// "would reject" with the protection's reason code.
    #[inline(never)]
    pub(crate) fn compare<B>(&self, resp: &Response<B>) {
        let refused = self
            .refusal
            .as_ref()
            .and_then(|r| protection_disagreement(r, resp.status()));
        let d = match refused {
            Some(d) => d,
            None => {
                let c = compare(
                    &self.policy,
                    &self.decision,
                    &self.method,
                    &self.headers,
                    resp.status(),
                    resp.headers(),
                );
                let Comparison::Disagree(d) = c else {
                    return;
                };
                d
            }
        };
        let reasons = &self.shared.reasons;
        let kind = self.decision.kind();
        let origin = self
            .headers
            .get(header::ORIGIN)
            .map(|o| String::from_utf8_lossy(o.as_bytes()));
        event_at!(
            reasons.level,
            policy = reasons.name.as_deref(),
            origin = origin.as_deref(),
            verdict = d.verdict.as_str(),
            reason = d.reason,
            detail = %d.detail,
            kind = kind.as_str(),
            method = %self.method,
            path = &*self.path,
            "CORS report-only: {d}"
        );
        let sample = Sample {
            kind,
            method: &self.method,
            path: &self.path,
            headers: &self.headers,
        };
        self.shared
            .report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(reasons.name.as_deref().unwrap_or(""), &d, &sample, SystemTime::now());
    }
}
