//! The fast paths (prebuilt answers, one scan of the request, the one-pass
//! header check) agree with the general ones.

use http::header::{self, HeaderMap, HeaderValue};
use http::Method;

use super::*;
use crate::decision::request_headers::Listed;
use crate::Rejection;

fn ordered(h: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    h.iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect()
}

#[test]
fn write_preflight_answers_as_insertions_do() {
    let plain = PolicyConfig::new().allow_origins([APP]).build().unwrap();
    let debug = PolicyConfig::new()
        .allow_origins([APP])
        .allow_methods(["PUT"])
        .allow_headers(["x-a"])
        .debug(true)
        .build()
        .unwrap();
    let requests: &[&[(&str, &str)]] = &[
        &[("origin", APP), ("access-control-request-method", "PUT")],
        &[("origin", APP), ("access-control-request-method", "GET")],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type,x-request-id"),
        ],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "X-Request-Id"),
            ("access-control-request-headers", "content-type"),
            ("access-control-request-private-network", "true"),
        ],
        &[
            ("origin", "https://a.example.net"),
            ("access-control-request-method", "DELETE"),
            ("access-control-request-private-network", "true"),
        ],
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "PUT"),
        ],
        &[("origin", APP), ("access-control-request-method", "MOVE")],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "x-b"),
        ],
        &[("origin", APP), ("access-control-request-method", "PUT,GET")],
        &[("origin", "null"), ("access-control-request-method", "PUT")],
    ];
    for p in [private(), public(), plain, debug] {
        for r in requests {
            let d = p.evaluate(&Method::OPTIONS, &req(r));
            let mut expected = HeaderMap::new();
            let status = p.insert_preflight(&d, &mut expected);

            let mut h = HeaderMap::new();
            assert_eq!(p.write_preflight(&d, &mut h), Some(status), "{r:?}");
            assert_eq!(ordered(&h), ordered(&expected), "{r:?}");
            let (s, h) = p.preflight_response(&d).unwrap();
            assert_eq!(s, status);
            assert_eq!(ordered(&h), ordered(&expected), "{r:?}");

            // Into a map that has headers already: the answer's names are
            // replaced, the others kept.
            let mut h = req(&[("server", "x"), ("vary", "Accept"), ("access-control-max-age", "1")]);
            assert_eq!(p.write_preflight(&d, &mut h), Some(status), "{r:?}");
            assert_eq!(h["server"], "x");
            assert_eq!(h.get_all("vary").iter().collect::<Vec<_>>(), [&expected["vary"]]);
            for (k, _) in expected.iter() {
                assert_eq!(h.get_all(k).iter().collect::<Vec<_>>(), [&expected[k]], "{r:?} {k}");
            }
            let stale_max_age = !expected.contains_key("access-control-max-age");
            assert_eq!(h.len(), expected.len() + 1 + usize::from(stale_max_age), "{r:?}");
        }
        // Not a preflight: nothing written.
        let d = p.evaluate(&Method::PUT, &req(&[("origin", APP)]));
        let mut h = req(&[("server", "x")]);
        assert_eq!(p.write_preflight(&d, &mut h), None);
        assert_eq!(ordered(&h), ordered(&req(&[("server", "x")])));
    }
}

/// Small OPTIONS requests are scanned once for their CORS headers, larger
/// ones looked up by name (`SCAN_MAX`): both give the same decision, on
/// every shape of request, whatever order the headers come in.
#[test]
fn scanned_and_looked_up_requests_decide_alike() {
    let cases: &[&[(&str, &str)]] = &[
        &[("origin", APP), ("access-control-request-method", "PUT")],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type, x-request-id"),
        ],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type"),
            ("access-control-request-headers", "X-Request-ID"),
        ],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "x-other"),
        ],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "a,,b("),
        ],
        &[
            ("origin", APP),
            ("origin", APP),
            ("access-control-request-method", "PUT"),
        ],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-method", "PUT"),
        ],
        &[("origin", APP), ("access-control-request-method", "PUT, DELETE")],
        &[("origin", APP), ("access-control-request-method", "TRACE")],
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "PUT"),
        ],
        &[("origin", "null"), ("access-control-request-method", "PUT")],
        &[
            ("origin", "https://a.b.example.net"),
            ("access-control-request-method", "GET"),
            ("access-control-request-private-network", "true"),
        ],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-private-network", "true"),
            ("access-control-request-private-network", "false"),
        ],
        &[("origin", APP), ("access-control-request-private-network", "true")],
        &[("access-control-request-method", "PUT")],
        &[],
    ];
    for p in [private(), public()] {
        for case in cases {
            for reversed in [false, true] {
                let mut pairs: Vec<(&str, &str)> = case.to_vec();
                if reversed {
                    pairs.reverse();
                }
                let small = req(&pairs);
                let mut large = small.clone();
                for i in 0..20 {
                    large.append(
                        header::HeaderName::from_bytes(format!("x-filler-{i}").as_bytes()).unwrap(),
                        HeaderValue::from_static("1"),
                    );
                }
                assert!(small.len() <= 16 && large.len() > 16);
                let (a, b) = (
                    p.evaluate(&Method::OPTIONS, &small),
                    p.evaluate(&Method::OPTIONS, &large),
                );
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "{pairs:?}");
            }
        }
    }
}

/// The one-pass check of the usual `Access-Control-Request-Headers` line
/// (`all_listed`) never contradicts the full check: when it decides (a
/// list of listed names, or too many empty elements), the full check decides
/// the same; otherwise the full check runs. Every line
/// of up to four elements from pieces chosen to hit each limit.
#[test]
fn the_fast_header_check_agrees_with_the_full_one() {
    let pieces = [
        "content-type",
        "x-request-id",
        "Content-Type",
        "x-other",
        "",
        " ",
        "\t",
        "   ",
        " etag ",
        "a(b",
        "authorization",
    ];
    let mut lines = vec![String::new()];
    for _ in 0..4 {
        let mut next = Vec::new();
        for l in &lines {
            for p in pieces {
                next.push(if l.is_empty() { p.to_owned() } else { format!("{l},{p}") });
            }
        }
        lines.extend(next);
    }
    lines.push(",".repeat(40));
    // Around the limit of empty elements, with names and whitespace on
    // either side of the run.
    for n in [15, 16, 17] {
        lines.push(",".repeat(n));
        lines.push(format!("content-type,{}", ",".repeat(n)));
        lines.push(format!("{}x-request-id", ",".repeat(n)));
        lines.push(format!("{}x-other", ",".repeat(n)));
        lines.push(format!("x-other,{}", ",".repeat(n)));
        lines.push(" ,".repeat(n));
        lines.push(format!("{}a(b", ",".repeat(n)));
    }
    let (mut decided, mut invalid) = (0, 0);
    for p in [private(), public()] {
        for line in &lines {
            let v = HeaderValue::from_str(line).unwrap();
            let full = p.check_request_headers(|| std::iter::once(&v));
            match p.all_listed(line.as_bytes()) {
                Listed::All { named: true } => assert_eq!(full, Ok(Some(v.clone())), "{line:?}"),
                Listed::All { named: false } => assert_eq!(full, Ok(None), "{line:?}"),
                Listed::Invalid => {
                    assert_eq!(full, Err(Rejection::InvalidHeaders), "{line:?}");
                    invalid += 1;
                }
                Listed::Unknown => continue,
            }
            decided += 1;
        }
    }
    assert!(decided > 1000, "the fast path decided only {decided} lines");
    assert!(invalid >= 8, "the fast path refused only {invalid} lines");
}
