//! Header names: the forbidden list, the bounded `Access-Control-Request-Headers`
//! parser, and `Vary` merging.

use http::header::{self, HeaderMap, HeaderValue};

use crate::method::{is_tchar, is_token};

/// Header names a script can never set (the Fetch Standard's forbidden
/// request-header names, lowercase). `proxy-*` and `sec-*` are forbidden as
/// prefixes. Shared by the server half (config validation) and the
/// user-agent half (`agent`).
pub(crate) const FORBIDDEN_REQUEST_HEADERS: [&str; 21] = [
    "accept-charset",
    "accept-encoding",
    "access-control-request-headers",
    "access-control-request-method",
    "connection",
    "content-length",
    "cookie",
    "cookie2",
    "date",
    "dnt",
    "expect",
    "host",
    "keep-alive",
    "origin",
    "referer",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
];

/// Whether a (lowercase) header name is one a browser script cannot set, so
/// that allowing it in a preflight is meaningless.
///
/// ```
/// assert!(corsair::is_forbidden_request_header("cookie"));
/// assert!(corsair::is_forbidden_request_header("sec-fetch-mode"));
/// assert!(!corsair::is_forbidden_request_header("x-request-id"));
/// ```
pub fn is_forbidden_request_header(lower: &str) -> bool {
    FORBIDDEN_REQUEST_HEADERS.contains(&lower) || lower.starts_with("proxy-") || lower.starts_with("sec-")
}

/// Whether `s` is a valid header field name (an HTTP token).
pub(crate) fn is_header_name(s: &str) -> bool {
    is_token(s.as_bytes())
}

/// Upper bounds that keep an adversarial `Access-Control-Request-Headers`
/// cheap: browsers send a lowercase, sorted, comma-joined list without empty
/// elements, so anything far outside these is not a browser.
pub(crate) const MAX_EMPTY_ELEMENTS: usize = 16;
pub(crate) const MAX_OWS: usize = 2;

/// One element of a comma-separated header list, with its position in the
/// header line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Element<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) start: usize,
}

/// Walks the names of an `Access-Control-Request-Headers` list across all of
/// its header lines in one pass, with bounded work per byte and a bounded
/// number of empty elements. Calls `f` for each name; stops at the first
/// `Err` from `f`. Returns `Err(None)` for a malformed list.
pub(crate) fn for_each_list_element<'a, E>(
    lines: impl Iterator<Item = &'a HeaderValue>,
    mut f: impl FnMut(usize, Element<'a>) -> Result<(), E>,
) -> Result<(), Option<E>> {
    // One pass per element: optional whitespace, a run of token bytes,
    // optional whitespace, then a comma or the end of the line; anything
    // else is malformed.
    let mut empty = 0usize;
    for (line_no, line) in lines.enumerate() {
        let bytes = line.as_bytes();
        let len = bytes.len();
        let mut i = 0usize;
        loop {
            let start = i;
            while i < len && matches!(bytes[i], b' ' | b'\t') {
                i += 1;
            }
            let name_start = i;
            while i < len && is_tchar(bytes[i]) {
                i += 1;
            }
            let name_end = i;
            while i < len && matches!(bytes[i], b' ' | b'\t') {
                i += 1;
            }
            if (i < len && bytes[i] != b',') || name_start - start > MAX_OWS || i - name_end > MAX_OWS {
                return Err(None);
            }
            if name_start == name_end {
                empty += 1;
                if empty > MAX_EMPTY_ELEMENTS {
                    return Err(None);
                }
            } else {
                f(
                    line_no,
                    Element {
                        name: &bytes[name_start..name_end],
                        start: name_start,
                    },
                )
                .map_err(Some)?;
            }
            if i == len {
                break;
            }
            i += 1; // the comma
        }
    }
    Ok(())
}

/// Appends `token` to the response's `Vary` unless it is already there
/// (case-insensitively) or `Vary: *` is present.
pub(crate) fn append_vary(headers: &mut HeaderMap, token: &str, value: &HeaderValue) {
    for v in headers.get_all(header::VARY) {
        for item in v.as_bytes().split(|&b| b == b',') {
            let item = item.trim_ascii();
            if item == b"*" || item.eq_ignore_ascii_case(token.as_bytes()) {
                return;
            }
        }
    }
    headers.append(header::VARY, value.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(lines: &[&str]) -> Result<Vec<String>, ()> {
        let values: Vec<HeaderValue> = lines.iter().map(|l| HeaderValue::from_str(l).unwrap()).collect();
        let mut out = Vec::new();
        for_each_list_element(values.iter(), |_, e| {
            out.push(String::from_utf8(e.name.to_vec()).unwrap());
            Ok::<(), ()>(())
        })
        .map_err(|_| ())?;
        Ok(out)
    }

    #[test]
    fn lists_span_lines_and_tolerate_a_little_whitespace() {
        assert_eq!(names(&["a,b"]).unwrap(), ["a", "b"]);
        assert_eq!(names(&["a", "b,c"]).unwrap(), ["a", "b", "c"]);
        assert_eq!(
            names(&["authorization ,content-type"]).unwrap(),
            ["authorization", "content-type"]
        );
        assert_eq!(names(&["a, b"]).unwrap(), ["a", "b"]);
        assert_eq!(names(&[",a,,b,"]).unwrap(), ["a", "b"]);
        assert_eq!(names(&[""]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn malformed_or_adversarial_lists_fail_fast() {
        assert!(names(&["a b"]).is_err());
        assert!(names(&["a;b"]).is_err());
        assert!(names(&["a,    b"]).is_err());
        assert!(names(&[&",".repeat(60 * 1024)]).is_err());
        assert!(names(&[",,,,,,,,,"; 3]).is_err());
    }

    #[test]
    fn vary_is_merged_without_duplicates() {
        let origin = HeaderValue::from_static("Origin");
        let mut h = HeaderMap::new();
        append_vary(&mut h, "origin", &origin);
        append_vary(&mut h, "origin", &origin);
        assert_eq!(h.get_all(header::VARY).iter().count(), 1);

        let mut h = HeaderMap::new();
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding, origin"));
        append_vary(&mut h, "origin", &origin);
        assert_eq!(h.get_all(header::VARY).iter().count(), 1);

        let mut h = HeaderMap::new();
        h.insert(header::VARY, HeaderValue::from_static("*"));
        append_vary(&mut h, "origin", &origin);
        assert_eq!(h.get_all(header::VARY).iter().collect::<Vec<_>>(), ["*"]);

        let mut h = HeaderMap::new();
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        append_vary(&mut h, "origin", &origin);
        assert_eq!(
            h.get_all(header::VARY).iter().collect::<Vec<_>>(),
            ["Accept-Encoding", "Origin"]
        );
    }

    #[test]
    fn forbidden_names() {
        for n in [
            "cookie",
            "host",
            "origin",
            "sec-ch-ua",
            "proxy-authorization",
            "content-length",
            "te",
        ] {
            assert!(is_forbidden_request_header(n), "{n}");
        }
        for n in ["authorization", "content-type", "x-api-key", "accept"] {
            assert!(!is_forbidden_request_header(n), "{n}");
        }
    }
}
