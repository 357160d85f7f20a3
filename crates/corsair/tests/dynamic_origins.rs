//! `DynamicOrigins`: validated exactly as `allow_origins`, served by the
//! policies that use it at once, and consistent while requests run.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use corsair::{ConfigErrorKind, DynamicOrigins, Policy, PolicyConfig};
use http::{HeaderMap, HeaderValue, Method};

fn allowed(p: &Policy, origin: &str) -> bool {
    let mut h = HeaderMap::new();
    h.insert("origin", HeaderValue::from_str(origin).expect("origin"));
    p.evaluate(&Method::GET, &h).is_allowed()
}

/// Every entry gets the verdict an `allow_origins` entry gets: the same
/// kind of error, or acceptance.
#[test]
fn entries_are_validated_as_configured_origins_are() {
    for raw in [
        "https://app.example.com",
        "https://*.tenant.example",
        "http://localhost:*",
        "http://127.0.0.1:8080",
        "chrome-extension://abcdefghijklmnop",
        "https://*.example.co.uk:*",
        // refused
        "http://app.example.com",
        "http://*.example.com",
        "null",
        "file:///etc",
        "https://app.example.com/",
        "https://App.example.com",
        "https://app.example.com:443",
        "https://*.github.io",
        "https://*.com",
        "https://foo*.example.com",
        "https://127.1",
        "https://bücher.de",
        "",
        " https://a.example",
    ] {
        let dynamic = DynamicOrigins::new().insert(raw).err().map(|e| e.kind);
        let configured = PolicyConfig::new()
            .allow_origins([raw])
            .build()
            .err()
            .map(|e| e.iter().next().expect("an error").kind);
        assert_eq!(dynamic, configured, "{raw:?}");
    }
    // The insecure-origin opt-in, as allow_insecure_origins.
    let set = DynamicOrigins::allowing_insecure_origins();
    assert_eq!(set.insert("http://app.example.com"), Ok(true));
    assert_eq!(
        set.insert("https://*.github.io").unwrap_err().kind,
        ConfigErrorKind::PublicSuffixPattern
    );
    // `*` is not an origin a set can hold.
    let e = DynamicOrigins::new().insert("*").unwrap_err();
    assert_eq!(
        (e.kind, e.key.as_str()),
        (ConfigErrorKind::WildcardNotAlone, "dynamic_origins")
    );
    assert_eq!(e.value.as_deref(), Some("*"));
}

#[test]
fn insert_remove_and_list() {
    let set = DynamicOrigins::new();
    assert!(set.is_empty());
    assert_eq!(set.insert("https://a.example"), Ok(true));
    assert_eq!(set.insert("https://a.example"), Ok(false));
    assert_eq!(set.insert("https://*.b.example"), Ok(true));
    assert_eq!(set.insert("http://localhost:*"), Ok(true));
    assert_eq!(set.insert("https://*.c.example:8443"), Ok(true));
    assert_eq!(set.len(), 4);
    assert_eq!(
        set.to_vec(),
        [
            "http://localhost:*",
            "https://*.b.example",
            "https://*.c.example:8443",
            "https://a.example"
        ]
    );
    assert!(set.contains("https://*.b.example"));
    assert!(!set.contains("https://x.b.example"));
    assert!(set.matches("https://x.b.example"));
    assert!(set.matches("https://y.x.b.example"));
    assert!(!set.matches("https://b.example"));
    assert!(set.matches("https://x.c.example:8443"));
    assert!(!set.matches("https://x.c.example"));
    assert!(set.matches("http://localhost:3000"));
    assert!(set.matches("http://localhost"));
    assert!(!set.matches("https://A.example"));

    assert!(set.remove("https://*.b.example"));
    assert!(!set.remove("https://*.b.example"));
    assert!(!set.matches("https://x.b.example"));
    assert!(set.remove("http://localhost:*"));
    assert!(!set.matches("http://localhost:3000"));
    assert!(set.remove("https://a.example"));
    assert!(!set.remove("not an origin"));
    assert_eq!(set.to_vec(), ["https://*.c.example:8443"]);
    set.clear();
    assert!(set.is_empty());
}

#[test]
fn bulk_updates_are_all_or_nothing() {
    let set = DynamicOrigins::new();
    set.insert("https://keep.example").unwrap();
    let errs = set
        .extend([
            "https://a.example",
            "http://insecure.example",
            "https://b.example/",
            "https://c.example",
        ])
        .unwrap_err();
    let kinds: Vec<(ConfigErrorKind, Option<&str>)> = errs.iter().map(|e| (e.kind, e.value.as_deref())).collect();
    assert_eq!(
        kinds,
        [
            (ConfigErrorKind::InsecureOrigin, Some("http://insecure.example")),
            (ConfigErrorKind::InvalidOrigin, Some("https://b.example/")),
        ]
    );
    assert_eq!(set.to_vec(), ["https://keep.example"], "nothing was added");
    assert_eq!(set.extend(["https://a.example", "https://keep.example"]), Ok(1));
    assert!(set.replace_all(["https://x.example", "null"]).is_err());
    assert_eq!(set.to_vec(), ["https://a.example", "https://keep.example"]);
    set.replace_all(["https://x.example", "https://*.y.example"]).unwrap();
    assert_eq!(set.to_vec(), ["https://*.y.example", "https://x.example"]);
}

#[test]
fn policies_serve_the_set_as_it_is_now() {
    let tenants = DynamicOrigins::new();
    let p = PolicyConfig::new()
        .allow_origins(["https://admin.example.com"])
        .allow_methods(["PUT"])
        .allow_credentials(true)
        .build_with_dynamic_origins(&tenants)
        .unwrap();
    assert!(allowed(&p, "https://admin.example.com"));
    assert!(!allowed(&p, "https://shop.tenant.example"));
    tenants.insert("https://shop.tenant.example").unwrap();
    assert!(allowed(&p, "https://shop.tenant.example"));
    assert!(p.allows_origin("https://shop.tenant.example"));
    // A clone of the policy shares the set.
    let q = p.clone();
    tenants.remove("https://shop.tenant.example");
    assert!(!allowed(&q, "https://shop.tenant.example"));
    // `null` is never allowed, whatever the set holds.
    assert!(!allowed(&p, "null"));
    assert_eq!(p.dynamic_origins(), Some(&tenants));

    // The preflight answer echoes a dynamic origin like a configured one.
    tenants.insert("https://*.tenant.example").unwrap();
    let mut h = HeaderMap::new();
    h.insert("origin", HeaderValue::from_static("https://eu.tenant.example"));
    h.insert("access-control-request-method", HeaderValue::from_static("PUT"));
    let d = p.evaluate(&Method::OPTIONS, &h);
    let (status, resp) = p.preflight_response(&d).unwrap();
    assert_eq!(status, 204);
    assert_eq!(resp["access-control-allow-origin"], "https://eu.tenant.example");
    assert_eq!(resp["access-control-allow-credentials"], "true");
}

#[test]
fn building_with_a_set_checks_what_it_must() {
    let set = DynamicOrigins::new();
    // No static origin is needed.
    assert!(PolicyConfig::new().build_with_dynamic_origins(&set).is_ok());
    assert_eq!(
        PolicyConfig::new().build().unwrap_err().iter().next().unwrap().kind,
        ConfigErrorKind::NoOrigins
    );
    // `*` and a dynamic set make no sense together.
    let e = PolicyConfig::new()
        .allow_origins(["*"])
        .build_with_dynamic_origins(&set)
        .unwrap_err();
    assert_eq!(e.iter().next().unwrap().kind, ConfigErrorKind::WildcardNotAlone);
    // A set that accepts insecure origins needs the policy's opt-in.
    let insecure = DynamicOrigins::allowing_insecure_origins();
    let e = PolicyConfig::new().build_with_dynamic_origins(&insecure).unwrap_err();
    let e = e.iter().next().unwrap();
    assert_eq!(
        (e.kind, e.key.as_str()),
        (ConfigErrorKind::InsecureOrigin, "allow_insecure_origins")
    );
    assert!(PolicyConfig::new()
        .allow_insecure_origins(true)
        .build_with_dynamic_origins(&insecure)
        .is_ok());
}

/// Readers evaluate requests on four threads while a writer adds origins
/// one by one (publishing how many it has added) and churns another: an
/// origin added before a reader looked is always allowed, one never added
/// never is, and the static origin never flickers.
#[test]
fn updates_while_requests_run() {
    const N: usize = 400;
    let set = DynamicOrigins::new();
    let p = Arc::new(
        PolicyConfig::new()
            .allow_origins(["https://static.example"])
            .build_with_dynamic_origins(&set)
            .unwrap(),
    );
    let origins: Arc<Vec<String>> = Arc::new((0..N).map(|i| format!("https://t{i}.tenant.example")).collect());
    let added = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|r| {
            let (p, origins, added, done) = (p.clone(), origins.clone(), added.clone(), done.clone());
            thread::spawn(move || {
                let mut checks = 0usize;
                let mut i = r;
                while !done.load(Ordering::Acquire) || checks < 1000 {
                    let seen = added.load(Ordering::Acquire);
                    if seen > 0 {
                        let o = &origins[i % seen];
                        assert!(allowed(&p, o), "{o} was added before this read");
                    }
                    assert!(allowed(&p, "https://static.example"));
                    assert!(!allowed(&p, "https://never.tenant.example"));
                    // The churned origin may be in or out; asking must not fail.
                    let _ = allowed(&p, "https://churn.tenant.example");
                    checks += 1;
                    i = i.wrapping_mul(31).wrapping_add(7);
                }
                checks
            })
        })
        .collect();
    for (i, o) in origins.iter().enumerate() {
        set.insert(o).unwrap();
        added.store(i + 1, Ordering::Release);
        if i % 2 == 0 {
            set.insert("https://churn.tenant.example").unwrap();
        } else {
            set.remove("https://churn.tenant.example");
        }
    }
    done.store(true, Ordering::Release);
    for r in readers {
        assert!(r.join().expect("reader") >= 1000);
    }
    assert_eq!(set.len(), N);
}

/// Concurrent writers lose no update (one writer at a time).
#[test]
fn concurrent_writers_lose_nothing() {
    let set = DynamicOrigins::new();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let set = set.clone();
            thread::spawn(move || {
                for i in 0..100 {
                    set.insert(&format!("https://w{w}-{i}.example")).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    assert_eq!(set.len(), 400);
}
