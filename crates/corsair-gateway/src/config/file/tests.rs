//! Unit tests of the parent module.

use super::*;
use crate::config::Upstream;

fn problems(text: &str) -> Vec<String> {
    parse(text, "test.toml", None)
        .unwrap_err()
        .problems
        .into_iter()
        .map(|p| p.key)
        .collect()
}

#[test]
fn embedded_default_is_valid() {
    let c = Config::embedded_default().unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.upstream, Upstream::Echo);
    let p = &c.route(Some("localhost:8080"), "/anything").unwrap().policy;
    assert!(p.allows_origin("http://localhost:3000"));
    assert!(p.allows_origin("http://127.0.0.1:5173"));
    assert!(!p.allows_origin("https://evil.example"));
}

#[test]
fn unknown_keys_are_errors() {
    let e = parse("upstream = \"http://127.0.0.1:1\"\nlisten_on = 1\n", "x.toml", None).unwrap_err();
    assert!(e.to_string().contains("listen_on"), "{e}");
    let e = parse(
        "upstream = \"http://127.0.0.1:1\"\n[[policy]]\nallow_origins=[\"*\"]\nallow_origin = []\n",
        "x.toml",
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("allow_origin"), "{e}");
}

#[test]
fn every_problem_is_reported_with_its_key() {
    let k = problems(
        r#"
listen = "nowhere"
upstream = "ftp://x"
workers = 0
[admin]
listen = "also nowhere"
[limits]
upstream_timeout = 0
[[policy]]
name = "a"
hosts = ["https://api.example.com"]
path_prefix = "api"
allow_origins = ["*", "https://x.com/"]
allow_credentials = true
[[policy]]
name = "a"
allow_origins = ["https://*.github.io"]
max_age = 100000
"#,
    );
    for want in [
        "listen",
        "upstream",
        "workers",
        "admin.listen",
        "limits.upstream_timeout",
        "policy[0].hosts[0]",
        "policy[0].path_prefix",
        "policy[0].allow_origins[0]",
        "policy[0].allow_origins[1]",
        "policy[1].name",
        "policy[1].allow_origins[0]",
        "policy[1].max_age",
    ] {
        assert!(k.iter().any(|x| x == want), "missing {want} in {k:?}");
    }
}

#[test]
fn workers_default_to_one_per_cpu() {
    let base = "upstream = \"builtin:echo\"\n[[policy]]\nallow_origins = [\"https://a.example\"]\n";
    let c = parse(base, "t.toml", None).unwrap();
    assert_eq!(c.workers, None);
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    assert_eq!(c.worker_count(), cpus);
    let c = parse(&format!("workers = 3\n{base}"), "t.toml", None).unwrap();
    assert_eq!(c.worker_count(), 3);
    assert!(problems(&format!("workers = 257\n{base}"))
        .iter()
        .any(|k| k == "workers"));
}

#[test]
fn routing_takes_the_first_policy_that_fits() {
    let c = parse(
        r#"
upstream = "http://127.0.0.1:3000"
[[policy]]
name = "admin"
hosts = ["Admin.Example.com"]
path_prefix = "/api"
allow_origins = ["https://admin.example.com"]
[[policy]]
name = "public"
path_prefix = "/public/"
allow_origins = ["*"]
"#,
        "x.toml",
        None,
    )
    .unwrap();
    let r = |h: Option<&str>, p: &str| c.route(h, p).map(|r| r.name.as_str());
    assert_eq!(r(Some("admin.example.com:8443"), "/api/users"), Some("admin"));
    assert_eq!(r(Some("ADMIN.example.com"), "/api"), Some("admin"));
    assert_eq!(r(Some("admin.example.com"), "/apix"), None);
    assert_eq!(r(Some("other.example.com"), "/api"), None);
    assert_eq!(r(None, "/api"), None);
    assert_eq!(r(Some("any"), "/public/x.js"), Some("public"));
    assert_eq!(r(Some("any"), "/public"), None);
}

#[test]
fn missing_upstream_and_policies() {
    let k = problems("listen = \"127.0.0.1:1\"\n");
    assert_eq!(k, ["upstream", "policy"]);
}

/// An unknown key as the test compares it: key, suggestion, line, column.
type Seen<'a> = (&'a str, Option<&'a str>, Option<usize>, Option<usize>);

/// Every problem of `text`, as `(key, line, column, code)`.
fn located(text: &str) -> Vec<(String, Option<usize>, Option<usize>, &'static str)> {
    lint_text(text, "t.toml", None)
        .problems
        .into_iter()
        .map(|p| (p.key, p.line, p.column, p.code))
        .collect()
}

#[test]
fn every_unknown_key_at_once_with_a_suggestion_and_its_place() {
    let text = "upstrem = \"builtin:echo\"\nupstream = \"builtin:echo\"\n[limits]\nupstream_timout = 5\n\
                [[policy]]\nname = \"api\"\nallow_origin = [\"https://a.example\"]\nmax-age = 5\nfrobnicate = 1\n\
                allow_origins = [\"https://a.example\"]\n";
    let lint = lint_text(text, "t.toml", None);
    assert!(lint.config.is_none());
    let unknown: Vec<Seen<'_>> = lint
        .problems
        .iter()
        .filter(|p| p.code == "unknown_key")
        .map(|p| (p.key.as_str(), p.suggestion.as_deref(), p.line, p.column))
        .collect();
    assert_eq!(
        unknown,
        [
            ("upstrem", Some("upstream"), Some(1), Some(1)),
            ("limits.upstream_timout", Some("upstream_timeout"), Some(4), Some(1)),
            ("policy \"api\".allow_origin", Some("allow_origins"), Some(7), Some(1)),
            ("policy \"api\".max-age", Some("max_age"), Some(8), Some(1)),
            ("policy \"api\".frobnicate", None, Some(9), Some(1)),
        ]
    );
    let text = lint.into_result().unwrap_err().to_string();
    assert!(
        text.contains("t.toml:7:1: policy \"api\".allow_origin: unknown key `allow_origin` in a [[policy]] table; did you mean `allow_origins`?"),
        "{text}"
    );
}

#[test]
fn a_key_of_another_table_is_named_as_such() {
    let p = lint_text(
        "upstream = \"builtin:echo\"\nallow_origins = [\"https://a.example\"]\n[[policy]]\nallow_origins = [\"https://a.example\"]\n",
        "t.toml",
        None,
    )
    .problems;
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].message.contains("belongs in a [[policy]] table"),
        "{}",
        p[0].message
    );
}

#[test]
fn every_problem_has_its_line_and_column_and_named_policies_their_name() {
    let text = r#"upstream = "builtin:echo"
listen = "nowhere"

[[policy]]
name = "api"
allow_origins = ["https://ok.example", "https://a.example/"]
allow_methods = ["GET", "TRACE"]
max_age = 100000

[[policy]]
allow_origins = ["http://b.example"]
"#;
    let got = located(text);
    for want in [
        ("listen".to_owned(), Some(2), Some(10), "invalid_value"),
        (
            "policy \"api\".allow_origins[1]".to_owned(),
            Some(6),
            Some(40),
            "invalid_origin",
        ),
        (
            "policy \"api\".allow_methods[1]".to_owned(),
            Some(7),
            Some(25),
            "forbidden_method",
        ),
        (
            "policy \"api\".max_age".to_owned(),
            Some(8),
            Some(11),
            "max_age_out_of_range",
        ),
        (
            "policy[1].allow_origins[0]".to_owned(),
            Some(11),
            Some(18),
            "insecure_origin",
        ),
    ] {
        assert!(got.contains(&want), "missing {want:?} in {got:?}");
    }
    assert!(got.iter().all(|(_, l, c, _)| l.is_some() && c.is_some()), "{got:?}");
    // In the order of the file.
    let lines: Vec<usize> = got.iter().filter_map(|(_, l, _, _)| *l).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

#[test]
fn every_wrong_type_at_once_without_follow_on_problems() {
    let got = located(
        "upstream = 8080\nworkers = \"2\"\n[tls]\ncert = \"c.pem\"\n[[policy]]\nallow_origins = \"https://a.example\"\n\
         allow_methods = [\"GET\", 1]\nallow_credentials = \"yes\"\nmax_age = 1.5\n",
    );
    let keys: Vec<(&str, &str)> = got.iter().map(|(k, _, _, c)| (k.as_str(), *c)).collect();
    assert_eq!(
        keys,
        [
            ("upstream", "wrong_type"),
            ("workers", "wrong_type"),
            ("tls.key", "missing"),
            ("policy[0].allow_origins", "wrong_type"),
            ("policy[0].allow_methods[1]", "wrong_type"),
            ("policy[0].allow_credentials", "wrong_type"),
            ("policy[0].max_age", "wrong_type"),
        ],
        "no `upstream: missing`, no `allow_origins: no origin listed`"
    );
}

/// Everything the serde model (`deny_unknown_fields`) refused is still refused.
#[test]
fn as_strict_as_before() {
    let ok = "upstream = \"builtin:echo\"\n[[policy]]\nallow_origins = [\"https://a.example\"]\n";
    assert!(parse(ok, "t.toml", None).is_ok());
    for bad in [
        "policy = {}\n",
        "[policy]\nallow_origins = [\"https://a.example\"]\n",
        "policy = [1]\n",
        "[tls]\n",
        "[admin]\n",
        "[admin]\nlisten = \"127.0.0.1:9\"\nport = 1\n",
        "[paths]\nmerge_slashes = \"yes\"\n",
        "[limits]\nmax_connections = -1\n",
        "[limits]\nshutdown_grace = 0\n",
        "workers = -2\n",
        "listen = 1\n",
        "upstream_ca = [\"a\"]\n",
        "tls = \"x\"\n",
        "[[policy]]\nallow_origins = [\"https://b.example\"]\nhosts = [[\"a\"]]\n",
        "[[policy]]\nallow_origins = [\"https://b.example\"]\ndebug = 1\n",
        "[[policy]]\nallow_origins = [\"https://b.example\"]\nname = 7\n",
        "[[policy]]\nallow_origins = [\"https://b.example\"]\n[policy.extra]\nx = 1\n",
        "when = 1979-05-27\n",
    ] {
        let text = format!("{ok}{bad}");
        assert!(parse(&text, "t.toml", None).is_err(), "accepted:\n{text}");
    }
    // The other TOML spellings of the same model are accepted.
    let inline = "upstream = \"builtin:echo\"\ntls = { cert = \"/nonexistent\", key = \"/nonexistent\" }\n\
                  policy = [{ name = \"a\", allow_origins = [\"https://a.example\"] }]\n";
    let e = parse(inline, "t.toml", None).unwrap_err();
    assert!(e.problems.iter().all(|p| p.key.starts_with("tls.")), "{e}");
    let dotted = "upstream = \"builtin:echo\"\nlimits.upstream_timeout = 5\n[[policy]]\nallow_origins = [\"https://a.example\"]\n";
    assert_eq!(
        parse(dotted, "t.toml", None).unwrap().limits.upstream_timeout.as_secs(),
        5
    );
}

#[test]
fn syntax_errors_have_a_place() {
    let p = located("upstream = \"builtin:echo\"\nlisten = [1, 2\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!((p[0].1.is_some(), p[0].3), (true, "syntax"));
}

#[test]
fn warnings_are_not_errors() {
    let text = "upstream = \"builtin:echo\"\n[[policy]]\nname = \"api\"\nallow_origins = [\"https://a.example\"]\n\
                allow_methods = [\"GET\", \"Patch\", \"put\", \"propfind\", \"X-Custom\"]\nallow_private_network = true\n";
    let lint = lint_text(text, "t.toml", None);
    let warnings: Vec<(&str, &str, Option<&str>)> = lint
        .warnings()
        .map(|p| (p.key.as_str(), p.code, p.suggestion.as_deref()))
        .collect();
    assert_eq!(
        warnings,
        [
            ("policy \"api\".allow_methods[1]", "method_case", Some("PATCH")),
            ("policy \"api\".allow_methods[3]", "method_case", Some("PROPFIND")),
            ("policy \"api\".allow_private_network", "private_network", None),
        ]
    );
    let lines: Vec<Option<usize>> = lint.warnings().map(|p| p.line).collect();
    assert_eq!(lines, [Some(5), Some(5), Some(6)]);
    assert_eq!(lint.errors().count(), 0);
    let config = lint.into_result().expect("warnings do not refuse the file");
    assert_eq!(config.warnings.len(), 3);
    // Both spellings listed: deliberate, no warning.
    let both = "upstream = \"builtin:echo\"\n[[policy]]\nallow_origins = [\"https://a.example\"]\nallow_methods = [\"PATCH\", \"patch\"]\n";
    assert_eq!(lint_text(both, "t.toml", None).problems, []);
}

#[test]
fn unreadable_and_non_utf8_files() {
    let lint = lint(Path::new("/nonexistent/corsair.toml"));
    assert!(lint.unreadable());
    assert_eq!(lint.problems[0].code, "cannot_read");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.toml");
    std::fs::write(&path, b"upstream = \"builtin:echo\"\nname = \"caf\xe9\"\n").unwrap();
    let lint = super::lint(&path);
    assert!(!lint.unreadable());
    assert_eq!(
        (lint.problems[0].code, lint.problems[0].line, lint.problems[0].column),
        ("syntax", Some(2), Some(12))
    );
}

/// A policy's cross-origin protection keys.
fn protection_of(keys: &str) -> Result<corsair::CrossOriginProtection, Vec<(String, &'static str, String)>> {
    let text = format!(
        "upstream = \"builtin:echo\"\n[[policy]]\nname = \"api\"\nallow_origins = [\"https://a.example\"]\n{keys}\n"
    );
    match lint_text(&text, "t.toml", None).into_result() {
        Ok(c) => Ok(c.policies[0].protection.clone()),
        Err(e) => Err(e.problems.into_iter().map(|p| (p.key, p.code, p.message)).collect()),
    }
}

#[test]
fn protection_is_on_by_default_and_can_be_turned_off() {
    let p = protection_of("").unwrap();
    assert!(p.is_enabled());
    assert_eq!(p.exempt().count(), 0);
    assert!(!protection_of("protect_unsafe_requests = false").unwrap().is_enabled());
    assert!(protection_of("protect_unsafe_requests = true").unwrap().is_enabled());
    let p = protection_of("protect_unsafe_requests_exempt = [\"/oauth/callback\", \"/pay/return/\"]").unwrap();
    assert_eq!(p.exempt().collect::<Vec<_>>(), ["/oauth/callback", "/pay/return/"]);
    // The embedded default protects too.
    assert!(Config::embedded_default().unwrap().policies[0].protection.is_enabled());
}

#[test]
fn exempt_paths_are_checked_every_problem_at_once() {
    let errs = protection_of(
        "protect_unsafe_requests_exempt = [\"/ok\", \"oauth\", \"/cb?x\", \"/api/*\", \"/a/../b\", \"/%61pi\", \"//x\", \"/ok\"]",
    )
    .unwrap_err();
    let got: Vec<(&str, &str)> = errs.iter().map(|(k, c, _)| (k.as_str(), *c)).collect();
    let key = |j: usize| format!("policy \"api\".protect_unsafe_requests_exempt[{j}]");
    assert_eq!(
        got,
        [
            (key(1).as_str(), "invalid_exempt_path"),
            (key(2).as_str(), "invalid_exempt_path"),
            (key(3).as_str(), "invalid_exempt_path"),
            (key(4).as_str(), "invalid_exempt_path"),
            // Not canonical: requests are decided on their normalized path.
            (key(5).as_str(), "invalid_value"),
            (key(6).as_str(), "invalid_value"),
            (key(7).as_str(), "duplicate"),
        ]
    );
    assert!(errs[4].2.contains("write \"/api\""), "{}", errs[4].2);
    assert!(errs[5].2.contains("write \"/x\""), "{}", errs[5].2);
    assert!(errs[2].2.contains("never patterns"), "{}", errs[2].2);
    // A path the policy never decides.
    let errs =
        protection_of("path_prefix = \"/api\"\nprotect_unsafe_requests_exempt = [\"/oauth/callback\", \"/api/cb\"]")
            .unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].2.contains("outside this policy's path_prefix \"/api\""),
        "{}",
        errs[0].2
    );
    // With `[paths] merge_slashes = false`, `//` is canonical.
    let text = "upstream = \"builtin:echo\"\n[paths]\nmerge_slashes = false\n[[policy]]\nallow_origins = [\"https://a.example\"]\nprotect_unsafe_requests_exempt = [\"//x\"]\n";
    assert!(parse(text, "t.toml", None).is_ok());
}

#[test]
fn protection_keys_have_types_suggestions_and_warnings() {
    let errs =
        protection_of("protect_unsafe_requests = \"yes\"\nprotect_unsafe_requests_exempt = \"/cb\"").unwrap_err();
    let got: Vec<(&str, &str)> = errs.iter().map(|(k, c, _)| (k.as_str(), *c)).collect();
    assert_eq!(
        got,
        [
            ("policy \"api\".protect_unsafe_requests", "wrong_type"),
            ("policy \"api\".protect_unsafe_requests_exempt", "wrong_type")
        ]
    );
    let lint = lint_text(
        "upstream = \"builtin:echo\"\n[[policy]]\nallow_origins = [\"https://a.example\"]\nprotect_unsafe_request = false\n",
        "t.toml",
        None,
    );
    let p = &lint.problems[0];
    assert_eq!(
        (p.code, p.suggestion.as_deref()),
        ("unknown_key", Some("protect_unsafe_requests"))
    );
    // Exemptions with protection off do nothing: a warning.
    let lint = lint_text(
        "upstream = \"builtin:echo\"\n[[policy]]\nallow_origins = [\"https://a.example\"]\nprotect_unsafe_requests = false\nprotect_unsafe_requests_exempt = [\"/cb\"]\n",
        "t.toml",
        None,
    );
    let w: Vec<(&str, &str, Option<usize>)> = lint.warnings().map(|p| (p.key.as_str(), p.code, p.line)).collect();
    assert_eq!(
        w,
        [(
            "policy[0].protect_unsafe_requests_exempt",
            "exempt_without_protection",
            Some(5)
        )]
    );
    assert!(lint.into_result().is_ok());
}
