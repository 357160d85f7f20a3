//! `corsair audit`: the classes that look beyond which origins are granted (preflights
//! that approve anything, answers a browser refuses for everyone, a carriage return
//! reflected into a header, errors without CORS headers, a preflight that disagrees with
//! the actual response, leftover Private Network Access headers, another port, local
//! origins), each against a loopback server with that one problem; and a clean run.

use corsair_testkit::cli::{self, Run};
use corsair_testkit::gateway::TestGateway;
use corsair_testkit::raw::{header_of, read_request_head, target_of, RawServer};
use corsair_testkit::upstream::{origin_of, Reply, Upstream};
use http::{HeaderMap, Method};
use serde_json::Value;
use tokio::io::{AsyncWriteExt, BufReader};

const TRUSTED: &str = "https://example.com";

fn corsair(args: &[&str]) -> Run {
    cli::run(env!("CARGO_BIN_EXE_corsair"), args)
}

fn audit(url: &str) -> (Run, Value) {
    let run = corsair(&["audit", url, "--origin", TRUSTED, "--format", "json"]);
    let json = run.json();
    (run, json)
}

fn ids(json: &Value) -> Vec<&str> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect()
}

fn find<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["findings"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["id"] == id))
        .unwrap_or_else(|| panic!("`{id}` not reported: {:?}\n{json:#}", ids(json)))
}

/// `(id, severity)` of the finding, which must have a fix of its own.
fn reported(json: &Value, id: &str) -> (String, String) {
    let f = find(json, id);
    assert!(f["fix"].as_str().is_some_and(|s| s.len() > 20), "{f:#}");
    assert!(f["explanation"]
        .as_str()
        .unwrap()
        .ends_with(&format!("Fix: {}", f["fix"].as_str().unwrap())));
    (id.to_owned(), f["severity"].as_str().unwrap().to_owned())
}

fn h(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(n, v)| (*n, (*v).to_owned())).collect()
}

/// Grants the trusted origin (with credentials), preflights with a fixed list, unless
/// `tweak` changes the answer.
fn server(tweak: impl Fn(&Method, &HeaderMap, &mut Reply) + Send + Sync + 'static) -> Upstream {
    Upstream::with(move |method: &Method, headers: &HeaderMap| {
        let mut reply = Reply::for_method(method, h(&[("vary", "Origin")]));
        if origin_of(headers) == Some(TRUSTED) {
            reply.headers.extend(h(&[
                ("access-control-allow-origin", TRUSTED),
                ("access-control-allow-credentials", "true"),
            ]));
            if method == Method::OPTIONS {
                reply.headers.extend(h(&[
                    ("access-control-allow-methods", "GET, POST"),
                    ("access-control-allow-headers", "content-type"),
                ]));
            }
        }
        tweak(method, headers, &mut reply);
        reply
    })
}

fn url(up: &Upstream) -> String {
    format!("{}/api/data", up.url())
}

#[test]
fn a_trusted_origins_preflight_that_gets_anything() {
    let up = server(|method, headers, reply| {
        if method == Method::OPTIONS && origin_of(headers) == Some(TRUSTED) {
            reply.headers.retain(|(n, _)| {
                !n.starts_with("access-control-allow-methods") && !n.starts_with("access-control-allow-headers")
            });
            for (req, resp) in [
                ("access-control-request-method", "access-control-allow-methods"),
                ("access-control-request-headers", "access-control-allow-headers"),
            ] {
                if let Some(v) = headers.get(req).and_then(|v| v.to_str().ok()) {
                    reply.headers.push((resp, v.to_owned()));
                }
            }
        }
    });
    let (run, json) = audit(&url(&up));
    assert_eq!(run.code, 0, "{json:#}");
    assert_eq!(ids(&json), ["permissive-preflight"]);
    assert_eq!(
        reported(&json, "permissive-preflight").1,
        "medium",
        "credentials come along"
    );
}

/// httpbin's answer: the origin and the headers echoed, a fixed list of methods. The
/// explanation says the headers were approved, and that the method was not.
#[test]
fn an_echo_of_the_headers_is_not_described_as_approving_the_method() {
    let up = Upstream::with(|method: &Method, headers: &HeaderMap| {
        let origin = origin_of(headers).unwrap_or("*").to_owned();
        let mut h = vec![
            ("access-control-allow-origin", origin),
            ("access-control-allow-credentials", "true".to_owned()),
        ];
        if method == Method::OPTIONS {
            h.push((
                "access-control-allow-methods",
                "GET, POST, PUT, DELETE, PATCH, OPTIONS".to_owned(),
            ));
            if let Some(v) = headers
                .get("access-control-request-headers")
                .and_then(|v| v.to_str().ok())
            {
                h.push(("access-control-allow-headers", v.to_owned()));
            }
            h.push(("access-control-max-age", "3600".to_owned()));
        }
        Reply::for_method(method, h)
    });
    let (run, json) = audit(&url(&up));
    assert_eq!(run.code, 1);
    let f = find(&json, "preflight-reflects-anything");
    assert_eq!(f["severity"], "high");
    let e = f["explanation"].as_str().unwrap();
    assert!(!e.contains("approves the made-up method"), "{e}");
    assert!(
        e.contains("approves the requested headers `x-corsair-probe`, `authorization`"),
        "{e}"
    );
    assert!(
        e.contains(
            "it did not approve the method: Access-Control-Allow-Methods lists only `GET, POST, PUT, DELETE, PATCH, OPTIONS`"
        ),
        "{e}"
    );
    assert!(e.contains("The server echoes the headers it is asked for"), "{e}");
}

#[test]
fn allow_origin_values_every_browser_refuses() {
    let up = server(|_, _, reply| {
        reply.headers.retain(|(n, _)| *n != "access-control-allow-origin");
        reply
            .headers
            .push(("access-control-allow-origin", "https://example.com/".to_owned()));
    });
    let (_, json) = audit(&url(&up));
    assert_eq!(
        reported(&json, "invalid-allow-origin"),
        ("invalid-allow-origin".into(), "low".into())
    );
    assert!(find(&json, "invalid-allow-origin")["explanation"]
        .as_str()
        .unwrap()
        .contains("`Access-Control-Allow-Origin: https://example.com/`"));
    let up = server(|_, _, reply| {
        reply.headers.retain(|(n, _)| *n != "access-control-allow-origin");
        reply.headers.push((
            "access-control-allow-origin",
            "https://example.com, https://app.example.com".to_owned(),
        ));
    });
    let (_, json) = audit(&url(&up));
    assert_eq!(ids(&json), ["multiple-allow-origin"]);
    // A reflector echoes the look-alike `https://example.com,.evil.net` (a special-chars
    // probe): that echo is the origin classes' business, not a list of origins.
    let up = Upstream::with(|method: &Method, headers: &HeaderMap| {
        let o = origin_of(headers).unwrap_or("").to_owned();
        Reply::for_method(
            method,
            vec![("access-control-allow-origin", o), ("vary", "Origin".to_owned())],
        )
    });
    let (_, json) = audit(&url(&up));
    assert!(!ids(&json).contains(&"multiple-allow-origin"), "{:?}", ids(&json));
    assert!(!ids(&json).contains(&"invalid-allow-origin"), "{:?}", ids(&json));
}

#[test]
fn a_preflight_that_disagrees_with_the_actual_response() {
    // No OPTIONS route: the actual GET is granted, the preflight is a 404.
    let up = server(|method, _, reply| {
        if method == Method::OPTIONS {
            *reply = Reply {
                status: 404,
                headers: vec![],
            };
        }
    });
    let (run, json) = audit(&url(&up));
    assert_eq!(run.code, 0);
    assert_eq!(ids(&json), ["preflight-disagrees"]);
    let e = find(&json, "preflight-disagrees")["explanation"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(e.contains("every request that needs a preflight"), "{e}");
    // Credentials on one and not the other.
    let up = server(|method, _, reply| {
        if method == Method::OPTIONS {
            reply.headers.retain(|(n, _)| *n != "access-control-allow-credentials");
        }
    });
    let (_, json) = audit(&url(&up));
    assert_eq!(ids(&json), ["preflight-disagrees"]);
    assert!(find(&json, "preflight-disagrees")["explanation"]
        .as_str()
        .unwrap()
        .contains("credentialed requests fail"));
}

#[test]
fn leftover_private_network_access_headers() {
    let up = server(|method, headers, reply| {
        if method == Method::OPTIONS && headers.contains_key("access-control-request-private-network") {
            reply
                .headers
                .push(("access-control-allow-private-network", "true".to_owned()));
        }
    });
    let (_, json) = audit(&url(&up));
    assert_eq!(ids(&json), ["private-network-header"]);
    assert_eq!(reported(&json, "private-network-header").1, "low");
    assert!(find(&json, "private-network-header")["explanation"]
        .as_str()
        .unwrap()
        .contains("Local Network Access"));
}

#[test]
fn another_port_and_local_origins() {
    // Compares scheme and host only.
    let up = Upstream::with(|method: &Method, headers: &HeaderMap| {
        let o = origin_of(headers).unwrap_or("").to_owned();
        let trusted = o == TRUSTED || o.starts_with("https://example.com:") || o == "http://localhost:3000";
        let h = if trusted {
            vec![("access-control-allow-origin", o), ("vary", "Origin".to_owned())]
        } else {
            vec![("vary", "Origin".to_owned())]
        };
        Reply::for_method(method, h)
    });
    let (run, json) = audit(&url(&up));
    assert_eq!(run.code, 0, "{json:#}");
    assert_eq!(reported(&json, "port-bypass"), ("port-bypass".into(), "low".into()));
    assert_eq!(find(&json, "port-bypass")["probe_origin"], "https://example.com:8443");
    assert_eq!(reported(&json, "local-origin"), ("local-origin".into(), "low".into()));
    assert_eq!(find(&json, "local-origin")["probe_origin"], "http://localhost:3000");
}

/// A raw HTTP/1.1 server: each connection, one request, `answer(target, raw Origin line)`.
async fn raw_server(answer: fn(&str, Option<String>) -> Vec<u8>) -> RawServer {
    RawServer::start(move |stream, _| async move {
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::new(r);
        if let Some(head) = read_request_head(&mut r).await {
            let _ = w
                .write_all(&answer(&target_of(&head), header_of(&head, "origin")))
                .await;
        }
    })
    .await
}

fn response(status: &str, lines: &[String]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for l in lines {
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
    out.into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_carriage_return_reflected_into_a_header() {
    // Echoes the Origin line as it came, carriage return included.
    let srv = raw_server(|_, origin| {
        let mut lines = vec!["Vary: Origin".to_owned()];
        if let Some(o) = origin {
            lines.push(format!("Access-Control-Allow-Origin: {o}"));
        }
        response("200 OK", &lines)
    })
    .await;
    let url = format!("{}/api/data", srv.url());
    let json = tokio::task::spawn_blocking(move || audit(&url).1).await.unwrap();
    let f = find(&json, "crlf-in-origin");
    assert_eq!(f["severity"], "medium");
    let acao = f["response_headers"][0]["value"].as_str().unwrap();
    assert_eq!(
        acao, "https://corsair-probe.evil.example\rX-Corsair-Injected: 1",
        "{f:#}"
    );
    assert_eq!(
        f["request"]["headers"][0]["value"],
        "https://corsair-probe.evil.example\rX-Corsair-Injected: 1"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_without_cors_headers() {
    let srv = raw_server(|target, origin| {
        let trusted = origin.as_deref() == Some(TRUSTED);
        if target.ends_with("corsair-probe-not-found") {
            return response("404 Not Found", &[]);
        }
        let mut lines = vec!["Vary: Origin".to_owned()];
        if trusted {
            lines.push(format!("Access-Control-Allow-Origin: {TRUSTED}"));
        }
        response("200 OK", &lines)
    })
    .await;
    let url = format!("{}/api/data", srv.url());
    let json = tokio::task::spawn_blocking(move || audit(&url).1).await.unwrap();
    assert_eq!(ids(&json), ["error-without-cors"], "{json:#}");
    let f = find(&json, "error-without-cors");
    assert_eq!(f["response_status"], 404);
    assert!(f["explanation"]
        .as_str()
        .unwrap()
        .contains("got 404 without Access-Control-Allow-Origin"));
}

#[test]
fn a_clean_run_lists_what_was_checked() {
    let up = server(|_, _, _| {});
    let (run, json) = audit(&url(&up));
    assert_eq!(run.code, 0);
    assert!(ids(&json).is_empty(), "{json:#}");
    let probed: Vec<&str> = json["probed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    for id in [
        "reflect-any-origin",
        "port-bypass",
        "local-origin",
        "permissive-preflight",
        "crlf-in-origin",
        "private-network-header",
        "invalid-allow-origin",
        "multiple-allow-origin",
        "error-without-cors",
        "preflight-disagrees",
    ] {
        assert!(probed.contains(&id), "{id} not listed: {probed:?}");
    }
    let text = corsair(&["audit", &url(&up), "--origin", TRUSTED]).stdout;
    assert!(
        text.contains("summary: no findings. Checked (GET and OPTIONS requests only):"),
        "{text}"
    );
    assert!(text.contains("crlf-in-origin"), "{text}");
    assert!(text.contains("local-origin"), "{text}");
}

/// corsair's own gateway, audited: nothing to report.
#[test]
fn a_corsair_gateway_has_no_findings() {
    let gw = TestGateway::start(
        r#"
listen = "127.0.0.1:0"
upstream = "builtin:echo"

[[policy]]
name = "api"
allow_origins = ["https://example.com"]
allow_methods = ["GET", "PUT"]
allow_headers = ["content-type"]
allow_credentials = true
"#,
    );
    let (run, json) = audit(&gw.url("/api/data"));
    assert_eq!(run.code, 0, "{json:#}");
    assert!(ids(&json).is_empty(), "{json:#}");
    assert_eq!(json["summary"]["failed_probes"], 0, "{json:#}");
}
