//! [`check_preflight`]: a preflight response validated as the browser does.

use http::header::{ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, LOCATION};
use http::HeaderMap;

use super::MaxAge;
use crate::agent::check::cors_check_into;
use crate::agent::request::Request;
use crate::agent::text::{quote_list, show};
use crate::agent::trace::{Failure, FailureKind, Step, Trace};
use crate::fetch::list::{extract_list, ListValues};
use crate::fetch::{is_cors_non_wildcard_request_header_name, is_cors_safelisted_method};

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
    // Fetch §4.8 "CORS-preflight fetch", step 6: the preflight goes through
    // HTTP-network-or-cache fetch, which never follows redirects, so a 3xx
    // comes back as is and fails step 7 (not an ok status).
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
    // Fetch §4.8 step 7: a CORS check for the request (its credentials mode,
    // not the preflight's) and an ok status (§2.2.3: 200-299); otherwise
    // step 8, a network error.
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

    // Steps 7.1-7.3: extract both lists; a failure of either is a network
    // error.
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
    // Step 7.4: no list and the use-CORS-preflight flag: the request's own
    // method.
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

    // Steps 7.8-7.10: the max-age (the cache applies the browser's cap).
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

/// Fetch §4.8 "CORS-preflight fetch", step 7.5: the request's method is in
/// `methods` (byte for byte), or is a CORS-safelisted method, or `methods`
/// holds `*` and the credentials mode is not "include".
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

/// Fetch §4.8 "CORS-preflight fetch", steps 7.6 and 7.7.
fn header_steps(req: &Request, allowed: &[String], credentialed: bool) -> Result<Vec<Step>, Failure> {
    let listed = |name: &str| allowed.iter().any(|a| a.eq_ignore_ascii_case(name));
    let star = allowed.iter().any(|a| a == "*");
    let mut steps = Vec::new();
    // Step 7.6: a CORS non-wildcard request-header name (`Authorization`)
    // in the request's header list must be listed itself; `*` never covers
    // it.
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
    // Step 7.7: each CORS-unsafe request-header name is listed
    // (byte-case-insensitively), or the list holds `*` and the credentials
    // mode is not "include".
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
