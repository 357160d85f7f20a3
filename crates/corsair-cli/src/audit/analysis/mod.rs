//! The findings that follow from the responses to all the probes, and the notes on the
//! baseline responses. What one response shows is read in [`response`]; the classes about
//! preflights in [`preflights`], those about the headers themselves in [`headers`], the
//! `--unsafe-probes` POSTs in [`forgery`].

mod forgery;
mod headers;
mod preflights;
mod response;
mod websocket;

use std::collections::BTreeSet;

use http::header;

pub(crate) use self::forgery::post_notes;
use self::response::{acao_signature, acao_text, relevant_headers, vary_covers_origin};
pub(crate) use self::response::{credentials, grant, tokens, Grant, Observed};
use super::explanation::{explain, Evidence, Explanation};
use super::findings::{rank, severity_for, Finding, Id, Severity};
use super::origin::Origin;
use super::probes::{Probe, ProbeKind};

/// The evidence of the response `obs` to `probe`.
fn evidence<'a>(target: &'a Origin, probe: &'a Probe, obs: &'a Observed) -> Evidence<'a> {
    Evidence {
        target,
        probe,
        creds: credentials(&obs.headers),
        headers: &obs.headers,
    }
}

/// A finding from the response `obs` to `probe`, explained by [`explain`].
fn finding(id: Id, severity: Severity, target: &Origin, probe: &Probe, obs: &Observed) -> Finding {
    let explanation = explain(id, &evidence(target, probe, obs));
    finding_with(id, severity, probe, obs, explanation)
}

/// A finding from the response `obs` to `probe`, with its explanation.
fn finding_with(id: Id, severity: Severity, probe: &Probe, obs: &Observed, explanation: Explanation) -> Finding {
    let creds = credentials(&obs.headers);
    Finding {
        id,
        severity,
        probe_origin: probe.origin.clone(),
        imitates: probe.imitates.clone(),
        request: probe.sent_request(),
        response_status: obs.status,
        response_headers: relevant_headers(&obs.headers),
        credentials: creds,
        also_granted: Vec::new(),
        implied_by: None,
        fix: explanation.fix.clone(),
        explanation,
    }
}

/// Whether the probe is a `GET` whose answer shows how the server treats its origin
/// (the baseline and the origin classes).
fn origin_get(p: &Probe) -> bool {
    matches!(p.kind, ProbeKind::Baseline | ProbeKind::Origin(_))
}

/// A probe and the response it got.
type Done<'a> = (&'a Probe, &'a Observed);

/// Turns the probe results into findings, ranked (pure; `results[i]` belongs to
/// `probes[i]`, `None` for probes that failed).
/// `trustworthy`: browsers send the audited URL `Sec-Fetch-Site` (it is https or on a
/// loopback host).
pub(crate) fn analyze(
    target: &Origin,
    trustworthy: bool,
    probes: &[Probe],
    results: &[Option<Observed>],
) -> Vec<Finding> {
    let done: Vec<Done<'_>> = probes
        .iter()
        .zip(results)
        .filter_map(|(p, r)| r.as_ref().map(|r| (p, r)))
        .collect();
    let mut findings = granted_origins(target, &done);
    findings.extend(wildcard_with_credentials(target, &done));
    findings.extend(missing_vary(target, &done));
    findings.extend(preflights::reflects_anything(target, &done));
    findings.extend(preflights::permissive(target, &done));
    findings.extend(preflights::disagreement(&done));
    findings.extend(preflights::error_without_cors(target, &done));
    findings.extend(headers::crlf(&done));
    findings.extend(headers::private_network(target, &done));
    findings.extend(headers::invalid_or_multiple(target, &done));
    findings.extend(websocket::opened(target, &done));
    findings.extend(forgery::cross_site_posts(target, trustworthy, &done));
    rank(&mut findings);
    findings
}

/// The origin classes: a specific untrusted origin granted. One finding per class, from
/// the worst hit (credentials first); the class's other hits go to `also_granted`.
fn granted_origins(target: &Origin, done: &[Done<'_>]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for class in Id::ORIGIN_CLASSES {
        let hits: Vec<&Done<'_>> = done
            .iter()
            .filter(|(p, o)| p.kind == ProbeKind::Origin(class) && grant(&o.headers, &p.origin) == Grant::Exact)
            .collect();
        let Some(&&(probe, obs)) = hits
            .iter()
            .find(|(_, o)| credentials(&o.headers))
            .or_else(|| hits.first())
        else {
            continue;
        };
        let mut f = finding(
            class,
            severity_for(class, credentials(&obs.headers)),
            target,
            probe,
            obs,
        );
        f.also_granted = hits
            .iter()
            .filter(|(p, _)| p.origin != probe.origin)
            .map(|(p, _)| p.origin.clone())
            .collect();
        findings.push(f);
    }
    findings
}

/// `*` together with credentials, on any `GET` response.
fn wildcard_with_credentials(target: &Origin, done: &[Done<'_>]) -> Option<Finding> {
    let &(probe, obs) = done
        .iter()
        .find(|(p, o)| origin_get(p) && grant(&o.headers, &p.origin) == Grant::Wildcard && credentials(&o.headers))?;
    let id = Id::WildcardWithCredentials;
    Some(finding(id, severity_for(id, true), target, probe, obs))
}

/// An ACAO that depends on the Origin (the `GET` responses disagree), without
/// `Vary: Origin`. Medium when an untrusted origin is echoed, low otherwise.
fn missing_vary(target: &Origin, done: &[Done<'_>]) -> Option<Finding> {
    let gets: Vec<&Done<'_>> = done.iter().filter(|(p, _)| origin_get(p)).collect();
    let signatures: BTreeSet<Vec<Vec<u8>>> = gets.iter().map(|(_, o)| acao_signature(&o.headers)).collect();
    if signatures.len() <= 1 {
        return None;
    }
    let echoes_without_vary: Vec<&&Done<'_>> = gets
        .iter()
        .filter(|(p, o)| grant(&o.headers, &p.origin) == Grant::Exact && !vary_covers_origin(&o.headers))
        .collect();
    let untrusted = echoes_without_vary.iter().find(|(p, _)| p.kind != ProbeKind::Baseline);
    let &&&(probe, obs) = untrusted.or_else(|| echoes_without_vary.first())?;
    let severity = if untrusted.is_some() {
        Severity::Medium
    } else {
        Severity::Low
    };
    Some(finding(Id::MissingVary, severity, target, probe, obs))
}

/// Notes on the baseline responses (the trusted origins'): a redirect, which the audit
/// does not follow, and a trusted origin the server does not grant.
pub(crate) fn baseline_notes(probes: &[Probe], results: &[Option<Observed>]) -> Vec<String> {
    let mut notes = websocket::notes(probes, results);
    for (probe, obs) in probes.iter().zip(results) {
        let (ProbeKind::Baseline, Some(obs)) = (probe.kind, obs) else {
            continue;
        };
        if (300..400).contains(&obs.status) {
            let location = obs
                .headers
                .get(header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_else(|| "(no Location)".to_owned());
            notes.push(format!(
                "the target answered {} with Location: {location}; redirects are not \
                 followed, so audit the final URL too",
                obs.status
            ));
        }
        match grant(&obs.headers, &probe.origin) {
            Grant::Exact | Grant::Wildcard => {}
            Grant::None => notes.push(format!(
                "the trusted origin {} got no Access-Control-Allow-Origin (status {}); \
                 look-alike probes are only meaningful for an origin the server trusts, \
                 pass it with --origin",
                probe.origin, obs.status
            )),
            Grant::Other => notes.push(format!(
                "the trusted origin {} got an Access-Control-Allow-Origin a browser rejects: {}",
                probe.origin,
                acao_text(&obs.headers)
            )),
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use http::header::{HeaderMap, HeaderName, HeaderValue};

    use super::super::probes::derive_probes;
    use super::*;

    fn obs(status: u16, pairs: &[(&str, &str)]) -> Option<Observed> {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        Some(Observed {
            status,
            headers,
            raw: None,
            refusal: None,
        })
    }

    /// Simulate a server over the derived probes.
    fn simulate(trusted: &str, server: impl Fn(&Probe) -> Option<Observed>) -> Vec<Finding> {
        let t = Origin::parse(trusted).unwrap();
        let probes = derive_probes(std::slice::from_ref(&t));
        let results: Vec<Option<Observed>> = probes.iter().map(server).collect();
        analyze(&t, true, &probes, &results)
    }

    #[test]
    fn correct_allow_list_has_no_findings() {
        let f = simulate("https://example.com", |p| {
            if p.origin == "https://example.com" {
                obs(
                    200,
                    &[
                        ("access-control-allow-origin", "https://example.com"),
                        ("access-control-allow-credentials", "true"),
                        ("vary", "Origin"),
                    ],
                )
            } else {
                obs(200, &[("vary", "Origin")])
            }
        });
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn reflection_marks_lookalikes_as_implied() {
        let f = simulate("https://www.example.com", |p| {
            obs(
                200,
                &[
                    ("access-control-allow-origin", &p.origin),
                    ("access-control-allow-credentials", "true"),
                    ("vary", "Origin"),
                ],
            )
        });
        let reflect = f.iter().find(|f| f.id == Id::ReflectAnyOrigin).unwrap();
        assert_eq!(reflect.severity, Severity::High);
        assert!(reflect.credentials);
        assert_eq!(reflect.implied_by, None);
        let prefix = f.iter().find(|f| f.id == Id::PrefixMatch).unwrap();
        assert_eq!(prefix.implied_by, Some(Id::ReflectAnyOrigin));
        let null = f.iter().find(|f| f.id == Id::NullOrigin).unwrap();
        assert_eq!(null.implied_by, None);
        assert!(!f.iter().any(|f| f.id == Id::MissingVary));
        // implied findings sort last
        let first_implied = f.iter().position(|f| f.implied_by.is_some()).unwrap();
        assert!(f[first_implied..].iter().all(|f| f.implied_by.is_some()));
    }

    #[test]
    fn wildcard_alone_is_not_a_finding_but_with_credentials_is() {
        let f = simulate("https://example.com", |_| {
            obs(200, &[("access-control-allow-origin", "*")])
        });
        assert!(f.is_empty(), "{f:?}");
        let f = simulate("https://example.com", |_| {
            obs(
                200,
                &[
                    ("access-control-allow-origin", "*"),
                    ("access-control-allow-credentials", "true"),
                ],
            )
        });
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, Id::WildcardWithCredentials);
        assert_eq!(f[0].severity, Severity::Medium);
    }

    #[test]
    fn two_acao_lines_are_not_a_grant() {
        let f = simulate("https://example.com", |p| {
            obs(
                200,
                &[
                    ("access-control-allow-origin", &p.origin),
                    ("access-control-allow-origin", &p.origin),
                    ("vary", "Origin"),
                ],
            )
        });
        // No origin is granted (browsers refuse two lines), so no origin class fires; the
        // two lines themselves are the finding.
        let ids: Vec<(Id, Severity)> = f.iter().map(|f| (f.id, f.severity)).collect();
        assert_eq!(ids, [(Id::MultipleAllowOrigin, Severity::Low)], "{f:?}");
    }

    #[test]
    fn static_acao_without_vary_is_fine() {
        let f = simulate("https://example.com", |_| {
            obs(200, &[("access-control-allow-origin", "https://example.com")])
        });
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn missing_vary_severity() {
        let f = simulate("https://example.com", |p| {
            if p.origin == "https://example.com" {
                obs(200, &[("access-control-allow-origin", "https://example.com")])
            } else {
                obs(200, &[])
            }
        });
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].id, f[0].severity), (Id::MissingVary, Severity::Low));
    }

    #[test]
    fn preflight_with_star_without_credentials_is_low() {
        let f = simulate("https://example.com", |p| {
            if p.kind == ProbeKind::Preflight {
                obs(
                    204,
                    &[
                        ("access-control-allow-origin", "*"),
                        ("access-control-allow-methods", "*"),
                        ("access-control-allow-headers", "*"),
                    ],
                )
            } else {
                obs(200, &[])
            }
        });
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].id, f[0].severity), (Id::PreflightReflectsAnything, Severity::Low));
    }

    #[test]
    fn findings_show_only_the_cors_lines_each_separately() {
        let f = simulate("https://example.com", |p| {
            obs(
                200,
                &[
                    ("access-control-allow-origin", &p.origin),
                    ("x-other", "1"),
                    ("vary", "Accept-Encoding"),
                    ("vary", "Cookie"),
                ],
            )
        });
        let reflect = f.iter().find(|f| f.id == Id::ReflectAnyOrigin).unwrap();
        let lines: Vec<(&str, &str)> = reflect
            .response_headers
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                ("access-control-allow-origin", "https://corsair-probe.evil.example"),
                ("vary", "Accept-Encoding"),
                ("vary", "Cookie"),
            ]
        );
    }

    #[test]
    fn baseline_notes_for_redirects_and_refused_trust() {
        let t = Origin::parse("https://example.com").unwrap();
        let probes = derive_probes(std::slice::from_ref(&t));
        let mut results: Vec<Option<Observed>> = vec![None; probes.len()];
        results[0] = obs(
            302,
            &[
                ("location", "https://example.com/next"),
                ("access-control-allow-origin", "https://a.example"),
                ("access-control-allow-origin", "https://b.example"),
            ],
        );
        let notes = baseline_notes(&probes, &results);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("302") && notes[0].contains("https://example.com/next"));
        assert!(notes[1].ends_with("a browser rejects: https://a.example, https://b.example"));
        results[0] = obs(200, &[]);
        let notes = baseline_notes(&probes, &results);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("got no Access-Control-Allow-Origin (status 200)"));
    }
}
