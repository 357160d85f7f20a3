//! Fetch §2.2.2 "parse a single range header value" (with allowWhitespace
//! false), as the CORS-safelist rule for `Range` uses it.

use std::cmp::Ordering;

/// A parsed `bytes=start-end` value; either bound may be absent, not both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SingleRange<'a> {
    /// The first-byte position, as ASCII digits.
    pub start: Option<&'a [u8]>,
    /// The last-byte position, as ASCII digits.
    pub end: Option<&'a [u8]>,
}

/// Parses `bytes=N-`, `bytes=N-M` or `bytes=-M` with no whitespace; `None` on failure
/// (including `N > M`).
pub(crate) fn parse_single_range(value: &[u8]) -> Option<SingleRange<'_>> {
    // Steps 1 and 2: starts with `bytes`; steps 5 and 6: then `=`.
    let rest = value.strip_prefix(b"bytes")?;
    let rest = rest.strip_prefix(b"=")?;
    // Steps 8 and 9: the start digits; steps 11 and 12: `-`; steps 14 and
    // 15: the end digits; step 16: nothing after them.
    let (start, rest) = split_digits(rest);
    let rest = rest.strip_prefix(b"-")?;
    let (end, rest) = split_digits(rest);
    if !rest.is_empty() {
        return None;
    }
    let start = (!start.is_empty()).then_some(start);
    let end = (!end.is_empty()).then_some(end);
    match (start, end) {
        // Step 17: neither bound.
        (None, None) => None,
        // Step 18: start greater than end.
        (Some(s), Some(e)) if cmp_decimal(s, e) == Ordering::Greater => None,
        _ => Some(SingleRange { start, end }),
    }
}

fn split_digits(s: &[u8]) -> (&[u8], &[u8]) {
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    s.split_at(n)
}

/// Compares two non-empty digit strings as (arbitrarily large) decimal numbers.
fn cmp_decimal(a: &[u8], b: &[u8]) -> Ordering {
    let strip = |s: &[u8]| -> Vec<u8> { s.iter().copied().skip_while(|&d| d == b'0').collect() };
    let (a, b) = (strip(a), strip(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid() {
        let r = parse_single_range(b"bytes=100-200");
        assert_eq!(
            r,
            Some(SingleRange {
                start: Some(b"100".as_slice()),
                end: Some(b"200".as_slice())
            })
        );
        assert_eq!(
            parse_single_range(b"bytes=200-"),
            Some(SingleRange {
                start: Some(b"200".as_slice()),
                end: None
            })
        );
        assert_eq!(parse_single_range(b"bytes=-200").map(|r| r.start), Some(None));
        assert!(parse_single_range(b"bytes=5-5").is_some());
        assert!(parse_single_range(b"bytes=0009-10").is_some());
        assert!(parse_single_range(b"bytes=99999999999999999999999-999999999999999999999999").is_some());
    }

    #[test]
    fn invalid() {
        let bad: [&[u8]; 12] = [
            b"100-200",
            b"MB=100-200",
            b"bytes =100-200",
            b"bytes=  100-200",
            b"bytes=100 -200",
            b"bytes=100-200hello",
            b"bytes=abc-def",
            b"bytes=100-200,300-400",
            b"bytes=200-100",
            b"bytes 100-200",
            b",bytes=100-200",
            b"bytes=-",
        ];
        for v in bad {
            assert_eq!(parse_single_range(v), None, "{}", String::from_utf8_lossy(v));
        }
        assert_eq!(parse_single_range(b"bytes=10-009"), None);
    }
}
