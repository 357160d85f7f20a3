//! The CORS check on a response: `Access-Control-Allow-Origin` and, for a
//! credentialed request, `Access-Control-Allow-Credentials`.

use http::header::{ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_ORIGIN};
use http::HeaderMap;

use super::request::Request;
use super::text::show;
use super::trace::{Failure, FailureKind, Step, Trace};
use crate::fetch::list::{get, lines};
use crate::fetch::syntax::trim_ows;

/// Runs the CORS check on a response to `req`: exactly one
/// `Access-Control-Allow-Origin` that is `*` (only without credentials) or
/// byte-for-byte the request's serialized origin, and, with credentials mode
/// `include`, `Access-Control-Allow-Credentials: true` exactly. A
/// same-origin request passes without a check.
///
/// ```
/// use corsair::agent::{cors_check, CredentialsMode, FailureKind, Request};
/// use http::{HeaderMap, HeaderValue};
///
/// let req = Request::builder("https://app.example", "https://api.example/r")
///     .credentials(CredentialsMode::Include)
///     .build()?;
/// let mut headers = HeaderMap::new();
/// headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
/// let failure = cors_check(&req, &headers).unwrap_err();
/// assert_eq!(failure.kind, FailureKind::WildcardOriginWithCredentials);
///
/// headers.insert("access-control-allow-origin", HeaderValue::from_static("https://app.example"));
/// headers.insert("access-control-allow-credentials", HeaderValue::from_static("true"));
/// assert!(cors_check(&req, &headers).is_ok());
/// # Ok::<(), corsair::agent::RequestError>(())
/// ```
pub fn cors_check(req: &Request, headers: &HeaderMap) -> Result<(), Failure> {
    cors_check_traced(req, headers, &mut Trace::new())
}

/// [`cors_check`], appending each step (passed or failed) to `trace`.
pub fn cors_check_traced(req: &Request, headers: &HeaderMap, trace: &mut Trace) -> Result<(), Failure> {
    if req.is_same_origin() {
        trace.push(Step::pass(
            "allow-origin",
            "same-origin response: no CORS check is needed",
        ));
        return Ok(());
    }
    let result = cors_check_into(req, headers, "", trace);
    if let Err(failure) = &result {
        trace.push(failure.to_step());
    }
    result
}

/// The CORS check proper: pushes passed steps (named `{prefix}allow-origin`
/// and `{prefix}allow-credentials`) and returns the failure without pushing it.
pub(crate) fn cors_check_into(
    req: &Request,
    headers: &HeaderMap,
    prefix: &str,
    trace: &mut Trace,
) -> Result<(), Failure> {
    let step = format!("{prefix}allow-origin");
    let what = match prefix {
        "" => "response",
        "preflight-" => "preflight response",
        _ => "redirect response",
    };
    let origin = req.origin();
    let credentialed = req.is_credentialed();
    let fix_exact = if credentialed {
        format!("send `Access-Control-Allow-Origin: {origin}` (exactly) with `Access-Control-Allow-Credentials: true`")
    } else {
        format!("send `Access-Control-Allow-Origin: {origin}` (exactly), or `*` for a public resource")
    };
    // Fetch §4.10 "CORS check", step 1: get `Access-Control-Allow-Origin`
    // (several lines are joined with `, `, which no origin matches).
    let values = lines(headers, &ACCESS_CONTROL_ALLOW_ORIGIN);
    let value = match values.as_slice() {
        // Step 2: null is a failure.
        [] => {
            return Err(Failure::new(
                FailureKind::MissingAllowOrigin,
                step,
                format!("the {what} has no Access-Control-Allow-Origin header"),
                fix_exact,
            ))
        }
        [one] => trim_ows(one),
        many => {
            let shown: Vec<String> = many.iter().map(|v| format!("`{}`", show(trim_ows(v)))).collect();
            return Err(Failure::new(
                FailureKind::MultipleAllowOrigin,
                step,
                format!(
                    "the server sent {} Access-Control-Allow-Origin values ({}); browsers combine them into one list, which never matches",
                    many.len(),
                    shown.join(", ")
                ),
                format!(
                    "send exactly one Access-Control-Allow-Origin header, `{origin}` (two layers, e.g. a proxy and the application, probably both add it)"
                ),
            ));
        }
    };
    // Step 3: `*` succeeds for a request whose credentials mode is not
    // "include" (and, with "include", can never match step 4).
    if value == b"*" {
        if credentialed {
            return Err(Failure::new(
                FailureKind::WildcardOriginWithCredentials,
                step,
                "Access-Control-Allow-Origin is `*`, which browsers reject for a request with credentials (credentials mode `include`)",
                format!(
                    "echo the request origin instead of `*`: `Access-Control-Allow-Origin: {origin}` with `Access-Control-Allow-Credentials: true` and `Vary: Origin`"
                ),
            ));
        }
        trace.push(Step::pass(
            step,
            "Access-Control-Allow-Origin is `*`, which allows any origin for a request without credentials",
        ));
    } else if value == origin.as_bytes() {
        // Step 4: the byte-serialized request origin, byte for byte.
        trace.push(Step::pass(
            step,
            format!("Access-Control-Allow-Origin `{origin}` matches the request's origin byte for byte"),
        ));
    } else if value.contains(&b',') {
        return Err(Failure::new(
            FailureKind::MultipleAllowOrigin,
            step,
            format!(
                "Access-Control-Allow-Origin holds a list (`{}`); it must hold exactly one origin",
                show(value)
            ),
            format!("send exactly one origin, the requesting one: `Access-Control-Allow-Origin: {origin}`"),
        ));
    } else {
        return Err(Failure::new(
            FailureKind::AllowOriginMismatch,
            step,
            format!(
                "Access-Control-Allow-Origin is `{}`, which is not the request's origin `{origin}`{}",
                show(value),
                mismatch_hint(value, origin)
            ),
            fix_exact,
        ));
    }

    // Step 5: without credentials mode "include", success; steps 6-8:
    // otherwise `Access-Control-Allow-Credentials` must be exactly `true`.
    if credentialed {
        let step = format!("{prefix}allow-credentials");
        match get(headers, &ACCESS_CONTROL_ALLOW_CREDENTIALS) {
            None => {
                return Err(Failure::new(
                    FailureKind::MissingAllowCredentials,
                    step,
                    format!(
                    "the request includes credentials, but the {what} has no Access-Control-Allow-Credentials header"
                ),
                    "add `Access-Control-Allow-Credentials: true`",
                ))
            }
            Some(v) if trim_ows(&v) == b"true" => trace.push(Step::pass(
                step,
                "Access-Control-Allow-Credentials is `true`, so credentials are allowed",
            )),
            Some(v) => {
                return Err(Failure::new(
                    FailureKind::InvalidAllowCredentials,
                    step,
                    format!(
                        "Access-Control-Allow-Credentials is `{}`; only the exact lowercase value `true` counts",
                        show(&v)
                    ),
                    "send exactly `Access-Control-Allow-Credentials: true` (lowercase, once)",
                ))
            }
        }
    }
    Ok(())
}

/// Why a near-miss does not match, as a clause starting with `: ` (or empty).
fn mismatch_hint(value: &[u8], origin: &str) -> String {
    let o = origin.as_bytes();
    let hint = if value.is_empty() {
        "the value is empty"
    } else if origin == "null" {
        "the page has an opaque origin, which serializes as `null`"
    } else if value == b"null" {
        "`null` matches only pages with an opaque origin (sandboxed iframes, `data:` or `file:` pages), and allowing it is unsafe"
    } else if value.strip_suffix(b"/") == Some(o) {
        "it has a trailing `/`, but an origin has no path"
    } else if value.eq_ignore_ascii_case(o) {
        "the comparison is case-sensitive and a serialized origin is lowercase"
    } else if value.starts_with(o) && value.get(o.len()) == Some(&b':') {
        "it names a port; a serialized origin leaves out the default port"
    } else if value.starts_with(o) {
        "it has extra characters after the origin"
    } else if value.contains(&b'*') {
        "patterns are not supported: the value must be `*` alone or one exact origin"
    } else if value.contains(&b' ') {
        "it holds several values; it must hold exactly one"
    } else {
        return String::new();
    };
    format!(": {hint}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::CredentialsMode;
    use http::{HeaderName, HeaderValue};

    const O: &str = "https://app.example";
    const T: &str = "https://api.example/r";

    fn req(cred: CredentialsMode) -> Request {
        Request::builder(O, T).credentials(cred).build().unwrap()
    }

    fn map(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_bytes(v).unwrap(),
            );
        }
        h
    }

    fn acao(values: &[&[u8]]) -> HeaderMap {
        let pairs: Vec<(&str, &[u8])> = values.iter().map(|v| ("access-control-allow-origin", *v)).collect();
        map(&pairs)
    }

    #[test]
    fn vector_39_allowed() {
        let r = req(CredentialsMode::SameOrigin);
        for v in [
            "*",
            " *  ",
            "\t*",
            O,
            " https://app.example",
            " https://app.example   \t ",
            "\thttps://app.example",
        ] {
            assert!(cors_check(&r, &acao(&[v.as_bytes()])).is_ok(), "{v:?}");
        }
    }

    #[test]
    fn vector_40_rejected() {
        let r = req(CredentialsMode::SameOrigin);
        let bad = [
            "https://app.example/",
            "https://app.example /",
            "https://app.example?",
            "https://app.example#",
            "https://app.example%23",
            "https://app.example:443",
            "HTTPS://APP.EXAMPLE",
            "HTTP://app.example",
            "//app.example",
            "app.example",
            "ftp://app.example",
            "https://sub.app.example",
            "null",
            "",
            "-",
            "**",
            "'*'",
            "\"*\"",
            "* *",
            "* null",
            "*, https://app.example",
            "https://app.example, *",
            "null https://app.example",
            "https://app.example/r",
            "*.example",
        ];
        for v in bad {
            let f = cors_check(&r, &acao(&[v.as_bytes()])).unwrap_err();
            assert!(
                matches!(
                    f.kind,
                    FailureKind::AllowOriginMismatch | FailureKind::MultipleAllowOrigin
                ),
                "{v:?}: {f:?}"
            );
        }
        // `\0*` and `*\0` cannot even be represented as header values; they fail in browsers.
        assert!(HeaderValue::from_bytes(b"\0*").is_err());
    }

    #[test]
    fn vector_41_several_lines_always_fail() {
        let r = req(CredentialsMode::SameOrigin);
        let o = O.as_bytes();
        for pair in [
            [b"".as_slice(), b"*"],
            [b"*", b""],
            [b"*", b"*"],
            [b"", o],
            [b"*", o],
            [o, o],
        ] {
            let f = cors_check(&r, &acao(&pair)).unwrap_err();
            assert_eq!(f.kind, FailureKind::MultipleAllowOrigin);
            assert!(
                f.explanation.contains("sent 2 Access-Control-Allow-Origin values"),
                "{f}"
            );
            assert!(f.fix.contains("send exactly one"), "{f}");
        }
    }

    #[test]
    fn vector_42_acac_exactly_true() {
        let r = req(CredentialsMode::Include);
        for v in ["TRUE", "True", "\"true\"", "false", "1", "0", ""] {
            let h = map(&[
                ("access-control-allow-origin", O.as_bytes()),
                ("access-control-allow-credentials", v.as_bytes()),
            ]);
            let f = cors_check(&r, &h).unwrap_err();
            assert_eq!(f.kind, FailureKind::InvalidAllowCredentials, "{v}");
        }
        let h = map(&[
            ("access-control-allow-origin", O.as_bytes()),
            ("access-control-allow-credentials", b"true"),
            ("access-control-allow-credentials", b"true"),
        ]);
        assert_eq!(
            cors_check(&r, &h).unwrap_err().kind,
            FailureKind::InvalidAllowCredentials
        );
    }

    #[test]
    fn vector_43_credentials_table() {
        let inc = req(CredentialsMode::Include);
        let ok = map(&[
            ("access-control-allow-origin", O.as_bytes()),
            ("access-control-allow-credentials", b"true"),
        ]);
        assert!(cors_check(&inc, &ok).is_ok());
        let star = map(&[
            ("access-control-allow-origin", b"*"),
            ("access-control-allow-credentials", b"true"),
        ]);
        assert_eq!(
            cors_check(&inc, &star).unwrap_err().kind,
            FailureKind::WildcardOriginWithCredentials
        );
        let no_acac = acao(&[O.as_bytes()]);
        let f = cors_check(&inc, &no_acac).unwrap_err();
        assert_eq!(f.kind, FailureKind::MissingAllowCredentials);
        assert_eq!(f.fix, "add `Access-Control-Allow-Credentials: true`");
        let omit = req(CredentialsMode::Omit);
        assert!(cors_check(&omit, &star).is_ok());
        let rabbit = acao(&[b"https://rabbit.invalid/"]);
        assert_eq!(
            cors_check(&omit, &rabbit).unwrap_err().kind,
            FailureKind::AllowOriginMismatch
        );
    }

    #[test]
    fn vector_44_missing() {
        let f = cors_check(&req(CredentialsMode::SameOrigin), &HeaderMap::new()).unwrap_err();
        assert_eq!(f.kind, FailureKind::MissingAllowOrigin);
        assert!(f.fix.contains("Access-Control-Allow-Origin: https://app.example"));
    }

    #[test]
    fn vector_45_null_origin() {
        let r = Request::builder("null", T).build().unwrap();
        assert!(cors_check(&r, &acao(&[b"null"])).is_ok());
        assert!(cors_check(&r, &acao(&[b"*"])).is_ok());
        assert_eq!(
            cors_check(&r, &HeaderMap::new()).unwrap_err().kind,
            FailureKind::MissingAllowOrigin
        );
    }

    #[test]
    fn hints() {
        let r = req(CredentialsMode::SameOrigin);
        let msg = |v: &str| cors_check(&r, &acao(&[v.as_bytes()])).unwrap_err().explanation;
        assert!(msg("https://app.example/").contains("trailing `/`"));
        assert!(msg("HTTPS://APP.EXAMPLE").contains("case-sensitive"));
        assert!(msg("https://app.example:443").contains("port"));
        assert!(msg("null").contains("opaque"));
        assert!(msg("*.example").contains("patterns"));
    }

    #[test]
    fn same_origin_skips_check_and_trace_records() {
        let r = Request::builder("https://api.example", T).build().unwrap();
        assert!(cors_check(&r, &HeaderMap::new()).is_ok());
        let r = req(CredentialsMode::Include);
        let mut t = Trace::new();
        let h = map(&[
            ("access-control-allow-origin", O.as_bytes()),
            ("access-control-allow-credentials", b"true"),
        ]);
        cors_check_traced(&r, &h, &mut t).unwrap();
        assert_eq!(t.steps.len(), 2);
        let mut t = Trace::new();
        assert!(cors_check_traced(&r, &acao(&[b"*"]), &mut t).is_err());
        assert_eq!(t.steps.len(), 1);
        assert!(!t.steps[0].ok);
    }
}
