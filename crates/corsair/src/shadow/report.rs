//! [`ShadowReport`]: the disagreements of report-only mode, one entry per
//! (policy, verdict, reason, origin), bounded whatever the traffic.

use std::collections::HashMap;
use std::time::SystemTime;

use http::header::{self, HeaderMap};
use http::Method;

use super::{Disagreement, ShadowVerdict};
use crate::RequestKind;

/// The most distinct origins a [`ShadowReport`] keeps per (policy, verdict,
/// reason) by default; requests from further origins are counted together in
/// [`OtherOrigins`].
pub const DEFAULT_ORIGIN_LIMIT: usize = 1000;
/// Origins longer than this (no real one comes close: a host is at most 253
/// bytes) are not kept by name: they count in [`OtherOrigins`].
const MAX_ORIGIN: usize = 300;
/// The example's path is cut to this many bytes.
const MAX_PATH: usize = 256;
/// The example's methods are cut to this many bytes.
const MAX_METHOD: usize = 32;
/// The example keeps at most this many requested header names...
const MAX_NAMES: usize = 32;
/// ...each cut to this many bytes.
const MAX_NAME: usize = 64;

/// One request, as the report samples it: the request's kind, method and
/// path, and its headers (`Origin`, `Access-Control-Request-Method` and
/// `-Headers` are read from them).
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    /// The request's kind.
    pub kind: RequestKind,
    /// The request's method.
    pub method: &'a Method,
    /// The request's path.
    pub path: &'a str,
    /// The request's headers.
    pub headers: &'a HeaderMap,
}

/// The example request an entry keeps: the first one seen.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ExampleRequest {
    /// `preflight` or `actual`.
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser::kind"))]
    pub kind: RequestKind,
    /// The request's method (at most 32 bytes).
    pub method: String,
    /// The request's path (at most 256 bytes).
    pub path: String,
    /// A preflight's `Access-Control-Request-Method`.
    pub requested_method: Option<String>,
    /// A preflight's `Access-Control-Request-Headers` names (at most 32,
    /// each at most 64 bytes).
    pub requested_headers: Vec<String>,
}

/// One entry of a [`ShadowReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ShadowEntry {
    /// The policy's name.
    pub policy: String,
    /// Which way the policy and the service disagree.
    pub verdict: ShadowVerdict,
    /// The reason's stable code (see [`Disagreement::reason`]).
    pub reason: &'static str,
    /// The request's origin.
    pub origin: String,
    /// How many requests.
    pub count: u64,
    /// When the first was recorded.
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser::time"))]
    pub first_seen: SystemTime,
    /// When the last was recorded.
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser::time"))]
    pub last_seen: SystemTime,
    /// The reason in words, for the first request.
    pub detail: String,
    /// The first request.
    pub example: ExampleRequest,
}

/// Requests beyond the origin limit (or with an overlong `Origin`) for one
/// (policy, verdict, reason): counted, not named.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct OtherOrigins {
    /// The policy's name.
    pub policy: String,
    /// Which way the policy and the service disagree.
    pub verdict: ShadowVerdict,
    /// The reason's stable code.
    pub reason: &'static str,
    /// How many requests.
    pub count: u64,
    /// When the first was recorded.
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser::time"))]
    pub first_seen: SystemTime,
    /// When the last was recorded.
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser::time"))]
    pub last_seen: SystemTime,
}

/// A count with the first and last time seen.
#[derive(Debug, Clone, Copy)]
struct Seen {
    count: u64,
    first: SystemTime,
    last: SystemTime,
}

impl Seen {
    fn new(now: SystemTime) -> Self {
        Self {
            count: 1,
            first: now,
            last: now,
        }
    }

    fn add(&mut self, now: SystemTime) {
        self.count = self.count.saturating_add(1);
        self.first = self.first.min(now);
        self.last = self.last.max(now);
    }

    fn merge(&mut self, other: &Seen) {
        self.count = self.count.saturating_add(other.count);
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }
}

#[derive(Debug, Clone)]
struct Slot {
    seen: Seen,
    detail: String,
    example: ExampleRequest,
}

/// The origins of one (policy, verdict, reason).
#[derive(Debug, Clone, Default)]
struct Group {
    origins: HashMap<Box<str>, Slot>,
    other: Option<Seen>,
}

/// The disagreements of report-only mode: one entry per (policy, verdict,
/// reason, origin), each with a count, the first and last time seen and
/// the first request as an example.
///
/// **Bounds.** At most [`origin_limit`](Self::origin_limit) distinct origins
/// (by default [`DEFAULT_ORIGIN_LIMIT`], 1,000) per (policy, verdict,
/// reason); requests from further origins, and origins over 300 bytes, only
/// add to that group's [`OtherOrigins`] count. Reasons are the engine's
/// fixed codes and policies are named by the configuration, so the number of
/// groups is bounded too; an example keeps at most 256 bytes of path and 32
/// header names of 64 bytes. The report never grows with traffic past
/// these bounds.
///
/// **JSON** (with the `serde` feature; what the gateway serves at
/// `GET /report`), entries sorted by policy, verdict, reason, then count
/// (most first) and origin; timestamps in RFC 3339 UTC:
///
/// ```json
/// {
///   "origin_limit": 1000,
///   "entries": [
///     {
///       "policy": "api",
///       "verdict": "would_reject",
///       "reason": "origin_not_allowed",
///       "origin": "https://old.example.com",
///       "count": 42,
///       "first_seen": "2025-05-01T10:00:00Z",
///       "last_seen": "2025-05-01T10:04:59Z",
///       "detail": "origin `https://old.example.com` is not in allow_origins",
///       "example": {
///         "kind": "preflight",
///         "method": "OPTIONS",
///         "path": "/items/1",
///         "requested_method": "PUT",
///         "requested_headers": ["content-type"]
///       }
///     }
///   ],
///   "other_origins": [
///     {
///       "policy": "api",
///       "verdict": "would_reject",
///       "reason": "origin_not_allowed",
///       "count": 7,
///       "first_seen": "2025-05-01T10:01:00Z",
///       "last_seen": "2025-05-01T10:03:00Z"
///     }
///   ]
/// }
/// ```
///
/// `verdict` is `would_reject` (the policy would refuse what the service
/// allowed: a client it would break) or `would_allow` (the policy would
/// allow what the service refused); `reason` is the policy's rejection code
/// for `would_reject` and the browser's reason for refusing the service's
/// answer for `would_allow` (see [`Disagreement::reason`]).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use corsair::shadow::{Disagreement, Sample, ShadowReport, ShadowVerdict};
/// use corsair::RequestKind;
/// use http::{HeaderMap, HeaderValue, Method};
///
/// let mut report = ShadowReport::new();
/// let mut headers = HeaderMap::new();
/// headers.insert("origin", HeaderValue::from_static("https://old.example.com"));
/// let sample = Sample { kind: RequestKind::Actual, method: &Method::GET, path: "/items", headers: &headers };
/// let d = Disagreement {
///     verdict: ShadowVerdict::WouldReject,
///     reason: "origin_not_allowed",
///     detail: "origin `https://old.example.com` is not in allow_origins".into(),
/// };
/// report.record("api", &d, &sample, UNIX_EPOCH + Duration::from_secs(10));
/// report.record("api", &d, &sample, UNIX_EPOCH + Duration::from_secs(20));
/// let e = &report.entries()[0];
/// assert_eq!((e.origin.as_str(), e.count), ("https://old.example.com", 2));
/// assert_eq!(e.last_seen, UNIX_EPOCH + Duration::from_secs(20));
/// assert_eq!(e.example.path, "/items");
/// ```
#[derive(Debug, Clone)]
pub struct ShadowReport {
    origin_limit: usize,
    policies: HashMap<Box<str>, HashMap<(ShadowVerdict, &'static str), Group>>,
}

impl Default for ShadowReport {
    fn default() -> Self {
        Self::new()
    }
}

impl ShadowReport {
    /// An empty report keeping up to [`DEFAULT_ORIGIN_LIMIT`] origins per
    /// (policy, verdict, reason).
    pub fn new() -> Self {
        Self::with_origin_limit(DEFAULT_ORIGIN_LIMIT)
    }

    /// An empty report keeping up to `limit` origins per (policy, verdict,
    /// reason).
    pub fn with_origin_limit(limit: usize) -> Self {
        Self {
            origin_limit: limit,
            policies: HashMap::new(),
        }
    }

    /// The most origins kept by name per (policy, verdict, reason).
    pub fn origin_limit(&self) -> usize {
        self.origin_limit
    }

    /// Records one disagreement on `sample` under policy `policy`, at
    /// `now`. Allocates only for a new entry (and a new policy name).
    pub fn record(&mut self, policy: &str, d: &Disagreement, sample: &Sample<'_>, now: SystemTime) {
        if !self.policies.contains_key(policy) {
            self.policies.insert(policy.into(), HashMap::new());
        }
        let Some(groups) = self.policies.get_mut(policy) else {
            return;
        };
        let group = groups.entry((d.verdict, d.reason)).or_default();
        let origin = sample
            .headers
            .get(header::ORIGIN)
            .map(|o| o.as_bytes())
            .unwrap_or_default();
        let origin = (origin.len() <= MAX_ORIGIN).then(|| String::from_utf8_lossy(origin));
        if let Some(origin) = &origin {
            if let Some(slot) = group.origins.get_mut(origin.as_ref()) {
                slot.seen.add(now);
                return;
            }
            if group.origins.len() < self.origin_limit {
                group.origins.insert(
                    origin.as_ref().into(),
                    Slot {
                        seen: Seen::new(now),
                        detail: d.detail.clone(),
                        example: example(sample),
                    },
                );
                return;
            }
        }
        match &mut group.other {
            Some(s) => s.add(now),
            None => group.other = Some(Seen::new(now)),
        }
    }

    /// Every entry, sorted by policy, verdict, reason, then count (most
    /// first) and origin.
    pub fn entries(&self) -> Vec<ShadowEntry> {
        let mut out = Vec::new();
        for (policy, groups) in &self.policies {
            for ((verdict, reason), g) in groups {
                out.extend(g.origins.iter().map(|(origin, s)| ShadowEntry {
                    policy: policy.to_string(),
                    verdict: *verdict,
                    reason,
                    origin: origin.to_string(),
                    count: s.seen.count,
                    first_seen: s.seen.first,
                    last_seen: s.seen.last,
                    detail: s.detail.clone(),
                    example: s.example.clone(),
                }));
            }
        }
        out.sort_by(|a, b| {
            (&a.policy, a.verdict, a.reason, std::cmp::Reverse(a.count), &a.origin).cmp(&(
                &b.policy,
                b.verdict,
                b.reason,
                std::cmp::Reverse(b.count),
                &b.origin,
            ))
        });
        out
    }

    /// The requests counted without their origin, per (policy, verdict,
    /// reason), sorted.
    pub fn other_origins(&self) -> Vec<OtherOrigins> {
        let mut out: Vec<OtherOrigins> = self
            .policies
            .iter()
            .flat_map(|(policy, groups)| {
                groups.iter().filter_map(move |((verdict, reason), g)| {
                    g.other.map(|s| OtherOrigins {
                        policy: policy.to_string(),
                        verdict: *verdict,
                        reason,
                        count: s.count,
                        first_seen: s.first,
                        last_seen: s.last,
                    })
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.policy, a.verdict, a.reason).cmp(&(&b.policy, b.verdict, b.reason)));
        out
    }

    /// The number of entries (origins named).
    pub fn len(&self) -> usize {
        self.policies
            .values()
            .flat_map(HashMap::values)
            .map(|g| g.origins.len())
            .sum()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.policies.values().all(HashMap::is_empty)
    }

    /// The number of requests recorded, named origins and others.
    pub fn total(&self) -> u64 {
        self.policies
            .values()
            .flat_map(HashMap::values)
            .map(|g| {
                g.origins
                    .values()
                    .map(|s| s.seen.count)
                    .chain(g.other.map(|s| s.count))
                    .fold(0u64, u64::saturating_add)
            })
            .fold(0, u64::saturating_add)
    }

    /// Forgets everything recorded.
    pub fn clear(&mut self) {
        self.policies.clear();
    }

    /// Adds what `other` recorded (for a report kept per worker or shard
    /// and read as one): counts add up, first and last times widen, the
    /// earlier example stays, and this report's origin limit bounds the
    /// result (origins beyond it add to `other_origins`).
    pub fn merge(&mut self, other: &ShadowReport) {
        for (policy, groups) in &other.policies {
            if !self.policies.contains_key(policy) {
                self.policies.insert(policy.clone(), HashMap::new());
            }
            let Some(mine) = self.policies.get_mut(policy) else {
                continue;
            };
            for (key, theirs) in groups {
                let group = mine.entry(*key).or_default();
                for (origin, slot) in &theirs.origins {
                    if let Some(s) = group.origins.get_mut(origin) {
                        if slot.seen.first < s.seen.first {
                            s.detail.clone_from(&slot.detail);
                            s.example = slot.example.clone();
                        }
                        s.seen.merge(&slot.seen);
                    } else if group.origins.len() < self.origin_limit {
                        group.origins.insert(origin.clone(), slot.clone());
                    } else {
                        match &mut group.other {
                            Some(o) => o.merge(&slot.seen),
                            None => group.other = Some(slot.seen),
                        }
                    }
                }
                if let Some(t) = &theirs.other {
                    match &mut group.other {
                        Some(o) => o.merge(t),
                        None => group.other = Some(*t),
                    }
                }
            }
        }
    }
}

/// The example kept for a new entry, cut to its bounds.
fn example(s: &Sample<'_>) -> ExampleRequest {
    let preflight = s.kind == RequestKind::Preflight;
    let requested_method = preflight
        .then(|| s.headers.get(header::ACCESS_CONTROL_REQUEST_METHOD))
        .flatten()
        .map(|m| cut(&String::from_utf8_lossy(m.as_bytes()), MAX_METHOD));
    let mut requested_headers = Vec::new();
    if preflight {
        'lines: for line in s.headers.get_all(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            for name in line.as_bytes().split(|&b| b == b',') {
                let name = name.trim_ascii();
                if name.is_empty() {
                    continue;
                }
                if requested_headers.len() == MAX_NAMES {
                    break 'lines;
                }
                requested_headers.push(cut(&String::from_utf8_lossy(name), MAX_NAME));
            }
        }
    }
    ExampleRequest {
        kind: s.kind,
        method: cut(s.method.as_str(), MAX_METHOD),
        path: cut(s.path, MAX_PATH),
        requested_method,
        requested_headers,
    }
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn cut(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

#[cfg(feature = "serde")]
mod ser {
    use std::time::SystemTime;

    use serde::ser::SerializeStruct;
    use serde::{Serialize, Serializer};

    use super::ShadowReport;
    use crate::RequestKind;

    pub(super) fn time<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::shadow::rfc3339(*t))
    }

    pub(super) fn kind<S: Serializer>(k: &RequestKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.as_str())
    }

    /// `{"origin_limit", "entries", "other_origins"}`: see [`ShadowReport`].
    impl Serialize for ShadowReport {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("ShadowReport", 3)?;
            st.serialize_field("origin_limit", &self.origin_limit)?;
            st.serialize_field("entries", &self.entries())?;
            st.serialize_field("other_origins", &self.other_origins())?;
            st.end()
        }
    }
}
