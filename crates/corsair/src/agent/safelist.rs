//! CORS-safelisted request headers (with their value rules) and the
//! CORS-unsafe request-header names that decide a preflight.

use super::mime::parse_mime_essence;
use super::range::parse_single_range;
use super::text::show;

/// The longest value a safelisted request header may have, in bytes.
pub const MAX_SAFELISTED_VALUE_LEN: usize = 128;

/// Above this total of safelisted values (in bytes), they all count as unsafe.
pub const MAX_SAFELISTED_TOTAL_LEN: usize = 1024;

/// The MIME essences a safelisted `Content-Type` may have.
const SAFE_ESSENCES: [&str; 3] = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"];

/// Whether `b` is a CORS-unsafe request-header byte (Fetch §2.2.2): a control byte other than
/// HT, or one of `"():<>?@[\]{}` and DEL.
pub fn is_cors_unsafe_request_header_byte(b: u8) -> bool {
    (b < 0x20 && b != 0x09)
        || matches!(
            b,
            0x22 | 0x28 | 0x29 | 0x3A | 0x3C | 0x3E | 0x3F | 0x40 | 0x5B | 0x5C | 0x5D | 0x7B | 0x7D | 0x7F
        )
}

/// Whether (`name`, `value`) is a CORS-safelisted request-header: `Accept`,
/// `Accept-Language`, `Content-Language`, `Content-Type` or `Range`, with a
/// value of at most 128 bytes that passes the rule for that name.
///
/// ```
/// use corsair::agent::is_cors_safelisted_request_header;
/// assert!(is_cors_safelisted_request_header("Content-Type", b"Text/Plain;charset=utf-8"));
/// assert!(!is_cors_safelisted_request_header("Content-Type", b"application/json"));
/// assert!(is_cors_safelisted_request_header("Range", b"bytes=200-"));
/// assert!(!is_cors_safelisted_request_header("Range", b"bytes=-500"));
/// assert!(!is_cors_safelisted_request_header("X-Requested-With", b"XMLHttpRequest"));
/// ```
pub fn is_cors_safelisted_request_header(name: &str, value: &[u8]) -> bool {
    safelist_verdict(name, value).is_ok()
}

/// `Ok` when safelisted, otherwise why not (a sentence fragment after "it is not
/// CORS-safelisted because").
pub(crate) fn safelist_verdict(name: &str, value: &[u8]) -> Result<(), String> {
    // Fetch §2.2.2 "CORS-safelisted request-header", step 1.
    if value.len() > MAX_SAFELISTED_VALUE_LEN {
        return Err(format!(
            "its value is {} bytes long, more than the {MAX_SAFELISTED_VALUE_LEN} allowed",
            value.len()
        ));
    }
    let unsafe_byte = || value.iter().copied().find(|&b| is_cors_unsafe_request_header_byte(b));
    // Step 2: byte-lowercase the name and switch on it.
    match name.to_ascii_lowercase().as_str() {
        "accept" => match unsafe_byte() {
            Some(b) => Err(format!("its value contains the CORS-unsafe byte `{}`", show(&[b]))),
            None => Ok(()),
        },
        "accept-language" | "content-language" => {
            match value
                .iter()
                .copied()
                .find(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b' ' | b'*' | b',' | b'-' | b'.' | b';' | b'=')))
            {
                Some(b) => Err(format!(
                    "its value contains `{}`; only letters, digits, space and `*,-.;=` are allowed",
                    show(&[b])
                )),
                None => Ok(()),
            }
        }
        "content-type" => {
            // `content-type`, step 1: no CORS-unsafe byte; steps 2-4: a MIME
            // type (parsed, not extracted) with one of three essences.
            if let Some(b) = unsafe_byte() {
                return Err(format!("its value contains the CORS-unsafe byte `{}`", show(&[b])));
            }
            let essence =
                parse_mime_essence(value).map_err(|why| format!("its value is not a valid MIME type: {why}"))?;
            if SAFE_ESSENCES.contains(&essence.as_str()) {
                Ok(())
            } else {
                Err(format!(
                    "its MIME type `{essence}` is not `application/x-www-form-urlencoded`, `multipart/form-data` or `text/plain`"
                ))
            }
        }
        // `range`: parse a single range header value (whitespace not
        // allowed); failure, or no start (`bytes=-500`), is not safelisted.
        "range" => match parse_single_range(value) {
            None => {
                Err("its value is not exactly `bytes=N-` or `bytes=N-M` (one range, N <= M, no spaces)".to_string())
            }
            Some(r) if r.start.is_none() => Err("a suffix range (`bytes=-N`) is not safelisted".to_string()),
            Some(_) => Ok(()),
        },
        _ => Err(
            "only `Accept`, `Accept-Language`, `Content-Language`, `Content-Type` and `Range` can be safelisted"
                .to_string(),
        ),
    }
}

/// One header's verdict, as computed by [`classify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderVerdict {
    /// Name as given.
    pub name: String,
    /// Why it is unsafe, or `None` when safelisted on its own.
    pub unsafe_reason: Option<String>,
}

/// The classification of a header list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Classification {
    /// Per header entry, in order.
    pub verdicts: Vec<HeaderVerdict>,
    /// Sum of the lengths of the individually safelisted values.
    pub safelisted_total: usize,
    /// The CORS-unsafe request-header names: lowercase, deduplicated, byte-sorted.
    pub unsafe_names: Vec<String>,
}

/// Runs *CORS-unsafe request-header names* over a header list, keeping reasons.
pub(crate) fn classify<'a, I>(headers: I) -> Classification
where
    I: IntoIterator<Item = (&'a str, &'a [u8])>,
{
    let mut verdicts = Vec::new();
    let mut unsafe_names = Vec::new();
    let mut potentially_unsafe = Vec::new();
    let mut total = 0usize;
    // Fetch §2.2.2 "CORS-unsafe request-header names", step 4: each header
    // on its own; 4.1 unsafe names, 4.2 safelisted ones are "potentially
    // unsafe" and their value lengths add up.
    for (name, value) in headers {
        match safelist_verdict(name, value) {
            Ok(()) => {
                potentially_unsafe.push(name.to_string());
                total = total.saturating_add(value.len());
                verdicts.push(HeaderVerdict {
                    name: name.to_string(),
                    unsafe_reason: None,
                });
            }
            Err(why) => {
                unsafe_names.push(name.to_string());
                verdicts.push(HeaderVerdict {
                    name: name.to_string(),
                    unsafe_reason: Some(why),
                });
            }
        }
    }
    // Step 5: more than 1024 bytes of safelisted values make them all unsafe.
    if total > MAX_SAFELISTED_TOTAL_LEN {
        unsafe_names.extend(potentially_unsafe);
    }
    // Step 6: convert header names to a sorted-lowercase set.
    Classification {
        verdicts,
        safelisted_total: total,
        unsafe_names: sorted_lowercase_set(unsafe_names),
    }
}

/// The CORS-unsafe request-header names of a header list: every header that
/// is not safelisted, plus all safelisted ones when their values add up to
/// more than 1024 bytes; lowercased, deduplicated and sorted byte-wise.
///
/// ```
/// use corsair::agent::cors_unsafe_request_header_names;
/// let headers: [(&str, &[u8]); 3] = [
///     ("X-B", b"1"),
///     ("Accept", b"*/*"),
///     ("x-a", b"2"),
/// ];
/// assert_eq!(cors_unsafe_request_header_names(headers), ["x-a", "x-b"]);
/// ```
pub fn cors_unsafe_request_header_names<'a, I>(headers: I) -> Vec<String>
where
    I: IntoIterator<Item = (&'a str, &'a [u8])>,
{
    classify(headers).unsafe_names
}

/// Fetch §2.2.2 "convert header names to a sorted-lowercase set":
/// byte-lowercase, deduplicate, sort by byte.
pub(crate) fn sorted_lowercase_set(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = names.into_iter().map(|n| n.to_ascii_lowercase()).collect();
    out.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safe(name: &str, value: &[u8]) -> bool {
        is_cors_safelisted_request_header(name, value)
    }

    #[test]
    fn unsafe_bytes() {
        for b in [
            0x00u8, 0x01, 0x0A, 0x0B, 0x1F, b'"', b'(', b')', b':', b'<', b'>', b'?', b'@', b'[', b'\\', b']', b'{',
            b'}', 0x7F,
        ] {
            assert!(is_cors_unsafe_request_header_byte(b), "{b:#x}");
        }
        for b in [b'\t', b' ', b'a', b'*', b'/', b';', b'=', b',', 0x80, 0xFF] {
            assert!(!is_cors_unsafe_request_header_byte(b), "{b:#x}");
        }
    }

    #[test]
    fn vector_2_3_safe_values() {
        assert!(safe("Accept", b"*/*"));
        assert!(safe("Accept-Language", b"fr"));
        assert!(safe("Content-Language", b"fr"));
        assert!(safe("accept-language", b"en-US,en;q=0.9, *"));
        for ct in [
            b"text/plain;charset=utf-8".as_slice(),
            b"Text/Plain;charset=utf-8",
            b"multipart/form-data",
            b"application/x-www-form-urlencoded",
        ] {
            assert!(safe("Content-Type", ct));
        }
    }

    #[test]
    fn vector_4_5_content_type_params() {
        assert!(safe("content-type", b"text/plain; parameter=extra_bonus"));
        assert!(safe("content-type", b"text/plain;"));
        assert!(safe("content-type", b"text/plain;garbage"));
        assert!(safe("content-type", b"multipart/form-data"));
    }

    #[test]
    fn vector_6_content_type_unsafe() {
        let bad: [&[u8]; 12] = [
            b"text /plain",
            b"text\t/\tplain",
            b"text/plain;garbage\x01\x02",
            b"text/plain,",
            b",text/plain",
            b"text/plain,text/plain",
            b"text/plain,x/x",
            b"text/plain\x0B",
            b"text/plain\x0C",
            b"application/www-form-urlencoded",
            b"application/x-www-form-urlencoded;\x7F",
            b"multipart/form-data;\"",
        ];
        for v in bad {
            assert!(!safe("content-type", v), "{}", show(v));
            let headers = [("content-type", v)];
            assert_eq!(cors_unsafe_request_header_names(headers), ["content-type"]);
        }
    }

    #[test]
    fn vector_7_8_range() {
        assert!(safe("range", b"bytes=100-200"));
        assert!(safe("range", b"bytes=200-"));
        let long = format!("bytes=0-{}", "9".repeat(121));
        assert_eq!(long.len(), 129);
        let bad: [&[u8]; 13] = [
            b"100-200",
            b"MB=100-200",
            b"bytes =100-200",
            b"bytes=  100-200",
            b"bytes=100 -200",
            b"bytes=100-200hello",
            b"bytes=abc-def",
            b"bytes=100-200,300-400",
            b"bytes=-200",
            b"bytes=200-100",
            b"bytes 100-200",
            b",bytes=100-200",
            long.as_bytes(),
        ];
        for v in bad {
            assert!(!safe("range", v), "{}", show(v));
        }
    }

    #[test]
    fn vector_9_not_safelisted() {
        let digits = "1".repeat(129);
        let long_ct = format!("text/plain; long={}", "a".repeat(120));
        let cases: [(&str, &[u8]); 10] = [
            ("accept", b"\""),
            ("accept", digits.as_bytes()),
            ("accept-language", b"\x01"),
            ("accept-language", b"@"),
            ("content-language", b"@"),
            ("content-type", b"text/html"),
            ("content-type", long_ct.as_bytes()),
            ("range", b"bytes 0-"),
            ("authorization", b"basics"),
            ("test", b"hi"),
        ];
        for (name, value) in cases {
            assert_eq!(
                cors_unsafe_request_header_names([(name, value)]),
                [name],
                "{name}: {}",
                show(value)
            );
        }
    }

    #[test]
    fn value_length_limit() {
        let v128 = format!("text/plain;a={}", "b".repeat(115));
        assert_eq!(v128.len(), 128);
        assert!(safe("content-type", v128.as_bytes()));
        let v129 = format!("{v128}c");
        assert!(!safe("content-type", v129.as_bytes()));
    }

    #[test]
    fn vector_10_total_over_1024() {
        let value = "a".repeat(120);
        let headers: Vec<(&str, &[u8])> = (0..9).map(|_| ("Accept", value.as_bytes())).collect();
        let c = classify(headers.iter().copied());
        assert_eq!(c.safelisted_total, 1080);
        assert_eq!(c.unsafe_names, ["accept"]);
        // 8 entries (960 bytes) stay safe.
        assert!(cors_unsafe_request_header_names(headers[..8].iter().copied()).is_empty());
        // Exactly 1024 stays safe, 1025 does not.
        let a = "a".repeat(128);
        let mut exact: Vec<(&str, &[u8])> = (0..8).map(|_| ("accept", a.as_bytes())).collect();
        assert!(cors_unsafe_request_header_names(exact.iter().copied()).is_empty());
        exact.push(("content-language", b"x"));
        assert_eq!(
            cors_unsafe_request_header_names(exact.iter().copied()),
            ["accept", "content-language"]
        );
    }

    #[test]
    fn vector_11_sorted_lowercase_set() {
        let headers: [(&str, &[u8]); 11] = [
            ("x-test-header1", b"v"),
            ("x-test-header2", b"v"),
            ("X-test-header3", b"v"),
            ("x-test-header-b", b"v"),
            ("x-test-header-D", b"v"),
            ("x-test-header-C", b"v"),
            ("x-test-header-a", b"v"),
            ("Content-Type", b"allowedOrRefused"),
            ("Accept", b"*"),
            ("Accept-Language", b"bzh"),
            ("Content-Language", b"eu"),
        ];
        assert_eq!(
            cors_unsafe_request_header_names(headers).join(","),
            "content-type,x-test-header-a,x-test-header-b,x-test-header-c,x-test-header-d,x-test-header1,x-test-header2,x-test-header3"
        );
        let dup: [(&str, &[u8]); 2] = [("X-A", b"1"), ("x-a", b"2")];
        assert_eq!(cors_unsafe_request_header_names(dup), ["x-a"]);
    }

    #[test]
    fn reasons_are_explained() {
        let why = safelist_verdict("Content-Type", b"application/json").unwrap_err();
        assert!(why.contains("application/json"), "{why}");
        let why = safelist_verdict("X-Foo", b"1").unwrap_err();
        assert!(why.contains("only `Accept`"), "{why}");
    }
}
