//! The checks: what must hold of every response, and of accepted
//! preflights.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use proptest::prelude::*;

use corsair::{Decision, Policy, RequestKind};

use crate::policies::Gen;
use crate::reference::{ref_acrh_names, ref_allows, ref_header_allowed, ref_method_allowed};
use crate::requests::Req;

pub(crate) fn values<'a>(h: &'a HeaderMap, n: &str) -> Vec<&'a [u8]> {
    h.get_all(n).iter().map(HeaderValue::as_bytes).collect()
}

pub(crate) fn cors_headers(h: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = h
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("access-control-"))
        .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    v.sort();
    v
}

pub(crate) fn vary_names_origin(h: &HeaderMap) -> bool {
    h.get_all(header::VARY).iter().any(|v| {
        v.as_bytes().split(|&b| b == b',').any(|item| {
            let item = item.trim_ascii();
            item == b"*" || item.eq_ignore_ascii_case(b"origin")
        })
    })
}

/// (a), (b), (c): what must hold of every response corsair shapes.
pub(crate) fn check_response(g: &Gen, r: &Req, h: &HeaderMap, what: &str) -> Result<(), TestCaseError> {
    let acao = values(h, "access-control-allow-origin");
    let acac = values(h, "access-control-allow-credentials");
    prop_assert!(acao.len() <= 1, "{what}: several ACAO: {h:?}");
    prop_assert!(acac.len() <= 1, "{what}: several ACAC: {h:?}");
    if let Some(&a) = acao.first() {
        if g.is_public() {
            prop_assert_eq!(a, b"*", "{}: a public policy answers `*`", what);
        } else {
            let origin = r.origin();
            prop_assert!(
                origin.is_some(),
                "{what}: ACAO without exactly one Origin: {r:?} -> {h:?}"
            );
            let origin = origin.unwrap_or_default();
            prop_assert!(
                ref_allows(g, &origin),
                "{what}: ACAO for an origin the reference denies: {origin:?} under {:?} -> {h:?}",
                g.origins
            );
            prop_assert_eq!(a, origin.as_bytes(), "{}: ACAO is not the request's origin", what);
        }
    }
    // (b)
    prop_assert!(
        !(acao.first() == Some(&&b"*"[..]) && acac.first() == Some(&&b"true"[..])),
        "{what}: `*` with credentials: {h:?}"
    );
    if let Some(&c) = acac.first() {
        prop_assert_eq!(c, b"true");
        prop_assert!(g.credentials, "{what}: ACAC from a policy without credentials");
        prop_assert!(!acao.is_empty(), "{what}: ACAC without ACAO");
    }
    // (c)
    if !g.is_public() {
        prop_assert!(vary_names_origin(h), "{what}: no `Vary: Origin`: {r:?} -> {h:?}");
    }
    Ok(())
}

/// (a)-(d) and (g) for one request under one policy.
pub(crate) fn check_request(g: &Gen, p: &Policy, r: &Req) -> Result<(), TestCaseError> {
    let req = r.headers();
    let d = p.evaluate(&r.method, &req);
    let is_preflight = r.method == Method::OPTIONS && !r.origins.is_empty() && !r.acrm.is_empty();
    let expected_kind = match (r.origins.is_empty(), is_preflight) {
        (true, _) => RequestKind::NotCors,
        (false, true) => RequestKind::Preflight,
        (false, false) => RequestKind::Actual,
    };
    prop_assert_eq!(d.kind(), expected_kind);

    let origin_ok = r.origin().is_some_and(|o| ref_allows(g, &o)) || (g.is_public() && !r.origins.is_empty());
    if d.is_allowed() {
        prop_assert!(origin_ok, "allowed decision for a denied origin: {r:?}");
    }

    match p.preflight_response(&d) {
        Some((status, h)) => {
            prop_assert!(is_preflight);
            check_response(g, r, &h, "preflight")?;
            // Expose-Headers belongs to actual responses only.
            prop_assert!(h.get("access-control-expose-headers").is_none());
            if d.is_allowed() {
                prop_assert_eq!(status, StatusCode::NO_CONTENT);
                check_granted(g, r, &h)?;
            } else {
                let origin_rejected = d.rejection().is_some_and(|x| !x.origin_was_allowed());
                if !g.debug || origin_rejected {
                    // (d)
                    prop_assert_eq!(status, StatusCode::FORBIDDEN, "rejected preflight: {:?}", d.rejection());
                    prop_assert!(
                        cors_headers(&h).is_empty(),
                        "rejected preflight leaks CORS headers: {:?} -> {h:?}",
                        d.rejection()
                    );
                } else {
                    // Debug mode: 204 with ACAO (and ACAC); for a method
                    // rejection also the configured method list, which must
                    // not grant the requested method; for a header rejection
                    // the requested method (it passed), and never a header.
                    prop_assert_eq!(status, StatusCode::NO_CONTENT);
                    let code = d.rejection().map(|x| x.code());
                    let method_rejected = matches!(code, Some("method_not_allowed" | "invalid_method"));
                    let header_rejected = matches!(code, Some("header_not_allowed" | "invalid_headers"));
                    prop_assert!(cors_headers(&h).iter().all(|(k, _)| k == "access-control-allow-origin"
                        || k == "access-control-allow-credentials"
                        || ((method_rejected || header_rejected) && k == "access-control-allow-methods")));
                    if let Some(acam) = h.get("access-control-allow-methods") {
                        if let (Ok(list), [m]) = (acam.to_str(), r.acrm.as_slice()) {
                            let m = String::from_utf8_lossy(m);
                            if method_rejected {
                                prop_assert!(
                                    !list.split(',').any(|x| x.trim() == m.trim()),
                                    "debug ACAM {list:?} grants {m:?}"
                                );
                            } else {
                                prop_assert_eq!(
                                    list.trim(),
                                    m.trim(),
                                    "a header rejection grants only the method asked"
                                );
                            }
                        }
                    }
                }
            }
        }
        None => {
            prop_assert!(!is_preflight);
            let mut h = r.response();
            p.apply(&d, &mut h);
            check_response(g, r, &h, "apply")?;
            // (g): the upstream's CORS headers are gone; the policy's answer
            // is exactly what it writes onto an empty response.
            let mut clean = HeaderMap::new();
            p.apply(&d, &mut clean);
            prop_assert_eq!(
                cors_headers(&h),
                cors_headers(&clean),
                "upstream CORS headers survived: {:?}",
                r.upstream
            );
            // Vary: * is kept, never joined by Origin; the upstream's Vary
            // values are kept.
            let upstream_vary: Vec<&[u8]> = r
                .upstream
                .iter()
                .filter(|(n, _)| *n == "vary")
                .map(|(_, v)| v.as_slice())
                .collect();
            let vary = values(&h, "vary");
            prop_assert!(vary.starts_with(&upstream_vary), "upstream Vary lost: {vary:?}");
            prop_assert!(vary.len() <= upstream_vary.len() + 1);
            // Liveness: one allowed origin on an actual request is answered.
            if d.kind() == RequestKind::Actual && origin_ok {
                prop_assert!(d.is_allowed(), "allowed origin rejected: {r:?} -> {:?}", d.rejection());
                prop_assert!(h.contains_key("access-control-allow-origin"));
            }
        }
    }
    Ok(())
}

/// An accepted preflight grants only what the policy lists.
pub(crate) fn check_granted(g: &Gen, r: &Req, h: &HeaderMap) -> Result<(), TestCaseError> {
    prop_assert_eq!(r.acrm.len(), 1);
    let m = String::from_utf8_lossy(&r.acrm[0]).into_owned();
    prop_assert!(ref_method_allowed(g, &m), "method {m:?} granted under {:?}", g.methods);
    prop_assert_eq!(values(h, "access-control-allow-methods"), vec![m.as_bytes()]);
    let asked = ref_acrh_names(&r.acrh);
    for n in &asked {
        prop_assert!(ref_header_allowed(g, n), "header {n:?} granted under {:?}", g.headers);
    }
    let granted: Vec<String> = h
        .get_all("access-control-allow-headers")
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .map(|e| e.trim_matches([' ', '\t']).to_ascii_lowercase())
                .filter(|e| !e.is_empty())
                .collect::<Vec<_>>()
        })
        .collect();
    prop_assert_eq!(granted, asked, "ACAH does not cover exactly what was asked");
    let pna = h.get("access-control-allow-private-network");
    prop_assert_eq!(pna.is_some(), g.private_network && r.pna == Some("true"));
    prop_assert_eq!(
        h.get("access-control-max-age").map(|v| v.as_bytes().to_vec()),
        g.max_age.map(|n| n.to_string().into_bytes())
    );
    Ok(())
}

pub(crate) fn exercise(p: &Policy, d: &Decision, resp: &mut HeaderMap) {
    let _ = (d.kind(), d.outcome(), d.is_allowed(), d.is_preflight());
    if let Some(r) = d.rejection() {
        let _ = (r.code(), r.to_string(), r.header_name(), r.origin_was_allowed());
    }
    let _ = p.preflight_response(d);
    p.apply(d, resp);
}

/// Liveness: the preflight `r`, which asks only for what `g` allows, is
/// answered 204 with exactly what a browser needs to pass Fetch §4.8 step
/// 7 (and nothing a rejection would carry), through both ways of writing
/// the answer: into an empty map (the prebuilt answers) and into a map
/// that already holds a header (insertions).
pub(crate) fn check_live(g: &Gen, p: &Policy, r: &Req) -> Result<(), TestCaseError> {
    let d = p.evaluate(&Method::OPTIONS, &r.headers());
    prop_assert_eq!(d.kind(), RequestKind::Preflight);
    prop_assert!(
        d.is_allowed(),
        "an allowed preflight was refused ({:?}): {:?} under {:?}",
        d.rejection(),
        r,
        g
    );
    let (status, fresh) = p.preflight_response(&d).expect("a preflight");
    let mut inserted = HeaderMap::new();
    inserted.insert(header::SERVER, HeaderValue::from_static("upstream"));
    let status2 = p.write_preflight(&d, &mut inserted).expect("a preflight");
    prop_assert_eq!(
        inserted.get(header::SERVER).map(HeaderValue::as_bytes),
        Some(&b"upstream"[..])
    );
    for (what, status, h) in [("prebuilt", status, &fresh), ("inserted", status2, &inserted)] {
        prop_assert_eq!(status, StatusCode::NO_CONTENT, "{}: {:?}", what, r);
        let origin: &[u8] = if g.is_public() { b"*" } else { &r.origins[0] };
        prop_assert_eq!(values(h, "access-control-allow-origin"), vec![origin], "{}: ACAO", what);
        let acac: Vec<&[u8]> = if g.credentials { vec![b"true"] } else { vec![] };
        prop_assert_eq!(values(h, "access-control-allow-credentials"), acac, "{}: ACAC", what);
        prop_assert_eq!(
            values(h, "access-control-allow-methods"),
            vec![r.acrm[0].as_slice()],
            "{}: ACAM",
            what
        );
        let acah: Vec<&[u8]> = r.acrh.iter().map(Vec::as_slice).collect();
        prop_assert_eq!(values(h, "access-control-allow-headers"), acah, "{}: ACAH", what);
        let max_age = g.max_age.map(|n| n.to_string());
        prop_assert_eq!(
            values(h, "access-control-max-age"),
            max_age.iter().map(|m| m.as_bytes()).collect::<Vec<_>>(),
            "{}: max-age",
            what
        );
        let pna: Vec<&[u8]> = if g.private_network && r.pna == Some("true") {
            vec![b"true"]
        } else {
            vec![]
        };
        prop_assert_eq!(values(h, "access-control-allow-private-network"), pna, "{}: PNA", what);
        prop_assert!(values(h, "access-control-expose-headers").is_empty());
        // Fetch "CORS protocol and HTTP caches": the answer depends on
        // these request headers.
        let vary: Vec<String> = h
            .get_all(header::VARY)
            .iter()
            .flat_map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split(',')
                    .map(|t| t.trim().to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
            .collect();
        for n in [
            "origin",
            "access-control-request-method",
            "access-control-request-headers",
        ] {
            prop_assert!(vary.iter().any(|v| v == n), "{}: Vary {:?} lacks {}", what, vary, n);
        }
    }
    Ok(())
}
