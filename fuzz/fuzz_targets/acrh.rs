//! `Access-Control-Request-Headers` parsing: arbitrary bytes, split into one
//! or more header lines, in a preflight from an allowed origin for an allowed
//! method, under policies with listed headers, `*`, `*` plus `Authorization`,
//! and debug mode. No panic; a granted preflight grants only names the policy
//! allows (by a naive split of the lines) and echoes exactly what was asked;
//! a rejected one carries no CORS header.
#![no_main]

use std::sync::OnceLock;

use corsair::{Policy, PolicyConfig};
use http::header::{self, HeaderMap, HeaderValue};
use http::Method;
use libfuzzer_sys::fuzz_target;

/// The policies, each with the configuration it was built from (which the
/// reference reads).
fn policies() -> &'static [(PolicyConfig, Policy)] {
    static P: OnceLock<Vec<(PolicyConfig, Policy)>> = OnceLock::new();
    P.get_or_init(|| {
        let base = || {
            PolicyConfig::new()
                .allow_origins(["https://app.example.com"])
                .allow_methods(["PUT"])
        };
        [
            base().allow_headers(["content-type", "X-Api-Key", "x-request-id"]),
            base().allow_headers(["*"]),
            base().allow_headers(["*", "Authorization"]),
            base().allow_headers(["authorization"]).allow_credentials(true),
            base().allow_headers(["content-type"]).debug(true),
            PolicyConfig::new()
                .allow_origins(["*"])
                .allow_methods(["*"])
                .allow_headers(["x-a"]),
        ]
        .into_iter()
        .map(|c| {
            let p = c.build().unwrap();
            (c, p)
        })
        .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let (config, policy) = &policies()[usize::from(sel) % 6];
    let mut req = HeaderMap::new();
    req.insert(header::ORIGIN, HeaderValue::from_static("https://app.example.com"));
    req.insert(header::ACCESS_CONTROL_REQUEST_METHOD, HeaderValue::from_static("PUT"));
    // A NUL byte separates header lines.
    for line in rest.split(|&b| b == 0) {
        if let Ok(v) = HeaderValue::from_bytes(line) {
            req.append(header::ACCESS_CONTROL_REQUEST_HEADERS, v);
        }
    }
    corsair_fuzz::check_request(policy, config, &Method::OPTIONS, &req, &HeaderMap::new());
});
