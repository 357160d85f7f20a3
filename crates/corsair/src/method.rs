//! Methods: the Fetch Standard's normalization, safelist and forbidden list.

/// Whether `b` is an HTTP token (RFC 9110 `tchar`).
#[inline]
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// `tchar` (RFC 9110 §5.6.2) as a table: one load per byte.
static TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        i += 1;
    }
    t
};

/// Whether `s` is a non-empty HTTP token.
#[inline]
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// The methods `fetch()` uppercases: "if it is a byte-case-insensitive match
/// for `DELETE`, `GET`, `HEAD`, `OPTIONS`, `POST`, or `PUT`, byte-uppercase it".
const NORMALIZED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];

/// Normalizes a method as the Fetch Standard does: the six well-known methods
/// are uppercased, every other method keeps its case (`patch` stays `patch`).
///
/// ```
/// assert_eq!(corsair::normalize_method("put"), "PUT");
/// assert_eq!(corsair::normalize_method("patch"), "patch");
/// ```
pub fn normalize_method(m: &str) -> std::borrow::Cow<'_, str> {
    match NORMALIZED.iter().find(|n| n.eq_ignore_ascii_case(m)) {
        Some(n) => std::borrow::Cow::Borrowed(n),
        None => std::borrow::Cow::Borrowed(m),
    }
}

/// Whether a (normalized) method is CORS-safelisted: `GET`, `HEAD` or `POST`.
#[inline]
pub fn is_safelisted_method(m: &[u8]) -> bool {
    matches!(m, b"GET" | b"HEAD" | b"POST")
}

/// Whether a method is forbidden in `fetch()` (`CONNECT`, `TRACE`, `TRACK`,
/// case-insensitively): no browser can ever send it cross-origin.
pub fn is_forbidden_method(m: &str) -> bool {
    ["CONNECT", "TRACE", "TRACK"].iter().any(|f| f.eq_ignore_ascii_case(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_follows_fetch() {
        for (i, o) in [
            ("get", "GET"),
            ("Get", "GET"),
            ("delete", "DELETE"),
            ("options", "OPTIONS"),
            ("post", "POST"),
            ("put", "PUT"),
            ("head", "HEAD"),
            ("patch", "patch"),
            ("PATCH", "PATCH"),
            ("Purge", "Purge"),
        ] {
            assert_eq!(normalize_method(i), o);
        }
    }

    #[test]
    fn safelist_is_case_sensitive() {
        assert!(is_safelisted_method(b"GET"));
        assert!(is_safelisted_method(b"POST"));
        assert!(is_safelisted_method(b"HEAD"));
        assert!(!is_safelisted_method(b"get"));
        assert!(!is_safelisted_method(b"PUT"));
    }

    #[test]
    fn forbidden_methods() {
        assert!(is_forbidden_method("connect"));
        assert!(is_forbidden_method("TRACE"));
        assert!(is_forbidden_method("Track"));
        assert!(!is_forbidden_method("PATCH"));
    }

    #[test]
    fn tokens() {
        assert!(is_token(b"PUT"));
        assert!(is_token(b"x-custom_1"));
        assert!(!is_token(b""));
        assert!(!is_token(b"GET, PUT"));
        assert!(!is_token(b"GET,PUT"));
        assert!(!is_token(b"a b"));
        assert!(!is_token(b"a\"b"));
    }
}
