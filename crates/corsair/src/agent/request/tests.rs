//! Requests as `fetch()` builds them, checked against the Fetch Standard's
//! vectors (numbered as in the reference notes).

use super::*;

const O: &str = "https://app.example";
const T: &str = "https://api.example/r";

fn req(method: &str, headers: &[(&str, &str)]) -> Request {
    let mut b = Request::builder(O, T).method(method);
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    match b.build() {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn vector_1_no_preflight_and_origin_sent() {
    for m in ["GET", "HEAD", "POST", "get", "post"] {
        let r = req(m, &[]);
        assert!(!r.needs_preflight(), "{m}");
        assert!(r.preflight().is_none());
        let h = r.actual_headers();
        assert!(h.iter().any(|(n, v)| n == "Origin" && v == O.as_bytes()));
        assert!(h.iter().any(|(n, v)| n == "Accept" && v == b"*/*"));
    }
}

#[test]
fn vector_2_3_4_safe_headers_no_preflight() {
    for headers in [
        vec![("Accept", "*/*")],
        vec![("Accept-Language", "fr")],
        vec![("Content-Language", "fr")],
        vec![("Content-Type", "text/plain;charset=utf-8")],
        vec![("Content-Type", "Text/Plain;charset=utf-8")],
        vec![("Content-Type", "multipart/form-data")],
        vec![("Content-Type", "application/x-www-form-urlencoded")],
    ] {
        assert!(!req("GET", &headers).needs_preflight(), "{headers:?}");
    }
    for m in ["Get", "post"] {
        let r = req(m, &[("content-type", "text/plain; parameter=extra_bonus")]);
        assert!(!r.needs_preflight(), "{m}");
    }
}

#[test]
fn vector_9_preflight_names() {
    for (name, value) in [
        ("authorization", "basics"),
        ("test", "hi"),
        ("content-type", "text/html"),
    ] {
        let r = req("GET", &[(name, value)]);
        let pf = r.preflight().unwrap();
        assert_eq!(pf.header("Access-Control-Request-Headers"), Some(name));
        assert_eq!(pf.header("Access-Control-Request-Method"), Some("GET"));
    }
}

#[test]
fn vector_11_preflight_request_exact() {
    let r = req(
        "GET",
        &[
            ("x-test-header1", "v"),
            ("x-test-header2", "v"),
            ("X-test-header3", "v"),
            ("x-test-header-b", "v"),
            ("x-test-header-D", "v"),
            ("x-test-header-C", "v"),
            ("x-test-header-a", "v"),
            ("Content-Type", "allowedOrRefused"),
            ("Accept", "*"),
            ("Accept-Language", "bzh"),
            ("Content-Language", "eu"),
        ],
    );
    let pf = r.preflight().unwrap();
    assert_eq!(
        pf.headers,
        vec![
            ("Origin".to_string(), O.to_string()),
            ("Accept".to_string(), "*/*".to_string()),
            ("Access-Control-Request-Method".to_string(), "GET".to_string()),
            (
                "Access-Control-Request-Headers".to_string(),
                "content-type,x-test-header-a,x-test-header-b,x-test-header-c,x-test-header-d,x-test-header1,x-test-header2,x-test-header3".to_string()
            ),
        ]
    );
    assert_eq!(pf.url, T);
    // The script set Accept, so the browser does not add its own.
    assert_eq!(
        r.headers()
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("accept"))
            .count(),
        1
    );
}

#[test]
fn vector_12_13_method_only_preflight() {
    for (m, sent) in [
        ("PUT", "PUT"),
        ("DELETE", "DELETE"),
        ("PATCH", "PATCH"),
        ("NEW", "NEW"),
        ("put", "PUT"),
        ("patch", "patch"),
    ] {
        let r = req(m, &[]);
        let pf = r.preflight().unwrap();
        assert_eq!(pf.header("Access-Control-Request-Method"), Some(sent), "{m}");
        assert_eq!(pf.header("Access-Control-Request-Headers"), None);
    }
    let r = req("PUT", &[("Accept-Language", "fr"), ("Content-Type", "text/plain")]);
    assert_eq!(r.preflight().unwrap().header("Access-Control-Request-Headers"), None);
}

#[test]
fn use_cors_preflight_flag_forces_preflight() {
    let r = Request::builder(O, T).use_cors_preflight(true).build().unwrap();
    assert!(r.needs_preflight());
    assert_eq!(
        r.preflight().unwrap().header("access-control-request-method"),
        Some("GET")
    );
}

#[test]
fn body_types_set_content_type() {
    let r = Request::builder(O, T)
        .method("POST")
        .body(BodyType::Text)
        .build()
        .unwrap();
    assert!(!r.needs_preflight());
    assert!(r
        .headers()
        .iter()
        .any(|(n, v)| n == "Content-Type" && v == b"text/plain;charset=UTF-8"));
    for b in [
        BodyType::UrlSearchParams,
        BodyType::FormData,
        BodyType::Blob("Text/Plain".into()),
    ] {
        let r = Request::builder(O, T).method("POST").body(b).build().unwrap();
        assert!(!r.needs_preflight());
    }
    let r = Request::builder(O, T)
        .method("POST")
        .body(BodyType::parse("application/json"))
        .build()
        .unwrap();
    assert_eq!(r.unsafe_header_names(), ["content-type"]);
    // An explicit Content-Type wins over the body's.
    let r = Request::builder(O, T)
        .method("POST")
        .header("content-type", "application/json")
        .body(BodyType::Text)
        .build()
        .unwrap();
    assert_eq!(r.unsafe_header_names(), ["content-type"]);
    // Empty blob type: no Content-Type at all.
    let r = Request::builder(O, T)
        .method("POST")
        .body(BodyType::Blob(String::new()))
        .build()
        .unwrap();
    assert!(!r.headers().iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")));
    let e = Request::builder(O, T).body(BodyType::Text).build().unwrap_err();
    assert_eq!(e.code(), "body-with-get-or-head");
}

#[test]
fn input_errors() {
    let e = |b: RequestBuilder| b.build().unwrap_err().code();
    assert_eq!(e(Request::builder(O, T).method("connect")), "forbidden-method");
    assert_eq!(e(Request::builder(O, T).method("TRACK")), "forbidden-method");
    assert_eq!(e(Request::builder(O, T).method("Bad method")), "invalid-method");
    assert_eq!(e(Request::builder(O, T).header("Cookie", "a=b")), "forbidden-header");
    assert_eq!(
        e(Request::builder(O, T).header("Sec-Fetch-Mode", "cors")),
        "forbidden-header"
    );
    assert_eq!(
        e(Request::builder(O, T).header("Origin", "https://x")),
        "forbidden-header"
    );
    assert_eq!(
        e(Request::builder(O, T).header("header name", "x")),
        "invalid-header-name"
    );
    assert_eq!(e(Request::builder(O, T).header("x", "a\nb")), "invalid-header-value");
    assert_eq!(
        e(Request::builder(O, T).header("x", "\u{20ac}")),
        "invalid-header-value"
    );
    assert_eq!(e(Request::builder("app.example", T)), "invalid-origin");
    assert_eq!(e(Request::builder(O, "ftp://api.example/")), "invalid-url");
    assert_eq!(e(Request::builder(O, "https://u:p@api.example/")), "invalid-url");
    assert_eq!(e(Request::builder(O, "/relative")), "invalid-url");
    let msg = Request::builder(O, T)
        .header("Cookie", "a")
        .build()
        .unwrap_err()
        .to_string();
    assert!(msg.contains("cannot set"), "{msg}");
}

#[test]
fn values_are_normalized_and_latin1() {
    let r = req("GET", &[("X-A", "  v \t"), ("X-B", "caf\u{e9}")]);
    assert_eq!(r.headers()[0].1, b"v");
    assert_eq!(r.headers()[1].1, b"caf\xE9");
    // An empty value is fine (x-force-preflight:).
    let r = req("GET", &[("x-force-preflight", "")]);
    assert_eq!(r.unsafe_header_names(), ["x-force-preflight"]);
}

#[test]
fn same_origin_never_preflights() {
    let r = Request::builder("https://api.example", T)
        .method("PUT")
        .header("X-A", "1")
        .build()
        .unwrap();
    assert!(r.is_same_origin());
    assert!(r.preflight().is_none());
    // Same-origin PUT still carries Origin; same-origin GET does not.
    assert!(r.actual_headers().iter().any(|(n, _)| n == "Origin"));
    let r = Request::builder("https://api.example:443", T).build().unwrap();
    assert!(!r.actual_headers().iter().any(|(n, _)| n == "Origin"));
    // A null origin is never same-origin.
    let r = Request::builder("null", T).build().unwrap();
    assert!(!r.is_same_origin());
    assert!(r.actual_headers().iter().any(|(n, v)| n == "Origin" && v == b"null"));
}

#[test]
fn trace_explains() {
    let r = req("patch", &[("Content-Type", "application/json")]);
    let t = r.trace();
    assert!(t.is_ok());
    let text = t.to_string();
    assert!(text.contains("`patch`"), "{text}");
    assert!(text.contains("application/json"), "{text}");
    assert!(text.contains("Access-Control-Request-Headers: content-type"), "{text}");
    let r = req("get", &[]);
    let text = r.trace().to_string();
    assert!(text.contains("`get` is normalized to `GET`"), "{text}");
    assert!(text.contains("no preflight"), "{text}");
}
