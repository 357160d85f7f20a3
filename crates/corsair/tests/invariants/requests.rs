//! Generated requests: mostly hostile ones around what the policy admits,
//! and well-formed preflights.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::Method;
use proptest::prelude::*;
use proptest::sample::select;

use crate::policies::{gen_policy, Gen};
use crate::reference::{
    ref_allows, ref_any_method, ref_forbidden_header_name, ref_forbidden_method, ref_listed_methods, ref_normalize,
};

/// Origins that a policy's patterns admit (before any mutation), and a few
/// that it probably does not.
pub(crate) fn seeds(g: &Gen) -> (Vec<String>, Vec<String>) {
    let mut admitted = Vec::new();
    let mut others = vec![
        "https://example.com".to_owned(),
        "https://evil.example".to_owned(),
        "http://localhost:3000".to_owned(),
    ];
    for p in &g.origins {
        if p == "*" {
            continue;
        }
        if let Some((scheme, rest)) = p.split_once("://*.") {
            let (domain, port) = match rest.split_once(':') {
                Some((d, "*")) => (d, ":8443".to_owned()),
                Some((d, n)) => (d, format!(":{n}")),
                None => (rest, String::new()),
            };
            admitted.push(format!("{scheme}://a.{domain}{port}"));
            admitted.push(format!("{scheme}://x-1.eu_west.{domain}{port}"));
            others.push(format!("{scheme}://{domain}{port}"));
            if rest.ends_with(":*") {
                admitted.push(format!("{scheme}://b.{domain}"));
            }
        } else if let Some(base) = p.strip_suffix(":*") {
            admitted.push(base.to_owned());
            admitted.push(format!("{base}:3000"));
        } else {
            admitted.push(p.clone());
        }
    }
    if admitted.is_empty() {
        admitted.push("https://app.example.com".to_owned());
    }
    (admitted, others)
}

/// Where the host sits in an origin-ish string.
pub(crate) fn host_range(s: &str) -> (usize, usize) {
    let start = s.find("://").map_or(0, |i| i + 3);
    let rest = &s[start..];
    let len = if rest.starts_with('[') {
        rest.find(']').map_or(rest.len(), |i| i + 1)
    } else {
        rest.find([':', '/']).unwrap_or(rest.len())
    };
    (start, start + len)
}

/// Mutates an origin towards look-alikes, non-canonical forms and garbage.
pub(crate) fn mutate(s: &str, kind: u8, param: u32, junk: &[u8]) -> Vec<u8> {
    let (hs, he) = host_range(s);
    let mut s = s.to_owned();
    match kind {
        0 => {}
        1 => s.insert_str(hs, "evil"),
        2 => s.insert_str(he, ".evil.net"),
        3 => {
            let schemes = ["http", "https", "wss", "chrome-extension", "HTTPS", "file", ""];
            let rest = s.split_once("://").map_or(s.as_str(), |(_, r)| r).to_owned();
            s = format!("{}://{rest}", schemes[param as usize % schemes.len()]);
        }
        4 => {
            let ports = [
                String::new(),
                ":".to_owned(),
                ":443".to_owned(),
                ":80".to_owned(),
                ":0".to_owned(),
                ":08443".to_owned(),
                ":65536".to_owned(),
                ":+1".to_owned(),
                format!(":{}", param % 70_000),
            ];
            let p = &ports[(param / 7) as usize % ports.len()];
            let end = s[he..].find('/').map_or(s.len(), |i| he + i);
            s.replace_range(he..end, p);
        }
        5 => {
            if param % 2 == 0 {
                s = s.to_ascii_uppercase();
            } else if he > hs {
                let i = hs + param as usize % (he - hs);
                let mut b = s.into_bytes();
                b[i] = b[i].to_ascii_uppercase();
                return b;
            }
        }
        6 => s.push('/'),
        7 => {
            if param % 2 == 0 {
                s.push('.');
            } else {
                s.insert(he, '.');
            }
        }
        8 => s = "null".to_owned(),
        9 => return junk.to_vec(),
        10 => {
            // The apex: drop the first label.
            if let Some(dot) = s[hs..he].find('.') {
                s.replace_range(hs..hs + dot + 1, "");
            }
        }
        11 => s.insert_str(hs, ["a.", "A.", "-.", "a b.", "é."][param as usize % 5]),
        12 => {
            if param % 2 == 0 {
                s.insert(hs, '.');
            } else if let Some(dot) = s[hs..he].find('.') {
                s.insert(hs + dot, '.');
            }
        }
        13 => {
            let ws = [" ", "\t", "  "][param as usize % 3];
            if param % 2 == 0 {
                s.insert_str(0, ws);
            } else {
                s.push_str(ws);
            }
        }
        14 => s.insert_str(hs, "user@"),
        15 => s.push_str(["/x", "?q", "#f", "/../", "\\"][param as usize % 5]),
        16 => {
            s.insert(hs, '[');
            s.insert(he + 1, ']');
        }
        17 => s.insert_str(he, &"x".repeat(param as usize % 80)),
        _ => s.push_str(&String::from_utf8_lossy(junk)),
    }
    s.into_bytes()
}

/// Makes any bytes a valid header value (no control characters but tab).
pub(crate) fn sanitize(mut b: Vec<u8>) -> Vec<u8> {
    for c in &mut b {
        if (*c < 0x20 && *c != b'\t') || *c == 0x7f {
            *c = b'~';
        }
    }
    b
}

pub(crate) fn hv(b: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(b).expect("sanitized")
}

pub(crate) fn junk_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40),
        "[ -~]{0,40}".prop_map(String::into_bytes),
    ]
    .prop_map(sanitize)
}

pub(crate) fn origin_value(g: &Gen) -> impl Strategy<Value = Vec<u8>> {
    let (admitted, others) = seeds(g);
    let all: Vec<String> = admitted.iter().chain(&others).cloned().collect();
    let mutated = (
        select(all),
        proptest::collection::vec((0u8..=18, any::<u32>()), 1..=2),
        junk_bytes(),
    )
        .prop_map(|(seed, muts, junk)| {
            let mut v = seed.into_bytes();
            for (k, p) in muts {
                v = mutate(&String::from_utf8_lossy(&v), k, p, &junk);
            }
            sanitize(v)
        });
    prop_oneof![
        4 => select(admitted).prop_map(String::into_bytes),
        5 => mutated,
        1 => select(others).prop_map(String::into_bytes),
    ]
}

pub(crate) fn token() -> impl Strategy<Value = String> {
    "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}"
}

pub(crate) fn acrm_value(g: &Gen) -> impl Strategy<Value = Vec<u8>> {
    let mut pool: Vec<String> = g.methods.clone();
    pool.extend(
        [
            "GET", "HEAD", "POST", "PUT", "put", "get", "DELETE", "PATCH", "CONNECT", "*",
        ]
        .map(str::to_owned),
    );
    prop_oneof![
        6 => select(pool).prop_map(String::into_bytes),
        1 => token().prop_map(String::into_bytes),
        1 => select(vec!["GET, PUT", "PUT,DELETE", "", " PUT", "PUT ", "P UT"]).prop_map(|s| s.as_bytes().to_vec()),
        1 => junk_bytes(),
    ]
}

pub(crate) fn acrh_name(g: &Gen) -> impl Strategy<Value = String> {
    let mut listed: Vec<String> = g.headers.iter().filter(|h| *h != "*").cloned().collect();
    if listed.is_empty() {
        listed.push("content-type".to_owned());
    }
    let others = vec![
        "authorization",
        "Authorization",
        "content-type",
        "x-other",
        "cookie",
        "X-Request-ID",
    ];
    let case = |(n, up): (String, bool)| if up { n.to_ascii_uppercase() } else { n };
    prop_oneof![
        8 => (select(listed), any::<bool>()).prop_map(case),
        3 => (select(others).prop_map(str::to_owned), any::<bool>()).prop_map(case),
        2 => token(),
        1 => select(vec!["a b", "x;y", "é", "\"q\"", "x/y", "a=b"]).prop_map(str::to_owned),
        1 => Just("h".repeat(129)),
    ]
}

pub(crate) fn separator() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(",".to_owned()),
        2 => ("[ \t]{0,3}", 1usize..=3, "[ \t]{0,3}").prop_map(|(a, n, b)| format!("{a}{}{b}", ",".repeat(n))),
        1 => (0usize..=40).prop_map(|n| ",".repeat(n)),
    ]
}

pub(crate) fn acrh_line(g: &Gen) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        12 => (
            proptest::collection::vec((acrh_name(g), separator()), 0..5),
            "[ \t]{0,3}",
            "[ \t]{0,3}",
        )
            .prop_map(|(items, lead, trail)| {
                let mut s = lead;
                for (i, (name, sep)) in items.iter().enumerate() {
                    if i > 0 {
                        s.push_str(sep);
                    }
                    s.push_str(name);
                }
                s.push_str(&trail);
                sanitize(s.into_bytes())
            }),
        // Adversarial comma runs, up to the 60 KB of the spec.
        1 => (20_000usize..=61_440).prop_map(|n| ",".repeat(n).into_bytes()),
        1 => (1usize..=2_000).prop_map(|n| ", ".repeat(n).into_bytes()),
        1 => junk_bytes(),
    ]
}

/// Response headers an inner service might have set.
pub(crate) fn upstream() -> impl Strategy<Value = Vec<(&'static str, Vec<u8>)>> {
    let name = select(vec![
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-expose-headers",
        "access-control-max-age",
        "access-control-allow-private-network",
        "vary",
        "vary",
        "content-type",
    ]);
    let value = prop_oneof![
        select(vec![
            "*",
            "true",
            "https://evil.example",
            "Origin",
            "origin",
            "Accept-Encoding",
            "Accept-Encoding, Origin",
            "Originx",
            "GET"
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        junk_bytes(),
    ];
    proptest::collection::vec((name, value), 0..5)
}

#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) origins: Vec<Vec<u8>>,
    pub(crate) acrm: Vec<Vec<u8>>,
    pub(crate) acrh: Vec<Vec<u8>>,
    pub(crate) pna: Option<&'static str>,
    pub(crate) upstream: Vec<(&'static str, Vec<u8>)>,
    /// Unrelated headers sent before the CORS ones, as a browser does
    /// (beyond 16 headers the engine looks names up instead of scanning).
    pub(crate) filler: usize,
}

impl Req {
    pub(crate) fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        for i in 0..self.filler {
            let name = HeaderName::from_bytes(format!("x-filler-{i}").as_bytes()).expect("a token");
            h.append(name, HeaderValue::from_static("1"));
        }
        for o in &self.origins {
            h.append(header::ORIGIN, hv(o));
        }
        for m in &self.acrm {
            h.append(header::ACCESS_CONTROL_REQUEST_METHOD, hv(m));
        }
        for l in &self.acrh {
            h.append(header::ACCESS_CONTROL_REQUEST_HEADERS, hv(l));
        }
        if let Some(v) = self.pna {
            h.append(
                corsair::ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK,
                HeaderValue::from_static(v),
            );
        }
        h
    }

    pub(crate) fn response(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in &self.upstream {
            h.append(HeaderName::from_static(n), hv(v));
        }
        h
    }

    /// The single Origin as a string, if there is exactly one.
    pub(crate) fn origin(&self) -> Option<String> {
        match self.origins.as_slice() {
            [o] => Some(String::from_utf8_lossy(o).into_owned()),
            _ => None,
        }
    }
}

pub(crate) fn gen_request(g: &Gen) -> impl Strategy<Value = Req> {
    let origin = origin_value(g).boxed();
    let origins = prop_oneof![
        1 => Just(Vec::new()),
        8 => origin.clone().prop_map(|o| vec![o]),
        1 => proptest::collection::vec(origin, 2..=3),
    ];
    let method = prop_oneof![
        6 => Just(Method::OPTIONS),
        2 => select(vec![Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::HEAD]),
        1 => token().prop_map(|t| Method::from_bytes(t.as_bytes()).expect("a token is a method")),
    ];
    (
        method,
        origins,
        prop_oneof![1 => Just(Vec::new()), 8 => acrm_value(g).prop_map(|m| vec![m]), 1 => proptest::collection::vec(acrm_value(g), 2..=2)],
        prop_oneof![3 => Just(Vec::new()), 6 => acrh_line(g).prop_map(|l| vec![l]), 2 => proptest::collection::vec(acrh_line(g), 2..=3)],
        proptest::option::of(select(vec!["true", "false", "TRUE"])),
        upstream(),
    )
        .prop_map(|(method, origins, acrm, acrh, pna, upstream)| Req {
            filler: 0,
            method,
            origins,
            acrm: acrm.into_iter().map(sanitize).collect(),
            acrh,
            pna,
            upstream,
        })
}

/// Well-formed preflights from admitted origins, asking for listed and
/// unlisted methods and headers: where a grant can be too generous.
pub(crate) fn gen_preflight(g: &Gen) -> impl Strategy<Value = Req> {
    let (admitted, _) = seeds(g);
    let mut methods: Vec<String> = g.methods.iter().filter(|m| *m != "*").cloned().collect();
    methods.extend(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "patch", "purge", "get"].map(str::to_owned));
    let line = (
        proptest::collection::vec((acrh_name(g), prop_oneof![4 => Just(","), 1 => Just(", ")]), 1..4),
        any::<bool>(),
    )
        .prop_map(|(items, pad)| {
            let mut s = String::from(if pad { " " } else { "" });
            for (i, (name, sep)) in items.iter().enumerate() {
                if i > 0 {
                    s.push_str(sep);
                }
                s.push_str(name);
            }
            sanitize(s.into_bytes())
        });
    (
        select(admitted),
        select(methods),
        proptest::collection::vec(line, 0..=2),
        proptest::option::of(select(vec!["true", "false"])),
    )
        .prop_map(|(origin, method, acrh, pna)| Req {
            filler: 0,
            method: Method::OPTIONS,
            origins: vec![origin.into_bytes()],
            acrm: vec![method.into_bytes()],
            acrh,
            pna,
            upstream: Vec::new(),
        })
}

pub(crate) fn policy_and_requests() -> impl Strategy<Value = (Gen, Vec<Req>)> {
    gen_policy().prop_flat_map(|g| {
        let reqs = proptest::collection::vec(gen_request(&g), 1..=4);
        (Just(g), reqs)
    })
}

/// Preflights exactly as a browser sends them for what the policy allows
/// (Fetch §4.8 steps 1-5): an origin the reference admits, a method the
/// configuration allows (safelisted, listed and normalized by the
/// reference, or anything a script can send under `*`), header names it
/// allows (listed, or any but `Authorization` under `*`) lowercased,
/// sorted, deduplicated and joined by `,`, sometimes Private Network
/// Access, and up to 20 unrelated headers around them.
pub(crate) fn allowed_preflight(g: &Gen) -> impl Strategy<Value = Req> {
    let (seeded, _) = seeds(g);
    let admitted: Vec<String> = seeded
        .into_iter()
        .filter(|o| g.is_public() || ref_allows(g, o))
        .collect();
    assert!(
        !admitted.is_empty(),
        "no admitted origin among the seeds of {:?}",
        g.origins
    );
    let listed = ref_listed_methods(g);
    let method = if ref_any_method(g) {
        // What a script writes, as the browser normalizes it; a forbidden
        // method never leaves the browser.
        let written = prop_oneof![
            select(vec!["put", "Delete", "patch", "PURGE", "query", "M-SEARCH", "x"]).prop_map(str::to_owned),
            token(),
        ]
        .prop_filter("a browser never sends a forbidden method", |m| !ref_forbidden_method(m));
        prop_oneof![select(listed), written.prop_map(|m| ref_normalize(&m))].boxed()
    } else {
        select(listed).boxed()
    };
    let star = g.headers.iter().any(|h| h == "*");
    let authorization = g.headers.iter().any(|h| h.eq_ignore_ascii_case("authorization"));
    let named: Vec<String> = g.headers.iter().filter(|h| *h != "*").cloned().collect();
    let name = match (named.is_empty(), star) {
        (true, false) => Just(None).boxed(),
        (false, false) => select(named).prop_map(Some).boxed(),
        (_, true) => {
            let any = "[a-z0-9][a-z0-9_-]{0,15}".prop_filter(
                "`*` never covers Authorization, and no script sets a forbidden name",
                move |n| (authorization || n != "authorization") && !ref_forbidden_header_name(n),
            );
            let mut pool = named;
            pool.push("content-type".to_owned());
            prop_oneof![select(pool), any].prop_map(Some).boxed()
        }
    };
    (
        select(admitted),
        method,
        proptest::collection::vec(name, 0..5),
        any::<bool>(),
        0usize..=20,
    )
        .prop_map(|(origin, method, names, pna, filler)| {
            let mut names: Vec<String> = names.into_iter().flatten().map(|n| n.to_ascii_lowercase()).collect();
            names.sort_unstable();
            names.dedup();
            Req {
                method: Method::OPTIONS,
                origins: vec![origin.into_bytes()],
                acrm: vec![method.into_bytes()],
                acrh: if names.is_empty() {
                    Vec::new()
                } else {
                    vec![names.join(",").into_bytes()]
                },
                pna: pna.then_some("true"),
                upstream: Vec::new(),
                filler,
            }
        })
}
