//! Property tests of the engine's security invariants, over generated
//! policies and generated (mostly hostile) requests.
//!
//! Every allow/deny expectation is computed by a deliberately naive reference
//! written here from the spec (issue 2), by plain string operations on the
//! configured patterns — never by asking the engine.
//!
//! Invariants:
//! - (a) no `Access-Control-Allow-Origin` for an origin the reference denies
//!   (preflight answers, and `apply` on actual and non-CORS responses);
//! - (b) never `ACAO: *` together with `ACAC: true`;
//! - (c) `Vary` names `Origin` (or is `*`) on every response of a non-public
//!   policy;
//! - (d) a rejected preflight is 403 without any `access-control-*` header
//!   (debug off);
//! - (e) `Policy::allows_origin` agrees with the reference matcher;
//! - (f) `evaluate` / `preflight_response` / `apply` never panic, whatever
//!   the header bytes;
//! - (g) upstream `access-control-*` headers never survive `apply`;
//! - plus soundness of accepted preflights (nothing is granted that the
//!   policy does not list) and liveness: an actual request from an allowed
//!   origin is answered, and (h) a preflight a browser sends for what the
//!   policy allows (origin, method, header names) is answered 204 with
//!   exactly the headers the browser needs: an engine that refused every
//!   preflight would pass (a)-(g).

mod checks;
mod policies;
mod protection;
mod reference;
mod requests;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::Method;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::FileFailurePersistence;

use checks::{check_live, check_request, exercise, vary_names_origin};
use policies::{gen_policy, Gen};
use reference::{ref_allows, ref_allows_origin};
use requests::{allowed_preflight, gen_preflight, hv, origin_value, policy_and_requests, sanitize, token};

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

/// `cases` cases, with the failures proptest saves kept in
/// `tests/invariants.proptest-regressions` (re-run first on every run), where
/// they were before this file moved into `tests/invariants/`.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/invariants.proptest-regressions",
        ))),
        ..ProptestConfig::with_cases(cases)
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// (a), (b), (c), (d), (g), soundness and liveness.
    #[test]
    fn responses_respect_the_policy((g, reqs) in policy_and_requests()) {
        let p = g.build();
        prop_assert_eq!(p.is_public(), g.is_public());
        prop_assert_eq!(p.allows_credentials(), g.credentials);
        for r in &reqs {
            check_request(&g, &p, r)?;
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// Accepted preflights grant only what the policy lists (and (a)-(d)).
    #[test]
    fn preflights_grant_only_what_is_listed(
        (g, reqs) in gen_policy().prop_flat_map(|g| {
            let r = proptest::collection::vec(gen_preflight(&g), 1..=4);
            (Just(g), r)
        })
    ) {
        let p = g.build();
        for r in &reqs {
            check_request(&g, &p, r)?;
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// (h) Liveness: what the policy allows, a browser gets.
    #[test]
    fn allowed_preflights_are_answered_204(
        (g, reqs) in gen_policy().prop_flat_map(|g| {
            let r = proptest::collection::vec(allowed_preflight(&g), 1..=4);
            (Just(g), r)
        })
    ) {
        let p = g.build();
        for r in &reqs {
            check_live(&g, &p, r)?;
            check_request(&g, &p, r)?;
        }
    }
}

proptest! {
    #![proptest_config(config(2000))]

    /// (e) The engine's matcher agrees with the naive reference.
    #[test]
    fn matcher_agrees_with_reference(
        (g, origins) in gen_policy().prop_flat_map(|g| {
            let o = proptest::collection::vec(origin_value(&g), 1..=8);
            (Just(g), o)
        })
    ) {
        let p = g.build();
        for o in &origins {
            let s = String::from_utf8_lossy(o);
            prop_assert_eq!(
                p.allows_origin(&s),
                ref_allows_origin(&g, &s),
                "origin {:?} under {:?}", s, g.origins
            );
        }
    }
}

fn any_name() -> impl Strategy<Value = HeaderName> {
    prop_oneof![
        4 => select(vec![
            header::ORIGIN,
            header::ACCESS_CONTROL_REQUEST_METHOD,
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            corsair::ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK,
            header::VARY,
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
        ]),
        1 => "[a-z0-9-]{1,20}".prop_map(|n| HeaderName::from_bytes(n.as_bytes()).expect("a token")),
    ]
}

fn any_value() -> impl Strategy<Value = HeaderValue> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(sanitize),
        // Long values: a short random motif repeated (cheap to generate).
        (proptest::collection::vec(any::<u8>(), 1..8), 0usize..2_000).prop_map(|(motif, n)| sanitize(motif.repeat(n))),
    ]
    .prop_map(|b| hv(&b))
}

proptest! {
    #![proptest_config(config(1000))]

    /// (f) Nothing panics on arbitrary header bytes, and the invariants that
    /// need no reference still hold.
    #[test]
    fn arbitrary_bytes_never_panic(
        g in gen_policy(),
        method in prop_oneof![Just(Method::OPTIONS), token().prop_map(|t| Method::from_bytes(t.as_bytes()).expect("token"))],
        req in proptest::collection::vec((any_name(), any_value()), 0..8),
        resp in proptest::collection::vec((any_name(), any_value()), 0..4),
    ) {
        let p = g.build();
        let mut rh = HeaderMap::new();
        for (n, v) in req {
            rh.append(n, v);
        }
        let mut out = HeaderMap::new();
        for (n, v) in resp {
            out.append(n, v);
        }
        let d = p.evaluate(&method, &rh);
        exercise(&p, &d, &mut out);
        let origins: Vec<&[u8]> = rh.get_all(header::ORIGIN).iter().map(HeaderValue::as_bytes).collect();
        let responses = p.preflight_response(&d).map(|(_, h)| h).into_iter().chain(std::iter::once(out));
        for h in responses {
            if let Some(a) = h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
                if !g.is_public() {
                    prop_assert_eq!(origins.len(), 1);
                    let o = String::from_utf8_lossy(origins[0]);
                    prop_assert!(ref_allows(&g, &o), "ACAO for {o:?}");
                    prop_assert_eq!(a.as_bytes(), origins[0]);
                }
            }
            if !g.is_public() {
                prop_assert!(vary_names_origin(&h));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Fixed cases the generators may hit rarely
// ---------------------------------------------------------------------------

fn fixed() -> Gen {
    Gen {
        origins: vec![
            "https://app.example.com".into(),
            "https://*.example.co.uk:*".into(),
            "http://localhost:*".into(),
        ],
        methods: vec!["PUT".into()],
        headers: vec!["content-type".into()],
        expose: vec!["etag".into()],
        credentials: true,
        max_age: Some(600),
        private_network: false,
        insecure: false,
        debug: false,
    }
}

#[test]
fn reference_matcher_sanity() {
    let g = fixed();
    for (o, want) in [
        ("https://app.example.com", true),
        ("https://app.example.com:443", false),
        ("https://evilapp.example.com", false),
        ("https://app.example.com.evil.net", false),
        ("https://a.example.co.uk", true),
        ("https://a.b.example.co.uk:8443", true),
        ("https://example.co.uk", false),
        ("https://a.example.co.uk:443", false),
        ("https://a..example.co.uk", false),
        ("https://.example.co.uk", false),
        ("https://A.example.co.uk", false),
        ("https://a.example.co.uk.", false),
        ("http://localhost", true),
        ("http://localhost:3000", true),
        ("http://localhost:80", false),
        ("http://localhost:03000", false),
        ("null", false),
    ] {
        assert_eq!(ref_allows_origin(&g, o), want, "reference: {o}");
        assert_eq!(g.build().allows_origin(o), want, "engine: {o}");
    }
}

/// (g) for header names outside the seven the engine knows: the spec makes
/// the middleware "the single authority" over every `Access-Control-*`
/// response header of the inner service.
#[test]
fn unknown_access_control_headers_do_not_survive_apply() {
    let g = fixed();
    let p = g.build();
    let mut req = HeaderMap::new();
    req.insert(header::ORIGIN, HeaderValue::from_static("https://app.example.com"));
    let d = p.evaluate(&Method::GET, &req);
    let mut resp = HeaderMap::new();
    for n in [
        "access-control-allow-local-network",
        "access-control-request-method",
        "access-control-allow-foo",
    ] {
        resp.insert(HeaderName::from_static(n), HeaderValue::from_static("*"));
    }
    p.apply(&d, &mut resp);
    let left: Vec<&str> = resp
        .keys()
        .map(HeaderName::as_str)
        .filter(|k| k.starts_with("access-control-"))
        .filter(|k| {
            !matches!(
                *k,
                "access-control-allow-origin" | "access-control-allow-credentials" | "access-control-expose-headers"
            )
        })
        .collect();
    assert!(left.is_empty(), "upstream headers survived apply: {left:?}");
}
