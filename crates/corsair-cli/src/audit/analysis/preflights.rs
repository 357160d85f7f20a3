//! The classes about preflights and errors: a preflight that approves whatever it is
//! asked for (from an untrusted origin, `preflight-reflects-anything`, or from a trusted
//! one, `permissive-preflight`), a preflight whose answer disagrees with the actual
//! response (`preflight-disagrees`), and error responses without CORS headers
//! (`error-without-cors`).

use http::header;

use super::super::explanation::{self as text, Approval};
use super::super::findings::{severity_for, Finding, Id, Severity};
use super::super::origin::Origin;
use super::super::probes::{Probe, ProbeKind, PROBE_HEADER, PROBE_METHOD, PROBE_REQUEST_HEADERS};
use super::{credentials, evidence, finding_with, grant, tokens, Done, Grant, Observed};

/// What a 2xx answer to the made-up preflight approved, when it approved the made-up
/// method or the made-up header (`*` counts without credentials, never for
/// `Authorization`).
fn approval(probe: &Probe, obs: &Observed) -> Option<Approval> {
    if !(200..300).contains(&obs.status)
        || !matches!(grant(&obs.headers, &probe.origin), Grant::Exact | Grant::Wildcard)
    {
        return None;
    }
    let star_counts = !credentials(&obs.headers);
    let listed_methods = tokens(&obs.headers, &header::ACCESS_CONTROL_ALLOW_METHODS);
    let listed_headers = tokens(&obs.headers, &header::ACCESS_CONTROL_ALLOW_HEADERS);
    let method = listed_methods
        .iter()
        .any(|m| m == PROBE_METHOD || (star_counts && m == "*"));
    let headers: Vec<String> = PROBE_REQUEST_HEADERS
        .split(',')
        .filter(|h| {
            listed_headers
                .iter()
                .any(|l| l.eq_ignore_ascii_case(h) || (star_counts && l == "*" && *h != "authorization"))
        })
        .map(str::to_owned)
        .collect();
    (method || headers.iter().any(|h| h == PROBE_HEADER)).then_some(Approval {
        method,
        headers,
        listed_methods,
        listed_headers,
    })
}

/// A preflight from an untrusted origin approved: high when granted to that origin
/// itself, low with `ACAO: *`.
pub(super) fn reflects_anything(target: &Origin, done: &[Done<'_>]) -> Option<Finding> {
    done.iter()
        .filter(|(p, _)| p.kind == ProbeKind::Preflight)
        .find_map(|&(probe, obs)| {
            let a = approval(probe, obs)?;
            let severity = if grant(&obs.headers, &probe.origin) == Grant::Exact {
                Severity::High
            } else {
                Severity::Low
            };
            let id = Id::PreflightReflectsAnything;
            let explanation = text::approval(id, &evidence(target, probe, obs), &a);
            Some(finding_with(id, severity, probe, obs, explanation))
        })
}

/// A trusted origin's preflight approved whatever it asked for.
pub(super) fn permissive(target: &Origin, done: &[Done<'_>]) -> Option<Finding> {
    done.iter()
        .filter(|(p, _)| p.kind == ProbeKind::TrustedPreflight)
        .find_map(|&(probe, obs)| {
            let a = approval(probe, obs)?;
            let id = Id::PermissivePreflight;
            let explanation = text::approval(id, &evidence(target, probe, obs), &a);
            Some(finding_with(
                id,
                severity_for(id, credentials(&obs.headers)),
                probe,
                obs,
                explanation,
            ))
        })
}

/// Whether the response grants the origin (exactly one ACAO: the origin, or `*`).
fn grants(obs: &Observed, origin: &str) -> bool {
    matches!(grant(&obs.headers, origin), Grant::Exact | Grant::Wildcard)
}

/// `Access-Control-Allow-Origin: x` / "no Access-Control-Allow-Origin", for a sentence.
fn acao(obs: &Observed) -> String {
    let values: Vec<String> = obs
        .headers
        .get_all(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .iter()
        .map(|v| format!("`{}`", String::from_utf8_lossy(v.as_bytes())))
        .collect();
    if values.is_empty() {
        "no Access-Control-Allow-Origin".to_owned()
    } else {
        format!("Access-Control-Allow-Origin {}", values.join(" and "))
    }
}

fn acac(obs: &Observed) -> &'static str {
    if credentials(&obs.headers) {
        "with `Access-Control-Allow-Credentials: true`"
    } else {
        "without `Access-Control-Allow-Credentials: true`"
    }
}

/// The trusted origin's preflight for `GET` alone, compared with its actual `GET`.
pub(super) fn disagreement(done: &[Done<'_>]) -> Option<Finding> {
    let &(probe, pre) = done.iter().find(|(p, _)| p.kind == ProbeKind::PlainPreflight)?;
    let &(_, actual) = done
        .iter()
        .find(|(p, _)| p.kind == ProbeKind::Baseline && p.origin == probe.origin)?;
    let o = &probe.origin;
    let pre_ok = (200..300).contains(&pre.status) && grants(pre, o);
    let act_ok = grants(actual, o);
    let what = if pre_ok && !act_ok {
        format!(
            "The preflight from `{o}` is answered {} with {}, but the actual GET from the same origin gets {} with {}: \
             every request that needs a preflight passes it and then fails on the response.",
            pre.status,
            acao(pre),
            actual.status,
            acao(actual)
        )
    } else if act_ok && !pre_ok {
        format!(
            "The actual GET from `{o}` is granted ({}), but the preflight from the same origin is answered {} with {}: \
             simple requests work, and every request that needs a preflight (PUT, DELETE, PATCH, JSON, custom \
             headers) fails.",
            acao(actual),
            pre.status,
            acao(pre)
        )
    } else if pre_ok && act_ok && credentials(&pre.headers) != credentials(&actual.headers) {
        format!(
            "Both grant `{o}`, but the preflight answers {} and the actual response {}: credentialed requests fail at \
             whichever of the two lacks it.",
            acac(pre),
            acac(actual)
        )
    } else {
        return None;
    };
    let id = Id::PreflightDisagrees;
    let explanation = text::disagreement(&what);
    Some(finding_with(id, severity_for(id, false), probe, pre, explanation))
}

/// The error probe: a path that does not exist answers an error without CORS headers,
/// while the audited URL grants the same trusted origin.
pub(super) fn error_without_cors(target: &Origin, done: &[Done<'_>]) -> Option<Finding> {
    let &(probe, missing) = done.iter().find(|(p, _)| p.kind == ProbeKind::Missing)?;
    let &(_, baseline) = done
        .iter()
        .find(|(p, _)| p.kind == ProbeKind::Baseline && p.origin == probe.origin)?;
    if missing.status < 400 || !grants(baseline, &probe.origin) || grant(&missing.headers, &probe.origin) != Grant::None
    {
        return None;
    }
    let id = Id::ErrorWithoutCors;
    let explanation = text::error_without_cors(&evidence(target, probe, missing), missing.status);
    Some(finding_with(id, severity_for(id, false), probe, missing, explanation))
}
