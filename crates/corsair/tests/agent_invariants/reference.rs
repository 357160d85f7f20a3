//! The naive reference, written from the Fetch Standard: what a request is
//! (its [`Spec`], as the test wrote it) and what the browser's checks say
//! of a response to it.

use corsair::agent::{CredentialsMode, Request};
use http::header::{self, HeaderMap, HeaderName};

/// The URL every generated request goes to.
pub(crate) const URL: &str = "https://api.example.com/r";
/// The origin of [`URL`], as the browser serializes it.
pub(crate) const URL_ORIGIN: &str = "https://api.example.com";

pub(crate) fn trim(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

/// "Get" a header: every line, normalized, joined with `, `.
pub(crate) fn get(h: &HeaderMap, n: &HeaderName) -> Option<Vec<u8>> {
    let lines: Vec<&[u8]> = h.get_all(n).iter().map(|v| trim(v.as_bytes())).collect();
    (!lines.is_empty()).then(|| lines.join(&b", "[..]))
}

pub(crate) fn is_token(b: &[u8]) -> bool {
    !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

/// "Extract header list values": `None` when absent, `Some(None)` on failure.
pub(crate) fn list(h: &HeaderMap, n: &HeaderName) -> Option<Option<Vec<String>>> {
    if !h.contains_key(n) {
        return None;
    }
    let mut out = Vec::new();
    for v in h.get_all(n) {
        for e in v.as_bytes().split(|&b| b == b',') {
            let e = trim(e);
            if e.is_empty() {
                continue;
            }
            if !is_token(e) {
                return Some(None);
            }
            out.push(String::from_utf8_lossy(e).into_owned());
        }
    }
    Some(Some(out))
}

/// Fetch §2.2.1 "normalize".
pub(crate) fn normalize(m: &str) -> String {
    for n in ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"] {
        if n.eq_ignore_ascii_case(m) {
            return n.to_owned();
        }
    }
    m.to_owned()
}

/// Fetch §2.2.2 "CORS-unsafe request-header byte".
pub(crate) fn unsafe_byte(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b"\"():<>?@[\\]{}\x7f".contains(&b)
}

/// The essence of a MIME type (MIME Sniffing "parse a MIME type", as far as
/// the essence goes), `None` on failure.
pub(crate) fn mime_essence(v: &[u8]) -> Option<String> {
    let v = String::from_utf8_lossy(v);
    let v = v.trim_matches(['\t', '\n', '\r', ' ']);
    let (ty, rest) = v.split_once('/')?;
    let subtype = rest
        .split(';')
        .next()
        .unwrap_or("")
        .trim_end_matches(['\t', '\n', '\r', ' ']);
    (is_token(ty.as_bytes()) && is_token(subtype.as_bytes()))
        .then(|| format!("{}/{}", ty.to_ascii_lowercase(), subtype.to_ascii_lowercase()))
}

/// Fetch §2.2.2 "CORS-safelisted request-header".
pub(crate) fn safelisted(name: &str, value: &[u8]) -> bool {
    if value.len() > 128 {
        return false;
    }
    match name.to_ascii_lowercase().as_str() {
        "accept" => !value.iter().any(|&b| unsafe_byte(b)),
        "accept-language" | "content-language" => value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b" *,-.;=".contains(&b)),
        "content-type" => {
            !value.iter().any(|&b| unsafe_byte(b))
                && mime_essence(value).is_some_and(|e| {
                    ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"].contains(&e.as_str())
                })
        }
        "range" => {
            // "bytes=" digits "-" digits, start present, start <= end.
            let Some(r) = std::str::from_utf8(value).ok().and_then(|v| v.strip_prefix("bytes=")) else {
                return false;
            };
            let Some((start, end)) = r.split_once('-') else {
                return false;
            };
            let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
            !start.is_empty()
                && digits(start)
                && digits(end)
                && (end.is_empty() || start.parse::<u128>().ok() <= end.parse::<u128>().ok())
        }
        _ => false,
    }
}

/// A request as the test wrote it: what the oracle reads.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(crate) origin: &'static str,
    pub(crate) method: &'static str,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) credentials: CredentialsMode,
    pub(crate) flag: bool,
}

impl Spec {
    pub(crate) fn build(&self) -> Request {
        let mut b = Request::builder(self.origin, URL)
            .method(self.method)
            .credentials(self.credentials)
            .use_cors_preflight(self.flag);
        for (n, v) in &self.headers {
            b = b.header(*n, v.as_str());
        }
        b.build().expect("generated requests are valid")
    }

    /// Fetch §4.1 "Main fetch", step 12: same origin (an opaque origin never is).
    pub(crate) fn same_origin(&self) -> bool {
        self.origin != "null" && self.origin == URL_ORIGIN
    }

    pub(crate) fn credentialed(&self) -> bool {
        self.credentials == CredentialsMode::Include
    }

    pub(crate) fn method(&self) -> String {
        normalize(self.method)
    }

    /// The header list `fetch()` sends: the script's, plus `Accept: */*`
    /// when it set none (Fetch §4 "fetch", step 12).
    pub(crate) fn header_list(&self) -> Vec<(&str, &[u8])> {
        let mut out: Vec<(&str, &[u8])> = self.headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
        if !self.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("accept")) {
            out.push(("Accept", b"*/*"));
        }
        out
    }

    /// Fetch §2.2.2 "CORS-unsafe request-header names".
    pub(crate) fn unsafe_names(&self) -> Vec<String> {
        let (mut unsafe_names, mut potentially, mut total) = (Vec::new(), Vec::new(), 0);
        for (n, v) in self.header_list() {
            if safelisted(n, v) {
                potentially.push(n.to_ascii_lowercase());
                total += v.len();
            } else {
                unsafe_names.push(n.to_ascii_lowercase());
            }
        }
        if total > 1024 {
            unsafe_names.extend(potentially);
        }
        unsafe_names.sort();
        unsafe_names.dedup();
        unsafe_names
    }

    /// Fetch §4.1 "Main fetch", step 12: the CORS-with-preflight branch.
    pub(crate) fn needs_preflight(&self) -> bool {
        !self.same_origin()
            && (self.flag
                || !matches!(self.method().as_str(), "GET" | "HEAD" | "POST")
                || !self.unsafe_names().is_empty())
    }

    pub(crate) fn sends_authorization(&self) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("authorization"))
    }
}

/// Fetch §4.10 "CORS check".
pub(crate) fn ref_cors_check(s: &Spec, h: &HeaderMap) -> bool {
    let Some(origin) = get(h, &header::ACCESS_CONTROL_ALLOW_ORIGIN) else {
        return false;
    };
    if !s.credentialed() && origin == b"*" {
        return true;
    }
    if origin != s.origin.as_bytes() {
        return false;
    }
    !s.credentialed() || get(h, &header::ACCESS_CONTROL_ALLOW_CREDENTIALS).as_deref() == Some(b"true")
}

/// Fetch §4.8 "CORS-preflight fetch", step 7.
pub(crate) fn ref_preflight(s: &Spec, status: u16, h: &HeaderMap) -> bool {
    if !ref_cors_check(s, h) || !(200..=299).contains(&status) {
        return false;
    }
    let methods = match list(h, &header::ACCESS_CONTROL_ALLOW_METHODS) {
        Some(None) => return false,
        Some(Some(m)) => m,
        None if s.flag => vec![s.method()],
        None => Vec::new(),
    };
    let names = match list(h, &header::ACCESS_CONTROL_ALLOW_HEADERS) {
        Some(None) => return false,
        Some(Some(n)) => n,
        None => Vec::new(),
    };
    let m = s.method();
    if !methods.contains(&m)
        && !matches!(m.as_str(), "GET" | "HEAD" | "POST")
        && (s.credentialed() || !methods.iter().any(|x| x == "*"))
    {
        return false;
    }
    let listed = |n: &str| names.iter().any(|x| x.eq_ignore_ascii_case(n));
    if s.sends_authorization() && !listed("authorization") {
        return false;
    }
    let star = names.iter().any(|x| x == "*");
    s.unsafe_names()
        .iter()
        .all(|n| listed(n) || (!s.credentialed() && star))
}

/// Fetch §2.2.2 "CORS-safelisted response-header name" (the fixed part).
pub(crate) const SAFELISTED_RESPONSE: [&str; 7] = [
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
];
