//! Conventions shared by the reports of the diagnostic commands (`check`, `audit`, and
//! `validate` as it gains a JSON format).
//!
//! # Header lists
//!
//! Every list of header lines in a JSON report is a [`HeaderList`]: an array of
//! `{"name": …, "value": …}` objects, one per header line, duplicates kept:
//!
//! ```json
//! [
//!   { "name": "access-control-allow-origin", "value": "https://a.example" },
//!   { "name": "access-control-allow-origin", "value": "https://b.example" },
//!   { "name": "vary", "value": "Origin" }
//! ]
//! ```
//!
//! A JSON object cannot hold a name twice, and for CORS the repeats are the point: two
//! `Access-Control-Allow-Origin` lines make a browser fail the check even when each names
//! the page's origin.
//!
//! - **Order.** Request headers are listed in the order they are sent. Response headers
//!   are listed in the order of [`http::HeaderMap`], which is the order in which each name
//!   first appeared on the wire, with every line of one name together in the order
//!   received (a response `A, B, A` is listed `A, A, B`: the HTTP client does not keep the
//!   interleaving of different names).
//! - **Names** are as sent or received; `http` lowercases received names.
//! - **Values** are the bytes of the line, each byte shown as the character of the same
//!   number (*isomorphic decoding*, which is also what `Headers.get()` returns in a
//!   browser). Every byte survives, so a value with non-UTF-8 bytes is shown as it was
//!   received rather than with replacement characters.

use http::HeaderMap;
use serde::Serialize;

/// One header line of a [`HeaderList`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderLine {
    /// The header name.
    pub name: String,
    /// The value, isomorphic-decoded (see the module documentation).
    pub value: String,
}

/// Header lines as a JSON report shows them: `[{"name", "value"}]`, in order, duplicates
/// kept (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct HeaderList(Vec<HeaderLine>);

impl HeaderList {
    /// Every line of a header map, in the map's order.
    pub fn from_map(headers: &HeaderMap) -> HeaderList {
        HeaderList::from_lines(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
    }

    /// The lines of a header map whose name satisfies `keep`, in the map's order.
    pub fn from_map_filtered(headers: &HeaderMap, keep: impl Fn(&str) -> bool) -> HeaderList {
        HeaderList::from_lines(
            headers
                .iter()
                .filter(|(n, _)| keep(n.as_str()))
                .map(|(n, v)| (n.as_str(), v.as_bytes())),
        )
    }

    /// Lines given as (name, value bytes), in this order.
    pub fn from_lines<'a>(lines: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> HeaderList {
        HeaderList(
            lines
                .into_iter()
                .map(|(name, value)| HeaderLine {
                    name: name.to_owned(),
                    value: isomorphic_decode(value),
                })
                .collect(),
        )
    }

    /// The lines, in order.
    pub fn iter(&self) -> impl Iterator<Item = &HeaderLine> {
        self.0.iter()
    }

    /// Whether the list has no line.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The lines back as a header map (each character of a value is the byte of the
    /// same number, so the bytes received come back; a line that is not a valid
    /// header is left out).
    pub fn to_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in &self.0 {
            let bytes: Vec<u8> = line
                .value
                .chars()
                .filter_map(|c| u8::try_from(u32::from(c)).ok())
                .collect();
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(line.name.as_bytes()),
                http::HeaderValue::from_bytes(&bytes),
            ) {
                map.append(n, v);
            }
        }
        map
    }
}

/// A report as pretty-printed JSON. The reports are plain structs, strings and numbers,
/// whose serialization cannot fail; should it fail anyway, the output is still one JSON
/// document, `{"error": "could not render JSON: ..."}`.
pub fn to_json<T: Serialize>(report: &T) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        let message = serde_json::Value::String(format!("could not render JSON: {e}"));
        format!("{{\"error\": {message}}}")
    })
}

/// Each byte as the code point of the same number (the Infra standard's *isomorphic
/// decode*): lossless for any header value.
pub fn isomorphic_decode(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use http::header::{HeaderName, HeaderValue};

    use super::*;

    fn map(lines: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (n, v) in lines {
            map.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_bytes(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn repeated_lines_are_kept_in_order_as_an_array() {
        let headers = map(&[
            ("Access-Control-Allow-Origin", b"https://a.example"),
            ("vary", b"Origin"),
            ("access-control-allow-origin", b"https://b.example"),
        ]);
        let json = serde_json::to_value(HeaderList::from_map(&headers)).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                { "name": "access-control-allow-origin", "value": "https://a.example" },
                { "name": "access-control-allow-origin", "value": "https://b.example" },
                { "name": "vary", "value": "Origin" },
            ])
        );
    }

    #[test]
    fn values_keep_every_byte() {
        let list = HeaderList::from_lines([("X-Name", &b"caf\xE9 \xFF"[..])]);
        let line = list.iter().next().unwrap();
        assert_eq!(line.name, "X-Name");
        assert_eq!(line.value, "caf\u{e9} \u{ff}");
        let bytes: Vec<u8> = line
            .value
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap())
            .collect();
        assert_eq!(bytes, b"caf\xE9 \xFF");
    }

    #[test]
    fn filtered_keeps_only_the_chosen_names() {
        let headers = map(&[("vary", b"Origin"), ("x-other", b"1"), ("vary", b"Cookie")]);
        let list = HeaderList::from_map_filtered(&headers, |n| n == "vary");
        let values: Vec<&str> = list.iter().map(|l| l.value.as_str()).collect();
        assert_eq!(values, ["Origin", "Cookie"]);
        assert!(HeaderList::from_map_filtered(&headers, |_| false).is_empty());
    }
}
