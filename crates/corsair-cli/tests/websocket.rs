//! `corsair check` and `corsair audit` on WebSockets: against a corsair
//! gateway in front of a WebSocket upstream, against that upstream alone
//! (it accepts any origin), and offline with `--policy`.

use corsair_testkit::cli::{self, Run};
use corsair_testkit::gateway::TestGateway;
use corsair_testkit::websocket::WsUpstream;
use serde_json::Value;

const GOOD: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example";

fn corsair(args: &[&str]) -> Run {
    cli::run(env!("CARGO_BIN_EXE_corsair"), args)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn config(upstream: &str) -> String {
    format!(
        r#"workers = 1
listen = "127.0.0.1:0"
upstream = "{upstream}"
[[policy]]
name = "api"
hosts = ["api.example"]
path_prefix = "/api"
allow_origins = ["{GOOD}"]
[[policy]]
name = "local"
path_prefix = "/api"
allow_origins = ["{GOOD}"]
"#
    )
}

fn check_json(args: &[&str]) -> (Run, Value) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let run = corsair(&all);
    let json = run.json();
    (run, json)
}

#[test]
fn check_opens_a_listed_origins_websocket_and_closes_it_at_once() {
    let rt = runtime();
    let up = rt.block_on(WsUpstream::start());
    let gw = TestGateway::start(&config(&up.url()));
    let url = format!("ws://{}/api/ws", gw.addr);
    let (run, j) = check_json(&[&url, "--origin", GOOD]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(j["kind"], "websocket");
    assert_eq!(j["verdict"], "allowed");
    assert_eq!(j["status"], 101);
    assert_eq!(j["mode"], "network");
    // One handshake reached the upstream, with the origin.
    let heads = up.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(heads[0].contains(&format!("origin: {GOOD}")), "{}", heads[0]);
    // The text form says it too; --websocket with an http URL is the same.
    let run = corsair(&[
        "check",
        &format!("http://{}/api/ws", gw.addr),
        "--websocket",
        "--origin",
        GOOD,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("OPENED"), "{}", run.stdout);
    assert!(run.stdout.contains("no CORS check on WebSockets"), "{}", run.stdout);
}

#[test]
fn check_names_the_gateways_refusal_and_the_fix() {
    let rt = runtime();
    let up = rt.block_on(WsUpstream::start());
    let gw = TestGateway::start(&config(&up.url()));
    let url = format!("ws://{}/api/ws", gw.addr);
    let (run, j) = check_json(&[&url, "--origin", EVIL]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(j["verdict"], "blocked");
    assert_eq!(j["status"], 403);
    assert_eq!(j["reason"], "websocket_origin_not_allowed");
    // Without an Origin the same handshake is accepted: the refusal is the origin's.
    assert_eq!(j["status_without_origin"], 101);
    assert!(j["detail"].as_str().unwrap().contains("the refusal is about"), "{j}");
    assert!(
        j["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("add `{EVIL}` to allow_origins")),
        "{j}"
    );
    // Only the origin-less handshake reached the upstream.
    assert_eq!(up.heads().len(), 1);
    let (run, j) = check_json(&[&url, "--origin", "null"]);
    assert_eq!(run.code, 1);
    assert_eq!(j["reason"], "websocket_null_origin");
}

#[test]
fn check_reports_another_servers_refusal() {
    let rt = runtime();
    let up = rt.block_on(WsUpstream::start());
    let (run, j) = check_json(&[&format!("{}/deny", up.url()), "--websocket", "--origin", GOOD]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(j["reason"], "handshake_refused");
    assert_eq!(j["status"], 403);
    assert!(j["detail"].as_str().unwrap().contains("forbidden"), "{j}");
    let (run, j) = check_json(&[&format!("{}/bad-accept", up.url()), "--websocket", "--origin", GOOD]);
    assert_eq!(run.code, 1);
    assert_eq!(j["reason"], "invalid_101");
    // Nothing listens: an error, exit 2.
    let dead = corsair_testkit::RefusingAddr::new();
    let run = corsair(&["check", &format!("ws://{}/", dead.addr()), "--origin", GOOD]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
}

#[test]
fn check_with_a_policy_decides_as_the_gateway_without_sending_anything() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("corsair.toml");
    std::fs::write(&file, config("http://127.0.0.1:9")).unwrap();
    let f = file.to_str().unwrap();
    let cases = [
        ("wss://api.example/api/live", GOOD, 0, "policy"),
        ("wss://api.example/api/live", EVIL, 1, "websocket_origin_not_allowed"),
        ("wss://api.example/api/live", "null", 1, "websocket_null_origin"),
        ("wss://api.example/api/live", "https://api.example", 0, "same_origin"),
        ("wss://api.example/other", GOOD, 1, "websocket_cross_origin_uncovered"),
        (
            "ws://api.example:8080/other",
            "http://api.example:8080",
            0,
            "same_origin",
        ),
    ];
    for (url, origin, code, reason) in cases {
        let (run, j) = check_json(&[url, "--origin", origin, "--policy", f]);
        assert_eq!(run.code, code, "{url} {origin}: {}{}", run.stdout, run.stderr);
        assert_eq!(j["mode"], "policy");
        assert_eq!(j["reason"], reason, "{url} {origin}: {j}");
    }
    let (_, j) = check_json(&["wss://api.example/api/live", "--origin", EVIL, "--policy", f]);
    assert_eq!(j["policy"], "api");
    assert!(
        j["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("add `{EVIL}` to allow_origins of policy `api`")),
        "{j}"
    );
    let (_, j) = check_json(&["wss://api.example/other", "--origin", GOOD, "--policy", f]);
    assert!(j["fix"].as_str().unwrap().contains("add a [[policy]]"), "{j}");
    // A fetch option makes no sense for a WebSocket.
    let run = corsair(&["check", "wss://api.example/", "--websocket", "--origin", GOOD, "--send"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

fn websocket_findings(j: &Value) -> Vec<(String, String)> {
    j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"].as_str().unwrap().starts_with("websocket-"))
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn audit_reports_an_endpoint_that_accepts_any_origins_websocket() {
    let rt = runtime();
    let up = rt.block_on(WsUpstream::start());
    let url = format!("{}/ws", up.url());
    let run = corsair(&["audit", &url, "--origin", GOOD, "--format", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let j = run.json();
    assert_eq!(
        websocket_findings(&j),
        [
            ("websocket-any-origin".to_owned(), "high".to_owned()),
            ("websocket-null-origin".to_owned(), "high".to_owned())
        ]
    );
    let any = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "websocket-any-origin")
        .unwrap();
    assert_eq!(any["response_status"], 101);
    assert!(any["fix"].as_str().unwrap().contains("allow-list"), "{any}");
    assert!(
        j["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("accepts WebSocket handshakes")),
        "{j}"
    );
    let probed: Vec<&str> = j["probed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(probed.contains(&"websocket-any-origin") && probed.contains(&"websocket-null-origin"));
}

#[test]
fn audit_finds_nothing_behind_the_gateway_nor_where_no_websocket_is() {
    let rt = runtime();
    let up = rt.block_on(WsUpstream::start());
    let gw = TestGateway::start(&config(&up.url()));
    let url = format!("http://{}/api/ws", gw.addr);
    let run = corsair(&["audit", &url, "--origin", GOOD, "--format", "json"]);
    let j = run.json();
    assert!(websocket_findings(&j).is_empty(), "{j}");
    // The trusted origin's handshake went through; the others were refused
    // before the upstream.
    let ws_heads: Vec<String> = up
        .heads()
        .into_iter()
        .filter(|h| h.contains("upgrade: websocket"))
        .collect();
    assert_eq!(ws_heads.len(), 1, "{ws_heads:?}");
    assert!(ws_heads[0].contains(&format!("origin: {GOOD}")), "{}", ws_heads[0]);
    assert!(j["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().contains("accepts WebSocket")));
    // An endpoint that takes no WebSocket (the upstream's 403): no finding.
    let url = format!("{}/deny", up.url());
    let j = corsair(&["audit", &url, "--origin", GOOD, "--format", "json"]).json();
    assert!(websocket_findings(&j).is_empty(), "{j}");
    assert!(!j["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().contains("WebSocket")));
}
