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

fn policies() -> &'static [Policy] {
    static P: OnceLock<Vec<Policy>> = OnceLock::new();
    P.get_or_init(|| {
        let base = || {
            PolicyConfig::new()
                .allow_origins(["https://app.example.com"])
                .allow_methods(["PUT"])
        };
        vec![
            base()
                .allow_headers(["content-type", "X-Api-Key", "x-request-id"])
                .build()
                .unwrap(),
            base().allow_headers(["*"]).build().unwrap(),
            base().allow_headers(["*", "Authorization"]).build().unwrap(),
            base()
                .allow_headers(["authorization"])
                .allow_credentials(true)
                .build()
                .unwrap(),
            base().allow_headers(["content-type"]).debug(true).build().unwrap(),
            PolicyConfig::new()
                .allow_origins(["*"])
                .allow_methods(["*"])
                .allow_headers(["x-a"])
                .build()
                .unwrap(),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let policy = &policies()[usize::from(sel) % 6];
    let mut req = HeaderMap::new();
    req.insert(header::ORIGIN, HeaderValue::from_static("https://app.example.com"));
    req.insert(header::ACCESS_CONTROL_REQUEST_METHOD, HeaderValue::from_static("PUT"));
    // A NUL byte separates header lines.
    for line in rest.split(|&b| b == 0) {
        if let Ok(v) = HeaderValue::from_bytes(line) {
            req.append(header::ACCESS_CONTROL_REQUEST_HEADERS, v);
        }
    }
    corsair_fuzz::check_request(policy, &Method::OPTIONS, &req, &HeaderMap::new());
});
