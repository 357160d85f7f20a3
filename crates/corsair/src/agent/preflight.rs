//! The CORS preflight: the [`PreflightRequest`] the browser sends and the
//! validation of the response ([`check_preflight`]), which yields a
//! [`PreflightOk`] for the preflight cache.

use http::header::{ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_MAX_AGE, LOCATION};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::check::cors_check_into;
use super::request::Request;
use super::text::{quote_list, show};
use super::trace::{Failure, FailureKind, Step, Trace};
use crate::fetch::list::{extract_list, lines, ListValues};
use crate::fetch::syntax::trim_ows;
use crate::fetch::{is_cors_non_wildcard_request_header_name, is_cors_safelisted_method};

/// The `OPTIONS` request a browser sends before a non-simple request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PreflightRequest {
    /// Always `OPTIONS`.
    pub method: String,
    /// The request's URL.
    pub url: String,
    /// `Origin`, `Accept: */*`, `Access-Control-Request-Method` and, when
    /// there are unsafe header names, `Access-Control-Request-Headers`.
    pub headers: Vec<(String, String)>,
}

impl PreflightRequest {
    /// The value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The headers as an [`http::HeaderMap`] (all values are valid header
    /// values: a serialized origin, tokens and commas).
    pub fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in &self.headers {
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
                map.append(n, v);
            }
        }
        map
    }
}

/// The `Access-Control-Max-Age` of a preflight response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", content = "value", rename_all = "kebab-case"))]
pub enum MaxAge {
    /// No header (or an empty value): browsers cache for 5 seconds.
    Absent,
    /// A valid `delta-seconds` value (saturating at `u64::MAX`).
    Seconds(u64),
    /// Anything else (`-1`, `1.5`, several values): browsers do not cache.
    Invalid(String),
}

/// The default max-age when the header is absent, in seconds.
pub const DEFAULT_MAX_AGE: u64 = 5;

impl MaxAge {
    /// Reads `Access-Control-Max-Age` from a response.
    pub fn from_headers(headers: &HeaderMap) -> MaxAge {
        let values = lines(headers, &ACCESS_CONTROL_MAX_AGE);
        match values.as_slice() {
            [] => MaxAge::Absent,
            [one] => {
                let v = trim_ows(one);
                if v.is_empty() {
                    MaxAge::Absent
                } else if v.iter().all(u8::is_ascii_digit) {
                    let n = v.iter().fold(0u64, |acc, d| {
                        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                    });
                    MaxAge::Seconds(n)
                } else {
                    MaxAge::Invalid(show(v))
                }
            }
            many => MaxAge::Invalid(many.iter().map(|v| show(v)).collect::<Vec<_>>().join(", ")),
        }
    }

    /// How long a browser with this cap caches the result, in seconds;
    /// `None` when it does not cache at all (`0`, negative or invalid).
    pub fn effective_seconds(&self, cap: u64) -> Option<u64> {
        match self {
            MaxAge::Absent => Some(DEFAULT_MAX_AGE.min(cap)),
            MaxAge::Seconds(0) => None,
            MaxAge::Seconds(n) => Some((*n).min(cap)),
            MaxAge::Invalid(_) => None,
        }
    }
}

/// A successful preflight: what the response allowed, for the preflight cache.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PreflightOk {
    /// The methods from `Access-Control-Allow-Methods` (or the request's method
    /// when the header is absent and the use-CORS-preflight flag is set).
    pub methods: Vec<String>,
    /// The header names from `Access-Control-Allow-Headers`, as sent.
    pub headers: Vec<String>,
    /// The `Access-Control-Max-Age`.
    pub max_age: MaxAge,
}

/// Validates a preflight response for `req`, as the browser does: not a
/// redirect, the CORS check, an ok status (200-299), parsable
/// `Access-Control-Allow-Methods`/`-Headers` that cover the request's method
/// and unsafe headers (`*` only without credentials, never for
/// `Authorization`).
///
/// ```
/// use corsair::agent::{check_preflight, FailureKind, Request};
/// use http::{HeaderMap, HeaderValue};
///
/// let req = Request::builder("https://app.example", "https://api.example/r")
///     .method("PUT")
///     .build()?;
/// let mut headers = HeaderMap::new();
/// headers.insert("access-control-allow-origin", HeaderValue::from_static("https://app.example"));
/// let failure = check_preflight(&req, 204, &headers).unwrap_err();
/// assert_eq!(failure.kind, FailureKind::MethodNotAllowed);
/// assert!(failure.fix.contains("add `PUT` to Access-Control-Allow-Methods"));
///
/// headers.insert("access-control-allow-methods", HeaderValue::from_static("GET, PUT"));
/// let ok = check_preflight(&req, 204, &headers)?;
/// assert_eq!(ok.methods, ["GET", "PUT"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_preflight(req: &Request, status: u16, headers: &HeaderMap) -> Result<PreflightOk, Failure> {
    check_preflight_traced(req, status, headers, &mut Trace::new())
}

/// [`check_preflight`], appending each step (passed or failed) to `trace`.
pub fn check_preflight_traced(
    req: &Request,
    status: u16,
    headers: &HeaderMap,
    trace: &mut Trace,
) -> Result<PreflightOk, Failure> {
    let result = check_inner(req, status, headers, trace);
    if let Err(failure) = &result {
        trace.push(failure.to_step());
    }
    result
}

fn check_inner(req: &Request, status: u16, headers: &HeaderMap, trace: &mut Trace) -> Result<PreflightOk, Failure> {
    // A preflight never follows redirects: HTTP-network-or-cache fetch returns the 3xx.
    if (300..400).contains(&status) {
        let location = headers
            .get(LOCATION)
            .map(|l| format!(" to `{}`", show(l.as_bytes())))
            .unwrap_or_default();
        return Err(Failure::new(
            FailureKind::PreflightRedirect,
            "preflight-status",
            format!(
                "the preflight got a {status} redirect{location}; browsers never follow redirects for a preflight, so it fails"
            ),
            "answer the OPTIONS request at this exact URL with a 2xx status instead of redirecting it (e.g. for a trailing slash or http to https), or have the page call the final URL",
        ));
    }
    cors_check_into(req, headers, "preflight-", trace)?;
    if !(200..=299).contains(&status) {
        return Err(Failure::new(
            FailureKind::PreflightStatus,
            "preflight-status",
            format!("the preflight got status {status}, which is not an ok status (200-299)"),
            "answer OPTIONS requests for this URL with 204 (or 200); a 401/403/404/405 usually means the OPTIONS route is missing or an auth layer rejects the preflight, which never carries credentials",
        ));
    }
    trace.push(Step::pass(
        "preflight-status",
        format!("status {status} is an ok status"),
    ));

    let methods = match extract_list(headers, &ACCESS_CONTROL_ALLOW_METHODS) {
        ListValues::Invalid(element) => {
            return Err(Failure::new(
                FailureKind::InvalidAllowMethods,
                "allow-methods",
                format!(
                    "Access-Control-Allow-Methods contains `{}`, which is not a method token, so the whole header is invalid",
                    show(&element)
                ),
                "send a comma-separated list of method names, e.g. `Access-Control-Allow-Methods: GET, POST, PUT`",
            ))
        }
        ListValues::Absent => None,
        ListValues::Values(v) => Some(v),
    };
    let header_names = match extract_list(headers, &ACCESS_CONTROL_ALLOW_HEADERS) {
        ListValues::Invalid(element) => {
            return Err(Failure::new(
                FailureKind::InvalidAllowHeaders,
                "allow-headers",
                format!(
                    "Access-Control-Allow-Headers contains `{}`, which is not a header-name token, so the whole header is invalid",
                    show(&element)
                ),
                "send a comma-separated list of header names, e.g. `Access-Control-Allow-Headers: Content-Type, X-Token`",
            ))
        }
        ListValues::Absent => None,
        ListValues::Values(v) => Some(v),
    };
    let acam_absent = methods.is_none();
    let methods = match methods {
        Some(m) => m,
        None if req.use_cors_preflight_flag() => vec![req.method().to_string()],
        None => Vec::new(),
    };
    let header_names = header_names.unwrap_or_default();
    let credentialed = req.is_credentialed();

    trace.push(method_step(req, &methods, acam_absent, credentialed)?);
    for step in header_steps(req, &header_names, credentialed)? {
        trace.push(step);
    }

    let max_age = MaxAge::from_headers(headers);
    let max_age_text = match &max_age {
        MaxAge::Absent => "no Access-Control-Max-Age: browsers cache this result for 5 seconds".to_string(),
        MaxAge::Seconds(0) => "Access-Control-Max-Age is 0: the result is not cached".to_string(),
        MaxAge::Seconds(n) => format!(
            "Access-Control-Max-Age is {n} s (capped at 7200 s by Chromium, 86400 s by Firefox, 600 s by Safari)"
        ),
        MaxAge::Invalid(v) => {
            format!("Access-Control-Max-Age `{v}` is not a number of seconds: browsers do not cache the result")
        }
    };
    trace.push(Step::pass("max-age", max_age_text));
    Ok(PreflightOk {
        methods,
        headers: header_names,
        max_age,
    })
}

fn method_step(req: &Request, methods: &[String], acam_absent: bool, credentialed: bool) -> Result<Step, Failure> {
    let method = req.method();
    if methods.iter().any(|m| m == method) {
        return Ok(Step::pass(
            "allow-methods",
            format!("`{method}` is listed in Access-Control-Allow-Methods"),
        ));
    }
    if is_cors_safelisted_method(method) {
        return Ok(Step::pass(
            "allow-methods",
            format!("`{method}` is a CORS-safelisted method; it needs no listing"),
        ));
    }
    let star = methods.iter().any(|m| m == "*");
    if star && !credentialed {
        return Ok(Step::pass(
            "allow-methods",
            format!("`*` allows `{method}` because the request carries no credentials"),
        ));
    }
    let mut found = if acam_absent {
        "the preflight response has no Access-Control-Allow-Methods".to_string()
    } else {
        format!(
            "Access-Control-Allow-Methods lists {}",
            if methods.is_empty() {
                "nothing".to_string()
            } else {
                quote_list(methods)
            }
        )
    };
    if let Some(other) = methods.iter().find(|m| m.eq_ignore_ascii_case(method)) {
        found.push_str(&format!(
            "; `{other}` differs from `{method}` in case, and methods are compared case-sensitively"
        ));
    }
    if star && credentialed {
        found.push_str("; `*` is a literal method name, not a wildcard, for a request with credentials");
    }
    Err(Failure::new(
        FailureKind::MethodNotAllowed,
        "allow-methods",
        format!("`{method}` is not allowed: {found}"),
        format!("add `{method}` to Access-Control-Allow-Methods (exactly `{method}`, case-sensitive)"),
    ))
}

fn header_steps(req: &Request, allowed: &[String], credentialed: bool) -> Result<Vec<Step>, Failure> {
    let listed = |name: &str| allowed.iter().any(|a| a.eq_ignore_ascii_case(name));
    let star = allowed.iter().any(|a| a == "*");
    let mut steps = Vec::new();
    // `Authorization` is a CORS non-wildcard request-header name.
    if req
        .headers()
        .iter()
        .any(|(n, _)| is_cors_non_wildcard_request_header_name(n))
    {
        if !listed("authorization") {
            let why = if star {
                "`*` in Access-Control-Allow-Headers never covers `Authorization`"
            } else {
                "Access-Control-Allow-Headers does not list `Authorization`"
            };
            return Err(Failure::new(
                FailureKind::AuthorizationNotAllowed,
                "allow-headers",
                format!("the request sends `Authorization`, but {why}"),
                "add `Authorization` explicitly to Access-Control-Allow-Headers (e.g. `Access-Control-Allow-Headers: Authorization, *`)",
            ));
        }
        steps.push(Step::pass(
            "authorization",
            "`Authorization` is listed explicitly in Access-Control-Allow-Headers",
        ));
    }
    let unsafe_names = req.unsafe_header_names();
    if unsafe_names.is_empty() {
        steps.push(Step::pass(
            "allow-headers",
            "every request header is CORS-safelisted; none needs listing",
        ));
        return Ok(steps);
    }
    let missing: Vec<&String> = unsafe_names
        .iter()
        .filter(|n| !listed(n) && (credentialed || !star))
        .collect();
    if missing.is_empty() {
        let how = if unsafe_names.iter().all(|n| listed(n)) {
            "listed in Access-Control-Allow-Headers (case-insensitively)"
        } else {
            "allowed by Access-Control-Allow-Headers (`*` covers a request without credentials)"
        };
        let verb = if unsafe_names.len() == 1 { "is" } else { "are" };
        steps.push(Step::pass(
            "allow-headers",
            format!("{} {verb} {how}", quote_list(&unsafe_names)),
        ));
        return Ok(steps);
    }
    let mut found = if allowed.is_empty() {
        "Access-Control-Allow-Headers is absent or empty".to_string()
    } else {
        format!("Access-Control-Allow-Headers lists {}", quote_list(allowed))
    };
    if star && credentialed {
        found.push_str("; `*` is a literal header name, not a wildcard, for a request with credentials");
    }
    let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
    Err(Failure::new(
        FailureKind::HeaderNotAllowed,
        "allow-headers",
        format!(
            "the request header{} {} {} not allowed: {found}",
            if names.len() == 1 { "" } else { "s" },
            quote_list(&names),
            if names.len() == 1 { "is" } else { "are" }
        ),
        format!("add `{}` to Access-Control-Allow-Headers", names.join(", ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::CredentialsMode;
    use http::HeaderValue;

    const O: &str = "https://app.example";
    const T: &str = "https://api.example/r";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(n.as_bytes()), HeaderValue::from_str(v)) {
                h.append(n, v);
            }
        }
        h
    }

    fn request(method: &str, hs: &[(&str, &str)], cred: bool) -> Request {
        let mut b = Request::builder(O, T).method(method);
        for (n, v) in hs {
            b = b.header(*n, *v);
        }
        if cred {
            b = b.credentials(CredentialsMode::Include);
        }
        b.build().unwrap()
    }

    /// The response WPT's preflight.py gives: ACAO `*`, or O + ACAC for credentials.
    fn wpt(cred: bool, acam: Option<&str>, acah: Option<&str>) -> HeaderMap {
        let mut pairs = if cred {
            vec![
                ("access-control-allow-origin", O),
                ("access-control-allow-credentials", "true"),
            ]
        } else {
            vec![("access-control-allow-origin", "*")]
        };
        if let Some(m) = acam {
            pairs.push(("access-control-allow-methods", m));
        }
        if let Some(h) = acah {
            pairs.push(("access-control-allow-headers", h));
        }
        headers(&pairs)
    }

    fn kind(r: Result<PreflightOk, Failure>) -> Option<FailureKind> {
        r.err().map(|f| f.kind)
    }

    #[test]
    fn vector_11_allow_headers_joined_with_space_comma() {
        let names = [
            "x-test-header1",
            "x-test-header2",
            "X-test-header3",
            "x-test-header-b",
            "x-test-header-D",
            "x-test-header-C",
            "x-test-header-a",
            "Content-Type",
        ];
        let hs: Vec<(&str, &str)> = names
            .iter()
            .map(|n| (*n, if *n == "Content-Type" { "allowedOrRefused" } else { "v" }))
            .chain([("Accept", "*"), ("Accept-Language", "bzh"), ("Content-Language", "eu")])
            .collect();
        let req = request("GET", &hs, false);
        let acah = names.join(" ,");
        let ok = check_preflight(&req, 200, &wpt(false, Some("GET"), Some(&acah))).unwrap();
        assert_eq!(ok.headers.len(), 8);
    }

    #[test]
    fn vector_12_13_method_needs_acam() {
        for m in ["PUT", "DELETE", "PATCH", "NEW"] {
            let req = request(m, &[], false);
            assert!(check_preflight(&req, 200, &wpt(false, Some(m), None)).is_ok(), "{m}");
            let f = check_preflight(&req, 200, &wpt(false, None, None)).unwrap_err();
            assert_eq!(f.kind, FailureKind::MethodNotAllowed);
            assert!(f.fix.contains(&format!("add `{m}` to Access-Control-Allow-Methods")));
            assert!(
                f.explanation.contains("no Access-Control-Allow-Methods"),
                "{}",
                f.explanation
            );
        }
        let req = request("PUT", &[("Accept-Language", "fr")], false);
        assert!(check_preflight(&req, 204, &wpt(false, Some("PUT"), None)).is_ok());
    }

    #[test]
    fn vector_14_15_16_header_lists() {
        let req = request("GET", &[("x-print", "unicorn")], false);
        assert!(check_preflight(&req, 200, &wpt(false, None, Some("x-print"))).is_ok());
        let req = request("GET", &[("x-print", "a"), ("y-print", "b")], false);
        let f = check_preflight(&req, 200, &wpt(false, None, Some("x-print"))).unwrap_err();
        assert_eq!(f.kind, FailureKind::HeaderNotAllowed);
        assert_eq!(f.fix, "add `y-print` to Access-Control-Allow-Headers");
        assert!(check_preflight(&req, 200, &wpt(false, None, Some(",y-lol,x-PriNT, ,,,Y-PRINT"))).is_ok());
    }

    #[test]
    fn vector_17_18_parse_failures() {
        let req = request("GET", &[("x-force-preflight", "")], false);
        let r = check_preflight(
            &req,
            200,
            &wpt(false, None, Some("x-force-preflight,header name with space")),
        );
        assert_eq!(kind(r), Some(FailureKind::InvalidAllowHeaders));
        let r = check_preflight(
            &req,
            200,
            &wpt(false, Some("Bad method name"), Some("x-force-preflight")),
        );
        assert_eq!(kind(r), Some(FailureKind::InvalidAllowMethods));
        // A bad element on a second line fails the whole header too.
        let mut h = wpt(false, None, Some("x-force-preflight"));
        h.append("access-control-allow-headers", HeaderValue::from_static("no no"));
        assert_eq!(
            kind(check_preflight(&req, 200, &h)),
            Some(FailureKind::InvalidAllowHeaders)
        );
    }

    #[test]
    fn vector_19_20_21_status() {
        let req = request("GET", &[("x-did-preflight", "1")], false);
        let h = wpt(false, None, Some("x-did-preflight"));
        for s in [200, 201, 202, 203, 204, 205, 206, 299] {
            assert!(check_preflight(&req, s, &h).is_ok(), "{s}");
        }
        for s in [300, 304, 400, 401, 403, 404, 405, 417, 500, 505, 680, 790, 100, 0] {
            let k = kind(check_preflight(&req, s, &h));
            let expect = if (300..400).contains(&s) {
                FailureKind::PreflightRedirect
            } else {
                FailureKind::PreflightStatus
            };
            assert_eq!(k, Some(expect), "{s}");
        }
        for s in [301, 302, 303, 307, 308] {
            let mut h = h.clone();
            h.insert(LOCATION, HeaderValue::from_static("https://api.example/r/"));
            let f = check_preflight(&req, s, &h).unwrap_err();
            assert_eq!(f.kind, FailureKind::PreflightRedirect);
            assert!(f.explanation.contains("https://api.example/r/"));
        }
    }

    #[test]
    fn preflight_needs_cors_check_first() {
        let req = request("PUT", &[], false);
        let h = headers(&[("access-control-allow-methods", "PUT")]);
        assert_eq!(
            kind(check_preflight(&req, 404, &h)),
            Some(FailureKind::MissingAllowOrigin)
        );
        let mut trace = Trace::new();
        let _ = check_preflight_traced(&req, 204, &h, &mut trace);
        assert_eq!(
            trace.first_failure().map(|s| s.name.as_str()),
            Some("preflight-allow-origin")
        );
    }

    /// Section C: cors-preflight-star.any.js.
    #[test]
    fn vectors_22_to_34_wildcards_and_case() {
        // (succeeds, cred, ACAM, ACAH, method, header)
        type Case<'a> = (bool, bool, &'a str, &'a str, &'a str, Option<(&'a str, &'a str)>);
        let cases: [Case; 22] = [
            (true, false, "get", "x-test", "GET", Some(("X-Test", "1"))),
            (true, false, "*", "x-test", "SUPER", Some(("X-Test", "1"))),
            (true, false, "*", "*", "OK", Some(("X-Test", "1"))),
            (false, true, "*", "*", "OK", Some(("X-Test", "1"))),
            (false, true, "*", "", "PUT", None),
            (false, true, "get", "*", "GET", Some(("X-Test", "1"))),
            (true, true, "*", "*", "*", Some(("*", "1"))),
            (true, true, "get", "*", "get", None),
            (true, true, "GET", "*", "GET", None),
            (true, true, "get", "*", "head", None),
            (true, true, "get", "*", "post", None),
            (true, true, "PUT", "*", "put", None),
            (true, true, "PUT", "*", "PUT", None),
            (false, true, "put", "*", "PUT", None),
            (false, true, "put", "*", "put", None),
            (false, true, "PATCH", "*", "patch", None),
            (true, true, "patch", "*", "patch", None),
            (false, true, "patch", "*", "PATCH", None),
            (false, false, "*", "*", "POST", Some(("Authorization", "123"))),
            (
                true,
                false,
                "*",
                "*, Authorization",
                "POST",
                Some(("Authorization", "123")),
            ),
            (
                true,
                false,
                "*",
                "authorization",
                "POST",
                Some(("Authorization", "123")),
            ),
            (
                true,
                true,
                "*",
                "*, Authorization",
                "POST",
                Some(("Authorization", "123")),
            ),
        ];
        for (i, (ok, cred, acam, acah, method, header)) in cases.into_iter().enumerate() {
            let hs: Vec<(&str, &str)> = header.into_iter().collect();
            let req = request(method, &hs, cred);
            let r = check_preflight(&req, 200, &wpt(cred, Some(acam), Some(acah)));
            assert_eq!(r.is_ok(), ok, "case {i}: {:?}", r.err().map(|f| f.to_string()));
        }
    }

    #[test]
    fn failure_messages_name_the_change() {
        let req = request("GET", &[], true);
        let req_auth = Request::builder(O, T)
            .method("POST")
            .header("Authorization", "123")
            .build()
            .unwrap();
        let f = check_preflight(&req_auth, 200, &wpt(false, Some("*"), Some("*"))).unwrap_err();
        assert_eq!(f.kind, FailureKind::AuthorizationNotAllowed);
        assert!(f.explanation.contains("never covers"), "{f}");
        assert!(f.fix.contains("add `Authorization`"));
        let put = request("put", &[], true);
        let f = check_preflight(&put, 200, &wpt(true, Some("put"), None)).unwrap_err();
        assert!(f.explanation.contains("case-sensitively"), "{f}");
        let f = check_preflight(&put, 200, &wpt(true, Some("*"), None)).unwrap_err();
        assert!(f.explanation.contains("literal"), "{f}");
        let xt = request("GET", &[("X-Test", "1")], true);
        let f = check_preflight(&xt, 200, &wpt(true, None, Some("*"))).unwrap_err();
        assert!(f.explanation.contains("literal"), "{f}");
        assert_eq!(f.fix, "add `x-test` to Access-Control-Allow-Headers");
        // Credentialed preflight without ACAC fails the CORS check.
        let h = headers(&[("access-control-allow-origin", O)]);
        assert_eq!(
            kind(check_preflight(&req, 200, &h)),
            Some(FailureKind::MissingAllowCredentials)
        );
    }

    #[test]
    fn acam_absent_with_flag_allows_own_method() {
        let req = Request::builder(O, T)
            .method("POST")
            .use_cors_preflight(true)
            .build()
            .unwrap();
        let ok = check_preflight(&req, 200, &wpt(false, None, None)).unwrap();
        assert_eq!(ok.methods, ["POST"]);
    }

    #[test]
    fn max_age_parsing() {
        let parse = |v: &[&str]| {
            let mut h = HeaderMap::new();
            for v in v {
                h.append(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_str(v).unwrap());
            }
            MaxAge::from_headers(&h)
        };
        assert_eq!(parse(&[]), MaxAge::Absent);
        assert_eq!(parse(&[""]), MaxAge::Absent);
        assert_eq!(parse(&["12000"]), MaxAge::Seconds(12000));
        assert_eq!(parse(&[" 1 "]), MaxAge::Seconds(1));
        assert_eq!(parse(&["0"]), MaxAge::Seconds(0));
        assert_eq!(parse(&["99999999999999999999999"]), MaxAge::Seconds(u64::MAX));
        assert_eq!(parse(&["-1"]), MaxAge::Invalid("-1".into()));
        assert_eq!(parse(&["1.5"]), MaxAge::Invalid("1.5".into()));
        assert_eq!(parse(&["5", "6"]), MaxAge::Invalid("5, 6".into()));
        assert_eq!(MaxAge::Absent.effective_seconds(7200), Some(5));
        assert_eq!(MaxAge::Seconds(0).effective_seconds(7200), None);
        assert_eq!(MaxAge::Seconds(12000).effective_seconds(7200), Some(7200));
        assert_eq!(MaxAge::Seconds(12000).effective_seconds(86400), Some(12000));
        assert_eq!(MaxAge::Invalid("-1".into()).effective_seconds(600), None);
    }

    #[test]
    fn trace_of_success() {
        let req = request("PUT", &[("X-A", "1")], false);
        let mut trace = Trace::new();
        let h = wpt(false, Some("PUT"), Some("x-a"));
        check_preflight_traced(&req, 204, &h, &mut trace).unwrap();
        let names: Vec<&str> = trace.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "preflight-allow-origin",
                "preflight-status",
                "allow-methods",
                "allow-headers",
                "max-age"
            ]
        );
        assert!(trace.is_ok());
    }

    #[test]
    fn header_map_round_trip() {
        let req = request("PUT", &[("X-A", "1")], false);
        let pf = req.preflight().unwrap();
        let map = pf.header_map();
        assert_eq!(map.len(), 4);
        assert_eq!(map.get("access-control-request-headers").unwrap(), "x-a");
    }
}
