//! Fetch §2.2.1 "Methods": what a method is, its normalization, the
//! CORS-safelisted methods and the forbidden methods.

use super::syntax::is_token;

/// The methods normalization uppercases (Fetch §2.2.1, "normalize").
const NORMALIZED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];

/// Whether `method` is a method: Fetch §2.2.1, "a byte sequence that matches
/// the method token production" (an HTTP token).
///
/// ```
/// use corsair::fetch::is_method;
/// assert!(is_method("M-SEARCH"));
/// assert!(!is_method("Bad method name"));
/// assert!(!is_method(""));
/// ```
#[inline]
pub fn is_method(method: impl AsRef<[u8]>) -> bool {
    is_token(method.as_ref())
}

/// Normalizes a method (Fetch §2.2.1, "normalize"): a byte-case-insensitive
/// match for `DELETE`, `GET`, `HEAD`, `OPTIONS`, `POST` or `PUT` is
/// uppercased; every other method keeps its case (`patch` stays `patch`).
/// `fetch()` and `XMLHttpRequest` normalize; servers compare the result
/// byte for byte. Never allocates.
///
/// ```
/// use corsair::fetch::normalize_method;
/// assert_eq!(normalize_method("put"), "PUT");
/// assert_eq!(normalize_method("patch"), "patch");
/// ```
pub fn normalize_method(method: &str) -> &str {
    NORMALIZED
        .iter()
        .find(|n| n.eq_ignore_ascii_case(method))
        .map_or(method, |n| n)
}

/// Whether `method` is one of the six methods [`normalize_method`]
/// uppercases, as normalization leaves it.
pub(crate) fn is_uppercased_by_normalization(method: &str) -> bool {
    NORMALIZED.contains(&method)
}

/// Whether `method` is a CORS-safelisted method (Fetch §2.2.1): `GET`,
/// `HEAD` or `POST`, byte for byte, so a method is normalized first.
///
/// ```
/// use corsair::fetch::{is_cors_safelisted_method, normalize_method};
/// assert!(is_cors_safelisted_method("POST"));
/// assert!(!is_cors_safelisted_method("post"));
/// assert!(is_cors_safelisted_method(normalize_method("post")));
/// assert!(!is_cors_safelisted_method(b"PUT"));
/// ```
#[inline]
pub fn is_cors_safelisted_method(method: impl AsRef<[u8]>) -> bool {
    matches!(method.as_ref(), b"GET" | b"HEAD" | b"POST")
}

/// Whether `method` is a forbidden method (Fetch §2.2.1): a
/// byte-case-insensitive match for `CONNECT`, `TRACE` or `TRACK`. `fetch()`
/// throws for these, so no browser script can send one cross-origin.
///
/// ```
/// use corsair::fetch::is_forbidden_method;
/// assert!(is_forbidden_method("Track"));
/// assert!(!is_forbidden_method("PATCH"));
/// ```
pub fn is_forbidden_method(method: impl AsRef<[u8]>) -> bool {
    let m = method.as_ref();
    [&b"CONNECT"[..], b"TRACE", b"TRACK"]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_uppercases_six_methods_only() {
        for (input, out) in [
            ("get", "GET"),
            ("Get", "GET"),
            ("post", "POST"),
            ("pUt", "PUT"),
            ("delete", "DELETE"),
            ("options", "OPTIONS"),
            ("head", "HEAD"),
            ("patch", "patch"),
            ("PATCH", "PATCH"),
            ("Purge", "Purge"),
            ("NEW", "NEW"),
            ("super", "super"),
            ("GETS", "GETS"),
        ] {
            assert_eq!(normalize_method(input), out, "{input}");
        }
        assert!(is_uppercased_by_normalization("OPTIONS"));
        assert!(!is_uppercased_by_normalization("options"));
        assert!(!is_uppercased_by_normalization("PATCH"));
    }

    #[test]
    fn safelist_is_byte_exact() {
        for m in ["GET", "HEAD", "POST"] {
            assert!(is_cors_safelisted_method(m));
        }
        for m in ["get", "Post", "PUT", "OPTIONS", "GET "] {
            assert!(!is_cors_safelisted_method(m), "{m}");
        }
    }

    #[test]
    fn forbidden_methods_any_case() {
        for m in ["CONNECT", "connect", "TRACE", "trace", "Track"] {
            assert!(is_forbidden_method(m), "{m}");
        }
        for m in ["PATCH", "TRACEX", "TRAC", ""] {
            assert!(!is_forbidden_method(m), "{m}");
        }
    }

    #[test]
    fn methods_are_tokens() {
        assert!(is_method("M-SEARCH"));
        assert!(is_method("*"));
        assert!(!is_method("Bad method name"));
        assert!(!is_method("GET,PUT"));
        assert!(!is_method(""));
    }
}
