//! `corsair check --har FILE`: the cross-origin requests of a DevTools export, decided
//! offline from what was recorded (shaped as Chrome's `Log.ts` writes it).

use corsair_testkit::cli::{self, Run};
use serde_json::{json, Value};

fn corsair(args: &[&str]) -> Run {
    cli::run(env!("CARGO_BIN_EXE_corsair"), args)
}

const PAGE: &str = "https://app.example.com";

fn headers(pairs: &[(&str, &str)]) -> Value {
    Value::Array(pairs.iter().map(|(n, v)| json!({ "name": n, "value": v })).collect())
}

fn entry(method: &str, url: &str, req: &[(&str, &str)], status: i64, resp: &[(&str, &str)], extra: Value) -> Value {
    let mut e = json!({
        "pageref": "page_1",
        "startedDateTime": "2026-01-01T00:00:00.000Z",
        "time": 1,
        "request": { "method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": headers(req),
                     "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0 },
        "response": { "status": status, "statusText": "", "httpVersion": "HTTP/1.1", "headers": headers(resp),
                      "cookies": [], "content": { "size": 0, "mimeType": "" }, "redirectURL": "",
                      "headersSize": -1, "bodySize": 0 },
        "cache": {}, "timings": { "send": 0, "wait": 0, "receive": 0 }
    });
    if let (Some(obj), Some(more)) = (e.as_object_mut(), extra.as_object()) {
        for (k, v) in more {
            if k == "_error" {
                e_response_error(obj, v);
            } else {
                obj.insert(k.clone(), v.clone());
            }
        }
    }
    e
}

fn e_response_error(obj: &mut serde_json::Map<String, Value>, v: &Value) {
    if let Some(r) = obj.get_mut("response").and_then(Value::as_object_mut) {
        r.insert("_error".to_owned(), v.clone());
    }
}

fn har(entries: Vec<Value>) -> Value {
    json!({ "log": { "version": "1.2", "creator": { "name": "WebInspector", "version": "537.36" },
        "pages": [{ "id": "page_1", "title": format!("{PAGE}/dashboard"), "startedDateTime": "2026-01-01T00:00:00.000Z", "pageTimings": {} }],
        "entries": entries } })
}

fn run_har(value: &Value) -> (Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.har");
    std::fs::write(&path, value.to_string()).unwrap();
    let run = corsair(&["check", "--har", path.to_str().unwrap(), "--format", "json"]);
    let json = run.json();
    (run, json)
}

#[test]
fn every_cross_origin_request_is_decided() {
    let api = "https://api.example.com";
    let entries = vec![
        // 0: the page itself (same origin): not a CORS request.
        entry("GET", &format!("{PAGE}/dashboard"), &[], 200, &[], json!({})),
        // 1: a GET allowed.
        entry(
            "GET",
            &format!("{api}/me"),
            &[("Origin", PAGE), ("User-Agent", "Chrome"), ("Priority", "u=1, i")],
            200,
            &[("access-control-allow-origin", PAGE)],
            json!({ "_resourceType": "fetch" }),
        ),
        // 2: a preflight refused without CORS headers, 3: its PATCH, never sent.
        entry(
            "OPTIONS",
            &format!("{api}/items/7"),
            &[
                ("Origin", PAGE),
                ("Access-Control-Request-Method", "PATCH"),
                ("Access-Control-Request-Headers", "content-type,x-token"),
            ],
            403,
            &[("vary", "Origin")],
            json!({ "_resourceType": "preflight" }),
        ),
        entry(
            "PATCH",
            &format!("{api}/items/7"),
            &[("Origin", PAGE), ("Content-Type", "application/json"), ("X-Token", "t")],
            0,
            &[],
            json!({ "_resourceType": "fetch", "_error": "net::ERR_FAILED" }),
        ),
        // 4: an actual response for another origin.
        entry(
            "GET",
            &format!("{api}/other"),
            &[("Origin", PAGE)],
            200,
            &[("access-control-allow-origin", "https://admin.example.com")],
            json!({ "_error": "net::ERR_FAILED" }),
        ),
        // 5: `*` on a request the browser failed: it was credentialed.
        entry(
            "GET",
            &format!("{api}/session"),
            &[("Origin", PAGE)],
            200,
            &[("access-control-allow-origin", "*")],
            json!({ "_error": "net::ERR_FAILED" }),
        ),
        // 6: no Origin header recorded: the page's origin.
        entry(
            "GET",
            "https://cdn.example.net/lib.js",
            &[],
            200,
            &[("access-control-allow-origin", "*")],
            json!({ "_resourceType": "script" }),
        ),
        // 7: data: URLs are not requests.
        entry("GET", "data:image/png;base64,AAAA", &[], 200, &[], json!({})),
    ];
    let (run, json) = run_har(&har(entries));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let requests = json["requests"].as_array().unwrap();
    let verdicts: Vec<(u64, &str)> = requests
        .iter()
        .map(|r| (r["entry"].as_u64().unwrap(), r["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [
            (1, "allowed"),
            (3, "blocked"),
            (4, "blocked"),
            (5, "blocked"),
            (6, "allowed")
        ]
    );
    let patch = &requests[1];
    assert_eq!(patch["preflight"], json!({ "entry": 2, "status": 403 }));
    assert_eq!(patch["chromium_error"], "preflight_missing_allow_origin_header");
    assert!(
        patch["notes"][0].as_str().unwrap().contains(
            "corsair check 'https://api.example.com/items/7' --origin 'https://app.example.com' --method PATCH -H 'content-type: …' -H 'x-token: …'"
        ),
        "{patch:#}"
    );
    assert_eq!(requests[2]["chromium_error"], "allow_origin_mismatch");
    assert_eq!(requests[3]["credentials"], "include");
    assert_eq!(requests[3]["chromium_error"], "wildcard_origin_not_allowed");
    assert!(requests[3]["notes"][0]
        .as_str()
        .unwrap()
        .contains("probably sent with credentials"));
    assert_eq!(requests[4]["origin"], PAGE);
    assert_eq!(json["summary"], json!({ "allowed": 2, "blocked": 3, "undecided": 0 }));
    assert_eq!(json["entries"], 8);
}

#[test]
fn a_har_without_problems_exits_0_and_garbage_exits_2() {
    let ok = har(vec![entry(
        "GET",
        "https://api.example.com/me",
        &[("Origin", PAGE), ("Cookie", "s=1")],
        200,
        &[
            ("access-control-allow-origin", PAGE),
            ("access-control-allow-credentials", "true"),
        ],
        json!({}),
    )]);
    let (run, json) = run_har(&ok);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(json["requests"][0]["credentials"], "include");
    let (run, json) = run_har(&json!({ "not": "a har" }));
    assert_eq!(run.code, 2);
    assert!(json["error"].as_str().unwrap().contains("is not a HAR file"));
    let run = corsair(&["check", "--har", "/nonexistent.har"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot read"), "{}", run.stderr);
    // --har excludes a URL.
    let run = corsair(&["check", "https://api.example.com", "--har", "/x.har"]);
    assert_eq!(run.code, 2);
}

#[test]
fn a_needed_preflight_missing_from_the_har() {
    let entries = vec![entry(
        "PUT",
        "https://api.example.com/items",
        &[("Origin", PAGE)],
        0,
        &[],
        json!({ "_error": "net::ERR_FAILED" }),
    )];
    let (run, json) = run_har(&har(entries));
    assert_eq!(run.code, 0);
    assert_eq!(json["requests"][0]["verdict"], "undecided");
    assert!(json["requests"][0]["notes"][0]
        .as_str()
        .unwrap()
        .contains("neither it nor a response is in the HAR"));
    let text = {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.har");
        std::fs::write(&path, har(vec![]).to_string()).unwrap();
        corsair(&["check", "--har", path.to_str().unwrap()]).stdout
    };
    assert!(text.contains("no cross-origin request in this HAR"), "{text}");
}
