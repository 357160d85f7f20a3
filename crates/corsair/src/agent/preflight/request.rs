//! [`PreflightRequest`]: the `OPTIONS` request a browser sends.

use http::{HeaderMap, HeaderName, HeaderValue};

/// The `OPTIONS` request a browser sends before a non-simple request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PreflightRequest {
    /// Always `OPTIONS`.
    pub method: String,
    /// The request's URL.
    pub url: String,
    /// `Origin`, `Accept: */*`, `Access-Control-Request-Method` and, when
    /// there are unsafe header names, `Access-Control-Request-Headers`.
    pub headers: Vec<(String, String)>,
}

impl PreflightRequest {
    /// The value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The headers as an [`http::HeaderMap`] (all values are valid header
    /// values: a serialized origin, tokens and commas).
    pub fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in &self.headers {
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
                map.append(n, v);
            }
        }
        map
    }
}
