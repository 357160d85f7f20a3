//! Reading a browser's CORS console message: which browser printed it, which
//! check failed (as Chromium's error names), the URL, the origin, the failed
//! parameter (the "hint") and, for Firefox and Safari, the status.
//!
//! - Chromium: `Access to {kind} at '{url}' [(redirected from '{initial}') ]from
//!   origin '{origin}' has been blocked by CORS policy: [Response to preflight
//!   request doesn't pass access control check: ]{reason}`, every reason of
//!   [`names::CHROMIUM`](super::names::CHROMIUM), with or without the sentences builds append. The
//!   reason alone is understood too.
//! - Firefox: `Cross-Origin Request Blocked: The Same Origin Policy disallows
//!   reading the remote resource at {url}. (Reason: {reason}).[ Status code:
//!   {n}.]`, or only its key (`CORSMissingAllowOrigin`, with or without the
//!   digit of `CORSMissingAllowOrigin2`), curly or straight quotes.
//! - Safari: the description (`Origin {o} is not allowed by
//!   Access-Control-Allow-Origin. Status code: {n}`, …) and/or `{Fetch
//!   API|XMLHttpRequest} cannot load {url} due to access control checks.`
//!
//! Whitespace is collapsed first, so a message wrapped over several lines
//! reads the same.

use serde::Serialize;

use super::names::{Reason, CHROMIUM, FIREFOX, SUFFIXES};

/// Which browser printed the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Browser {
    Chromium,
    Firefox,
    Safari,
}

/// What a message says.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub(crate) browser: Browser,
    /// The Chromium error name, when the message names exactly one check.
    pub(crate) error: Option<String>,
    /// Every Chromium error name the message can stand for.
    pub(crate) candidates: Vec<String>,
    /// Firefox's `Reason:` key, without its digit.
    pub(crate) firefox_reason: Option<&'static str>,
    /// Whether the message is about the preflight (`None`: it does not say).
    pub(crate) preflight: Option<bool>,
    /// What made the request (`fetch`, `XMLHttpRequest`, `script`, …).
    pub(crate) initiator: Option<String>,
    /// The URL (after redirects).
    pub(crate) url: Option<String>,
    /// The URL first requested, when the message says it was redirected.
    pub(crate) initial_url: Option<String>,
    pub(crate) origin: Option<String>,
    /// The failed parameters: the header's value, the method, the header name…
    pub(crate) hints: Vec<String>,
    /// The status (Firefox and Safari print it).
    pub(crate) status: Option<u16>,
}

impl Parsed {
    fn new(browser: Browser) -> Self {
        Parsed {
            browser,
            error: None,
            candidates: Vec::new(),
            firefox_reason: None,
            preflight: None,
            initiator: None,
            url: None,
            initial_url: None,
            origin: None,
            hints: Vec::new(),
            status: None,
        }
    }

    /// Sets the candidates; the error is known when there is exactly one.
    fn names(&mut self, names: &[&str]) {
        self.candidates = names.iter().map(|n| (*n).to_owned()).collect();
        self.error = match names {
            [one] => Some((*one).to_owned()),
            _ => None,
        };
    }
}

/// Whitespace collapsed, typographic quotes made straight.
fn normalize(text: &str) -> String {
    let straight: String = text
        .chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201C}' | '\u{201D}' => '"',
            c => c,
        })
        .collect();
    straight.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text between `start` and the next `end` after it.
fn between<'t>(text: &'t str, start: &str, end: &str) -> Option<&'t str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// Reads `message`; `None` when it is no CORS message this knows.
pub(crate) fn parse(message: &str) -> Option<Parsed> {
    let text = normalize(message);
    chromium(&text).or_else(|| firefox(&text)).or_else(|| safari(&text))
}

/// Matches `reason` against a template whose `{}` are hints; the reason may go on
/// with the sentences of [`SUFFIXES`].
fn match_reason(template: &Reason, reason: &str) -> Option<Vec<String>> {
    let mut reason = reason.trim();
    let mut stripped = true;
    while stripped {
        stripped = false;
        for s in SUFFIXES {
            if let Some(r) = reason.strip_suffix(s.trim_start()) {
                reason = r.trim_end();
                stripped = true;
            }
        }
    }
    let parts: Vec<&str> = template.text.split("{}").collect();
    let (first, rest) = parts.split_first()?;
    let mut tail = reason.strip_prefix(first)?;
    let mut hints = Vec::new();
    for (i, part) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        let at = if part.is_empty() {
            tail.len()
        } else if last {
            tail.rfind(part)?
        } else {
            tail.find(part)?
        };
        hints.push(tail[..at].to_owned());
        tail = &tail[at + part.len()..];
    }
    tail.trim().is_empty().then_some(hints)
}

/// The Chromium reason of `reason`, with its hints.
fn chromium_reason(reason: &str) -> Option<(&'static Reason, Vec<String>)> {
    CHROMIUM
        .iter()
        .find_map(|r| match_reason(r, reason).map(|hints| (r, hints)))
}

const PREFLIGHT_PREFIX: &str = "Response to preflight request doesn't pass access control check: ";
const BLOCKED: &str = " has been blocked by CORS policy: ";

fn chromium(text: &str) -> Option<Parsed> {
    let mut p = Parsed::new(Browser::Chromium);
    let reason = match text.find(BLOCKED) {
        Some(at) => {
            let head = &text[..at];
            let access = head.rfind("Access to ")?;
            let head = &head[access + "Access to ".len()..];
            let (initiator, rest) = head.split_once(" at '")?;
            p.initiator = Some(initiator.to_owned());
            let origin_at = rest.rfind("from origin '")?;
            let origin = rest[origin_at + "from origin '".len()..].strip_suffix('\'')?;
            p.origin = Some(origin.to_owned());
            let urls = rest[..origin_at].trim_end();
            match urls.split_once("' (redirected from '") {
                Some((url, initial)) => {
                    p.url = Some(url.to_owned());
                    p.initial_url = Some(initial.strip_suffix("')")?.to_owned());
                }
                None => p.url = Some(urls.strip_suffix('\'')?.to_owned()),
            }
            &text[at + BLOCKED.len()..]
        }
        None => text.strip_prefix("Access blocked by CORS policy: ").unwrap_or(text),
    };
    let (preflight, reason) = match reason.strip_prefix(PREFLIGHT_PREFIX) {
        Some(r) => (true, r),
        None => (false, reason),
    };
    let (r, hints) = chromium_reason(reason)?;
    let name = if preflight && r.twin {
        format!("preflight_{}", r.name)
    } else {
        r.name.to_owned()
    };
    p.preflight = Some(preflight || name.starts_with("preflight_") || name.contains("preflight_response"));
    p.names(&[name.as_str()]);
    p.hints = hints;
    Some(p)
}

fn firefox(text: &str) -> Option<Parsed> {
    let mut p = Parsed::new(Browser::Firefox);
    // The key itself (`CORSMissingAllowOrigin2`, an MDN address), or the English text.
    let key = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.starts_with("CORS") && w.len() > 4)
        .find_map(|w| {
            let bare = w.trim_end_matches(|c: char| c.is_ascii_digit());
            FIREFOX.iter().find(|(k, _, _)| *k == bare)
        });
    let reason = text.find("(Reason: ").map(|at| &text[at + "(Reason: ".len()..]);
    let entry = key.or_else(|| {
        let reason = reason?;
        FIREFOX.iter().find(|(_, t, _)| reason.contains(t))
    })?;
    p.firefox_reason = Some(entry.0);
    p.names(entry.2);
    p.url = between(text, "reading the remote resource at ", ". (Reason:").map(|u| u.trim_matches('\'').to_owned());
    p.status = between(text, "Status code: ", ".")
        .or_else(|| text.split("Status code: ").nth(1))
        .and_then(|s| s.trim().trim_end_matches('.').parse().ok());
    if let Some(reason) = reason {
        // The parameter in quotes: `does not match 'x'`, `header 'x' is not allowed`,
        // `invalid token 'x'`.
        let quoted = match entry.0 {
            "CORSAllowOriginNotMatchingOrigin" => between(reason, "does not match '", "'"),
            "CORSMissingAllowHeaderFromPreflight" => between(reason, "header '", "'"),
            "CORSInvalidAllowMethod" | "CORSInvalidAllowHeader" => between(reason, "invalid token '", "'"),
            _ => None,
        };
        p.hints.extend(quoted.map(str::to_owned));
    }
    p.preflight = match entry.0 {
        "CORSPreflightDidNotSucceed"
        | "CORSInvalidAllowMethod"
        | "CORSMethodNotFound"
        | "CORSInvalidAllowHeader"
        | "CORSMissingAllowHeaderFromPreflight"
        | "CORSExternalRedirectNotAllowed" => Some(true),
        _ => None,
    };
    Some(p)
}

/// Safari's descriptions: the text, what follows it, the Chromium names it can stand for.
const SAFARI: &[(&str, &[&str])] = &[
    (
        "is not allowed by Access-Control-Allow-Origin.",
        &[
            "missing_allow_origin_header",
            "allow_origin_mismatch",
            "preflight_missing_allow_origin_header",
            "preflight_allow_origin_mismatch",
        ],
    ),
    (
        "Access-Control-Allow-Origin cannot contain more than one origin.",
        &["multiple_allow_origin_values", "preflight_multiple_allow_origin_values"],
    ),
    (
        "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true.",
        &["wildcard_origin_not_allowed", "preflight_wildcard_origin_not_allowed"],
    ),
    (
        "Credentials flag is true, but Access-Control-Allow-Credentials is not \"true\".",
        &["invalid_allow_credentials", "preflight_invalid_allow_credentials"],
    ),
    (
        "Preflight response is not successful.",
        // Safari checks the status before Access-Control-Allow-Origin.
        &[
            "preflight_invalid_status",
            "preflight_missing_allow_origin_header",
            "preflight_allow_origin_mismatch",
        ],
    ),
    (
        "is not allowed by Access-Control-Allow-Methods.",
        &["method_disallowed_by_preflight_response"],
    ),
    (
        "is not allowed by Access-Control-Allow-Headers.",
        &["header_disallowed_by_preflight_response"],
    ),
    (
        "Header Access-Control-Allow-Methods has an invalid value",
        &["invalid_allow_methods_preflight_response"],
    ),
    (
        "Header Access-Control-Allow-Headers has an invalid value",
        &["invalid_allow_headers_preflight_response"],
    ),
    (
        "not allowed to follow a cross-origin CORS redirection with non CORS scheme",
        &["cors_disabled_scheme"],
    ),
    ("has credentials", &["redirect_contains_credentials"]),
    (
        "Cross-origin redirection denied by Cross-Origin Resource Sharing policy.",
        &[
            "missing_allow_origin_header",
            "allow_origin_mismatch",
            "redirect_contains_credentials",
            "cors_disabled_scheme",
        ],
    ),
];

fn safari(text: &str) -> Option<Parsed> {
    let mut p = Parsed::new(Browser::Safari);
    let (found, names) = SAFARI.iter().find(|(t, _)| text.contains(t))?;
    p.names(names);
    p.url = [" cannot load ", "Cannot load "]
        .iter()
        .find_map(|s| between(text, s, " due to access control checks"))
        .map(str::to_owned);
    p.status = text
        .split("Status code: ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok());
    match *found {
        "is not allowed by Access-Control-Allow-Origin." => {
            p.origin = between(text, "Origin ", " is not allowed").map(str::to_owned);
        }
        "is not allowed by Access-Control-Allow-Methods." => {
            p.hints
                .extend(between(text, "Method ", " is not allowed").map(str::to_owned));
        }
        "is not allowed by Access-Control-Allow-Headers." => {
            p.hints
                .extend(between(text, "Request header field ", " is not allowed").map(|h| h.to_ascii_lowercase()));
        }
        _ => {}
    }
    p.preflight = names
        .iter()
        .all(|n| n.starts_with("preflight_") || n.contains("preflight_response"))
        .then_some(true);
    Some(p)
}

#[cfg(test)]
mod tests;
