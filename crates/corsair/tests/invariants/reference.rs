//! The naive reference, written from the Fetch Standard and the policy
//! model by plain string work on the configuration: never by asking the
//! engine.

use crate::policies::{default_port, Gen};

/// A canonical, explicitly written, non-default port.
pub(crate) fn ref_port_ok(p: &str, scheme: &str) -> Option<u16> {
    if p.is_empty() || p.len() > 5 || p.starts_with('0') || !p.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: u32 = p.parse().ok()?;
    if n == 0 || n > 65535 || n == u32::from(default_port(scheme)) {
        return None;
    }
    Some(n as u16)
}

pub(crate) fn ref_label_ok(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Whether one configured pattern admits `origin`, by naive string work.
pub(crate) fn ref_pattern_allows(pattern: &str, origin: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if origin == "null" {
        return false;
    }
    if let Some((scheme, rest)) = pattern.split_once("://*.") {
        // `scheme://*.domain[:port|:*]`
        let (domain, pport) = match rest.split_once(':') {
            Some((d, p)) => (d, Some(p)),
            None => (rest, None),
        };
        let Some(orest) = origin.strip_prefix(&format!("{scheme}://")) else {
            return false;
        };
        if orest.contains('[') {
            return false;
        }
        let parts: Vec<&str> = orest.split(':').collect();
        let (host, oport) = match parts.as_slice() {
            [h] => (*h, None),
            [h, p] => (*h, Some(*p)),
            _ => return false,
        };
        let port_ok = match (pport, oport) {
            (_, Some(p)) if ref_port_ok(p, scheme).is_none() => false,
            (Some("*"), _) => true,
            (None, None) => true,
            (Some(pp), Some(op)) => pp == op,
            _ => false,
        };
        let suffix = ".".to_owned() + domain;
        return port_ok && host.ends_with(&suffix) && host.split('.').all(ref_label_ok);
    }
    if let Some(base) = pattern.strip_suffix(":*") {
        // `scheme://host:*`
        if origin == base {
            return true;
        }
        let scheme = base.split("://").next().unwrap_or("");
        return origin
            .strip_prefix(base)
            .and_then(|r| r.strip_prefix(':'))
            .is_some_and(|p| ref_port_ok(p, scheme).is_some());
    }
    pattern == origin
}

/// Whether the policy admits the origin (an allowed CORS request).
pub(crate) fn ref_allows(g: &Gen, origin: &str) -> bool {
    g.origins.iter().any(|p| ref_pattern_allows(p, origin))
}

/// What `Policy::allows_origin` should say: a public (`*`) policy answers
/// `*` to everyone, `null` included; any other policy never allows `null`.
pub(crate) fn ref_allows_origin(g: &Gen, origin: &str) -> bool {
    g.origins.iter().any(|p| p == "*") || (origin != "null" && ref_allows(g, origin))
}

pub(crate) const NORMALIZED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];

/// Fetch §2.2.1 "normalize": the six methods uppercased, others as written.
pub(crate) fn ref_normalize(m: &str) -> String {
    NORMALIZED
        .iter()
        .find(|n| n.eq_ignore_ascii_case(m))
        .map_or_else(|| m.to_owned(), |n| (*n).to_owned())
}

pub(crate) fn ref_method_allowed(g: &Gen, m: &str) -> bool {
    if matches!(m, "GET" | "HEAD" | "POST") || g.methods.iter().any(|x| x == "*") {
        return true;
    }
    g.methods.iter().any(|x| ref_normalize(x) == m)
}

/// The methods a browser can send in `Access-Control-Request-Method` that
/// the configuration allows by name: the CORS-safelisted ones (Fetch §4.8
/// step 7.5 needs no listing for them) and every listed method as the
/// browser normalizes it (`*` apart).
pub(crate) fn ref_listed_methods(g: &Gen) -> Vec<String> {
    let mut out: Vec<String> = ["GET", "HEAD", "POST"].map(str::to_owned).to_vec();
    out.extend(g.methods.iter().filter(|m| *m != "*").map(|m| ref_normalize(m)));
    out
}

/// Whether `*` in `allow_methods` lets any method through.
pub(crate) fn ref_any_method(g: &Gen) -> bool {
    g.methods.iter().any(|m| m == "*")
}

/// Fetch §2.2.1 "forbidden method": no browser sends one.
pub(crate) fn ref_forbidden_method(m: &str) -> bool {
    ["CONNECT", "TRACE", "TRACK"].iter().any(|f| f.eq_ignore_ascii_case(m))
}

/// Fetch §2.2.2 "forbidden request-header", steps 1 and 2: the names no
/// script can set, whatever the value (written out from the standard).
pub(crate) fn ref_forbidden_header_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    ]
    .contains(&lower.as_str())
        || lower.starts_with("proxy-")
        || lower.starts_with("sec-")
}

/// A listed name, or, under `*` (with or without credentials), any name a
/// script can set but `Authorization`, which must be listed itself.
pub(crate) fn ref_header_allowed(g: &Gen, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let listed = |n: &str| g.headers.iter().any(|h| h.eq_ignore_ascii_case(n));
    listed(&lower)
        || (listed("*") && (lower != "authorization" || listed("authorization")) && !ref_forbidden_header_name(&lower))
}

/// The names a browser-style reading of the ACRH lines yields.
pub(crate) fn ref_acrh_names(lines: &[Vec<u8>]) -> Vec<String> {
    let mut out = Vec::new();
    for l in lines {
        for e in String::from_utf8_lossy(l).split(',') {
            let e = e.trim_matches([' ', '\t']);
            if !e.is_empty() {
                out.push(e.to_ascii_lowercase());
            }
        }
    }
    out
}
