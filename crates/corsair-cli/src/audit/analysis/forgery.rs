//! `--unsafe-probes`: does the endpoint accept a cross-site form POST (cross-site
//! request forgery)? A POST is accepted when its answer is a success or a redirect
//! (2xx, 3xx): the server processed it. A refusal (403, a corsair gateway's named by its
//! reason), or any other error, is a note.

use super::super::explanation::{cross_site_post, Evidence};
use super::super::findings::{Finding, Id, Severity};
use super::super::origin::Origin;
use super::super::probes::{Probe, ProbeKind};
use super::{credentials, finding_with, Done, Observed};

/// Whether an answer shows that the server processed the request.
fn accepted(status: u16) -> bool {
    (200..400).contains(&status)
}

/// The findings of the POST probes. `trustworthy`: the audited URL is potentially
/// trustworthy (browsers send it `Sec-Fetch-Site`); when it is not, every browser sends a
/// cross-site POST without it, so that probe's finding is medium.
pub(crate) fn cross_site_posts(target: &Origin, trustworthy: bool, done: &[Done<'_>]) -> Vec<Finding> {
    let baseline = done
        .iter()
        .find(|(p, _)| p.kind == ProbeKind::SameOriginPost)
        .map(|(_, o)| o.status);
    let mut out = Vec::new();
    for (kind, id) in [
        (ProbeKind::CrossSitePost, Id::CrossSitePost),
        (ProbeKind::LegacyCrossSitePost, Id::CrossSitePostWithoutSecFetchSite),
    ] {
        let Some(&(probe, obs)) = done.iter().find(|(p, _)| p.kind == kind) else {
            continue;
        };
        if !accepted(obs.status) {
            continue;
        }
        let severity = match id {
            Id::CrossSitePostWithoutSecFetchSite if trustworthy => Severity::Low,
            _ => Severity::Medium,
        };
        let e = Evidence {
            target,
            probe,
            creds: credentials(&obs.headers),
            headers: &obs.headers,
        };
        let explanation = cross_site_post(&e, id, obs.status, baseline, trustworthy);
        out.push(finding_with(id, severity, probe, obs, explanation));
    }
    out
}

/// What the POST probes that found nothing showed.
pub(crate) fn post_notes(probes: &[Probe], results: &[Option<Observed>]) -> Vec<String> {
    let mut notes = Vec::new();
    for (probe, obs) in probes.iter().zip(results) {
        let Some(obs) = obs else { continue };
        let what = match probe.kind {
            ProbeKind::SameOriginPost => "the same-origin form POST",
            ProbeKind::CrossSitePost => "the cross-site form POST (Sec-Fetch-Site: cross-site)",
            ProbeKind::LegacyCrossSitePost => "the cross-site form POST without Sec-Fetch-Site",
            _ => continue,
        };
        let note = match (obs.refusal, obs.status) {
            (Some(code), _) => format!(
                "{what} was refused by corsair's cross-origin protection ({code}): it never reached the service"
            ),
            (None, 403) => format!("{what} was refused (403)"),
            (None, s @ (404 | 405 | 501)) if probe.kind == ProbeKind::SameOriginPost => format!(
                "{what} got {s}: the endpoint does not seem to take POSTs; audit a URL that does (a form's action)"
            ),
            (None, s) if !accepted(s) => format!(
                "{what} got {s}: not accepted; the probe carries no cookies, so an endpoint that needs a session \
                 answers so whatever its cross-origin defence"
            ),
            _ => continue,
        };
        notes.push(note);
    }
    notes
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    use super::super::super::probes::unsafe_probes;
    use super::*;

    fn observed(status: u16) -> Observed {
        Observed {
            status,
            headers: HeaderMap::new(),
            raw: None,
            refusal: None,
        }
    }

    #[test]
    fn severity_follows_whether_browsers_send_sec_fetch_site() {
        let target = Origin::parse("http://shop.example.com").unwrap();
        let probes = unsafe_probes(&target);
        let answers = [observed(200), observed(302), observed(200)];
        let done: Vec<Done<'_>> = probes.iter().zip(&answers).collect();
        let severities = |trustworthy| {
            cross_site_posts(&target, trustworthy, &done)
                .iter()
                .map(|f| (f.id, f.severity))
                .collect::<Vec<_>>()
        };
        // A plain-http URL off loopback: every browser sends the POST without
        // Sec-Fetch-Site.
        assert_eq!(
            severities(false),
            [
                (Id::CrossSitePost, Severity::Medium),
                (Id::CrossSitePostWithoutSecFetchSite, Severity::Medium)
            ]
        );
        assert_eq!(
            severities(true),
            [
                (Id::CrossSitePost, Severity::Medium),
                (Id::CrossSitePostWithoutSecFetchSite, Severity::Low)
            ]
        );
        // Refused or failed POSTs are no finding.
        let answers = [observed(200), observed(403), observed(400)];
        let done: Vec<Done<'_>> = probes.iter().zip(&answers).collect();
        assert!(cross_site_posts(&target, false, &done).is_empty());
        let results: Vec<Option<Observed>> = answers.into_iter().map(Some).collect();
        let notes = post_notes(&probes, &results);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].ends_with("was refused (403)"), "{notes:?}");
        assert!(notes[1].contains("got 400: not accepted"), "{notes:?}");
    }
}
