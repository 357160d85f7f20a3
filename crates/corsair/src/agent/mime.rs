//! The part of the MIME Sniffing Standard's "parse a MIME type" (§4.4) that
//! decides a MIME type's essence, as Fetch §2.2.2's `Content-Type` safelist
//! rule uses it.

use super::text::show;
use crate::fetch::syntax::{is_token, trim_http_whitespace, trim_http_whitespace_end};

/// Parses `input` as a MIME type and returns its essence (`type/subtype`,
/// lowercased), or why it is not a MIME type. Parameters never make parsing
/// fail, so they are not parsed here.
pub(crate) fn parse_mime_essence(input: &[u8]) -> Result<String, String> {
    let input = trim_http_whitespace(input);
    let slash = input.iter().position(|&b| b == b'/');
    let ty = &input[..slash.unwrap_or(input.len())];
    if !is_token(ty) {
        return Err(format!("its type `{}` is not an HTTP token", show(ty)));
    }
    let Some(slash) = slash else {
        return Err("it has no `/subtype`".to_string());
    };
    let rest = &input[slash + 1..];
    let end = rest.iter().position(|&b| b == b';').unwrap_or(rest.len());
    let subtype = trim_http_whitespace_end(&rest[..end]);
    if !is_token(subtype) {
        return Err(format!("its subtype `{}` is not an HTTP token", show(subtype)));
    }
    let mut essence = String::from_utf8_lossy(ty).to_ascii_lowercase();
    essence.push('/');
    essence.push_str(&String::from_utf8_lossy(subtype).to_ascii_lowercase());
    Ok(essence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn essences() {
        let ok: [(&[u8], &str); 7] = [
            (b"text/plain", "text/plain"),
            (b"Text/Plain;charset=utf-8", "text/plain"),
            (b"text/plain;", "text/plain"),
            (b"text/plain;garbage", "text/plain"),
            (b"text/plain; parameter=extra_bonus", "text/plain"),
            (b"  multipart/form-data ; boundary=x", "multipart/form-data"),
            (
                b"application/x-www-form-urlencoded",
                "application/x-www-form-urlencoded",
            ),
        ];
        for (input, essence) in ok {
            assert_eq!(parse_mime_essence(input).as_deref(), Ok(essence), "{}", show(input));
        }
        let bad: [&[u8]; 8] = [
            b"text /plain",
            b"text\t/\tplain",
            b"text/plain,",
            b",text/plain",
            b"text/plain,text/plain",
            b"text",
            b"/plain",
            b"text/",
        ];
        for input in bad {
            assert!(parse_mime_essence(input).is_err(), "{}", show(input));
        }
    }
}
