//! Fault injection against the gateway, in-process and on loopback only:
//! upstreams that refuse, reset, stall or answer garbage; clients that
//! drip, oversize, send control bytes, open thousands of keep-alive
//! connections or pipeline; a shutdown with requests in flight. For each:
//! the gateway stays up (a follow-up request succeeds), answers with the
//! right status, and loses no in-flight request that could complete. Every
//! test is bounded in count and time.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corsair_testkit::gateway::TestGateway;
use corsair_testkit::raw::{
    exchange, get, raw_exchange, read_request_head, read_response, request, target_of, RawServer, Resp,
};
use corsair_testkit::{raise_open_files_limit, RefusingAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

/// The origin the policy allows (with credentials).
const GOOD: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example";

/// The gateway config in front of `upstream`: the `api` policy allowing
/// [`GOOD`] with credentials, tight limits.
fn config(upstream: &str, header_read_timeout: u64) -> String {
    format!(
        r#"listen = "127.0.0.1:0"
upstream = "{upstream}"
[limits]
header_read_timeout = {header_read_timeout}
upstream_timeout = 2
max_header_bytes = 8192
shutdown_grace = 10
[[policy]]
name = "api"
allow_origins = ["{GOOD}"]
allow_methods = ["PUT"]
allow_headers = ["content-type"]
allow_credentials = true
"#
    )
}

/// Asserts the policy granted [`GOOD`] `r`.
fn assert_allowed(r: &Resp, what: &str) {
    r.assert_grants(GOOD, true, what);
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

/// Polls `f` until it holds (`limit`), failing with `what`.
async fn wait_until(what: &str, limit: Duration, f: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// ---------------------------------------------------------------------------
// A fault-injecting upstream (raw TCP): the path picks the behaviour.
// ---------------------------------------------------------------------------

const BIG: usize = 100_000;

/// The fault upstream: counts requests and closed connections; `/gate`
/// answers only once the gate is opened; `/reset-*` send part of a body and
/// reset the connection when the test says so ([`Faults::reset`]).
struct Faults {
    server: RawServer,
    hits: Arc<AtomicUsize>,
    closed: Arc<AtomicUsize>,
    gate: watch::Sender<bool>,
    reset: Arc<Notify>,
}

impl Faults {
    async fn start() -> Faults {
        Self::on(TcpListener::bind("127.0.0.1:0").await.unwrap())
    }

    fn on(listener: TcpListener) -> Faults {
        let hits = Arc::new(AtomicUsize::new(0));
        let closed = Arc::new(AtomicUsize::new(0));
        let gate = watch::Sender::new(false);
        let reset = Arc::new(Notify::new());
        let (h, c, g, x) = (hits.clone(), closed.clone(), gate.clone(), reset.clone());
        let server = RawServer::start_on(listener, move |s, _| {
            let (h, c, g, x) = (h.clone(), c.clone(), g.subscribe(), x.clone());
            async move {
                fault_connection(s, &h, g, &x).await; // the socket is closed here
                c.fetch_add(1, Ordering::SeqCst);
            }
        });
        Faults {
            server,
            hits,
            closed,
            gate,
            reset,
        }
    }

    fn url(&self) -> String {
        self.server.url()
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn open_gate(&self) {
        self.gate.send_replace(true);
    }

    /// Lets the one `/reset-*` answer in progress reset its connection.
    fn reset(&self) {
        self.reset.notify_one();
    }
}

/// Serves one connection of the fault upstream.
async fn fault_connection(stream: TcpStream, hits: &AtomicUsize, mut gate: watch::Receiver<bool>, reset: &Notify) {
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
                reset.notified().await;
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
                reset.notified().await;
                let _ = s.set_zero_linger();
                return;
            }
            "/slow-head" => {
                // Never answers: the gate stays shut in that test.
                let _ = gate.wait_for(|&o| o).await;
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
            "/gate" => {
                let _ = gate.wait_for(|&o| o).await;
                let _ = s.write_all(ok("held").as_bytes()).await;
            }
            _ => {
                let _ = s.write_all(ok(&format!("ok {path}")).as_bytes()).await;
            }
        }
        let _ = s.flush().await;
    }
}

// ---------------------------------------------------------------------------
// Upstream faults
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_refusing_connections_gets_502_then_recovers() {
    let dead = RefusingAddr::new();
    let gw = TestGateway::start(&config(&dead.url(), 5));
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
    // A refused connection is an answer at once, not a wait for a timeout
    // (upstream_timeout is 2 s; 21 requests).
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
    let up = Faults::on(dead.listen());
    assert_up(gw.addr, "/back").await;
    assert_eq!(up.hits(), 1);
}

/// Sends `GET path`, reads until `seen` bytes of body have come through
/// (the part the upstream sent before its reset), has the upstream reset
/// its connection, and reads the rest up to the close.
async fn get_through_reset(gw: SocketAddr, up: &Faults, path: &str, seen: usize) -> Resp {
    let mut s = TcpStream::connect(gw).await.unwrap();
    s.write_all(&request("GET", path, Some(GOOD), &[])).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let body_len = |got: &[u8]| got.windows(4).position(|w| w == b"\r\n\r\n").map(|i| got.len() - i - 4);
    while body_len(&got).is_none_or(|n| n < seen) {
        match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await {
            Ok(Ok(0)) => panic!("{path}: closed before the body's first part: {got:?}"),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => panic!("{path}: {e} before the body's first part"),
            Err(_) => panic!("{path}: the body's first part did not come through within 10 s"),
        }
    }
    up.reset();
    let (rest, closed) = read_until_close(&mut s, Duration::from_secs(10)).await;
    assert!(closed, "{path}: the connection stays open after the upstream's reset");
    got.extend_from_slice(&rest);
    read_response(&mut BufReader::new(&got[..]), false)
        .await
        .expect("a response")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_reset_mid_body_truncates_visibly() {
    let up = Faults::start().await;
    let gw = TestGateway::start(&config(&up.url(), 5));
    // Content-Length: the client gets the head and the first 1,000 bytes,
    // then, after the upstream's reset, the close: fewer bytes than
    // announced, a truncation visible to it (and to any cache in between).
    let r = get_through_reset(gw.addr, &up, "/reset-cl", 1000).await;
    assert_eq!(r.status, 200);
    assert_allowed(&r, "reset-cl head");
    assert_eq!(r.header("content-length").as_deref(), Some(BIG.to_string().as_str()));
    assert!(
        !r.complete,
        "a reset body must not look complete: {} bytes",
        r.body.len()
    );
    assert_eq!(r.body, [b'x'; 1000]);
    // Chunked: the first chunk, then no terminating chunk ever.
    let r = get_through_reset(gw.addr, &up, "/reset-chunked", 1000).await;
    assert_eq!(r.status, 200);
    assert!(!r.complete, "a reset chunked body must not end with the last chunk");
    assert!(r.body.starts_with(&[b'y'; 1000]), "{r:?}");
    assert_up(gw.addr, "/after-reset").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_upstream_head_gets_504_slow_body_streams_through() {
    let up = Faults::start().await;
    let gw = TestGateway::start(&config(&up.url(), 5));
    let started = Instant::now();
    // The upstream never answers `/slow-head` (its gate stays shut): only
    // the gateway's upstream_timeout (2 s) can end the request.
    let r = get(gw.addr, "/slow-head", Some(GOOD)).await;
    let took = started.elapsed();
    assert_eq!(r.status, 504, "{r:?}");
    assert_allowed(&r, "504");
    assert!(
        took >= Duration::from_secs(2),
        "504 before upstream_timeout (2 s): {took:?}"
    );
    // upstream_timeout bounds the head only: a body that trickles for 3 s
    // arrives whole.
    let started = Instant::now();
    let r = get(gw.addr, "/slow-body", Some(GOOD)).await;
    assert_eq!(r.status, 200);
    assert!(r.complete, "{r:?}");
    assert_eq!(r.text(), "abc".repeat(10));
    assert!(started.elapsed() >= Duration::from_millis(2700));
    assert_allowed(&r, "slow body");
    assert_up(gw.addr, "/after-slow").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_upstream_answers_get_502() {
    let up = Faults::start().await;
    let gw = TestGateway::start(&config(&up.url(), 5));
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
    let up = Faults::start().await;
    let gw = TestGateway::start(&config(&up.url(), 5));
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
    let up = Faults::start().await;
    let gw = TestGateway::start(&config(&up.url(), 5));
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
    assert_eq!(up.hits(), 0, "a preflight reached the upstream");
    assert_up(gw.addr, "/actual").await;
    assert_eq!(up.hits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_closing_pooled_connections_loses_nothing() {
    let up = Faults::start().await;
    let gw = TestGateway::start(&config(&up.url(), 5));
    for i in 0..30 {
        let r = get(gw.addr, "/then-close", Some(GOOD)).await;
        assert_eq!(r.status, 200, "request {i}: {r:?}");
        assert_eq!(r.text(), "then-close");
        // Sometimes straight away (the close may still be on its way to
        // the gateway's pool), sometimes once the upstream has closed every
        // connection so far.
        if i % 3 == 0 {
            wait_until("the upstream's close", Duration::from_secs(5), || {
                up.closed.load(Ordering::SeqCst) > i
            })
            .await;
        }
    }
    assert_eq!(up.hits(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_hanging_up_mid_request_do_not_hurt() {
    let up = Faults::start().await;
    let gw = TestGateway::start(&config(&up.url(), 5));
    // Requests held at the upstream, whose clients leave.
    for _ in 0..50 {
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        s.write_all(&request("GET", "/gate", Some(GOOD), &[])).await.unwrap();
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
    assert_up(gw.addr, "/while-held").await;
    // The held requests are answered now, to clients that are gone.
    up.open_gate();
    assert_up(gw.addr, "/after-hangups").await;
    assert!(up.hits() <= 72, "{} requests reached the upstream", up.hits());
}

/// An upstream that counts the connections it accepts and answers every
/// request with `body` (a keep-alive answer of `body.len()` bytes);
/// `settled` counts the answers it has finished writing or failed to.
struct Counting {
    server: RawServer,
    conns: Arc<AtomicUsize>,
    reqs: Arc<AtomicUsize>,
    settled: Arc<AtomicUsize>,
}

impl Counting {
    async fn start(body: &'static str) -> Counting {
        let conns = Arc::new(AtomicUsize::new(0));
        let reqs = Arc::new(AtomicUsize::new(0));
        let settled = Arc::new(AtomicUsize::new(0));
        let (c, r, d) = (conns.clone(), reqs.clone(), settled.clone());
        let server = RawServer::start(move |s, _| {
            c.fetch_add(1, Ordering::SeqCst);
            let (r, d) = (r.clone(), d.clone());
            async move {
                let mut s = BufReader::new(s);
                while read_request_head(&mut s).await.is_some() {
                    r.fetch_add(1, Ordering::SeqCst);
                    let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                    let written = s.get_mut().write_all(answer.as_bytes()).await;
                    d.fetch_add(1, Ordering::SeqCst);
                    if written.is_err() {
                        return;
                    }
                }
            }
        })
        .await;
        Counting {
            server,
            conns,
            reqs,
            settled,
        }
    }
}

/// The upstream pool keeps connections: 40 requests from 40 client
/// connections, one after the other, travel over one upstream connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_connections_are_reused() {
    let up = Counting::start("pooled").await;
    let gw = TestGateway::start(&format!("workers = 1\n{}", config(&up.server.url(), 5)));
    for i in 0..40 {
        let r = get(gw.addr, &format!("/r{i}"), Some(GOOD)).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.text(), "pooled");
        assert_allowed(&r, "pooled");
    }
    assert_eq!(up.reqs.load(Ordering::SeqCst), 40);
    assert_eq!(
        up.conns.load(Ordering::SeqCst),
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
    let up = Counting::start(BIG_BODY.as_str()).await;
    let gw = TestGateway::start(&format!("workers = 1\n{}", config(&up.server.url(), 5)));
    for _ in 0..5 {
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        s.write_all(&request("GET", "/big", Some(GOOD), &[])).await.unwrap();
        let mut first = [0u8; 1024];
        let _ = s.read(&mut first).await.unwrap();
        drop(s); // 4 MiB left unread
    }
    // The upstream is done with all five answers (written whole into a
    // connection the gateway may have kept, or cut off by the gateway's
    // close): whatever the pool holds now is what the next request gets.
    wait_until(
        "the upstream to settle the five answers",
        Duration::from_secs(10),
        || up.settled.load(Ordering::SeqCst) >= 5,
    )
    .await;
    let r = get(gw.addr, "/after", Some(GOOD)).await;
    assert_eq!(r.status, 200);
    assert!(r.complete);
    assert_eq!(r.body.len(), BIG_BODY.len(), "a whole answer after the hang-ups");
    assert!(r.body.iter().all(|&b| b == b'z'));
    assert!(
        up.conns.load(Ordering::SeqCst) >= 2,
        "a half-read connection was reused"
    );
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
    let gw = TestGateway::start(&config("builtin:echo", 2));
    let addr = gw.addr;
    // 50 clients that drip a header byte every 300 ms, and 10 that send nothing.
    let connected = Arc::new(AtomicUsize::new(0));
    let mut drips = Vec::new();
    for i in 0..60 {
        let connected = connected.clone();
        drips.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let started = Instant::now();
            if i < 50 {
                s.write_all(b"GET /drip HTTP/1.1\r\nHost: x\r\n").await.unwrap();
            }
            connected.fetch_add(1, Ordering::SeqCst);
            if i < 50 {
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
    // Once all 60 hold a connection, normal clients are served promptly.
    wait_until("the slow clients to connect", Duration::from_secs(5), || {
        connected.load(Ordering::SeqCst) == 60
    })
    .await;
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
        assert!(
            got.is_empty() || text.starts_with("HTTP/1.1 408"),
            "a slow client got {text:?}"
        );
    }
    assert_up(addr, "/after-slowloris").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers_get_431() {
    let gw = TestGateway::start(&config("builtin:echo", 5));
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
    let gw = TestGateway::start(&config("builtin:echo", 5));
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
        match exchange(gw.addr, &raw).await {
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
    let gw = TestGateway::start(&config("builtin:echo", 5));
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

/// Makes sure this process may hold `connections` connections of
/// `fds_per_connection` descriptors each (the gateway runs in this process,
/// so its sockets count too), plus room for the tests running beside:
/// raises the soft limit on open files to the hard one, and fails loudly
/// when even that is too low. The test never shrinks to fit.
fn require_open_files(connections: usize, fds_per_connection: usize) {
    const ROOM: usize = 512;
    let need = connections * fds_per_connection + ROOM;
    let limit = raise_open_files_limit();
    assert!(
        limit >= need as u64,
        "this test opens {connections} connections of {fds_per_connection} descriptors each \
         (every end of each connection is in this process) and needs {need} open files, but the \
         limit is {limit} even after raising the soft limit to the hard one: raise the hard \
         limit (`ulimit -Hn {need}` as root, or LimitNOFILE= for a service)"
    );
}

/// `n` clients, each on its own keep-alive connection: a first request,
/// then a wait until every client has had its answer (so that all `n`
/// connections are open at once), then a second request on the same
/// connection. Every answer must be right.
async fn crowd(addr: SocketAddr, n: usize) {
    // One crowd at a time: they share this process's descriptors.
    static CROWD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = CROWD.lock().await;
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let s = TcpStream::connect(addr).await.expect("connect");
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_concurrent_keep_alive_connections() {
    const N: usize = 2000;
    // Per connection: the client's socket and the gateway's.
    require_open_files(N, 2);
    let gw = TestGateway::start(&config("builtin:echo", 20));
    crowd(gw.addr, N).await;
    assert_up(gw.addr, "/after-crowd").await;
}

/// The same through a real upstream: the gateway's upstream pool grows to
/// a thousand connections at once and loses no request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_requests_through_the_upstream_pool() {
    const N: usize = 1000;
    // Per connection: client, gateway (both sides), upstream.
    require_open_files(N, 4);
    let up = Faults::start().await;
    let gw = TestGateway::start(&config(&up.url(), 20));
    crowd(gw.addr, N).await;
    assert_eq!(up.hits(), 2 * N);
    assert_up(gw.addr, "/after-crowd").await;
}

/// What a gateway does between the request to stop and its end (SIGTERM
/// in the binary: `corsair-cli/tests/serve_cli.rs`): it stops accepting
/// and says so on `/healthz`, closes idle connections at once, and lets
/// every request in flight finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_in_flight_requests() {
    let up = Faults::start().await;
    let mut gw = TestGateway::start(&format!("{}[admin]\nlisten = \"127.0.0.1:0\"\n", config(&up.url(), 5)));
    let addr = gw.addr;
    // An idle keep-alive connection must not hold shutdown up.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /warm HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut idle = BufReader::new(idle);
    assert_eq!(read_response(&mut idle, false).await.unwrap().status, 200);
    let base = up.hits();

    // Requests held at the upstream until the gate opens.
    let n = 20;
    let mut inflight = Vec::new();
    for i in 0..n {
        inflight.push(tokio::spawn(async move {
            let origin = if i % 2 == 0 { Some(GOOD) } else { None };
            exchange(addr, &request("GET", "/gate", origin, &[])).await
        }));
    }
    wait_until("the requests to reach the upstream", Duration::from_secs(5), || {
        up.hits() >= base + n
    })
    .await;
    assert_eq!(gw.health().await, (200, "ok\n".to_owned()));
    gw.begin_shutdown();
    // The listener is closed before /healthz turns to 503.
    let deadline = Instant::now() + Duration::from_secs(5);
    while gw.health().await != (503, "draining\n".to_owned()) {
        assert!(Instant::now() < deadline, "/healthz never said draining");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let refused = TcpStream::connect(addr).await;
    assert!(refused.is_err(), "the listener still accepts while draining");
    // The idle connection is closed while the requests are still held.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the idle keep-alive connection was not closed");
    assert!(inflight.iter().all(|t| !t.is_finished()), "a held request ended early");
    up.open_gate();
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
    tokio::time::timeout(Duration::from_secs(10), gw.stopped())
        .await
        .expect("the gateway stops once drained");
    assert_eq!(gw.logs_with("drained; bye").len(), 1, "{}", gw.logs());
    assert!(
        gw.logs_with("shutdown grace elapsed; closing the remaining connections")
            .is_empty(),
        "{}",
        gw.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_under_load_never_fails_a_request() {
    let up = Faults::start().await;
    let gw = TestGateway::start(&config(&up.url(), 5));
    let addr = gw.addr;
    let other = "https://other.example.com";
    let next = config(&up.url(), 5).replace(GOOD, other);
    let stop = Arc::new(AtomicBool::new(false));
    // Granted to GOOD, granted to `other`, granted to none.
    let counts: Arc<[AtomicUsize; 3]> = Arc::new(Default::default());
    let mut load = Vec::new();
    for w in 0..8 {
        let (stop, counts) = (stop.clone(), counts.clone());
        load.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let origin = if (w + i) % 2 == 0 { GOOD } else { other };
                let r = get(addr, &format!("/load/{w}/{i}"), Some(origin)).await;
                assert_eq!(r.status, 200, "{r:?}");
                assert!(r.complete);
                let k = match r.header("access-control-allow-origin") {
                    Some(a) => {
                        assert_eq!(a, origin, "ACAO for another origin");
                        usize::from(origin != GOOD)
                    }
                    None => 2,
                };
                counts[k].fetch_add(1, Ordering::SeqCst);
                i += 1;
            }
        }));
    }
    let count = |k: usize| counts[k].load(Ordering::SeqCst);
    wait_until("load under the first config", Duration::from_secs(10), || {
        count(0) >= 50
    })
    .await;
    // Replace the file atomically (write + rename), as editors and config
    // management do; the gateway polls it once a second.
    gw.rewrite_config(&next);
    gw.wait_log("config reloaded", 1, Duration::from_secs(10)).await;
    // Active before it was logged: the next request sees it.
    let r = get(addr, "/probe", Some(other)).await;
    assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(other));
    let before = count(1);
    wait_until("load under the new config", Duration::from_secs(10), || {
        count(1) >= before + 50
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    for l in load {
        l.await.expect("a load worker failed");
    }
    assert!(count(0) > 0 && count(1) > 0, "both policies served");
    let r = get(addr, "/after", Some(GOOD)).await;
    assert_not_granted(&r, "the old origin after the reload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http1_keep_alive_connections_are_closed() {
    let gw = TestGateway::start(&config("builtin:echo", 2));
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
    let gw = TestGateway::start(&config("builtin:echo", 2));
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

/// An upstream that records every byte each connection brings, as it
/// arrives, and answers `ok` (closing) after 200 ms of silence; `ended`
/// counts the connections that reached their end.
struct Recorder {
    server: RawServer,
    bytes: Arc<Mutex<BTreeMap<usize, Vec<u8>>>>,
    accepted: Arc<AtomicUsize>,
    ended: Arc<AtomicUsize>,
}

impl Recorder {
    async fn start() -> Recorder {
        let bytes = Arc::new(Mutex::new(BTreeMap::<usize, Vec<u8>>::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let ended = Arc::new(AtomicUsize::new(0));
        let (b, a, e) = (bytes.clone(), accepted.clone(), ended.clone());
        let server = RawServer::start(move |mut s, n| {
            a.fetch_add(1, Ordering::SeqCst);
            let (b, e) = (b.clone(), e.clone());
            async move {
                b.lock().unwrap().insert(n, Vec::new());
                let mut buf = [0u8; 4096];
                let mut answered = false;
                loop {
                    match tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await {
                        Ok(Ok(0)) | Ok(Err(_)) => break,
                        Ok(Ok(k)) => b.lock().unwrap().entry(n).or_default().extend_from_slice(&buf[..k]),
                        Err(_) if !answered => {
                            answered = true;
                            let _ = s
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                                .await;
                        }
                        Err(_) => {}
                    }
                }
                e.fetch_add(1, Ordering::SeqCst);
            }
        })
        .await;
        Recorder {
            server,
            bytes,
            accepted,
            ended,
        }
    }

    /// What each connection brought so far, as text.
    fn seen(&self) -> Vec<String> {
        self.bytes
            .lock()
            .unwrap()
            .values()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_smuggling_attempts_are_refused_or_reframed() {
    let up = Recorder::start().await;
    let mut gw = TestGateway::start(&config(&up.server.url(), 5));
    let ambiguous: [&[u8]; 4] = [
        b"POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nhello",
        b"POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"POST /s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\nhello",
        b"POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello",
    ];
    for raw in ambiguous {
        let (got, closed) = raw_exchange(gw.addr, raw, Duration::from_secs(5)).await;
        let text = String::from_utf8_lossy(&got);
        assert!(
            text.starts_with("HTTP/1.1 400 "),
            "{:?} -> {text:?}",
            String::from_utf8_lossy(raw)
        );
        assert!(closed);
    }
    // Content-Length and Transfer-Encoding together: chunked wins, the length
    // is dropped, the body is re-framed for the upstream, and the connection
    // is closed after the answer, so the bytes after the chunked body are
    // never taken for a request (RFC 9112 6.3).
    let (got, closed) = raw_exchange(
        gw.addr,
        b"POST /cl-te HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200 "), "{text:?}");
    assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text:?}");
    assert!(closed);
    assert_up(gw.addr, "/after-smuggling").await;
    // Everything the gateway was going to send upstream is sent once it has
    // stopped, and read once every upstream connection has ended.
    gw.begin_shutdown();
    tokio::time::timeout(Duration::from_secs(10), gw.stopped())
        .await
        .expect("the gateway stops");
    wait_until("the upstream connections to end", Duration::from_secs(5), || {
        up.ended.load(Ordering::SeqCst) == up.accepted.load(Ordering::SeqCst)
    })
    .await;
    let seen: Vec<String> = up
        .seen()
        .into_iter()
        .filter(|h| !h.starts_with("GET /after-smuggling "))
        .collect();
    assert_eq!(seen.len(), 1, "an ambiguous request reached the upstream: {seen:?}");
    let head = seen[0].to_ascii_lowercase();
    assert!(head.starts_with("post /cl-te "), "{head}");
    assert!(!head.contains("content-length"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert!(head.contains("\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), "{head}");
    assert!(!head.contains("smuggled"));
}
