//! Which response headers a script may read: CORS-safelisted response-header
//! names plus `Access-Control-Expose-Headers`, never `Set-Cookie`.

use http::header::ACCESS_CONTROL_EXPOSE_HEADERS;
use http::HeaderMap;

use super::request::Request;
use super::text::{quote_list, show};
use super::trace::{Step, Trace};
use crate::fetch::is_forbidden_response_header_name;
use crate::fetch::list::{extract_list, ListValues};

/// Response headers every CORS response exposes (Fetch §2.2.2
/// "CORS-safelisted response-header name").
pub const SAFELISTED_RESPONSE_HEADERS: [&str; 7] = [
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
];

/// The response headers a script can and cannot read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ExposedHeaders {
    /// Names (lowercase, in response order) the script can read.
    pub visible: Vec<String>,
    /// Names present in the response that the script cannot read.
    pub hidden: Vec<String>,
}

/// Filters a CORS response's header names as the browser does for `req`.
///
/// ```
/// use corsair::agent::{exposed_headers, Request};
/// use http::{HeaderMap, HeaderValue};
///
/// let req = Request::builder("https://app.example", "https://api.example/r").build()?;
/// let mut headers = HeaderMap::new();
/// headers.insert("content-type", HeaderValue::from_static("text/plain"));
/// headers.insert("x-request-id", HeaderValue::from_static("7"));
/// headers.insert("set-cookie", HeaderValue::from_static("a=b"));
/// headers.insert("access-control-expose-headers", HeaderValue::from_static("X-Request-Id, Set-Cookie"));
/// let exposed = exposed_headers(&req, &headers);
/// assert_eq!(exposed.visible, ["content-type", "x-request-id"]);
/// assert!(exposed.hidden.contains(&"set-cookie".to_string()));
/// # Ok::<(), corsair::agent::RequestError>(())
/// ```
pub fn exposed_headers(req: &Request, headers: &HeaderMap) -> ExposedHeaders {
    exposed_headers_traced(req, headers, &mut Trace::new())
}

/// [`exposed_headers`], appending an explanation step to `trace`.
pub fn exposed_headers_traced(req: &Request, headers: &HeaderMap, trace: &mut Trace) -> ExposedHeaders {
    // Fetch §4.1 "Main fetch", step 14.1.1: extract the header list values
    // of `Access-Control-Expose-Headers`.
    let listed = extract_list(headers, &ACCESS_CONTROL_EXPOSE_HEADERS);
    let mut note = String::new();
    let (list, all): (Vec<String>, bool) = if req.is_same_origin() {
        note.push_str("same-origin response: every header except Set-Cookie is readable; ");
        (Vec::new(), true)
    } else {
        match listed {
            // Step 14.1.3: null or failure leave the list empty.
            ListValues::Absent => (Vec::new(), false),
            ListValues::Invalid(element) => {
                note.push_str(&format!(
                    "Access-Control-Expose-Headers contains `{}`, which is not a header name, so the whole header is ignored; ",
                    show(&element)
                ));
                (Vec::new(), false)
            }
            ListValues::Values(v) => {
                // Step 14.1.2: `*` without credentials exposes every name;
                // step 14.1.3: otherwise the names as listed (`*` literal).
                let star = v.iter().any(|n| n == "*");
                if star && !req.is_credentialed() {
                    note.push_str("Access-Control-Expose-Headers `*` exposes every header (no credentials); ");
                    (v, true)
                } else {
                    if star {
                        note.push_str(
                            "`*` in Access-Control-Expose-Headers is a literal name for a request with credentials; ",
                        );
                    }
                    (v, false)
                }
            }
        }
    };
    let mut out = ExposedHeaders::default();
    for name in headers.keys() {
        let name = name.as_str();
        // A CORS filtered response (Fetch §2.2.6) shows the CORS-safelisted
        // response-header names given the exposed list, and never a
        // forbidden response-header name.
        let visible = !is_forbidden_response_header_name(name)
            && (all
                || SAFELISTED_RESPONSE_HEADERS.contains(&name)
                || list.iter().any(|l| l.eq_ignore_ascii_case(name)));
        if visible {
            out.visible.push(name.to_string());
        } else {
            out.hidden.push(name.to_string());
        }
    }
    let mut explanation = note;
    explanation.push_str(&if out.visible.is_empty() {
        "the script can read no response header".to_string()
    } else {
        format!("the script can read {}", quote_list(&out.visible))
    });
    let readable_hidden: Vec<&String> = out
        .hidden
        .iter()
        .filter(|h| !is_forbidden_response_header_name(h) && !h.starts_with("access-control-"))
        .collect();
    if !readable_hidden.is_empty() {
        explanation.push_str(&format!(
            "; hidden: {} (list them in Access-Control-Expose-Headers to expose them)",
            quote_list(&readable_hidden)
        ));
    }
    trace.push(Step::pass("expose-headers", explanation));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::CredentialsMode;
    use http::{HeaderName, HeaderValue};

    const O: &str = "https://app.example";
    const T: &str = "https://api.example/r";

    fn map(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_bytes(v).unwrap(),
            );
        }
        h
    }

    fn plain() -> Request {
        Request::builder(O, T).build().unwrap()
    }

    fn cred() -> Request {
        Request::builder(O, T)
            .credentials(CredentialsMode::Include)
            .build()
            .unwrap()
    }

    fn base() -> Vec<(&'static str, &'static [u8])> {
        vec![
            ("access-control-allow-origin", b"*"),
            ("cache-control", b"no-cache"),
            ("content-language", b"fr"),
            ("content-type", b"text/plain"),
            ("expires", b"0"),
            ("last-modified", b"Mon, 01 Jan 2024 00:00:00 GMT"),
            ("pragma", b"no-cache"),
            ("content-length", b"3"),
            ("age", b"1"),
            ("server", b"x"),
            ("set-cookie", b"a=b"),
        ]
    }

    #[test]
    fn vector_46_safelisted_only() {
        let e = exposed_headers(&plain(), &map(&base()));
        assert_eq!(
            e.visible,
            [
                "cache-control",
                "content-language",
                "content-type",
                "expires",
                "last-modified",
                "pragma",
                "content-length"
            ]
        );
        assert!(e.hidden.contains(&"age".to_string()));
        assert!(e.hidden.contains(&"set-cookie".to_string()));
    }

    #[test]
    fn vector_47_aceh_adds_but_never_set_cookie() {
        for name in ["Age", "Server", "age"] {
            let mut pairs = base();
            pairs.push(("access-control-expose-headers", name.as_bytes()));
            let e = exposed_headers(&plain(), &map(&pairs));
            assert!(e.visible.contains(&name.to_ascii_lowercase()), "{name}");
        }
        let mut pairs = base();
        pairs.push(("set-cookie2", b"x"));
        pairs.push(("access-control-expose-headers", b"Set-Cookie, Set-Cookie2"));
        let e = exposed_headers(&plain(), &map(&pairs));
        assert!(!e.visible.iter().any(|v| v.starts_with("set-cookie")));
    }

    #[test]
    fn vector_48_49_50_star() {
        let pairs: Vec<(&str, &[u8])> = vec![
            ("access-control-allow-origin", b"*"),
            ("access-control-expose-headers", b"*"),
            ("test", b"X"),
            ("set-cookie", b"X"),
            ("*", b"whoa"),
            ("content-type", b"text/plain"),
        ];
        let e = exposed_headers(&plain(), &map(&pairs));
        assert!(e.visible.contains(&"test".to_string()));
        assert!(e.visible.contains(&"*".to_string()));
        assert!(!e.visible.contains(&"set-cookie".to_string()));
        let e = exposed_headers(&cred(), &map(&pairs));
        assert!(!e.visible.contains(&"test".to_string()));
        assert!(e.visible.contains(&"*".to_string()));
        assert!(e.visible.contains(&"content-type".to_string()));
        let two_lines: Vec<(&str, &[u8])> = vec![
            ("access-control-expose-headers", b"*"),
            ("access-control-expose-headers", b"set-cookie"),
            ("test", b"X"),
            ("set-cookie", b"X"),
        ];
        let e = exposed_headers(&plain(), &map(&two_lines));
        assert!(e.visible.contains(&"test".to_string()));
        assert!(!e.visible.contains(&"set-cookie".to_string()));
    }

    #[test]
    fn vector_51_parsing() {
        let cases: [(bool, &[&[u8]]); 10] = [
            (true, &[b"BB-8"]),
            (true, &[b",bb-8"]),
            (true, &[b"", b"bb-8"]),
            (true, &[b"bb-8", b"no"]),
            (true, &[b"'bb-8',bb-8"]),
            (false, &[b"bb-8, no no"]),
            (false, &[b"bb-8", b"no no"]),
            (false, &[b"\"bb-8\",bb-8"]),
            (false, &[b"bb-8\x0C"]),
            (false, &[b"bb-8\x0B"]),
        ];
        for (i, (exposed, lines)) in cases.into_iter().enumerate() {
            let mut h = HeaderMap::new();
            h.append("bb-8", HeaderValue::from_static("hey"));
            for l in lines {
                // \x0B and \x0C cannot be stored in a HeaderValue; they fail in browsers too.
                let v = HeaderValue::from_bytes(l).unwrap_or(HeaderValue::from_static("bb-8 \""));
                h.append(ACCESS_CONTROL_EXPOSE_HEADERS, v);
            }
            let e = exposed_headers(&plain(), &h);
            assert_eq!(e.visible.contains(&"bb-8".to_string()), exposed, "case {i}");
        }
    }

    #[test]
    fn vector_52_split_over_lines() {
        let pairs: Vec<(&str, &[u8])> = vec![
            (
                "access-control-expose-headers",
                b"X-Custom-Header, X-Custom-Header-Empty, X-Custom-Header-Comma",
            ),
            ("access-control-expose-headers", b"X-Second-Expose"),
            ("access-control-expose-headers", b"Date"),
            ("x-custom-header", b"test"),
            ("x-custom-header-empty", b""),
            ("x-custom-header-comma", b"1"),
            ("x-custom-header-comma", b"2"),
            ("x-second-expose", b"flyer"),
            ("date", b"today"),
            ("x-nonexposed", b"unicorn"),
        ];
        let e = exposed_headers(&plain(), &map(&pairs));
        for n in [
            "x-custom-header",
            "x-custom-header-empty",
            "x-custom-header-comma",
            "x-second-expose",
            "date",
        ] {
            assert!(e.visible.contains(&n.to_string()), "{n}");
        }
        assert!(e.hidden.contains(&"x-nonexposed".to_string()));
        let mut t = Trace::new();
        exposed_headers_traced(&plain(), &map(&pairs), &mut t);
        assert!(t.steps[0].explanation.contains("`x-nonexposed`"), "{}", t);
    }

    #[test]
    fn same_origin_sees_all_but_set_cookie() {
        let r = Request::builder("https://api.example", T).build().unwrap();
        let e = exposed_headers(&r, &map(&base()));
        assert!(e.visible.contains(&"server".to_string()));
        assert_eq!(e.hidden, ["set-cookie"]);
    }
}
