//! CORS-mode redirects (HTTP-redirect fetch): the CORS check on the 3xx
//! response, `Location` resolution, the redirect limit, credentials in the
//! target URL, method rewriting, `Authorization` removal and the origin taint
//! that turns `Origin` into `null`.

use http::header::LOCATION;
use http::HeaderMap;

use super::check::cors_check_into;
use super::origin::{includes_credentials, join_url, origin_serialization, parse_url};
use super::request::Request;
use super::text::show;
use super::trace::{Failure, FailureKind, Step, Trace};

/// Browsers fail a fetch after this many redirects.
pub const MAX_REDIRECTS: usize = 20;

/// A redirect the browser follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The request to make next (a new preflight may be needed: see
    /// [`Request::preflight`]).
    pub request: Request,
    /// The absolute target URL.
    pub location: String,
    /// Whether the request's origin is now tainted (serialized as `null`).
    pub tainted: bool,
}

/// What a browser does with a redirect response to `req` in CORS mode, after
/// `followed` redirects so far: `Ok(None)` when the response is not a
/// redirect to follow (no 3xx status or no `Location`: the response itself
/// is delivered), `Ok(Some(redirect))` with the next request, or a network
/// error.
///
/// ```
/// use corsair::agent::{follow_redirect, Request};
/// use http::{HeaderMap, HeaderValue};
///
/// let req = Request::builder("https://app.example", "https://api.example/a").build()?;
/// let mut headers = HeaderMap::new();
/// headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
/// headers.insert("location", HeaderValue::from_static("https://cdn.example/b"));
/// let next = follow_redirect(&req, 0, 302, &headers)?.expect("a redirect");
/// assert_eq!(next.request.url(), "https://cdn.example/b");
/// assert_eq!(next.request.origin(), "null"); // A -> B -> C taints the origin
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn follow_redirect(
    req: &Request,
    followed: usize,
    status: u16,
    headers: &HeaderMap,
) -> Result<Option<Redirect>, Failure> {
    follow_redirect_traced(req, followed, status, headers, &mut Trace::new())
}

/// [`follow_redirect`], appending its steps to `trace`.
pub fn follow_redirect_traced(
    req: &Request,
    followed: usize,
    status: u16,
    headers: &HeaderMap,
    trace: &mut Trace,
) -> Result<Option<Redirect>, Failure> {
    let result = redirect_inner(req, followed, status, headers, trace);
    if let Err(failure) = &result {
        trace.push(failure.to_step());
    }
    result
}

fn redirect_inner(
    req: &Request,
    followed: usize,
    status: u16,
    headers: &HeaderMap,
    trace: &mut Trace,
) -> Result<Option<Redirect>, Failure> {
    // Fetch §4.4 "HTTP fetch", step 6: only a redirect status (§2.2.3) is
    // followed.
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    // Fetch §4.4 step 4.4: the CORS check runs on every response of a
    // "cors" tainting, the 3xx included, before the redirect is followed.
    if !req.is_same_origin() {
        cors_check_into(req, headers, "redirect-", trace)?;
    }
    // Fetch §4.5 "HTTP-redirect fetch", step 3: the location URL (§2.2.6);
    // step 4: none, and the 3xx itself is the response.
    let Some(location) = headers.get(LOCATION) else {
        return Ok(None);
    };
    let location_text = std::str::from_utf8(location.as_bytes()).map_err(|_| {
        Failure::new(
            FailureKind::InvalidRedirect,
            "redirect",
            format!(
                "the {status} redirect's Location `{}` is not valid UTF-8",
                show(location.as_bytes())
            ),
            "send a percent-encoded ASCII URL in Location",
        )
    })?;
    // Step 5: a Location that does not parse is a network error.
    let target = resolve(req.url(), location_text).map_err(|why| {
        Failure::new(
            FailureKind::InvalidRedirect,
            "redirect",
            format!("the {status} redirect's Location `{location_text}` is not a valid URL: {why}"),
            "send an absolute URL (or a valid relative reference) in Location",
        )
    })?;
    // Step 6: only HTTP(S) URLs.
    if target.scheme() != "http" && target.scheme() != "https" {
        return Err(Failure::new(
            FailureKind::RedirectScheme,
            "redirect",
            format!("the redirect goes to `{target}`; only http and https URLs can be fetched"),
            "redirect to an http or https URL",
        ));
    }
    // Step 7: at most 20 redirects.
    if followed >= MAX_REDIRECTS {
        return Err(Failure::new(
            FailureKind::TooManyRedirects,
            "redirect",
            format!(
                "this would be redirect number {}; browsers stop after {MAX_REDIRECTS}",
                followed + 1
            ),
            "remove the redirect loop or shorten the redirect chain",
        ));
    }
    // Step 9: mode "cors", credentials in the URL and an origin other than
    // the request's; step 10: credentials in the URL of a "cors"-tainted
    // (cross-origin) request. Either is a network error.
    let target_origin = origin_serialization(&target);
    if includes_credentials(&target) && (!req.is_same_origin() || req.origin() != target_origin) {
        return Err(Failure::new(
            FailureKind::RedirectWithCredentials,
            "redirect",
            format!("the redirect target `{target}` contains credentials (`user:password@`), which CORS-mode redirects refuse"),
            "remove the user-info part from the Location URL",
        ));
    }
    // Fetch §2.2.5 "redirect-taint", step 4.3: a hop to another origin
    // while the request's origin is not the previous URL's taints it
    // (cross-site is tainted as well: both serialize as `null`).
    let tainted = req.url_origin() != target_origin && req.origin() != req.url_origin();
    let mut notes = Vec::new();
    let target = target.to_string();
    let next = req.redirected(&target, &target_origin, status, tainted, &mut notes);
    let mut text = format!("{status} redirect to `{target}`");
    if tainted && req.origin() != "null" {
        notes.push(format!(
            "the origin is now tainted: `Origin` becomes `null` (a hop to a new origin after the request already left `{}`), so the target must allow `null` or `*`",
            req.origin()
        ));
    }
    if !notes.is_empty() {
        text.push_str("; ");
        text.push_str(&notes.join("; "));
    }
    trace.push(Step::pass("redirect", text));
    Ok(Some(Redirect {
        request: next,
        location: target,
        tainted,
    }))
}

/// The location URL of a redirect to `reference` from the URL `base`:
/// `reference` parsed against `base`, and, when it has no fragment, given
/// `base`'s fragment (an empty `reference` is refused: browsers do not
/// follow an empty `Location`).
pub(crate) fn resolve(base: &str, reference: &str) -> Result<url::Url, String> {
    if reference.trim().is_empty() {
        return Err("it is empty".to_string());
    }
    // Fetch §2.2.6 "location URL", step 3: parse Location with the
    // response's URL as the base.
    let base = parse_url(base)?;
    let mut location = join_url(&base, reference)?;
    // Step 4: no fragment: the request's.
    if location.fragment().is_none() {
        location.set_fragment(base.fragment());
    }
    Ok(location)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{cors_check, CredentialsMode};
    use http::{HeaderName, HeaderValue};

    const O: &str = "https://app.example";
    const T: &str = "https://api.example/r";
    const T2: &str = "https://other.example/r";

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    /// redirect.py: ACAO echoes the request's Origin, ACAC true.
    fn redirect_to(req: &Request, location: &str) -> HeaderMap {
        map(&[
            ("access-control-allow-origin", req.origin()),
            ("access-control-allow-credentials", "true"),
            ("location", location),
        ])
    }

    #[test]
    fn resolution() {
        let r = |base: &str, reference: &str| resolve(base, reference).map(String::from);
        let b = "https://api.example/a/b?q";
        assert_eq!(r(b, "https://x.example/y").unwrap(), "https://x.example/y");
        assert_eq!(r(b, "//x.example/y").unwrap(), "https://x.example/y");
        assert_eq!(r(b, "/y").unwrap(), "https://api.example/y");
        assert_eq!(r(b, "c").unwrap(), "https://api.example/a/c");
        assert_eq!(r(b, "../c").unwrap(), "https://api.example/c");
        assert_eq!(r(b, "../../../c").unwrap(), "https://api.example/c");
        assert_eq!(r(b, "./").unwrap(), "https://api.example/a/");
        assert_eq!(r(b, "?z").unwrap(), "https://api.example/a/b?z");
        assert_eq!(r(b, "#g").unwrap(), "https://api.example/a/b?q#g");
        assert_eq!(r(b, "\\\\x.example\\y").unwrap(), "https://x.example/y");
        assert_eq!(r(b, "HTTPS://X.example:443/%7e").unwrap(), "https://x.example/%7e");
        assert_eq!(r("https://api.example", "x").unwrap(), "https://api.example/x");
        // Fetch §2.2.6 "location URL", step 4: no fragment in Location keeps
        // the request's.
        let b = "https://api.example/a/b?q#f";
        assert_eq!(r(b, "/y").unwrap(), "https://api.example/y#f");
        assert_eq!(r(b, "/y#g").unwrap(), "https://api.example/y#g");
        assert!(r(b, "").is_err());
        assert!(r(b, "https://exa mple.com/").is_err());
        assert!(r(b, "http://[::1/").is_err());
    }

    #[test]
    fn vector_53_same_remote() {
        let req = Request::builder(O, T).build().unwrap();
        let r = follow_redirect(&req, 0, 302, &redirect_to(&req, "https://api.example/r2"))
            .unwrap()
            .unwrap();
        assert!(!r.tainted);
        assert_eq!(r.request.origin(), O);
        assert!(r.request.preflight().is_none());
    }

    #[test]
    fn vector_54_other_origin_taints() {
        let req = Request::builder(O, T).build().unwrap();
        let r = follow_redirect(&req, 0, 301, &redirect_to(&req, T2)).unwrap().unwrap();
        assert!(r.tainted);
        assert_eq!(r.request.origin(), "null");
        assert!(cors_check(&r.request, &map(&[("access-control-allow-origin", "*")])).is_ok());
        assert!(cors_check(&r.request, &map(&[("access-control-allow-origin", O)])).is_err());
    }

    #[test]
    fn vector_55_56_via_page_origin() {
        // O -> T: starts same-origin, no CORS check on the redirect, not tainted.
        let req = Request::builder(O, "https://app.example/x").build().unwrap();
        let r = follow_redirect(&req, 0, 302, &map(&[("location", T)]))
            .unwrap()
            .unwrap();
        assert!(!r.tainted);
        assert_eq!(r.request.origin(), O);
        assert!(!r.request.is_same_origin());
        // T -> O: tainted; the final response must allow `null` or `*`.
        let req = Request::builder(O, T).build().unwrap();
        let r = follow_redirect(&req, 0, 302, &redirect_to(&req, "https://app.example/x"))
            .unwrap()
            .unwrap();
        assert!(r.tainted);
        assert!(!r.request.is_same_origin());
        assert!(cors_check(&r.request, &map(&[("access-control-allow-origin", O)])).is_err());
        assert!(cors_check(&r.request, &map(&[("access-control-allow-origin", "null")])).is_ok());
    }

    #[test]
    fn vector_57_redirect_response_needs_cors() {
        let req = Request::builder(O, T).build().unwrap();
        for acao in [None, Some("null")] {
            let mut h = map(&[("location", T2)]);
            if let Some(v) = acao {
                h.insert("access-control-allow-origin", HeaderValue::from_static(v));
            }
            let mut trace = Trace::new();
            let f = follow_redirect_traced(&req, 0, 302, &h, &mut trace).unwrap_err();
            assert!(matches!(
                f.kind,
                FailureKind::MissingAllowOrigin | FailureKind::AllowOriginMismatch
            ));
            assert_eq!(f.step, "redirect-allow-origin");
            if acao.is_none() {
                assert_eq!(
                    f.explanation,
                    "the redirect response has no Access-Control-Allow-Origin header"
                );
            }
            assert!(!trace.is_ok());
        }
    }

    #[test]
    fn vector_58_credentials_in_location() {
        let req = Request::builder(O, T)
            .credentials(CredentialsMode::Include)
            .build()
            .unwrap();
        for loc in [
            "https://user:password@api.example/r2",
            "https://user:@api.example/r2",
            "https://:password@other.example/",
        ] {
            let f = follow_redirect(&req, 0, 302, &redirect_to(&req, loc)).unwrap_err();
            assert_eq!(f.kind, FailureKind::RedirectWithCredentials, "{loc}");
        }
        assert!(follow_redirect(&req, 0, 302, &redirect_to(&req, "https://api.example/r2")).is_ok());
        // An empty userinfo (`@` alone) includes no credentials (URL Standard).
        assert!(follow_redirect(&req, 0, 302, &redirect_to(&req, "https://@other.example/r2")).is_ok());
    }

    #[test]
    fn vector_59_new_preflight_at_target() {
        let req = Request::builder(O, T).header("x-w3c", "test").build().unwrap();
        let r = follow_redirect(&req, 0, 307, &redirect_to(&req, T2)).unwrap().unwrap();
        let pf = r.request.preflight().unwrap();
        assert_eq!(pf.url, T2);
        assert_eq!(pf.header("access-control-request-headers"), Some("x-w3c"));
        assert_eq!(pf.header("origin"), Some("null"));
    }

    #[test]
    fn method_rewrite_and_authorization() {
        let req = Request::builder(O, T)
            .method("POST")
            .header("Content-Type", "text/plain")
            .header("Content-Language", "fr")
            .header("Authorization", "Bearer x")
            .build()
            .unwrap();
        for (status, method) in [(301, "GET"), (302, "GET"), (303, "GET"), (307, "POST"), (308, "POST")] {
            let r = follow_redirect(&req, 0, status, &redirect_to(&req, "https://api.example/r2"))
                .unwrap()
                .unwrap();
            assert_eq!(r.request.method(), method, "{status}");
            let has_ct = r
                .request
                .headers()
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
            assert_eq!(has_ct, method == "POST", "{status}");
            // Same-origin hop keeps Authorization.
            assert!(r.request.headers().iter().any(|(n, _)| n == "Authorization"));
        }
        let r = follow_redirect(&req, 0, 307, &redirect_to(&req, T2)).unwrap().unwrap();
        assert!(!r.request.headers().iter().any(|(n, _)| n == "Authorization"));
        let put = Request::builder(O, T).method("PUT").build().unwrap();
        let r = follow_redirect(&put, 0, 303, &redirect_to(&put, "/x"))
            .unwrap()
            .unwrap();
        assert_eq!(r.request.method(), "GET");
        let r = follow_redirect(&put, 0, 302, &redirect_to(&put, "/x"))
            .unwrap()
            .unwrap();
        assert_eq!(r.request.method(), "PUT");
    }

    #[test]
    fn limits_and_non_redirects() {
        let req = Request::builder(O, T).build().unwrap();
        let h = redirect_to(&req, "/next");
        assert_eq!(
            follow_redirect(&req, 20, 302, &h).unwrap_err().kind,
            FailureKind::TooManyRedirects
        );
        assert!(follow_redirect(&req, 19, 302, &h).unwrap().is_some());
        assert_eq!(follow_redirect(&req, 0, 200, &h).unwrap(), None);
        assert_eq!(follow_redirect(&req, 0, 304, &h).unwrap(), None);
        let no_location = map(&[("access-control-allow-origin", "*")]);
        assert_eq!(follow_redirect(&req, 0, 302, &no_location).unwrap(), None);
        let ftp = redirect_to(&req, "ftp://api.example/x");
        assert_eq!(
            follow_redirect(&req, 0, 302, &ftp).unwrap_err().kind,
            FailureKind::RedirectScheme
        );
        // HTTP-redirect fetch, step 6: any URL that parses but is not
        // http(s) is a network error, `mailto:` included.
        let mailto = redirect_to(&req, "mailto:x@y.example");
        assert_eq!(
            follow_redirect(&req, 0, 302, &mailto).unwrap_err().kind,
            FailureKind::RedirectScheme
        );
        let bad = redirect_to(&req, "https://exa mple.com/");
        assert_eq!(
            follow_redirect(&req, 0, 302, &bad).unwrap_err().kind,
            FailureKind::InvalidRedirect
        );
    }
}
