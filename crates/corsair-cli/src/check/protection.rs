//! What a corsair gateway's cross-origin protection says about an unsafe request
//! (`corsair::cross_origin`): the headers a browser adds that it reads
//! ([`fetch_metadata`]), the decision of a config file's policy ([`decide`]), the fix of
//! a refusal, and how a refusal looks on the wire ([`recognize`]), shared by the CORS
//! simulation (`--mode cors`) and by `--mode no-cors` / `navigate`.

use corsair::agent;
use corsair::cross_origin::{CrossOriginRejection, Passed};
use http::{HeaderMap, Method};

use corsair_gateway::config::RoutedPolicy;

/// The Fetch Metadata headers a browser sends with a request of `mode` (`cors`,
/// `no-cors`, `navigate`) from a page of `origin` to `url`: none when `url` is not
/// potentially trustworthy (Fetch Metadata §4; then cross-origin protection falls back to
/// comparing `Origin` with the host).
pub(crate) fn fetch_metadata(origin: &str, url: &str, mode: &'static str) -> Vec<(String, Vec<u8>)> {
    let Some(site) = agent::sec_fetch_site(origin, url) else {
        return Vec::new();
    };
    let dest = if mode == "navigate" { "document" } else { "empty" };
    vec![
        ("Sec-Fetch-Site".to_owned(), site.as_bytes().to_vec()),
        ("Sec-Fetch-Mode".to_owned(), mode.as_bytes().to_vec()),
        ("Sec-Fetch-Dest".to_owned(), dest.as_bytes().to_vec()),
    ]
}

/// The decision of a policy's cross-origin protection on a request for `url` (whose
/// `Host` a browser sends as `host` and whose path, query included, is `path`).
pub(crate) fn decide(
    routed: &RoutedPolicy,
    method: &Method,
    host: Option<&str>,
    path: &str,
    headers: &HeaderMap,
) -> Result<Passed, CrossOriginRejection> {
    let path = path.split('?').next().unwrap_or(path);
    routed
        .protection
        .check(&routed.policy, method, path, host.map(str::as_bytes), headers)
}

/// The change to the config file that lets a refused request through, for `where_`
/// ("policy `api` in corsair.toml"): trust the origin, or exempt the path.
pub(crate) fn fix(r: &CrossOriginRejection, where_: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let exempt = format!(
        "or, if {path} must accept cross-site POSTs from any site by design (an OpenID Connect form_post \
         callback), add \"{path}\" to protect_unsafe_requests_exempt of {where_}"
    );
    match r.origin().map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned()) {
        Some(o) if o == "null" => format!(
            "the `null` origin (a sandboxed frame, a file: page, a redirect) is never trusted: send the request from \
             a page with a real origin, {exempt}"
        ),
        Some(o) => format!(
            "if `{o}` is a site of yours, add it to allow_origins of {where_} (it may then send unsafe requests, and \
             CORS lets it read the answers), {exempt}"
        ),
        None => format!("the request carries no Origin that could be trusted; {exempt}"),
    }
}

/// Whether an answer is the refusal of corsair's cross-origin protection, and its code:
/// a 403 whose body starts `corsair: cross-origin request refused (CODE)`.
pub(crate) fn recognize(status: u16, body: &[u8]) -> Option<&'static str> {
    if status != 403 {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let rest = text.strip_prefix("corsair: cross-origin request refused (")?;
    CrossOriginRejection::CODES
        .into_iter()
        .find(|code| rest.strip_prefix(code).is_some_and(|r| r.starts_with(')')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_sent_to_trustworthy_urls_only() {
        let h = fetch_metadata("https://evil.example", "https://api.example.com/x", "no-cors");
        let names: Vec<(&str, &[u8])> = h.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
        assert_eq!(
            names,
            [
                ("Sec-Fetch-Site", &b"cross-site"[..]),
                ("Sec-Fetch-Mode", b"no-cors"),
                ("Sec-Fetch-Dest", b"empty")
            ]
        );
        let h = fetch_metadata("https://app.example.com", "https://api.example.com/x", "navigate");
        assert_eq!(h[0].1, b"same-site");
        assert_eq!(h[2].1, b"document");
        assert!(fetch_metadata("http://a.example", "http://api.example.com/x", "cors").is_empty());
    }

    #[test]
    fn refusals_are_recognized_by_their_body() {
        assert_eq!(
            recognize(
                403,
                b"corsair: cross-origin request refused (cross_origin_request): ..."
            ),
            Some("cross_origin_request")
        );
        assert_eq!(
            recognize(
                403,
                b"corsair: cross-origin request refused (origin_host_mismatch): ..."
            ),
            Some("origin_host_mismatch")
        );
        assert_eq!(
            recognize(200, b"corsair: cross-origin request refused (cross_origin_request)"),
            None
        );
        assert_eq!(recognize(403, b"forbidden"), None);
        assert_eq!(
            recognize(403, b"corsair: cross-origin request refused (cross_origin_requests)"),
            None
        );
        // Every body the engine writes is recognized.
        let policy = corsair::PolicyConfig::new()
            .allow_origins(["https://a.example"])
            .build()
            .unwrap();
        let mut h = HeaderMap::new();
        h.insert("origin", http::HeaderValue::from_static("https://evil.example"));
        for site in [Some("cross-site"), None] {
            match site {
                Some(s) => drop(h.insert("sec-fetch-site", http::HeaderValue::from_static(s))),
                None => drop(h.remove("sec-fetch-site")),
            }
            let r = corsair::CrossOriginProtection::new()
                .check(&policy, &Method::POST, "/", Some(b"a.example"), &h)
                .unwrap_err();
            assert_eq!(recognize(403, r.body().as_bytes()), Some(r.code()));
        }
    }
}
