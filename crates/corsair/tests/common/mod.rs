//! Requests shared by the engine's benchmark (`benches/engine.rs`, included
//! with `#[path]`) and the allocation test (`tests/no_alloc.rs`), so both
//! measure the same request maps.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// A request as a browser sends it: a few ordinary headers around the CORS
/// ones given, so lookups walk a realistic map. Values are static, like
/// slices of a server's shared read buffer: cloning them is a refcount bump
/// at most.
pub fn request(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::HOST, HeaderValue::from_static("api.example.com"));
    h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    h.insert(
        header::USER_AGENT,
        HeaderValue::from_static("Mozilla/5.0 (X11; Linux x86_64)"),
    );
    for (k, v) in pairs {
        h.append(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    h
}
