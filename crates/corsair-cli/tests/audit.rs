//! `corsair audit` against loopback servers that each carry one planted misconfiguration,
//! and against a correct one.

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

const TRUSTED: &str = "https://example.com";

/// ACAO (+ optional ACAC) for `origin`, always with `Vary: Origin`.
fn grant(origin: &str, creds: bool) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("access-control-allow-origin", origin.to_owned()),
        ("vary", "Origin".to_owned()),
    ];
    if creds {
        h.push(("access-control-allow-credentials", "true".to_owned()));
    }
    h
}

fn vary_only() -> Vec<(&'static str, String)> {
    vec![("vary", "Origin".to_owned())]
}

/// A server that grants the origins `trust` accepts (with credentials and `Vary: Origin`)
/// and answers preflights for them with a fixed, short list.
fn server_trusting(trust: impl Fn(&str) -> bool + Send + Sync + 'static) -> Upstream {
    server_trusting_with(true, trust)
}

fn server_trusting_with(creds: bool, trust: impl Fn(&str) -> bool + Send + Sync + 'static) -> Upstream {
    Upstream::with(move |method: &Method, headers: &HeaderMap| {
        let mut h = match origin_of(headers) {
            Some(o) if trust(o) => grant(o, creds),
            _ => vary_only(),
        };
        if method == Method::OPTIONS && h.len() > 1 {
            h.push(("access-control-allow-methods", "GET, POST".to_owned()));
            h.push(("access-control-allow-headers", "content-type".to_owned()));
        }
        Reply::for_method(method, h)
    })
}

fn audit_json(server: &Upstream, origins: &[&str]) -> (Run, Value) {
    let url = url_of(server);
    let mut args = vec!["audit", url.as_str(), "--format", "json"];
    for o in origins {
        args.push("--origin");
        args.push(o);
    }
    let run = corsair(&args);
    let json = run.json();
    (run, json)
}

fn findings(json: &Value) -> &Vec<Value> {
    json["findings"].as_array().expect("findings array")
}

fn find<'a>(json: &'a Value, id: &str) -> Option<&'a Value> {
    findings(json).iter().find(|f| f["id"] == id)
}

fn ids(json: &Value) -> Vec<String> {
    findings(json)
        .iter()
        .map(|f| f["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Assert `id` is reported with `severity`, not implied by another finding, with the
/// required fields filled in; returns it.
fn expect<'a>(json: &'a Value, id: &str, severity: &str) -> &'a Value {
    let f = find(json, id).unwrap_or_else(|| panic!("`{id}` not reported; got {:?}\n{json:#}", ids(json)));
    assert_eq!(f["severity"], severity, "severity of {id}: {f:#}");
    assert!(f["implied_by"].is_null(), "{id} should be a primary finding: {f:#}");
    let probe = f["probe_origin"].as_str().expect("probe_origin");
    assert!(!probe.is_empty());
    assert_eq!(header(&f["request"]["headers"], "origin"), Some(probe), "{f:#}");
    assert!(f["request"]["method"].is_string());
    assert_header_list(&f["request"]["headers"]);
    assert_header_list(&f["response_headers"]);
    assert!(
        f["explanation"]
            .as_str()
            .is_some_and(|e| e.len() > 80 && e.contains("Fix")),
        "{f:#}"
    );
    f
}

/// A JSON header list: an array of `{"name", "value"}` objects, nothing else.
fn assert_header_list(list: &Value) {
    let lines = list.as_array().unwrap_or_else(|| panic!("not a header list: {list:#}"));
    for line in lines {
        let fields = line
            .as_object()
            .unwrap_or_else(|| panic!("not a header line: {line:#}"));
        assert!(
            fields.len() == 2 && line["name"].is_string() && line["value"].is_string(),
            "not a header line: {line:#}"
        );
    }
}

/// The values of every `name` line of a JSON header list, in order.
fn header_values<'a>(list: &'a Value, name: &str) -> Vec<&'a str> {
    assert_header_list(list);
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|line| line["name"] == name)
        .filter_map(|line| line["value"].as_str())
        .collect()
}

/// The value of the one `name` line of a JSON header list (`None` when absent; panics
/// when the name is repeated).
fn header<'a>(list: &'a Value, name: &str) -> Option<&'a str> {
    let values = header_values(list, name);
    assert!(values.len() <= 1, "{name} is repeated: {list:#}");
    values.first().copied()
}

fn assert_absent(json: &Value, id: &str) {
    assert!(find(json, id).is_none(), "`{id}` should not be reported: {json:#}");
}

fn highs(json: &Value) -> Vec<String> {
    findings(json)
        .iter()
        .filter(|f| f["severity"] == "high")
        .map(|f| f["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn reflect_any_origin_with_credentials() {
    let server = server_trusting(|_| true);
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let f = expect(&json, "reflect-any-origin", "high");
    assert_eq!(f["probe_origin"], "https://corsair-probe.evil.example");
    assert_eq!(f["credentials"], true);
    assert_eq!(
        header(&f["response_headers"], "access-control-allow-origin"),
        Some("https://corsair-probe.evil.example")
    );
    assert_eq!(
        header(&f["response_headers"], "access-control-allow-credentials"),
        Some("true")
    );
    // a reflector also echoes `null`, which is its own finding
    expect(&json, "null-origin", "high");
    // the look-alikes still fire, but are marked as following from the reflection
    let prefix = find(&json, "prefix-match").expect("prefix-match");
    assert_eq!(prefix["implied_by"], "reflect-any-origin");
    assert_eq!(json["url"], url_of(&server));
    assert_eq!(json["summary"]["total"], findings(&json).len());
    assert_eq!(json["summary"]["failed_probes"], 0);
}

#[test]
fn null_origin_trusted() {
    let server = server_trusting(|o| o == TRUSTED || o == "null");
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 1);
    let f = expect(&json, "null-origin", "high");
    assert_eq!(f["probe_origin"], "null");
    assert_eq!(ids(&json), ["null-origin"]);
}

#[test]
fn prefix_match() {
    let server = server_trusting(|o| o.starts_with(TRUSTED));
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 1);
    let f = expect(&json, "prefix-match", "high");
    assert_eq!(f["probe_origin"], "https://example.com.evil.net");
    assert_absent(&json, "reflect-any-origin");
    assert_absent(&json, "suffix-match");
    // every special-character probe starts with the trusted origin too
    let special = find(&json, "special-chars").expect("special-chars");
    assert_eq!(special["implied_by"], "prefix-match");
}

#[test]
fn suffix_match() {
    let server = server_trusting(|o| o.ends_with("example.com"));
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 1);
    let f = expect(&json, "suffix-match", "high");
    assert_eq!(f["probe_origin"], "https://evilexample.com");
    assert_absent(&json, "reflect-any-origin");
    assert_absent(&json, "prefix-match");
    let sub = find(&json, "any-subdomain").expect("any-subdomain");
    assert_eq!(sub["implied_by"], "suffix-match");
}

/// `^https://www.example.com$` as a regular expression: every `.` matches any character.
fn unescaped_regex_match(pattern: &str, text: &str) -> bool {
    pattern.len() == text.len() && pattern.bytes().zip(text.bytes()).all(|(p, t)| p == b'.' || p == t)
}

#[test]
fn unescaped_dot() {
    let server = server_trusting(|o| unescaped_regex_match("https://www.example.com", o));
    let (run, json) = audit_json(&server, &["https://www.example.com"]);
    assert_eq!(run.code, 1);
    let f = expect(&json, "unescaped-dot", "high");
    assert_eq!(f["probe_origin"], "https://wwwxexample.com");
    assert_eq!(ids(&json), ["unescaped-dot"]);
}

#[test]
fn special_chars_lenient_parser() {
    // takes the host up to the first character that is not a letter, digit or dot
    let server = server_trusting(|o| {
        o.strip_prefix("https://")
            .map(|rest| rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.')).next())
            == Some(Some("example.com"))
    });
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 1);
    let f = expect(&json, "special-chars", "high");
    assert!(f["also_granted"].as_array().is_some_and(|a| !a.is_empty()));
    assert_absent(&json, "prefix-match");
    assert_absent(&json, "reflect-any-origin");
}

#[test]
fn insecure_scheme_with_credentials() {
    let server = server_trusting(|o| o == TRUSTED || o == "http://example.com");
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 1);
    let f = expect(&json, "insecure-scheme", "high");
    assert_eq!(f["probe_origin"], "http://example.com");
    assert_eq!(ids(&json), ["insecure-scheme"]);
}

#[test]
fn insecure_scheme_without_credentials_is_low() {
    let server = server_trusting_with(false, |o| o == TRUSTED || o == "http://example.com");
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 0);
    expect(&json, "insecure-scheme", "low");
    assert!(highs(&json).is_empty());
}

#[test]
fn any_subdomain_without_credentials_is_low() {
    let server = server_trusting_with(false, |o| {
        o == TRUSTED || o.strip_prefix("https://").is_some_and(|h| h.ends_with(".example.com"))
    });
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 0, "{json:#}");
    expect(&json, "any-subdomain", "low");
}

#[test]
fn any_subdomain() {
    let server =
        server_trusting(|o| o == TRUSTED || o.strip_prefix("https://").is_some_and(|h| h.ends_with(".example.com")));
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 1, "any-subdomain with credentials is high: {json:#}");
    let f = expect(&json, "any-subdomain", "high");
    assert_eq!(f["probe_origin"], "https://corsair-probe.example.com");
    assert_eq!(ids(&json), ["any-subdomain"]);
}

#[test]
fn third_party_host() {
    let server =
        server_trusting(|o| o == TRUSTED || o.strip_prefix("https://").is_some_and(|h| h.ends_with(".github.io")));
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 1);
    let f = expect(&json, "third-party-host", "high");
    assert_eq!(f["probe_origin"], "https://corsair-probe.github.io");
    assert_eq!(ids(&json), ["third-party-host"]);
}

#[test]
fn wildcard_with_credentials() {
    let server = Upstream::with(|method: &Method, _: &HeaderMap| {
        Reply::for_method(
            method,
            vec![
                ("access-control-allow-origin", "*".to_owned()),
                ("access-control-allow-credentials", "true".to_owned()),
            ],
        )
    });
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 0);
    let f = expect(&json, "wildcard-with-credentials", "medium");
    assert_eq!(header(&f["response_headers"], "access-control-allow-origin"), Some("*"));
    assert_eq!(ids(&json), ["wildcard-with-credentials"]);
}

#[test]
fn missing_vary_on_an_allow_list() {
    let server = Upstream::with(|method: &Method, headers: &HeaderMap| {
        let h = match origin_of(headers) {
            Some(o) if o == TRUSTED => vec![("access-control-allow-origin", o.to_owned())],
            _ => vec![],
        };
        Reply::for_method(method, h)
    });
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 0);
    let f = expect(&json, "missing-vary", "low");
    assert_eq!(f["probe_origin"], TRUSTED);
    assert!(header_values(&f["response_headers"], "vary").is_empty(), "{f:#}");
    assert_eq!(ids(&json), ["missing-vary"]);
}

#[test]
fn missing_vary_shows_every_vary_line() {
    // an allow-list whose responses vary on other headers, each in a line of its own
    let server = Upstream::with(|method: &Method, headers: &HeaderMap| {
        let mut h = vec![("vary", "Accept-Encoding".to_owned()), ("vary", "Cookie".to_owned())];
        if let Some(o) = origin_of(headers).filter(|o| *o == TRUSTED) {
            h.insert(0, ("access-control-allow-origin", o.to_owned()));
        }
        Reply::for_method(method, h)
    });
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 0);
    let f = expect(&json, "missing-vary", "low");
    assert_eq!(
        f["response_headers"],
        serde_json::json!([
            { "name": "access-control-allow-origin", "value": TRUSTED },
            { "name": "vary", "value": "Accept-Encoding" },
            { "name": "vary", "value": "Cookie" },
        ])
    );
    let explanation = f["explanation"].as_str().unwrap_or_default();
    assert!(
        explanation.contains("has `Vary: Accept-Encoding, Cookie` but not `Origin`"),
        "{explanation}"
    );
    assert_eq!(ids(&json), ["missing-vary"]);
}

#[test]
fn missing_vary_on_a_reflector() {
    let server = Upstream::with(|method: &Method, headers: &HeaderMap| {
        let h = origin_of(headers)
            .map(|o| vec![("access-control-allow-origin", o.to_owned())])
            .unwrap_or_default();
        Reply::for_method(method, h)
    });
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 1);
    let reflect = expect(&json, "reflect-any-origin", "high");
    assert_eq!(reflect["credentials"], false);
    let vary = expect(&json, "missing-vary", "medium");
    assert_ne!(vary["probe_origin"], TRUSTED, "the untrusted echo is the one to show");
}

#[test]
fn preflight_reflects_anything() {
    let server = Upstream::with(|method: &Method, headers: &HeaderMap| {
        let origin = origin_of(headers).unwrap_or_default().to_owned();
        let h = if method == Method::OPTIONS {
            let mut h = grant(&origin, true);
            for (req, resp) in [
                ("access-control-request-method", "access-control-allow-methods"),
                ("access-control-request-headers", "access-control-allow-headers"),
            ] {
                if let Some(v) = headers.get(req).and_then(|v| v.to_str().ok()) {
                    h.push((resp, v.to_owned()));
                }
            }
            h
        } else if origin == TRUSTED {
            grant(&origin, true)
        } else {
            vary_only()
        };
        Reply::for_method(method, h)
    });
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 1);
    let f = expect(&json, "preflight-reflects-anything", "high");
    assert_eq!(f["request"]["method"], "OPTIONS");
    let sent = &f["request"]["headers"];
    assert_eq!(header(sent, "access-control-request-method"), Some("CORSAIRPROBE"));
    assert_eq!(
        header(sent, "access-control-request-headers"),
        Some("x-corsair-probe,authorization")
    );
    assert_eq!(
        header(&f["response_headers"], "access-control-allow-methods"),
        Some("CORSAIRPROBE")
    );
    // The trusted origin's preflight is approved too: implied by the broader finding.
    assert_eq!(ids(&json), ["preflight-reflects-anything", "permissive-preflight"]);
    let permissive = find(&json, "permissive-preflight").unwrap();
    assert_eq!(permissive["implied_by"], "preflight-reflects-anything");
    // It says what was approved: the method and both headers.
    let e = f["explanation"].as_str().unwrap();
    assert!(e.contains("approves the made-up method `CORSAIRPROBE`"), "{e}");
    assert!(
        e.contains("the requested headers `x-corsair-probe`, `authorization`"),
        "{e}"
    );
    assert!(f["fix"].as_str().unwrap().contains("fixed list"), "{f:#}");
}

/// An exact allow-list with credentials and `Vary: Origin`, and fixed preflight answers.
fn correct_server(allowed: &'static [&'static str]) -> Upstream {
    server_trusting(move |o| allowed.contains(&o))
}

#[test]
fn correct_server_has_no_findings() {
    let server = correct_server(&[TRUSTED, "https://app.example.com"]);
    let (run, json) = audit_json(&server, &[TRUSTED, "https://app.example.com"]);
    assert_eq!(run.code, 0, "{json:#}");
    assert!(findings(&json).is_empty(), "{json:#}");
    assert_eq!(json["summary"]["high"], 0);
    assert_eq!(json["summary"]["total"], 0);
    assert!(json["summary"]["probes"].as_u64().is_some_and(|n| n > 20));
    assert_eq!(json["notes"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        json["trusted_origins"],
        serde_json::json!([TRUSTED, "https://app.example.com"])
    );
}

#[test]
fn correct_server_text_report_says_no_findings() {
    let server = correct_server(&[TRUSTED]);
    let url = url_of(&server);
    let run = corsair(&["audit", &url, "--origin", TRUSTED]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("no findings"), "{}", run.stdout);
}

#[test]
fn default_trusted_origin_is_the_targets_own() {
    // trusts exactly its own origin, whatever port it got
    let server = Upstream::with(|method: &Method, headers: &HeaderMap| {
        let own = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .map(|h| format!("http://{h}"))
            .unwrap_or_default();
        let h = match origin_of(headers) {
            Some(o) if o == own => grant(o, true),
            _ => vary_only(),
        };
        Reply::for_method(method, h)
    });
    let (run, json) = audit_json(&server, &[]);
    assert_eq!(run.code, 0, "{json:#}");
    let own = format!("http://{}", server.addr);
    assert_eq!(json["target_origin"], own);
    assert_eq!(json["trusted_origins"], serde_json::json!([own]));
    assert!(findings(&json).is_empty(), "{json:#}");
}

#[test]
fn untrusted_baseline_is_noted() {
    let server = correct_server(&["https://other.example.com"]);
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 0);
    assert!(findings(&json).is_empty());
    let notes = json["notes"].as_array().expect("notes");
    assert!(
        notes.iter().any(|n| n.as_str().is_some_and(|n| n.contains(TRUSTED))),
        "{json:#}"
    );
}

#[test]
fn text_report_for_a_reflector() {
    let server = server_trusting(|_| true);
    let url = url_of(&server);
    let run = corsair(&["audit", &url, "--origin", TRUSTED, "--format", "text"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let out = &run.stdout;
    assert!(out.contains("[HIGH] reflect-any-origin"), "{out}");
    assert!(
        out.contains("probe origin: https://corsair-probe.evil.example"),
        "{out}"
    );
    assert!(out.contains("access-control-allow-credentials: true"), "{out}");
    assert!(out.contains("implied by reflect-any-origin"), "{out}");
    assert!(out.contains("summary: "), "{out}");
    assert!(out.contains(" high, "), "{out}");
}

#[test]
fn unreachable_target_exits_2() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/");
    let run = corsair(&["audit", &url]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    let run = corsair(&["audit", &url, "--format", "json"]);
    assert_eq!(run.code, 2);
    assert!(run.json()["error"].is_string());
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        vec!["audit", "not a url"],
        vec!["audit", "ftp://example.com/"],
        vec!["audit", "/relative"],
        vec!["audit", "http://127.0.0.1:9/", "--origin", "example.com"],
        vec!["audit", "http://127.0.0.1:9/", "--origin", "https://example.com/path"],
        vec!["audit", "http://127.0.0.1:9/", "--origin", "null"],
    ] {
        let run = corsair(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("error"), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn weird_responses_do_not_crash() {
    // non-UTF-8 bytes, several ACAO lines, odd statuses
    let server = Upstream::with(|_: &Method, headers: &HeaderMap| {
        let o = origin_of(headers).unwrap_or_default().to_owned();
        Reply {
            status: 599,
            headers: vec![
                ("access-control-allow-origin", o.clone()),
                ("access-control-allow-origin", o),
                ("access-control-allow-credentials", "TRUE".to_owned()),
                ("vary", "accept-encoding".to_owned()),
            ],
        }
    });
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 0, "{json:#}");
    // Two ACAO lines grant no origin (a browser refuses them): the lines are the finding.
    assert_eq!(ids(&json), ["multiple-allow-origin"], "{json:#}");
    expect(&json, "multiple-allow-origin", "low");
}

#[test]
fn redirect_is_noted_not_followed() {
    let server = Upstream::with(|_: &Method, _: &HeaderMap| Reply {
        status: 301,
        headers: vec![("location", "https://example.com/api".to_owned())],
    });
    let (run, json) = audit_json(&server, &[TRUSTED]);
    assert_eq!(run.code, 0);
    assert!(findings(&json).is_empty());
    let notes = json["notes"].as_array().expect("notes");
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .is_some_and(|n| n.contains("301") && n.contains("https://example.com/api"))),
        "{json:#}"
    );
}
