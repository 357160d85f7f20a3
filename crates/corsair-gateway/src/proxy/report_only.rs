//! A policy with `mode = "report-only"`: it decides every request as usual,
//! but the upstream's own answer goes out untouched (preflights are
//! forwarded, the upstream's `Access-Control-*` headers are left alone,
//! nothing is added). Where the policy's verdict and the upstream's answer
//! disagree, judged as a browser would ([`corsair::shadow::compare`]), the
//! disagreement is logged, counted (`corsair_report_only_disagreements_total`)
//! and aggregated in the gateway's report (`GET /report` on the admin
//! listener). Cross-origin protection is reported the same way: an unsafe
//! request it would refuse that the upstream accepted (any status below 400)
//! is a "would reject" with the protection's reason code.

use std::time::SystemTime;

use http::header::{self, HeaderMap, HeaderName};
use http::{Request, Response};
use hyper::body::Incoming;
use tracing::{debug, info};

use super::{forward, Body, ConnCtx, Resolved};
use crate::config::RoutedPolicy;
use crate::ops::metrics::PolicyCounters;
use crate::state::Active;
use corsair::cross_origin::CrossOriginRejection;
use corsair::shadow::{self, Sample, ShadowVerdict};
use corsair::Decision;

/// The request headers the comparison reads (the browser's model of the
/// request is built from them), copied before the request is forwarded.
const KEPT: [HeaderName; 5] = [
    header::ORIGIN,
    header::ACCESS_CONTROL_REQUEST_METHOD,
    header::ACCESS_CONTROL_REQUEST_HEADERS,
    HeaderName::from_static("sec-fetch-site"),
    header::COOKIE,
];

/// Forwards the request (whatever the policy and its cross-origin
/// protection decided) and compares.
pub(super) async fn serve(
    req: Request<Incoming>,
    resolved: Resolved,
    route: &RoutedPolicy,
    counters: Option<&PolicyCounters>,
    (decision, protection): (Decision, Option<CrossOriginRejection>),
    ctx: &ConnCtx,
    active: &Active,
) -> Response<Body> {
    if decision.kind() == corsair::RequestKind::NotCors && protection.is_none() {
        return forward::forward(req, resolved, ctx, active).await;
    }
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut kept = HeaderMap::with_capacity(KEPT.len());
    for name in &KEPT {
        for v in req.headers().get_all(name) {
            kept.append(name.clone(), v.clone());
        }
    }
    let resp = forward::forward(req, resolved, ctx, active).await;
    let refused = protection.and_then(|r| shadow::protection_disagreement(&r, resp.status()));
    let cmp;
    let d = match &refused {
        Some(d) => d,
        None => {
            cmp = shadow::compare(&route.policy, &decision, &method, &kept, resp.status(), resp.headers());
            let Some(d) = cmp.disagreement() else {
                return resp;
            };
            d
        }
    };
    if let Some(c) = counters {
        c.disagreement(d.verdict.as_str(), d.reason);
    }
    let sample = Sample {
        kind: decision.kind(),
        method: &method,
        path: &path,
        headers: &kept,
    };
    let new_entry = {
        let mut report = ctx
            .shared
            .report
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = report.len();
        report.record(&route.name, d, &sample, SystemTime::now());
        report.len() > before
    };
    let origin = kept
        .get(header::ORIGIN)
        .map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned())
        .unwrap_or_default();
    let message = match d.verdict {
        ShadowVerdict::WouldReject => "CORS report-only: would reject what the upstream allowed",
        ShadowVerdict::WouldAllow => "CORS report-only: would allow what the upstream refused",
    };
    // The first time an origin shows a disagreement it is logged at info,
    // later ones at debug: the report counts them all.
    if new_entry {
        info!(
            target: "corsair::report",
            policy = %route.name,
            origin = %origin,
            verdict = d.verdict.as_str(),
            reason = d.reason,
            detail = %d.detail,
            method = %method,
            path = %path,
            "{message}"
        );
    } else {
        debug!(
            target: "corsair::report",
            policy = %route.name,
            origin = %origin,
            verdict = d.verdict.as_str(),
            reason = d.reason,
            "{message}"
        );
    }
    resp
}
