//! The engine's origin decision against the deliberately naive reference
//! matcher of `corsair_fuzz`, on arbitrary origin strings and a fixed set of
//! policies with exact, `*.domain`, `*.domain:port`, `*.domain:*` and `:*`
//! patterns. Checked twice: `Policy::allows_origin`, and whether a real
//! request with that `Origin` gets `Access-Control-Allow-Origin`.
#![no_main]

use std::sync::OnceLock;

use corsair::{Policy, PolicyConfig};
use corsair_fuzz::ref_allows;
use http::header::{self, HeaderMap, HeaderValue};
use http::Method;
use libfuzzer_sys::fuzz_target;

const POLICIES: &[&[&str]] = &[
    &[
        "https://app.example.com",
        "https://*.example.org",
        "http://localhost:*",
        "https://*.admin.example.net:*",
        "http://127.0.0.1:8080",
        "https://*.example.co.uk:8443",
        "http://[::1]:*",
        "chrome-extension://abcdefghijklmnop",
    ],
    &[
        "https://*.a.example.com",
        "https://*.b.a.example.com:9443",
        "https://a.example.com:*",
    ],
    &[
        "http://*.localhost:*",
        "http://127.0.0.1:*",
        "https://x--y.example.com:1",
    ],
    &[
        "https://example.com",
        "https://example.com:8443",
        "http://example.com:65535",
    ],
];

fn policies() -> &'static [(Vec<String>, Policy)] {
    static P: OnceLock<Vec<(Vec<String>, Policy)>> = OnceLock::new();
    P.get_or_init(|| {
        POLICIES
            .iter()
            .map(|ps| {
                let patterns: Vec<String> = ps.iter().map(|s| (*s).to_owned()).collect();
                let policy = PolicyConfig::new()
                    .allow_origins(patterns.clone())
                    .allow_insecure_origins(true)
                    .build()
                    .expect("fixed policies build");
                (patterns, policy)
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, origin)) = data.split_first() else {
        return;
    };
    let (patterns, policy) = &policies()[usize::from(sel) % POLICIES.len()];
    let text = std::str::from_utf8(origin).ok();
    if let Some(o) = text {
        let engine = policy.allows_origin(o);
        let reference = ref_allows(patterns, o);
        assert_eq!(engine, reference, "allows_origin({o:?}) under {patterns:?}");
    }
    let Ok(value) = HeaderValue::from_bytes(origin) else {
        return;
    };
    let mut req = HeaderMap::new();
    req.insert(header::ORIGIN, value);
    let d = policy.evaluate(&Method::GET, &req);
    let mut resp = HeaderMap::new();
    policy.apply(&d, &mut resp);
    let granted = resp.get(header::ACCESS_CONTROL_ALLOW_ORIGIN);
    let expected = text.is_some_and(|o| o.is_ascii() && ref_allows(patterns, o));
    // `to_str` refuses non-visible-ASCII, so only such text can be granted.
    assert_eq!(granted.is_some(), expected, "ACAO for {origin:?} under {patterns:?}");
    if let Some(g) = granted {
        assert_eq!(g.as_bytes(), origin);
    }
});
