//! `corsair check` and cross-origin protection: `--mode navigate` (a form POST) and
//! `--mode no-cors` (a no-cors fetch POST) decided offline with `--policy` and against a
//! corsair gateway (only with `--send` for a POST), and the CORS simulation (`--mode
//! cors`), which applies the same protection to the actual request.

use std::sync::{Arc, Mutex};

use corsair_testkit::cli::{self, Run};
use corsair_testkit::gateway::TestGateway;
use corsair_testkit::upstream::{Reply, Upstream};
use serde_json::Value;

fn corsair(args: &[&str]) -> Run {
    cli::run(env!("CARGO_BIN_EXE_corsair"), args)
}

const APP: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example";

/// `api.example.com`: `open` (protection off) on `/open`, `api` on the rest with an
/// exempt callback; `/public` on other hosts is covered by no policy.
const CONFIG: &str = r#"
listen = "127.0.0.1:0"
upstream = "builtin:echo"

[[policy]]
name = "open"
hosts = ["api.example.com"]
path_prefix = "/open"
allow_origins = ["https://app.example.com"]
protect_unsafe_requests = false

[[policy]]
name = "api"
hosts = ["api.example.com"]
allow_origins = ["https://app.example.com", "https://*.partner.example", "http://localhost:*"]
allow_methods = ["PUT"]
allow_headers = ["content-type"]
protect_unsafe_requests_exempt = ["/oauth/callback"]
"#;

fn config_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corsair.toml");
    std::fs::write(&path, CONFIG).unwrap();
    let p = path.to_str().unwrap().to_owned();
    (dir, p)
}

/// `check URL --origin O --method M --mode MODE --policy FILE --format json [extra]`.
fn offline(url: &str, origin: &str, method: &str, mode: &str, policy: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "check", url, "--origin", origin, "--method", method, "--mode", mode, "--policy", policy, "--format", "json",
    ];
    args.extend_from_slice(extra);
    let r = corsair(&args);
    (r.code, r.json())
}

fn header<'a>(list: &'a Value, name: &str) -> Option<&'a str> {
    list.as_array()?
        .iter()
        .find(|l| l["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|l| l["value"].as_str())
}

#[test]
fn a_form_post_decided_offline() {
    let (_dir, policy) = config_file();
    let api = "https://api.example.com/transfer";
    // From an unlisted origin: refused, with the reason and the fix.
    let (code, j) = offline(api, EVIL, "POST", "navigate", &policy, &[]);
    assert_eq!(code, 1, "{j:#}");
    assert_eq!(j["delivered"], false);
    assert_eq!(j["mode"], "navigate");
    assert_eq!(j["source"], "policy");
    assert_eq!(j["policy"], "api");
    assert_eq!(j["protection"]["outcome"], "cross_origin_request");
    assert_eq!(j["protection"]["refused"], true);
    let fix = j["fix"].as_str().unwrap();
    assert!(fix.contains("add it to allow_origins of policy `api`"), "{fix}");
    assert!(
        fix.contains("add \"/transfer\" to protect_unsafe_requests_exempt"),
        "{fix}"
    );
    // What the browser sends.
    let sent = &j["request"]["headers"];
    assert_eq!(header(sent, "origin"), Some(EVIL));
    assert_eq!(header(sent, "sec-fetch-site"), Some("cross-site"));
    assert_eq!(header(sent, "sec-fetch-mode"), Some("navigate"));
    assert_eq!(
        header(sent, "content-type"),
        Some("application/x-www-form-urlencoded;charset=UTF-8")
    );

    for (origin, url, outcome) in [
        (APP, api, "trusted_origin"),
        ("https://eu.partner.example", api, "trusted_origin"),
        ("https://api.example.com", api, "same_origin"),
        (EVIL, "https://api.example.com/oauth/callback", "exempt_path"),
        (EVIL, "https://api.example.com/open/x", "disabled"),
    ] {
        let (code, j) = offline(url, origin, "POST", "navigate", &policy, &[]);
        assert_eq!(
            (code, &j["protection"]["outcome"]),
            (0, &Value::from(outcome)),
            "{origin} {url}: {j:#}"
        );
        assert_eq!(j["delivered"], true);
        assert_eq!(j["fix"], Value::Null);
    }
    // A sibling subdomain is another origin.
    let (code, j) = offline(api, "https://www.example.com", "POST", "navigate", &policy, &[]);
    assert_eq!(
        (code, j["protection"]["outcome"].as_str()),
        (1, Some("cross_origin_request"))
    );
    assert_eq!(header(&j["request"]["headers"], "sec-fetch-site"), Some("same-site"));
    // A plain-http URL gets no Sec-Fetch-Site: Origin against Host decides.
    let (code, j) = offline(
        "http://api.example.com/transfer",
        "http://evil.example",
        "POST",
        "navigate",
        &policy,
        &[],
    );
    assert_eq!(
        (code, j["protection"]["outcome"].as_str()),
        (1, Some("origin_host_mismatch")),
        "{j:#}"
    );
    assert_eq!(header(&j["request"]["headers"], "sec-fetch-site"), None);
    let (code, j) = offline(
        "http://api.example.com/transfer",
        "http://api.example.com",
        "POST",
        "navigate",
        &policy,
        &[],
    );
    assert_eq!(
        (code, j["protection"]["outcome"].as_str()),
        (0, Some("origin_matches_host")),
        "{j:#}"
    );
    // An https page posting to http: the browser sends `Origin: null`.
    let (code, j) = offline("http://api.example.com/transfer", APP, "POST", "navigate", &policy, &[]);
    assert_eq!(header(&j["request"]["headers"], "origin"), Some("null"));
    assert_eq!(code, 1, "{j:#}");
    assert!(j["fix"].as_str().unwrap().contains("`null` origin"), "{j:#}");
    // No policy covers another host: forwarded untouched.
    let (code, j) = offline("https://other.example.com/x", EVIL, "POST", "navigate", &policy, &[]);
    assert_eq!((code, &j["protection"]), (0, &Value::Null), "{j:#}");
    assert!(j["explanation"].as_str().unwrap().contains("no [[policy]]"), "{j:#}");
    // A GET is never checked.
    let (code, j) = offline(api, EVIL, "GET", "navigate", &policy, &[]);
    assert_eq!((code, j["protection"]["outcome"].as_str()), (0, Some("safe_method")));
    assert_eq!(
        header(&j["request"]["headers"], "origin"),
        None,
        "a GET navigation sends no Origin"
    );
}

#[test]
fn a_no_cors_post_decided_offline_and_what_no_cors_cannot_send() {
    let (_dir, policy) = config_file();
    let api = "https://api.example.com/transfer";
    let (code, j) = offline(api, EVIL, "POST", "no-cors", &policy, &["--body-type", "text/plain"]);
    assert_eq!(
        (code, j["protection"]["outcome"].as_str()),
        (1, Some("cross_origin_request"))
    );
    assert_eq!(header(&j["request"]["headers"], "sec-fetch-mode"), Some("no-cors"));
    assert_eq!(header(&j["request"]["headers"], "content-type"), Some("text/plain"));
    // fetch() refuses these: exit 2 with the reason.
    for (method, extra, why) in [
        ("PUT", &[][..], "only GET, HEAD and POST"),
        (
            "POST",
            &["--body-type", "application/json"][..],
            "the browser drops content-type",
        ),
        ("POST", &["-H", "X-Token: 1"][..], "the browser drops x-token"),
    ] {
        let mut args = vec!["check", api, "--origin", EVIL, "--method", method, "--mode", "no-cors"];
        args.extend_from_slice(extra);
        let r = corsair(&args);
        assert_eq!(r.code, 2, "{method} {extra:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(why), "{}", r.stderr);
    }
    let r = corsair(&[
        "check", api, "--origin", EVIL, "--method", "POST", "--mode", "navigate", "-H", "X-A: 1",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("carries no script-set header"), "{}", r.stderr);
    let r = corsair(&[
        "check", api, "--origin", EVIL, "--method", "DELETE", "--mode", "navigate",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("a form submits with GET or POST"), "{}", r.stderr);
    // The text verdict.
    let r = corsair(&[
        "check", api, "--origin", EVIL, "--method", "POST", "--mode", "no-cors", "--policy", &policy,
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("REFUSED: policy `api`"), "{}", r.stdout);
    assert!(r.stdout.contains("       Sec-Fetch-Site: cross-site\n"), "{}", r.stdout);
    assert!(r.stdout.contains("  fix: "), "{}", r.stdout);
}

/// A recording upstream behind an in-process gateway running [`CONFIG`] (any host).
fn gateway() -> (Upstream, TestGateway, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let up = Upstream::with(move |method, _| {
        log.lock().unwrap().push(method.to_string());
        Reply::for_method(method, Vec::new())
    });
    let config = CONFIG
        .replace("upstream = \"builtin:echo\"", &format!("upstream = \"{}\"", up.url()))
        .replace("hosts = [\"api.example.com\"]\n", "");
    let gw = TestGateway::start(&config);
    (up, gw, seen)
}

#[test]
fn against_a_gateway_a_post_is_sent_only_with_send() {
    let (_up, gw, seen) = gateway();
    let url = gw.url("/transfer");
    // Without --send: not sent, not decided.
    let r = corsair(&[
        "check", &url, "--origin", EVIL, "--method", "POST", "--mode", "no-cors", "--format", "json",
    ]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    let j = r.json();
    assert_eq!((j["sent"].as_bool(), &j["delivered"]), (Some(false), &Value::Null));
    assert!(j["explanation"].as_str().unwrap().contains("--send sends it"), "{j:#}");
    assert!(seen.lock().unwrap().is_empty());
    // With --send: the gateway refuses it (recognized by its body), nothing reaches the upstream.
    let args = |origin: &'static str| {
        vec![
            "check",
            url.as_str(),
            "--origin",
            origin,
            "--method",
            "POST",
            "--mode",
            "no-cors",
            "--body-type",
            "application/x-www-form-urlencoded",
            "--send",
            "--format",
            "json",
        ]
    };
    let r = corsair(&args(EVIL));
    let j = r.json();
    assert_eq!(r.code, 1, "{j:#}");
    assert_eq!((j["status"].as_u64(), j["sent"].as_bool()), (Some(403), Some(true)));
    assert_eq!(j["protection"]["outcome"], "cross_origin_request");
    assert!(
        j["explanation"]
            .as_str()
            .unwrap()
            .contains("corsair's cross-origin protection"),
        "{j:#}"
    );
    assert!(seen.lock().unwrap().is_empty(), "{:?}", seen.lock().unwrap());
    // From a trusted origin: delivered. (An https page posting to this http URL would
    // send `Origin: null`: the default referrer policy hides the origin on a downgrade.)
    let r = corsair(&args("http://localhost:3000"));
    let j = r.json();
    assert_eq!(
        (r.code, j["delivered"].as_bool(), j["status"].as_u64()),
        (0, Some(true), Some(200)),
        "{j:#}"
    );
    assert_eq!(*seen.lock().unwrap(), ["POST"]);
    // A GET is sent without --send, and never refused.
    let r = corsair(&["check", &url, "--origin", EVIL, "--mode", "no-cors", "--format", "json"]);
    assert_eq!((r.code, r.json()["sent"].as_bool()), (0, Some(true)));
}

#[test]
fn the_cors_simulation_applies_protection_to_the_actual_request() {
    let (_dir, policy) = config_file();
    let api = "https://api.example.com/transfer";
    // A simple POST from an unlisted origin: no preflight; the gateway refuses the
    // POST itself (before the upstream), which the report says, with the fix.
    let r = corsair(&[
        "check",
        api,
        "--origin",
        EVIL,
        "--method",
        "POST",
        "--body-type",
        "text/plain",
        "--policy",
        &policy,
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1);
    let j = r.json();
    assert_eq!(j["actual"]["status"], 403);
    assert_eq!(
        header(&j["actual"]["request"]["headers"], "sec-fetch-site"),
        Some("cross-site")
    );
    assert_eq!(
        header(&j["actual"]["request"]["headers"], "sec-fetch-mode"),
        Some("cors")
    );
    let step = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "cross-origin-protection")
        .expect("a cross-origin-protection step");
    assert_eq!(step["ok"], false);
    assert!(
        step["explanation"].as_str().unwrap().contains("(cross_origin_request)"),
        "{step}"
    );
    assert!(
        j["policy_fix"]
            .as_str()
            .unwrap()
            .contains("protect_unsafe_requests_exempt"),
        "{j:#}"
    );
    // From the listed origin: allowed, and the protection step says why it passed.
    let r = corsair(&[
        "check",
        api,
        "--origin",
        APP,
        "--method",
        "PUT",
        "-H",
        "content-type: application/json",
        "--policy",
        &policy,
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let j = r.json();
    let step = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "cross-origin-protection")
        .unwrap();
    assert!(
        step["explanation"].as_str().unwrap().contains("(trusted_origin)"),
        "{step}"
    );
    // explain --policy names the protection's reason as the rejection.
    let msg = format!(
        "Access to fetch at '{api}' from origin '{EVIL}' has been blocked by CORS policy: No \
         'Access-Control-Allow-Origin' header is present on the requested resource."
    );
    let r = corsair(&[
        "explain",
        &msg,
        "--method",
        "POST",
        "--body-type",
        "text/plain",
        "--policy",
        &policy,
        "--format",
        "json",
    ]);
    let j = r.json();
    assert_eq!(j["rejection"], "cross_origin_request", "{j:#}");
    assert_eq!(j["refused_by"], "policy");
    assert_eq!(j["consistent"], true, "{j:#}");
}

#[test]
fn the_cors_simulation_recognizes_a_gateways_refusal() {
    let (_up, gw, seen) = gateway();
    let url = gw.url("/transfer");
    let r = corsair(&[
        "check", &url, "--origin", EVIL, "--method", "POST", "--send", "--format", "json",
    ]);
    assert_eq!(r.code, 1);
    let j = r.json();
    assert_eq!(j["actual"]["status"], 403);
    let step = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "cross-origin-protection")
        .expect("a step");
    assert!(
        step["explanation"]
            .as_str()
            .unwrap()
            .contains("corsair's cross-origin protection (cross_origin_request)"),
        "{step}"
    );
    assert!(seen.lock().unwrap().is_empty());
}
