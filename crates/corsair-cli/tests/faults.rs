//! Fault injection against `corsair serve`, on loopback only: upstreams that
//! refuse, reset, stall or answer garbage; clients that drip, oversize,
//! send control bytes, open thousands of keep-alive connections or
//! pipeline; SIGTERM with requests in flight. For each: the gateway stays
//! up (a follow-up request succeeds), answers with the right status, and
//! loses no in-flight request that could complete. Every test is bounded
//! in count and time.

mod support_faults;
mod support_gateway;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support_faults::{
    assert_allowed, exchange, fault_config, get, open_files_limit, read_request_head, read_response, request,
    target_of, Resp, GOOD,
};
use support_gateway::{free_addr, Gateway};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const EVIL: &str = "https://evil.example";

/// The gateway config in front of `upstream`.
fn config(upstream: &str, header_read_timeout: u64) -> String {
    fault_config(upstream, header_read_timeout)
}

/// Asserts no CORS grant is on `r`.
fn assert_not_granted(r: &Resp, what: &str) {
    assert!(r.header("access-control-allow-origin").is_none(), "{what}: {r:?}");
    assert!(r.header("access-control-allow-credentials").is_none(), "{what}: {r:?}");
}

/// Whether the gateway still answers a normal request.
async fn assert_up(gw_addr: SocketAddr, path: &str) {
    let r = get(gw_addr, path, Some(GOOD)).await;
    assert_eq!(r.status, 200, "follow-up request: {r:?}");
    assert!(r.complete);
    assert_allowed(&r, "follow-up");
}

// ---------------------------------------------------------------------------
// A fault-injecting upstream (raw TCP): the path picks the behaviour.
// ---------------------------------------------------------------------------

const BIG: usize = 100_000;

/// Serves one connection of the fault upstream; `hits` counts requests.
async fn fault_connection(stream: TcpStream, hits: Arc<AtomicUsize>) {
    let mut r = BufReader::new(stream);
    while let Some(head) = read_request_head(&mut r).await {
        hits.fetch_add(1, Ordering::SeqCst);
        let path = target_of(&head);
        let s = r.get_mut();
        let ok = |body: &str| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        match path.as_str() {
            "/reset-cl" => {
                let _ = s
                    .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {BIG}\r\n\r\n").as_bytes())
                    .await;
                let _ = s.write_all(&[b'x'; 1000]).await;
                let _ = s.flush().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                let _ = s.set_zero_linger();
                return; // dropped with linger 0: RST
            }
            "/reset-chunked" => {
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n")
                    .await;
                let _ = s.write_all(&[b'y'; 1000]).await;
                let _ = s.write_all(b"\r\n10\r\nyyyy").await;
                let _ = s.flush().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                let _ = s.set_zero_linger();
                return;
            }
            "/slow-head" => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                let _ = s.write_all(ok("late").as_bytes()).await;
            }
            "/slow-body" => {
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 30\r\n\r\n")
                    .await;
                for _ in 0..10 {
                    let _ = s.write_all(b"abc").await;
                    let _ = s.flush().await;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            }
            "/garbage" => {
                let _ = s.write_all(b"HELLO THERE\r\n\r\n").await;
                return;
            }
            "/bad-header-name" => {
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nX Bad: y\r\nContent-Length: 2\r\n\r\nok")
                    .await;
                return;
            }
            "/nul-in-value" => {
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok")
                    .await;
                return;
            }
            "/two-lengths" => {
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!")
                    .await;
                return;
            }
            "/huge-head" => {
                let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
                for i in 0..2000 {
                    head.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "f".repeat(1000)).as_bytes());
                }
                head.extend_from_slice(b"Content-Length: 2\r\n\r\nok");
                let _ = s.write_all(&head).await;
                return;
            }
            "/close-early" => return,
            "/then-close" => {
                // A keep-alive answer, then the upstream drops the connection
                // (a server's idle timeout racing the gateway's pool).
                let _ = s.write_all(ok("then-close").as_bytes()).await;
                let _ = s.flush().await;
                return;
            }
            "/hostile-cors" => {
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Credentials: true\r\n\
                          Access-Control-Allow-Methods: DELETE\r\nAccess-Control-Expose-Headers: set-cookie\r\n\
                          Content-Length: 2\r\n\r\nok",
                    )
                    .await;
            }
            "/hold" => {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                let _ = s.write_all(ok("held").as_bytes()).await;
            }
            _ => {
                let _ = s.write_all(ok(&format!("ok {path}")).as_bytes()).await;
            }
        }
        let _ = s.flush().await;
    }
}

/// Starts the fault upstream on `listener`; returns its request counter.
fn serve_faults(listener: TcpListener) -> Arc<AtomicUsize> {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = listener.accept().await else { continue };
            tokio::spawn(fault_connection(s, h.clone()));
        }
    });
    hits
}

async fn fault_upstream() -> (SocketAddr, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    (a, serve_faults(l))
}

// ---------------------------------------------------------------------------
// Upstream faults
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_refusing_connections_gets_502_then_recovers() {
    let up = free_addr();
    let gw = Gateway::start(&config(&format!("http://{up}"), 5), &[]);
    let started = Instant::now();
    for i in 0..20 {
        let r = get(gw.addr, &format!("/refused/{i}"), Some(GOOD)).await;
        assert_eq!(r.status, 502, "{r:?}");
        assert_allowed(&r, "502 for an allowed origin");
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    }
    let r = get(gw.addr, "/refused", Some(EVIL)).await;
    assert_eq!(r.status, 502);
    assert_not_granted(&r, "502 for a rejected origin");
    assert!(r.varies_on_origin());
    assert!(started.elapsed() < Duration::from_secs(10), "refusals are fast");
    // Preflights never need the upstream.
    let r = exchange(
        gw.addr,
        &request("OPTIONS", "/x", Some(GOOD), &["Access-Control-Request-Method: PUT"]),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 204);
    // The upstream comes up on the same port: the gateway recovers.
    let listener = TcpListener::bind(up).await.expect("rebind the upstream port");
    let _hits = serve_faults(listener);
    assert_up(gw.addr, "/back").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_reset_mid_body_truncates_visibly() {
    let (up, _) = fault_upstream().await;
    let gw = Gateway::start(&config(&format!("http://{up}"), 5), &[]);
    // Content-Length: the client gets the head, then fewer bytes than
    // announced and the close: the truncation is visible to it (and to
    // any cache in between).
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        exchange(gw.addr, &request("GET", "/reset-cl", Some(GOOD), &[])),
    )
    .await
    .expect("bounded")
    .expect("a response head");
    assert_eq!(r.status, 200);
    assert_allowed(&r, "reset-cl head");
    assert_eq!(r.header("content-length").as_deref(), Some(BIG.to_string().as_str()));
    assert!(
        !r.complete,
        "a reset body must not look complete: {} bytes",
        r.body.len()
    );
    assert!(r.body.len() < BIG);
    // Chunked: no terminating chunk ever reaches the client.
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        exchange(gw.addr, &request("GET", "/reset-chunked", Some(GOOD), &[])),
    )
    .await
    .expect("bounded")
    .expect("a response head");
    assert_eq!(r.status, 200);
    assert!(!r.complete, "a reset chunked body must not end with the last chunk");
    assert_up(gw.addr, "/after-reset").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_upstream_head_gets_504_slow_body_streams_through() {
    let (up, _) = fault_upstream().await;
    let gw = Gateway::start(&config(&format!("http://{up}"), 5), &[]);
    let started = Instant::now();
    let r = get(gw.addr, "/slow-head", Some(GOOD)).await;
    let took = started.elapsed();
    assert_eq!(r.status, 504, "{r:?}");
    assert_allowed(&r, "504");
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(4),
        "504 after upstream_timeout (2 s), took {took:?}"
    );
    // upstream_timeout bounds the head only: a body that trickles for 3 s
    // arrives whole.
    let started = Instant::now();
    let r = get(gw.addr, "/slow-body", Some(GOOD)).await;
    assert_eq!(r.status, 200);
    assert!(r.complete, "{r:?}");
    assert_eq!(r.text(), "abc".repeat(10));
    assert!(started.elapsed() >= Duration::from_millis(2500));
    assert_allowed(&r, "slow body");
    assert_up(gw.addr, "/after-slow").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_upstream_answers_get_502() {
    let (up, _) = fault_upstream().await;
    let gw = Gateway::start(&config(&format!("http://{up}"), 5), &[]);
    for path in [
        "/garbage",
        "/bad-header-name",
        "/nul-in-value",
        "/two-lengths",
        "/huge-head",
        "/close-early",
    ] {
        let r = get(gw.addr, path, Some(GOOD)).await;
        assert_eq!(r.status, 502, "{path}: {r:?}");
        assert_allowed(&r, path);
        let r = get(gw.addr, path, Some(EVIL)).await;
        assert_eq!(r.status, 502, "{path}: {r:?}");
        assert_not_granted(&r, path);
        assert_up(gw.addr, "/ok").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_cors_headers_never_pass_through() {
    let (up, _) = fault_upstream().await;
    let gw = Gateway::start(&config(&format!("http://{up}"), 5), &[]);
    let r = get(gw.addr, "/hostile-cors", Some(GOOD)).await;
    assert_eq!(r.status, 200);
    assert_allowed(&r, "hostile upstream, allowed origin");
    assert!(r.header("access-control-allow-methods").is_none());
    assert!(r.header("access-control-expose-headers").is_none());
    for origin in [Some(EVIL), None, Some("null")] {
        let r = get(gw.addr, "/hostile-cors", origin).await;
        assert_eq!(r.status, 200);
        assert!(r.cors_headers().is_empty(), "{origin:?}: {r:?}");
        assert!(r.varies_on_origin());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_preflights_never_reach_the_upstream() {
    let (up, hits) = fault_upstream().await;
    let gw = Gateway::start(&config(&format!("http://{up}"), 5), &[]);
    let cases: [(Option<&str>, &[&str], u16); 6] = [
        (Some(EVIL), &["Access-Control-Request-Method: PUT"], 403),
        (Some("null"), &["Access-Control-Request-Method: PUT"], 403),
        (Some(GOOD), &["Access-Control-Request-Method: DELETE"], 403),
        (
            Some(GOOD),
            &[
                "Access-Control-Request-Method: PUT",
                "Access-Control-Request-Headers: x-secret",
            ],
            403,
        ),
        (Some(GOOD), &["Access-Control-Request-Method: PUT, DELETE"], 403),
        (
            Some(GOOD),
            &[
                "Access-Control-Request-Method: PUT",
                "Access-Control-Request-Headers: content-type",
            ],
            204,
        ),
    ];
    for (origin, extra, status) in cases {
        let r = exchange(gw.addr, &request("OPTIONS", "/p", origin, extra))
            .await
            .unwrap();
        assert_eq!(r.status, status, "{origin:?} {extra:?}: {r:?}");
        if status == 403 {
            assert!(r.cors_headers().is_empty(), "{r:?}");
        }
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "a preflight reached the upstream");
    assert_up(gw.addr, "/actual").await;
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_closing_pooled_connections_loses_nothing() {
    let (up, hits) = fault_upstream().await;
    let gw = Gateway::start(&config(&format!("http://{up}"), 5), &[]);
    for i in 0..30 {
        let r = get(gw.addr, "/then-close", Some(GOOD)).await;
        assert_eq!(r.status, 200, "request {i}: {r:?}");
        assert_eq!(r.text(), "then-close");
        // Sometimes straight away, sometimes after the close has landed.
        if i % 3 == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(hits.load(Ordering::SeqCst), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_hanging_up_mid_request_do_not_hurt() {
    let (up, hits) = fault_upstream().await;
    let gw = Gateway::start(&config(&format!("http://{up}"), 5), &[]);
    for _ in 0..50 {
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        s.write_all(&request("GET", "/hold", Some(GOOD), &[])).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        drop(s);
    }
    // Half a request, then gone.
    for _ in 0..20 {
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        s.write_all(b"PUT /half HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly this")
            .await
            .unwrap();
        drop(s);
    }
    assert_up(gw.addr, "/after-hangups").await;
    assert!(hits.load(Ordering::SeqCst) <= 71);
}

/// An upstream that counts the connections it accepts and answers every
/// request with `body` (a keep-alive answer of `body.len()` bytes).
async fn counting_upstream(body: &'static str) -> (SocketAddr, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let conns = Arc::new(AtomicUsize::new(0));
    let reqs = Arc::new(AtomicUsize::new(0));
    let (c, r) = (conns.clone(), reqs.clone());
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { continue };
            c.fetch_add(1, Ordering::SeqCst);
            let r = r.clone();
            tokio::spawn(async move {
                let mut s = BufReader::new(s);
                while read_request_head(&mut s).await.is_some() {
                    r.fetch_add(1, Ordering::SeqCst);
                    let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                    if s.get_mut().write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, conns, reqs)
}

/// The upstream pool keeps connections: 40 requests from 40 client
/// connections, one after the other, travel over one upstream connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_connections_are_reused() {
    let (up, conns, reqs) = counting_upstream("pooled").await;
    let gw = Gateway::start(&format!("workers = 1\n{}", config(&format!("http://{up}"), 5)), &[]);
    for i in 0..40 {
        let r = get(gw.addr, &format!("/r{i}"), Some(GOOD)).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.text(), "pooled");
        assert_allowed(&r, "pooled");
    }
    assert_eq!(reqs.load(Ordering::SeqCst), 40);
    assert_eq!(
        conns.load(Ordering::SeqCst),
        1,
        "every request should reuse the one idle connection"
    );
}

/// A client that leaves before reading a large answer must not leave its
/// half-read upstream connection in the pool: the next requests get their
/// own answers, whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_read_upstream_answers_are_not_reused() {
    static BIG_BODY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| "z".repeat(4 << 20));
    let (up, conns, _) = counting_upstream(BIG_BODY.as_str()).await;
    let gw = Gateway::start(&format!("workers = 1\n{}", config(&format!("http://{up}"), 5)), &[]);
    for _ in 0..5 {
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        s.write_all(&request("GET", "/big", Some(GOOD), &[])).await.unwrap();
        let mut first = [0u8; 1024];
        let _ = s.read(&mut first).await.unwrap();
        drop(s); // 4 MiB left unread
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = get(gw.addr, "/after", Some(GOOD)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), BIG_BODY.len(), "a whole answer after the hang-ups");
    assert!(r.body.iter().all(|&b| b == b'z'));
    assert!(conns.load(Ordering::SeqCst) >= 2, "a half-read connection was reused");
}

// ---------------------------------------------------------------------------
// Client faults (in front of the built-in echo upstream)
// ---------------------------------------------------------------------------

/// Reads until the peer closes (or `limit` passes); returns what came and
/// whether it closed.
async fn read_until_close(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return (got, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_clients_are_cut_off_and_others_served() {
    let gw = Gateway::start(&config("builtin:echo", 2), &[]);
    let addr = gw.addr;
    // 50 clients that drip a header byte every 300 ms, and 10 that send nothing.
    let mut drips = Vec::new();
    for i in 0..60 {
        drips.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let started = Instant::now();
            if i < 50 {
                s.write_all(b"GET /drip HTTP/1.1\r\nHost: x\r\n").await.unwrap();
                for b in b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    .iter()
                    .cycle()
                    .take(40)
                {
                    if s.write_all(&[*b]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    if started.elapsed() > Duration::from_secs(8) {
                        break;
                    }
                }
            }
            let (got, closed) = read_until_close(&mut s, Duration::from_secs(8)).await;
            (started.elapsed(), got, closed)
        }));
    }
    // Meanwhile, normal clients are served promptly.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for i in 0..5 {
        let t = Instant::now();
        assert_up(addr, &format!("/normal/{i}")).await;
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "a normal request waited {:?}",
            t.elapsed()
        );
    }
    for d in drips {
        let (took, got, closed) = d.await.unwrap();
        assert!(closed, "a slow client was never cut off");
        assert!(
            took < Duration::from_secs(5),
            "cut off after {took:?} (header_read_timeout is 2 s)"
        );
        let text = String::from_utf8_lossy(&got);
        eprintln!("slow client cut off after {took:?}, got {:?}", text.lines().next());
        assert!(
            got.is_empty() || text.starts_with("HTTP/1.1 408"),
            "a slow client got {text:?}"
        );
    }
    assert_up(addr, "/after-slowloris").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers_get_431() {
    let gw = Gateway::start(&config("builtin:echo", 5), &[]);
    let one_big = format!("X-Big: {}", "b".repeat(20_000));
    let many: Vec<String> = (0..400).map(|i| format!("X-Many-{i}: {}", "m".repeat(20))).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let big_origin = format!("https://{}.example.com", "o".repeat(10_000));
    for (what, raw) in [
        ("one 20 KB header", request("GET", "/big", Some(GOOD), &[&one_big])),
        ("400 headers", request("GET", "/many", Some(GOOD), &many)),
        ("a 10 KB Origin", request("GET", "/origin", Some(&big_origin), &[])),
    ] {
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        // The gateway may answer and close before reading everything.
        let _ = s.write_all(&raw).await;
        let mut r = BufReader::new(s);
        let resp = tokio::time::timeout(Duration::from_secs(5), read_response(&mut r, false))
            .await
            .expect("bounded");
        match resp {
            Ok(resp) => {
                assert_eq!(resp.status, 431, "{what}: {resp:?}");
                assert!(resp.cors_headers().is_empty(), "{what}");
            }
            Err(e) => panic!("{what}: no response ({e})"),
        }
    }
    // Just under the limit passes.
    let fits = format!("X-Fits: {}", "f".repeat(7_000));
    let r = exchange(gw.addr, &request("GET", "/fits", Some(GOOD), &[&fits]))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_up(gw.addr, "/after-431").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_origin_bytes_are_refused_or_rejected() {
    let gw = Gateway::start(&config("builtin:echo", 5), &[]);
    // Bytes hyper accepts in a field value (obs-text, tab): the request is
    // served, the origin is not granted.
    for origin in [
        &b"https://app.example.com\xff"[..],
        b"\xc3\x28",
        b"https://app.\xe2\x80\x8bexample.com",
        b"https://app.example.com\t.evil",
        b"https://app.example.com, https://evil.example",
        b"https://APP.example.com",
    ] {
        let mut raw = b"GET /o HTTP/1.1\r\nHost: x\r\nOrigin: ".to_vec();
        raw.extend_from_slice(origin);
        raw.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
        let r = exchange(gw.addr, &raw).await.unwrap();
        assert_eq!(r.status, 200, "{origin:?}: {r:?}");
        assert!(r.cors_headers().is_empty(), "{origin:?}: {r:?}");
        assert!(r.varies_on_origin());
        // The same as a preflight: 403, nothing granted.
        let mut raw = b"OPTIONS /o HTTP/1.1\r\nHost: x\r\nAccess-Control-Request-Method: PUT\r\nOrigin: ".to_vec();
        raw.extend_from_slice(origin);
        raw.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
        let r = exchange(gw.addr, &raw).await.unwrap();
        assert_eq!(r.status, 403, "{origin:?}: {r:?}");
        assert!(r.cors_headers().is_empty(), "{origin:?}: {r:?}");
    }
    // Two Origin lines, one of them allowed: rejected.
    let raw = format!("GET /two HTTP/1.1\r\nHost: x\r\nOrigin: {GOOD}\r\nOrigin: {EVIL}\r\nConnection: close\r\n\r\n");
    let r = exchange(gw.addr, raw.as_bytes()).await.unwrap();
    assert!(r.cors_headers().is_empty(), "{r:?}");
    // Control bytes and broken framing: hyper refuses the request (400) or
    // closes; nothing is granted and nothing is forwarded.
    for origin in [
        &b"https://app.example.com\x00"[..],
        b"https://app.\x01example.com",
        b"https://app.example.com\x7f",
        b"https://app.example.com\rX-Injected: 1",
        b"https://evil.example\r\n .app.example.com",
    ] {
        let mut raw = b"GET /ctl HTTP/1.1\r\nHost: x\r\nOrigin: ".to_vec();
        raw.extend_from_slice(origin);
        raw.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
        let outcome = exchange(gw.addr, &raw).await;
        eprintln!("Origin {origin:?}: {:?}", outcome.as_ref().map(|r| r.status));
        match outcome {
            Ok(r) => {
                assert_eq!(r.status, 400, "{origin:?}: {r:?}");
                assert!(r.cors_headers().is_empty(), "{origin:?}");
            }
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{origin:?}: {e}"),
        }
    }
    assert_up(gw.addr, "/after-bytes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_are_answered_in_order() {
    let gw = Gateway::start(&config("builtin:echo", 5), &[]);
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    let mut batch = Vec::new();
    let reqs: [(&str, &str, Option<&str>, &[&str]); 6] = [
        ("GET", "/p1", Some(GOOD), &[]),
        ("OPTIONS", "/p2", Some(GOOD), &["Access-Control-Request-Method: PUT"]),
        ("OPTIONS", "/p3", Some(EVIL), &["Access-Control-Request-Method: PUT"]),
        ("GET", "/p4", None, &[]),
        ("HEAD", "/p5", Some(GOOD), &[]),
        ("GET", "/p6", Some(EVIL), &[]),
    ];
    for (m, p, o, extra) in &reqs {
        let mut r = format!("{m} {p} HTTP/1.1\r\nHost: x\r\n");
        if let Some(o) = o {
            r.push_str(&format!("Origin: {o}\r\n"));
        }
        for e in *extra {
            r.push_str(e);
            r.push_str("\r\n");
        }
        r.push_str("\r\n");
        batch.extend_from_slice(r.as_bytes());
    }
    // One write for all six, plus a seventh asking to close.
    batch.extend_from_slice(b"GET /p7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(&batch).await.unwrap();
    let mut r = BufReader::new(s);
    let expect = [
        (200, true),
        (204, true),
        (403, false),
        (200, false),
        (200, true),
        (200, false),
    ];
    for (i, ((m, p, _, _), (status, granted))) in reqs.iter().zip(expect).enumerate() {
        let resp = tokio::time::timeout(Duration::from_secs(5), read_response(&mut r, *m == "HEAD"))
            .await
            .expect("bounded")
            .unwrap_or_else(|e| panic!("response {i} ({m} {p}): {e}"));
        assert_eq!(resp.status, status, "{m} {p}: {resp:?}");
        assert_eq!(resp.header("access-control-allow-origin").is_some(), granted, "{m} {p}");
        if *m == "GET" {
            assert!(
                resp.text().contains(&format!("\"path\": \"{p}\"")),
                "{p} out of order: {}",
                resp.text()
            );
        }
    }
    let last = read_response(&mut r, false).await.unwrap();
    assert_eq!(last.status, 200);
    assert!(last.text().contains("\"path\": \"/p7\""));
}

/// How many connections fit: each costs `fds` descriptors here and in the
/// gateway (which inherits this process's limit); stay well within the
/// soft limit, and say so loudly when that means fewer than wanted.
fn crowd_size(want: usize, fds: usize) -> usize {
    let limit = open_files_limit().unwrap_or(1024);
    let n = want.min(usize::try_from(limit).unwrap_or(1024).saturating_sub(200) / fds);
    if n < want {
        eprintln!(
            "NOTE: the open-files soft limit is {limit}; using {n} connections instead of {want} \
             (raise it with `ulimit -n 8192`)"
        );
    }
    n
}

/// `n` clients, each on its own keep-alive connection: a first request,
/// then a wait until every client has had its answer (so that all `n`
/// connections are open at once), then a second request on the same
/// connection. Every answer must be right.
async fn crowd(addr: SocketAddr, n: usize) {
    // One crowd at a time: they share this process's descriptors.
    static CROWD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = CROWD.lock().await;
    let started = Instant::now();
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = None;
            for _ in 0..50 {
                match TcpStream::connect(addr).await {
                    Ok(c) => {
                        s = Some(c);
                        break;
                    }
                    // A full accept backlog: retry shortly.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
            let s = s.expect("connect");
            let mut r = BufReader::new(s);
            for round in 0..2 {
                let origin = if i % 2 == 0 { GOOD } else { EVIL };
                let raw = format!("GET /c/{i}/{round} HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\r\n");
                r.get_mut().write_all(raw.as_bytes()).await.expect("write");
                let resp = read_response(&mut r, false).await.expect("response");
                assert_eq!(resp.status, 200, "{resp:?}");
                assert_eq!(resp.header("access-control-allow-origin").is_some(), i % 2 == 0);
                assert!(resp.text().contains(&format!("/c/{i}/{round}")), "{}", resp.text());
                if round == 0 {
                    barrier.wait().await;
                }
            }
        }));
    }
    let all = async {
        for t in tasks {
            t.await.expect("a connection failed");
        }
    };
    tokio::time::timeout(Duration::from_secs(90), all)
        .await
        .expect("the crowd was served within 90 s");
    eprintln!("{n} keep-alive connections x 2 requests in {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_concurrent_keep_alive_connections() {
    let n = crowd_size(2000, 1);
    let gw = Gateway::start(&config("builtin:echo", 20), &[]);
    crowd(gw.addr, n).await;
    assert_up(gw.addr, "/after-crowd").await;
}

/// The same through a real upstream: the gateway's upstream pool grows to
/// about a thousand connections at once and loses no request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_requests_through_the_upstream_pool() {
    let n = crowd_size(1000, 2);
    let (up, hits) = fault_upstream().await;
    let gw = Gateway::start(&config(&format!("http://{up}"), 20), &[]);
    crowd(gw.addr, n).await;
    assert_eq!(hits.load(Ordering::SeqCst), 2 * n);
    assert_up(gw.addr, "/after-crowd").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests() {
    let (up, hits) = fault_upstream().await;
    let mut gw = Gateway::start(&config(&format!("http://{up}"), 5), &[]);
    let addr = gw.addr;
    // An idle keep-alive connection must not hold shutdown up.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /warm HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut idle = BufReader::new(idle);
    assert_eq!(read_response(&mut idle, false).await.unwrap().status, 200);
    let base = hits.load(Ordering::SeqCst);

    let n = 20;
    let mut inflight = Vec::new();
    for i in 0..n {
        inflight.push(tokio::spawn(async move {
            let origin = if i % 2 == 0 { Some(GOOD) } else { None };
            exchange(addr, &request("GET", "/hold", origin, &[])).await
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while hits.load(Ordering::SeqCst) < base + n {
        assert!(Instant::now() < deadline, "requests did not reach the upstream");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let signalled = Instant::now();
    gw.signal("TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // New connections are refused once the listener is closed.
    let refused = TcpStream::connect(addr).await;
    assert!(refused.is_err(), "the listener still accepts after SIGTERM");
    for (i, t) in inflight.into_iter().enumerate() {
        let r = t
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("in-flight request {i} lost: {e}"));
        assert_eq!(r.status, 200, "in-flight request {i}: {r:?}");
        assert!(r.complete);
        assert_eq!(r.text(), "held");
        assert_eq!(r.header("access-control-allow-origin").is_some(), i % 2 == 0);
    }
    // The idle connection is closed.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the idle keep-alive connection was not closed");
    let status = tokio::task::spawn_blocking(move || {
        let s = gw.wait_exit(Duration::from_secs(10));
        (s, gw.logs())
    })
    .await
    .unwrap();
    let (Some(exit), logs) = status else {
        panic!("the gateway did not exit within 10 s of SIGTERM")
    };
    assert!(exit.success(), "exit status {exit:?}; log:\n{logs}");
    assert!(
        signalled.elapsed() < Duration::from_secs(8),
        "shutdown took {:?}",
        signalled.elapsed()
    );
    assert!(logs.contains("SIGTERM"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_never_fails_a_request() {
    let (up, _) = fault_upstream().await;
    let gw = Gateway::start(&config(&format!("http://{up}"), 5), &[]);
    let addr = gw.addr;
    let other = "https://other.example.com";
    let next = config(&format!("http://{up}"), 5).replace(GOOD, other);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for w in 0..8 {
        let stop = stop.clone();
        load.push(tokio::spawn(async move {
            let mut seen = (0usize, 0usize, 0usize);
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let origin = if (w + i) % 2 == 0 { GOOD } else { other };
                let r = get(addr, &format!("/load/{w}/{i}"), Some(origin)).await;
                assert_eq!(r.status, 200, "{r:?}");
                assert!(r.complete);
                match r.header("access-control-allow-origin") {
                    Some(a) => {
                        assert_eq!(a, origin, "ACAO for another origin");
                        if origin == GOOD {
                            seen.0 += 1
                        } else {
                            seen.1 += 1
                        }
                    }
                    None => seen.2 += 1,
                }
                i += 1;
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Replace the file atomically (write + rename), as editors and config
    // management do; the gateway polls it once a second.
    gw.rewrite_config(&next);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = get(addr, "/probe", Some(other)).await;
        if r.header("access-control-allow-origin").as_deref() == Some(other) {
            break;
        }
        assert!(Instant::now() < deadline, "the reload never took; log:\n{}", gw.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut total = (0, 0, 0);
    for l in load {
        let s = l.await.expect("a load worker failed");
        total = (total.0 + s.0, total.1 + s.1, total.2 + s.2);
    }
    assert!(total.0 > 0 && total.1 > 0, "both policies served: {total:?}");
    let r = get(addr, "/after", Some(GOOD)).await;
    assert_not_granted(&r, "the old origin after the reload");
    let logs = gw.logs();
    assert!(logs.contains("config reloaded"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http1_keep_alive_connections_are_closed() {
    let gw = Gateway::start(&config("builtin:echo", 2), &[]);
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut r = BufReader::new(s);
    assert_eq!(read_response(&mut r, false).await.unwrap().status, 200);
    let t = Instant::now();
    let (got, closed) = read_until_close(r.get_mut(), Duration::from_secs(8)).await;
    assert!(closed, "an idle keep-alive connection stays open");
    assert!(got.is_empty());
    assert!(t.elapsed() < Duration::from_secs(4), "closed after {:?}", t.elapsed());
}

/// HTTP/2 with prior knowledge: the preface and an empty SETTINGS frame,
/// then silence. Such a connection holds a `max_connections` permit, so
/// idle ones must be closed like HTTP/1.1's are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http2_connections_are_closed() {
    let gw = Gateway::start(&config("builtin:echo", 2), &[]);
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let t = Instant::now();
    let (_, closed) = read_until_close(&mut s, Duration::from_secs(10)).await;
    assert!(
        closed,
        "an idle HTTP/2 connection is still open after {:?}",
        t.elapsed()
    );
}

/// An upstream that records the raw bytes of each connection (until 200 ms
/// of silence), then answers `ok` once.
async fn recording_upstream() -> (SocketAddr, Arc<std::sync::Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up = l.local_addr().unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else { continue };
            let log = log.clone();
            tokio::spawn(async move {
                let mut all = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await {
                    if n == 0 {
                        break;
                    }
                    all.extend_from_slice(&buf[..n]);
                }
                log.lock().unwrap().push(String::from_utf8_lossy(&all).into_owned());
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                    .await;
            });
        }
    });
    (up, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_smuggling_attempts_are_refused_or_reframed() {
    let (up, seen) = recording_upstream().await;
    let gw = Gateway::start(&config(&format!("http://{up}"), 5), &[]);
    let ambiguous: [&[u8]; 4] = [
        b"POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nhello",
        b"POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\nhello",
        b"POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello",
    ];
    for raw in ambiguous {
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        s.write_all(raw).await.unwrap();
        let (got, closed) = read_until_close(&mut s, Duration::from_secs(5)).await;
        let text = String::from_utf8_lossy(&got);
        assert!(
            text.starts_with("HTTP/1.1 400 "),
            "{:?} -> {text:?}",
            String::from_utf8_lossy(raw)
        );
        assert!(closed);
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "an ambiguous request reached the upstream"
    );
    // Content-Length and Transfer-Encoding together: chunked wins, the length
    // is dropped, the body is re-framed for the upstream, and the connection
    // is closed after the answer, so the bytes after the chunked body are
    // never taken for a request (RFC 9112 6.3).
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(
        b"POST /cl-te HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await
    .unwrap();
    let (got, closed) = read_until_close(&mut s, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200 "), "{text:?}");
    assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text:?}");
    assert!(closed);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let head = seen[0].to_ascii_lowercase();
    assert!(head.starts_with("post /cl-te "), "{head}");
    assert!(!head.contains("content-length"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert!(head.contains("\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), "{head}");
    assert!(!head.contains("smuggled"));
    assert_up(gw.addr, "/after-smuggling").await;
}
