//! `Vary` merging.

use http::header::{self, HeaderMap, HeaderValue};

/// Appends `token` to the response's `Vary` unless it is already there
/// (case-insensitively) or `Vary: *` is present.
pub(crate) fn append_vary(headers: &mut HeaderMap, token: &str, value: &HeaderValue) {
    for v in headers.get_all(header::VARY) {
        for item in v.as_bytes().split(|&b| b == b',') {
            let item = item.trim_ascii();
            if item == b"*" || item.eq_ignore_ascii_case(token.as_bytes()) {
                return;
            }
        }
    }
    headers.append(header::VARY, value.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

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
