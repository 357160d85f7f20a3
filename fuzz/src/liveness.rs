//! Preflight liveness: a preflight that a browser sends for a request the
//! policy allows (an allowed origin, an allowed method, allowed header
//! names) must be answered 204 with exactly the headers that let the browser
//! through. Without this, an engine that answered 403 to every preflight
//! would pass every other server-side check.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};

use crate::{cors_names, values, vary_names_origin};

/// A preflight as a browser sends it (Fetch §4.8 "CORS-preflight fetch",
/// steps 1-5): one `Origin`, `Access-Control-Request-Method` with the
/// normalized method, and, when there are unsafe names, one
/// `Access-Control-Request-Headers` line of lowercase, sorted, deduplicated
/// names joined by `,`.
#[derive(Debug, Clone)]
pub struct BrowserPreflight {
    /// The page's origin.
    pub origin: String,
    /// The request's method, normalized.
    pub method: String,
    /// The unsafe header names, in any case and order (the browser's
    /// lowercasing, sorting and joining is done here).
    pub names: Vec<String>,
    /// Whether it asks `Access-Control-Request-Private-Network: true`.
    pub private_network: bool,
    /// How many unrelated headers the browser adds around the CORS ones
    /// (browsers send about a dozen; beyond 16 the engine looks names up
    /// instead of scanning the map).
    pub filler: usize,
}

impl BrowserPreflight {
    /// The `Access-Control-Request-Headers` value, `None` without names.
    pub fn acrh(&self) -> Option<String> {
        let mut names: Vec<String> = self.names.iter().map(|n| n.to_ascii_lowercase()).collect();
        names.sort_unstable();
        names.dedup();
        (!names.is_empty()).then(|| names.join(","))
    }

    /// The request headers.
    pub fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        for i in 0..self.filler {
            if let Ok(n) = HeaderName::from_bytes(format!("x-filler-{i}").as_bytes()) {
                h.insert(n, HeaderValue::from_static("1"));
            }
        }
        h.insert(
            header::ORIGIN,
            HeaderValue::from_str(&self.origin).expect("a browser origin is a header value"),
        );
        h.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_str(&self.method).expect("a method is a header value"),
        );
        if let Some(acrh) = self.acrh() {
            h.insert(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                HeaderValue::from_str(&acrh).expect("names are header values"),
            );
        }
        if self.private_network {
            h.insert(
                corsair::ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK,
                HeaderValue::from_static("true"),
            );
        }
        h
    }
}

/// Asserts that the policy built from `c` answers `pf`, a preflight for
/// what `c` allows, with 204 and exactly the headers a browser needs to
/// pass Fetch §4.8 step 7: `Access-Control-Allow-Origin` (`*` for a public
/// policy, else the origin), `Access-Control-Allow-Credentials: true` with
/// credentials, the method, the requested names, the configured max-age,
/// Private Network Access when asked and allowed, and `Vary: Origin`. Both
/// ways of writing the answer are checked: into an empty map (the prebuilt
/// answers) and into a map that already holds a header (insertions).
pub fn check_allowed_preflight(p: &corsair::Policy, c: &corsair::PolicyConfig, pf: &BrowserPreflight) {
    let req = pf.headers();
    let d = p.evaluate(&Method::OPTIONS, &req);
    assert!(d.is_preflight(), "not classified as a preflight: {pf:?}");
    assert!(
        d.is_allowed(),
        "an allowed preflight was rejected ({:?}): {pf:?} under {c:?}",
        d.rejection()
    );
    let (status, fresh) = p.preflight_response(&d).expect("a preflight answer");
    let mut inserted = HeaderMap::new();
    inserted.insert(header::SERVER, HeaderValue::from_static("test"));
    let status2 = p.write_preflight(&d, &mut inserted).expect("a preflight answer");
    for (what, status, h) in [("prebuilt", status, &fresh), ("inserted", status2, &inserted)] {
        assert_eq!(status, StatusCode::NO_CONTENT, "{what}: {pf:?}");
        let public = c.allow_origins.iter().any(|o| o == "*");
        let want_origin = if public { "*" } else { pf.origin.as_str() };
        assert_eq!(
            values(h, &header::ACCESS_CONTROL_ALLOW_ORIGIN),
            [want_origin.as_bytes()],
            "{what}: ACAO for {pf:?}"
        );
        let acac = values(h, &header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
        if c.allow_credentials {
            assert_eq!(acac, [&b"true"[..]], "{what}: ACAC");
        } else {
            assert!(acac.is_empty(), "{what}: ACAC without credentials");
        }
        assert_eq!(
            values(h, &header::ACCESS_CONTROL_ALLOW_METHODS),
            [pf.method.as_bytes()],
            "{what}: ACAM for {pf:?}"
        );
        let acah = values(h, &header::ACCESS_CONTROL_ALLOW_HEADERS);
        match pf.acrh() {
            Some(line) => assert_eq!(acah, [line.as_bytes()], "{what}: ACAH for {pf:?}"),
            None => assert!(acah.is_empty(), "{what}: ACAH without ACRH"),
        }
        let max_age = c.max_age.map(|n| n.to_string());
        assert_eq!(
            values(h, &header::ACCESS_CONTROL_MAX_AGE),
            max_age.iter().map(|s| s.as_bytes()).collect::<Vec<_>>(),
            "{what}: max-age"
        );
        let pna = values(h, &corsair::ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK);
        if c.allow_private_network && pf.private_network {
            assert_eq!(pna, [&b"true"[..]], "{what}: private network");
        } else {
            assert!(pna.is_empty(), "{what}: private network not asked or not allowed");
        }
        assert!(vary_names_origin(h), "{what}: Vary lacks Origin");
        assert!(
            !cors_names(h).contains(&"access-control-expose-headers".to_owned()),
            "{what}: Expose-Headers on a preflight"
        );
    }
    assert_eq!(
        inserted.get(header::SERVER).map(HeaderValue::as_bytes),
        Some(&b"test"[..])
    );
}
