//! The result of an audit, as JSON ([`Report`] is serialized as it is) and as text.

use std::fmt::Write as _;

use serde::Serialize;

use super::findings::{counts, Finding, Id};
use super::origin::Origin;
use super::probes::Probe;

/// The result of one audit run: `--format json` prints it serialized.
///
/// ```text
/// {
///   "url": string,                      the audited URL, as given (trimmed)
///   "target_origin": string,            its origin
///   "trusted_origins": [string],        from --origin (default: the target origin)
///   "findings": [{
///     "id": string,                     e.g. "reflect-any-origin"
///     "severity": "high" | "medium" | "low",
///     "probe_origin": string,           the Origin the probe sent
///     "imitates": string | null,        the trusted origin a look-alike imitates
///     "request": {
///       "method": "GET" | "OPTIONS",
///       "headers": HeaderList           every line sent (besides Host)
///     },
///     "response_status": number,
///     "response_headers": HeaderList,   the ACAO, ACAC, ACAM, ACAH and Vary lines received
///     "credentials": boolean,           exactly `Access-Control-Allow-Credentials: true`
///     "also_granted": [string],         other origins of the same class that were granted
///     "implied_by": string | null,      the broader finding this one follows from
///     "explanation": string,            what is wrong (only what the probe showed), why, and "Fix: ..."
///     "fix": string                     the fix alone
///   }],
///   "summary": { "total", "high", "medium", "low", "probes", "failed_probes": number },
///   "probed": [{ "id": string, "probes": number, "with": string }],
///                                       every class checked: the probes sent for it (0 for a
///                                       class read from every answer) and what they are
///   "notes": [string],                  e.g. a redirect that was not followed
///   "probe_errors": [{ "probe": string, "probe_origin": string, "error": string }]
/// }
/// ```
///
/// `HeaderList` is `[{"name": string, "value": string}]`, in order, repeated lines kept
/// (see [`crate::report`]). Findings come primary first, each group by falling severity.
/// On an error (exit status 2) the document is an [`ErrorReport`] instead.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) url: String,
    pub(crate) target_origin: String,
    pub(crate) trusted_origins: Vec<String>,
    pub(crate) findings: Vec<Finding>,
    pub(crate) summary: Summary,
    pub(crate) probed: Vec<Probed>,
    pub(crate) notes: Vec<String>,
    pub(crate) probe_errors: Vec<ProbeError>,
}

/// One class the audit checked.
#[derive(Debug, Serialize)]
pub(crate) struct Probed {
    pub(crate) id: Id,
    /// The probes sent for it (0 for a class read from every answer).
    pub(crate) probes: usize,
    /// What is probed.
    pub(crate) with: &'static str,
}

/// The counts of a [`Report`].
#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    pub(crate) total: usize,
    pub(crate) high: usize,
    pub(crate) medium: usize,
    pub(crate) low: usize,
    /// Probes sent (including the failed ones).
    pub(crate) probes: usize,
    pub(crate) failed_probes: usize,
}

/// A probe that got no response.
#[derive(Debug, Serialize)]
pub(crate) struct ProbeError {
    /// `baseline` or the id of the finding the probe looks for.
    pub(crate) probe: &'static str,
    pub(crate) probe_origin: String,
    pub(crate) error: String,
}

/// What `--format json` prints when the audit could not run: `{"url", "error"}`.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorReport<'a> {
    pub(crate) url: &'a str,
    pub(crate) error: &'a str,
}

impl Report {
    /// Assembles the report; `errors` are the probes that got no response, with why.
    pub(crate) fn new(
        url: String,
        target: &Origin,
        trusted: &[Origin],
        probes: &[Probe],
        findings: Vec<Finding>,
        errors: Vec<(&Probe, String)>,
        notes: Vec<String>,
    ) -> Report {
        let (high, medium, low) = counts(&findings);
        Report {
            url,
            target_origin: target.serialize(),
            trusted_origins: trusted.iter().map(Origin::serialize).collect(),
            summary: Summary {
                total: findings.len(),
                high,
                medium,
                low,
                probes: probes.len(),
                failed_probes: errors.len(),
            },
            probed: Id::ALL
                .iter()
                .map(|&id| Probed {
                    id,
                    probes: probes.iter().filter(|p| p.id() == Some(id)).count(),
                    with: id.probed_with(),
                })
                // A class no probe served and that reads no answer was not checked.
                .filter(|p| p.probes > 0 || passive(p.id))
                .collect(),
            findings,
            notes,
            probe_errors: errors
                .into_iter()
                .map(|(p, error)| ProbeError {
                    probe: p.class(),
                    probe_origin: p.origin.clone(),
                    error,
                })
                .collect(),
        }
    }

    /// The human-readable report.
    pub(crate) fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "corsair audit {}", self.url);
        let _ = writeln!(s, "  target origin:   {}", self.target_origin);
        let _ = writeln!(s, "  trusted origins: {}", self.trusted_origins.join(", "));
        let _ = writeln!(
            s,
            "  probes:          {} sent, {} failed",
            self.summary.probes, self.summary.failed_probes
        );
        for note in &self.notes {
            s.push('\n');
            s.push_str(&wrap(&format!("note: {note}"), 86, "  "));
        }

        for f in self.findings.iter().filter(|f| f.implied_by.is_none()) {
            s.push('\n');
            self.finding_text(&mut s, f);
        }
        let implied: Vec<&Finding> = self.findings.iter().filter(|f| f.implied_by.is_some()).collect();
        if !implied.is_empty() {
            s.push('\n');
            let _ = writeln!(s, "Also firing, with the same root cause as a finding above:");
            for f in implied {
                let _ = writeln!(
                    s,
                    "  [{}] {} (implied by {}): {}",
                    f.severity.as_str().to_ascii_uppercase(),
                    f.id,
                    f.implied_by.map(Id::as_str).unwrap_or(""),
                    f.probe_origin
                );
            }
        }
        if !self.probe_errors.is_empty() {
            s.push('\n');
        }
        const SHOWN_ERRORS: usize = 5;
        for e in self.probe_errors.iter().take(SHOWN_ERRORS) {
            let _ = writeln!(s, "probe failed (Origin: {}): {}", e.probe_origin, e.error);
        }
        if self.probe_errors.len() > SHOWN_ERRORS {
            let _ = writeln!(
                s,
                "... and {} more failed probes (see --format json)",
                self.probe_errors.len() - SHOWN_ERRORS
            );
        }
        s.push('\n');
        let Summary {
            total,
            high,
            medium,
            low,
            ..
        } = self.summary;
        if total == 0 {
            let posts = self
                .probed
                .iter()
                .any(|p| matches!(p.id, Id::CrossSitePost | Id::CrossSitePostWithoutSecFetchSite));
            let methods = if posts {
                "GET, OPTIONS and, with --unsafe-probes, POST requests"
            } else {
                "GET and OPTIONS requests only"
            };
            let _ = writeln!(s, "summary: no findings. Checked ({methods}):");
            let width = self
                .probed
                .iter()
                .map(|p| p.id.as_str().len())
                .max()
                .unwrap_or(0)
                .max(28);
            for p in &self.probed {
                let count = match p.probes {
                    0 => "every answer".to_owned(),
                    1 => "1 probe".to_owned(),
                    n => format!("{n} probes"),
                };
                let _ = writeln!(s, "  {:<width$} {:<13} {}", p.id.as_str(), count, p.with);
            }
        } else {
            let _ = writeln!(
                s,
                "summary: {total} finding{}: {high} high, {medium} medium, {low} low",
                if total == 1 { "" } else { "s" }
            );
        }
        s
    }

    /// One primary finding, in full.
    fn finding_text(&self, s: &mut String, f: &Finding) {
        let _ = writeln!(s, "[{}] {}", f.severity.as_str().to_ascii_uppercase(), f.id);
        let _ = writeln!(s, "  probe origin: {}", f.probe_origin);
        if let Some(t) = &f.imitates {
            let _ = writeln!(s, "  imitates:     {t}");
        }
        let _ = writeln!(s, "  request:      {} {}", f.request.method, self.url);
        for line in f.request.headers.iter() {
            if line.name == "origin" || line.name.starts_with("access-control-") || line.name.starts_with("sec-fetch-")
            {
                let _ = writeln!(s, "                {}: {}", line.name, line.value);
            }
        }
        let _ = writeln!(s, "  response:     {}", f.response_status);
        if f.response_headers.is_empty() {
            let _ = writeln!(s, "                (no CORS headers)");
        }
        for line in f.response_headers.iter() {
            let _ = writeln!(s, "                {}: {}", line.name, line.value);
        }
        if !f.also_granted.is_empty() {
            let _ = writeln!(s, "  also granted: {}", f.also_granted.join(", "));
        }
        s.push_str(&wrap(&f.explanation.to_string(), 86, "  "));
    }
}

/// The classes read from every answer rather than from probes of their own.
fn passive(id: Id) -> bool {
    matches!(
        id,
        Id::WildcardWithCredentials | Id::MissingVary | Id::InvalidAllowOrigin | Id::MultipleAllowOrigin
    )
}

/// Greedy word wrap of one paragraph.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::analysis::{analyze, Observed};
    use super::super::probes::{derive_probes, ProbeKind};
    use super::*;

    #[test]
    fn wrap_keeps_words() {
        let w = wrap("aaa bbb ccc ddd", 7, "> ");
        assert_eq!(w, "> aaa bbb\n> ccc ddd\n");
    }

    /// A reflecting server with two `Vary` lines, its report in JSON and text.
    fn reflector_report() -> Report {
        let t = Origin::parse("https://example.com").unwrap();
        let probes = derive_probes(std::slice::from_ref(&t));
        let results: Vec<Option<Observed>> = probes
            .iter()
            .map(|p| {
                if p.kind == ProbeKind::Preflight {
                    return None; // failed: see `errors`
                }
                let mut headers = http::HeaderMap::new();
                headers.append("access-control-allow-origin", p.origin.parse().unwrap());
                headers.append("vary", http::HeaderValue::from_static("Accept-Encoding"));
                headers.append("vary", http::HeaderValue::from_static("Cookie"));
                Some(Observed {
                    refusal: None,
                    status: 200,
                    headers,
                    raw: None,
                })
            })
            .collect();
        let findings = analyze(&t, true, &probes, &results);
        let preflight = probes.iter().find(|p| p.kind == ProbeKind::Preflight).unwrap();
        let errors = vec![(preflight, "connection reset".to_owned())];
        Report::new(
            "https://example.com/api".to_owned(),
            &t,
            std::slice::from_ref(&t),
            &probes,
            findings,
            errors,
            Vec::new(),
        )
    }

    #[test]
    fn json_header_lists_are_arrays_of_lines() {
        let report = reflector_report();
        let json = serde_json::to_value(&report).unwrap();
        let f = &json["findings"][0];
        assert_eq!(f["id"], "reflect-any-origin");
        assert_eq!(
            f["response_headers"],
            serde_json::json!([
                { "name": "access-control-allow-origin", "value": "https://corsair-probe.evil.example" },
                { "name": "vary", "value": "Accept-Encoding" },
                { "name": "vary", "value": "Cookie" },
            ])
        );
        assert_eq!(
            f["request"]["headers"][0],
            serde_json::json!({ "name": "origin", "value": "https://corsair-probe.evil.example" })
        );
        assert_eq!(json["summary"]["failed_probes"], 1);
        assert_eq!(json["summary"]["total"], json["findings"].as_array().unwrap().len());
        assert_eq!(json["probe_errors"][0]["probe"], "preflight-reflects-anything");
        assert_eq!(json["probe_errors"][0]["error"], "connection reset");
    }

    #[test]
    fn text_shows_each_line_and_the_failed_probes() {
        let text = reflector_report().text();
        assert!(text.contains("[HIGH] reflect-any-origin\n"), "{text}");
        assert!(
            text.contains("                vary: Accept-Encoding\n                vary: Cookie\n"),
            "{text}"
        );
        assert!(
            text.contains("probe failed (Origin: https://corsair-probe.evil.example): connection reset"),
            "{text}"
        );
        assert!(text.contains("Also firing, with the same root cause"), "{text}");
    }
}
