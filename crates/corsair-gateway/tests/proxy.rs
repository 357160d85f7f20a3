//! The gateway end to end, in-process: a [`TestGateway`] in front of the
//! kit's recording upstream, over loopback sockets (127.0.0.1 only): CORS
//! on proxied requests, preflights answered at the edge, upstream errors,
//! request limits, streaming both ways, HTTP/2 and TLS, and reload under
//! traffic. Every test has a deadline; the gateway is shut down when its
//! [`TestGateway`] is dropped. (What only the `corsair` process shows,
//! signals and exit codes, is in `corsair-cli/tests/serve_cli.rs`.)

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use corsair_gateway::{config, Overrides};
use corsair_testkit::client::{client, get, read, send};
use corsair_testkit::gateway::{admin_get, TestGateway};
use corsair_testkit::raw::raw_exchange;
use corsair_testkit::upstream::{ChannelBody, Upstream};
use corsair_testkit::{bounded, fixture, RefusingAddr};
use http::{Request, StatusCode, Version};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::mpsc;

const APP: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example";

/// A config with one policy on `/api`; `extra` goes before it (`[limits]`...).
fn config(upstream: &str, extra: &str) -> String {
    format!(
        r#"
listen = "127.0.0.1:0"
upstream = "{upstream}"
{extra}

[[policy]]
name = "api"
path_prefix = "/api"
allow_origins = ["{APP}"]
allow_methods = ["GET", "POST", "PUT"]
allow_headers = ["content-type", "x-token"]
expose_headers = ["x-upstream"]
allow_credentials = true
max_age = 600
"#
    )
}

/// An admin listener on a port the gateway chooses.
const ADMIN: &str = "[admin]\nlisten = \"127.0.0.1:0\"\n";

/// The next data chunk of a body (5 s limit).
async fn next_chunk(b: &mut hyper::body::Incoming) -> Option<Bytes> {
    tokio::time::timeout(Duration::from_secs(5), b.frame())
        .await
        .expect("a chunk in time")
        .map(|f| f.unwrap().into_data().unwrap())
}

/// Polls `f` until it holds (8 s limit).
async fn wait_until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(8);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_headers_on_proxied_requests() {
    bounded(20, async {
        let up = Upstream::start();
        // The file says builtin:echo; the override (`--upstream`) replaces
        // it, on start and on every reload.
        let overrides = Overrides {
            listen: None,
            upstream: Some(config::parse_upstream_value(&up.url()).unwrap()),
        };
        let gw = TestGateway::try_start(&config("builtin:echo", ""), "info", overrides).unwrap();
        let c = client();

        // Allowed: the upstream's own CORS headers are replaced, Vary merged,
        // hop-by-hop headers dropped both ways, X-Forwarded-* set.
        let r = send(
            &c,
            "GET",
            &gw.url("/api/items?acao"),
            &[
                ("origin", APP),
                ("connection", "x-secret"),
                ("x-secret", "hop"),
                ("keep-alive", "timeout=5"),
                ("proxy-authorization", "Basic eA=="),
                ("x-forwarded-for", "10.0.0.1"),
                ("x-end-to-end", "kept"),
            ],
        )
        .await
        .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "upstream ok");
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
        assert_eq!(r.header("access-control-allow-credentials").as_deref(), Some("true"));
        assert_eq!(r.header("access-control-expose-headers").as_deref(), Some("x-upstream"));
        assert_eq!(
            r.header("access-control-allow-methods"),
            None,
            "upstream's ACAM must be removed"
        );
        assert_eq!(r.vary(), ["accept-encoding", "origin"]);
        assert_eq!(r.header("x-hop-response"), None);
        assert_eq!(r.header("proxy-authenticate"), None);
        assert_eq!(r.header("x-upstream").as_deref(), Some("yes"));

        let seen = up.seen();
        assert_eq!(seen.len(), 1);
        let h = &seen[0].headers;
        assert_eq!(seen[0].path, "/api/items");
        assert_eq!(h["origin"], APP);
        assert_eq!(h["x-end-to-end"], "kept");
        for gone in ["x-secret", "keep-alive", "proxy-authorization"] {
            assert!(h.get(gone).is_none(), "{gone} was forwarded: {h:?}");
        }
        assert_eq!(h["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-host"], gw.addr.to_string().as_str());
        assert_eq!(h["host"], up.addr.to_string().as_str());

        // Rejected origin: forwarded (CORS is enforced by the browser), but no
        // CORS headers, and one log line saying why.
        let r = send(&c, "GET", &gw.url("/api/items?acao"), &[("origin", EVIL)])
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("access-control-allow-origin"), None);
        assert_eq!(r.header("access-control-allow-credentials"), None);
        assert_eq!(r.vary(), ["accept-encoding", "origin"]);
        assert_eq!(up.seen().len(), 2);
        // Logged before the answer was sent, so already in the log.
        let rejected = gw.logs_with("CORS request rejected");
        assert_eq!(rejected.len(), 1, "{}", gw.logs());
        let line = &rejected[0];
        assert_eq!(line["policy"], "api");
        assert_eq!(line["origin"], EVIL);
        assert_eq!(line["reason"], "origin_not_allowed");
        assert!(
            line["detail"].as_str().unwrap().contains("not in allow_origins"),
            "{line}"
        );

        // Not a CORS request: no CORS headers, but Vary: Origin.
        let r = send(&c, "GET", &gw.url("/api/items"), &[]).await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("access-control-allow-origin"), None);
        assert_eq!(r.vary(), ["origin"]);

        // A path no policy covers: proxied untouched (the upstream's own
        // CORS headers stay), hop-by-hop headers still dropped.
        let r = send(&c, "GET", &gw.url("/public?acao"), &[("origin", APP)])
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some("*"));
        assert_eq!(r.header("access-control-allow-methods").as_deref(), Some("DELETE"));
        assert_eq!(r.vary(), ["accept-encoding"]);
        assert_eq!(r.header("x-hop-response"), None);
        // `/apix` is not under `/api`.
        let r = send(&c, "GET", &gw.url("/apix"), &[("origin", APP)]).await.unwrap();
        assert_eq!(r.header("access-control-allow-origin"), None);
        assert!(r.vary().is_empty());
        assert_eq!(gw.logs_with("CORS request rejected").len(), 1);

        // A reload re-reads the file (which still says builtin:echo): the
        // override still applies.
        let before = up.seen().len();
        gw.reload().expect("the same config reloads");
        let r = send(&c, "GET", &gw.url("/api/after-reload"), &[("origin", APP)])
            .await
            .unwrap();
        assert_eq!(r.text(), "upstream ok", "the override was lost on reload");
        assert_eq!(up.seen().len(), before + 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflights_are_answered_never_forwarded_and_counted() {
    bounded(20, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&config(&up.url(), ADMIN));
        let c = client();
        let pf = |origin: &'static str, method: &'static str, headers: &'static str| {
            vec![
                ("origin", origin),
                ("access-control-request-method", method),
                ("access-control-request-headers", headers),
            ]
        };

        let r = send(
            &c,
            "OPTIONS",
            &gw.url("/api/items"),
            &pf(APP, "PUT", "Content-Type, X-Token"),
        )
        .await
        .unwrap();
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
        assert_eq!(r.header("access-control-allow-credentials").as_deref(), Some("true"));
        assert_eq!(r.header("access-control-allow-methods").as_deref(), Some("PUT"));
        assert_eq!(
            r.header("access-control-allow-headers").as_deref(),
            Some("Content-Type, X-Token")
        );
        assert_eq!(r.header("access-control-max-age").as_deref(), Some("600"));
        assert_eq!(
            r.vary(),
            [
                "origin",
                "access-control-request-method",
                "access-control-request-headers"
            ]
        );

        // Rejected: 403 and no CORS headers at all.
        for (headers, reason) in [
            (pf(EVIL, "PUT", "content-type"), "origin_not_allowed"),
            (pf(APP, "DELETE", "content-type"), "method_not_allowed"),
            (pf(APP, "PUT", "x-evil"), "header_not_allowed"),
        ] {
            let r = send(&c, "OPTIONS", &gw.url("/api/items"), &headers).await.unwrap();
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{reason}");
            for h in r.headers.keys() {
                assert!(!h.as_str().starts_with("access-control-"), "{reason}: {h}");
            }
        }
        assert!(
            up.seen().is_empty(),
            "a preflight reached the upstream: {:?}",
            up.seen()
        );
        let reasons: Vec<String> = gw
            .logs_with("CORS request rejected")
            .iter()
            .map(|l| l["reason"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            reasons,
            ["origin_not_allowed", "method_not_allowed", "header_not_allowed"]
        );

        // OPTIONS without Access-Control-Request-Method is not a preflight.
        let r = send(&c, "OPTIONS", &gw.url("/api/items"), &[("origin", APP)])
            .await
            .unwrap();
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
        // A preflight on a path no policy covers goes to the upstream.
        let r = send(&c, "OPTIONS", &gw.url("/public"), &pf(APP, "PUT", "x-evil"))
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        let seen: Vec<(String, String)> = up
            .seen()
            .iter()
            .map(|s| (s.method.to_string(), s.path.clone()))
            .collect();
        assert_eq!(
            seen,
            [
                ("OPTIONS".into(), "/api/items".into()),
                ("OPTIONS".into(), "/public".into())
            ]
        );

        assert_eq!(gw.health().await, (200, "ok\n".to_owned()));
        let m = gw.metrics().await;
        for want in [
            r#"corsair_preflights_total{policy="api",result="accepted"} 1"#,
            r#"corsair_preflights_total{policy="api",result="rejected"} 3"#,
            r#"corsair_requests_total{policy="api",kind="preflight",outcome="allowed",mode="enforce"} 1"#,
            r#"corsair_requests_total{policy="api",kind="preflight",outcome="origin_not_allowed",mode="enforce"} 1"#,
            r#"corsair_requests_total{policy="api",kind="preflight",outcome="method_not_allowed",mode="enforce"} 1"#,
            r#"corsair_requests_total{policy="api",kind="preflight",outcome="header_not_allowed",mode="enforce"} 1"#,
            r#"corsair_requests_total{policy="api",kind="actual",outcome="allowed",mode="enforce"} 1"#,
            "corsair_uncovered_requests_total 1",
            r#"corsair_upstream_errors_total{kind="unreachable"} 0"#,
            "corsair_request_duration_seconds_count 6",
            r#"corsair_request_duration_seconds_bucket{le="+Inf"} 6"#,
            "# TYPE corsair_request_duration_seconds histogram",
        ] {
            assert!(m.contains(want), "missing {want:?} in\n{m}");
        }
        let (status, _) = admin_get(gw.admin.unwrap(), "/nope").await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_down_is_502_readable_by_allowed_origins() {
    bounded(20, async {
        let dead = RefusingAddr::new();
        let gw = TestGateway::start(&config(&dead.url(), ADMIN));
        let c = client();
        let r = send(&c, "GET", &gw.url("/api/items"), &[("origin", APP)])
            .await
            .unwrap();
        assert_eq!(r.status, StatusCode::BAD_GATEWAY);
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
        assert_eq!(r.header("access-control-allow-credentials").as_deref(), Some("true"));
        assert_eq!(r.vary(), ["origin"]);
        let r = send(&c, "GET", &gw.url("/api/items"), &[("origin", EVIL)])
            .await
            .unwrap();
        assert_eq!(r.status, StatusCode::BAD_GATEWAY);
        assert_eq!(r.header("access-control-allow-origin"), None);
        let r = send(&c, "GET", &gw.url("/elsewhere"), &[("origin", APP)])
            .await
            .unwrap();
        assert_eq!(r.status, StatusCode::BAD_GATEWAY);
        assert_eq!(r.header("access-control-allow-origin"), None);
        assert!(r.vary().is_empty());
        // Preflights never need the upstream.
        let r = send(
            &c,
            "OPTIONS",
            &gw.url("/api/items"),
            &[("origin", APP), ("access-control-request-method", "PUT")],
        )
        .await
        .unwrap();
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(gw.logs_with("upstream unreachable (502)").len(), 3, "{}", gw.logs());
        assert!(gw
            .metrics()
            .await
            .contains(r#"corsair_upstream_errors_total{kind="unreachable"} 3"#));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_upstream_is_504_readable_by_allowed_origins() {
    bounded(20, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&config(&up.url(), "[limits]\nupstream_timeout = 1\n"));
        let t = Instant::now();
        // `/api/gate` never answers until the gate opens, which it does not
        // here: only the gateway's timeout can end the request.
        let r = get(&gw.url("/api/gate"), &[("origin", APP)]).await;
        let took = t.elapsed();
        assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT);
        assert!(took >= Duration::from_secs(1), "504 before upstream_timeout: {took:?}");
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
        assert_eq!(r.vary(), ["origin"]);
        assert_eq!(up.seen().len(), 1, "the request reached the upstream");
        assert_eq!(gw.logs_with("upstream timed out (504)").len(), 1, "{}", gw.logs());
        // The gateway still serves.
        assert_eq!(get(&gw.url("/api/fast"), &[]).await.status, 200);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_request_heads_get_431() {
    bounded(20, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&config(&up.url(), "[limits]\nmax_header_bytes = 4096\n"));
        // Under the limit: fine.
        let small = "a".repeat(3000);
        let r = get(&gw.url("/api/x"), &[("x-big", &small)]).await;
        assert_eq!(r.status, 200);
        // Over it, from a client that sends its whole head: hyper answers 431
        // and closes the connection (the request never reaches the upstream,
        // and, answered before any policy runs, carries no CORS headers).
        let big = "b".repeat(8000);
        let head = format!("GET /api/x HTTP/1.1\r\nHost: x\r\nOrigin: {APP}\r\nX-Big: {big}\r\n\r\n");
        let (got, closed) = raw_exchange(gw.addr, head.as_bytes(), Duration::from_secs(5)).await;
        let text = String::from_utf8_lossy(&got);
        assert!(
            text.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{text:?}"
        );
        assert!(!text.to_ascii_lowercase().contains("access-control-"), "{text:?}");
        assert!(closed, "the connection stays open after 431");
        assert_eq!(up.seen().len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_request_heads_are_cut_off() {
    bounded(20, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&config(&up.url(), "[limits]\nheader_read_timeout = 1\n"));
        let t = Instant::now();
        // A slowloris: a request head that never ends.
        let (got, closed) = raw_exchange(
            gw.addr,
            b"GET /api/x HTTP/1.1\r\nHost: x\r\nX-Slow: ",
            Duration::from_secs(5),
        )
        .await;
        let took = t.elapsed();
        assert!(closed, "still open after {took:?}");
        assert!(
            took >= Duration::from_secs(1),
            "cut off before header_read_timeout: {took:?}"
        );
        let text = String::from_utf8_lossy(&got);
        assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "{text:?}");
        // A connection that sends nothing at all.
        let (_, closed) = raw_exchange(gw.addr, b"", Duration::from_secs(5)).await;
        assert!(closed);
        assert!(up.seen().is_empty());
        assert_eq!(get(&gw.url("/api/x"), &[]).await.status, 200);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_wait_their_turn() {
    bounded(20, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&config(&up.url(), "[limits]\nmax_connections = 1\n"));
        // The only slot: a request held at the upstream until the gate
        // opens, on a connection that closes after its answer.
        let first = tokio::spawn(raw_exchange(
            gw.addr,
            b"GET /api/gate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            Duration::from_secs(10),
        ));
        up.wait_seen(1).await;
        // A second connection: accepted by the kernel (backlog), not served.
        let url = gw.url("/api/fast");
        let second = tokio::spawn(async move { get(&url, &[("origin", APP)]).await });
        // However long it is given, it does not get through while the
        // first holds the slot (a gateway without the limit answers it in
        // a millisecond).
        let window = tokio::time::timeout(Duration::from_millis(500), async {
            while up.seen().len() < 2 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(window.is_err(), "the second connection was served during the first one");
        assert!(!second.is_finished());
        up.open_gate();
        let (first, closed) = first.await.unwrap();
        assert!(String::from_utf8_lossy(&first).starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(closed);
        let second = second.await.unwrap();
        assert_eq!(second.status, 200);
        assert_eq!(second.text(), "upstream ok");
        let paths: Vec<String> = up.seen().iter().map(|s| s.path.clone()).collect();
        assert_eq!(paths, ["/api/gate", "/api/fast"]);
        let limit = "connection limit reached; new connections wait in the backlog";
        assert_eq!(gw.logs_with(limit).len(), 1, "{}", gw.logs());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_stream_both_ways() {
    bounded(20, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&config(&up.url(), ""));
        let c = client();

        // Download: the upstream sends its second chunk only after the client
        // got the first one through the gateway (a buffering proxy deadlocks).
        let req = Request::get(gw.url("/api/stream"))
            .header("origin", APP)
            .body(Empty::new().boxed())
            .unwrap();
        let resp = tokio::time::timeout(Duration::from_secs(5), c.request(req))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["access-control-allow-origin"], APP);
        let mut body = resp.into_body();
        assert_eq!(next_chunk(&mut body).await.unwrap(), "first chunk;");
        up.release();
        assert_eq!(next_chunk(&mut body).await.unwrap(), "second chunk");
        assert!(next_chunk(&mut body).await.is_none());

        // Upload: the client sends its second chunk only after the upstream
        // received the first one.
        let (tx, rx) = mpsc::channel::<Bytes>(1);
        let req = Request::post(gw.url("/api/upload"))
            .header("origin", APP)
            .body(ChannelBody::new(rx).boxed())
            .unwrap();
        let pending = tokio::spawn({
            let c = c.clone();
            async move { read(c.request(req).await.unwrap()).await.unwrap() }
        });
        let chunk = Bytes::from(vec![b'x'; 100_000]);
        tx.send(chunk.clone()).await.unwrap();
        let mut got = 0;
        while got < chunk.len() {
            got += tokio::time::timeout(Duration::from_secs(5), up.next_upload_chunk())
                .await
                .unwrap()
                .len();
        }
        tx.send(Bytes::from_static(b"end")).await.unwrap();
        assert_eq!(
            tokio::time::timeout(Duration::from_secs(5), up.next_upload_chunk())
                .await
                .unwrap(),
            "end"
        );
        drop(tx);
        let r = pending.await.unwrap();
        assert_eq!(r.text(), "received 100003 bytes");
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_clients_with_prior_knowledge() {
    bounded(20, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&config(&up.url(), ""));
        let tcp = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
        tokio::spawn(conn);
        let req = Request::get(gw.url("/api/h2"))
            .header("origin", APP)
            .body(Empty::<Bytes>::new())
            .unwrap();
        let r = read(sender.send_request(req).await.unwrap()).await.unwrap();
        assert_eq!(r.version, Version::HTTP_2);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
        let req = Request::options(gw.url("/api/h2"))
            .header("origin", APP)
            .header("access-control-request-method", "PUT")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let r = read(sender.send_request(req).await.unwrap()).await.unwrap();
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let seen = up.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].version, Version::HTTP_11);
        assert_eq!(seen[0].headers["x-forwarded-host"], gw.addr.to_string().as_str());
        assert_eq!(seen[0].headers["host"], up.addr.to_string().as_str());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_listener_speaks_h2_and_http1_by_alpn() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    bounded(20, async {
        let up = Upstream::start();
        let tls = format!(
            "[tls]\ncert = {:?}\nkey = {:?}\n",
            fixture("cert.pem").display().to_string(),
            fixture("key.pem").display().to_string()
        );
        let gw = TestGateway::start(&config(&up.url(), &tls));
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(fixture("ca.pem")).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        for (alpn, version) in [(&b"h2"[..], Version::HTTP_2), (&b"http/1.1"[..], Version::HTTP_11)] {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut cc = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots.clone())
                .with_no_client_auth();
            cc.alpn_protocols = vec![alpn.to_vec()];
            let tcp = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
            let stream = tokio_rustls::TlsConnector::from(Arc::new(cc))
                .connect(ServerName::try_from("localhost").unwrap(), tcp)
                .await
                .unwrap();
            let io = TokioIo::new(stream);
            let uri = format!("https://localhost:{}/api/tls", gw.addr.port());
            let req = Request::get(&uri)
                .header("origin", APP)
                .body(Empty::<Bytes>::new())
                .unwrap();
            let r = if version == Version::HTTP_2 {
                let (mut s, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                read(s.send_request(req).await.unwrap()).await.unwrap()
            } else {
                let (mut s, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
                tokio::spawn(conn);
                let mut req = req;
                req.headers_mut()
                    .insert("host", format!("localhost:{}", gw.addr.port()).parse().unwrap());
                read(s.send_request(req).await.unwrap()).await.unwrap()
            };
            assert_eq!(r.version, version);
            assert_eq!(r.status, 200);
            assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
        }
        let seen = up.seen();
        assert_eq!(seen.len(), 2);
        assert!(seen.iter().all(|s| s.headers["x-forwarded-proto"] == "https"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reload_under_traffic_loses_no_request() {
    bounded(40, async {
        let up = Upstream::start();
        let with_origins = |origins: &str| {
            format!(
                "listen = \"127.0.0.1:0\"\nupstream = \"{}\"\n[[policy]]\nname = \"api\"\nallow_origins = [{origins}]\n",
                up.url()
            )
        };
        let gw = TestGateway::start(&with_origins("\"https://a.example\""));
        let url = gw.url("/api/x");
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(Mutex::new(Vec::<String>::new()));
        let total = Arc::new(AtomicU64::new(0));
        let b_allowed = Arc::new(AtomicU64::new(0));
        let mut workers = Vec::new();
        for _ in 0..4 {
            let (stop, failures, total, b_allowed, url) =
                (stop.clone(), failures.clone(), total.clone(), b_allowed.clone(), url.clone());
            workers.push(tokio::spawn(async move {
                let c = client();
                while !stop.load(Ordering::Relaxed) {
                    match send(&c, "GET", &url, &[("origin", "https://b.example")]).await {
                        Ok(r) if r.status == 200 && r.text() == "upstream ok" => {
                            if r.header("access-control-allow-origin").as_deref() == Some("https://b.example") {
                                b_allowed.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Ok(r) => failures.lock().unwrap().push(format!("{} {}", r.status, r.text())),
                        Err(e) => failures.lock().unwrap().push(e),
                    }
                    total.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        wait_until("traffic under the first config", || total.load(Ordering::Relaxed) >= 50).await;
        assert_eq!(b_allowed.load(Ordering::Relaxed), 0);

        // A valid change, noticed by the file watcher: the new policy takes
        // effect (it is active before "config reloaded" is logged).
        gw.rewrite_config(&with_origins("\"https://a.example\", \"https://b.example\""));
        gw.wait_log("config reloaded", 1, Duration::from_secs(5)).await;
        wait_until("b.example to be allowed", || b_allowed.load(Ordering::Relaxed) > 0).await;

        // An invalid one: refused with its problems logged, the old one serves.
        gw.rewrite_config(&with_origins("\"*\"]\nallow_credentials = true\n#"));
        gw.wait_log("config reload refused; the previous config keeps serving", 1, Duration::from_secs(5))
            .await;
        let problems = gw.logs_with("config problem");
        // The policy is named by its `name`, the problem placed in the file.
        assert!(
            problems
                .iter()
                .any(|p| p["key"] == "policy \"api\".allow_origins[0]" && p["line"].is_u64() && p["column"].is_u64()),
            "{problems:?}"
        );
        let before = b_allowed.load(Ordering::Relaxed);
        wait_until("b.example still allowed", || b_allowed.load(Ordering::Relaxed) > before + 20).await;

        // A reload on demand (SIGHUP's, in the binary: serve_cli.rs) is
        // active when it returns.
        gw.rewrite_config(&with_origins("\"https://a.example\""));
        gw.reload().expect("a valid config");
        let c = client();
        let r = send(&c, "GET", &url, &[("origin", "https://b.example")]).await.unwrap();
        assert_eq!(r.header("access-control-allow-origin"), None);
        assert!(gw.logs_with("config reloaded").len() >= 2, "{}", gw.logs());

        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.await.unwrap();
        }
        let total = total.load(Ordering::Relaxed);
        {
            let failures = failures.lock().unwrap();
            assert!(failures.is_empty(), "{} of {total} requests failed: {:?}", failures.len(), &failures[..]);
        }
        assert!(total > 100, "only {total} requests");
    })
    .await;
}

/// A config handed over in code ([`corsair_gateway::Handle::replace`], from
/// the test's thread) is active when the call returns, and its log lines go
/// where the gateway's do (`Options::log_to`), not to the caller's thread's
/// subscriber.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaced_configs_take_effect_at_once_and_are_logged() {
    bounded(20, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&config(&up.url(), ""));
        let r = get(&gw.url("/api/x"), &[("origin", EVIL)]).await;
        assert_eq!(r.header("access-control-allow-origin"), None);

        // Another origin, and a limit that only a restart changes.
        let text = config(&up.url(), "[limits]\nmax_connections = 5\n").replace(APP, EVIL);
        let next = corsair_gateway::Config::parse(&text, "replacement", None).unwrap();
        gw.handle().replace(next).expect("a valid config");
        let r = get(&gw.url("/api/x"), &[("origin", EVIL)]).await;
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(EVIL));
        let reloaded = gw.logs_with("config reloaded");
        assert_eq!(reloaded.len(), 1, "{}", gw.logs());
        assert_eq!(reloaded[0]["file"], "replacement");
        let restart = "`limits.max_connections` changed: it takes effect after a restart";
        assert_eq!(gw.logs_with(restart).len(), 1, "{}", gw.logs());
    })
    .await;
}

/// What the config probably does not mean is logged when it is loaded, and the
/// gateway serves anyway.
#[test]
fn config_warnings_are_logged_and_served() {
    let gw = TestGateway::start(
        r#"
listen = "127.0.0.1:0"
upstream = "builtin:echo"

[[policy]]
name = "api"
allow_origins = ["https://app.example.com"]
allow_methods = ["GET", "Patch"]
"#,
    );
    let warnings = gw.logs_with("config warning");
    assert_eq!(warnings.len(), 1, "{}", gw.logs());
    assert_eq!(warnings[0]["key"], "policy \"api\".allow_methods[1]");
    assert_eq!(warnings[0]["code"], "method_case");
    assert_eq!(warnings[0]["line"], 8);
}
