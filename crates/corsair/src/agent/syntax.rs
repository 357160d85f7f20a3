//! Byte-level HTTP syntax used by the CORS algorithms: tokens, optional
//! whitespace, comma-separated lists ("extract header list values") and a
//! printable rendering of raw bytes for explanations.

use http::HeaderMap;

/// Whether `b` is a `tchar` (RFC 9110 §5.6.2).
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        )
}

/// Whether `s` is a non-empty `token`.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Removes leading and trailing optional whitespace (SP, HT).
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Whether `b` is HTTP whitespace (HT, LF, CR, SP).
pub(crate) fn is_http_whitespace(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\r' | b' ')
}

/// Removes leading and trailing HTTP whitespace (HT, LF, CR, SP), as the
/// Fetch Standard's header-value "normalize" does.
pub(crate) fn trim_http_whitespace(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_http_whitespace(*first) {
            break;
        }
        s = rest;
    }
    s = trim_http_whitespace_end(s);
    s
}

/// Removes trailing HTTP whitespace.
pub(crate) fn trim_http_whitespace_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if !is_http_whitespace(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// The result of *extract header list values* for a `#token` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListValues {
    /// The header is absent (null).
    Absent,
    /// An element is not a token (failure); holds the rendered element.
    Invalid(String),
    /// The tokens, in order, from all header lines; empty elements dropped.
    Values(Vec<String>),
}

/// Parses every line of `name` as a comma-separated list of tokens. Values
/// from several lines are concatenated, empty elements are allowed, and any
/// non-token element makes the whole header fail.
pub(crate) fn extract_list(headers: &HeaderMap, name: &http::HeaderName) -> ListValues {
    let mut any = false;
    let mut out = Vec::new();
    for value in headers.get_all(name) {
        any = true;
        for element in value.as_bytes().split(|&b| b == b',') {
            let element = trim_ows(element);
            if element.is_empty() {
                continue;
            }
            if !is_token(element) {
                return ListValues::Invalid(show(element));
            }
            out.push(isomorphic_decode(element));
        }
    }
    if any {
        ListValues::Values(out)
    } else {
        ListValues::Absent
    }
}

/// The values of all lines of `name`, as they came.
pub(crate) fn lines<'a>(headers: &'a HeaderMap, name: &http::HeaderName) -> Vec<&'a [u8]> {
    headers.get_all(name).iter().map(|v| v.as_bytes()).collect()
}

/// *Get* a header: all lines joined with `, `, or `None` when absent.
pub(crate) fn get_combined(headers: &HeaderMap, name: &http::HeaderName) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for value in headers.get_all(name) {
        match &mut out {
            None => out = Some(value.as_bytes().to_vec()),
            Some(buf) => {
                buf.extend_from_slice(b", ");
                buf.extend_from_slice(value.as_bytes());
            }
        }
    }
    out
}

/// Decodes bytes as ISO-8859-1 (each byte becomes the code point of the same value).
pub(crate) fn isomorphic_decode(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Encodes a string whose code points are all at most U+00FF into bytes, as a
/// browser turns a JavaScript string into a `ByteString`. `None` when a code
/// point is above U+00FF (the API would throw a `TypeError`).
pub(crate) fn isomorphic_encode(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// Renders bytes for a message: printable ASCII as is, anything else as `\xNN`.
pub(crate) fn show(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7f).contains(&b) {
            out.push(char::from(b));
        } else if b == b'\t' {
            out.push_str("\\t");
        } else {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// Joins names as `` `a`, `b` and `c` `` for messages.
pub(crate) fn quote_list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{}`", s.as_ref())).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::ACCESS_CONTROL_EXPOSE_HEADERS as ACEH;
    use http::HeaderValue;

    fn map(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            if let Ok(v) = HeaderValue::from_bytes(v) {
                h.append(ACEH, v);
            }
        }
        h
    }

    #[test]
    fn tokens_and_ows() {
        assert!(is_token(b"x-test"));
        assert!(is_token(b"'bb-8'"));
        assert!(is_token(b"*"));
        assert!(!is_token(b""));
        assert!(!is_token(b"\"bb-8\""));
        assert!(!is_token(b"no no"));
        assert!(!is_token(b"caf\xE9"));
        assert_eq!(trim_ows(b" \t* \t"), b"*");
        assert_eq!(trim_ows(b""), b"");
        assert_eq!(trim_http_whitespace(b"\r\n a b \n"), b"a b");
    }

    #[test]
    fn list_extraction() {
        assert_eq!(extract_list(&HeaderMap::new(), &ACEH), ListValues::Absent);
        assert_eq!(extract_list(&map(&[b""]), &ACEH), ListValues::Values(vec![]));
        assert_eq!(
            extract_list(&map(&[b",y-lol,x-PriNT, ,,,Y-PRINT"]), &ACEH),
            ListValues::Values(vec!["y-lol".into(), "x-PriNT".into(), "Y-PRINT".into()])
        );
        assert_eq!(
            extract_list(&map(&[b"bb-8", b"no no"]), &ACEH),
            ListValues::Invalid("no no".into())
        );
        assert_eq!(
            extract_list(&map(&[b"a", b"b, c"]), &ACEH),
            ListValues::Values(vec!["a".into(), "b".into(), "c".into()])
        );
    }

    #[test]
    fn combined_and_rendering() {
        assert_eq!(get_combined(&map(&[b"*", b"*"]), &ACEH), Some(b"*, *".to_vec()));
        assert_eq!(get_combined(&HeaderMap::new(), &ACEH), None);
        assert_eq!(show(b"a\x01\tb"), "a\\x01\\tb");
        assert_eq!(isomorphic_encode("caf\u{e9}"), Some(b"caf\xE9".to_vec()));
        assert_eq!(isomorphic_encode("\u{20ac}"), None);
        assert_eq!(isomorphic_decode(b"caf\xE9"), "caf\u{e9}");
        assert_eq!(quote_list(&["a", "b", "c"]), "`a`, `b` and `c`");
        assert_eq!(quote_list(&["a"]), "`a`");
    }
}
