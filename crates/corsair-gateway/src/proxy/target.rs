//! The canonical meaning of a request's target, computed once per request
//! and used for every decision: which policy covers it (its host and path)
//! and what is forwarded (the canonical path, so that the upstream serves
//! exactly the resource the policy was chosen for).
//!
//! **Path** (RFC 3986 §6.2.2, syntax-based normalization, and §5.2.4):
//! 1. percent-encodings of unreserved characters (`ALPHA DIGIT - . _ ~`)
//!    are decoded (`/%61pi` is `/api`), the others are kept with uppercase
//!    hex digits (`%3f` → `%3F`); a `%` not followed by two hex digits is
//!    malformed (400);
//! 2. an encoded `/` or `\` (`%2F`, `%5C`) has no single meaning (one
//!    server splits segments on it after decoding, the next does not): 400,
//!    unless [`PathRules::encoded_slashes`] keeps it as an ordinary
//!    character; an encoded NUL (`%00`) and a literal `\` (which browsers
//!    never send: the URL Standard turns it into `/`) are always 400;
//! 3. a `;` starts path parameters, which some servers drop from each
//!    segment (Tomcat, Jetty: `/api;x/me` is `/api/me`, `/a/..;/b` is
//!    `/b`) and others keep: 400 by default, or kept, or stripped, as
//!    [`PathRules::semicolons`] says;
//! 4. with [`PathRules::merge_slashes`] (the default, as nginx), `//` is `/`;
//! 5. dot segments are removed (`remove_dot_segments`, RFC 3986 §5.2.4), the
//!    encoded ones included (`/%2e%2e/` is `/../`); `..` never climbs above
//!    the root.
//!
//! The query is neither decoded nor normalized: no policy depends on it.
//!
//! **Authority** (RFC 9112 §3.2 and §3.2.2, RFC 9113 §8.3.1, RFC 9110
//! §7.2): an HTTP/1.1 request needs exactly one `Host` (none, or more than
//! one, is a 400); an absolute-form target's authority wins over `Host`;
//! on HTTP/2 `:authority` is the authority and a `host` field that names
//! another is a 400. A host is `uri-host [":" port]` with `uri-host` a DNS
//! name (letters, digits, `-`, `_`, dots), an IPv4 address or a bracketed
//! IPv6 address; anything else (`a@b`, `b/x`, `b:abc`, `b:80:80`,
//! percent-encodings) is a 400. Names compare case-insensitively (they are
//! lowercased) and one trailing dot is removed (`api.example.com.` is
//! `api.example.com`).

use std::borrow::Cow;
use std::fmt;
use std::net::Ipv6Addr;

use http::header::{self, HeaderMap};
use http::{Uri, Version};

use crate::config::{EncodedSlashes, PathRules, Semicolons};

/// Why a request has no single meaning: answered 400, never routed nor
/// forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// HTTP/1.1 without `Host`.
    MissingHost,
    /// More than one `Host` field line.
    MultipleHosts,
    /// A `Host` (or absolute-form, or `:authority`) that is not
    /// `uri-host [":" port]`.
    InvalidHost,
    /// HTTP/2 `host` naming another authority than `:authority`.
    AuthorityMismatch,
    /// An absolute-form target whose scheme is not http or https.
    InvalidScheme,
    /// A path that is not a path (no leading `/`).
    InvalidPath,
    /// A `%` not followed by two hex digits.
    InvalidEscape,
    /// `%2F` or `%5C`.
    EncodedSlash,
    /// `%00`.
    EncodedNul,
    /// A literal `\`.
    Backslash,
    /// A `;` in the path.
    PathParameters,
}

impl Refusal {
    /// A stable code for logs and metrics.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::MissingHost => "missing_host",
            Refusal::MultipleHosts => "multiple_hosts",
            Refusal::InvalidHost => "invalid_host",
            Refusal::AuthorityMismatch => "authority_mismatch",
            Refusal::InvalidScheme => "invalid_scheme",
            Refusal::InvalidPath => "invalid_path",
            Refusal::InvalidEscape => "invalid_percent_encoding",
            Refusal::EncodedSlash => "encoded_slash",
            Refusal::EncodedNul => "encoded_nul",
            Refusal::Backslash => "backslash",
            Refusal::PathParameters => "path_parameters",
        }
    }

    /// Every code, for the metrics.
    pub const ALL: [Refusal; 11] = [
        Refusal::MissingHost,
        Refusal::MultipleHosts,
        Refusal::InvalidHost,
        Refusal::AuthorityMismatch,
        Refusal::InvalidScheme,
        Refusal::InvalidPath,
        Refusal::InvalidEscape,
        Refusal::EncodedSlash,
        Refusal::EncodedNul,
        Refusal::Backslash,
        Refusal::PathParameters,
    ];
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::MissingHost => "an HTTP/1.1 request needs a Host header (RFC 9112 §3.2)",
            Refusal::MultipleHosts => "more than one Host header (RFC 9112 §3.2)",
            Refusal::InvalidHost => "the Host is not `host[:port]` with a DNS name or an IP address",
            Refusal::AuthorityMismatch => "the host header names another authority than :authority (RFC 9113 §8.3.1)",
            Refusal::InvalidScheme => "an absolute-form target must be an http or https URL",
            Refusal::InvalidPath => "the request target is not a path",
            Refusal::InvalidEscape => "a `%` in the path is not followed by two hex digits",
            Refusal::EncodedSlash => {
                "an encoded `/` or `\\` (%2F, %5C) in the path has no single meaning ([paths] encoded_slashes)"
            }
            Refusal::EncodedNul => "an encoded NUL (%00) in the path",
            Refusal::Backslash => "a `\\` in the path (servers disagree on whether it separates segments)",
            Refusal::PathParameters => "a `;` in the path: servers disagree on path parameters ([paths] semicolons)",
        })
    }
}

/// A request's authority: its host name (lowercase, no trailing dot) and
/// port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority<'a> {
    /// The name, an IPv4 address, or a bracketed IPv6 address (`[::1]`).
    pub name: Cow<'a, str>,
    /// The port, if one was given.
    pub port: Option<u16>,
}

impl Authority<'_> {
    /// `name[:port]`, for `X-Forwarded-Host` and `Forwarded: host=`.
    pub fn to_header_text(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.name),
            None => self.name.to_string(),
        }
    }
}

/// The authority of a request (see the module docs): `Ok(None)` when the
/// request names none (HTTP/1.0 without Host, an empty Host, HTTP/2
/// without either).
pub fn request_authority<'a>(
    uri: &'a Uri,
    headers: &'a HeaderMap,
    version: Version,
) -> Result<Option<Authority<'a>>, Refusal> {
    let mut hosts = headers.get_all(header::HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        return Err(Refusal::MultipleHosts);
    }
    if let Some(s) = uri.scheme_str() {
        if !s.eq_ignore_ascii_case("http") && !s.eq_ignore_ascii_case("https") {
            return Err(Refusal::InvalidScheme);
        }
    }
    let from_target = match uri.authority() {
        Some(a) => parse_host(a.as_str().as_bytes())?,
        None => None,
    };
    if version == Version::HTTP_2 {
        return match (from_target, host) {
            (Some(a), Some(h)) => {
                // RFC 9113 §8.3.1: compared after scheme-based normalization
                // (a default port equals no port).
                let h = parse_host(h.as_bytes())?;
                let port = |p: Option<u16>| p.or_else(|| default_port(uri));
                match h {
                    Some(h) if h.name == a.name && port(h.port) == port(a.port) => Ok(Some(a)),
                    _ => Err(Refusal::AuthorityMismatch),
                }
            }
            (Some(a), None) => Ok(Some(a)),
            (None, Some(h)) => parse_host(h.as_bytes()),
            (None, None) => Ok(None),
        };
    }
    let Some(host) = host else {
        return if version >= Version::HTTP_11 {
            Err(Refusal::MissingHost)
        } else {
            Ok(from_target)
        };
    };
    // The Host must be valid even when an absolute-form target overrides it.
    let host = parse_host(host.as_bytes())?;
    Ok(if from_target.is_some() { from_target } else { host })
}

fn default_port(uri: &Uri) -> Option<u16> {
    match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => Some(443),
        Some(s) if s.eq_ignore_ascii_case("http") => Some(80),
        _ => None,
    }
}

/// Parses `uri-host [":" port]` (see the module docs); `Ok(None)` for an
/// empty value.
pub fn parse_host(v: &[u8]) -> Result<Option<Authority<'_>>, Refusal> {
    if v.is_empty() {
        return Ok(None);
    }
    let (host, port) = if v[0] == b'[' {
        let end = v.iter().position(|&b| b == b']').ok_or(Refusal::InvalidHost)?;
        let inside = std::str::from_utf8(&v[1..end]).map_err(|_| Refusal::InvalidHost)?;
        inside.parse::<Ipv6Addr>().map_err(|_| Refusal::InvalidHost)?;
        let rest = &v[end + 1..];
        let port = match rest {
            [] => None,
            [b':', p @ ..] => parse_port(p)?,
            _ => return Err(Refusal::InvalidHost),
        };
        (&v[..=end], port)
    } else {
        let (host, port) = match v.iter().position(|&b| b == b':') {
            Some(i) => (&v[..i], parse_port(&v[i + 1..])?),
            None => (v, None),
        };
        check_name(host)?;
        (host, port)
    };
    // ASCII only by now.
    let text = std::str::from_utf8(host).map_err(|_| Refusal::InvalidHost)?;
    let text = text.strip_suffix('.').unwrap_or(text);
    let name = if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    };
    Ok(Some(Authority { name, port }))
}

/// `*DIGIT` (RFC 3986 §3.2.3), at most 65535; empty is no port.
fn parse_port(p: &[u8]) -> Result<Option<u16>, Refusal> {
    if p.is_empty() {
        return Ok(None);
    }
    if !p.iter().all(u8::is_ascii_digit) {
        return Err(Refusal::InvalidHost);
    }
    let digits = p.iter().skip_while(|&&b| b == b'0').count();
    if digits > 5 {
        return Err(Refusal::InvalidHost);
    }
    let n = p.iter().fold(0u32, |n, &b| n * 10 + u32::from(b - b'0'));
    u16::try_from(n).map(Some).map_err(|_| Refusal::InvalidHost)
}

/// A DNS name or IPv4 address: non-empty labels of letters, digits, `-`
/// and `_`, separated by dots, optionally ending in one dot; at most 253
/// bytes.
fn check_name(h: &[u8]) -> Result<(), Refusal> {
    let h = h.strip_suffix(b".").unwrap_or(h);
    if h.is_empty() || h.len() > 253 {
        return Err(Refusal::InvalidHost);
    }
    for label in h.split(|&b| b == b'.') {
        if label.is_empty()
            || label.len() > 63
            || !label
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Refusal::InvalidHost);
        }
    }
    Ok(())
}

/// The canonical form of `path` (see the module docs). Borrowed when the
/// path is canonical already (the common case: one scan, no allocation).
pub fn canonical_path<'a>(path: &'a str, rules: &PathRules) -> Result<Cow<'a, str>, Refusal> {
    let b = path.as_bytes();
    if b.first() != Some(&b'/') {
        return Err(Refusal::InvalidPath);
    }
    if is_canonical(b, rules) {
        return Ok(Cow::Borrowed(path));
    }
    normalize(b, rules).map(Cow::Owned)
}

/// Whether nothing in `b` needs normalizing: no `\`, no `;` (unless
/// kept), no percent-encoding other than a canonical one (uppercase, of a
/// character that stays encoded), no `//` (when merging) and no dot
/// segment.
fn is_canonical(b: &[u8], rules: &PathRules) -> bool {
    let mut prev_slash = false;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'\\' | 0x80..=0xFF | 0..=0x1F | 0x7F => return false,
            b';' if rules.semicolons != Semicolons::Keep => return false,
            b'%' => {
                let canonical_hex = |c: u8| c.is_ascii_digit() || (b'A'..=b'F').contains(&c);
                let (Some(&hi), Some(&lo)) = (b.get(i + 1), b.get(i + 2)) else {
                    return false;
                };
                if !canonical_hex(hi) || !canonical_hex(lo) {
                    return false;
                }
                let v = (hex(hi).unwrap_or(0) << 4) | hex(lo).unwrap_or(0);
                let slash = v == b'/' || v == b'\\';
                if v == 0
                    || is_unreserved(v)
                    || (slash && rules.encoded_slashes == EncodedSlashes::Reject)
                    || matches!(v, 0xC0 | 0xC1 | 0xE0 | 0xF0)
                {
                    return false;
                }
            }
            b'/' => {
                if prev_slash && rules.merge_slashes {
                    return false;
                }
                prev_slash = true;
                continue;
            }
            b'.' if prev_slash => {
                // `/.` or `/..` followed by `/` or the end.
                let rest = &b[i..];
                if matches!(rest, [b'.'] | [b'.', b'/', ..] | [b'.', b'.'] | [b'.', b'.', b'/', ..]) {
                    return false;
                }
            }
            _ => {}
        }
        prev_slash = false;
    }
    true
}

/// Whether an encoded byte `v`, followed by `next` (the raw text after its
/// escape), starts an overlong UTF-8 encoding: `%C0`/`%C1` (only ever
/// overlong ASCII, such as `%C0%AE` for `.`), `%E0%80`–`%E0%9F` and
/// `%F0%80`–`%F0%8F`. Some servers decode those to the ASCII they disguise
/// (the classic `..` and `/` bypasses): no single meaning.
fn is_overlong_start(v: u8, next: Option<&[u8]>) -> bool {
    let second = || match next {
        Some([b'%', hi, lo]) => Some((hex(*hi)?, hex(*lo)?)).map(|(h, l)| h << 4 | l),
        _ => None,
    };
    match v {
        0xC0 | 0xC1 => true,
        0xE0 => second().is_some_and(|s| (0x80..=0x9F).contains(&s)),
        0xF0 => second().is_some_and(|s| (0x80..=0x8F).contains(&s)),
        _ => false,
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

fn normalize(b: &[u8], rules: &PathRules) -> Result<String, Refusal> {
    // 1-2. Percent-encodings and backslashes, into `decoded`.
    let mut decoded = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let (Some(hi), Some(lo)) = (b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex))
                else {
                    return Err(Refusal::InvalidEscape);
                };
                let v = hi << 4 | lo;
                if is_overlong_start(v, b.get(i + 3..i + 6)) {
                    return Err(Refusal::InvalidEscape);
                }
                match v {
                    0 => return Err(Refusal::EncodedNul),
                    b'/' | b'\\' if rules.encoded_slashes == EncodedSlashes::Reject => {
                        return Err(Refusal::EncodedSlash)
                    }
                    v if is_unreserved(v) => decoded.push(v),
                    v => {
                        const HEX: &[u8; 16] = b"0123456789ABCDEF";
                        decoded.extend_from_slice(&[b'%', HEX[usize::from(v >> 4)], HEX[usize::from(v & 15)]]);
                    }
                }
                i += 3;
            }
            b'\\' => return Err(Refusal::Backslash),
            // A request-target is ASCII (RFC 9112 §3.2, RFC 3986 §2): raw
            // bytes beyond it, or controls, have no agreed meaning.
            0x80..=0xFF | 0..=0x1F | 0x7F => return Err(Refusal::InvalidPath),
            c => {
                decoded.push(c);
                i += 1;
            }
        }
    }
    // 3-5. Segments: parameters, empty segments, dot segments.
    let mut out: Vec<&[u8]> = Vec::new();
    let body = &decoded[1..];
    let n = body.split(|&c| c == b'/').count();
    let mut trailing_slash = false;
    for (k, seg) in body.split(|&c| c == b'/').enumerate() {
        let last = k + 1 == n;
        let seg = match seg.iter().position(|&c| c == b';') {
            None => seg,
            Some(p) => match rules.semicolons {
                Semicolons::Reject => return Err(Refusal::PathParameters),
                Semicolons::Keep => seg,
                Semicolons::Strip => &seg[..p],
            },
        };
        match seg {
            b"." => trailing_slash = last,
            b".." => {
                out.pop();
                trailing_slash = last;
            }
            b"" if rules.merge_slashes && !last => {}
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut s = Vec::with_capacity(decoded.len());
    for seg in &out {
        s.push(b'/');
        s.extend_from_slice(seg);
    }
    if trailing_slash || s.is_empty() {
        s.push(b'/');
    }
    // Every byte came from a `&str` or is ASCII hex.
    String::from_utf8(s).map_err(|_| Refusal::InvalidPath)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(p: &str) -> Result<String, Refusal> {
        canonical_path(p, &PathRules::default()).map(Cow::into_owned)
    }

    fn canon_with(p: &str, r: PathRules) -> Result<String, Refusal> {
        canonical_path(p, &r).map(Cow::into_owned)
    }

    #[test]
    fn canonical_paths_are_borrowed() {
        for p in ["/", "/api", "/api/me", "/api/", "/a.b/c..d/.e/..f", "/~x/-_/"] {
            assert!(
                matches!(canonical_path(p, &PathRules::default()), Ok(Cow::Borrowed(_))),
                "{p}"
            );
        }
    }

    #[test]
    fn unreserved_escapes_are_decoded_others_uppercased() {
        assert_eq!(canon("/%61pi/me").unwrap(), "/api/me");
        assert_eq!(canon("/%41%7e%2D%5f%2E").unwrap(), "/A~-_.");
        assert_eq!(canon("/a%3fb%20c%25").unwrap(), "/a%3Fb%20c%25");
        assert_eq!(canon("/%e2%82%ac").unwrap(), "/%E2%82%AC");
    }

    #[test]
    fn dot_segments_literal_and_encoded_are_removed() {
        for (p, want) in [
            ("/public/../private/x", "/private/x"),
            ("/public/%2e%2e/private/x", "/private/x"),
            ("/public/%2E%2e/private/x", "/private/x"),
            ("/partner/.%2e/api/me", "/api/me"),
            ("/a/./b", "/a/b"),
            ("/a/%2e/b", "/a/b"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/..", "/"),
            ("/../../etc/passwd", "/etc/passwd"),
            ("/a/../../b", "/b"),
            ("/.", "/"),
            ("/a/...", "/a/..."),
        ] {
            assert_eq!(canon(p).unwrap(), want, "{p}");
        }
    }

    #[test]
    fn slashes_merge_by_default() {
        assert_eq!(canon("//api//me").unwrap(), "/api/me");
        assert_eq!(canon("/api//").unwrap(), "/api/");
        assert_eq!(canon("//").unwrap(), "/");
        assert_eq!(canon("/a//../b").unwrap(), "/b");
        let keep = PathRules {
            merge_slashes: false,
            ..PathRules::default()
        };
        assert_eq!(canon_with("//api//me", keep).unwrap(), "//api//me");
        assert_eq!(canon_with("/a//../b", keep).unwrap(), "/a/b");
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        assert_eq!(canon("/api%2fme"), Err(Refusal::EncodedSlash));
        assert_eq!(canon("/api%2Fme"), Err(Refusal::EncodedSlash));
        assert_eq!(canon("/api%5cme"), Err(Refusal::EncodedSlash));
        assert_eq!(canon("/api%00"), Err(Refusal::EncodedNul));
        assert_eq!(canon("/api\\me"), Err(Refusal::Backslash));
        assert_eq!(canon("/api%"), Err(Refusal::InvalidEscape));
        assert_eq!(canon("/api%4"), Err(Refusal::InvalidEscape));
        assert_eq!(canon("/api%zz"), Err(Refusal::InvalidEscape));
        assert_eq!(canon("/api;x/me"), Err(Refusal::PathParameters));
        assert_eq!(canon("/a/..;/b"), Err(Refusal::PathParameters));
        assert_eq!(canon("/%c0%ae%c0%ae/x"), Err(Refusal::InvalidEscape));
        assert_eq!(canon("/%C1%9C"), Err(Refusal::InvalidEscape));
        assert_eq!(canon("/%e0%80%ae"), Err(Refusal::InvalidEscape));
        assert_eq!(canon("/%f0%80%80%ae"), Err(Refusal::InvalidEscape));
        assert_eq!(canon("/%e0%a4%85").unwrap(), "/%E0%A4%85", "a real 3-byte character");
        assert_eq!(canon("/é"), Err(Refusal::InvalidPath));
        assert_eq!(canon("/a\tb"), Err(Refusal::InvalidPath));
        assert_eq!(canon("api"), Err(Refusal::InvalidPath));
        assert_eq!(canon(""), Err(Refusal::InvalidPath));
    }

    #[test]
    fn rules_keep_or_strip() {
        let keep = PathRules {
            encoded_slashes: EncodedSlashes::Keep,
            semicolons: Semicolons::Keep,
            ..PathRules::default()
        };
        assert_eq!(canon_with("/p/group%2fname/../x", keep).unwrap(), "/p/x");
        assert_eq!(canon_with("/p/group%2fname", keep).unwrap(), "/p/group%2Fname");
        assert_eq!(canon_with("/api;x/me", keep).unwrap(), "/api;x/me");
        assert_eq!(canon_with("/a/..;/b", keep).unwrap(), "/a/..;/b");
        let strip = PathRules {
            semicolons: Semicolons::Strip,
            ..PathRules::default()
        };
        assert_eq!(canon_with("/api;jsessionid=1/me", strip).unwrap(), "/api/me");
        assert_eq!(canon_with("/a/..;/b", strip).unwrap(), "/b");
        assert_eq!(canon_with("/a;x", strip).unwrap(), "/a");
    }

    #[test]
    fn normalizing_twice_changes_nothing() {
        let rules = [
            PathRules::default(),
            PathRules {
                merge_slashes: false,
                encoded_slashes: EncodedSlashes::Keep,
                semicolons: Semicolons::Keep,
                case_sensitive: true,
            },
            PathRules {
                semicolons: Semicolons::Strip,
                ..PathRules::default()
            },
        ];
        let parts = [
            "", "/", "a", ".", "..", "%2e", "%2E%2e", "%61", ";p", "%2f", "%3F", "~", "//",
        ];
        for r in rules {
            for a in parts {
                for b in parts {
                    for c in parts {
                        let p = format!("/{a}/{b}{c}");
                        if let Ok(once) = canonical_path(&p, &r) {
                            let twice = canonical_path(&once, &r).unwrap();
                            assert_eq!(once, twice, "{p} under {r:?}");
                            assert!(
                                matches!(canonical_path(&once, &r), Ok(Cow::Borrowed(_))),
                                "{p} -> {once}"
                            );
                        }
                    }
                }
            }
        }
    }

    fn authority(uri: &str, hosts: &[&str], version: Version) -> Result<Option<(String, Option<u16>)>, Refusal> {
        let uri: Uri = uri.parse().unwrap();
        let mut h = HeaderMap::new();
        for v in hosts {
            h.append(header::HOST, v.parse().unwrap());
        }
        request_authority(&uri, &h, version).map(|a| a.map(|a| (a.name.into_owned(), a.port)))
    }

    #[test]
    fn host_rules_of_rfc_9112() {
        let v11 = Version::HTTP_11;
        assert_eq!(authority("/x", &["B.Test"], v11), Ok(Some(("b.test".into(), None))));
        assert_eq!(
            authority("/x", &["b.test.:8080"], v11),
            Ok(Some(("b.test".into(), Some(8080))))
        );
        assert_eq!(authority("/x", &["b.test:"], v11), Ok(Some(("b.test".into(), None))));
        assert_eq!(
            authority("/x", &["[::1]:80"], v11),
            Ok(Some(("[::1]".into(), Some(80))))
        );
        assert_eq!(
            authority("/x", &["127.0.0.1"], v11),
            Ok(Some(("127.0.0.1".into(), None)))
        );
        assert_eq!(authority("/x", &[""], v11), Ok(None));
        assert_eq!(authority("/x", &[], v11), Err(Refusal::MissingHost));
        assert_eq!(authority("/x", &[], Version::HTTP_10), Ok(None));
        assert_eq!(authority("/x", &["a.test", "b.test"], v11), Err(Refusal::MultipleHosts));
        assert_eq!(authority("/x", &["a.test", "a.test"], v11), Err(Refusal::MultipleHosts));
        for bad in [
            "a.test@b.test",
            "b.test/x",
            "b.test:abc",
            "b.test:80:80",
            "b.test:99999",
            "b..test",
            ".b.test",
            "b.test..",
            "b%2etest",
            "b test",
            "[::1",
            "[zz]",
            "[::1]x",
            ":80",
            "*",
        ] {
            assert_eq!(authority("/x", &[bad], v11), Err(Refusal::InvalidHost), "{bad}");
        }
        // Absolute form: its authority wins; the Host must still be valid.
        assert_eq!(
            authority("http://A.test/x", &["b.test"], v11),
            Ok(Some(("a.test".into(), None)))
        );
        assert_eq!(
            authority("http://a.test/x", &["b.test:abc"], v11),
            Err(Refusal::InvalidHost)
        );
        assert_eq!(authority("http://a.test/x", &[], v11), Err(Refusal::MissingHost));
        assert_eq!(
            authority("http://u@a.test/x", &["a.test"], v11),
            Err(Refusal::InvalidHost)
        );
        assert_eq!(
            authority("ftp://a.test/x", &["a.test"], v11),
            Err(Refusal::InvalidScheme)
        );
    }

    #[test]
    fn authority_rules_of_rfc_9113() {
        let v2 = Version::HTTP_2;
        assert_eq!(
            authority("https://a.test/x", &[], v2),
            Ok(Some(("a.test".into(), None)))
        );
        assert_eq!(
            authority("https://a.test/x", &["A.TEST"], v2),
            Ok(Some(("a.test".into(), None)))
        );
        assert_eq!(
            authority("https://a.test/x", &["a.test:443"], v2),
            Ok(Some(("a.test".into(), None)))
        );
        assert_eq!(
            authority("https://a.test/x", &["b.test"], v2),
            Err(Refusal::AuthorityMismatch)
        );
        assert_eq!(
            authority("https://a.test/x", &["a.test:8443"], v2),
            Err(Refusal::AuthorityMismatch)
        );
        assert_eq!(
            authority("https://a.test/x", &["a.test", "a.test"], v2),
            Err(Refusal::MultipleHosts)
        );
        assert_eq!(authority("/x", &["b.test"], v2), Ok(Some(("b.test".into(), None))));
        assert_eq!(authority("/x", &[], v2), Ok(None));
    }
}
