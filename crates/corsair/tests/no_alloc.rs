//! `Policy::evaluate` performs no heap allocation (issue 2, "Speed"), checked
//! with a counting global allocator.
//!
//! Request values: a real server (hyper) parses headers out of one shared
//! read buffer, so each `HeaderValue` is a slice of a reference-counted
//! `Bytes`, and cloning one (which `evaluate` does to keep the origin and the
//! preflight's method and headers in the `Decision`) only bumps a refcount.
//! `HeaderValue::from_static` behaves the same way (a static `Bytes`, free to
//! clone), so most requests here use it. A value made with
//! `HeaderValue::from_bytes`/`from_str` is different: it owns a plain `Vec`,
//! and its first clone promotes it to a shared buffer — one allocation that
//! belongs to the test's construction, not to the engine. The `from_bytes`
//! cases therefore clone each value once before measuring, which leaves it in
//! the same shared state as a value parsed by hyper.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

mod common;

use common::request;
use corsair::{Policy, PolicyConfig, RequestKind};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::Method;

/// Counts allocations made by the current thread while it is measuring.
struct Counting;

thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    let _ = MEASURING.try_with(|m| {
        if m.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every call is forwarded unchanged to `System`.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f`, returning its result and the number of heap allocations it made
/// on this thread. The result is dropped by the caller, outside the window.
fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    ALLOCATIONS.with(|n| n.set(0));
    MEASURING.with(|m| m.set(true));
    let r = std::hint::black_box(f());
    MEASURING.with(|m| m.set(false));
    (r, ALLOCATIONS.with(Cell::get))
}

#[test]
fn the_counter_counts() {
    let (v, n) = allocations(|| vec![1u8; 16]);
    assert_eq!(v.len(), 16);
    assert_eq!(n, 1);
    let (_, n) = allocations(|| HeaderValue::from_static("x").clone());
    assert_eq!(n, 0, "cloning a static header value is free");
    let v = HeaderValue::from_bytes(b"https://a.example.com").unwrap();
    let (_, n) = allocations(|| v.clone());
    assert_eq!(n, 1, "the first clone of a from_bytes value promotes it");
    let (_, n) = allocations(|| v.clone());
    assert_eq!(n, 0, "later clones are refcount bumps");
}

fn policy(exact: usize) -> Policy {
    let mut origins: Vec<String> = (0..exact).map(|i| format!("https://o{i}.example.com")).collect();
    origins.push("https://*.tenant.example.org".into());
    origins.push("http://localhost:*".into());
    PolicyConfig::new()
        .allow_origins(origins)
        .allow_methods(["PUT", "DELETE", "PATCH"])
        .allow_headers(["content-type", "x-request-id", "authorization"])
        .expose_headers(["x-request-id", "etag"])
        .allow_credentials(true)
        .max_age(600)
        .allow_private_network(true)
        .build()
        .expect("a sound policy")
}

/// The same request with values built by `from_bytes`, each cloned once so
/// it is in the shared state a server's parser leaves it in (see the module
/// documentation).
fn request_from_bytes(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        let v = HeaderValue::from_bytes(v.as_bytes()).unwrap();
        drop(v.clone());
        h.append(HeaderName::from_static(k), v);
    }
    h
}

struct Case {
    name: &'static str,
    method: Method,
    pairs: &'static [(&'static str, &'static str)],
    kind: RequestKind,
    outcome: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "non-CORS",
        method: Method::GET,
        pairs: &[],
        kind: RequestKind::NotCors,
        outcome: "not_cors",
    },
    Case {
        name: "actual allowed, exact",
        method: Method::POST,
        pairs: &[("origin", "https://o0.example.com")],
        kind: RequestKind::Actual,
        outcome: "allowed",
    },
    Case {
        name: "actual allowed, subdomain pattern",
        method: Method::GET,
        pairs: &[("origin", "https://eu.west.tenant.example.org")],
        kind: RequestKind::Actual,
        outcome: "allowed",
    },
    Case {
        name: "actual allowed, any port",
        method: Method::GET,
        pairs: &[("origin", "http://localhost:3000")],
        kind: RequestKind::Actual,
        outcome: "allowed",
    },
    Case {
        name: "actual rejected, unknown origin",
        method: Method::GET,
        pairs: &[("origin", "https://evil.example")],
        kind: RequestKind::Actual,
        outcome: "origin_not_allowed",
    },
    Case {
        name: "actual rejected, look-alike of a pattern",
        method: Method::GET,
        pairs: &[("origin", "https://tenant.example.org.evil.net")],
        kind: RequestKind::Actual,
        outcome: "origin_not_allowed",
    },
    Case {
        name: "actual rejected, null",
        method: Method::GET,
        pairs: &[("origin", "null")],
        kind: RequestKind::Actual,
        outcome: "null_origin",
    },
    Case {
        name: "actual rejected, several origins",
        method: Method::GET,
        pairs: &[
            ("origin", "https://o0.example.com"),
            ("origin", "https://o0.example.com"),
        ],
        kind: RequestKind::Actual,
        outcome: "multiple_origins",
    },
    Case {
        name: "preflight allowed, single ACRH line",
        method: Method::OPTIONS,
        pairs: &[
            ("origin", "https://o0.example.com"),
            ("access-control-request-method", "PUT"),
            (
                "access-control-request-headers",
                "authorization,content-type,x-request-id",
            ),
            ("access-control-request-private-network", "true"),
        ],
        kind: RequestKind::Preflight,
        outcome: "allowed",
    },
    Case {
        name: "preflight allowed, subdomain pattern, mixed-case ACRH with whitespace",
        method: Method::OPTIONS,
        pairs: &[
            ("origin", "https://a.tenant.example.org"),
            ("access-control-request-method", "PATCH"),
            ("access-control-request-headers", "Content-Type , X-Request-Id"),
        ],
        kind: RequestKind::Preflight,
        outcome: "allowed",
    },
    Case {
        name: "preflight allowed, no ACRH",
        method: Method::OPTIONS,
        pairs: &[
            ("origin", "https://o0.example.com"),
            ("access-control-request-method", "DELETE"),
        ],
        kind: RequestKind::Preflight,
        outcome: "allowed",
    },
    Case {
        name: "preflight rejected, origin",
        method: Method::OPTIONS,
        pairs: &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type"),
        ],
        kind: RequestKind::Preflight,
        outcome: "origin_not_allowed",
    },
    Case {
        name: "preflight rejected, method",
        method: Method::OPTIONS,
        pairs: &[
            ("origin", "https://o0.example.com"),
            ("access-control-request-method", "PURGE"),
        ],
        kind: RequestKind::Preflight,
        outcome: "method_not_allowed",
    },
    Case {
        name: "preflight rejected, method list",
        method: Method::OPTIONS,
        pairs: &[
            ("origin", "https://o0.example.com"),
            ("access-control-request-method", "PUT, DELETE"),
        ],
        kind: RequestKind::Preflight,
        outcome: "invalid_method",
    },
    Case {
        name: "preflight rejected, header",
        method: Method::OPTIONS,
        pairs: &[
            ("origin", "https://o0.example.com"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type,x-secret"),
        ],
        kind: RequestKind::Preflight,
        outcome: "header_not_allowed",
    },
    Case {
        name: "preflight rejected, malformed headers",
        method: Method::OPTIONS,
        pairs: &[
            ("origin", "https://o0.example.com"),
            ("access-control-request-method", "PUT"),
            (
                "access-control-request-headers",
                ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,",
            ),
        ],
        kind: RequestKind::Preflight,
        outcome: "invalid_headers",
    },
];

fn assert_no_allocation(policy: &Policy, label: &str, case: &Case, req: &HeaderMap) {
    let (d, n) = allocations(|| policy.evaluate(&case.method, req));
    assert_eq!(d.kind(), case.kind, "{label}: {}", case.name);
    assert_eq!(d.outcome(), case.outcome, "{label}: {}", case.name);
    assert_eq!(n, 0, "{label}: {}: evaluate made {n} heap allocation(s)", case.name);
    drop(d);
}

fn check_all(exact: usize) {
    let p = policy(exact);
    let label = format!("{exact} exact origin(s)");
    for case in CASES {
        let req = request(case.pairs);
        // Twice: the first call must not be special (no lazy initialisation).
        assert_no_allocation(&p, &label, case, &req);
        assert_no_allocation(&p, &label, case, &req);
        let req = request_from_bytes(case.pairs);
        assert_no_allocation(&p, &format!("{label}, from_bytes values"), case, &req);
    }
}

#[test]
fn evaluate_does_not_allocate_with_one_origin() {
    check_all(1);
}

#[test]
fn evaluate_does_not_allocate_with_ten_thousand_origins() {
    check_all(10_000);
    // The last of the 10,000 and one in the middle, too.
    let p = policy(10_000);
    for origin in ["https://o9999.example.com", "https://o5000.example.com"] {
        let mut req = request(&[("access-control-request-method", "PUT")]);
        req.insert(header::ORIGIN, HeaderValue::from_static(origin));
        let (d, n) = allocations(|| p.evaluate(&Method::OPTIONS, &req));
        assert!(d.is_allowed(), "{origin}");
        assert_eq!(n, 0, "{origin}: {n} allocation(s)");
    }
}

/// A public policy (`*`) takes a different path through `evaluate`.
#[test]
fn evaluate_does_not_allocate_for_a_public_policy() {
    let p = PolicyConfig::new()
        .allow_origins(["*"])
        .allow_methods(["*"])
        .allow_headers(["*"])
        .build()
        .unwrap();
    for (method, pairs, outcome) in [
        (Method::GET, &[][..], "not_cors"),
        (Method::GET, &[("origin", "https://anyone.example")][..], "allowed"),
        (
            Method::OPTIONS,
            &[
                ("origin", "https://anyone.example"),
                ("access-control-request-method", "PATCH"),
                ("access-control-request-headers", "x-anything,content-type"),
            ][..],
            "allowed",
        ),
        (
            Method::OPTIONS,
            &[
                ("origin", "https://anyone.example"),
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "authorization"),
            ][..],
            "header_not_allowed",
        ),
    ] {
        let req = request(pairs);
        let (d, n) = allocations(|| p.evaluate(&method, &req));
        assert_eq!(d.outcome(), outcome, "{pairs:?}");
        assert_eq!(n, 0, "{pairs:?}: {n} allocation(s)");
    }
}

/// `CrossOriginProtection::check` allocates nothing either, refusals
/// included (the rejection keeps refcounted clones of the request's values).
#[test]
fn cross_origin_protection_does_not_allocate() {
    use corsair::cross_origin::CrossOriginProtection;

    let protection = CrossOriginProtection::new().exempt_paths(["/oauth/callback"]).unwrap();
    for exact in [1, 10_000] {
        let p = policy(exact);
        for (method, path, pairs, outcome) in [
            (Method::GET, "/", &[("sec-fetch-site", "cross-site")][..], "safe_method"),
            (
                Method::POST,
                "/",
                &[("sec-fetch-site", "same-origin")][..],
                "same_origin",
            ),
            (Method::POST, "/", &[][..], "not_browser"),
            (
                Method::POST,
                "/",
                &[("sec-fetch-site", "cross-site"), ("origin", "https://o0.example.com")][..],
                "trusted_origin",
            ),
            (
                Method::POST,
                "/",
                &[("sec-fetch-site", "cross-site"), ("origin", "https://evil.example")][..],
                "cross_origin_request",
            ),
            (
                Method::POST,
                "/oauth/callback",
                &[("sec-fetch-site", "cross-site"), ("origin", "https://evil.example")][..],
                "exempt_path",
            ),
            (
                Method::PUT,
                "/",
                &[("origin", "https://api.example.com")][..],
                "origin_matches_host",
            ),
            (
                Method::PUT,
                "/",
                &[("origin", "https://evil.example")][..],
                "origin_host_mismatch",
            ),
        ] {
            let req = request(pairs);
            let (r, n) = allocations(|| protection.check(&p, &method, path, Some(b"api.example.com".as_slice()), &req));
            let got = match &r {
                Ok(pass) => pass.code(),
                Err(e) => e.code(),
            };
            assert_eq!(got, outcome, "{exact}: {pairs:?}");
            assert_eq!(n, 0, "{exact}: {pairs:?}: {n} allocation(s)");
            drop(r);
        }
    }
}
