//! The HAR model (the fields `check --har` reads; everything else is ignored) and
//! helpers on recorded header lists.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(super) struct Har {
    pub(super) log: Log,
}

#[derive(Debug, Deserialize)]
pub(super) struct Log {
    #[serde(default)]
    pub(super) pages: Vec<Page>,
    pub(super) entries: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Page {
    #[serde(default)]
    pub(super) id: String,
    /// Chrome and Firefox put the page's URL here.
    #[serde(default)]
    pub(super) title: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct Entry {
    #[serde(default)]
    pub(super) pageref: Option<String>,
    pub(super) request: HarRequest,
    pub(super) response: HarResponse,
    #[serde(default, rename = "_resourceType")]
    pub(super) resource_type: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct HarRequest {
    pub(super) method: String,
    pub(super) url: String,
    #[serde(default)]
    pub(super) headers: Vec<NameValue>,
}

#[derive(Debug, Deserialize)]
pub(super) struct HarResponse {
    #[serde(default)]
    pub(super) status: i64,
    #[serde(default)]
    pub(super) headers: Vec<NameValue>,
    #[serde(default, rename = "_error")]
    pub(super) error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct NameValue {
    pub(super) name: String,
    pub(super) value: String,
}

pub(super) fn header<'a>(list: &'a [NameValue], name: &str) -> Option<&'a str> {
    list.iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// The recorded header lines as a map (HTTP/2 pseudo-headers and unsendable values
/// left out).
pub(super) fn map_of(list: &[NameValue]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for h in list {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_str(&h.value),
        ) {
            map.append(n, v);
        }
    }
    map
}

/// The serialized origin of a URL, when it has a tuple origin.
pub(super) fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| u.origin().ascii_serialization())
}

pub(super) fn is_preflight(e: &Entry) -> bool {
    e.request.method == "OPTIONS"
        && (e.resource_type.as_deref() == Some("preflight")
            || header(&e.request.headers, "access-control-request-method").is_some())
}
