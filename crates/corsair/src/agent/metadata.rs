//! Fetch Metadata Request Headers (W3C, webappsec-fetch-metadata): the
//! `Sec-Fetch-Site` a browser sends with a request, which the server half's
//! cross-origin protection reads ([`crate::cross_origin`]).

use std::net::Ipv4Addr;

use url::{Host, Url};

use super::origin::parse_url;

/// Secure Contexts §3.2 "Is url potentially trustworthy?", for the URLs a
/// page fetches: `https`/`wss`, `file`, and loopback hosts (`localhost`,
/// `*.localhost`, `127.0.0.0/8`, `[::1]`) over any scheme.
pub(crate) fn is_potentially_trustworthy(url: &Url) -> bool {
    match url.scheme() {
        "https" | "wss" | "file" | "data" => return true,
        "about" => return matches!(url.path(), "blank" | "srcdoc"),
        _ => {}
    }
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The host's "site" part (HTML §7.1.1 "obtain a site"): its registrable
/// domain when it has one, else the host itself.
fn site_host(url: &Url) -> Option<String> {
    match url.host()? {
        Host::Domain(d) => {
            let d = d.to_ascii_lowercase();
            Some(psl::domain_str(&d).map_or_else(|| d.clone(), str::to_owned))
        }
        Host::Ipv4(ip) => Some(Ipv4Addr::to_string(&ip)),
        Host::Ipv6(ip) => Some(format!("[{ip}]")),
    }
}

/// The `Sec-Fetch-Site` a browser sends when a page of `page_origin` (its
/// serialization, or `null`) makes a request to `url` (Fetch Metadata §2.1
/// "Set the Sec-Fetch-Site header"; one hop, no redirect): `same-origin`,
/// `same-site` (same scheme and registrable domain: schemeful same site) or
/// `cross-site`; `None` when `url` is not potentially trustworthy (Fetch
/// Metadata §4 "append the Fetch metadata headers": browsers send none to a
/// plain-`http` URL off loopback) or cannot be parsed. `none` (a navigation
/// the user started) is never the answer: a page's request is not one.
///
/// ```
/// use corsair::agent::sec_fetch_site;
/// assert_eq!(sec_fetch_site("https://app.example.com", "https://app.example.com/x"), Some("same-origin"));
/// assert_eq!(sec_fetch_site("https://app.example.com", "https://api.example.com/x"), Some("same-site"));
/// assert_eq!(sec_fetch_site("https://evil.example", "https://api.example.com/x"), Some("cross-site"));
/// assert_eq!(sec_fetch_site("null", "https://api.example.com/x"), Some("cross-site"));
/// // Plain http off loopback: no Fetch Metadata at all.
/// assert_eq!(sec_fetch_site("http://app.example.com", "http://api.example.com/x"), None);
/// assert_eq!(sec_fetch_site("http://app.example.com", "http://localhost:8080/x"), Some("cross-site"));
/// ```
pub fn sec_fetch_site(page_origin: &str, url: &str) -> Option<&'static str> {
    let target = parse_url(url).ok()?;
    if !is_potentially_trustworthy(&target) {
        return None;
    }
    // An opaque origin (`null`) is same origin and same site with nothing.
    let Ok(page) = parse_url(page_origin) else {
        return Some("cross-site");
    };
    let (po, to) = (page.origin(), target.origin());
    if !po.is_tuple() || !to.is_tuple() {
        return Some("cross-site");
    }
    if po == to {
        return Some("same-origin");
    }
    // HTML §7.1.1 "same site": schemeful (the same scheme) and the same site host.
    let same_site =
        page.scheme() == target.scheme() && site_host(&page).is_some() && site_host(&page) == site_host(&target);
    Some(if same_site { "same-site" } else { "cross-site" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec_fetch_site_values() {
        let t: &[(&str, &str, Option<&str>)] = &[
            (
                "https://a.example.com",
                "https://a.example.com/p?q",
                Some("same-origin"),
            ),
            (
                "https://a.example.com",
                "https://A.EXAMPLE.com:443/",
                Some("same-origin"),
            ),
            ("https://a.example.com", "https://b.example.com/", Some("same-site")),
            ("https://example.com", "https://a.b.example.com/", Some("same-site")),
            (
                "https://a.example.com:8443",
                "https://a.example.com/",
                Some("same-site"),
            ),
            // Schemeful: another scheme is another site.
            ("http://a.example.com", "https://a.example.com/", Some("cross-site")),
            ("https://a.example.com", "https://example.net/", Some("cross-site")),
            // A public suffix is no common site: github.io pages are
            // strangers to each other.
            ("https://a.github.io", "https://b.github.io/", Some("cross-site")),
            ("https://a.co.uk", "https://b.co.uk/", Some("cross-site")),
            ("null", "https://a.example.com/", Some("cross-site")),
            // Loopback targets are potentially trustworthy over http.
            ("http://localhost:3000", "http://localhost:8080/", Some("same-site")),
            ("http://localhost:3000", "http://localhost:3000/", Some("same-origin")),
            (
                "http://app.localhost:3000",
                "http://api.localhost:8080/",
                Some("cross-site"),
            ),
            ("http://127.0.0.1:3000", "http://127.0.0.1:8080/", Some("same-site")),
            ("http://127.0.0.1:3000", "http://127.0.0.2:8080/", Some("cross-site")),
            ("http://[::1]:3000", "http://[::1]:8080/", Some("same-site")),
            ("http://app.example.com", "http://127.0.0.1:8080/", Some("cross-site")),
            ("https://app.example.com", "wss://app.example.com/", Some("cross-site")),
            // Plain http elsewhere: no header at all.
            ("http://a.example.com", "http://a.example.com/", None),
            ("https://a.example.com", "http://a.example.com/", None),
            ("https://a.example.com", "http://10.0.0.1/", None),
            ("https://a.example.com", "not a url", None),
        ];
        for (origin, url, want) in t {
            assert_eq!(sec_fetch_site(origin, url), *want, "{origin} -> {url}");
        }
    }
}
