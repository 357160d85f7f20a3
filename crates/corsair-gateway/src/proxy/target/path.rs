//! The request's canonical path (RFC 3986 §6.2.2 and §5.2.4): see the
//! parent module.

use std::borrow::Cow;

use super::Refusal;
use crate::config::{EncodedSlashes, PathRules, Semicolons};

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

/// Bytes that may need normalizing: `%`, `\\`, `;`, `.`, `/`, and
/// non-ASCII or control bytes. Every other byte is canonical as it stands.
static SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = matches!(c, b'%' | b'\\' | b';' | b'.' | b'/') || c >= 0x80 || c < 0x20 || c == 0x7F;
        b += 1;
    }
    t
};

/// Whether nothing in `b` (which starts with `/`) needs normalizing: no
/// `\\`, no `;` (unless kept), no percent-encoding other than a canonical
/// one (uppercase, of a character that stays encoded), no `//` (when
/// merging), no dot segment and no byte outside printable ASCII. One table
/// lookup per ordinary byte.
fn is_canonical(b: &[u8], rules: &PathRules) -> bool {
    let mut i = 1;
    while i < b.len() {
        let c = b[i];
        if SPECIAL[usize::from(c)] && !special_is_canonical(b, i, rules) {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether the special byte `b[i]` (`i >= 1`) is canonical where it is.
fn special_is_canonical(b: &[u8], i: usize, rules: &PathRules) -> bool {
    let prev_slash = b[i - 1] == b'/';
    match b[i] {
        b'/' => !(prev_slash && rules.merge_slashes),
        // `/.` or `/..` followed by `/` or the end.
        b'.' => {
            !(prev_slash
                && matches!(
                    &b[i..],
                    [b'.'] | [b'.', b'/', ..] | [b'.', b'.'] | [b'.', b'.', b'/', ..]
                ))
        }
        b';' => rules.semicolons == Semicolons::Keep,
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
            !(v == 0
                || is_unreserved(v)
                || (slash && rules.encoded_slashes == EncodedSlashes::Reject)
                || matches!(v, 0xC0 | 0xC1 | 0xE0 | 0xF0))
        }
        // `\\`, non-ASCII, controls.
        _ => false,
    }
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
