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
    fn matches_request(&self, req: &Request) -> bool {
        self.origin == req.origin() && self.url == req.url() && (self.credentials || !req.is_credentialed())
    }

    /// `*` counts only for entries made without credentials (as Chromium does).
    fn matches_method(&self, method: &str) -> bool {
        match &self.item {
            Item::Method(m) => m == method || (m == "*" && !self.credentials),
            Item::Header(_) => false,
        }
    }

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
        self.entries.retain(|e| now < e.expires);
        let seconds = ok.max_age.effective_seconds(self.profile.max_age_cap())?;
        let max_age = Duration::from_secs(seconds);
        let expires = now.saturating_add(max_age);
        let credentials = req.is_credentialed();
        let mut items: Vec<Item> = ok.methods.iter().map(|m| Item::Method(m.clone())).collect();
        items.extend(ok.headers.iter().map(|h| Item::Header(h.clone())));
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
                    url: req.url().to_string(),
                    credentials,
                    item,
                    expires,
                }),
            }
        }
        Some(max_age)
    }

    /// Clears the entries for `req`'s origin and URL (after a network error
    /// on the actual request).
    pub fn clear(&mut self, req: &Request) {
        self.entries
            .retain(|e| !(e.origin == req.origin() && e.url == req.url()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{check_preflight, CredentialsMode};
    use http::{HeaderMap, HeaderName, HeaderValue};

    const O: &str = "https://app.example";
    const T: &str = "https://api.example/r";

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn response(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ok_for(req: &Request, pairs: &[(&str, &str)]) -> PreflightOk {
        check_preflight(req, 200, &response(pairs)).unwrap()
    }

    #[test]
    fn vector_35_cached_across_values() {
        let r1 = Request::builder(O, T)
            .method("POST")
            .header("x-test-header", "test1")
            .build()
            .unwrap();
        let r2 = Request::builder(O, T)
            .method("POST")
            .header("x-test-header", "test2")
            .build()
            .unwrap();
        let ok = ok_for(
            &r1,
            &[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-methods", "POST"),
                ("access-control-allow-headers", "x-test-header"),
                ("access-control-max-age", "12000"),
            ],
        );
        let mut cache = PreflightCache::new(BrowserProfile::Chromium);
        assert!(cache.preflight_needed(&r1, secs(0.0)));
        assert_eq!(cache.store(&r1, &ok, secs(0.0)), Some(secs(7200.0)));
        assert!(!cache.preflight_needed(&r2, secs(1.0)));
        let mut ff = PreflightCache::new(BrowserProfile::Firefox);
        assert_eq!(ff.store(&r1, &ok, secs(0.0)), Some(secs(12000.0)));
        assert!(!ff.preflight_needed(&r2, secs(11999.0)));
        let mut safari = PreflightCache::new(BrowserProfile::Safari);
        assert_eq!(safari.store(&r1, &ok, secs(0.0)), Some(secs(600.0)));
        assert!(safari.preflight_needed(&r2, secs(600.0)));
    }

    #[test]
    fn vector_36_default_five_seconds() {
        let r = Request::builder(O, T).header("x-print", "1").build().unwrap();
        let ok = ok_for(
            &r,
            &[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-headers", "x-print"),
            ],
        );
        let mut cache = PreflightCache::new(BrowserProfile::Chromium);
        assert_eq!(cache.store(&r, &ok, secs(10.0)), Some(secs(5.0)));
        assert!(!cache.preflight_needed(&r, secs(10.1)));
        assert!(!cache.preflight_needed(&r, secs(14.9)));
        assert!(cache.preflight_needed(&r, secs(15.0)));
    }

    #[test]
    fn vector_37_zero_and_negative_not_cached() {
        let r = Request::builder(O, T).header("x-print", "1").build().unwrap();
        for v in ["0", "-1", "abc", "1.5"] {
            let ok = ok_for(
                &r,
                &[
                    ("access-control-allow-origin", "*"),
                    ("access-control-allow-headers", "x-print"),
                    ("access-control-max-age", v),
                ],
            );
            for profile in [
                BrowserProfile::Chromium,
                BrowserProfile::Firefox,
                BrowserProfile::Safari,
            ] {
                let mut cache = PreflightCache::new(profile);
                assert_eq!(cache.store(&r, &ok, secs(0.0)), None, "{v}");
                assert!(cache.preflight_needed(&r, secs(0.0)), "{v}");
                assert!(cache.is_empty());
            }
        }
    }

    #[test]
    fn vector_38_one_second() {
        let r = Request::builder(O, T).header("x-print", "1").build().unwrap();
        let ok = ok_for(
            &r,
            &[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-headers", "x-print"),
                ("access-control-max-age", "1"),
            ],
        );
        let mut cache = PreflightCache::new(BrowserProfile::Chromium);
        assert!(cache.preflight_needed(&r, secs(0.0)));
        cache.store(&r, &ok, secs(0.0));
        assert!(!cache.preflight_needed(&r, secs(0.5)));
        assert!(cache.preflight_needed(&r, secs(1.5)));
    }

    #[test]
    fn keyed_by_origin_url_credentials() {
        let r = Request::builder(O, T).method("PUT").build().unwrap();
        let ok = ok_for(
            &r,
            &[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-methods", "PUT"),
            ],
        );
        let mut cache = PreflightCache::new(BrowserProfile::Chromium);
        cache.store(&r, &ok, secs(0.0));
        let other_url = Request::builder(O, "https://api.example/r?x=1")
            .method("PUT")
            .build()
            .unwrap();
        assert!(cache.preflight_needed(&other_url, secs(1.0)));
        let other_origin = Request::builder("https://b.example", T).method("PUT").build().unwrap();
        assert!(cache.preflight_needed(&other_origin, secs(1.0)));
        // A non-credentialed entry does not serve a credentialed request...
        let cred = Request::builder(O, T)
            .method("PUT")
            .credentials(CredentialsMode::Include)
            .build()
            .unwrap();
        assert!(cache.preflight_needed(&cred, secs(1.0)));
        // ...but a credentialed entry serves both.
        let okc = ok_for(
            &cred,
            &[
                ("access-control-allow-origin", O),
                ("access-control-allow-credentials", "true"),
                ("access-control-allow-methods", "PUT"),
            ],
        );
        let mut cache = PreflightCache::new(BrowserProfile::Chromium);
        cache.store(&cred, &okc, secs(0.0));
        assert!(!cache.preflight_needed(&cred, secs(1.0)));
        assert!(!cache.preflight_needed(&r, secs(1.0)));
        // Another method still needs a preflight.
        let del = Request::builder(O, T).method("DELETE").build().unwrap();
        assert!(cache.preflight_needed(&del, secs(1.0)));
        cache.clear(&r);
        assert!(cache.is_empty());
    }

    #[test]
    fn wildcards_only_without_credentials() {
        let r = Request::builder(O, T).method("PUT").header("X-A", "1").build().unwrap();
        let ok = ok_for(
            &r,
            &[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-methods", "*"),
                ("access-control-allow-headers", "*"),
            ],
        );
        let mut cache = PreflightCache::new(BrowserProfile::Chromium);
        cache.store(&r, &ok, secs(0.0));
        let other = Request::builder(O, T)
            .method("PATCH")
            .header("X-B", "1")
            .build()
            .unwrap();
        assert!(!cache.preflight_needed(&other, secs(1.0)));
        // `*` never covers Authorization.
        let auth = Request::builder(O, T)
            .method("PUT")
            .header("Authorization", "x")
            .build()
            .unwrap();
        assert_eq!(cache.lookup(&auth, secs(1.0)).headers_missing, ["authorization"]);

        // A credentialed preflight listing `*` stores it literally.
        let cred = Request::builder(O, T)
            .method("*")
            .header("*", "1")
            .credentials(CredentialsMode::Include)
            .build()
            .unwrap();
        let okc = ok_for(
            &cred,
            &[
                ("access-control-allow-origin", O),
                ("access-control-allow-credentials", "true"),
                ("access-control-allow-methods", "*"),
                ("access-control-allow-headers", "*"),
            ],
        );
        let mut cache = PreflightCache::new(BrowserProfile::Chromium);
        cache.store(&cred, &okc, secs(0.0));
        assert!(!cache.preflight_needed(&cred, secs(1.0)));
        let put = Request::builder(O, T)
            .method("PUT")
            .credentials(CredentialsMode::Include)
            .build()
            .unwrap();
        assert!(cache.preflight_needed(&put, secs(1.0)));
        let put_plain = Request::builder(O, T).method("PUT").build().unwrap();
        assert!(cache.preflight_needed(&put_plain, secs(1.0)));
    }

    #[test]
    fn refresh_and_flag() {
        let r = Request::builder(O, T)
            .method("POST")
            .use_cors_preflight(true)
            .build()
            .unwrap();
        let ok = ok_for(
            &r,
            &[("access-control-allow-origin", "*"), ("access-control-max-age", "10")],
        );
        let mut cache = PreflightCache::new(BrowserProfile::Chromium);
        cache.store(&r, &ok, secs(0.0));
        assert!(!cache.preflight_needed(&r, secs(5.0)));
        cache.store(&r, &ok, secs(8.0));
        assert_eq!(cache.len(), 1);
        assert!(!cache.preflight_needed(&r, secs(17.0)));
        assert!(cache.preflight_needed(&r, secs(18.0)));
        assert!(cache.explain(&r, secs(18.0)).explanation.contains("method `POST`"));
        let simple = Request::builder(O, T).build().unwrap();
        assert!(!cache.preflight_needed(&simple, secs(0.0)));
        assert_eq!(" Safari".trim().parse::<BrowserProfile>(), Ok(BrowserProfile::Safari));
        assert!("opera".parse::<BrowserProfile>().is_err());
    }
}
