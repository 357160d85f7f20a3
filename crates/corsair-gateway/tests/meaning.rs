//! The gateway decides on what a request means, never on raw bytes the
//! upstream may read differently (issue 14), in-process over loopback:
//! - the policy applied is the policy of the resource the upstream serves,
//!   whatever encoding, dot segments or slashes the client used;
//! - requests with no single meaning are refused (400) before any policy
//!   or upstream sees them, with a reason that is logged and counted;
//! - Host by RFC 9112 and RFC 9113; `Forwarded` replaced;
//! - no client ever receives bytes the upstream sent for another request,
//!   even when the upstream sends a body after HEAD, 204 or 304, late;
//! - a stalled upstream body is cut off after `upstream_read_timeout`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corsair_testkit::bounded;
use corsair_testkit::gateway::TestGateway;
use corsair_testkit::raw::{exchange, read_request_head, read_response, request, RawServer, Resp};
use corsair_testkit::upstream::Upstream;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const APP: &str = "https://app.example.com";
const PARTNER: &str = "https://partner.example";
const EVIL: &str = "https://evil.example";

/// A strict credentialed `/api`, a `/private` without credentials, a
/// `/partner` for another origin, and a public `*` catch-all.
fn layered(upstream: &str, extra: &str) -> String {
    format!(
        r#"
listen = "127.0.0.1:0"
upstream = "{upstream}"
{extra}
[admin]
listen = "127.0.0.1:0"

[[policy]]
name = "api"
path_prefix = "/api"
allow_origins = ["{APP}"]
allow_methods = ["GET", "PUT"]
allow_credentials = true

[[policy]]
name = "private"
path_prefix = "/private"
allow_origins = ["{APP}"]

[[policy]]
name = "partner"
path_prefix = "/partner"
allow_origins = ["{PARTNER}"]
allow_credentials = true

[[policy]]
name = "public"
allow_origins = ["*"]
allow_methods = ["GET", "DELETE"]
"#
    )
}

/// What each policy of [`layered`] answers an actual GET from `origin`
/// with: (Access-Control-Allow-Origin, credentials). Written from the
/// config above, for the path the upstream served.
fn expected_for_served_path(path: &str, origin: &str) -> (Option<String>, bool) {
    let under = |p: &str| path == p || path.starts_with(&format!("{p}/"));
    if under("/api") {
        (if origin == APP { Some(APP.to_owned()) } else { None }, origin == APP)
    } else if under("/private") {
        (if origin == APP { Some(APP.to_owned()) } else { None }, false)
    } else if under("/partner") {
        (
            if origin == PARTNER {
                Some(PARTNER.to_owned())
            } else {
                None
            },
            origin == PARTNER,
        )
    } else {
        (Some("*".to_owned()), false)
    }
}

async fn send(addr: std::net::SocketAddr, raw: &[u8]) -> Resp {
    match tokio::time::timeout(Duration::from_secs(10), exchange(addr, raw)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => panic!("{}: {e}", String::from_utf8_lossy(raw)),
        Err(_) => panic!("{}: no answer in 10 s", String::from_utf8_lossy(raw)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_applied_is_the_policy_of_the_resource_served() {
    bounded(60, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&layered(&up.url(), ""));
        let starts = ["/api", "/private", "/partner", "/public", ""];
        let tricks = [
            "",
            "/me",
            "/%2e%2e",
            "/..",
            "/../api/me",
            "/%2E%2E/api/me",
            "/.%2e/api/me",
            "/./me",
            "//me",
            "/x/../../api",
            "/%61pi/me",
            "/%70ublic/../api/me",
            "/%2e/me",
            "/../private/x",
            "/%2e%2e/partner/x",
            "/../%61pi",
        ];
        let mut checked = 0;
        for start in starts {
            for trick in tricks {
                for origin in [APP, PARTNER, EVIL] {
                    let target = format!("{start}{trick}");
                    let target = if target.is_empty() { "/".to_owned() } else { target };
                    let before = up.seen().len();
                    let r = send(gw.addr, &request("GET", &target, Some(origin), &[])).await;
                    let seen = up.seen();
                    assert_eq!(r.status, 200, "{target}: {r:?}");
                    assert_eq!(seen.len(), before + 1, "{target}: forwarded once");
                    let served = &seen[before].path;
                    assert!(
                        !served.contains("/.") && !served.contains('%') && !served.contains("//"),
                        "{target}: the upstream got a non-canonical path {served}"
                    );
                    let (acao, creds) = expected_for_served_path(served, origin);
                    assert_eq!(
                        r.header("access-control-allow-origin"),
                        acao,
                        "{target} from {origin}: served as {served}"
                    );
                    assert_eq!(
                        r.header("access-control-allow-credentials").is_some(),
                        creds,
                        "{target} from {origin}: served as {served}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, starts.len() * tricks.len() * 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issue_cases_get_the_covering_policy() {
    bounded(30, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&layered(&up.url(), ""));
        // `/%61pi/me` is `/api/me`: the strict policy, never `*`.
        let r = send(gw.addr, &request("GET", "/%61pi/me", Some(APP), &[])).await;
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
        assert_eq!(r.header("access-control-allow-credentials").as_deref(), Some("true"));
        assert_eq!(up.seen().last().unwrap().path, "/api/me");
        // The public policy's preflight granting DELETE must not reach
        // `/private` through encoded dots.
        let r = send(
            gw.addr,
            &request(
                "OPTIONS",
                "/public/%2e%2e/private/x",
                Some(EVIL),
                &["Access-Control-Request-Method: DELETE"],
            ),
        )
        .await;
        assert_eq!(r.status, 403, "{r:?}");
        assert!(r.cors_headers().is_empty(), "{r:?}");
        // The partner policy's credentialed grant must not reach `/api/me`.
        let n = up.seen().len();
        let r = send(gw.addr, &request("GET", "/partner/%2e%2e/api/me", Some(PARTNER), &[])).await;
        assert_eq!(r.header("access-control-allow-origin"), None, "{r:?}");
        assert_eq!(r.header("access-control-allow-credentials"), None);
        assert_eq!(up.seen()[n].path, "/api/me");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_with_only_an_api_policy_is_still_covered_when_encoded() {
    bounded(20, async {
        let up = Upstream::start();
        let config = format!(
            "listen = \"127.0.0.1:0\"\nupstream = \"{}\"\n[[policy]]\npath_prefix = \"/api\"\nallow_origins = [\"{APP}\"]\n",
            up.url()
        );
        let gw = TestGateway::start(&config);
        // The upstream's own `*` (?acao) must not reach the client: the
        // policy covers `/%61pi/x`.
        let r = send(gw.addr, &request("GET", "/%61pi/x?acao", Some(EVIL), &[])).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("access-control-allow-origin"), None, "{r:?}");
        assert!(r.varies_on_origin());
        assert_eq!(up.seen()[0].path, "/api/x");
        assert_eq!(up.seen()[0].query.as_deref(), Some("acao"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_with_no_single_meaning_are_refused_before_anything_sees_them() {
    bounded(30, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&layered(&up.url(), ""));
        for (target, reason) in [
            ("/api%2fme", "encoded_slash"),
            ("/public/..%2Fapi/me", "encoded_slash"),
            ("/api%5Cme", "encoded_slash"),
            ("/api/me%00", "encoded_nul"),
            ("/api;x/me", "path_parameters"),
            ("/public/..;/api/me", "path_parameters"),
            ("/api/%zz", "invalid_percent_encoding"),
            ("/api/%4", "invalid_percent_encoding"),
        ] {
            let r = send(gw.addr, &request("GET", target, Some(APP), &[])).await;
            assert_eq!(r.status, 400, "{target}: {r:?}");
            assert!(r.cors_headers().is_empty(), "{target}");
            assert!(r.text().starts_with("corsair: "), "{target}: {}", r.text());
            let line = gw
                .logs_with("request refused: no single meaning (400)")
                .into_iter()
                .last()
                .expect("a log line");
            assert_eq!(line["reason"], reason, "{target}");
        }
        // A backslash: refused by the gateway or by the HTTP parser before it.
        let r = send(gw.addr, &request("GET", "/public\\..\\api", Some(APP), &[])).await;
        assert_eq!(r.status, 400);
        assert!(up.seen().is_empty(), "nothing reached the upstream: {:?}", up.seen());
        let metrics = gw.metrics().await;
        for (reason, n) in [("encoded_slash", 3), ("encoded_nul", 1), ("path_parameters", 2)] {
            let line = format!("corsair_refused_requests_total{{reason=\"{reason}\"}} {n}");
            assert!(metrics.contains(&line), "{line} in\n{metrics}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_rules_are_configurable() {
    bounded(30, async {
        let up = Upstream::start();
        let rules = "[paths]\nencoded_slashes = \"keep\"\nsemicolons = \"strip\"\nmerge_slashes = false\n";
        let gw = TestGateway::start(&layered(&up.url(), rules));
        let r = send(gw.addr, &request("GET", "/public/group%2fname", Some(APP), &[])).await;
        assert_eq!(r.status, 200);
        assert_eq!(up.seen()[0].path, "/public/group%2Fname");
        // Tomcat's `..;` is `..` under "strip": `/public/..;/api/me` is `/api/me`.
        let r = send(gw.addr, &request("GET", "/public/..;/api/me", Some(APP), &[])).await;
        assert_eq!(r.header("access-control-allow-credentials").as_deref(), Some("true"));
        assert_eq!(up.seen()[1].path, "/api/me");
        // Slashes kept: `//api/me` is not under `/api`, and is forwarded so.
        let r = send(gw.addr, &request("GET", "//api/me", Some(APP), &[])).await;
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some("*"));
        assert_eq!(up.seen()[2].path, "//api/me");
        // A prefix that is not canonical under the rules is a config error.
        let bad = layered(&up.url(), "").replace("path_prefix = \"/api\"", "path_prefix = \"/%61pi\"");
        let e = TestGateway::try_start(&bad, "info", Default::default())
            .err()
            .expect("refused");
        assert!(e.contains("path_prefix") && e.contains("\"/api\""), "{e}");
        // Case: `[paths] case_sensitive = false` routes `/API/me` to `/api`.
        let gw2 = TestGateway::start(&layered(&up.url(), "[paths]\ncase_sensitive = false\n"));
        let r = send(gw2.addr, &request("GET", "/API/me", Some(APP), &[])).await;
        assert_eq!(r.header("access-control-allow-credentials").as_deref(), Some("true"));
        let r = send(gw.addr, &request("GET", "/API/me", Some(APP), &[])).await;
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some("*"));
    })
    .await;
}

/// A config with a policy for the host `b.test` only.
fn by_host(upstream: &str) -> String {
    format!(
        r#"
listen = "127.0.0.1:0"
upstream = "{upstream}"
[[policy]]
name = "b"
hosts = ["b.test"]
allow_origins = ["{APP}"]
allow_credentials = true
"#
    )
}

/// One raw request (the caller writes every line) and its response.
async fn raw(addr: std::net::SocketAddr, text: &str) -> Resp {
    send(addr, text.as_bytes()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_rules_of_rfc_9112() {
    bounded(30, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&by_host(&up.url()));
        let get =
            |host_lines: &str| format!("GET /x HTTP/1.1\r\n{host_lines}Origin: {APP}\r\nConnection: close\r\n\r\n");
        // Valid: routed to `b`, case and a trailing dot ignored, the
        // canonical authority forwarded.
        for host in ["b.test", "B.TEST", "b.test.", "b.test:8080", "b.test:"] {
            let n = up.seen().len();
            let r = raw(gw.addr, &get(&format!("Host: {host}\r\n"))).await;
            assert_eq!(r.status, 200, "{host}");
            assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP), "{host}");
            let fwd = up.seen()[n].headers["x-forwarded-host"].to_str().unwrap().to_owned();
            assert!(fwd == "b.test" || fwd == "b.test:8080", "{host} -> {fwd}");
        }
        // Refused with 400, never forwarded.
        let n = up.seen().len();
        for (lines, reason) in [
            ("", "missing_host"),
            ("Host: b.test\r\nHost: b.test\r\n", "multiple_hosts"),
            ("Host: a.test\r\nHost: b.test\r\n", "multiple_hosts"),
            ("Host: a.test@b.test\r\n", "invalid_host"),
            ("Host: b.test/x\r\n", "invalid_host"),
            ("Host: b.test:abc\r\n", "invalid_host"),
            ("Host: b.test:80:80\r\n", "invalid_host"),
            ("Host: b.test:65536\r\n", "invalid_host"),
        ] {
            let r = raw(gw.addr, &get(lines)).await;
            assert_eq!(r.status, 400, "{lines:?}: {r:?}");
            assert!(r.cors_headers().is_empty());
            let line = gw
                .logs_with("request refused: no single meaning (400)")
                .into_iter()
                .last()
                .expect("logged");
            assert_eq!(line["reason"], reason, "{lines:?}");
        }
        assert_eq!(up.seen().len(), n, "nothing refused was forwarded");
        // HTTP/1.0 may omit Host: no authority, so the host policy does not apply.
        let r = raw(gw.addr, &format!("GET /x HTTP/1.0\r\nOrigin: {APP}\r\n\r\n")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("access-control-allow-origin"), None);
        // Absolute form: its authority wins over Host (RFC 9112 §3.2.2).
        let r = raw(
            gw.addr,
            &format!("GET http://b.test/x HTTP/1.1\r\nHost: a.test\r\nOrigin: {APP}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
        assert_eq!(up.seen().last().unwrap().headers["x-forwarded-host"], "b.test");
        let r = raw(
            gw.addr,
            &format!("GET http://a.test/x HTTP/1.1\r\nHost: b.test\r\nOrigin: {APP}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(r.header("access-control-allow-origin"), None, "routed on a.test");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_forwarded_is_removed_and_x_forwarded_replaced() {
    bounded(20, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&by_host(&up.url()));
        let r = raw(
            gw.addr,
            "GET /x HTTP/1.1\r\nHost: B.test:8080\r\nForwarded: for=1.2.3.4;host=admin.internal;proto=https\r\n\
             X-Forwarded-Host: admin.internal\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(r.status, 200);
        let h = &up.seen()[0].headers;
        // The client's Forwarded never reaches the upstream; the gateway's
        // own view is in X-Forwarded-*.
        assert!(h.get("forwarded").is_none(), "{h:?}");
        assert_eq!(h["x-forwarded-host"], "b.test:8080");
        assert_eq!(h["x-forwarded-for"], "127.0.0.1");
        assert_eq!(h["x-forwarded-proto"], "http");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_authority_rules_of_rfc_9113() {
    bounded(20, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&by_host(&up.url()));
        let stream = TcpStream::connect(gw.addr).await.unwrap();
        let (mut send_req, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        let req = |host: Option<&str>| {
            let mut b = http::Request::builder().uri("http://b.test/x").header("origin", APP);
            if let Some(h) = host {
                b = b.header("host", h);
            }
            b.body(http_body_util::Empty::<bytes::Bytes>::new()).unwrap()
        };
        let r = send_req.send_request(req(None)).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["access-control-allow-origin"], APP, "routed on :authority");
        let r = send_req.send_request(req(Some("b.test:80"))).await.unwrap();
        assert_eq!(r.status(), 200, "the same authority after scheme-based normalization");
        let r = send_req.send_request(req(Some("a.test"))).await.unwrap();
        assert_eq!(r.status(), 400, "host differs from :authority");
        let line = gw
            .logs_with("request refused: no single meaning (400)")
            .into_iter()
            .last()
            .expect("logged");
        assert_eq!(line["reason"], "authority_mismatch");
        assert_eq!(up.seen().len(), 2);
    })
    .await;
}

/// An upstream that answers `/bad` at once with `status_line` and a head
/// that advertises a body (`advertise`), and sends that body 0.4 s later,
/// shaped as a whole response naming the request it was for — as a
/// desynchronized connection would deliver it to the next request. Every
/// other request gets its own `answer for <cookie>`.
async fn late_body_upstream(status_line: &'static str, advertise: &'static str) -> RawServer {
    RawServer::start(move |stream, _| async move {
        let (rd, mut wr) = stream.into_split();
        let mut rd = BufReader::new(rd);
        while let Some(head) = read_request_head(&mut rd).await {
            let cookie = head
                .lines()
                .find_map(|l| l.strip_prefix("cookie: ").or_else(|| l.strip_prefix("Cookie: ")))
                .unwrap_or("none")
                .trim()
                .to_owned();
            let own = format!("answer for {cookie}");
            if corsair_testkit::raw::target_of(&head) == "/bad" {
                let smuggled = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{own}", own.len());
                let adv = advertise.replace("{n}", &smuggled.len().to_string());
                if wr
                    .write_all(format!("{status_line}\r\n{adv}\r\n\r\n").as_bytes())
                    .await
                    .is_err()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(400)).await;
                let body = if adv.contains("chunked") {
                    format!("{:x}\r\n{smuggled}\r\n0\r\n\r\n", smuggled.len())
                } else {
                    smuggled
                };
                if wr.write_all(body.as_bytes()).await.is_err() {
                    return;
                }
            } else {
                let r = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{own}", own.len());
                if wr.write_all(r.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_client_receives_an_answer_meant_for_another() {
    bounded(60, async {
        for (status_line, advertise, trigger) in [
            ("HTTP/1.1 200 OK", "content-length: {n}", "HEAD"),
            ("HTTP/1.1 200 OK", "transfer-encoding: chunked", "HEAD"),
            ("HTTP/1.1 204 No Content", "content-length: {n}", "GET"),
            ("HTTP/1.1 304 Not Modified", "content-length: {n}", "GET"),
            ("HTTP/1.1 304 Not Modified", "transfer-encoding: chunked", "GET"),
        ] {
            let up = late_body_upstream(status_line, advertise).await;
            let cfg = format!(
                "listen = \"127.0.0.1:0\"\nupstream = \"{}\"\nworkers = 1\n[[policy]]\nallow_origins = [\"{APP}\"]\n",
                up.url()
            );
            let gw = TestGateway::start(&cfg);
            // Six clients, each with its own cookie; the bad answers come
            // first, the others right after, on whatever connection the
            // gateway picks.
            let mut got = Vec::new();
            for i in 0..6 {
                let (method, path) = if i % 2 == 0 { (trigger, "/bad") } else { ("GET", "/x") };
                let req = request(method, path, Some(APP), &[&format!("Cookie: user{i}")]);
                let r = send(gw.addr, &req).await;
                got.push((i, method, r));
            }
            let summary: Vec<_> = got.iter().map(|(i, m, r)| (*i, *m, r.status, r.text())).collect();
            let bad_status: u16 = status_line[9..12].parse().unwrap();
            for (i, method, r) in &got {
                let what = format!("{status_line} / {advertise}: client {i} ({method}), all: {summary:?}");
                let text = r.text();
                if i % 2 == 0 {
                    // The misbehaving answer itself reaches its own client,
                    // with no body.
                    assert_eq!(r.status, bad_status, "{what}");
                    assert_eq!(text, "", "{what}");
                } else {
                    // Every other client gets its own answer, never the
                    // bytes meant for the request before it.
                    assert_eq!(r.status, 200, "{what}");
                    assert_eq!(text, format!("answer for user{i}"), "{what}");
                }
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upstream_body_is_cut_off_after_upstream_read_timeout() {
    bounded(30, async {
        let up = RawServer::start(|stream, _| async move {
            let (rd, mut wr) = stream.into_split();
            let mut rd = BufReader::new(rd);
            if read_request_head(&mut rd).await.is_some() {
                let _ = wr
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nfirst ten.")
                    .await;
                // Then nothing, with the connection open.
                tokio::time::sleep(Duration::from_secs(20)).await;
            }
        })
        .await;
        let cfg = format!(
            "listen = \"127.0.0.1:0\"\nupstream = \"{}\"\n[limits]\nupstream_read_timeout = 1\n[admin]\nlisten = \"127.0.0.1:0\"\n\
             [[policy]]\nallow_origins = [\"{APP}\"]\n",
            up.url()
        );
        let gw = TestGateway::start(&cfg);
        // HTTP/1.1: the head and the first bytes arrive, then the
        // connection is closed before the announced length.
        let started = Instant::now();
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        s.write_all(&request("GET", "/x", Some(APP), &[])).await.unwrap();
        let mut r = BufReader::new(s);
        let resp = read_response(&mut r, false).await.expect("a head");
        assert_eq!(resp.status, 200);
        assert!(!resp.complete, "the response must be visibly cut off: {resp:?}");
        assert_eq!(resp.body, b"first ten.");
        let took = started.elapsed();
        assert!(took >= Duration::from_secs(1), "cut off after the timeout, not before ({took:?})");
        let mut rest = Vec::new();
        let _ = r.read_to_end(&mut rest).await;
        gw.wait_log("upstream response body stalled; the client's response is cut off", 1, Duration::from_secs(5))
            .await;
        assert!(gw
            .metrics()
            .await
            .contains("corsair_upstream_errors_total{kind=\"read_timeout\"} 1"));

        // HTTP/2: the stream is reset, the connection lives on.
        let stream = TcpStream::connect(gw.addr).await.unwrap();
        let (mut send_req, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        let req = http::Request::builder()
            .uri("http://gateway.test/x")
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        let resp = send_req.send_request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        let body = http_body_util::BodyExt::collect(resp.into_body()).await;
        assert!(body.is_err(), "the HTTP/2 stream must end in an error, not a short body");
        assert!(send_req.ready().await.is_ok(), "the HTTP/2 connection itself stays usable");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_upstreams_with_a_private_ca() {
    use corsair_testkit::fixture;
    use rustls::pki_types::pem::PemObject;
    bounded(30, async {
        let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_file_iter(fixture("cert.pem"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_file(fixture("key.pem")).unwrap();
        let sc = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(sc));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let up = RawServer::start(move |stream, _| {
            let acceptor = acceptor.clone();
            let seen = s2.clone();
            async move {
                let Ok(tls) = acceptor.accept(stream).await else { return };
                let (rd, mut wr) = tokio::io::split(tls);
                let mut rd = BufReader::new(rd);
                while let Some(head) = read_request_head(&mut rd).await {
                    seen.lock().unwrap().push(head);
                    if wr
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nover tls!")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        })
        .await;
        let url = format!("https://localhost:{}", up.addr.port());
        let cfg = |ca: &str| {
            format!("listen = \"127.0.0.1:0\"\nupstream = \"{url}\"\n{ca}\n[[policy]]\nallow_origins = [\"{APP}\"]\n")
        };
        let gw = TestGateway::start(&cfg(&format!("upstream_ca = {:?}", fixture("ca.pem"))));
        for _ in 0..3 {
            let r = send(gw.addr, &request("GET", "/x", Some(APP), &["Connection: keep-alive"])).await;
            assert_eq!(r.status, 200, "{r:?}");
            assert_eq!(r.text(), "over tls!");
            assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
        }
        let heads = seen.lock().unwrap().clone();
        assert_eq!(heads.len(), 3);
        assert!(
            heads[0].contains(&format!("host: localhost:{}", up.addr.port())),
            "{}",
            heads[0]
        );
        // Without the CA, the certificate is not trusted: 502.
        let gw2 = TestGateway::start(&cfg(""));
        let r = send(gw2.addr, &request("GET", "/x", Some(APP), &[])).await;
        assert_eq!(r.status, 502, "{r:?}");
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
    })
    .await;
}
