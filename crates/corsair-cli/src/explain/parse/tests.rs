//! Unit tests of the parent module: real console lines of each browser.

use super::*;

const HEAD: &str = "Access to fetch at 'https://api.example.com/items' from origin 'https://app.example.com' \
                    has been blocked by CORS policy: ";

fn chromium_error(reason: &str) -> (Option<String>, Vec<String>) {
    let p = parse(&format!("{HEAD}{reason}")).expect("understood");
    assert_eq!(p.browser, Browser::Chromium);
    assert_eq!(p.url.as_deref(), Some("https://api.example.com/items"));
    assert_eq!(p.origin.as_deref(), Some("https://app.example.com"));
    (p.error, p.hints)
}

#[test]
fn every_chromium_reason_with_and_without_the_preflight_prefix() {
    for r in CHROMIUM {
        let text = r.text.replace("{}", "HINT");
        let (error, hints) = chromium_error(&text);
        assert_eq!(error.as_deref(), Some(r.name), "{text}");
        assert!(hints.iter().all(|h| h == "HINT"), "{text}: {hints:?}");
        if r.twin {
            let (error, _) = chromium_error(&format!("{PREFLIGHT_PREFIX}{text}"));
            assert_eq!(error, Some(format!("preflight_{}", r.name)), "{text}");
        }
    }
}

#[test]
fn the_preflight_missing_allow_origin_line_as_chrome_prints_it() {
    let line = "Access to fetch at 'http://api.example.test:41000/exact/g12' from origin \
                'http://app.example.com:40000' has been blocked by CORS policy: Response to preflight request \
                doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the \
                requested resource.";
    let p = parse(line).unwrap();
    assert_eq!(p.error.as_deref(), Some("preflight_missing_allow_origin_header"));
    assert_eq!(p.preflight, Some(true));
    assert_eq!(p.initiator.as_deref(), Some("fetch"));
    assert_eq!(p.url.as_deref(), Some("http://api.example.test:41000/exact/g12"));
    assert_eq!(p.origin.as_deref(), Some("http://app.example.com:40000"));
    // Wrapped over lines, as pasted from a terminal.
    let wrapped = line.replace(" has been", "\n   has been").replace(" No '", "\nNo '");
    assert_eq!(parse(&wrapped).unwrap().error, p.error);
}

#[test]
fn hints_suffixes_redirects_and_old_builds() {
    let (e, h) = chromium_error(
        "The 'Access-Control-Allow-Origin' header contains multiple values 'https://a.example, https://b.example', \
         but only one is allowed. Have the server send the header with a valid value.",
    );
    assert_eq!(e.as_deref(), Some("multiple_allow_origin_values"));
    assert_eq!(h, ["https://a.example, https://b.example"]);
    let (e, _) = chromium_error(
        "No 'Access-Control-Allow-Origin' header is present on the requested resource. If an opaque response \
         serves your needs, set the request's mode to 'no-cors' to fetch the resource with CORS disabled.",
    );
    assert_eq!(e.as_deref(), Some("missing_allow_origin_header"));
    let (e, h) = chromium_error("Method patch is not allowed by Access-Control-Allow-Methods in preflight response.");
    assert_eq!(
        (e.as_deref(), h.as_slice()),
        (
            Some("method_disallowed_by_preflight_response"),
            &["patch".to_owned()][..]
        )
    );
    let (e, _) = chromium_error(
        "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when \
         the request's credentials mode is 'include'. The credentials mode of requests initiated by the \
         XMLHttpRequest is controlled by the withCredentials attribute.",
    );
    assert_eq!(e.as_deref(), Some("wildcard_origin_not_allowed"));
    let p = parse(
        "Access to XMLHttpRequest at 'https://b.example/final' (redirected from 'https://a.example/start') from \
         origin 'null' has been blocked by CORS policy: The 'Access-Control-Allow-Origin' header has a value \
         'https://app.example.com' that is not equal to the supplied origin.",
    )
    .unwrap();
    assert_eq!(p.error.as_deref(), Some("allow_origin_mismatch"));
    assert_eq!(p.url.as_deref(), Some("https://b.example/final"));
    assert_eq!(p.initial_url.as_deref(), Some("https://a.example/start"));
    assert_eq!(p.origin.as_deref(), Some("null"));
    assert_eq!(p.initiator.as_deref(), Some("XMLHttpRequest"));
    assert_eq!(p.hints, ["https://app.example.com"]);
    // The PNA-era text with its two spaces before `not`.
    let (e, h) = chromium_error(
        "Response to preflight request doesn't pass access control check: The 'Access-Control-Allow-Private-Network' \
         header in the preflight response for this private network request targeting the `local` address space \
         had a value of 'false',  not 'true'.",
    );
    assert_eq!(e.as_deref(), Some("preflight_invalid_allow_private_network"));
    assert_eq!(h, ["local", "false"]);
    // The reason alone (the DevTools Issues panel).
    let p = parse("Access blocked by CORS policy: It does not have HTTP ok status.").unwrap();
    assert_eq!(p.error.as_deref(), Some("preflight_invalid_status"));
    assert_eq!(p.url, None);
}

#[test]
fn firefox_lines_and_keys() {
    let p = parse(
        "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at \
         https://api.example.com/items. (Reason: CORS header \u{2018}Access-Control-Allow-Origin\u{2019} missing). \
         Status code: 403.",
    )
    .unwrap();
    assert_eq!(p.browser, Browser::Firefox);
    assert_eq!(p.firefox_reason, Some("CORSMissingAllowOrigin"));
    assert_eq!(p.error, None, "Firefox does not say whether it was the preflight");
    assert_eq!(
        p.candidates,
        ["missing_allow_origin_header", "preflight_missing_allow_origin_header"]
    );
    assert_eq!(p.url.as_deref(), Some("https://api.example.com/items"));
    assert_eq!(p.status, Some(403));
    let p = parse("CORSMissingAllowOrigin2").unwrap();
    assert_eq!(p.firefox_reason, Some("CORSMissingAllowOrigin"));
    let p = parse("https://developer.mozilla.org/docs/Web/HTTP/CORS/Errors/CORSMethodNotFound").unwrap();
    assert_eq!(p.error.as_deref(), Some("method_disallowed_by_preflight_response"));
    let p = parse(
        "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at \
         https://api.example.com/items. (Reason: header 'x-token' is not allowed according to header \
         'Access-Control-Allow-Headers' from CORS preflight response).",
    )
    .unwrap();
    assert_eq!(p.error.as_deref(), Some("header_disallowed_by_preflight_response"));
    assert_eq!(p.hints, ["x-token"]);
    let p = parse("(Reason: CORS request did not succeed). Status code: (null).").unwrap();
    assert_eq!(
        (p.firefox_reason, p.error, p.status),
        (Some("CORSDidNotSucceed"), None, None)
    );
}

#[test]
fn safari_lines() {
    let p = parse(
        "Origin https://app.example.com is not allowed by Access-Control-Allow-Origin. Status code: 403\n\
         Fetch API cannot load https://api.example.com/items due to access control checks.",
    )
    .unwrap();
    assert_eq!(p.browser, Browser::Safari);
    assert_eq!(p.origin.as_deref(), Some("https://app.example.com"));
    assert_eq!(p.url.as_deref(), Some("https://api.example.com/items"));
    assert_eq!(p.status, Some(403));
    assert_eq!(p.error, None);
    assert_eq!(p.candidates.len(), 4);
    let p = parse("Request header field X-Token is not allowed by Access-Control-Allow-Headers.").unwrap();
    assert_eq!(p.error.as_deref(), Some("header_disallowed_by_preflight_response"));
    assert_eq!(p.hints, ["x-token"]);
    let p = parse("Preflight response is not successful. Status code: 405").unwrap();
    assert_eq!(p.status, Some(405));
    assert!(p
        .candidates
        .contains(&"preflight_missing_allow_origin_header".to_owned()));
}

#[test]
fn other_text_is_not_understood() {
    for text in [
        "",
        "net::ERR_FAILED",
        "GET https://api.example.com/items net::ERR_CONNECTION_REFUSED",
        "Uncaught TypeError: Failed to fetch",
        "Access to fetch at 'x' from origin 'y' has been blocked by CORS policy: something new.",
        "Fetch API cannot load https://api.example.com/items due to access control checks.",
    ] {
        assert!(parse(text).is_none(), "{text:?}");
    }
}
