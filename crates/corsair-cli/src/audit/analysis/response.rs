//! What one response shows: whether it grants the `Origin` it was sent, whether
//! credentials come along, what `Vary` covers, the methods and headers it approves.
//!
//! A probe origin counts as *granted* when the response carries exactly one
//! `Access-Control-Allow-Origin` whose value is byte-for-byte the probe origin, i.e. when a
//! browser would pass the CORS check (Fetch §4.10). `*` is not counted as a grant of a
//! specific origin; it only matters together with credentials.

use http::header::{self, HeaderMap, HeaderName};

use crate::report::HeaderList;

/// The part of a response the analysis needs (so that it can be unit-tested without I/O).
#[derive(Debug, Clone)]
pub(crate) struct Observed {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    /// The response head as received, for the probe sent over a raw connection.
    pub(crate) raw: Option<Vec<u8>>,
    /// The reason code, when the answer is a corsair gateway's cross-origin protection
    /// refusal (a 403 whose body names it).
    pub(crate) refusal: Option<&'static str>,
}

/// How a response treats the `Origin` it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    /// No `Access-Control-Allow-Origin`.
    None,
    /// Exactly one ACAO, byte-equal to the request's `Origin`.
    Exact,
    /// Exactly one ACAO, `*`.
    Wildcard,
    /// Anything else (another origin, several values): a browser's check fails.
    Other,
}

pub(crate) fn grant(headers: &HeaderMap, origin: &str) -> Grant {
    let mut values = headers.get_all(header::ACCESS_CONTROL_ALLOW_ORIGIN).iter();
    let Some(first) = values.next() else {
        return Grant::None;
    };
    if values.next().is_some() {
        return Grant::Other;
    }
    if first.as_bytes() == origin.as_bytes() {
        Grant::Exact
    } else if first.as_bytes() == b"*" {
        Grant::Wildcard
    } else {
        Grant::Other
    }
}

/// Exactly one `Access-Control-Allow-Credentials: true` (what a browser requires).
pub(crate) fn credentials(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).iter();
    matches!((values.next(), values.next()), (Some(v), None) if v.as_bytes() == b"true")
}

/// Comma-separated tokens of every line of a header, trimmed, empty ones dropped.
pub(crate) fn tokens(headers: &HeaderMap, name: &HeaderName) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

pub(crate) fn vary_covers_origin(headers: &HeaderMap) -> bool {
    tokens(headers, &header::VARY)
        .iter()
        .any(|t| t == "*" || t.eq_ignore_ascii_case("origin"))
}

/// The ACAO lines as one comparable value.
pub(crate) fn acao_signature(headers: &HeaderMap) -> Vec<Vec<u8>> {
    headers
        .get_all(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .iter()
        .map(|v| v.as_bytes().to_vec())
        .collect()
}

/// The ACAO lines of a response joined with `, ` (for a note).
pub(crate) fn acao_text(headers: &HeaderMap) -> String {
    let values: Vec<String> = headers
        .get_all(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    values.join(", ")
}

/// The response lines a finding shows: ACAO, ACAC, ACAM, ACAH and `Vary`.
pub(crate) fn relevant_headers(headers: &HeaderMap) -> HeaderList {
    HeaderList::from_map_filtered(headers, |name| {
        [
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            header::ACCESS_CONTROL_ALLOW_METHODS,
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            header::VARY,
        ]
        .iter()
        .any(|h| h.as_str() == name)
    })
}

#[cfg(test)]
mod tests {
    use http::header::HeaderValue;

    use super::*;

    fn headers(lines: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in lines {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    const O: &str = "https://a.example";

    #[test]
    fn grant_is_one_exact_value() {
        let acao = |values: &[&str]| {
            let lines: Vec<(&str, &str)> = values.iter().map(|v| ("access-control-allow-origin", *v)).collect();
            grant(&headers(&lines), O)
        };
        assert_eq!(acao(&[]), Grant::None);
        assert_eq!(acao(&[O]), Grant::Exact);
        assert_eq!(acao(&["*"]), Grant::Wildcard);
        assert_eq!(acao(&[O, O]), Grant::Other);
        assert_eq!(acao(&["*", "*"]), Grant::Other);
        assert_eq!(acao(&["https://a.example/"]), Grant::Other);
        assert_eq!(acao(&["https://A.example"]), Grant::Other);
        assert_eq!(acao(&["https://a.example, https://b.example"]), Grant::Other);
    }

    #[test]
    fn credentials_are_exactly_one_true() {
        let acac = |values: &[&str]| {
            let lines: Vec<(&str, &str)> = values
                .iter()
                .map(|v| ("access-control-allow-credentials", *v))
                .collect();
            credentials(&headers(&lines))
        };
        assert!(acac(&["true"]));
        assert!(!acac(&[]));
        assert!(!acac(&["TRUE"]));
        assert!(!acac(&["true", "true"]));
        assert!(!acac(&["true, true"]));
    }

    #[test]
    fn vary_and_tokens_read_every_line() {
        let h = headers(&[("vary", "Accept-Encoding, "), ("vary", " ORIGIN")]);
        assert_eq!(tokens(&h, &header::VARY), ["Accept-Encoding", "ORIGIN"]);
        assert!(vary_covers_origin(&h));
        assert!(vary_covers_origin(&headers(&[("vary", "*")])));
        assert!(!vary_covers_origin(&headers(&[
            ("vary", "Origin-Agent"),
            ("vary", "Cookie")
        ])));
    }

    #[test]
    fn relevant_lines_and_acao_text() {
        let h = headers(&[
            ("access-control-allow-origin", O),
            ("x-other", "1"),
            ("access-control-expose-headers", "x-id"),
            ("access-control-allow-origin", "*"),
        ]);
        let names: Vec<String> = relevant_headers(&h).iter().map(|l| l.name.clone()).collect();
        assert_eq!(names, ["access-control-allow-origin", "access-control-allow-origin"]);
        assert_eq!(acao_text(&h), "https://a.example, *");
        assert_eq!(acao_signature(&h), [O.as_bytes().to_vec(), b"*".to_vec()]);
    }
}
