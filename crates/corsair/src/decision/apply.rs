//! The CORS headers of every response that is not a preflight's own answer
//! ([`Policy::apply`]), and `Vary` merging.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use super::{Decision, RequestKind, STAR};
use crate::policy::Policy;

const VARY_ORIGIN: HeaderValue = HeaderValue::from_static("Origin");

impl Policy {
    /// Applies the policy's answer to a response from the inner service (or
    /// to an error response of the gateway): removes any
    /// `Access-Control-Allow-*`/`-Expose-Headers`/`-Max-Age` header the
    /// inner service set (the policy is the single authority), adds the
    /// policy's headers for an allowed origin, and merges `Origin` into
    /// `Vary` whenever the answer depends on it.
    ///
    /// ```
    /// use corsair::PolicyConfig;
    /// use http::{HeaderMap, HeaderValue, Method};
    ///
    /// let policy = PolicyConfig::new().allow_origins(["https://app.example.com"]).build().unwrap();
    /// let mut req = HeaderMap::new();
    /// req.insert("origin", HeaderValue::from_static("https://app.example.com"));
    /// let d = policy.evaluate(&Method::GET, &req);
    ///
    /// let mut resp = HeaderMap::new();
    /// resp.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    /// policy.apply(&d, &mut resp);
    /// assert_eq!(resp["access-control-allow-origin"], "https://app.example.com");
    /// assert_eq!(resp["vary"], "Origin");
    /// ```
    pub fn apply(&self, d: &Decision, headers: &mut HeaderMap) {
        // One pass over the (usually few) response header names; removal
        // only when the service did set CORS headers. Every
        // `Access-Control-*` name goes, not only the standard ones: the
        // policy is the single authority.
        let has_vary = strip_cors_headers(headers);
        if self.origins.any {
            // A public resource: the same headers whatever the Origin, so no
            // Vary (Fetch "CORS protocol and HTTP caches": `*` or a static
            // origin is sent for non-CORS requests too, without Vary).
            if d.rejection.is_none() {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, STAR);
                if let Some(v) = &self.expose {
                    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, v.clone());
                }
            }
            return;
        }
        // Fetch "CORS protocol and HTTP caches": the answer depends on
        // `Origin`, so every response, non-CORS ones included, varies on it.
        // The pass that stripped the CORS headers saw whether there is a
        // `Vary` to merge with: without one, no lookup.
        if !has_vary || !vary_lists(headers, "origin") {
            headers.append(header::VARY, VARY_ORIGIN);
        }
        if d.kind == RequestKind::NotCors || d.rejection.is_some() {
            return;
        }
        self.put_origin(d, headers);
        // Fetch §4.1 "Main fetch", step 14.1: the browser exposes the names
        // `Access-Control-Expose-Headers` lists.
        if let Some(v) = &self.expose {
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, v.clone());
        }
    }
}

/// Removes every `Access-Control-*` header: one pass over the (usually
/// few) names, and a hashed removal only for those present. Returns whether
/// the map has a `Vary` header (seen in the same pass).
fn strip_cors_headers(headers: &mut HeaderMap) -> bool {
    const MAX: usize = 8;
    let mut found: [Option<HeaderName>; MAX] = Default::default();
    let mut n = 0;
    let mut has_vary = false;
    for k in headers.keys() {
        if k.as_str().starts_with("access-control-") {
            if n == MAX {
                // More than MAX distinct names: remove what was found so
                // far and look again (only hostile upstreams get here).
                break;
            }
            found[n] = Some(k.clone());
            n += 1;
        } else if k == header::VARY {
            has_vary = true;
        }
    }
    if n == 0 {
        return has_vary;
    }
    for name in found.iter_mut().take(n) {
        if let Some(name) = name.take() {
            headers.remove(&name);
        }
    }
    if n == MAX {
        return strip_cors_headers(headers);
    }
    has_vary
}

/// Whether the response's `Vary` already lists `token` (case-insensitively)
/// or is `*`.
fn vary_lists(headers: &HeaderMap, token: &str) -> bool {
    headers.get_all(header::VARY).iter().any(|v| {
        v.as_bytes().split(|&b| b == b',').any(|item| {
            let item = item.trim_ascii();
            item == b"*" || item.eq_ignore_ascii_case(token.as_bytes())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Vary` merging as `apply` does it.
    fn append_vary(headers: &mut HeaderMap, token: &str, value: &HeaderValue) {
        let has_vary = strip_cors_headers(headers);
        if !has_vary || !vary_lists(headers, token) {
            headers.append(header::VARY, value.clone());
        }
    }

    #[test]
    fn vary_is_merged_without_duplicates() {
        let origin = HeaderValue::from_static("Origin");
        let mut h = HeaderMap::new();
        append_vary(&mut h, "origin", &origin);
        append_vary(&mut h, "origin", &origin);
        assert_eq!(h.get_all(header::VARY).iter().count(), 1);

        let mut h = HeaderMap::new();
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding, origin"));
        append_vary(&mut h, "origin", &origin);
        assert_eq!(h.get_all(header::VARY).iter().count(), 1);

        let mut h = HeaderMap::new();
        h.insert(header::VARY, HeaderValue::from_static("*"));
        append_vary(&mut h, "origin", &origin);
        assert_eq!(h.get_all(header::VARY).iter().collect::<Vec<_>>(), ["*"]);

        let mut h = HeaderMap::new();
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        append_vary(&mut h, "origin", &origin);
        assert_eq!(
            h.get_all(header::VARY).iter().collect::<Vec<_>>(),
            ["Accept-Encoding", "Origin"]
        );
    }
}
