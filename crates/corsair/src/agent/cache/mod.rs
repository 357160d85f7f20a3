//! The CORS-preflight cache: [`PreflightCache`], with the max-age cap of a
//! [`BrowserProfile`]. Time is passed in, so results are deterministic.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::preflight::PreflightOk;
use super::request::Request;
use super::trace::Step;
use crate::fetch::{is_cors_non_wildcard_request_header_name, is_cors_safelisted_method};

/// Which browser's preflight-cache limits to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum BrowserProfile {
    /// Chromium-based browsers: max-age capped at 7200 s (2 h).
    #[default]
    Chromium,
    /// Firefox: max-age capped at 86400 s (24 h).
    Firefox,
    /// Safari (WebKit): max-age capped at 600 s (10 min).
    Safari,
}

impl BrowserProfile {
    /// The largest max-age this browser honours, in seconds.
    pub fn max_age_cap(self) -> u64 {
        match self {
            BrowserProfile::Chromium => 7200,
            BrowserProfile::Firefox => 86400,
            BrowserProfile::Safari => 600,
        }
    }

    /// `chromium`, `firefox` or `safari`.
    pub fn as_str(self) -> &'static str {
        match self {
            BrowserProfile::Chromium => "chromium",
            BrowserProfile::Firefox => "firefox",
            BrowserProfile::Safari => "safari",
        }
    }
}

impl fmt::Display for BrowserProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BrowserProfile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "chromium" | "chrome" | "edge" => Ok(BrowserProfile::Chromium),
            "firefox" | "gecko" => Ok(BrowserProfile::Firefox),
            "safari" | "webkit" => Ok(BrowserProfile::Safari),
            other => Err(format!(
                "unknown browser `{other}` (expected chromium, firefox or safari)"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Method(String),
    Header(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    origin: String,
    url: String,
    credentials: bool,
    item: Item,
    expires: Duration,
}

impl Entry {
    /// Fetch §4.9 "cache entry match": the same byte-serialized origin and
    /// current URL, and credentials unless the request is not "include".
    fn matches_request(&self, req: &Request) -> bool {
        self.origin == req.origin() && self.url == req.current_url() && (self.credentials || !req.is_credentialed())
    }

    /// Fetch §4.9 "method cache entry match": the method or `*`. `*`
    /// counts only for entries made without credentials (as Chromium does;
    /// the standard's entries for `*` from a credentialed preflight would
    /// serve later credentialed requests).
    fn matches_method(&self, method: &str) -> bool {
        match &self.item {
            Item::Method(m) => m == method || (m == "*" && !self.credentials),
            Item::Header(_) => false,
        }
    }

    /// Fetch §4.9 "header-name cache entry match": the name,
    /// byte-case-insensitively, or `*` for any name but a CORS non-wildcard
    /// request-header name (and, as for methods, only without credentials).
    fn matches_header(&self, name: &str) -> bool {
        match &self.item {
            Item::Header(h) => {
                h.eq_ignore_ascii_case(name)
                    || (h == "*" && !self.credentials && !is_cors_non_wildcard_request_header_name(name))
            }
            Item::Method(_) => false,
        }
    }
}

/// What the cache holds for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CacheLookup {
    /// Whether a preflight must be sent.
    pub preflight_needed: bool,
    /// Whether the method needed a cache entry and had none.
    pub method_missing: bool,
    /// Unsafe header names without a cache entry.
    pub headers_missing: Vec<String>,
}

/// A browser's CORS-preflight cache, keyed by origin, full URL, credentials,
/// and one entry per method and per header name. Time is a [`Duration`] since
/// any fixed epoch chosen by the caller.
///
/// ```
/// use std::time::Duration;
/// use corsair::agent::{check_preflight, BrowserProfile, PreflightCache, Request};
/// use http::{HeaderMap, HeaderValue};
///
/// let req = Request::builder("https://app.example", "https://api.example/r")
///     .method("PUT")
///     .build()?;
/// let mut headers = HeaderMap::new();
/// headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
/// headers.insert("access-control-allow-methods", HeaderValue::from_static("PUT"));
/// headers.insert("access-control-max-age", HeaderValue::from_static("86400"));
/// let ok = check_preflight(&req, 204, &headers)?;
///
/// let mut cache = PreflightCache::new(BrowserProfile::Chromium);
/// let t0 = Duration::from_secs(1_000);
/// assert!(cache.preflight_needed(&req, t0));
/// cache.store(&req, &ok, t0);
/// assert!(!cache.preflight_needed(&req, t0 + Duration::from_secs(7199)));
/// assert!(cache.preflight_needed(&req, t0 + Duration::from_secs(7200))); // capped at 2 h
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct PreflightCache {
    profile: BrowserProfile,
    entries: Vec<Entry>,
}

impl PreflightCache {
    /// An empty cache with `profile`'s max-age cap.
    pub fn new(profile: BrowserProfile) -> Self {
        PreflightCache {
            profile,
            entries: Vec::new(),
        }
    }

    /// The browser profile.
    pub fn profile(&self) -> BrowserProfile {
        self.profile
    }

    /// Number of live and expired entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn live<'a>(&'a self, req: &'a Request, now: Duration) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .iter()
            .filter(move |e| now < e.expires && e.matches_request(req))
    }

    /// Looks `req` up: whether a preflight must be sent and which entries miss.
    pub fn lookup(&self, req: &Request, now: Duration) -> CacheLookup {
        if !req.needs_preflight() {
            return CacheLookup {
                preflight_needed: false,
                method_missing: false,
                headers_missing: Vec::new(),
            };
        }
        // Fetch §4.4 "HTTP fetch", step 4.1: a preflight unless there is a
        // method cache entry match (needed only for a method that is not
        // CORS-safelisted, or with the use-CORS-preflight flag) and a
        // header-name cache entry match for every CORS-unsafe name.
        let method = req.method();
        let method_missing = (!is_cors_safelisted_method(method) || req.use_cors_preflight_flag())
            && !self.live(req, now).any(|e| e.matches_method(method));
        let headers_missing: Vec<String> = req
            .unsafe_header_names()
            .into_iter()
            .filter(|name| !self.live(req, now).any(|e| e.matches_header(name)))
            .collect();
        CacheLookup {
            preflight_needed: method_missing || !headers_missing.is_empty(),
            method_missing,
            headers_missing,
        }
    }

    /// Whether a preflight must be sent for `req` at `now`.
    pub fn preflight_needed(&self, req: &Request, now: Duration) -> bool {
        self.lookup(req, now).preflight_needed
    }

    /// Explains the cache decision for `req` at `now` as a step.
    pub fn explain(&self, req: &Request, now: Duration) -> Step {
        let l = self.lookup(req, now);
        if !req.needs_preflight() {
            Step::pass(
                "preflight-cache",
                "no preflight is needed, so the cache is not consulted",
            )
        } else if !l.preflight_needed {
            Step::pass(
                "preflight-cache",
                "the preflight cache covers the method and every unsafe header: no preflight is sent",
            )
        } else {
            let mut missing = Vec::new();
            if l.method_missing {
                missing.push(format!("method `{}`", req.method()));
            }
            if !l.headers_missing.is_empty() {
                missing.push(format!("header(s) `{}`", l.headers_missing.join(", ")));
            }
            Step::pass(
                "preflight-cache",
                format!(
                    "the preflight cache has no entry for {}: a preflight is sent",
                    missing.join(" and ")
                ),
            )
        }
    }

    /// Stores a successful preflight for `req` at `now`, with the max-age of
    /// `ok` capped for this profile; returns how long it is cached, or `None`
    /// when it is not cached (`0`, negative or invalid max-age).
    pub fn store(&mut self, req: &Request, ok: &PreflightOk, now: Duration) -> Option<Duration> {
        // Fetch §4.9: entries go once their max-age has passed.
        self.entries.retain(|e| now < e.expires);
        // Fetch §4.8 steps 7.9 and 7.10 (the browser's cap).
        let seconds = ok.max_age.effective_seconds(self.profile.max_age_cap())?;
        let max_age = Duration::from_secs(seconds);
        let expires = now.saturating_add(max_age);
        let credentials = req.is_credentialed();
        let mut items: Vec<Item> = ok.methods.iter().map(|m| Item::Method(m.clone())).collect();
        items.extend(ok.headers.iter().map(|h| Item::Header(h.clone())));
        // Fetch §4.8 steps 7.12-7.15: a matching entry gets the new max-age;
        // otherwise a new cache entry (§4.9 "create a new cache entry").
        for item in items {
            let matched = self.entries.iter_mut().find(|e| {
                e.matches_request(req)
                    && match &item {
                        Item::Method(m) => matches!(&e.item, Item::Method(x) if x == m),
                        Item::Header(h) => {
                            matches!(&e.item, Item::Header(x) if x.eq_ignore_ascii_case(h))
                        }
                    }
            });
            match matched {
                Some(entry) => entry.expires = expires,
                None => self.entries.push(Entry {
                    origin: req.origin().to_string(),
                    url: req.current_url().to_string(),
                    credentials,
                    item,
                    expires,
                }),
            }
        }
        Some(max_age)
    }

    /// Clears the entries for `req`'s origin and URL (after a network error
    /// on the actual request: Fetch §4.1 "Main fetch", step 12, and §4.9
    /// "clear cache entries").
    pub fn clear(&mut self, req: &Request) {
        self.entries
            .retain(|e| !(e.origin == req.origin() && e.url == req.current_url()));
    }
}

#[cfg(test)]
mod tests;
