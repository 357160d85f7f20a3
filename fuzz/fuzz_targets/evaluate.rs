//! Whole-request evaluation: a policy generated from the input (drawn from
//! pools, so that most build), an arbitrary method and request header list,
//! and arbitrary upstream response headers, through `evaluate`,
//! `preflight_response` and `apply`. The invariants (see
//! `corsair_fuzz::check_request`): no ACAO for an origin the reference
//! denies, never `*` with credentials, a rejected preflight carries no
//! `access-control-*` header, `Vary` names `Origin` for non-public
//! policies, and a granted preflight grants only what the policy lists.
//! Then liveness (`corsair_fuzz::check_allowed_preflight`): a preflight
//! built from what the generated policy allows (an allowed origin, an
//! allowed method, allowed names) is answered 204 with the headers that let
//! the browser through. And cross-origin protection on the same request
//! (`corsair_fuzz::check_protection`): trusted origins are the reference's.
#![no_main]

use arbitrary::Arbitrary;
use corsair::PolicyConfig;
use corsair_fuzz::{
    pick, ref_allows, ref_normalize_method, subset, BrowserPreflight, HEADER_POOL, METHOD_POOL, ORIGIN_POOL,
    PATTERN_POOL,
};

/// Methods a generated policy lists (distinct after normalization).
const ALLOW_METHODS: &[&str] = &["PUT", "DELETE", "PATCH", "patch", "OPTIONS", "PURGE"];
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::Method;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct PolicySpec {
    public: bool,
    origins: u16,
    methods: u16,
    any_method: bool,
    headers: u8,
    any_header: bool,
    expose: u8,
    expose_star: bool,
    credentials: bool,
    max_age: Option<u16>,
    private_network: bool,
    debug: bool,
}

#[derive(Debug, Arbitrary)]
enum Name {
    Origin,
    Acrm,
    Acrh,
    Acrpn,
    Vary,
    Acao,
    Acac,
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum Value {
    Origin(u8),
    Method(u8),
    Headers(u8, u8),
    True,
    Raw(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
enum MethodSpec {
    Pool(u8),
    Raw(String),
}

/// Choices for the liveness preflight, among what the policy allows.
#[derive(Debug, Arbitrary)]
struct Live {
    origin: u8,
    method: u8,
    names: u16,
    upper: u16,
    private_network: bool,
    filler: u8,
}

#[derive(Debug, Arbitrary)]
struct Input {
    policy: PolicySpec,
    live: Live,
    method: MethodSpec,
    request: Vec<(Name, Value)>,
    upstream: Vec<(Name, Value)>,
}

/// A preflight for what `c` allows, written from the configuration as the
/// reference reads it (never from the built policy): an origin the naive
/// matcher admits, a method that is safelisted or listed (normalized by the
/// reference) or any pool method under `*`, and listed names (any pool name
/// but `Authorization` under `*`), in whatever case the script used.
fn allowed_preflight(c: &PolicyConfig, live: &Live) -> Option<BrowserPreflight> {
    let origins: Vec<&str> = ORIGIN_POOL
        .iter()
        .copied()
        .filter(|o| ref_allows(&c.allow_origins, o))
        .collect();
    if origins.is_empty() {
        return None;
    }
    let mut methods: Vec<String> = ["GET", "HEAD", "POST"].map(str::to_owned).to_vec();
    methods.extend(
        c.allow_methods
            .iter()
            .filter(|m| *m != "*")
            .map(|m| ref_normalize_method(m)),
    );
    if c.allow_methods.iter().any(|m| m == "*") {
        // A browser sends what the script wrote, normalized.
        methods.extend(METHOD_POOL.iter().map(|m| ref_normalize_method(m)));
    }
    let star = c.allow_headers.iter().any(|h| h == "*");
    let listed = |n: &str| c.allow_headers.iter().any(|h| h.eq_ignore_ascii_case(n));
    let mut allowed: Vec<&str> = c
        .allow_headers
        .iter()
        .map(String::as_str)
        .filter(|h| *h != "*")
        .collect();
    if star {
        allowed.extend(
            HEADER_POOL
                .iter()
                .copied()
                .filter(|n| !n.eq_ignore_ascii_case("authorization") || listed("authorization")),
        );
    }
    let names = allowed
        .iter()
        .enumerate()
        .filter(|(i, _)| live.names & (1 << (i % 16)) != 0)
        .map(|(i, n)| {
            if live.upper & (1 << (i % 16)) != 0 {
                n.to_ascii_uppercase()
            } else {
                (*n).to_owned()
            }
        })
        .collect();
    Some(BrowserPreflight {
        origin: pick(&origins, live.origin).to_owned(),
        method: methods[usize::from(live.method) % methods.len()].clone(),
        names,
        private_network: live.private_network,
        filler: usize::from(live.filler % 24),
    })
}

fn name(n: &Name) -> Option<HeaderName> {
    Some(match n {
        Name::Origin => header::ORIGIN,
        Name::Acrm => header::ACCESS_CONTROL_REQUEST_METHOD,
        Name::Acrh => header::ACCESS_CONTROL_REQUEST_HEADERS,
        Name::Acrpn => corsair::ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK,
        Name::Vary => header::VARY,
        Name::Acao => header::ACCESS_CONTROL_ALLOW_ORIGIN,
        Name::Acac => header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        Name::Other(s) => HeaderName::from_bytes(s.as_bytes()).ok()?,
    })
}

fn value(v: &Value) -> Option<HeaderValue> {
    match v {
        Value::Origin(i) => HeaderValue::from_str(pick(ORIGIN_POOL, *i)).ok(),
        Value::Method(i) => HeaderValue::from_str(pick(METHOD_POOL, *i)).ok(),
        Value::Headers(i, j) => {
            HeaderValue::from_str(&format!("{},{}", pick(HEADER_POOL, *i), pick(HEADER_POOL, *j))).ok()
        }
        Value::True => Some(HeaderValue::from_static("true")),
        Value::Raw(b) => HeaderValue::from_bytes(b).ok(),
    }
}

fn map(pairs: &[(Name, Value)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (n, v) in pairs.iter().take(16) {
        if let (Some(n), Some(v)) = (name(n), value(v)) {
            h.append(n, v);
        }
    }
    h
}

fn config(s: &PolicySpec) -> PolicyConfig {
    let mut c = PolicyConfig::new();
    c.allow_origins = if s.public {
        vec!["*".to_owned()]
    } else {
        subset(PATTERN_POOL, s.origins | 1)
    };
    c.allow_methods = subset(ALLOW_METHODS, s.methods);
    if s.any_method {
        c.allow_methods.push("*".to_owned());
    }
    c.allow_headers = subset(HEADER_POOL, u16::from(s.headers));
    if s.any_header {
        c.allow_headers.push("*".to_owned());
    }
    c.expose_headers = subset(HEADER_POOL, u16::from(s.expose));
    if s.expose_star {
        c.expose_headers.push("*".to_owned());
    }
    c.allow_credentials = s.credentials;
    c.max_age = s.max_age.map(i64::from);
    c.allow_private_network = s.private_network;
    c.allow_insecure_origins = true;
    c.debug = s.debug;
    c
}

fuzz_target!(|input: Input| {
    let config = config(&input.policy);
    let Ok(policy) = config.build() else {
        return;
    };
    if let Some(pf) = allowed_preflight(&config, &input.live) {
        corsair_fuzz::check_allowed_preflight(&policy, &config, &pf);
    }
    let method = match &input.method {
        MethodSpec::Pool(i) => Method::from_bytes(pick(METHOD_POOL, *i).as_bytes()).ok(),
        MethodSpec::Raw(s) => Method::from_bytes(s.as_bytes()).ok(),
    };
    let Some(method) = method else {
        return;
    };
    let req = map(&input.request);
    let upstream = map(&input.upstream);
    corsair_fuzz::check_request(&policy, &config, &method, &req, &upstream);
    corsair_fuzz::check_protection(&policy, &config, &method, &req);
    // The preflight path proper: the same headers as an OPTIONS.
    if req.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        corsair_fuzz::check_request(&policy, &config, &Method::OPTIONS, &req, &upstream);
    }
});
