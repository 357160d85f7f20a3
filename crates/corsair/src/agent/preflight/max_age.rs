//! [`MaxAge`]: how long a browser caches a preflight's result.

use http::header::ACCESS_CONTROL_MAX_AGE;
use http::HeaderMap;

use crate::agent::text::show;
use crate::fetch::list::lines;
use crate::fetch::syntax::trim_ows;

/// The `Access-Control-Max-Age` of a preflight response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", content = "value", rename_all = "kebab-case"))]
pub enum MaxAge {
    /// No header (or an empty value): browsers cache for 5 seconds.
    Absent,
    /// A valid `delta-seconds` value (saturating at `u64::MAX`).
    Seconds(u64),
    /// Anything else (`-1`, `1.5`, several values): browsers do not cache.
    Invalid(String),
}

/// The default max-age when the header is absent, in seconds.
pub const DEFAULT_MAX_AGE: u64 = 5;

impl MaxAge {
    /// Reads `Access-Control-Max-Age` from a response.
    pub fn from_headers(headers: &HeaderMap) -> MaxAge {
        // Fetch §4.8 "CORS-preflight fetch", step 7.8: extract header list
        // values (`delta-seconds` allows a single header, so several lines
        // are a failure).
        let values = lines(headers, &ACCESS_CONTROL_MAX_AGE);
        match values.as_slice() {
            // Step 7.9: null means 5 seconds (see `effective_seconds`).
            [] => MaxAge::Absent,
            [one] => {
                let v = trim_ows(one);
                if v.is_empty() {
                    MaxAge::Absent
                } else if v.iter().all(u8::is_ascii_digit) {
                    let n = v.iter().fold(0u64, |acc, d| {
                        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                    });
                    MaxAge::Seconds(n)
                } else {
                    MaxAge::Invalid(show(v))
                }
            }
            many => MaxAge::Invalid(many.iter().map(|v| show(v)).collect::<Vec<_>>().join(", ")),
        }
    }

    /// How long a browser with this cap caches the result, in seconds;
    /// `None` when it does not cache at all (`0`, negative or invalid).
    pub fn effective_seconds(&self, cap: u64) -> Option<u64> {
        // Fetch §4.8 steps 7.9 and 7.10: 5 seconds when absent, capped by
        // the browser's limit. A failure would be 5 seconds too by the
        // letter of step 7.9; browsers do not cache it (WPT
        // cors/preflight-cache.htm expects `-1` not to be cached), and
        // neither does this.
        match self {
            MaxAge::Absent => Some(DEFAULT_MAX_AGE.min(cap)),
            MaxAge::Seconds(0) => None,
            MaxAge::Seconds(n) => Some((*n).min(cap)),
            MaxAge::Invalid(_) => None,
        }
    }
}
