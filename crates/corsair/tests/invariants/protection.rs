//! Cross-origin protection over generated policies and (mostly hostile)
//! unsafe requests, against a naive reference written here from Go's
//! `CrossOriginProtection.Check` and corsair's documented differences (the
//! policy's origins are the trusted ones, exact exempt paths, host-and-port
//! comparison, several lines refused), by plain string work.
//!
//! Invariants:
//! - (p1) the decision (passed or refused, and which code) is the
//!   reference's;
//! - (p2) an unsafe request that a browser marks as cross-origin
//!   (`Sec-Fetch-Site` other than `same-origin`/`none`) passes only with an
//!   origin the reference trusts, or on an exempt path, or with protection
//!   off: never because of anything else in it;
//! - (p3) GET, HEAD and OPTIONS always pass;
//! - (p4) nothing panics, whatever the bytes of `Sec-Fetch-Site`, `Origin`
//!   and the authority.

use corsair::cross_origin::{CrossOriginProtection, SEC_FETCH_SITE};
use http::header::{self, HeaderMap};
use http::Method;
use proptest::prelude::*;
use proptest::sample::select;

use crate::policies::{gen_policy, Gen};
use crate::reference::ref_allows;
use crate::requests::{hv, junk_bytes, origin_value, seeds};

const METHODS: [&str; 10] = [
    "GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH", "TRACE", "post", "get",
];
const SITES: [&str; 8] = [
    "same-origin",
    "none",
    "same-site",
    "cross-site",
    "",
    "Same-Origin",
    "cross-site ",
    "navigate",
];
const AUTHORITIES: [Option<&str>; 7] = [
    None,
    Some("api.example.com"),
    Some("api.example.com:443"),
    Some("API.EXAMPLE.COM"),
    Some("api.example.com:8080"),
    Some("[::1]:8080"),
    Some("app.example.com"),
];
/// Origins of the authorities' hosts, in several schemes and ports.
const HOST_ORIGINS: [&str; 7] = [
    "https://api.example.com",
    "http://api.example.com",
    "http://api.example.com:8080",
    "https://api.example.com:443",
    "http://[::1]:8080",
    "https://app.example.com",
    "wss://api.example.com",
];
const PATHS: [&str; 6] = [
    "/",
    "/oauth/callback",
    "/oauth/callback/",
    "/OAuth/callback",
    "/x/y",
    "/x",
];
const EXEMPTABLE: [&str; 2] = ["/oauth/callback", "/x/y"];

#[derive(Debug, Clone)]
struct Case {
    enabled: bool,
    exempt: Vec<String>,
    method: &'static str,
    sites: Vec<Vec<u8>>,
    origins: Vec<Vec<u8>>,
    authority: Option<Vec<u8>>,
    path: &'static str,
}

impl Case {
    fn protection(&self) -> CrossOriginProtection {
        let p = if self.enabled {
            CrossOriginProtection::new()
        } else {
            CrossOriginProtection::disabled()
        };
        p.exempt_paths(&self.exempt).expect("valid exempt paths")
    }

    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, hv(b"ignored-by-check.example"));
        for s in &self.sites {
            h.append(SEC_FETCH_SITE, hv(s));
        }
        for o in &self.origins {
            h.append(header::ORIGIN, hv(o));
        }
        h
    }
}

fn origin_choice(g: &Gen) -> impl Strategy<Value = Vec<u8>> {
    let (admitted, others) = seeds(g);
    prop_oneof![
        3 => select(admitted).prop_map(String::into_bytes),
        2 => select(others).prop_map(String::into_bytes),
        3 => select(HOST_ORIGINS.to_vec()).prop_map(|s| s.as_bytes().to_vec()),
        1 => Just(b"null".to_vec()),
        1 => Just(Vec::new()),
        2 => origin_value(g),
    ]
}

fn gen_case(g: &Gen) -> impl Strategy<Value = Case> {
    (
        prop_oneof![5 => Just(true), 1 => Just(false)],
        proptest::sample::subsequence(EXEMPTABLE.to_vec(), 0..=2),
        select(METHODS.to_vec()),
        prop_oneof![
            3 => proptest::collection::vec(select(SITES.to_vec()).prop_map(|s| s.as_bytes().to_vec()), 0..=1),
            1 => proptest::collection::vec(select(SITES.to_vec()).prop_map(|s| s.as_bytes().to_vec()), 2..=2),
            1 => proptest::collection::vec(junk_bytes(), 1..=1),
        ],
        prop_oneof![
            6 => proptest::collection::vec(origin_choice(g), 0..=1),
            1 => proptest::collection::vec(origin_choice(g), 2..=2),
        ],
        prop_oneof![
            6 => select(AUTHORITIES.to_vec()).prop_map(|a| a.map(|s| s.as_bytes().to_vec())),
            1 => junk_bytes().prop_map(Some),
        ],
        select(PATHS.to_vec()),
    )
        .prop_map(|(enabled, exempt, method, sites, origins, authority, path)| Case {
            enabled,
            exempt: exempt.into_iter().map(str::to_owned).collect(),
            method,
            sites,
            origins,
            authority,
            path,
        })
}

/// The reference's trust: an origin the policy admits (every one for `*`),
/// never `null`, and only a single `Origin` line.
fn ref_trusted(g: &Gen, origins: &[Vec<u8>]) -> bool {
    let [o] = origins else { return false };
    let o = String::from_utf8_lossy(o);
    !o.is_empty() && o != "null" && (g.is_public() || ref_allows(g, &o))
}

/// `scheme://host[:port]` → (host lowercase, port number), http(s) only.
fn ref_origin_host_port(o: &str) -> Option<(String, u32)> {
    let (rest, default) = if let Some(r) = o.strip_prefix("https://") {
        (r, 443)
    } else {
        (o.strip_prefix("http://")?, 80)
    };
    ref_host_port(rest, default)
}

fn ref_host_port(s: &str, default: u32) -> Option<(String, u32)> {
    let (host, port) = if s.starts_with('[') {
        let close = s.find(']')?;
        let after = &s[close + 1..];
        let port = if after.is_empty() {
            None
        } else {
            Some(after.strip_prefix(':')?)
        };
        (&s[..=close], port)
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        None | Some("") => default,
        Some(p) if p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()) => p.parse().ok().filter(|n| *n <= 65535)?,
        Some(_) => return None,
    };
    if host.is_empty() {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

fn ref_matches_host(origins: &[Vec<u8>], authority: Option<&[u8]>) -> bool {
    let ([o], Some(a)) = (origins, authority) else {
        return false;
    };
    // One char per byte: equality stays byte equality.
    let latin1 = |b: &[u8]| b.iter().map(|&c| char::from(c)).collect::<String>();
    let (o, a) = (latin1(o), latin1(a));
    let Some((oh, op)) = ref_origin_host_port(&o) else {
        return false;
    };
    let default = if o.starts_with("https://") { 443 } else { 80 };
    match ref_host_port(&a, default) {
        Some((ah, ap)) => oh == ah && op == ap,
        None => false,
    }
}

/// The reference decision: `Ok(pass code)` or `Err(rejection code)`.
fn reference(g: &Gen, c: &Case) -> Result<&'static str, &'static str> {
    if matches!(c.method, "GET" | "HEAD" | "OPTIONS") {
        return Ok("safe_method");
    }
    if !c.enabled {
        return Ok("disabled");
    }
    let trusted = ref_trusted(g, &c.origins);
    let exempt = c.exempt.iter().any(|e| e == c.path);
    let first_site: &[u8] = c.sites.first().map_or(b"", Vec::as_slice);
    if c.sites.len() > 1 || !first_site.is_empty() {
        if c.sites.len() == 1 && first_site == b"same-origin" {
            return Ok("same_origin");
        }
        if c.sites.len() == 1 && first_site == b"none" {
            return Ok("user_initiated");
        }
        return if trusted {
            Ok("trusted_origin")
        } else if exempt {
            Ok("exempt_path")
        } else {
            Err("cross_origin_request")
        };
    }
    let first_origin: &[u8] = c.origins.first().map_or(b"", Vec::as_slice);
    if first_origin.is_empty() {
        return Ok("not_browser");
    }
    if ref_matches_host(&c.origins, c.authority.as_deref()) {
        Ok("origin_matches_host")
    } else if trusted {
        Ok("trusted_origin")
    } else if exempt {
        Ok("exempt_path")
    } else {
        Err("origin_host_mismatch")
    }
}

fn policy_and_cases() -> impl Strategy<Value = (Gen, Vec<Case>)> {
    gen_policy().prop_flat_map(|g| {
        let cases = proptest::collection::vec(gen_case(&g), 1..=8);
        (Just(g), cases)
    })
}

proptest! {
    #![proptest_config(crate::config(2000))]

    /// (p1), (p2), (p3).
    #[test]
    fn protection_agrees_with_the_reference((g, cases) in policy_and_cases()) {
        let policy = g.build();
        for c in &cases {
            let protection = c.protection();
            let method = Method::from_bytes(c.method.as_bytes()).expect("a method");
            let got = protection
                .check(&policy, &method, c.path, c.authority.as_deref(), &c.headers())
                .map(|p| p.code())
                .map_err(|r| r.code());
            prop_assert_eq!(got, reference(&g, c), "{:?} under {:?}", c, g.origins);
            // (p3)
            if matches!(c.method, "GET" | "HEAD" | "OPTIONS") {
                prop_assert_eq!(got, Ok("safe_method"));
            }
            // (p2): a browser-marked cross-origin request passes only for
            // the three documented reasons.
            let cross = c.sites.len() > 1
                || c.sites.first().is_some_and(|s| !s.is_empty() && s != b"same-origin" && s != b"none");
            if cross && got.is_ok() && !matches!(c.method, "GET" | "HEAD" | "OPTIONS") {
                prop_assert!(
                    !c.enabled || ref_trusted(&g, &c.origins) || c.exempt.iter().any(|e| e == c.path),
                    "{:?} passed as {:?}", c, got
                );
            }
        }
    }

    /// (p4) Arbitrary bytes: never a panic; a refusal always names a code
    /// and a detail.
    #[test]
    fn arbitrary_bytes_never_panic(
        g in gen_policy(),
        sites in proptest::collection::vec(junk_bytes(), 0..3),
        origins in proptest::collection::vec(junk_bytes(), 0..3),
        authority in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
        path in "[ -~]{0,30}",
    ) {
        let policy = g.build();
        let mut h = HeaderMap::new();
        for s in &sites {
            h.append(SEC_FETCH_SITE, hv(s));
        }
        for o in &origins {
            h.append(header::ORIGIN, hv(o));
        }
        let p = CrossOriginProtection::new();
        if let Err(r) = p.check(&policy, &Method::POST, &path, authority.as_deref(), &h) {
            prop_assert!(!r.code().is_empty() && !r.to_string().is_empty());
            prop_assert!(r.body().contains(r.code()));
        }
    }
}
