//! The CORS headers of actual and non-CORS responses.

use http::Method;

use super::*;

#[test]
fn actual_requests_from_allowed_origins() {
    let (h, d) = actual(
        &private(),
        Method::DELETE,
        &[("origin", "https://deep.sub.example.net")],
        &[
            ("vary", "Accept-Encoding"),
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", "GET"),
        ],
    );
    assert!(d.is_allowed(), "methods are not checked on actual requests");
    assert_eq!(h["access-control-allow-origin"], "https://deep.sub.example.net");
    assert_eq!(h.get_all("access-control-allow-origin").iter().count(), 1);
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-expose-headers"], "x-request-id, etag");
    assert!(
        h.get("access-control-allow-methods").is_none(),
        "upstream CORS headers are removed"
    );
    assert_eq!(
        h.get_all("vary").iter().collect::<Vec<_>>(),
        ["Accept-Encoding", "Origin"]
    );
}

#[test]
fn every_upstream_access_control_header_is_removed_however_many() {
    let names: Vec<String> = (0..20).map(|i| format!("access-control-x-{i}")).collect();
    let mut resp: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
    resp.extend([
        ("access-control-allow-origin", "*"),
        ("access-control-allow-origin", "https://evil.example"),
        ("access-control-allow-credentials", "true"),
        ("access-control-max-age", "86400"),
        ("x-kept", "yes"),
        // Seen only by the last of the removal's passes: still merged with.
        ("vary", "Accept-Encoding, origin"),
    ]);
    for origin in ["https://deep.sub.example.net", "https://evil.example"] {
        let (h, _) = actual(&private(), Method::GET, &[("origin", origin)], &resp);
        let left: Vec<&str> = h
            .keys()
            .map(|k| k.as_str())
            .filter(|k| k.starts_with("access-control-"))
            .collect();
        let ours: &[&str] = if origin == "https://evil.example" {
            &[]
        } else {
            &[
                "access-control-allow-origin",
                "access-control-allow-credentials",
                "access-control-expose-headers",
            ]
        };
        assert_eq!(left.len(), ours.len(), "{origin}: {left:?}");
        assert!(left.iter().all(|k| ours.contains(k)), "{origin}: {left:?}");
        assert_eq!(
            h.get_all("access-control-allow-origin").iter().count(),
            ours.len().min(1)
        );
        assert_eq!(h["x-kept"], "yes");
        assert_eq!(
            h.get_all("vary").iter().collect::<Vec<_>>(),
            ["Accept-Encoding, origin"],
            "{origin}"
        );
    }
}

#[test]
fn actual_requests_from_other_origins_get_no_cors_headers_but_vary() {
    let p = private();
    for origin in [
        "https://evil.example",
        "null",
        "https://example.net",
        "https://evilexample.net",
        "https://app.example.com.evil.net",
        "http://app.example.com",
        "https://APP.example.com",
        "https://app.example.com:443",
        "https://app.example.com/",
    ] {
        let (h, d) = actual(
            &p,
            Method::GET,
            &[("origin", origin)],
            &[("access-control-allow-origin", origin)],
        );
        assert!(!d.is_allowed(), "{origin}");
        assert!(no_cors_headers(&h), "{origin}: {h:?}");
        assert_eq!(h["vary"], "Origin");
    }
    let (h, d) = actual(&p, Method::GET, &[("origin", APP), ("origin", APP)], &[]);
    assert_eq!(d.rejection().unwrap().code(), "multiple_origins");
    assert!(no_cors_headers(&h));
}

#[test]
fn non_cors_requests_get_vary_only() {
    let (h, d) = actual(
        &private(),
        Method::GET,
        &[],
        &[("access-control-allow-origin", "*"), ("vary", "*")],
    );
    assert_eq!(d.outcome(), "not_cors");
    assert!(no_cors_headers(&h));
    assert_eq!(h.get_all("vary").iter().collect::<Vec<_>>(), ["*"], "Vary: * is kept");
}

#[test]
fn public_policies_answer_star_without_vary() {
    let p = public();
    for pairs in [vec![], vec![("origin", APP)], vec![("origin", "null")]] {
        let (h, _) = actual(&p, Method::GET, &pairs, &[]);
        assert_eq!(h["access-control-allow-origin"], "*");
        assert_eq!(h["access-control-expose-headers"], "x-total");
        assert!(h.get("vary").is_none());
        assert!(h.get("access-control-allow-credentials").is_none());
    }
}
