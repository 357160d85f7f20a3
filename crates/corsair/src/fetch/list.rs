//! Header lists: Fetch §2.2.2 "get" (all lines joined), "extract header list
//! values" for the `#token` headers of the CORS protocol, and a bounded,
//! allocation-free walker of the same syntax for the server's request path.

use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::syntax::{is_http_tab_or_space, is_tchar, is_token, isomorphic_decode, trim_ows};

/// The result of Fetch §2.2.2 "extract header list values" for a header
/// whose ABNF is `#token` (`#method` or `#field-name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListValues {
    /// The header is absent (null).
    Absent,
    /// An element is not a token (failure); holds the element.
    Invalid(Vec<u8>),
    /// The tokens, in order, from all header lines; empty elements dropped.
    Values(Vec<String>),
}

/// Fetch §2.2.2 "extract header list values" for a `#token` header: every
/// line of `name` parsed as a comma-separated list whose elements are tokens
/// with optional whitespace around them. Values from several lines are
/// concatenated, empty elements are allowed, and any non-token element makes
/// the whole header fail.
pub(crate) fn extract_list(headers: &HeaderMap, name: &HeaderName) -> ListValues {
    let mut values = headers.get_all(name).iter().peekable();
    // Step 1: absent is null.
    if values.peek().is_none() {
        return ListValues::Absent;
    }
    // Steps 3 and 4: the values of every line, in order; a line that does
    // not parse makes the whole header fail.
    let mut out = Vec::new();
    for value in values {
        for element in value.as_bytes().split(|&b| b == b',') {
            let element = trim_ows(element);
            if element.is_empty() {
                continue;
            }
            if !is_token(element) {
                return ListValues::Invalid(element.to_vec());
            }
            out.push(isomorphic_decode(element));
        }
    }
    ListValues::Values(out)
}

/// The first line of `name` and whether there are more: the headers that must
/// have one line (`Origin`, `Access-Control-Request-Method`, `Sec-Fetch-Site`,
/// `Host`) are refused when they have two, and the request path reads no
/// further than the second.
pub(crate) fn first_line<'a>(headers: &'a HeaderMap, name: &HeaderName) -> (Option<&'a HeaderValue>, bool) {
    let mut all = headers.get_all(name).iter();
    let first = all.next();
    (first, first.is_some() && all.next().is_some())
}

/// The values of all lines of `name`, as they came.
pub(crate) fn lines<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Vec<&'a [u8]> {
    headers.get_all(name).iter().map(HeaderValue::as_bytes).collect()
}

/// Fetch §2.2.2 "get": the values of all lines of `name` joined with `, `,
/// or `None` when there is none.
pub(crate) fn get(headers: &HeaderMap, name: &HeaderName) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for value in headers.get_all(name) {
        match &mut out {
            None => out = Some(value.as_bytes().to_vec()),
            Some(buf) => {
                buf.extend_from_slice(b", ");
                buf.extend_from_slice(value.as_bytes());
            }
        }
    }
    out
}

/// Fetch §2.2.2 "get, decode, and split" a header value: the value split at
/// commas outside HTTP quoted strings, each part without its surrounding
/// HTTP tab or space. Each part is a contiguous slice of `value`; the
/// standard's strings are their isomorphic decodings. A quoted string keeps
/// its quotes (`"1,2", 3` gives `"1,2"` and `3`) and never splits.
pub(crate) fn get_decode_split(value: &[u8]) -> Vec<&[u8]> {
    let mut values = Vec::new();
    let (len, mut position, mut start) = (value.len(), 0, 0);
    // Step 5: while true.
    loop {
        // Step 5.1: code points that are not `"` or `,`.
        while position < len && value[position] != b'"' && value[position] != b',' {
            position += 1;
        }
        // Step 5.2: an HTTP quoted string, then on with the same value.
        if position < len && value[position] == b'"' {
            position = skip_quoted_string(value, position);
            if position < len {
                continue;
            }
        }
        // Steps 5.3 and 5.4: the value without HTTP tab or space.
        values.push(trim_ows(&value[start..position]));
        // Step 5.6: the end.
        if position >= len {
            return values;
        }
        // Steps 5.7 and 5.8: past the comma.
        position += 1;
        start = position;
    }
}

/// Fetch §2.2 "collect an HTTP quoted string" (extract-value false) from
/// the `"` at `position`: the position just past the string.
fn skip_quoted_string(input: &[u8], mut position: usize) -> usize {
    // Step 4: past the opening quote.
    position += 1;
    // Step 5.
    loop {
        while position < input.len() && input[position] != b'"' && input[position] != b'\\' {
            position += 1;
        }
        let Some(&quote_or_backslash) = input.get(position) else {
            break;
        };
        position += 1;
        if quote_or_backslash == b'\\' {
            // Step 5.5: a backslash escapes the next code point, if any.
            if position >= input.len() {
                break;
            }
            position += 1;
        } else {
            // Step 5.6: the closing quote.
            break;
        }
    }
    position
}

/// Upper bounds that keep an adversarial `Access-Control-Request-Headers`
/// cheap for [`for_each_token`]: browsers send a lowercase, sorted,
/// comma-joined list without empty elements or whitespace, so anything far
/// outside these is not a browser.
pub(crate) const MAX_EMPTY_ELEMENTS: usize = 16;
/// See [`MAX_EMPTY_ELEMENTS`]: the most OWS bytes on either side of an element.
pub(crate) const MAX_OWS: usize = 2;

/// One token of a comma-separated header list, with its position in its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Element<'a> {
    /// The token.
    pub(crate) name: &'a [u8],
    /// Its byte offset in the line.
    pub(crate) start: usize,
}

/// The `#token` syntax of "extract header list values", walked across all
/// of a header's lines in one pass without allocating, with bounded work
/// per byte: at most [`MAX_OWS`] bytes of whitespace on each side of an
/// element and at most [`MAX_EMPTY_ELEMENTS`] empty elements, beyond which
/// the list counts as malformed. Calls `f` with the line number and each
/// token; stops at the first `Err` from `f`. Returns `Err(None)` for a
/// malformed list.
pub(crate) fn for_each_token<'a, E>(
    lines: impl Iterator<Item = &'a HeaderValue>,
    mut f: impl FnMut(usize, Element<'a>) -> Result<(), E>,
) -> Result<(), Option<E>> {
    // One pass per element: optional whitespace, a run of token bytes,
    // optional whitespace, then a comma or the end of the line; anything
    // else is malformed.
    let mut empty = 0usize;
    for (line_no, line) in lines.enumerate() {
        let bytes = line.as_bytes();
        let len = bytes.len();
        let mut i = 0usize;
        loop {
            let start = i;
            while i < len && is_http_tab_or_space(bytes[i]) {
                i += 1;
            }
            let name_start = i;
            while i < len && is_tchar(bytes[i]) {
                i += 1;
            }
            let name_end = i;
            while i < len && is_http_tab_or_space(bytes[i]) {
                i += 1;
            }
            if (i < len && bytes[i] != b',') || name_start - start > MAX_OWS || i - name_end > MAX_OWS {
                return Err(None);
            }
            if name_start == name_end {
                empty += 1;
                if empty > MAX_EMPTY_ELEMENTS {
                    return Err(None);
                }
            } else {
                f(
                    line_no,
                    Element {
                        name: &bytes[name_start..name_end],
                        start: name_start,
                    },
                )
                .map_err(Some)?;
            }
            if i == len {
                break;
            }
            i += 1; // the comma
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::ACCESS_CONTROL_EXPOSE_HEADERS as ACEH;

    fn map(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            if let Ok(v) = HeaderValue::from_bytes(v) {
                h.append(ACEH, v);
            }
        }
        h
    }

    #[test]
    fn list_extraction() {
        assert_eq!(extract_list(&HeaderMap::new(), &ACEH), ListValues::Absent);
        assert_eq!(extract_list(&map(&[b""]), &ACEH), ListValues::Values(vec![]));
        assert_eq!(
            extract_list(&map(&[b",y-lol,x-PriNT, ,,,Y-PRINT"]), &ACEH),
            ListValues::Values(vec!["y-lol".into(), "x-PriNT".into(), "Y-PRINT".into()])
        );
        assert_eq!(
            extract_list(&map(&[b"bb-8", b"no no"]), &ACEH),
            ListValues::Invalid(b"no no".to_vec())
        );
        assert_eq!(
            extract_list(&map(&[b"a", b"b, c"]), &ACEH),
            ListValues::Values(vec!["a".into(), "b".into(), "c".into()])
        );
    }

    #[test]
    fn get_decode_split_follows_the_standards_examples() {
        let split = |v: &[u8]| -> Vec<String> { get_decode_split(v).into_iter().map(isomorphic_decode).collect() };
        assert_eq!(split(b"nosniff,"), ["nosniff", ""]);
        assert_eq!(split(b""), [""]);
        assert_eq!(split(b"text/html;\", x/x"), ["text/html;\", x/x"]);
        assert_eq!(split(b"x/x;test=\"hi\",y/y"), ["x/x;test=\"hi\"", "y/y"]);
        assert_eq!(split(b"x / x,,,1"), ["x / x", "", "", "1"]);
        assert_eq!(split(b"\"1,2\", 3"), ["\"1,2\"", "3"]);
        // Escapes inside quotes, and a string cut short by the end.
        assert_eq!(split(b"\"a\\\",b\",c"), ["\"a\\\",b\"", "c"]);
        assert_eq!(split(b"a,\"b\\"), ["a", "\"b\\"]);
        assert_eq!(split(b" a \t, \tb"), ["a", "b"]);
    }

    #[test]
    fn get_joins_lines() {
        assert_eq!(get(&map(&[b"*", b"*"]), &ACEH), Some(b"*, *".to_vec()));
        assert_eq!(get(&HeaderMap::new(), &ACEH), None);
        assert_eq!(lines(&map(&[b"a", b"b"]), &ACEH), [&b"a"[..], b"b"]);
    }

    fn names(lines: &[&str]) -> Result<Vec<String>, ()> {
        let values: Vec<HeaderValue> = lines.iter().map(|l| HeaderValue::from_str(l).unwrap()).collect();
        let mut out = Vec::new();
        for_each_token(values.iter(), |_, e| {
            out.push(String::from_utf8(e.name.to_vec()).unwrap());
            Ok::<(), ()>(())
        })
        .map_err(|_| ())?;
        Ok(out)
    }

    #[test]
    fn bounded_walk_spans_lines_and_tolerates_a_little_whitespace() {
        assert_eq!(names(&["a,b"]).unwrap(), ["a", "b"]);
        assert_eq!(names(&["a", "b,c"]).unwrap(), ["a", "b", "c"]);
        assert_eq!(
            names(&["authorization ,content-type"]).unwrap(),
            ["authorization", "content-type"]
        );
        assert_eq!(names(&["a, b"]).unwrap(), ["a", "b"]);
        assert_eq!(names(&[",a,,b,"]).unwrap(), ["a", "b"]);
        assert_eq!(names(&[""]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn bounded_walk_fails_fast_on_malformed_or_adversarial_lists() {
        assert!(names(&["a b"]).is_err());
        assert!(names(&["a;b"]).is_err());
        assert!(names(&["a,    b"]).is_err());
        assert!(names(&[&",".repeat(60 * 1024)]).is_err());
        assert!(names(&[",,,,,,,,,"; 3]).is_err());
    }

    #[test]
    fn bounded_walk_reports_positions_and_stops_at_the_first_error() {
        let lines = [HeaderValue::from_static("a, bb"), HeaderValue::from_static("c")];
        let mut seen = Vec::new();
        let r = for_each_token(lines.iter(), |line, e| {
            seen.push((line, e.start, e.name.len()));
            if e.name == b"c" {
                Err("stop")
            } else {
                Ok(())
            }
        });
        assert_eq!(r, Err(Some("stop")));
        assert_eq!(seen, [(0, 0, 1), (0, 3, 2), (1, 0, 1)]);
    }
}
