//! Counters behind `/metrics`, rendered in the Prometheus text format.
//!
//! Hot-path updates are relaxed atomic increments; the only lock is taken
//! when a policy is (re)registered on load or reload, when an outcome code
//! unknown to this build shows up, and when `/metrics` is rendered.
//! Counters are keyed by policy name and survive reloads.
//!
//! The counters every request touches (requests, preflights, latency) are
//! kept per worker, each worker's on cache lines of its own, and summed when
//! rendered: one set written by every worker would bounce between the cores
//! on every request.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use corsair::RequestKind;

use crate::proxy::target::Refusal;

use crate::runtime::workers;

pub mod websocket;

/// Copies of each per-worker counter set; worker `i` writes copy `i %
/// SHARDS` (workers beyond that share).
const SHARDS: usize = 8;

/// One worker's copy of a counter set, on cache lines of its own.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded<T>(T);

/// A counter set with a copy per worker.
#[derive(Debug, Default)]
struct PerWorker<T> {
    shards: [Padded<T>; SHARDS],
}

impl<T> PerWorker<T> {
    /// The calling worker's copy.
    fn mine(&self) -> &T {
        &self.shards[workers::current_id() % SHARDS].0
    }

    /// The sum of `f` over every copy.
    fn sum(&self, f: impl Fn(&T) -> u64) -> u64 {
        self.shards.iter().map(|s| f(&s.0)).sum()
    }
}

/// Every request kind, in counter order.
const KINDS: [RequestKind; 3] = [RequestKind::NotCors, RequestKind::Preflight, RequestKind::Actual];

/// The outcomes of [`corsair::Decision::outcome`] known to this build, then
/// the codes of [`corsair::CrossOriginRejection`] (a request refused by
/// cross-origin protection is counted with that code instead).
const OUTCOMES: [&str; 11] = [
    "allowed",
    "not_cors",
    "origin_not_allowed",
    "null_origin",
    "multiple_origins",
    "invalid_method",
    "method_not_allowed",
    "invalid_headers",
    "header_not_allowed",
    "cross_origin_request",
    "origin_host_mismatch",
];

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn kind_index(k: RequestKind) -> usize {
    match k {
        RequestKind::NotCors => 0,
        RequestKind::Preflight => 1,
        RequestKind::Actual => 2,
    }
}

/// The counters of one policy.
#[derive(Debug, Default)]
pub struct PolicyCounters {
    name: String,
    /// Whether the policy runs in report-only mode (its `mode` label).
    report_only: std::sync::atomic::AtomicBool,
    hot: PerWorker<PolicyHot>,
    other: Mutex<Vec<(usize, &'static str, u64)>>,
    /// Report-only disagreements: (verdict, reason, count).
    disagreements: Mutex<Vec<(&'static str, &'static str, u64)>>,
}

/// A policy's counters of every request, per worker.
#[derive(Debug, Default)]
struct PolicyHot {
    requests: [[AtomicU64; OUTCOMES.len()]; KINDS.len()],
    preflights_accepted: AtomicU64,
    preflights_rejected: AtomicU64,
}

impl PolicyCounters {
    /// Counts a request decided by this policy.
    pub fn request(&self, kind: RequestKind, outcome: &'static str) {
        let k = kind_index(kind);
        match OUTCOMES.iter().position(|o| *o == outcome) {
            Some(i) => {
                self.hot.mine().requests[k][i].fetch_add(1, Relaxed);
            }
            None => {
                let mut other = self.other.lock().unwrap_or_else(PoisonError::into_inner);
                match other.iter_mut().find(|(kk, o, _)| *kk == k && *o == outcome) {
                    Some(e) => e.2 += 1,
                    None => other.push((k, outcome, 1)),
                }
            }
        }
    }

    /// Counts a disagreement of a report-only policy with the upstream.
    pub fn disagreement(&self, verdict: &'static str, reason: &'static str) {
        let mut all = self.disagreements.lock().unwrap_or_else(PoisonError::into_inner);
        match all.iter_mut().find(|(v, r, _)| *v == verdict && *r == reason) {
            Some(e) => e.2 += 1,
            None => all.push((verdict, reason, 1)),
        }
    }

    fn mode(&self) -> &'static str {
        if self.report_only.load(Relaxed) {
            "report-only"
        } else {
            "enforce"
        }
    }

    /// Counts a preflight answered by the gateway.
    pub fn preflight(&self, accepted: bool) {
        let hot = self.hot.mine();
        if accepted {
            hot.preflights_accepted.fetch_add(1, Relaxed);
        } else {
            hot.preflights_rejected.fetch_add(1, Relaxed);
        }
    }
}

/// A cumulative-on-render latency histogram, per worker.
#[derive(Debug, Default)]
struct Histogram {
    /// Per bucket (not cumulative), the last one being `+Inf`.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl PerWorker<Histogram> {
    fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        let i = BUCKETS.iter().position(|b| s <= *b).unwrap_or(BUCKETS.len());
        let h = self.mine();
        h.counts[i].fetch_add(1, Relaxed);
        h.sum_micros
            .fetch_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }
}

/// Every counter of the gateway.
#[derive(Debug, Default)]
pub struct Metrics {
    policies: Mutex<Vec<Arc<PolicyCounters>>>,
    uncovered: AtomicU64,
    upstream_unreachable: AtomicU64,
    upstream_timeout: AtomicU64,
    latency: PerWorker<Histogram>,
    open_connections: AtomicU64,
    connections: AtomicU64,
    connection_limit_waits: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_refused: AtomicU64,
    refused: [AtomicU64; Refusal::ALL.len()],
    read_timeouts: Arc<AtomicU64>,
    /// The WebSocket counters.
    pub websocket: websocket::WebSocketCounters,
}

/// Why the upstream failed.
#[derive(Debug, Clone, Copy)]
pub enum UpstreamError {
    /// Connection refused, reset, protocol error (502).
    Unreachable,
    /// No response head within `limits.upstream_timeout` (504).
    Timeout,
}

impl Metrics {
    /// The counters of the policy `name`, created on first use; `mode` is
    /// its current mode (a reload may change it).
    pub fn policy(&self, name: &str, mode: corsair::PolicyMode) -> Arc<PolicyCounters> {
        let report_only = mode == corsair::PolicyMode::ReportOnly;
        let mut all = self.policies.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = all.iter().find(|p| p.name == name) {
            p.report_only.store(report_only, Relaxed);
            return p.clone();
        }
        let p = Arc::new(PolicyCounters {
            name: name.to_owned(),
            report_only: report_only.into(),
            ..PolicyCounters::default()
        });
        all.push(p.clone());
        p
    }

    /// Counts a request that no policy covers.
    pub fn uncovered(&self) {
        self.uncovered.fetch_add(1, Relaxed);
    }

    /// Counts an upstream failure.
    pub fn upstream_error(&self, e: UpstreamError) {
        match e {
            UpstreamError::Unreachable => self.upstream_unreachable.fetch_add(1, Relaxed),
            UpstreamError::Timeout => self.upstream_timeout.fetch_add(1, Relaxed),
        };
    }

    /// Records the time a request took to get its response head.
    pub fn observe(&self, d: Duration) {
        self.latency.observe(d);
    }

    /// Counts a config reload.
    pub fn reload(&self, ok: bool) {
        if ok {
            self.reloads_ok.fetch_add(1, Relaxed);
        } else {
            self.reloads_refused.fetch_add(1, Relaxed);
        }
    }

    /// The counter of responses cut off by `limits.upstream_read_timeout`,
    /// shared with the upstream pools.
    pub fn read_timeouts(&self) -> Arc<AtomicU64> {
        self.read_timeouts.clone()
    }

    /// A request refused with 400 because it has no single meaning.
    pub fn refused(&self, r: Refusal) {
        if let Some(i) = Refusal::ALL.iter().position(|x| *x == r) {
            self.refused[i].fetch_add(1, Relaxed);
        }
    }

    /// Counts a connection held back by `limits.max_connections`.
    pub fn connection_limit_wait(&self) {
        self.connection_limit_waits.fetch_add(1, Relaxed);
    }

    /// Counts a new client connection; the guard counts its end.
    pub fn connection(&self) -> ConnectionGuard<'_> {
        self.connections.fetch_add(1, Relaxed);
        self.open_connections.fetch_add(1, Relaxed);
        ConnectionGuard(self)
    }

    /// Client connections open now.
    pub fn open_connections(&self) -> u64 {
        self.open_connections.load(Relaxed)
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self, draining: bool) -> String {
        let mut out = String::with_capacity(4096);
        let policies: Vec<Arc<PolicyCounters>> = self.policies.lock().unwrap_or_else(PoisonError::into_inner).clone();

        header(
            &mut out,
            "corsair_requests_total",
            "counter",
            "Requests decided by a policy, by kind, outcome (`allowed`, `not_cors`, the CORS rejection code, or the cross-origin protection refusal code) and the policy's mode (`enforce`, or `report-only`: decided, not enforced).",
        );
        for p in &policies {
            let name = escape(&p.name);
            let mode = p.mode();
            for (k, kind) in KINDS.iter().enumerate() {
                for (i, outcome) in OUTCOMES.iter().enumerate() {
                    let n = p.hot.sum(|h| h.requests[k][i].load(Relaxed));
                    // Successes always appear, rejections once seen.
                    let always = matches!(
                        (kind, *outcome),
                        (RequestKind::NotCors, "not_cors") | (RequestKind::Preflight | RequestKind::Actual, "allowed")
                    );
                    if n > 0 || always {
                        let _ = writeln!(
                            out,
                            "corsair_requests_total{{policy=\"{name}\",kind=\"{}\",outcome=\"{outcome}\",mode=\"{mode}\"}} {n}",
                            kind.as_str()
                        );
                    }
                }
            }
            for (k, outcome, n) in p.other.lock().unwrap_or_else(PoisonError::into_inner).iter() {
                let _ = writeln!(
                    out,
                    "corsair_requests_total{{policy=\"{name}\",kind=\"{}\",outcome=\"{}\",mode=\"{mode}\"}} {n}",
                    KINDS[*k].as_str(),
                    escape(outcome)
                );
            }
        }
        header(
            &mut out,
            "corsair_report_only_disagreements_total",
            "counter",
            "Requests where a report-only policy's verdict differs from the upstream's answer, judged as a browser would: `would_reject` (the policy would refuse what the upstream allowed) or `would_allow`, with the reason.",
        );
        for p in &policies {
            let name = escape(&p.name);
            for (verdict, reason, n) in p.disagreements.lock().unwrap_or_else(PoisonError::into_inner).iter() {
                let _ = writeln!(
                    out,
                    "corsair_report_only_disagreements_total{{policy=\"{name}\",verdict=\"{verdict}\",reason=\"{}\"}} {n}",
                    escape(reason)
                );
            }
        }
        header(
            &mut out,
            "corsair_uncovered_requests_total",
            "counter",
            "Requests no policy covers (proxied untouched).",
        );
        let _ = writeln!(out, "corsair_uncovered_requests_total {}", self.uncovered.load(Relaxed));

        header(
            &mut out,
            "corsair_refused_requests_total",
            "counter",
            "Requests answered 400 because they have no single meaning (Host rules, path normalization), by reason.",
        );
        for (i, r) in Refusal::ALL.iter().enumerate() {
            let _ = writeln!(
                out,
                "corsair_refused_requests_total{{reason=\"{}\"}} {}",
                r.code(),
                self.refused[i].load(Relaxed)
            );
        }

        header(
            &mut out,
            "corsair_preflights_total",
            "counter",
            "Preflights answered by the gateway (never forwarded), by result.",
        );
        for p in &policies {
            let name = escape(&p.name);
            let _ = writeln!(
                out,
                "corsair_preflights_total{{policy=\"{name}\",result=\"accepted\"}} {}",
                p.hot.sum(|h| h.preflights_accepted.load(Relaxed))
            );
            let _ = writeln!(
                out,
                "corsair_preflights_total{{policy=\"{name}\",result=\"rejected\"}} {}",
                p.hot.sum(|h| h.preflights_rejected.load(Relaxed))
            );
        }

        header(
            &mut out,
            "corsair_upstream_errors_total",
            "counter",
            "Upstream failures: `unreachable` (502), `timeout` (504) and `read_timeout` (a response body cut off).",
        );
        let _ = writeln!(
            out,
            "corsair_upstream_errors_total{{kind=\"unreachable\"}} {}",
            self.upstream_unreachable.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "corsair_upstream_errors_total{{kind=\"timeout\"}} {}",
            self.upstream_timeout.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "corsair_upstream_errors_total{{kind=\"read_timeout\"}} {}",
            self.read_timeouts.load(Relaxed)
        );

        header(
            &mut out,
            "corsair_request_duration_seconds",
            "histogram",
            "Time from the request head to the response head (preflights included).",
        );
        let mut cumulative = 0u64;
        for i in 0..=BUCKETS.len() {
            cumulative += self.latency.sum(|h| h.counts[i].load(Relaxed));
            match BUCKETS.get(i) {
                Some(b) => {
                    let _ = writeln!(
                        out,
                        "corsair_request_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}"
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "corsair_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
                    );
                }
            }
        }
        let sum = self.latency.sum(|h| h.sum_micros.load(Relaxed)) as f64 / 1e6;
        let _ = writeln!(out, "corsair_request_duration_seconds_sum {sum}");
        let _ = writeln!(out, "corsair_request_duration_seconds_count {cumulative}");

        header(
            &mut out,
            "corsair_open_connections",
            "gauge",
            "Client connections open now.",
        );
        let _ = writeln!(out, "corsair_open_connections {}", self.open_connections.load(Relaxed));
        header(
            &mut out,
            "corsair_connections_total",
            "counter",
            "Client connections accepted.",
        );
        let _ = writeln!(out, "corsair_connections_total {}", self.connections.load(Relaxed));
        header(
            &mut out,
            "corsair_connection_limit_waits_total",
            "counter",
            "Times the listener paused because `limits.max_connections` were open.",
        );
        let _ = writeln!(
            out,
            "corsair_connection_limit_waits_total {}",
            self.connection_limit_waits.load(Relaxed)
        );
        header(
            &mut out,
            "corsair_config_reloads_total",
            "counter",
            "Config reloads, by result (`refused`: the previous config kept serving).",
        );
        let _ = writeln!(
            out,
            "corsair_config_reloads_total{{result=\"ok\"}} {}",
            self.reloads_ok.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "corsair_config_reloads_total{{result=\"refused\"}} {}",
            self.reloads_refused.load(Relaxed)
        );
        self.websocket.render(&mut out);
        header(&mut out, "corsair_draining", "gauge", "1 while shutting down.");
        let _ = writeln!(out, "corsair_draining {}", u8::from(draining));
        out
    }
}

/// Decrements the open-connection gauge when dropped.
pub struct ConnectionGuard<'a>(&'a Metrics);

impl Drop for ConnectionGuard<'_> {
    fn drop(&mut self) {
        self.0.open_connections.fetch_sub(1, Relaxed);
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a label value (`\`, `"`, newline).
fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests;
