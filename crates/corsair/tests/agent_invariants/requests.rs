//! Generated requests (as [`Spec`]s) and responses.

use corsair::agent::CredentialsMode;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;

use crate::reference::Spec;

/// Page origins, the last one the URL's own (same-origin).
pub(crate) const ORIGINS: &[&str] = &[
    "https://app.example.com",
    "https://a.example.org",
    "http://localhost:3000",
    "https://evil.example",
    "null",
    "https://api.example.com",
];

pub(crate) const METHODS: &[&str] = &["GET", "POST", "HEAD", "PUT", "put", "patch", "PATCH", "DELETE", "PURGE"];

/// Request headers, safelisted or not by their value as much as their name.
pub(crate) const REQUEST_HEADERS: &[(&str, &str)] = &[
    ("Content-Type", "application/json"),
    ("Content-Type", "text/plain"),
    ("Content-Type", "Text/Plain; charset=utf-8"),
    ("Content-Type", "text/plain; x=\"a\""),
    ("X-Token", "1"),
    ("Authorization", "Bearer x"),
    ("Accept", "*/*"),
    ("Accept", "text/html;q=\"1\""),
    ("X-Api-Key", "k"),
    ("Content-Language", "en"),
    ("Content-Language", "en@x"),
    ("Accept-Language", "fr-CH, fr;q=0.9"),
    ("Range", "bytes=0-"),
    ("Range", "bytes=-5"),
    ("Range", "bytes=9-1"),
];

pub(crate) fn credentials() -> impl Strategy<Value = CredentialsMode> {
    prop_oneof![
        Just(CredentialsMode::Omit),
        Just(CredentialsMode::SameOrigin),
        Just(CredentialsMode::Include)
    ]
}

/// Script headers: a few from the pool, or (one time in ten) nine safelisted
/// `Accept-Language` values of 120 bytes, whose total over 1024 bytes makes
/// them all unsafe (Fetch §2.2.2 "CORS-unsafe request-header names", step 5).
pub(crate) fn script_headers() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    prop_oneof![
        9 => proptest::sample::subsequence(REQUEST_HEADERS, 0..=3)
            .prop_map(|hs| hs.into_iter().map(|(n, v)| (n, v.to_owned())).collect()),
        1 => Just(vec![("Accept-Language", "a".repeat(120)); 9]),
    ]
}

pub(crate) fn gen_spec(origins: &'static [&'static str]) -> impl Strategy<Value = Spec> {
    (
        proptest::sample::select(origins),
        proptest::sample::select(METHODS),
        script_headers(),
        credentials(),
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(origin, method, headers, credentials, flag)| Spec {
            origin,
            method,
            headers,
            credentials,
            flag,
        })
}

pub(crate) const ACAC_VALUES: &[&[u8]] = &[b"true", b"TRUE", b" true", b"false", b"", b"true, true"];

/// Values near what a server might send for each CORS response header.
pub(crate) fn response_value(name: &'static str, origin: String) -> BoxedStrategy<Vec<u8>> {
    let near_origin = prop_oneof![
        Just(origin.clone().into_bytes()),
        Just(format!(" {origin}\t").into_bytes()),
        Just(format!("{origin}/").into_bytes()),
        Just(origin.to_ascii_uppercase().into_bytes()),
        Just(format!("{origin}, {origin}").into_bytes()),
        Just(b"*".to_vec()),
        Just(b" * ".to_vec()),
        Just(b"null".to_vec()),
        Just(b"".to_vec()),
        Just(b"https://app.example.com".to_vec()),
        "[ -~]{0,12}".prop_map(String::into_bytes),
    ];
    match name {
        "access-control-allow-origin" => near_origin.boxed(),
        "access-control-allow-credentials" => proptest::sample::select(ACAC_VALUES).prop_map(<[u8]>::to_vec).boxed(),
        "access-control-allow-methods" => prop_oneof![
            proptest::sample::subsequence(METHODS, 0..=3).prop_map(|m| m.join(", ").into_bytes()),
            Just(b"*".to_vec()),
            Just(b"PUT, *".to_vec()),
            Just(b"\"PUT\"".to_vec()),
            Just(b",,PATCH,".to_vec()),
            "[ -~]{0,12}".prop_map(String::into_bytes),
        ]
        .boxed(),
        "access-control-allow-headers" | "access-control-expose-headers" => prop_oneof![
            proptest::sample::subsequence(
                &[
                    "content-type",
                    "X-Token",
                    "authorization",
                    "x-api-key",
                    "*",
                    "Set-Cookie",
                    "x-request-id",
                    "range",
                    "accept-language",
                ][..],
                0..=4
            )
            .prop_map(|m| m.join(",").into_bytes()),
            Just(b"x-token x-api-key".to_vec()),
            "[ -~]{0,12}".prop_map(String::into_bytes),
        ]
        .boxed(),
        _ => "[ -~]{0,8}".prop_map(String::into_bytes).boxed(),
    }
}

pub(crate) const RESPONSE_NAMES: &[&str] = &[
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
    "set-cookie",
    "x-request-id",
    "content-type",
];

pub(crate) fn gen_response(origin: String) -> impl Strategy<Value = HeaderMap> {
    proptest::collection::vec(
        proptest::sample::select(RESPONSE_NAMES).prop_flat_map(move |n| (Just(n), response_value(n, origin.clone()))),
        0..8,
    )
    .prop_map(|pairs| {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            if let Ok(v) = HeaderValue::from_bytes(&v) {
                h.append(HeaderName::from_static(n), v);
            }
        }
        h
    })
}

pub(crate) fn request_and_response() -> impl Strategy<Value = (Spec, u16, HeaderMap)> {
    gen_spec(ORIGINS).prop_flat_map(|spec| {
        let origin = spec.origin.to_owned();
        (
            Just(spec),
            proptest::sample::select(&[200u16, 204, 299, 301, 302, 400, 403, 500][..]),
            gen_response(origin),
        )
    })
}

/// Cross-origin page origins only: CORS does not apply to the last of
/// [`ORIGINS`], so an end-to-end case with it would check nothing.
pub(crate) const CROSS_ORIGINS: &[&str] = &[
    "https://app.example.com",
    "https://a.example.org",
    "http://localhost:3000",
    "https://evil.example",
    "null",
];
