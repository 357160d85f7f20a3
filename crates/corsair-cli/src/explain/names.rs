//! The browsers' CORS errors by name: Chromium's `network::mojom::CorsError`
//! (named as DevTools' `Network.CorsError` does, in snake_case, e.g.
//! `preflight_missing_allow_origin_header`) with the reason text of each, and
//! the engine's [`FailureKind`] translated into them.
//!
//! Sources: Chromium `cors_error_string.cc` and `cors.mojom` (current and
//! Private-Network-Access-era codes; the numbers changed over time, the names
//! did not), as collected in `browser-cors-errors.md` of the project's
//! references.

use corsair::agent::{Failure, FailureKind};
use http::HeaderMap;

/// One Chromium reason text: the name of its code and the text, with `{}` where
/// the failed parameter (the "hint") goes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reason {
    /// The snake_case name, without `preflight_` for the codes that have a
    /// preflight twin (see [`Reason::twin`]).
    pub(crate) name: &'static str,
    /// The text, `{}` for each hint.
    pub(crate) text: &'static str,
    /// Whether the code has a `preflight_` twin that prints the same text after
    /// "Response to preflight request doesn't pass access control check: ".
    pub(crate) twin: bool,
}

const fn r(name: &'static str, text: &'static str, twin: bool) -> Reason {
    Reason { name, text, twin }
}

/// Every reason text Chromium prints, current and removed (still in old logs).
pub(crate) const CHROMIUM: &[Reason] = &[
    r(
        "disallowed_by_mode",
        "Cross origin requests are not allowed by request mode.",
        false,
    ),
    r("invalid_response", "The response is invalid.", false),
    r(
        "wildcard_origin_not_allowed",
        "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.",
        true,
    ),
    r(
        "missing_allow_origin_header",
        "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
        true,
    ),
    r(
        "multiple_allow_origin_values",
        "The 'Access-Control-Allow-Origin' header contains multiple values '{}', but only one is allowed.",
        true,
    ),
    r(
        "invalid_allow_origin_value",
        "The 'Access-Control-Allow-Origin' header contains the invalid value '{}'.",
        true,
    ),
    r(
        "allow_origin_mismatch",
        "The 'Access-Control-Allow-Origin' header has a value '{}' that is not equal to the supplied origin.",
        true,
    ),
    r(
        "invalid_allow_credentials",
        "The value of the 'Access-Control-Allow-Credentials' header in the response is '{}' which must be 'true' when the request's credentials mode is 'include'.",
        true,
    ),
    r(
        "cors_disabled_scheme",
        "Cross origin requests are only supported for protocol schemes: {}",
        false,
    ),
    r("preflight_invalid_status", "It does not have HTTP ok status.", false),
    r(
        "preflight_disallowed_redirect",
        "Redirect is not allowed for a preflight request.",
        false,
    ),
    r(
        "invalid_allow_methods_preflight_response",
        "Cannot parse Access-Control-Allow-Methods response header field in preflight response.",
        false,
    ),
    r(
        "invalid_allow_headers_preflight_response",
        "Cannot parse Access-Control-Allow-Headers response header field in preflight response.",
        false,
    ),
    r(
        "method_disallowed_by_preflight_response",
        "Method {} is not allowed by Access-Control-Allow-Methods in preflight response.",
        false,
    ),
    r(
        "header_disallowed_by_preflight_response",
        "Request header field {} is not allowed by Access-Control-Allow-Headers in preflight response.",
        false,
    ),
    r(
        "redirect_contains_credentials",
        "Redirect location '{}' contains a username and password, which is disallowed for cross-origin requests.",
        false,
    ),
    r(
        "insecure_local_network",
        "The request client is not a secure context and the resource is in more-private address space `{}`.",
        false,
    ),
    r(
        "invalid_local_network_access",
        "Request had a target IP address space of `{}` yet the resource is in address space `{}`.",
        false,
    ),
    r(
        "local_network_access_permission_denied",
        "Permission was denied for this request to access the `{}` address space.",
        false,
    ),
    // Private Network Access (about Chrome 98-141).
    r(
        "preflight_missing_allow_private_network",
        "No 'Access-Control-Allow-Private-Network' header was present in the preflight response for this private network request targeting the `{}` address space.",
        false,
    ),
    r(
        "preflight_invalid_allow_private_network",
        "The 'Access-Control-Allow-Private-Network' header in the preflight response for this private network request targeting the `{}` address space had a value of '{}', not 'true'.",
        false,
    ),
    r(
        "unexpected_private_network_access",
        "Request had no target IP address space, yet the resource is in address space `{}`.",
        false,
    ),
    r(
        "preflight_missing_private_network_access_id",
        "No 'Private-Network-Access-Id' header was present in the preflight response{}",
        false,
    ),
    r(
        "preflight_missing_private_network_access_name",
        "No 'Private-Network-Access-Name' header was present in the preflight response{}",
        false,
    ),
    r(
        "private_network_access_permission_unavailable",
        "Unable to ask for permission to access the `{}` IP address space.",
        false,
    ),
    // CORS-RFC1918 (2018-19).
    r(
        "preflight_missing_allow_external",
        "No 'Access-Control-Allow-External' header was present in the preflight response{}",
        false,
    ),
    r(
        "preflight_invalid_allow_external",
        "The 'Access-Control-Allow-External' header in the preflight response{}",
        false,
    ),
];

/// The sentences Chromium may append to a reason (fetch's advice, XHR's
/// credentials note, in current and older builds); they carry no information.
pub(crate) const SUFFIXES: &[&str] = &[
    " Have the server send the header with a valid value, or, if an opaque response serves your needs, set the request's mode to 'no-cors' to fetch the resource with CORS disabled.",
    " Have the server send the header with a valid value.",
    " If an opaque response serves your needs, set the request's mode to 'no-cors' to fetch the resource with CORS disabled.",
    " The credentials mode of requests initiated by the XMLHttpRequest is controlled by the withCredentials attribute.",
];

/// The Chromium name of an engine failure, as Chromium would report it for the same
/// response (`headers` is the response that failed; it decides between a mismatch, an
/// invalid value and several values, as Chromium's `CheckAccess` does).
pub(crate) fn chromium_name(failure: &Failure, headers: &HeaderMap) -> Option<String> {
    let preflight = failure.step.starts_with("preflight-");
    let twin = |base: &str| {
        if preflight {
            format!("preflight_{base}")
        } else {
            base.to_owned()
        }
    };
    let name = match failure.kind {
        FailureKind::PreflightRedirect => "preflight_disallowed_redirect".to_owned(),
        FailureKind::PreflightStatus => "preflight_invalid_status".to_owned(),
        FailureKind::MissingAllowOrigin => twin("missing_allow_origin_header"),
        FailureKind::WildcardOriginWithCredentials => twin("wildcard_origin_not_allowed"),
        FailureKind::MultipleAllowOrigin | FailureKind::AllowOriginMismatch => twin(acao_problem(headers)),
        FailureKind::MissingAllowCredentials | FailureKind::InvalidAllowCredentials => {
            twin("invalid_allow_credentials")
        }
        FailureKind::InvalidAllowMethods => "invalid_allow_methods_preflight_response".to_owned(),
        FailureKind::InvalidAllowHeaders => "invalid_allow_headers_preflight_response".to_owned(),
        FailureKind::MethodNotAllowed => "method_disallowed_by_preflight_response".to_owned(),
        FailureKind::HeaderNotAllowed | FailureKind::AuthorizationNotAllowed => {
            "header_disallowed_by_preflight_response".to_owned()
        }
        FailureKind::RedirectWithCredentials => "redirect_contains_credentials".to_owned(),
        FailureKind::RedirectScheme => "cors_disabled_scheme".to_owned(),
        // Network errors in Chromium (ERR_INVALID_REDIRECT, ERR_TOO_MANY_REDIRECTS).
        _ => return None,
    };
    Some(name)
}

/// Chromium's `CheckAccess` on an `Access-Control-Allow-Origin` that is neither `*`
/// nor the origin: several values (a space or a comma, two lines joined with `, `),
/// `null`, a value that does not parse as a URL, or another origin.
fn acao_problem(headers: &HeaderMap) -> &'static str {
    let values: Vec<&[u8]> = headers
        .get_all(http::header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    let joined = values.join(&b", "[..]);
    let text = String::from_utf8_lossy(&joined);
    let value = text.trim_matches([' ', '\t']);
    if value.contains([' ', ',']) {
        "multiple_allow_origin_values"
    } else if value == "null" || url::Url::parse(value).is_ok() {
        "allow_origin_mismatch"
    } else {
        "invalid_allow_origin_value"
    }
}

/// A Firefox `Reason:` key (with or without its digit suffix) and the Chromium
/// names it can stand for: one when the line tells, several when it does not (Firefox
/// does not say whether the preflight or the actual response failed).
pub(crate) const FIREFOX: &[(&str, &str, &[&str])] = &[
    ("CORSDisabled", "CORS disabled", &[]),
    ("CORSDidNotSucceed", "CORS request did not succeed", &[]),
    ("CORSRequestNotHttp", "CORS request not http", &["cors_disabled_scheme"]),
    (
        "CORSMultipleAllowOriginNotAllowed",
        "Multiple CORS header 'Access-Control-Allow-Origin' not allowed",
        &["multiple_allow_origin_values", "preflight_multiple_allow_origin_values"],
    ),
    (
        "CORSMissingAllowOrigin",
        "CORS header 'Access-Control-Allow-Origin' missing",
        &["missing_allow_origin_header", "preflight_missing_allow_origin_header"],
    ),
    (
        "CORSNotSupportingCredentials",
        "Credential is not supported if the CORS header 'Access-Control-Allow-Origin' is '*'",
        &["wildcard_origin_not_allowed", "preflight_wildcard_origin_not_allowed"],
    ),
    (
        "CORSAllowOriginNotMatchingOrigin",
        "CORS header 'Access-Control-Allow-Origin' does not match",
        &[
            "allow_origin_mismatch",
            "preflight_allow_origin_mismatch",
            "multiple_allow_origin_values",
            "preflight_multiple_allow_origin_values",
        ],
    ),
    (
        "CORSMissingAllowCredentials",
        "expected 'true' in CORS header 'Access-Control-Allow-Credentials'",
        &["invalid_allow_credentials", "preflight_invalid_allow_credentials"],
    ),
    (
        "CORSPreflightDidNotSucceed",
        "CORS preflight response did not succeed",
        &["preflight_invalid_status"],
    ),
    (
        "CORSInvalidAllowMethod",
        "in CORS header 'Access-Control-Allow-Methods'",
        &["invalid_allow_methods_preflight_response"],
    ),
    (
        "CORSMethodNotFound",
        "Did not find method in CORS header 'Access-Control-Allow-Methods'",
        &["method_disallowed_by_preflight_response"],
    ),
    (
        "CORSInvalidAllowHeader",
        "in CORS header 'Access-Control-Allow-Headers'",
        &["invalid_allow_headers_preflight_response"],
    ),
    (
        "CORSMissingAllowHeaderFromPreflight",
        "is not allowed according to header 'Access-Control-Allow-Headers' from CORS preflight response",
        &["header_disallowed_by_preflight_response"],
    ),
    (
        "CORSExternalRedirectNotAllowed",
        "CORS request external redirect not allowed",
        &["preflight_disallowed_redirect"],
    ),
    ("CORSOriginHeaderNotAdded", "CORS header 'Origin' cannot be added", &[]),
    (
        "CORSAllowHeaderFromPreflightDeprecation",
        "Authorization",
        &["header_disallowed_by_preflight_response"],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn failure(kind: FailureKind, step: &str) -> Failure {
        // Built through the engine: a real failure of that kind and step.
        let req = corsair::agent::Request::builder("https://app.example", "https://api.example/r")
            .method("PUT")
            .build()
            .unwrap();
        let mut f = corsair::agent::check_preflight(&req, 204, &HeaderMap::new()).unwrap_err();
        f.kind = kind;
        f.step = step.to_owned();
        f
    }

    fn acao(values: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("access-control-allow-origin", HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn names_follow_chromiums_check_access() {
        let none = HeaderMap::new();
        let n = |k, step, h: &HeaderMap| chromium_name(&failure(k, step), h);
        assert_eq!(
            n(FailureKind::MissingAllowOrigin, "preflight-allow-origin", &none).as_deref(),
            Some("preflight_missing_allow_origin_header")
        );
        assert_eq!(
            n(FailureKind::MissingAllowOrigin, "allow-origin", &none).as_deref(),
            Some("missing_allow_origin_header")
        );
        let mismatch = FailureKind::AllowOriginMismatch;
        assert_eq!(
            n(mismatch, "allow-origin", &acao(&["https://other.example"])).as_deref(),
            Some("allow_origin_mismatch")
        );
        assert_eq!(
            n(mismatch, "allow-origin", &acao(&["null"])).as_deref(),
            Some("allow_origin_mismatch")
        );
        assert_eq!(
            n(mismatch, "allow-origin", &acao(&["*.example"])).as_deref(),
            Some("invalid_allow_origin_value")
        );
        assert_eq!(
            n(
                FailureKind::MultipleAllowOrigin,
                "preflight-allow-origin",
                &acao(&["a", "b"])
            )
            .as_deref(),
            Some("preflight_multiple_allow_origin_values")
        );
        assert_eq!(
            n(FailureKind::AuthorizationNotAllowed, "allow-headers", &none).as_deref(),
            Some("header_disallowed_by_preflight_response")
        );
        assert_eq!(n(FailureKind::TooManyRedirects, "redirect", &none), None);
    }

    #[test]
    fn every_name_is_unique_and_every_twin_has_a_preflight_name() {
        let mut names: Vec<String> = Vec::new();
        for r in CHROMIUM {
            names.push(r.name.to_owned());
            if r.twin {
                names.push(format!("preflight_{}", r.name));
            }
        }
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count);
        for (_, _, candidates) in FIREFOX {
            for c in *candidates {
                assert!(names.iter().any(|n| n == c), "{c}");
            }
        }
    }
}
