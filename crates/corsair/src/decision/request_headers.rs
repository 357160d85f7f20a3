//! `Access-Control-Request-Headers`: whether every name a preflight asks
//! for is allowed, in one pass for the usual browser line and by the bounded
//! walk of the list syntax otherwise.

use http::header::HeaderValue;

use super::{Rejection, STAR};
use crate::fetch::list::{for_each_token, MAX_EMPTY_ELEMENTS, MAX_OWS};
use crate::fetch::syntax::split_ows;
use crate::fetch::{is_cors_non_wildcard_request_header_name, is_forbidden_request_header_name};
use crate::policy::{Policy, MAX_HEADER_NAME};

/// What [`Policy::all_listed`] could tell of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listed {
    /// Every element is a listed name or empty; `named`: at least one name.
    All { named: bool },
    /// Malformed: more empty elements than the full check allows.
    Invalid,
    /// The full check must decide.
    Unknown,
}

impl Policy {
    /// The usual `Access-Control-Request-Headers` line, decided in one
    /// pass: every element, as sent, is a listed name. [`Listed::All`] when
    /// so (`named`: the line names at least one header); [`Listed::Invalid`]
    /// when the line has more empty elements than the full check allows
    /// (every element before them passed, so the full check, which walks the
    /// same elements with the same bounds, refuses it at the same place:
    /// 60 KB of commas costs one short walk, not two); [`Listed::Unknown`]
    /// when the full check must decide (a name not found as sent, whitespace
    /// beyond the limits, or a wildcard policy). Listed names are lowercase
    /// tokens, so a name found here is one the full check accepts: the full
    /// check only adds the token check and the lowercasing that the
    /// rejections and the rare uppercase names need.
    pub(crate) fn all_listed(&self, line: &[u8]) -> Listed {
        if self.any_header {
            return Listed::Unknown;
        }
        let (mut named, mut empty) = (false, 0usize);
        let mut start = 0;
        while let Some(rest) = line.get(start..) {
            let end = rest.iter().position(|&b| b == b',').unwrap_or(rest.len());
            let mut name = &rest[..end];
            // Browsers send no whitespace ("a,b": Fetch §4.8 step 5.1 joins
            // the names with `,` alone): trim only when there is.
            if let [b' ' | b'\t', ..] | [.., b' ' | b'\t'] = name {
                match trim_ows_within_bounds(name) {
                    Some(n) => name = n,
                    None => return Listed::Unknown,
                }
            }
            if name.is_empty() {
                empty += 1;
                if empty > MAX_EMPTY_ELEMENTS {
                    return Listed::Invalid;
                }
            } else if self.headers.contains(name) {
                named = true;
            } else {
                return Listed::Unknown;
            }
            start += end + 1;
        }
        Listed::All { named }
    }

    /// Checks every name of the `Access-Control-Request-Headers` lines
    /// `lines()` yields; returns them (joined when several) for the answer,
    /// `None` when they name nothing.
    pub(crate) fn check_request_headers<'a, I>(&self, lines: impl Fn() -> I) -> Result<Option<HeaderValue>, Rejection>
    where
        I: Iterator<Item = &'a HeaderValue>,
    {
        let mut count = 0usize;
        let mut names = 0usize;
        let checked = for_each_token(lines(), |line_no, e| {
            count = count.max(line_no + 1);
            names += 1;
            if self.header_allowed(e.name) {
                Ok(())
            } else {
                Err((line_no, e.start, e.name.len()))
            }
        });
        match checked {
            Ok(()) => {}
            Err(None) => return Err(Rejection::InvalidHeaders),
            Err(Some((line_no, start, len))) => {
                let line = lines().nth(line_no).cloned().unwrap_or(STAR);
                return Err(Rejection::HeaderNotAllowed { line, start, len });
            }
        }
        Ok(match (names, count) {
            (0, _) => None,
            (_, 1) => lines().next().cloned(),
            _ => join_lines(lines()),
        })
    }

    #[inline]
    fn header_allowed(&self, name: &[u8]) -> bool {
        // Fetch §4.8 "CORS-preflight fetch", steps 7.6 and 7.7: `*` covers
        // any name but the CORS non-wildcard request-header name
        // (`Authorization`), which must be listed itself; names compare
        // byte-case-insensitively. A policy's `*` also never covers a
        // forbidden request-header name (Fetch §2.2.2, steps 1 and 2): no
        // script can set one, so a preflight that names one is not a
        // browser's, and the answer (which reflects the names) never
        // repeats it. This is the same with credentials, where the
        // reflection is what makes `*` work at all.
        if self.any_header
            && (self.authorization_listed || !is_cors_non_wildcard_request_header_name(name))
            && !is_forbidden_request_header_name(name)
        {
            return true;
        }
        if name.len() > MAX_HEADER_NAME {
            return false;
        }
        // Browsers send lowercase names: look the name up as it is first
        // (the set holds lowercase names only), and lowercase it only when
        // that fails on a name with uppercase letters.
        if self.headers.contains(name) {
            return true;
        }
        if !name.iter().any(u8::is_ascii_uppercase) {
            return false;
        }
        let mut buf = [0u8; MAX_HEADER_NAME];
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.headers.contains(lower)
    }
}

/// Joins several `Access-Control-Request-Headers` lines into one value.
fn join_lines<'a>(lines: impl Iterator<Item = &'a HeaderValue>) -> Option<HeaderValue> {
    let mut out = Vec::new();
    for l in lines {
        let b = l.as_bytes().trim_ascii();
        if b.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(b);
    }
    HeaderValue::from_bytes(&out).ok()
}

/// A list element without its optional whitespace, `None` when either side
/// has more than [`MAX_OWS`] bytes of it (the full check decides those).
fn trim_ows_within_bounds(part: &[u8]) -> Option<&[u8]> {
    let (lead, name, trail) = split_ows(part);
    (lead <= MAX_OWS && trail <= MAX_OWS).then_some(name)
}
