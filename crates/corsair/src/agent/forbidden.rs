//! Forbidden request-header names: headers a script cannot set (the browser
//! drops them silently, or owns them itself).

use super::method::is_forbidden_method;
use super::syntax::{isomorphic_decode, trim_http_whitespace};

use crate::headers::FORBIDDEN_REQUEST_HEADERS as FORBIDDEN_NAMES;

/// Method-override headers, forbidden when their value names a forbidden method.
const OVERRIDE_NAMES: [&str; 3] = ["x-http-method", "x-http-method-override", "x-method-override"];

/// Whether (`name`, `value`) is a forbidden request-header: a header that
/// `fetch()` and `XMLHttpRequest` never let a script set.
///
/// ```
/// use corsair::agent::is_forbidden_request_header;
/// assert!(is_forbidden_request_header("Cookie", b"a=b"));
/// assert!(is_forbidden_request_header("Sec-Fetch-Mode", b"cors"));
/// assert!(is_forbidden_request_header("X-HTTP-Method-Override", b"TRACE"));
/// assert!(!is_forbidden_request_header("X-HTTP-Method-Override", b"PATCH"));
/// assert!(!is_forbidden_request_header("Authorization", b"Bearer x"));
/// ```
pub fn is_forbidden_request_header(name: &str, value: &[u8]) -> bool {
    forbidden_reason(name, value).is_some()
}

/// Why (`name`, `value`) is forbidden, or `None` when a script may set it.
pub(crate) fn forbidden_reason(name: &str, value: &[u8]) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    if FORBIDDEN_NAMES.contains(&lower.as_str()) {
        return Some(format!(
            "`{name}` is a forbidden request-header name: the browser controls it and ignores a script's value"
        ));
    }
    if lower.starts_with("proxy-") || lower.starts_with("sec-") {
        return Some(format!(
            "`{name}` starts with `{}`, which the browser reserves for itself",
            &lower[..lower.find('-').map_or(0, |i| i + 1)]
        ));
    }
    if OVERRIDE_NAMES.contains(&lower.as_str()) {
        // get, decode, and split: the value is a comma list; any forbidden method forbids it.
        let decoded = isomorphic_decode(value);
        for part in decoded.split(',') {
            let part = isomorphic_decode(trim_http_whitespace(part.as_bytes()));
            if is_forbidden_method(&part) {
                return Some(format!(
                    "`{name}` names the forbidden method `{part}`, so the browser refuses to send it"
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for name in [
            "Accept-Charset",
            "accept-encoding",
            "Access-Control-Request-Headers",
            "access-control-request-method",
            "Connection",
            "Content-Length",
            "Cookie",
            "Cookie2",
            "Date",
            "DNT",
            "Expect",
            "Host",
            "Keep-Alive",
            "Origin",
            "Referer",
            "Set-Cookie",
            "TE",
            "Trailer",
            "Transfer-Encoding",
            "Upgrade",
            "Via",
            "Proxy-Authorization",
            "proxy-foo",
            "Sec-Fetch-Site",
            "sec-",
        ] {
            assert!(is_forbidden_request_header(name, b"x"), "{name}");
        }
        for name in [
            "Authorization",
            "Accept",
            "Content-Type",
            "X-Requested-With",
            "User-Agent",
            "Range",
            "proxy",
            "secret",
        ] {
            assert!(!is_forbidden_request_header(name, b"x"), "{name}");
        }
    }

    #[test]
    fn method_override_values() {
        assert!(is_forbidden_request_header("X-HTTP-Method", b"connect"));
        assert!(is_forbidden_request_header("x-method-override", b"GET, Track"));
        assert!(is_forbidden_request_header("X-HTTP-Method-Override", b" trace "));
        assert!(!is_forbidden_request_header("X-HTTP-Method-Override", b"DELETE"));
        assert!(!is_forbidden_request_header("X-HTTP-Method-Override", b"TRACEX"));
    }
}
