//! `corsair explain`: browser console messages in, the failed check, the cause and the
//! fix out; with `--policy` the real rejection, with `--probe` the live server's answer.

use corsair_testkit::cli::{self, Run};
use corsair_testkit::gateway::TestGateway;
use serde_json::Value;

fn corsair(args: &[&str]) -> Run {
    cli::run(env!("CARGO_BIN_EXE_corsair"), args)
}

const PAGE: &str = "https://app.example.com";

/// Chromium's line for a fetch of `url` from [`PAGE`] that failed with `reason`.
fn chromium(url: &str, reason: &str) -> String {
    format!("Access to fetch at '{url}' from origin '{PAGE}' has been blocked by CORS policy: {reason}")
}

const PREFLIGHT_NO_ACAO: &str = "Response to preflight request doesn't pass access control check: No \
                                 'Access-Control-Allow-Origin' header is present on the requested resource.";

const POLICY: &str = r#"
listen = "127.0.0.1:0"
upstream = "builtin:echo"

[[policy]]
name = "api"
path_prefix = "/api"
allow_origins = ["https://app.example.com"]
allow_methods = ["GET", "PUT"]
allow_headers = ["content-type", "x-a"]
allow_credentials = true

[[policy]]
name = "public"
path_prefix = "/public"
allow_origins = ["*"]
"#;

fn policy_file(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("corsair.toml");
    std::fs::write(&path, POLICY).unwrap();
    path.display().to_string()
}

fn explain(args: &[&str]) -> (Run, Value) {
    let mut all = vec!["explain"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let run = corsair(&all);
    let json = run.json();
    (run, json)
}

#[test]
fn a_chromium_line_is_understood_without_anything_else() {
    let msg = chromium("https://api.example.com/api/items", PREFLIGHT_NO_ACAO);
    let (run, json) = explain(&[&msg]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json["understood"], true);
    assert_eq!(json["browser"], "chromium");
    assert_eq!(json["error"], "preflight_missing_allow_origin_header");
    assert_eq!(json["url"], "https://api.example.com/api/items");
    assert_eq!(json["origin"], PAGE);
    assert_eq!(json["preflight"], true);
    assert_eq!(json["mode"], "message");
    // Without the method and headers: says what is unknown and what to look at.
    let causes = json["causes"].as_array().unwrap();
    assert!(
        causes.iter().any(|c| c.as_str().unwrap().contains("pass --method")),
        "{json:#}"
    );
    assert!(json["next"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().contains("Network tab")));
    assert_eq!(json["rejection"], Value::Null);
    // The same line from standard input, wrapped.
    let wrapped = msg.replace(" has been", "\n  has been");
    let run = cli::run_with_stdin(
        env!("CARGO_BIN_EXE_corsair"),
        &["explain", "--format", "json"],
        Some(&wrapped),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["error"], "preflight_missing_allow_origin_header");
}

#[test]
fn not_a_cors_message_exits_2() {
    for text in ["net::ERR_FAILED", "TypeError: Failed to fetch", "hello"] {
        let (run, json) = explain(&[text]);
        assert_eq!(run.code, 2, "{text}");
        assert_eq!(json["understood"], false);
        assert!(
            json["reason"].as_str().unwrap().contains("not a CORS message"),
            "{json:#}"
        );
    }
    let run = corsair(&["explain", "hello"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("corsair explain: not a CORS message"),
        "{}",
        run.stderr
    );
}

#[test]
fn with_the_policy_the_real_rejection_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = policy_file(&dir);
    let msg = chromium("https://api.example.com/api/items", PREFLIGHT_NO_ACAO);
    let (run, json) = explain(&[
        &msg, "--method", "PATCH", "-H", "X-A: 1", "-H", "X-B: 1", "--policy", &file,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json["mode"], "policy");
    assert_eq!(json["policy"], "api");
    assert_eq!(json["rejection"], "method_not_allowed");
    assert_eq!(json["refused_by"], "policy");
    assert_eq!(json["simulated_error"], "preflight_missing_allow_origin_header");
    assert_eq!(json["consistent"], true);
    assert_eq!(
        json["fix"],
        format!("add `PATCH` to allow_methods of policy `api` in {file}; add `x-b` to allow_headers of policy `api` in {file}")
    );
    // The origin: refused by the policy, named as such.
    let other = msg.replace(PAGE, "https://evil.example");
    let (_, json) = explain(&[&other, "--method", "PUT", "--policy", &file]);
    assert_eq!(json["rejection"], "origin_not_allowed");
    assert!(json["fix"]
        .as_str()
        .unwrap()
        .contains("add `https://evil.example` to allow_origins of policy `api`"));
}

#[test]
fn the_browsers_own_rule_is_not_a_rejection() {
    let dir = tempfile::tempdir().unwrap();
    let file = policy_file(&dir);
    let msg = chromium(
        "https://api.example.com/public/x",
        "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when \
         the request's credentials mode is 'include'.",
    );
    let (run, json) = explain(&[&msg, "--policy", &file]);
    assert_eq!(run.code, 0);
    assert_eq!(json["error"], "wildcard_origin_not_allowed");
    assert_eq!(json["policy"], "public");
    assert_eq!(json["rejection"], Value::Null);
    assert_eq!(json["refused_by"], "browser");
    assert_eq!(json["consistent"], true);
    assert!(
        json["request"]["assumed"][0].as_str().unwrap().contains("credentials"),
        "{json:#}"
    );
}

#[test]
fn a_message_the_policy_does_not_produce_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let file = policy_file(&dir);
    // PUT is allowed: the message cannot come from this config.
    let msg = chromium(
        "https://api.example.com/api/items",
        "Method PUT is not allowed by Access-Control-Allow-Methods in preflight response.",
    );
    let (run, json) = explain(&[&msg, "--policy", &file]);
    assert_eq!(run.code, 0);
    assert_eq!(json["request"]["method"], "PUT");
    assert_eq!(json["consistent"], false);
    assert_eq!(json["rejection"], Value::Null);
    let text = corsair(&["explain", &msg, "--policy", &file]).stdout;
    assert!(text.contains("the policy allows this request as described"), "{text}");
}

#[test]
fn firefox_and_safari_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = policy_file(&dir);
    let ff = "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at \
              https://api.example.com/api/items. (Reason: CORS header \u{2018}Access-Control-Allow-Origin\u{2019} \
              missing). Status code: 403.";
    let (run, json) = explain(&[ff]);
    assert_eq!(run.code, 0);
    assert_eq!(json["browser"], "firefox");
    assert_eq!(json["firefox_reason"], "CORSMissingAllowOrigin");
    assert_eq!(json["error"], Value::Null);
    assert_eq!(json["status"], 403);
    assert!(json["check"].as_str().unwrap().starts_with("one of:"), "{json:#}");
    // --policy needs the origin, which Firefox does not print.
    let (run, _) = explain(&[ff, "--policy", &file]);
    assert_eq!(run.code, 2);
    let (run, json) = explain(&[ff, "--origin", "https://evil.example", "--policy", &file]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(json["rejection"], "origin_not_allowed");
    assert_eq!(json["simulated_error"], "missing_allow_origin_header");
    assert_eq!(json["consistent"], true, "a candidate of the Firefox line");
    let (run, json) = explain(&["CORSMethodNotFound"]);
    assert_eq!(run.code, 0);
    assert_eq!(json["error"], "method_disallowed_by_preflight_response");
    let safari = "Origin https://app.example.com is not allowed by Access-Control-Allow-Origin. Status code: 403";
    let (run, json) = explain(&[safari]);
    assert_eq!(run.code, 0);
    assert_eq!(json["browser"], "safari");
    assert_eq!(json["origin"], PAGE);
}

#[test]
fn probe_asks_the_live_server_with_safe_requests() {
    let gw = TestGateway::start(POLICY);
    let url = gw.url("/api/items");
    let msg = chromium(&url, PREFLIGHT_NO_ACAO);
    let (run, json) = explain(&[&msg, "--method", "DELETE", "-H", "X-B: 1", "--probe"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(json["mode"], "probe");
    assert_eq!(json["rejection"], Value::Null, "a live server names no rejection");
    assert_eq!(json["cause"]["looks_like_corsair"], true);
    let refused: Vec<&str> = json["cause"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["verdict"] == "refused")
        .filter_map(|i| i["value"].as_str())
        .collect();
    assert_eq!(refused, ["DELETE", "x-b"]);
    let probes = json["cause"]["probes"].as_array().unwrap();
    assert!(probes
        .iter()
        .all(|p| p["request"]["method"] == "GET" || p["request"]["method"] == "OPTIONS"));
}

#[test]
fn help_has_examples_and_exit_codes() {
    for cmd in [
        &["--help"][..],
        &["serve", "--help"],
        &["check", "--help"],
        &["explain", "--help"],
        &["audit", "--help"],
        &["validate", "--help"],
        &["config", "default", "--help"],
    ] {
        let run = corsair(cmd);
        assert_eq!(run.code, 0, "{cmd:?}");
        assert!(run.stdout.contains("Examples:"), "{cmd:?}: {}", run.stdout);
        assert!(run.stdout.contains("Exit codes"), "{cmd:?}: {}", run.stdout);
    }
    let audit = corsair(&["audit", "--help"]).stdout;
    assert!(audit.contains("Methods used: GET and OPTIONS only"), "{audit}");
}
