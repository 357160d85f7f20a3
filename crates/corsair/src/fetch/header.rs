//! Fetch §2.2.2 "Headers": the classes of header names (and, for the
//! method-override headers, values) that both halves need.

use super::list::get_decode_split;
use super::method::is_forbidden_method;
use super::syntax::{is_token, isomorphic_decode};

/// Fetch §2.2.2 "forbidden request-header", step 1: names forbidden
/// whatever their value (lowercase).
const FORBIDDEN_REQUEST_HEADER_NAMES: [&str; 21] = [
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

/// Fetch §2.2.2 "forbidden request-header", step 2: forbidden prefixes.
const FORBIDDEN_REQUEST_HEADER_PREFIXES: [&str; 2] = ["proxy-", "sec-"];

/// Fetch §2.2.2 "forbidden request-header", step 3: the method-override
/// headers, forbidden when their value names a forbidden method.
const METHOD_OVERRIDE_NAMES: [&str; 3] = ["x-http-method", "x-http-method-override", "x-method-override"];

/// Fetch §2.2.2 "request-body-header name".
const REQUEST_BODY_HEADER_NAMES: [&str; 4] = [
    "content-encoding",
    "content-language",
    "content-location",
    "content-type",
];

/// Whether `name` is a header name (Fetch §2.2.2: a byte sequence that
/// matches the `field-name` token production).
///
/// ```
/// use corsair::fetch::is_header_name;
/// assert!(is_header_name("X-Request-Id"));
/// assert!(!is_header_name("x request id"));
/// ```
#[inline]
pub fn is_header_name(name: impl AsRef<[u8]>) -> bool {
    is_token(name.as_ref())
}

/// Why a header is a forbidden request-header, by the step of Fetch §2.2.2
/// that forbids it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Forbidden {
    /// Step 1: the name is on the list.
    Name,
    /// Step 2: the name starts with this prefix (`proxy-` or `sec-`).
    Prefix(&'static str),
    /// Step 3: a method-override header whose value names this forbidden
    /// method (as it appears in the value).
    MethodOverride(String),
}

/// Whether `name` starts with the lowercase ASCII `prefix`, ignoring case.
fn starts_with_ignore_case(name: &[u8], prefix: &str) -> bool {
    name.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Steps 1 and 2 of Fetch §2.2.2 "forbidden request-header": the part the
/// name alone decides.
fn forbidden_by_name(name: &[u8]) -> Option<Forbidden> {
    // Fetch §2.2.2 "forbidden request-header", step 1.
    if FORBIDDEN_REQUEST_HEADER_NAMES
        .iter()
        .any(|f| f.as_bytes().eq_ignore_ascii_case(name))
    {
        return Some(Forbidden::Name);
    }
    // Fetch §2.2.2 "forbidden request-header", step 2.
    FORBIDDEN_REQUEST_HEADER_PREFIXES
        .iter()
        .find(|p| starts_with_ignore_case(name, p))
        .map(|p| Forbidden::Prefix(p))
}

/// Whether a header with this name is a forbidden request-header whatever
/// its value (Fetch §2.2.2 "forbidden request-header", steps 1 and 2): a
/// script can never set it, so a policy that allows it in a preflight
/// allows nothing. Case-insensitive.
///
/// The method-override headers (`X-HTTP-Method-Override` and the like) are
/// not forbidden by name: only some values forbid them, see
/// [`is_forbidden_request_header`].
///
/// ```
/// use corsair::fetch::is_forbidden_request_header_name;
/// assert!(is_forbidden_request_header_name("Cookie"));
/// assert!(is_forbidden_request_header_name("sec-fetch-mode"));
/// assert!(!is_forbidden_request_header_name("x-request-id"));
/// assert!(!is_forbidden_request_header_name("X-HTTP-Method-Override"));
/// ```
pub fn is_forbidden_request_header_name(name: impl AsRef<[u8]>) -> bool {
    forbidden_by_name(name.as_ref()).is_some()
}

/// Whether (`name`, `value`) is a forbidden request-header (Fetch §2.2.2):
/// a header that `fetch()` and `XMLHttpRequest` never let a script set.
/// Besides the names [`is_forbidden_request_header_name`] forbids, the
/// method-override headers are forbidden when their value names a
/// forbidden method.
///
/// ```
/// use corsair::fetch::is_forbidden_request_header;
/// assert!(is_forbidden_request_header("Cookie", b"a=b"));
/// assert!(is_forbidden_request_header("Sec-Fetch-Mode", b"cors"));
/// assert!(is_forbidden_request_header("X-HTTP-Method-Override", b"TRACE"));
/// assert!(!is_forbidden_request_header("X-HTTP-Method-Override", b"PATCH"));
/// assert!(!is_forbidden_request_header("Authorization", b"Bearer x"));
/// ```
pub fn is_forbidden_request_header(name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> bool {
    forbidden_request_header(name.as_ref(), value.as_ref()).is_some()
}

/// Why (`name`, `value`) is a forbidden request-header, or `None` when a
/// script may set it.
pub(crate) fn forbidden_request_header(name: &[u8], value: &[u8]) -> Option<Forbidden> {
    if let Some(why) = forbidden_by_name(name) {
        return Some(why);
    }
    // Fetch §2.2.2 "forbidden request-header", step 3.
    if METHOD_OVERRIDE_NAMES
        .iter()
        .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
    {
        // Step 3.1: get, decode, and split the value; step 3.2: the
        // isomorphic encoding of any part that is a forbidden method forbids
        // the header (the parts are byte slices already).
        if let Some(method) = get_decode_split(value).into_iter().find(|m| is_forbidden_method(m)) {
            return Some(Forbidden::MethodOverride(isomorphic_decode(method)));
        }
    }
    // Fetch §2.2.2 "forbidden request-header", step 4.
    None
}

/// Whether `name` is a forbidden response-header name (Fetch §2.2.2):
/// `Set-Cookie` or `Set-Cookie2`, which a script never reads and a policy
/// cannot expose. Case-insensitive.
///
/// ```
/// use corsair::fetch::is_forbidden_response_header_name;
/// assert!(is_forbidden_response_header_name("Set-Cookie"));
/// assert!(!is_forbidden_response_header_name("x-request-id"));
/// ```
pub fn is_forbidden_response_header_name(name: impl AsRef<[u8]>) -> bool {
    let name = name.as_ref();
    name.eq_ignore_ascii_case(b"set-cookie") || name.eq_ignore_ascii_case(b"set-cookie2")
}

/// Whether `name` is a CORS non-wildcard request-header name (Fetch
/// §2.2.2): `Authorization`, which a `*` in `Access-Control-Allow-Headers`
/// never covers. Case-insensitive.
///
/// ```
/// use corsair::fetch::is_cors_non_wildcard_request_header_name;
/// assert!(is_cors_non_wildcard_request_header_name("authorization"));
/// assert!(!is_cors_non_wildcard_request_header_name("x-api-key"));
/// ```
#[inline]
pub fn is_cors_non_wildcard_request_header_name(name: impl AsRef<[u8]>) -> bool {
    name.as_ref().eq_ignore_ascii_case(b"authorization")
}

/// Whether `name` is a request-body-header name (Fetch §2.2.2):
/// `Content-Encoding`, `Content-Language`, `Content-Location` or
/// `Content-Type`, which a redirect that drops the body also drops.
/// Case-insensitive.
///
/// ```
/// use corsair::fetch::is_request_body_header_name;
/// assert!(is_request_body_header_name("Content-Type"));
/// assert!(!is_request_body_header_name("Content-Length"));
/// ```
pub fn is_request_body_header_name(name: impl AsRef<[u8]>) -> bool {
    let name = name.as_ref();
    REQUEST_BODY_HEADER_NAMES
        .iter()
        .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_names_any_case() {
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
            "SEC-CH-UA",
        ] {
            assert!(is_forbidden_request_header_name(name), "{name}");
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
            "sec",
            "x-http-method-override",
            "",
        ] {
            assert!(!is_forbidden_request_header_name(name), "{name}");
            assert!(!is_forbidden_request_header(name, b"x"), "{name}");
        }
        assert_eq!(
            forbidden_request_header(b"Sec-Fetch-Mode", b""),
            Some(Forbidden::Prefix("sec-"))
        );
        assert_eq!(
            forbidden_request_header(b"PROXY-x", b""),
            Some(Forbidden::Prefix("proxy-"))
        );
        assert_eq!(forbidden_request_header(b"Host", b""), Some(Forbidden::Name));
    }

    #[test]
    fn method_override_values() {
        assert!(is_forbidden_request_header("X-HTTP-Method", b"connect"));
        assert!(is_forbidden_request_header("x-method-override", b"GET, Track"));
        assert!(is_forbidden_request_header("X-HTTP-Method-Override", b" trace "));
        assert!(!is_forbidden_request_header("X-HTTP-Method-Override", b"DELETE"));
        assert!(!is_forbidden_request_header("X-HTTP-Method-Override", b"TRACEX"));
        assert!(!is_forbidden_request_header("X-Other", b"TRACE"));
        // The value is split as Fetch's "get, decode, and split" does: a
        // comma inside a quoted string does not split it, and quotes stay.
        assert!(!is_forbidden_request_header(
            "X-HTTP-Method-Override",
            b"\"GET, TRACE\""
        ));
        assert!(!is_forbidden_request_header("X-HTTP-Method-Override", b"\"TRACE\""));
        assert!(is_forbidden_request_header("X-HTTP-Method-Override", b"\"GET\", TRACE"));
        assert!(is_forbidden_request_header("X-HTTP-Method-Override", b"GET,\tconnect"));
        assert_eq!(
            forbidden_request_header(b"x-http-method", b"GET, Track"),
            Some(Forbidden::MethodOverride("Track".into()))
        );
    }

    #[test]
    fn other_name_classes() {
        assert!(is_forbidden_response_header_name("set-cookie2"));
        assert!(is_forbidden_response_header_name("SET-COOKIE"));
        assert!(!is_forbidden_response_header_name("set-cookie3"));
        assert!(is_cors_non_wildcard_request_header_name("Authorization"));
        assert!(!is_cors_non_wildcard_request_header_name("authorization2"));
        for n in [
            "content-encoding",
            "Content-Language",
            "CONTENT-LOCATION",
            "content-type",
        ] {
            assert!(is_request_body_header_name(n), "{n}");
        }
        assert!(!is_request_body_header_name("content-length"));
        assert!(is_header_name("x_under"));
        assert!(!is_header_name("x:y"));
    }
}
