//! `corsair check` against local servers with known CORS headers, and
//! offline against a config file.

use std::sync::{Arc, Mutex};

use corsair_testkit::cli::{self, Run};
use corsair_testkit::upstream::{origin_of, Reply, Upstream};
use http::{HeaderMap, Method};
use serde_json::Value;

/// Runs the built `corsair` with these arguments.
fn corsair(args: &[&str]) -> Run {
    cli::run(env!("CARGO_BIN_EXE_corsair"), args)
}

/// The URL the tests probe on a test upstream.
fn url_of(up: &Upstream) -> String {
    format!("{}/api/data", up.url())
}

const PAGE: &str = "https://app.example";

/// A request a test server received: method and `Origin`.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// Starts a server answering with `respond(method, headers)` and recording
/// every request it receives.
fn server(respond: impl Fn(&Method, &HeaderMap) -> Reply + Send + Sync + 'static) -> (Upstream, Seen) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let server = Upstream::with(move |method, headers| {
        if let Ok(mut l) = log.lock() {
            l.push((method.to_string(), origin_of(headers).map(str::to_string)));
        }
        respond(method, headers)
    });
    (server, seen)
}

fn methods(seen: &Seen) -> Vec<String> {
    seen.lock()
        .map(|l| l.iter().map(|(m, _)| m.clone()).collect())
        .unwrap_or_default()
}

fn h(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(n, v)| (*n, v.to_string())).collect()
}

/// A well-configured API: echoes allowed origin, allows PUT + x-token, credentials.
fn allowing(method: &Method, _: &HeaderMap) -> Reply {
    let mut headers = h(&[
        ("access-control-allow-origin", PAGE),
        ("access-control-allow-credentials", "true"),
        ("vary", "Origin"),
    ]);
    if method == Method::OPTIONS {
        headers.extend(h(&[
            ("access-control-allow-methods", "GET, PUT, DELETE"),
            ("access-control-allow-headers", "x-token, content-type"),
            ("access-control-max-age", "600"),
        ]));
    } else {
        headers.extend(h(&[
            ("access-control-expose-headers", "X-Request-Id"),
            ("x-request-id", "42"),
            ("x-internal", "secret"),
        ]));
    }
    Reply::for_method(method, headers)
}

fn check(url: &str, extra: &[&str]) -> (Run, Value) {
    let mut args = vec!["check", url, "--origin", PAGE, "--format", "json"];
    args.extend_from_slice(extra);
    let run = corsair(&args);
    let json = run.json();
    (run, json)
}

fn assert_blocked(run: &Run, json: &Value, kind: &str) {
    assert_eq!(run.code, 1, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(json["allowed"], false);
    assert_eq!(json["failure"]["kind"], kind, "{json:#}");
    assert!(json["reason"].is_string());
    let steps = json["steps"].as_array().expect("steps");
    assert!(
        steps.iter().any(|s| s["ok"] == false && s["fix"].is_string()),
        "{json:#}"
    );
}

fn header_value<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers
        .as_array()?
        .iter()
        .find(|h| h["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|h| h["value"].as_str())
}

#[test]
fn simple_get_is_allowed_without_preflight() {
    let (srv, seen) = server(allowing);
    let (run, json) = check(&url_of(&srv), &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(json["allowed"], true);
    assert_eq!(json["preflight"], Value::Null);
    assert_eq!(json["reason"], Value::Null);
    assert_eq!(json["actual"]["status"], 200);
    assert_eq!(
        header_value(&json["actual"]["request"]["headers"], "origin"),
        Some(PAGE)
    );
    assert_eq!(methods(&seen), ["GET"]);
    let visible: Vec<&str> = json["exposed_headers"]["visible"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(visible.contains(&"x-request-id"), "{visible:?}");
    assert!(!visible.contains(&"x-internal"), "{visible:?}");
}

#[test]
fn put_with_custom_header_is_preflighted_and_allowed() {
    let (srv, seen) = server(allowing);
    let (run, json) = check(
        &url_of(&srv),
        &["--method", "put", "-H", "X-Token: abc", "--credentials", "--send"],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(json["allowed"], true);
    assert_eq!(json["not_sent"], Value::Null);
    let pf = &json["preflight"];
    assert_eq!(pf["status"], 204);
    assert_eq!(pf["request"]["method"], "OPTIONS");
    let sent = &pf["request"]["headers"];
    assert_eq!(header_value(sent, "access-control-request-method"), Some("PUT"));
    assert_eq!(header_value(sent, "access-control-request-headers"), Some("x-token"));
    assert_eq!(header_value(sent, "origin"), Some(PAGE));
    assert_eq!(
        header_value(&pf["headers"], "access-control-allow-methods"),
        Some("GET, PUT, DELETE")
    );
    assert_eq!(methods(&seen), ["OPTIONS", "PUT"]);
}

#[test]
fn rejected_preflight_stops_before_the_actual_request() {
    let (srv, seen) = server(|method, _| {
        if method == Method::OPTIONS {
            Reply {
                status: 403,
                headers: vec![],
            }
        } else {
            Reply::for_method(method, h(&[("access-control-allow-origin", "*")]))
        }
    });
    let (run, json) = check(&url_of(&srv), &["--method", "DELETE", "--send"]);
    assert_blocked(&run, &json, "missing-allow-origin");
    assert_eq!(json["preflight"]["status"], 403);
    assert_eq!(json["actual"], Value::Null);
    let sent = methods(&seen);
    assert_eq!(sent[0], "OPTIONS");
    assert!(
        !sent.contains(&"DELETE".to_owned()),
        "the DELETE must never be sent: {sent:?}"
    );
    // Finding the cause took safe requests only.
    assert!(sent.iter().all(|m| m == "OPTIONS" || m == "GET"), "{sent:?}");
    let probes = json["cause"]["probes"].as_array().expect("probes");
    assert_eq!(probes.len() + 1, sent.len(), "{json:#}");
    assert!(probes.iter().all(|p| p["kind"] == "probe"));
}

#[test]
fn preflight_with_bad_status_fails() {
    let (srv, seen) = server(|method, _| Reply {
        status: if method == Method::OPTIONS { 404 } else { 200 },
        headers: h(&[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", "PUT"),
        ]),
    });
    let (run, json) = check(&url_of(&srv), &["--method", "PUT"]);
    assert_blocked(&run, &json, "preflight-status");
    assert_eq!(methods(&seen), ["OPTIONS"]);
}

#[test]
fn missing_allow_methods_for_put() {
    let (srv, seen) = server(|method, _| {
        Reply::for_method(
            method,
            h(&[
                ("access-control-allow-origin", PAGE),
                ("access-control-allow-headers", "content-type"),
            ]),
        )
    });
    let (run, json) = check(&url_of(&srv), &["--method", "PUT", "--body-type", "application/json"]);
    assert_blocked(&run, &json, "method-not-allowed");
    assert!(
        json["failure"]["fix"]
            .as_str()
            .unwrap()
            .contains("add `PUT` to Access-Control-Allow-Methods"),
        "{json:#}"
    );
    assert_eq!(
        header_value(
            &json["preflight"]["request"]["headers"],
            "access-control-request-headers"
        ),
        Some("content-type")
    );
    assert_eq!(methods(&seen), ["OPTIONS"]);
}

#[test]
fn wrong_allow_origin_is_blocked() {
    let (srv, _) = server(|m, _| Reply::for_method(m, h(&[("access-control-allow-origin", "https://other.example")])));
    let (run, json) = check(&url_of(&srv), &[]);
    assert_blocked(&run, &json, "allow-origin-mismatch");
    let (srv, _) = server(|m, _| Reply::for_method(m, h(&[("access-control-allow-origin", "https://app.example/")])));
    let (run, json) = check(&url_of(&srv), &[]);
    assert_blocked(&run, &json, "allow-origin-mismatch");
    assert!(json["reason"].as_str().unwrap().contains("trailing `/`"), "{json:#}");
}

#[test]
fn no_cors_headers_at_all() {
    let (srv, seen) = server(|m, _| Reply::for_method(m, vec![]));
    let (run, json) = check(&url_of(&srv), &[]);
    assert_blocked(&run, &json, "missing-allow-origin");
    // A simple request is sent (the browser sends it too, then hides the response).
    assert_eq!(methods(&seen), ["GET"]);
}

#[test]
fn two_allow_origin_values_are_blocked() {
    let (srv, _) = server(|m, _| {
        Reply::for_method(
            m,
            h(&[
                ("access-control-allow-origin", PAGE),
                ("access-control-allow-origin", PAGE),
            ]),
        )
    });
    let (run, json) = check(&url_of(&srv), &[]);
    assert_blocked(&run, &json, "multiple-allow-origin");
    // both lines are in the report, one entry each
    let acao: Vec<&str> = json["actual"]["headers"]
        .as_array()
        .expect("a header list")
        .iter()
        .filter(|h| h["name"] == "access-control-allow-origin")
        .filter_map(|h| h["value"].as_str())
        .collect();
    assert_eq!(acao, [PAGE, PAGE], "{json:#}");
    assert!(json["reason"]
        .as_str()
        .unwrap()
        .contains("sent 2 Access-Control-Allow-Origin values"));
}

#[test]
fn wildcard_with_and_without_credentials() {
    let star = |m: &Method, _: &HeaderMap| {
        Reply::for_method(
            m,
            h(&[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-credentials", "true"),
            ]),
        )
    };
    let (srv, _) = server(star);
    let (run, json) = check(&url_of(&srv), &["--credentials"]);
    assert_blocked(&run, &json, "wildcard-origin-with-credentials");
    let (run, json) = check(&url_of(&srv), &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(json["allowed"], true);
}

#[test]
fn credentials_need_allow_credentials_true() {
    let (srv, _) = server(|m, _| Reply::for_method(m, h(&[("access-control-allow-origin", PAGE)])));
    let (run, json) = check(&url_of(&srv), &["--credentials"]);
    assert_blocked(&run, &json, "missing-allow-credentials");
    let (srv, _) = server(|m, _| {
        Reply::for_method(
            m,
            h(&[
                ("access-control-allow-origin", PAGE),
                ("access-control-allow-credentials", "TRUE"),
            ]),
        )
    });
    let (run, json) = check(&url_of(&srv), &["--credentials"]);
    assert_blocked(&run, &json, "invalid-allow-credentials");
}

#[test]
fn wildcard_headers_never_cover_authorization() {
    let (srv, seen) = server(|m, _| {
        Reply::for_method(
            m,
            h(&[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-methods", "*"),
                ("access-control-allow-headers", "*"),
            ]),
        )
    });
    let (run, json) = check(&url_of(&srv), &["-H", "Authorization: Bearer t"]);
    assert_blocked(&run, &json, "authorization-not-allowed");
    assert_eq!(methods(&seen), ["OPTIONS"]);
    let (run, json) = check(&url_of(&srv), &["-H", "X-Anything: 1", "--method", "PATCH"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(json["allowed"], true);
}

#[test]
fn redirected_preflight_fails() {
    let (srv, seen) = server(|m, _| {
        if m == Method::OPTIONS {
            Reply {
                status: 307,
                headers: h(&[
                    ("access-control-allow-origin", "*"),
                    ("location", "http://127.0.0.1:1/x"),
                ]),
            }
        } else {
            Reply::for_method(m, h(&[("access-control-allow-origin", "*")]))
        }
    });
    let (run, json) = check(&url_of(&srv), &["--method", "PUT"]);
    assert_blocked(&run, &json, "preflight-redirect");
    assert_eq!(methods(&seen), ["OPTIONS"]);
}

#[test]
fn cross_origin_redirect_taints_origin() {
    let (target, target_seen) = server(|m, _| Reply::for_method(m, h(&[("access-control-allow-origin", "*")])));
    let location = url_of(&target);
    let (first, _) = server(move |_, headers| Reply {
        status: 302,
        headers: vec![
            (
                "access-control-allow-origin",
                origin_of(headers).unwrap_or("").to_string(),
            ),
            ("location", location.clone()),
        ],
    });
    let (run, json) = check(&url_of(&first), &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(json["exchanges"].as_array().unwrap().len(), 2);
    let seen = target_seen.lock().unwrap().clone();
    assert_eq!(seen, [("GET".to_string(), Some("null".to_string()))]);
}

#[test]
fn text_output_has_trace_and_verdict() {
    let (srv, _) = server(|m, _| Reply::for_method(m, h(&[("access-control-allow-origin", "*")])));
    let run = corsair(&["check", &url_of(&srv), "--origin", PAGE, "--method", "PUT"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("-> sent: OPTIONS"), "{}", run.stdout);
    assert!(
        run.stdout.contains("Access-Control-Request-Method: PUT"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("BLOCKED:"), "{}", run.stdout);
    assert!(
        run.stdout.contains("fix: add `PUT` to Access-Control-Allow-Methods"),
        "{}",
        run.stdout
    );
    let run = corsair(&["check", &url_of(&srv), "--origin", PAGE]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("ALLOWED"), "{}", run.stdout);
}

#[test]
fn errors_exit_2() {
    // Unreachable.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/");
    let (run, json) = check(&url, &[]);
    assert_eq!(run.code, 2);
    assert_eq!(json["allowed"], Value::Null);
    assert_eq!(json["error"]["code"], "unreachable");
    // Bad arguments: a forbidden header, a bad origin, a forbidden method, a malformed --header.
    for extra in [
        &["-H", "Cookie: a=b"][..],
        &["-H", "no colon"][..],
        &["--method", "TRACE"][..],
        &["--method", "GET", "--body-type", "text"][..],
    ] {
        let (run, json) = check(&url, extra);
        assert_eq!(run.code, 2, "{extra:?}: {}", run.stdout);
        assert!(json["error"]["message"].is_string());
    }
    let run = corsair(&["check", &url, "--origin", "app.example"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("invalid origin"), "{}", run.stderr);
}

fn policy_file(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("corsair.toml");
    std::fs::write(
        &path,
        r#"
upstream = "builtin:echo"

[[policy]]
name = "api"
hosts = ["api.example"]
allow_origins = ["https://app.example"]
allow_methods = ["GET", "PUT"]
allow_headers = ["content-type"]
allow_credentials = true
max_age = 600
"#,
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn policy_mode_offline() {
    let dir = tempfile::tempdir().unwrap();
    let file = policy_file(&dir);
    let url = "https://api.example/items";
    let (run, json) = check(
        url,
        &[
            "--policy",
            &file,
            "--method",
            "PUT",
            "--body-type",
            "application/json",
            "--credentials",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(json["mode"], "policy");
    assert_eq!(json["preflight"]["status"], 204);

    let (run, json) = check(url, &["--policy", &file, "--method", "DELETE"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        json["policy_fix"]
            .as_str()
            .unwrap()
            .contains("add `DELETE` to allow_methods"),
        "{json:#}"
    );
    assert_eq!(json["actual"], Value::Null);

    let run = corsair(&[
        "check",
        url,
        "--origin",
        "https://evil.example",
        "--policy",
        &file,
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1);
    assert!(run.json()["policy_fix"].as_str().unwrap().contains("allow_origins"));

    // Not covered by any policy.
    let (run, json) = check("https://other.example/x", &["--policy", &file]);
    assert_eq!(run.code, 1);
    assert!(json["policy_fix"].as_str().unwrap().contains("[[policy]]"));

    // A missing or invalid file is an error.
    let (run, _) = check(url, &["--policy", "/nonexistent/corsair.toml"]);
    assert_eq!(run.code, 2);
}
