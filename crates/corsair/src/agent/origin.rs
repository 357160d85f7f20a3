//! URLs and origins on the `url` crate, which implements the WHATWG URL
//! Standard that Fetch is written against: parsing a URL, whether it
//! includes credentials, the ASCII serialization of its origin, and a
//! page's origin given as text.

use url::{ParseError, Position, Url};

use super::request::RequestError;

/// Parses an absolute URL with the URL Standard's basic URL parser (no
/// base): scheme and host are lowercased, a default port is dropped,
/// internationalized hosts become punycode, and IPv4 and IPv6 addresses
/// are written canonically.
pub(crate) fn parse_url(input: &str) -> Result<Url, String> {
    Url::parse(input).map_err(|e| describe(&e))
}

/// Parses `reference` against `base`, as a `Location` is parsed against the
/// response's URL.
pub(crate) fn join_url(base: &Url, reference: &str) -> Result<Url, String> {
    base.join(reference).map_err(|e| describe(&e))
}

/// Why the URL parser failed, as a clause.
fn describe(e: &ParseError) -> String {
    match e {
        ParseError::RelativeUrlWithoutBase => {
            "expected an absolute URL (`scheme://host…`), found a relative reference".to_string()
        }
        ParseError::EmptyHost => "the host is empty".to_string(),
        ParseError::InvalidPort => "the port is not a number from 0 to 65535".to_string(),
        ParseError::IdnaError => "the host is not a valid internationalized domain name".to_string(),
        ParseError::InvalidIpv4Address => "the host is not a valid IPv4 address".to_string(),
        ParseError::InvalidIpv6Address => "the host is not a valid IPv6 address".to_string(),
        ParseError::InvalidDomainCharacter => "the host contains a character that no domain may hold".to_string(),
        other => other.to_string(),
    }
}

/// Whether `url` includes credentials (URL Standard): a username or a
/// password that is not empty.
pub(crate) fn includes_credentials(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some_and(|p| !p.is_empty())
}

/// The ASCII serialization of `url`'s origin (URL Standard "origin",
/// HTML "ASCII serialization of an origin"): `scheme://host[:port]` for a
/// tuple origin, `null` for an opaque one. A URL of another scheme with a
/// host (`chrome-extension://id/…`) is serialized as `scheme://host[:port]`
/// too, host lowercased: browsers give extension pages such origins,
/// although the URL Standard makes them opaque.
pub(crate) fn origin_serialization(url: &Url) -> String {
    let origin = url.origin();
    if origin.is_tuple() {
        return origin.ascii_serialization();
    }
    match url.host_str() {
        Some(host) if url.scheme() != "file" && !host.is_empty() => {
            let host = host.to_ascii_lowercase();
            match url.port() {
                Some(port) => format!("{}://{host}:{port}", url.scheme()),
                None => format!("{}://{host}", url.scheme()),
            }
        }
        _ => "null".to_string(),
    }
}

/// The ASCII serialization of the origin of the URL `url`: for example
/// `https://api.example` for `https://API.example:443/r?q`, and `null` for a
/// URL with an opaque origin (`data:`, `file:`, `mailto:`). The URL is
/// parsed as a browser parses it (URL Standard), so the result is what the
/// browser compares with a page's origin. Browser-extension URLs
/// (`chrome-extension://id/…`) give `scheme://host`, as browsers serialize
/// extension pages' origins.
///
/// ```
/// use corsair::agent::origin_of_url;
/// assert_eq!(origin_of_url("https://API.example:443/r?q=1#f")?, "https://api.example");
/// assert_eq!(origin_of_url("http://[0:0::1]:8080/")?, "http://[::1]:8080");
/// assert_eq!(origin_of_url("https://bücher.example/")?, "https://xn--bcher-kva.example");
/// assert_eq!(origin_of_url("data:text/plain,hi")?, "null");
/// assert_eq!(origin_of_url("/relative").unwrap_err().code(), "invalid-url");
/// # Ok::<(), corsair::agent::RequestError>(())
/// ```
pub fn origin_of_url(url: &str) -> Result<String, RequestError> {
    let parsed = parse_url(url).map_err(|reason| RequestError::InvalidUrl {
        input: url.to_string(),
        reason,
    })?;
    Ok(origin_serialization(&parsed))
}

/// Parses and serializes a page origin: `null`, or `scheme://host[:port]`
/// (a single trailing `/` is tolerated). The text is parsed as a URL, so
/// scheme and host are lowercased, a default port is dropped and an
/// internationalized host becomes punycode, as a browser serializes origins.
pub(crate) fn parse_origin(input: &str) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed == "null" {
        return Ok("null".to_string());
    }
    let url = parse_url(trimmed)?;
    if url.scheme() == "file" {
        return Err("a `file:` page has an opaque origin; use `null`".to_string());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("expected `scheme://host[:port]`".to_string());
    }
    if includes_credentials(&url) {
        return Err("an origin has no `user:password@` part".to_string());
    }
    let origin = origin_serialization(&url);
    let rest = &url[Position::BeforePath..];
    if !(rest.is_empty() || rest == "/") {
        return Err(format!(
            "an origin has no path, query or fragment (found `{rest}`); use `{origin}`"
        ));
    }
    Ok(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        for (input, out) in [
            ("https://app.example", "https://app.example"),
            ("https://App.Example:443", "https://app.example"),
            ("HTTP://app.example:80/", "http://app.example"),
            ("http://app.example:8080", "http://app.example:8080"),
            ("https://app.example:80", "https://app.example:80"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("http://[0:0:0:0:0:0:0:1]:3000", "http://[::1]:3000"),
            ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
            ("http://0x7f.1:3000", "http://127.0.0.1:3000"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
            ("chrome-extension://abcdef", "chrome-extension://abcdef"),
            ("chrome-extension://ABCDEF/", "chrome-extension://abcdef"),
            ("null", "null"),
            (" null ", "null"),
        ] {
            assert_eq!(parse_origin(input).as_deref(), Ok(out), "{input}");
        }
        for bad in [
            "app.example",
            "//app.example",
            "https://",
            "https://app.example/path",
            "https://app.example?x",
            "https://app.example#x",
            "https://u:p@app.example",
            "https://u@app.example",
            "https://app.example:99999",
            "https://app.example:8a",
            "https://a b.example",
            "1https://a.example",
            "file:///tmp/x",
            "mailto:x@y",
            "",
            "Null",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
        let e = parse_origin("https://app.example/path?q").unwrap_err();
        assert!(
            e.contains("found `/path?q`") && e.contains("use `https://app.example`"),
            "{e}"
        );
    }

    #[test]
    fn urls() {
        let u = parse_url("https://API.example:443/r?q=1#f").unwrap();
        assert_eq!(origin_serialization(&u), "https://api.example");
        assert!(!includes_credentials(&u));
        let u = parse_url("http://user:pw@api.example:8080").unwrap();
        assert!(includes_credentials(&u));
        assert_eq!(origin_serialization(&u), "http://api.example:8080");
        assert!(includes_credentials(&parse_url("https://user:@h.example/").unwrap()));
        assert!(includes_credentials(&parse_url("https://:pw@h.example/").unwrap()));
        assert!(!includes_credentials(&parse_url("https://@h.example/").unwrap()));
        assert_eq!(parse_url("http://api.example:/x").unwrap().port(), None);
        assert_eq!(parse_url("http://api.example:0080/x").unwrap().port(), None);
        assert_eq!(origin_serialization(&parse_url("mailto:x@y").unwrap()), "null");
        assert_eq!(origin_serialization(&parse_url("file:///etc/hosts").unwrap()), "null");
        assert!(parse_url("/relative").unwrap_err().contains("absolute URL"));
        assert_eq!(
            parse_url("https://h.example:70000/").unwrap_err(),
            "the port is not a number from 0 to 65535"
        );
    }

    #[test]
    fn origin_of_url_is_the_browsers_serialization() {
        assert_eq!(origin_of_url("wss://h.example:443/s").unwrap(), "wss://h.example");
        assert_eq!(origin_of_url("https://h.example./").unwrap(), "https://h.example.");
        let e = origin_of_url("https://exa mple.com/").unwrap_err();
        assert_eq!(e.code(), "invalid-url");
        assert!(
            e.to_string().starts_with("invalid URL `https://exa mple.com/`: "),
            "{e}"
        );
    }
}
