//! Byte-level syntax under the Fetch Standard's definitions: tokens (RFC 9110
//! §5.6.2; a Fetch "method" and "header name" are tokens), HTTP tab or space
//! (the OWS of list syntax), HTTP whitespace (header-value normalization),
//! and isomorphic decoding and encoding (Infra).

/// `tchar` (RFC 9110 §5.6.2) as a table: one load per byte.
static TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        i += 1;
    }
    t
};

/// Whether `b` is an HTTP token character (RFC 9110 `tchar`).
#[inline]
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// Whether `s` is a non-empty HTTP token.
#[inline]
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Whether `b` is an HTTP tab or space byte (HT or SP): the OWS of list syntax.
#[inline]
pub(crate) fn is_http_tab_or_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Splits `s` into its leading HTTP tab or space bytes (their count), the
/// rest without them, and its trailing ones (their count).
pub(crate) fn split_ows(s: &[u8]) -> (usize, &[u8], usize) {
    let lead = s.iter().take_while(|&&b| is_http_tab_or_space(b)).count();
    let rest = &s[lead..];
    let trail = rest.iter().rev().take_while(|&&b| is_http_tab_or_space(b)).count();
    (lead, &rest[..rest.len() - trail], trail)
}

/// Removes leading and trailing HTTP tab or space bytes (OWS).
pub(crate) fn trim_ows(s: &[u8]) -> &[u8] {
    split_ows(s).1
}

/// Whether `b` is an HTTP whitespace byte (HT, LF, CR, SP).
#[inline]
pub(crate) fn is_http_whitespace(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\r' | b' ')
}

/// Removes leading and trailing HTTP whitespace: Fetch §2.2.2, a header
/// value's "normalize".
pub(crate) fn trim_http_whitespace(s: &[u8]) -> &[u8] {
    let lead = s.iter().take_while(|&&b| is_http_whitespace(b)).count();
    trim_http_whitespace_end(&s[lead..])
}

/// Removes trailing HTTP whitespace.
pub(crate) fn trim_http_whitespace_end(s: &[u8]) -> &[u8] {
    let trail = s.iter().rev().take_while(|&&b| is_http_whitespace(b)).count();
    &s[..s.len() - trail]
}

/// Isomorphic decoding (Infra): each byte becomes the code point of the same value.
pub(crate) fn isomorphic_decode(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Isomorphic encoding (Infra) of a string whose code points are all at most
/// U+00FF, as a browser turns a JavaScript string into a `ByteString`. `None`
/// when a code point is above U+00FF (the API would throw a `TypeError`).
pub(crate) fn isomorphic_encode(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert!(is_token(b"PUT"));
        assert!(is_token(b"x-custom_1"));
        assert!(is_token(b"'bb-8'"));
        assert!(is_token(b"*"));
        assert!(!is_token(b""));
        assert!(!is_token(b"GET, PUT"));
        assert!(!is_token(b"GET,PUT"));
        assert!(!is_token(b"a b"));
        assert!(!is_token(b"a\"b"));
        assert!(!is_token(b"caf\xE9"));
        // The table agrees with RFC 9110's definition byte by byte.
        for b in 0..=255u8 {
            let rfc = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(is_tchar(b), rfc, "{b:#04x}");
        }
    }

    #[test]
    fn whitespace() {
        assert_eq!(trim_ows(b" \t* \t"), b"*");
        assert_eq!(trim_ows(b""), b"");
        assert_eq!(trim_ows(b" \r\n"), b"\r\n");
        assert_eq!(split_ows(b"  a b\t"), (2, &b"a b"[..], 1));
        assert_eq!(split_ows(b"   "), (3, &b""[..], 0));
        assert_eq!(trim_http_whitespace(b"\r\n a b \n"), b"a b");
        assert_eq!(trim_http_whitespace(b" \t\r\n"), b"");
        assert_eq!(trim_http_whitespace_end(b" a \n"), b" a");
    }

    #[test]
    fn isomorphic() {
        assert_eq!(isomorphic_encode("caf\u{e9}"), Some(b"caf\xE9".to_vec()));
        assert_eq!(isomorphic_encode("\u{20ac}"), None);
        assert_eq!(isomorphic_decode(b"caf\xE9"), "caf\u{e9}");
    }
}
