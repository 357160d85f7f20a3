//! The engine's per-request cost: `evaluate` plus `preflight_response` (for
//! preflights) or `apply` onto a fresh, small response `HeaderMap` (for
//! everything else) — the whole work corsair adds to a request.
//!
//! The response map of `apply` is built outside the timed section
//! (`iter_batched_ref`): the inner service creates it anyway. The preflight
//! answer's map is built by `preflight_response`, so it is timed.
//!
//! Run: `cargo bench -p corsair --bench engine -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

#[path = "../tests/common/mod.rs"]
mod common;

use common::request;
use corsair::{Policy, PolicyConfig};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::header::{self, HeaderMap, HeaderValue};
use http::Method;

const APP: &str = "https://app.example.com";

fn policy(exact_origins: usize) -> Policy {
    let mut origins = vec![APP.to_owned()];
    origins.extend((1..exact_origins).map(|i| format!("https://o{i}.example.com")));
    origins.push("https://*.tenant.example.org".to_owned());
    PolicyConfig::new()
        .allow_origins(origins)
        .allow_methods(["PUT", "DELETE", "PATCH"])
        .allow_headers(["content-type", "x-request-id", "authorization"])
        .expose_headers(["x-request-id", "etag"])
        .allow_credentials(true)
        .max_age(600)
        .build()
        .expect("a sound policy")
}

/// What an inner service typically returns.
fn response() -> HeaderMap {
    let mut h = HeaderMap::with_capacity(8);
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h
}

/// `evaluate` + `apply` onto a fresh response.
fn bench_actual(c: &mut Criterion, group: &str, name: &str, p: &Policy, method: Method, req: &HeaderMap) {
    // Sanity: the benchmark measures what its name says.
    assert!(
        p.preflight_response(&p.evaluate(&method, req)).is_none(),
        "{group}/{name}"
    );
    c.benchmark_group(group).bench_function(name, |b| {
        b.iter_batched_ref(
            response,
            |resp| {
                let d = p.evaluate(black_box(&method), black_box(req));
                p.apply(&d, resp);
            },
            BatchSize::SmallInput,
        )
    });
}

/// `evaluate` + `preflight_response`.
fn bench_preflight(c: &mut Criterion, group: &str, name: &str, p: &Policy, req: &HeaderMap) {
    let method = Method::OPTIONS;
    assert!(
        p.preflight_response(&p.evaluate(&method, req)).is_some(),
        "{group}/{name}"
    );
    c.benchmark_group(group).bench_function(name, |b| {
        b.iter(|| {
            let d = p.evaluate(black_box(&method), black_box(req));
            black_box(p.preflight_response(&d))
        })
    });
}

fn expect(p: &Policy, method: &Method, req: &HeaderMap, outcome: &str) {
    assert_eq!(p.evaluate(method, req).outcome(), outcome, "{req:?}");
}

fn kinds(c: &mut Criterion) {
    let p = policy(1);

    let req = request(&[]);
    expect(&p, &Method::GET, &req, "not_cors");
    bench_actual(c, "non_cors", "get", &p, Method::GET, &req);

    let req = request(&[("origin", APP)]);
    expect(&p, &Method::POST, &req, "allowed");
    bench_actual(c, "actual_allowed", "exact", &p, Method::POST, &req);
    let req = request(&[("origin", "https://eu.west.tenant.example.org")]);
    expect(&p, &Method::POST, &req, "allowed");
    bench_actual(c, "actual_allowed", "subdomain_pattern", &p, Method::POST, &req);

    let req = request(&[("origin", "https://evil.example")]);
    expect(&p, &Method::POST, &req, "origin_not_allowed");
    bench_actual(c, "actual_rejected", "unknown_origin", &p, Method::POST, &req);
    let req = request(&[("origin", "https://tenant.example.org.evil.net")]);
    expect(&p, &Method::POST, &req, "origin_not_allowed");
    bench_actual(c, "actual_rejected", "pattern_look_alike", &p, Method::POST, &req);

    let req = request(&[
        ("origin", APP),
        ("access-control-request-method", "PUT"),
        (
            "access-control-request-headers",
            "authorization,content-type,x-request-id",
        ),
    ]);
    expect(&p, &Method::OPTIONS, &req, "allowed");
    bench_preflight(c, "preflight_allowed", "three_headers", &p, &req);
    let req = request(&[("origin", APP), ("access-control-request-method", "DELETE")]);
    expect(&p, &Method::OPTIONS, &req, "allowed");
    bench_preflight(c, "preflight_allowed", "no_headers", &p, &req);

    let req = request(&[
        ("origin", "https://evil.example"),
        ("access-control-request-method", "PUT"),
        ("access-control-request-headers", "content-type"),
    ]);
    expect(&p, &Method::OPTIONS, &req, "origin_not_allowed");
    bench_preflight(c, "preflight_rejected", "origin", &p, &req);
    let req = request(&[
        ("origin", APP),
        ("access-control-request-method", "PUT"),
        ("access-control-request-headers", "content-type,x-secret"),
    ]);
    expect(&p, &Method::OPTIONS, &req, "header_not_allowed");
    bench_preflight(c, "preflight_rejected", "header", &p, &req);

    // 60 KB of commas in Access-Control-Request-Headers.
    let commas: &'static str = Box::leak(",".repeat(60 * 1024).into_boxed_str());
    let req = request(&[
        ("origin", APP),
        ("access-control-request-method", "PUT"),
        ("access-control-request-headers", commas),
    ]);
    expect(&p, &Method::OPTIONS, &req, "invalid_headers");
    bench_preflight(c, "adversarial_acrh", "60KB_commas", &p, &req);
    // The same with a valid name first (the parser walks into the run).
    let named: &'static str = Box::leak(format!("content-type{commas}").into_boxed_str());
    let req = request(&[
        ("origin", APP),
        ("access-control-request-method", "PUT"),
        ("access-control-request-headers", named),
    ]);
    expect(&p, &Method::OPTIONS, &req, "invalid_headers");
    bench_preflight(c, "adversarial_acrh", "name_then_60KB_commas", &p, &req);
}

fn scaling(c: &mut Criterion) {
    for n in [1usize, 100, 10_000] {
        let p = policy(n);
        // The last exact origin listed (all are equal to a hash set anyway).
        let last: &'static str = if n == 1 {
            APP
        } else {
            Box::leak(format!("https://o{}.example.com", n - 1).into_boxed_str())
        };
        let req = request(&[("origin", last)]);
        expect(&p, &Method::GET, &req, "allowed");
        bench_actual(c, "origins", &format!("exact_{n}"), &p, Method::GET, &req);
        let req = request(&[("origin", "https://evil.example")]);
        expect(&p, &Method::GET, &req, "origin_not_allowed");
        bench_actual(c, "origins", &format!("rejected_{n}"), &p, Method::GET, &req);
    }
    let p = policy(10_000);
    let req = request(&[("origin", "https://a.b.tenant.example.org")]);
    expect(&p, &Method::GET, &req, "allowed");
    bench_actual(c, "origins", "subdomain_pattern_among_10000", &p, Method::GET, &req);
    let req = request(&[
        ("origin", "https://o9999.example.com"),
        ("access-control-request-method", "PATCH"),
        ("access-control-request-headers", "content-type"),
    ]);
    expect(&p, &Method::OPTIONS, &req, "allowed");
    bench_preflight(c, "origins", "preflight_exact_10000", &p, &req);
}

criterion_group!(benches, kinds, scaling);
criterion_main!(benches);
