//! Serialized origins (`scheme://host[:port]` or `null`) and the small part of
//! URL parsing the agent needs: a URL's origin and whether it carries
//! credentials.

/// The default port of a special scheme.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// The parts of an absolute hierarchical URL the agent uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlParts {
    /// Lowercased scheme.
    pub scheme: String,
    /// Lowercased host (IPv6 kept in brackets).
    pub host: String,
    /// Explicit port, `None` when absent or the scheme's default.
    pub port: Option<u16>,
    /// Whether a `user[:password]@` part is present.
    pub has_credentials: bool,
    /// Path, query and fragment, as given (may be empty).
    pub rest: String,
}

impl UrlParts {
    /// The ASCII serialization of this URL's origin.
    pub fn origin(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }
}

/// Parses `scheme://[userinfo@]host[:port][/path][?query][#fragment]`.
pub(crate) fn parse_url(input: &str) -> Result<UrlParts, String> {
    let input = input.trim_matches(|c: char| c.is_ascii_whitespace() || c.is_ascii_control());
    let Some((scheme, rest)) = input.split_once("://") else {
        return Err("expected `scheme://host`".to_string());
    };
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(format!("`{scheme}` is not a valid scheme"));
    }
    let scheme = scheme.to_ascii_lowercase();
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (has_credentials, host_port) = match authority.rfind('@') {
        Some(at) => (true, &authority[at + 1..]),
        None => (false, authority),
    };
    let (host, port) = split_host_port(host_port)?;
    let host = validate_host(host)?;
    let port = match port {
        None | Some("") => None,
        Some(p) => {
            if !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("the port `{p}` is not a number"));
            }
            let digits = p.trim_start_matches('0');
            let out_of_range = || format!("the port `{p}` is out of range");
            let n: u32 = if digits.is_empty() {
                0
            } else if digits.len() > 5 {
                return Err(out_of_range());
            } else {
                digits.parse().map_err(|_| out_of_range())?
            };
            let n = u16::try_from(n).map_err(|_| out_of_range())?;
            (default_port(&scheme) != Some(n)).then_some(n)
        }
    };
    Ok(UrlParts {
        scheme,
        host,
        port,
        has_credentials,
        rest: tail.to_string(),
    })
}

fn split_host_port(s: &str) -> Result<(&str, Option<&str>), String> {
    if s.starts_with('[') {
        let Some(close) = s.find(']') else {
            return Err("an IPv6 address is missing its closing `]`".to_string());
        };
        let host = &s[..=close];
        let after = &s[close + 1..];
        if after.is_empty() {
            Ok((host, None))
        } else if let Some(port) = after.strip_prefix(':') {
            Ok((host, Some(port)))
        } else {
            Err(format!("unexpected `{after}` after the IPv6 address"))
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => Ok((h, Some(p))),
            None => Ok((s, None)),
        }
    }
}

fn validate_host(host: &str) -> Result<String, String> {
    if host.is_empty() {
        return Err("the host is empty".to_string());
    }
    if !host.is_ascii() {
        return Err(format!(
            "the host `{host}` is not ASCII; browsers serialize internationalized hosts in punycode (`xn--…`)"
        ));
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return Err(format!("`{host}` is not an IPv6 address"));
        }
        return Ok(host.to_ascii_lowercase());
    }
    if let Some(bad) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(format!("the host `{host}` contains `{bad}`"));
    }
    Ok(host.to_ascii_lowercase())
}

/// Parses and serializes a page origin: `null`, or `scheme://host[:port]`
/// (a single trailing `/` is tolerated). Scheme and host are lowercased and a
/// default port is dropped, as a browser serializes origins.
pub(crate) fn parse_origin(input: &str) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed == "null" {
        return Ok("null".to_string());
    }
    let url = parse_url(trimmed)?;
    if url.has_credentials {
        return Err("an origin has no `user:password@` part".to_string());
    }
    if !(url.rest.is_empty() || url.rest == "/") {
        return Err(format!(
            "an origin has no path, query or fragment (found `{}`); use `{}`",
            url.rest,
            url.origin()
        ));
    }
    if url.scheme == "file" {
        return Err("a `file:` page has an opaque origin; use `null`".to_string());
    }
    Ok(url.origin())
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
            ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
            ("chrome-extension://abcdef", "chrome-extension://abcdef"),
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
            "https://u:p@app.example",
            "https://app.example:99999",
            "https://app.example:8a",
            "https://bücher.example",
            "https://a b.example",
            "1https://a.example",
            "file:///tmp/x",
            "",
            "Null",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls() {
        let u = parse_url("https://API.example:443/r?q=1#f").unwrap();
        assert_eq!(u.origin(), "https://api.example");
        assert_eq!(u.rest, "/r?q=1#f");
        assert!(!u.has_credentials);
        let u = parse_url("http://user:pw@api.example:8080").unwrap();
        assert!(u.has_credentials);
        assert_eq!(u.origin(), "http://api.example:8080");
        assert_eq!(u.rest, "");
        let u = parse_url("http://api.example:/x").unwrap();
        assert_eq!(u.port, None);
        let u = parse_url("http://api.example:0080/x").unwrap();
        assert_eq!(u.port, None);
        assert!(parse_url("mailto:x@y").is_err());
    }
}
