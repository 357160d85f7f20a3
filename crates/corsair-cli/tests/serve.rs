//! `corsair serve` end to end: the built binary in front of a real upstream
//! hyper server, over loopback sockets (127.0.0.1 only). Every test has a
//! deadline and kills the gateway it started.

mod support_gateway;
mod support_serve;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode, Version};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use support_gateway::{free_addr, Gateway};
use support_serve::*;
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
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn admin(port: u16) -> String {
    format!("[admin]\nlisten = \"127.0.0.1:{port}\"\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_headers_on_proxied_requests() {
    bounded(20, async {
        let up = Upstream::start().await;
        // The file says builtin:echo; --upstream overrides it.
        let gw = Gateway::start(&config("builtin:echo", ""), &["--upstream", &up.url()]);
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
        let line = &gw.wait_log("CORS request rejected", 1, Duration::from_secs(5)).await[0];
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
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflights_are_answered_never_forwarded_and_counted() {
    bounded(20, async {
        let up = Upstream::start().await;
        let gw = Gateway::start(&config(&up.url(), &admin(free_addr().port())), &[]);
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
            .wait_log("CORS request rejected", 3, Duration::from_secs(5))
            .await
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

        let admin = gw.admin.unwrap();
        let h = get(&format!("http://{admin}/healthz"), &[]).await;
        assert_eq!((h.status.as_u16(), h.text().as_str()), (200, "ok\n"));
        let m = gw.metrics().await;
        for want in [
            r#"corsair_preflights_total{policy="api",result="accepted"} 1"#,
            r#"corsair_preflights_total{policy="api",result="rejected"} 3"#,
            r#"corsair_requests_total{policy="api",kind="preflight",outcome="allowed"} 1"#,
            r#"corsair_requests_total{policy="api",kind="preflight",outcome="origin_not_allowed"} 1"#,
            r#"corsair_requests_total{policy="api",kind="preflight",outcome="method_not_allowed"} 1"#,
            r#"corsair_requests_total{policy="api",kind="preflight",outcome="header_not_allowed"} 1"#,
            r#"corsair_requests_total{policy="api",kind="actual",outcome="allowed"} 1"#,
            "corsair_uncovered_requests_total 1",
            r#"corsair_upstream_errors_total{kind="unreachable"} 0"#,
            "corsair_request_duration_seconds_count 6",
            r#"corsair_request_duration_seconds_bucket{le="+Inf"} 6"#,
            "# TYPE corsair_request_duration_seconds histogram",
        ] {
            assert!(m.contains(want), "missing {want:?} in\n{m}");
        }
        let nf = get(&format!("http://{admin}/nope"), &[]).await;
        assert_eq!(nf.status, 404);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_down_is_502_readable_by_allowed_origins() {
    bounded(20, async {
        let dead = format!("http://{}", free_addr());
        let gw = Gateway::start(&config(&dead, &admin(free_addr().port())), &[]);
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
        assert_eq!(
            gw.wait_log("upstream unreachable (502)", 3, Duration::from_secs(5))
                .await
                .len(),
            3
        );
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
        let up = Upstream::start().await;
        let gw = Gateway::start(&config(&up.url(), "[limits]\nupstream_timeout = 1\n"), &[]);
        let t = Instant::now();
        let r = get(&gw.url("/api/slow"), &[("origin", APP)]).await;
        let took = t.elapsed();
        assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT);
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_millis(1900),
            "{took:?}"
        );
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
        assert_eq!(r.vary(), ["origin"]);
        assert_eq!(
            gw.wait_log("upstream timed out (504)", 1, Duration::from_secs(5))
                .await
                .len(),
            1
        );
        // The gateway still serves.
        assert_eq!(get(&gw.url("/api/fast"), &[]).await.status, 200);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_request_heads_get_431() {
    bounded(20, async {
        let up = Upstream::start().await;
        let gw = Gateway::start(&config(&up.url(), "[limits]\nmax_header_bytes = 4096\n"), &[]);
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
        assert!(closed, "the connection stays open after 431");
        assert_eq!(up.seen().len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_request_heads_are_cut_off() {
    bounded(20, async {
        let up = Upstream::start().await;
        let gw = Gateway::start(&config(&up.url(), "[limits]\nheader_read_timeout = 1\n"), &[]);
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
        assert!(took < Duration::from_secs(4), "{took:?}");
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
        let up = Upstream::start().await;
        let gw = Gateway::start(&config(&up.url(), "[limits]\nmax_connections = 1\n"), &[]);
        // The only slot: a request that takes 2 s upstream, then closes.
        let first = tokio::spawn(raw_exchange(
            gw.addr,
            b"GET /api/slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            Duration::from_secs(10),
        ));
        up.wait_seen(1).await;
        // A second connection is not served until the first one is gone.
        let t = Instant::now();
        let second = get(&gw.url("/api/fast"), &[("origin", APP)]).await;
        let waited = t.elapsed();
        let (first, closed) = first.await.unwrap();
        assert!(String::from_utf8_lossy(&first).starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(closed);
        assert_eq!(second.status, 200);
        assert!(
            waited > Duration::from_millis(1000),
            "served at once ({waited:?}) despite max_connections = 1"
        );
        let limit = "connection limit reached; new connections wait in the backlog";
        assert_eq!(gw.wait_log(limit, 1, Duration::from_secs(5)).await.len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_stream_both_ways() {
    bounded(20, async {
        let up = Upstream::start().await;
        let gw = Gateway::start(&config(&up.url(), ""), &[]);
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
        let up = Upstream::start().await;
        let gw = Gateway::start(&config(&up.url(), ""), &[]);
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
    use rustls::pki_types::ServerName;
    bounded(20, async {
        let up = Upstream::start().await;
        let tls = format!(
            "[tls]\ncert = {:?}\nkey = {:?}\n",
            fixture("cert.pem").display().to_string(),
            fixture("key.pem").display().to_string()
        );
        let gw = Gateway::start(&config(&up.url(), &tls), &[]);
        let mut roots = rustls::RootCertStore::empty();
        let ca = std::fs::read(fixture("ca.pem")).unwrap();
        for c in rustls_pemfile::certs(&mut &ca[..]) {
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
        let up = Upstream::start().await;
        let with_origins = |origins: &str| {
            format!(
                "listen = \"127.0.0.1:0\"\nupstream = \"{}\"\n[[policy]]\nname = \"api\"\nallow_origins = [{origins}]\n",
                up.url()
            )
        };
        let gw = Gateway::start(&with_origins("\"https://a.example\""), &[]);
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
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(b_allowed.load(Ordering::Relaxed), 0);

        // A valid change: the new policy takes effect.
        gw.rewrite_config(&with_origins("\"https://a.example\", \"https://b.example\""));
        wait_until("b.example to be allowed", || b_allowed.load(Ordering::Relaxed) > 0).await;
        gw.wait_log("config reloaded", 1, Duration::from_secs(5)).await;

        // An invalid one: refused with its problems logged, the old one serves.
        gw.rewrite_config(&with_origins("\"*\"]\nallow_credentials = true\n#"));
        gw.wait_log("config reload refused; the previous config keeps serving", 1, Duration::from_secs(5))
            .await;
        let problems = gw.logs_with("config problem");
        assert!(
            problems.iter().any(|p| p["key"] == "policy[0].allow_origins[0]"),
            "{problems:?}"
        );
        let before = b_allowed.load(Ordering::Relaxed);
        wait_until("b.example still allowed", || b_allowed.load(Ordering::Relaxed) > before + 20).await;

        // SIGHUP forces a reload (and does not end the process).
        gw.rewrite_config(&with_origins("\"https://a.example\""));
        gw.signal("HUP");
        gw.wait_log("config reloaded", 2, Duration::from_secs(5)).await;
        let c = client();
        let r = send(&c, "GET", &url, &[("origin", "https://b.example")]).await.unwrap();
        assert_eq!(r.header("access-control-allow-origin"), None);

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
        assert_eq!(
            gw.wait_log("SIGHUP: reloading the config", 1, Duration::from_secs(5))
                .await
                .len(),
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_the_request_in_flight_then_exits_0() {
    bounded(30, async {
        let up = Upstream::start().await;
        let mut gw = Gateway::start(&config(&up.url(), &admin(free_addr().port())), &[]);
        let url = gw.url("/api/slow");
        let in_flight = tokio::spawn(async move { get(&url, &[("origin", APP)]).await });
        up.wait_seen(1).await; // the upstream now takes 2 s to answer
        gw.signal("TERM");
        gw.wait_log("shutting down: draining in-flight requests", 1, Duration::from_secs(5))
            .await;
        // No new connections, and the health check says so...
        assert!(tokio::net::TcpStream::connect(gw.addr).await.is_err());
        let h = get(&format!("http://{}/healthz", gw.admin.unwrap()), &[]).await;
        assert_eq!((h.status.as_u16(), h.text().as_str()), (503, "draining\n"));
        // ...but the request in flight completes.
        let r = in_flight.await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "slow ok");
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
        let st = tokio::task::block_in_place(|| gw.wait_exit(Duration::from_secs(10))).expect("exited");
        assert!(st.success(), "{st}");
        gw.wait_log("drained; bye", 1, Duration::from_secs(2)).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_default_allows_localhost_with_the_echo_upstream() {
    bounded(20, async {
        let gw = Gateway::start_args(&["serve", "--log-format", "json", "--listen", "127.0.0.1:0"]);
        let r = get(&gw.url("/hello?who=me"), &[("origin", "http://localhost:3000")]).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("access-control-allow-origin").as_deref(),
            Some("http://localhost:3000")
        );
        assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
        let echo: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(echo["method"], "GET");
        assert_eq!(echo["path"], "/hello");
        assert_eq!(echo["query"], "who=me");
        assert_eq!(echo["headers"]["origin"], "http://localhost:3000");
        assert_eq!(echo["headers"]["x-forwarded-for"], "127.0.0.1");
        let r = send(
            &client(),
            "OPTIONS",
            &gw.url("/hello"),
            &[
                ("origin", "http://127.0.0.1:5173"),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "content-type"),
            ],
        )
        .await
        .unwrap();
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(
            r.header("access-control-allow-origin").as_deref(),
            Some("http://127.0.0.1:5173")
        );
        let r = get(&gw.url("/hello"), &[("origin", "https://evil.example")]).await;
        assert_eq!(r.header("access-control-allow-origin"), None);
        let start = &gw
            .wait_log("proxying to the built-in echo service", 1, Duration::from_secs(5))
            .await;
        assert_eq!(start.len(), 1);
        assert_eq!(
            gw.wait_log("policy", 1, Duration::from_secs(5)).await[0]["policy"],
            "local-development"
        );
    })
    .await;
}

#[test]
fn bad_config_or_arguments_exit_nonzero_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_corsair"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{args:?} did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "listen = \"nowhere\"\nupstream = \"ftp://x\"\n[[policy]]\nallow_origins = [\"*\"]\nallow_credentials = true\n",
    )
    .unwrap();
    let (code, err) = run(&["serve", "--config", bad.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    for want in [
        bad.to_str().unwrap(),
        "listen",
        "upstream",
        "policy[0].allow_origins[0]",
    ] {
        assert!(err.contains(want), "missing {want:?} in {err}");
    }
    assert!(!err.contains("panicked"), "{err}");

    let (code, err) = run(&["serve", "--config", dir.path().join("missing.toml").to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("cannot read the file"), "{err}");

    let (code, err) = run(&["serve", "--listen", "nowhere"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--listen"), "{err}");
    let (code, err) = run(&["serve", "--upstream", "ftp://x"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--upstream"), "{err}");

    let tls = dir.path().join("tls.toml");
    std::fs::write(
        &tls,
        format!(
            "listen = \"127.0.0.1:0\"\nupstream = \"builtin:echo\"\n[tls]\ncert = {:?}\nkey = {:?}\n[[policy]]\nallow_origins = [\"https://a.example\"]\n",
            fixture("key.pem").display().to_string(),
            fixture("key.pem").display().to_string()
        ),
    )
    .unwrap();
    let (code, err) = run(&["serve", "--config", tls.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("tls.cert"), "{err}");

    // The address is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, err) = run(&["serve", "--listen", &addr]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("cannot listen on"), "{err}");
}
