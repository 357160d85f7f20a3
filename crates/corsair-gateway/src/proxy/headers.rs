//! The headers a proxy rewrites: hop-by-hop headers (RFC 9110 §7.6.1),
//! removed in both directions, and the forwarding headers the gateway sets
//! on the upstream request.
//!
//! Forwarding headers:
//! - `X-Forwarded-For`: the client's address appended to any list the
//!   client sent (the right-most element is the one corsair vouches for);
//! - `X-Forwarded-Proto`: `http` or `https`, the client's;
//! - `X-Forwarded-Host`: the request's canonical authority (lowercase, no
//!   trailing dot; see [`super::target`]), none when it has none;
//! - `Forwarded` (RFC 7239): a client's is removed and never reaches the
//!   upstream (RFC 7239 §8.1: any hop can forge it, and the gateway has no
//!   list of trusted proxies before it); the gateway's own forwarding
//!   information is in the `X-Forwarded-*` headers above, which the common
//!   frameworks read.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// `X-Forwarded-For`.
pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
/// `X-Forwarded-Proto`.
pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
/// `X-Forwarded-Host`.
pub const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");

/// Hop-by-hop headers (RFC 9110 §7.6.1) and their common relatives, never
/// forwarded in either direction. Any other `proxy-*` header (and `proxy`,
/// see httpoxy) is dropped as well.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    KEEP_ALIVE,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
];

/// Removes the hop-by-hop headers: those named by `Connection`, the fixed
/// list, and every `proxy-*` header. One pass over the names when there are
/// none (the common case).
pub fn strip_hop_by_hop(h: &mut HeaderMap) {
    if !h.keys().any(|k| is_hop_by_hop(k.as_str())) {
        return;
    }
    if h.contains_key(header::CONNECTION) {
        let named: Vec<HeaderName> = h
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
            .collect();
        for n in named {
            h.remove(n);
        }
    }
    for n in &HOP_BY_HOP {
        if h.contains_key(n) {
            h.remove(n);
        }
    }
    if h.keys().any(|k| is_proxy_header(k.as_str())) {
        let names: Vec<HeaderName> = h.keys().filter(|k| is_proxy_header(k.as_str())).cloned().collect();
        for n in names {
            h.remove(n);
        }
    }
}

/// A name of [`HOP_BY_HOP`] or a `proxy-*` name.
fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "proxy-authenticate"
            | "proxy-authorization"
    ) || is_proxy_header(name)
}

fn is_proxy_header(name: &str) -> bool {
    name == "proxy" || name.starts_with("proxy-")
}

/// The `X-Forwarded-For` to send: the client's address (`peer_ip`),
/// appended to the list the client sent, if any.
pub fn forwarded_for(h: &HeaderMap, peer_ip: &HeaderValue) -> HeaderValue {
    if !h.contains_key(X_FORWARDED_FOR) {
        // The common case: no proxy before us; no formatting per request.
        return peer_ip.clone();
    }
    let mut xff = String::new();
    for v in h.get_all(X_FORWARDED_FOR) {
        if let Ok(s) = v.to_str() {
            let s = s.trim();
            if !s.is_empty() {
                xff.push_str(s);
                xff.push_str(", ");
            }
        }
    }
    xff.push_str(std::str::from_utf8(peer_ip.as_bytes()).unwrap_or("unknown"));
    HeaderValue::from_str(&xff).unwrap_or_else(|_| peer_ip.clone())
}

/// Puts each header of `set` in `h`, replacing any of the same name: what
/// the HTTP/1.1 upstream client does while writing the request head, for
/// the paths that go through a map.
pub fn set_headers(h: &mut HeaderMap, set: &[(&HeaderName, crate::upstream::h1::SetField<'_>)]) {
    use crate::upstream::h1::SetField;
    h.reserve(set.len());
    for (name, value) in set {
        match value {
            SetField::Value(v) => {
                h.insert(*name, (*v).clone());
            }
            SetField::Remove => {
                h.remove(*name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_are_removed() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive, X-Secret"),
            ("connection", "x-other"),
            ("x-secret", "1"),
            ("x-other", "1"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("trailer", "x"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("proxy-authorization", "Basic x"),
            ("proxy-connection", "keep-alive"),
            ("proxy", "http://evil"),
            ("x-kept", "1"),
            ("origin", "https://a.example"),
        ] {
            h.append(k, HeaderValue::from_static(v));
        }
        strip_hop_by_hop(&mut h);
        let mut left: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["origin", "x-kept"]);
    }

    #[test]
    fn each_hop_by_hop_header_alone_is_removed() {
        for name in [
            "connection",
            "keep-alive",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
            "proxy-authenticate",
            "proxy-authorization",
            "proxy-connection",
            "proxy",
        ] {
            let mut h = HeaderMap::new();
            h.insert("x-kept", HeaderValue::from_static("1"));
            h.insert(HeaderName::from_static(name), HeaderValue::from_static("x-kept2"));
            h.insert("x-kept2", HeaderValue::from_static("1"));
            strip_hop_by_hop(&mut h);
            assert!(h.get(name).is_none(), "{name} survived");
            assert!(h.contains_key("x-kept"), "{name}");
            // Only `Connection` names other headers.
            assert_eq!(h.contains_key("x-kept2"), name != "connection", "{name}");
        }
        let mut h = HeaderMap::new();
        h.insert("x-proxyish", HeaderValue::from_static("1"));
        h.insert("content-type", HeaderValue::from_static("text/plain"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 2, "nothing hop-by-hop: nothing removed");
    }
}
