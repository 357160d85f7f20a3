//! Exempt paths: what an exact path a browser sends looks like.

/// Why `p` cannot be an exempt path, if it cannot: it must be a path a
/// browser sends (the URL Standard's serialization), since it is compared
/// byte for byte with the request's path.
pub(super) fn check_exempt_path(p: &str) -> Result<(), String> {
    if !p.starts_with('/') {
        return Err("an exempt path starts with `/` (a path, not a URL or a pattern)".to_owned());
    }
    if let Some(c) = p.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(format!(
            "{c:?} cannot be in a path a browser sends (percent-encode it as the browser does)"
        ));
    }
    if p.contains('?') || p.contains('#') {
        return Err("an exempt path has no query or fragment: it is compared with the request's path alone".to_owned());
    }
    if p.contains(['*', '{', '}']) {
        return Err(
            "exempt paths are exact, never patterns: a pattern exempts paths nobody listed (Go's CVE-2025-47910 \
             exempted paths its router redirected to a pattern); list each path"
                .to_owned(),
        );
    }
    if let Some(c) = p.chars().find(|c| matches!(c, '"' | '<' | '>' | '`')) {
        return Err(format!("a browser percent-encodes `{c}` in a path; write it encoded"));
    }
    if p.contains('\\') {
        return Err("a `\\` is never in a path a browser sends (the URL Standard turns it into `/`)".to_owned());
    }
    if p.split('/').any(|s| {
        let s = s.to_ascii_lowercase().replace("%2e", ".");
        s == "." || s == ".."
    }) {
        return Err("a dot segment (`.`, `..`) is never in a path a browser sends (it removes them)".to_owned());
    }
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return Err("a `%` is not followed by two hex digits".to_owned());
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// Whether `path` is under `prefix` as the gateway routes: the prefix
/// itself, or followed by `/` (or `?`); `/` and the empty prefix cover
/// everything; a prefix ending in `/` covers what starts with it.
/// `case_sensitive = false` compares ASCII letters case-insensitively (the
/// gateway's `[paths] case_sensitive`).
pub fn path_has_prefix(path: &str, prefix: &str, case_sensitive: bool) -> bool {
    if prefix == "/" || prefix.is_empty() {
        return true;
    }
    let rest = if case_sensitive {
        path.strip_prefix(prefix)
    } else {
        path.get(..prefix.len())
            .filter(|head| head.eq_ignore_ascii_case(prefix))
            .map(|_| &path[prefix.len()..])
    };
    match rest {
        Some(rest) => prefix.ends_with('/') || rest.is_empty() || rest.starts_with(['/', '?']),
        None => false,
    }
}
