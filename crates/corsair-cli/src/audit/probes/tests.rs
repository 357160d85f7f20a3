//! Unit tests of the parent module.

use super::*;

fn origin(s: &str) -> Origin {
    Origin::parse(s).unwrap()
}

fn probes_of(probes: &[Probe], id: Id) -> Vec<String> {
    probes
        .iter()
        .filter(|p| p.kind == ProbeKind::Origin(id))
        .map(|p| p.origin.clone())
        .collect()
}

#[test]
fn unescaped_dot_hosts() {
    assert_eq!(
        unescaped_dot_host("www.example.com").as_deref(),
        Some("wwwxexample.com")
    );
    assert_eq!(
        unescaped_dot_host("api.www.example.co.uk").as_deref(),
        Some("api.wwwxexample.co.uk")
    );
    assert_eq!(unescaped_dot_host("example.com"), None);
    assert_eq!(unescaped_dot_host("10.0.0.1"), None);
}

#[test]
fn probes_for_www_example_com() {
    let t = origin("https://www.example.com");
    let probes = derive_probes(std::slice::from_ref(&t));
    assert_eq!(probes[0].kind, ProbeKind::Baseline);
    assert_eq!(probes[0].origin, "https://www.example.com");
    assert_eq!(
        probes_of(&probes, Id::ReflectAnyOrigin),
        ["https://corsair-probe.evil.example"]
    );
    assert_eq!(probes_of(&probes, Id::NullOrigin), ["null"]);
    assert_eq!(
        probes_of(&probes, Id::PrefixMatch),
        ["https://www.example.com.evil.net"]
    );
    assert_eq!(probes_of(&probes, Id::SuffixMatch), ["https://evilexample.com"]);
    assert_eq!(probes_of(&probes, Id::UnescapedDot), ["https://wwwxexample.com"]);
    assert_eq!(probes_of(&probes, Id::InsecureScheme), ["http://www.example.com"]);
    assert_eq!(
        probes_of(&probes, Id::AnySubdomain),
        ["https://corsair-probe.www.example.com"]
    );
    let special = probes_of(&probes, Id::SpecialChars);
    for want in [
        "https://www.example.com_.evil.net",
        "https://www.example.com-.evil.net",
        "https://www.example.com`.evil.net",
        "https://www.example.com%60.evil.net",
        "https://www.example.com!.evil.net",
        "https://www.example.com{.evil.net",
        "https://www.example.com}.evil.net",
    ] {
        assert!(special.iter().any(|s| s == want), "missing {want}");
    }
    let third = probes_of(&probes, Id::ThirdPartyHost);
    assert!(third.iter().any(|s| s == "https://corsair-probe.github.io"));
    assert!(third.iter().any(|s| s == "https://codepen.io"));
    assert!(third.iter().any(|s| s == "https://jsfiddle.net"));
    let pre: Vec<&Probe> = probes.iter().filter(|p| p.kind == ProbeKind::Preflight).collect();
    assert_eq!(pre.len(), 1);
    assert_eq!(pre[0].method(), Method::OPTIONS);
    // every probe origin must be sendable as a header value
    for p in &probes {
        assert!(p.headers().is_ok(), "{}", p.origin);
    }
}

#[test]
fn probes_keep_ports_and_skip_meaningless_ones() {
    let t = origin("http://127.0.0.1:8080");
    let probes = derive_probes(std::slice::from_ref(&t));
    assert_eq!(probes_of(&probes, Id::PrefixMatch), ["http://127.0.0.1.evil.net:8080"]);
    assert!(probes_of(&probes, Id::SuffixMatch).is_empty());
    assert!(probes_of(&probes, Id::UnescapedDot).is_empty());
    assert!(probes_of(&probes, Id::AnySubdomain).is_empty());
    assert!(probes_of(&probes, Id::InsecureScheme).is_empty()); // already http

    let t = origin("https://app.example.com:8443");
    let probes = derive_probes(std::slice::from_ref(&t));
    assert_eq!(probes_of(&probes, Id::InsecureScheme), ["http://app.example.com:8443"]);
    assert_eq!(probes_of(&probes, Id::SuffixMatch), ["https://evilexample.com:8443"]);
}

#[test]
fn trusted_origins_are_never_probes() {
    let a = origin("https://example.com");
    let b = origin("http://example.com");
    let c = origin("https://codepen.io");
    let probes = derive_probes(&[a, b, c]);
    // http://example.com is trusted explicitly, so only codepen's twin is probed
    assert_eq!(probes_of(&probes, Id::InsecureScheme), ["http://codepen.io"]);
    assert!(!probes_of(&probes, Id::ThirdPartyHost).contains(&"https://codepen.io".to_owned()));
    // one GET per origin among the origin probes, one probe of each other kind
    let mut seen = BTreeSet::new();
    for p in &probes {
        let key = match p.kind {
            ProbeKind::Baseline | ProbeKind::Origin(_) => format!("GET {}", p.origin),
            other => format!("{other:?}"),
        };
        assert!(seen.insert(key), "{}", p.origin);
    }
    // the trusted-origin probes use the first trusted origin
    for kind in [
        ProbeKind::TrustedPreflight,
        ProbeKind::PlainPreflight,
        ProbeKind::PrivateNetwork,
        ProbeKind::Missing,
    ] {
        let p = probes.iter().find(|p| p.kind == kind).unwrap();
        assert_eq!(p.origin, "https://example.com", "{kind:?}");
    }
    assert_eq!(
        probes_of(&probes, Id::PortBypass),
        [
            "https://example.com:8443",
            "http://example.com:8080",
            "https://codepen.io:8443"
        ]
    );
    assert_eq!(probes_of(&probes, Id::LocalOrigin).len(), 7);
    // a local setup: local origins are not probed
    let local = derive_probes(&[origin("http://localhost:3000")]);
    assert!(probes_of(&local, Id::LocalOrigin).is_empty());
}

#[test]
fn the_error_probe_asks_for_a_path_under_the_url_and_the_raw_one_holds_a_cr() {
    let probes = derive_probes(&[origin("https://example.com")]);
    let missing = probes.iter().find(|p| p.kind == ProbeKind::Missing).unwrap();
    assert_eq!(
        missing.url("https://api.example.com/v1/items?x=1"),
        "https://api.example.com/v1/items/corsair-probe-not-found"
    );
    assert_eq!(
        missing.url("https://api.example.com/"),
        "https://api.example.com/corsair-probe-not-found"
    );
    let crlf = probes.iter().find(|p| p.kind == ProbeKind::Crlf).unwrap();
    assert_eq!(
        crlf.origin_bytes(),
        b"https://corsair-probe.evil.example\rX-Corsair-Injected: 1"
    );
    assert_eq!(crlf.method(), Method::GET);
    let pn = probes.iter().find(|p| p.kind == ProbeKind::PrivateNetwork).unwrap();
    let sent = pn.sent_request();
    assert!(sent
        .headers
        .iter()
        .any(|h| h.name == "access-control-request-private-network" && h.value == "true"));
    assert_eq!(pn.method(), Method::OPTIONS);
}

#[test]
fn preflight_probe_headers_in_order() {
    let probes = derive_probes(&[origin("https://example.com")]);
    let pre = probes.iter().find(|p| p.kind == ProbeKind::Preflight).unwrap();
    let sent = pre.sent_request();
    assert_eq!(sent.method, "OPTIONS");
    let names: Vec<&str> = sent.headers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "origin",
            "access-control-request-method",
            "access-control-request-headers",
            "accept",
            "user-agent"
        ]
    );
    assert_eq!(pre.class(), "preflight-reflects-anything");
}
