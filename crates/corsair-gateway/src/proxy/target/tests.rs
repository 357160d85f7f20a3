//! Unit tests of the canonical target.

use std::borrow::Cow;

use http::header::{self, HeaderMap};
use http::{Uri, Version};

use super::authority::parse_host;
use super::*;
use crate::config::{EncodedSlashes, PathRules, Semicolons};

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
    request_authority(&uri, &h, version).map(|a| a.map(|a| (a.name_str().to_owned(), a.port)))
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

#[test]
fn canonical_host_text_is_known() {
    let c = |v: &str| parse_host(v.as_bytes()).unwrap().unwrap().canonical_text;
    assert!(c("a.test"));
    assert!(c("a.test:8080"));
    assert!(!c("a.test:080"));
    assert!(!c("a.test:"));
    assert!(!c("a.test."));
    assert!(!c("A.test"));
    assert!(!c("[::1]"));
}

#[test]
fn long_hosts_are_refused() {
    let long = format!("{}.test", "a".repeat(300));
    assert_eq!(parse_host(long.as_bytes()), Err(Refusal::InvalidHost));
}

#[test]
fn the_remembered_host_parses_as_the_first_time() {
    for v in [
        "a.test",
        "A.Test.:8080",
        "a.test:080",
        "b.test:",
        "127.0.0.1:39081",
        "x",
    ] {
        let first = parse_host(v.as_bytes()).unwrap().unwrap();
        let again = parse_host(v.as_bytes()).unwrap().unwrap();
        assert_eq!(first, again, "{v}");
    }
    // A valid host remembered does not make an invalid one with the same
    // prefix valid.
    assert!(parse_host(b"a.test").is_ok());
    assert_eq!(parse_host(b"a.test/x"), Err(Refusal::InvalidHost));
    assert_eq!(parse_host(b"a.tes"), Ok(parse_host(b"a.tes").unwrap()));
}
