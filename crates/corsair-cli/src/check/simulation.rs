//! Running the browser's algorithm step by step, with the engine in [`corsair::agent`]
//! deciding every step and a [`Responder`] answering every request.

use std::time::Instant;

use corsair::agent::{self, Failure, FailureKind, PreflightCache, Request, Step, Trace};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::report::{Event, Exchange, Kind, Mode, NotSent, Report, SentRequest};
use super::responders::{Received, Responder};
use super::CheckError;
use super::{cause, protection};
use crate::report::HeaderList;

/// Builds the [`Report`] while the engine fills its [`Trace`]: each step the engine adds
/// becomes an event, in order with the exchanges.
struct Recorder {
    report: Report,
    trace: Trace,
    /// How many steps of `trace` are already events.
    synced: usize,
}

impl Recorder {
    fn new(mode: Mode, req: &Request) -> Self {
        Recorder {
            report: Report {
                mode,
                origin: req.origin().to_string(),
                url: req.url().to_string(),
                method: req.method().to_string(),
                credentials: req.credentials(),
                steps: Vec::new(),
                events: Vec::new(),
                exchanges: Vec::new(),
                exposed: None,
                failure: None,
                policy_fix: None,
                cause: None,
                not_sent: None,
                answer: None,
            },
            trace: Trace::new(),
            synced: 0,
        }
    }

    /// Makes events of the steps added to the trace since the last call.
    fn sync(&mut self) {
        let added = self.synced..self.trace.steps.len();
        self.report.events.extend(added.map(Event::Step));
        self.synced = self.trace.steps.len();
    }

    fn push_step(&mut self, step: Step) {
        self.trace.push(step);
        self.sync();
    }

    fn record(&mut self, kind: Kind, method: &str, url: &str, request_headers: HeaderList, received: &Received) {
        self.report.exchanges.push(Exchange {
            kind,
            request: SentRequest {
                method: method.to_string(),
                url: url.to_string(),
                headers: request_headers,
            },
            status: received.status,
            headers: HeaderList::from_map(&received.headers),
        });
        self.report
            .events
            .push(Event::Exchange(self.report.exchanges.len() - 1));
        for note in &received.notes {
            self.push_step(note.clone());
        }
    }

    /// Ends with the browser's verdict: `failure`, or `None` when the page reads the response.
    fn finish(mut self, failure: Option<(Failure, Option<String>)>) -> Report {
        self.sync();
        if let Some((failure, policy_fix)) = failure {
            self.report.failure = Some(failure);
            self.report.policy_fix = policy_fix;
        }
        self.report.steps = self.trace.steps;
        self.report
    }
}

/// The engine's header list (name, value bytes) as a report shows it.
fn header_list(headers: &[(String, Vec<u8>)]) -> HeaderList {
    HeaderList::from_lines(headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())))
}

/// Converts the engine's header list into a map to send; the engine keeps
/// byte values a browser could send but `http` cannot carry (control bytes).
fn to_header_map(headers: &[(String, Vec<u8>)]) -> Result<HeaderMap, CheckError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| CheckError::new("invalid-header-name", format!("cannot send header `{name}`")))?;
        let v = HeaderValue::from_bytes(value).map_err(|_| {
            CheckError::new(
                "invalid-header-value",
                format!("the value of `{name}` contains control bytes, which this HTTP client cannot send"),
            )
        })?;
        map.append(n, v);
    }
    Ok(map)
}

/// Which actual requests may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sending {
    /// Every request the browser would send (`--send`, or a config file answers).
    All,
    /// GET and HEAD only: any other method can change data on the server.
    SafeOnly,
}

/// What the response to the unsent actual request must carry for the page to read it.
fn needs(req: &Request) -> String {
    let origin = req.origin();
    if req.is_credentialed() {
        format!(
            "for the page to read the answer, the {} response must carry `Access-Control-Allow-Origin: {origin}` \
             and `Access-Control-Allow-Credentials: true` (and list in Access-Control-Expose-Headers any other \
             response header the script reads)",
            req.method()
        )
    } else {
        format!(
            "for the page to read the answer, the {} response must carry `Access-Control-Allow-Origin: {origin}` \
             (or `*`), and list in Access-Control-Expose-Headers any other response header the script reads",
            req.method()
        )
    }
}

/// Runs the browser's algorithm for `req` against `responder`: the preflight when one is
/// needed and not cached (stopping when it fails, so that no request is sent that a
/// browser would not send), the actual request and its redirects, the CORS check and the
/// exposed-header filter. With [`Sending::SafeOnly`], an actual request whose method is
/// not GET or HEAD is not sent: the verdict is the preflight's, and the report says what
/// the actual response would need. A preflight refused without CORS headers is followed by
/// the probes of [`cause::diagnose`].
pub(crate) async fn simulate<R: Responder>(
    mut responder: R,
    req: Request,
    sending: Sending,
) -> Result<Report, CheckError> {
    let mut rec = Recorder::new(responder.mode(), &req);
    rec.trace.extend(req.trace());
    rec.sync();
    if req.is_credentialed() && responder.mode() == Mode::Network {
        rec.push_step(Step::pass(
            "credentials",
            "corsair has no cookies to send, but judges the responses as a browser does for a credentialed request",
        ));
    }
    let started = Instant::now();
    let mut cache = PreflightCache::new(agent::BrowserProfile::Chromium);
    let mut current = req;
    let mut redirects = 0usize;
    let final_response = loop {
        // Fetch §4.4 HTTP fetch: a CORS-preflight fetch (§4.8) unless the CORS-preflight
        // cache (§4.9) has a match for the method and every unsafe header name.
        if current.needs_preflight() {
            let now = started.elapsed();
            if !cache.preflight_needed(&current, now) {
                rec.push_step(cache.explain(&current, now));
            } else if let Some(pf) = current.preflight() {
                let map = pf.header_map();
                let received = responder.exchange(Kind::Preflight, &pf.method, &pf.url, &map).await?;
                let sent = HeaderList::from_lines(pf.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
                rec.record(Kind::Preflight, &pf.method, &pf.url, sent, &received);
                match agent::check_preflight_traced(&current, received.status, &received.headers, &mut rec.trace) {
                    Ok(ok) => {
                        rec.sync();
                        cache.store(&current, &ok, started.elapsed());
                    }
                    Err(mut failure) => {
                        // Fetch §4.8: a failed preflight is a network error; the actual
                        // request is never sent.
                        rec.sync();
                        rec.push_step(Step::pass(
                            "actual-request",
                            "the preflight failed, so the browser does not send the actual request",
                        ));
                        let mut fix = responder.policy_fix(&failure);
                        rec.report.answer = responder.answer();
                        // No CORS header at all: the origin, the method or a header
                        // may be the refused part; ask about each.
                        if failure.kind == FailureKind::MissingAllowOrigin {
                            let found = cause::diagnose(&mut responder, &current, &received).await?;
                            let fixes = found.fixes();
                            failure.fix = fixes.clone().unwrap_or_else(|| {
                                "have the server accept the preflight as a whole (each part is accepted alone)"
                                    .to_owned()
                            });
                            if responder.mode() == Mode::Policy {
                                fix = fixes;
                            }
                            // The failed step's generic fix ("send
                            // Access-Control-Allow-Origin") may be in place already:
                            // it gets the fix of what is really refused.
                            if let Some(step) = rec.trace.steps.iter_mut().rev().find(|s| !s.ok) {
                                step.fix = Some(failure.fix.clone());
                            }
                            rec.report.cause = Some(found);
                        }
                        return Ok(rec.finish(Some((failure, fix))));
                    }
                }
            }
        }
        // check is safe by default: what could change data is not sent.
        if sending == Sending::SafeOnly && !matches!(current.method(), "GET" | "HEAD") {
            let method = current.method().to_owned();
            let reason = if current.needs_preflight() {
                format!(
                    "The preflight allows it, so a browser would send the {method}; corsair did not, because a \
                     {method} can change data on the server (--send sends it)."
                )
            } else {
                format!(
                    "A browser sends this {method} without a preflight, so the server receives it whatever its CORS \
                     policy; corsair did not send it, because a {method} can change data on the server (--send \
                     sends it)."
                )
            };
            rec.push_step(Step::pass("actual-request", format!("not sent: {reason}")));
            rec.report.not_sent = Some(NotSent {
                needs: needs(&current),
                method,
                reason,
            });
            return Ok(rec.finish(None));
        }
        let mut headers = current.actual_headers();
        // Fetch Metadata §4: the browser adds `Sec-Fetch-*` (to a potentially trustworthy
        // URL), which a server's cross-origin protection reads.
        headers.extend(protection::fetch_metadata(current.origin(), current.url(), "cors"));
        let map = to_header_map(&headers)?;
        let received = responder
            .exchange(Kind::Actual, current.method(), current.url(), &map)
            .await?;
        rec.record(
            Kind::Actual,
            current.method(),
            current.url(),
            header_list(&headers),
            &received,
        );
        // Fetch §4.4 HTTP fetch runs the CORS check (§4.10) on every response, a 3xx
        // included, before §4.5 HTTP-redirect fetch follows it.
        match agent::follow_redirect_traced(&current, redirects, received.status, &received.headers, &mut rec.trace) {
            Err(failure) => {
                let fix = responder.policy_fix(&failure);
                rec.report.answer = responder.answer();
                return Ok(rec.finish(Some((failure, fix))));
            }
            Ok(Some(next)) => {
                rec.sync();
                redirects += 1;
                current = next.request;
            }
            Ok(None) => break received,
        }
    };
    // Fetch §4.10 CORS check on the final response.
    if let Err(failure) = agent::cors_check_traced(&current, &final_response.headers, &mut rec.trace) {
        let fix = responder.policy_fix(&failure);
        rec.report.answer = responder.answer();
        return Ok(rec.finish(Some((failure, fix))));
    }
    // Fetch §4.1 main fetch: the script sees a CORS filtered response, whose headers are
    // the safelisted ones and those of `Access-Control-Expose-Headers`.
    let exposed = agent::exposed_headers_traced(&current, &final_response.headers, &mut rec.trace);
    rec.report.exposed = Some(exposed);
    Ok(rec.finish(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_maps() {
        let map = to_header_map(&[("X-A".into(), b"1".to_vec()), ("x-a".into(), b"2".to_vec())]).unwrap();
        assert_eq!(map.get_all("x-a").iter().count(), 2);
        assert!(to_header_map(&[("X-A".into(), b"\x01".to_vec())]).is_err());
        let list = header_list(&[("X".into(), b"caf\xE9".to_vec()), ("x".into(), b"2".to_vec())]);
        let lines: Vec<(&str, &str)> = list.iter().map(|l| (l.name.as_str(), l.value.as_str())).collect();
        assert_eq!(lines, [("X", "caf\u{e9}"), ("x", "2")]);
    }
}
