//! `corsair check` is safe by default, and finds the real cause of a preflight refused
//! without CORS headers: against a corsair gateway (in-process), against servers that
//! refuse in other ways, and offline with `--policy`.

use std::sync::{Arc, Mutex};

use corsair_testkit::cli::{self, Run};
use corsair_testkit::gateway::TestGateway;
use corsair_testkit::upstream::{origin_of, Reply, Upstream};
use http::{HeaderMap, Method};
use serde_json::Value;

const PAGE: &str = "https://app.example.com";

fn corsair(args: &[&str]) -> Run {
    cli::run(env!("CARGO_BIN_EXE_corsair"), args)
}

fn check(url: &str, extra: &[&str]) -> (Run, Value) {
    let mut args = vec!["check", url, "--origin", PAGE, "--format", "json"];
    args.extend_from_slice(extra);
    let run = corsair(&args);
    let json = run.json();
    (run, json)
}

/// The policy of the issue: the page's origin is allowed, PATCH is not.
const POLICY: &str = r#"
listen = "127.0.0.1:0"
upstream = "builtin:echo"

[[policy]]
name = "api"
allow_origins = ["https://app.example.com"]
allow_methods = ["GET", "PUT"]
allow_headers = ["content-type", "x-a"]
"#;

/// `(part, value, verdict)` of every item of the cause.
fn items(json: &Value) -> Vec<(String, String, String)> {
    json["cause"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no cause: {json:#}"))
        .iter()
        .map(|i| {
            let s = |k: &str| i[k].as_str().unwrap_or_default().to_owned();
            (s("part"), s("value"), s("verdict"))
        })
        .collect()
}

fn item(part: &str, value: &str, verdict: &str) -> (String, String, String) {
    (part.to_owned(), value.to_owned(), verdict.to_owned())
}

/// Every fix of the report: the failure's, each step's, each item's.
fn all_fixes(json: &Value) -> Vec<String> {
    let mut fixes = vec![json["failure"]["fix"].as_str().unwrap_or_default().to_owned()];
    for s in json["steps"].as_array().into_iter().flatten() {
        fixes.extend(s["fix"].as_str().map(str::to_owned));
    }
    for i in json["cause"]["items"].as_array().into_iter().flatten() {
        fixes.extend(i["fix"].as_str().map(str::to_owned));
    }
    fixes
}

#[test]
fn a_refused_method_is_named_not_the_origin_that_is_already_allowed() {
    let gw = TestGateway::start(POLICY);
    let url = gw.url("/items");
    let (run, json) = check(&url, &["--method", "PATCH"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(json["failure"]["kind"], "missing-allow-origin");
    assert_eq!(
        items(&json),
        [item("origin", PAGE, "accepted"), item("method", "PATCH", "refused")]
    );
    assert_eq!(json["cause"]["looks_like_corsair"], true);
    // Never advise what is in place: the origin is allowed already.
    for fix in all_fixes(&json) {
        assert!(
            !fix.contains("Access-Control-Allow-Origin: https://app.example.com`"),
            "advises what is in place: {fix}"
        );
    }
    let fix = json["failure"]["fix"].as_str().unwrap();
    assert!(fix.contains("allow the method `PATCH`"), "{fix}");
    assert!(fix.contains("add `PATCH` to `allow_methods`"), "{fix}");
    // The text says it too.
    let text = corsair(&["check", &url, "--origin", PAGE, "--method", "PATCH"]).stdout;
    assert!(
        text.contains("cause: the server refuses the method `PATCH`; it accepts the origin"),
        "{text}"
    );
    assert!(
        !text.contains("send `Access-Control-Allow-Origin: https://app.example.com`"),
        "{text}"
    );
}

#[test]
fn every_refused_part_at_once() {
    let gw = TestGateway::start(POLICY);
    let (run, json) = check(
        &gw.url("/items"),
        &[
            "--method",
            "PATCH",
            "-H",
            "X-A: 1",
            "-H",
            "X-B: 2",
            "-H",
            "Content-Type: application/json",
            "-H",
            "X-C: 3",
        ],
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        items(&json),
        [
            item("origin", PAGE, "accepted"),
            item("method", "PATCH", "refused"),
            item("header", "content-type", "accepted"),
            item("header", "x-a", "accepted"),
            item("header", "x-b", "refused"),
            item("header", "x-c", "refused"),
        ]
    );
    let fix = json["failure"]["fix"].as_str().unwrap();
    for want in ["`PATCH`", "`x-b`", "`x-c`"] {
        assert!(fix.contains(want), "{want}: {fix}");
    }
    assert!(!fix.contains("`x-a`") && !fix.contains("`content-type`"), "{fix}");
    // Probes: a GET, the method alone, each header alone; nothing else.
    let probes: Vec<(String, Option<String>)> = json["cause"]["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let acrh = p["request"]["headers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h["name"] == "Access-Control-Request-Headers")
                .and_then(|h| h["value"].as_str().map(str::to_owned));
            (p["request"]["method"].as_str().unwrap().to_owned(), acrh)
        })
        .collect();
    assert_eq!(probes[0], ("GET".to_owned(), None));
    assert_eq!(probes[1], ("OPTIONS".to_owned(), None));
    assert_eq!(probes.len(), 6, "{probes:?}");
}

#[test]
fn a_refused_origin_leaves_the_rest_untested() {
    let gw = TestGateway::start(POLICY);
    let run = corsair(&[
        "check",
        &gw.url("/items"),
        "--origin",
        "https://evil.example",
        "--method",
        "PUT",
        "-H",
        "X-A: 1",
        "--format",
        "json",
    ]);
    let json = run.json();
    assert_eq!(run.code, 1);
    assert_eq!(
        items(&json),
        [
            item("origin", "https://evil.example", "refused"),
            item("method", "PUT", "untested"),
            item("header", "x-a", "untested"),
        ]
    );
    // The GET, then the preflight for GET alone: nothing more.
    assert_eq!(json["cause"]["probes"].as_array().unwrap().len(), 2);
    let fix = json["failure"]["fix"].as_str().unwrap();
    assert!(fix.contains("allow the origin `https://evil.example`"), "{fix}");
}

#[test]
fn with_a_policy_file_the_policy_and_key_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("corsair.toml");
    std::fs::write(&file, POLICY).unwrap();
    let file = file.to_str().unwrap();
    let (run, json) = check(
        "https://api.example/items",
        &["--policy", file, "--method", "PATCH", "-H", "X-B: 1", "-H", "X-A: 1"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        items(&json),
        [
            item("origin", PAGE, "accepted"),
            item("method", "PATCH", "refused"),
            item("header", "x-a", "accepted"),
            item("header", "x-b", "refused"),
        ]
    );
    assert_eq!(
        json["policy_fix"],
        format!("add `PATCH` to allow_methods of policy `api` in {file}; add `x-b` to allow_headers of policy `api` in {file}")
    );
}

/// A server that refuses a preflight when it asks for more than one header, and
/// accepts each alone: the cause is the combination, and no fix is invented.
#[test]
fn parts_accepted_alone_but_refused_together() {
    let up = Upstream::with(|method: &Method, headers: &HeaderMap| {
        let acrh = headers
            .get("access-control-request-headers")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin = origin_of(headers).unwrap_or("").to_owned();
        if method == Method::OPTIONS && acrh.contains(',') {
            return Reply {
                status: 400,
                headers: vec![],
            };
        }
        let mut h = vec![("access-control-allow-origin", origin)];
        if method == Method::OPTIONS {
            h.push(("access-control-allow-methods", "PUT".to_owned()));
            h.push(("access-control-allow-headers", acrh.to_owned()));
        }
        Reply::for_method(method, h)
    });
    let (run, json) = check(&format!("{}/x", up.url()), &["-H", "X-A: 1", "-H", "X-B: 1"]);
    assert_eq!(run.code, 1);
    assert!(items(&json).iter().all(|(_, _, v)| v == "accepted"), "{json:#}");
    assert!(
        json["cause"]["conclusion"]
            .as_str()
            .unwrap()
            .contains("refuses the preflight that asks for them together"),
        "{json:#}"
    );
    assert_eq!(json["cause"]["looks_like_corsair"], false);
}

/// A request the server receives.
type Seen = Arc<Mutex<Vec<String>>>;

fn allowing_put() -> (Upstream, Seen) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let up = Upstream::with(move |method: &Method, headers: &HeaderMap| {
        log.lock().unwrap().push(method.to_string());
        let mut h = vec![(
            "access-control-allow-origin",
            origin_of(headers).unwrap_or("").to_owned(),
        )];
        if method == Method::OPTIONS {
            h.push(("access-control-allow-methods", "PUT, DELETE".to_owned()));
        }
        Reply::for_method(method, h)
    });
    (up, seen)
}

#[test]
fn unsafe_methods_are_sent_only_with_send() {
    let (up, seen) = allowing_put();
    let url = format!("{}/items", up.url());
    let (run, json) = check(&url, &["--method", "DELETE"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(json["allowed"], true);
    assert_eq!(json["actual"], Value::Null);
    assert_eq!(json["not_sent"]["method"], "DELETE");
    assert!(json["not_sent"]["needs"]
        .as_str()
        .unwrap()
        .contains("Access-Control-Allow-Origin: https://app.example.com"));
    assert_eq!(*seen.lock().unwrap(), ["OPTIONS"], "only the preflight");
    // A simple POST needs no preflight: nothing is sent at all.
    let (run, json) = check(&url, &["--method", "POST"]);
    assert_eq!(run.code, 0);
    assert_eq!(json["not_sent"]["method"], "POST");
    assert!(json["not_sent"]["reason"]
        .as_str()
        .unwrap()
        .contains("without a preflight"));
    assert_eq!(*seen.lock().unwrap(), ["OPTIONS"]);
    // The text says it.
    let text = corsair(&["check", &url, "--origin", PAGE, "--method", "DELETE"]).stdout;
    assert!(text.contains("NOT SENT: the DELETE itself."), "{text}");
    assert!(text.contains("--send sends it"), "{text}");
    // --send sends it; GET and HEAD are always sent.
    let (run, json) = check(&url, &["--method", "DELETE", "--send"]);
    assert_eq!(run.code, 0);
    assert_eq!(json["actual"]["status"], 200);
    let (run, _) = check(&url, &["--method", "HEAD"]);
    assert_eq!(run.code, 0);
    // The text run sent its preflight too.
    assert_eq!(
        *seen.lock().unwrap(),
        ["OPTIONS", "OPTIONS", "OPTIONS", "DELETE", "HEAD"]
    );
}

#[test]
fn help_says_check_is_safe_by_default() {
    let help = corsair(&["check", "--help"]).stdout;
    assert!(help.contains("Safe by default"), "{help}");
    assert!(help.contains("--send"), "{help}");
}
