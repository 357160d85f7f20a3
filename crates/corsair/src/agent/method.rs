//! Methods: normalization, CORS-safelisted methods and forbidden methods.

use super::syntax::is_token;

/// The methods that [`normalize_method`] uppercases.
const NORMALIZED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];

/// Normalizes a method as `fetch()` and `XMLHttpRequest` do: a
/// case-insensitive match for `DELETE`, `GET`, `HEAD`, `OPTIONS`, `POST` or
/// `PUT` is uppercased; any other method keeps its case (`patch` stays `patch`).
///
/// ```
/// use corsair::agent::normalize_method;
/// assert_eq!(normalize_method("put"), "PUT");
/// assert_eq!(normalize_method("patch"), "patch");
/// ```
pub fn normalize_method(method: &str) -> String {
    NORMALIZED
        .iter()
        .find(|m| method.eq_ignore_ascii_case(m))
        .map_or_else(|| method.to_string(), |m| (*m).to_string())
}

/// Whether `method` is a CORS-safelisted method: exactly `GET`, `HEAD` or
/// `POST` (byte-exact, so normalize first).
pub fn is_cors_safelisted_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "POST")
}

/// Whether `method` is forbidden (`CONNECT`, `TRACE`, `TRACK`, any case):
/// `fetch()` throws for these.
pub fn is_forbidden_method(method: &str) -> bool {
    ["CONNECT", "TRACE", "TRACK"]
        .iter()
        .any(|m| method.eq_ignore_ascii_case(m))
}

/// Whether `method` is syntactically a method (an HTTP token).
pub fn is_method(method: &str) -> bool {
    is_token(method.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization() {
        // §1: DELETE/GET/HEAD/OPTIONS/POST/PUT are uppercased, others keep case.
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
            ("NEW", "NEW"),
            ("super", "super"),
        ] {
            assert_eq!(normalize_method(input), out, "{input}");
        }
    }

    #[test]
    fn safelisted_is_byte_exact() {
        assert!(is_cors_safelisted_method("GET"));
        assert!(is_cors_safelisted_method("HEAD"));
        assert!(is_cors_safelisted_method("POST"));
        assert!(!is_cors_safelisted_method("get"));
        assert!(!is_cors_safelisted_method("PUT"));
        assert!(is_cors_safelisted_method(&normalize_method("post")));
    }

    #[test]
    fn forbidden_and_syntax() {
        assert!(is_forbidden_method("CONNECT"));
        assert!(is_forbidden_method("trace"));
        assert!(is_forbidden_method("Track"));
        assert!(!is_forbidden_method("PATCH"));
        assert!(is_method("M-SEARCH"));
        assert!(is_method("*"));
        assert!(!is_method("Bad method name"));
        assert!(!is_method(""));
    }
}
