//! The preflight cache against the Fetch Standard's vectors and the
//! browsers' caps.

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

/// Fetch §4.9: an entry is for the request's current URL, which the URL
/// parser serializes: two spellings of one URL share the entries.
#[test]
fn entries_key_on_the_parsed_url() {
    let spelled = |url: &str| {
        Request::builder("https://app.example", url)
            .method("PUT")
            .build()
            .unwrap()
    };
    let mut cache = PreflightCache::new(BrowserProfile::Chromium);
    let first = spelled("https://API.example:443/r");
    let ok = ok_for(
        &first,
        &[
            ("access-control-allow-origin", "https://app.example"),
            ("access-control-allow-methods", "PUT"),
        ],
    );
    assert!(cache.store(&first, &ok, Duration::ZERO).is_some());
    assert!(!cache.preflight_needed(&spelled("https://api.example/r"), Duration::from_secs(1)));
    assert!(cache.preflight_needed(&spelled("https://api.example/r2"), Duration::from_secs(1)));
}
