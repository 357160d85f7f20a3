//! WebSocket through the gateway: the handshake checked and its `Origin`
//! decided before the upstream sees anything, the upstream's answer
//! relayed, then the tunnel (messages both ways, limits, shutdown,
//! metrics), over HTTP/1.1 and over HTTP/2 (RFC 8441).
//!
//! The upstream is the test kit's [`WsUpstream`], which records every
//! handshake head it receives.

use std::time::{Duration, Instant};

use corsair_gateway::websocket::accept_key;
use corsair_testkit::bounded;
use corsair_testkit::gateway::TestGateway;
use corsair_testkit::raw::{exchange, header_of, request, target_of, Resp};
use corsair_testkit::websocket::{
    encode, handshake, handshake_raw, read_frame, Client, WsUpstream, BINARY, CLOSE, KEY, PING, PONG, TEXT,
};
use tokio::io::AsyncWriteExt;

const GOOD: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example";

/// A gateway in front of `upstream`: one policy for `prefix`, allowing
/// [`GOOD`]; `limits` are extra `[limits]` lines.
fn config(upstream: &str, prefix: &str, limits: &str) -> String {
    format!(
        r#"workers = 1
listen = "127.0.0.1:0"
upstream = "{upstream}"
[admin]
listen = "127.0.0.1:0"
[limits]
header_read_timeout = 5
upstream_timeout = 2
shutdown_grace = 3
{limits}
[[policy]]
name = "api"
path_prefix = "{prefix}"
allow_origins = ["{GOOD}"]
allow_credentials = true
"#
    )
}

async fn setup(limits: &str) -> (WsUpstream, TestGateway) {
    let up = WsUpstream::start().await;
    let gw = TestGateway::start(&config(&up.url(), "/", limits));
    (up, gw)
}

/// The value of one sample of the metrics text (`name{labels}`).
fn sample(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
}

async fn open(gw: &TestGateway, path: &str, extra: &[(&str, &str)]) -> (Resp, Client) {
    let (resp, client) = handshake(gw.addr, path, extra).await.expect("handshake");
    assert_eq!(resp.status, 101, "{resp:?} {}", resp.text());
    (resp, client.expect("a 101 gives a client"))
}

async fn echo(c: &mut Client, opcode: u8, payload: &[u8]) {
    c.send(opcode, payload).await.expect("send");
    let f = c.recv().await.expect("echo");
    assert_eq!((f.opcode, f.payload.len()), (opcode, payload.len()));
    assert!(f.payload == payload, "the echo differs");
    assert!(!f.masked, "a server's frames are not masked");
}

/// Waits until the client's connection ends; how long it took.
async fn ends_within(c: &mut Client, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        match tokio::time::timeout(limit, read_frame(&mut c.io)).await {
            Err(_) => panic!("the tunnel is still open after {limit:?}"),
            Ok(Err(_)) => return start.elapsed(),
            // A frame the upstream had sent before (an echo): read on.
            Ok(Ok(_)) => {}
        }
    }
}

async fn refused(gw: &TestGateway, up: &WsUpstream, extra: &[(&str, &str)], status: u16, code: &str) -> Resp {
    let (resp, client) = handshake(gw.addr, "/ws", extra).await.expect("an answer");
    assert!(client.is_none());
    assert_eq!(resp.status, status, "{extra:?}: {resp:?}");
    assert!(resp.text().contains(code), "{extra:?}: {}", resp.text());
    assert!(resp.cors_headers().is_empty(), "{resp:?}");
    assert!(
        up.heads().is_empty(),
        "the upstream saw a refused handshake: {:?}",
        up.heads()
    );
    let line = gw
        .logs_with("WebSocket handshake refused")
        .into_iter()
        .last()
        .expect("logged");
    assert_eq!(line["reason"], code);
    resp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_origin_exchanges_messages_through_the_gateway() {
    bounded(20, async {
        let (up, gw) = setup("").await;
        let (resp, mut c) = open(
            &gw,
            "/chat/../ws?room=1",
            &[
                ("Origin", GOOD),
                ("Cookie", "session=s3cret"),
                ("Sec-WebSocket-Protocol", "chat, superchat"),
                ("Sec-WebSocket-Extensions", "x-test"),
                ("Keep-Alive", "timeout=5"),
                ("X-Drop", "1"),
                ("Connection", "x-drop"),
                ("X-Forwarded-For", "10.9.9.9"),
            ],
        )
        .await;
        // The upstream's 101, with its accept and protocol, no CORS headers.
        assert_eq!(resp.header("sec-websocket-accept"), Some(accept_key(KEY.as_bytes())));
        assert_eq!(resp.header("upgrade").as_deref(), Some("websocket"));
        assert_eq!(resp.header("connection").as_deref(), Some("upgrade"));
        assert_eq!(resp.header("sec-websocket-protocol").as_deref(), Some("chat"));
        assert!(resp.cors_headers().is_empty(), "{resp:?}");
        // Messages both ways: text, binary, ping.
        echo(&mut c, TEXT, b"hello through corsair").await;
        echo(&mut c, BINARY, &[0, 1, 2, 255]).await;
        c.send(PING, b"p").await.unwrap();
        let f = c.recv().await.unwrap();
        assert_eq!((f.opcode, f.payload), (PONG, b"p".to_vec()));

        // What the upstream got: the canonical target, Upgrade and
        // Connection re-created, the rest of the handshake unchanged, the
        // client's hop-by-hop headers gone, the forwarding headers set.
        let heads = up.heads();
        assert_eq!(heads.len(), 1);
        let head = &heads[0];
        assert_eq!(head.lines().next(), Some("GET /ws?room=1 HTTP/1.1"), "{head}");
        assert_eq!(target_of(head), "/ws?room=1");
        assert_eq!(header_of(head, "host"), Some(up.addr.to_string()));
        assert_eq!(header_of(head, "upgrade").as_deref(), Some("websocket"));
        assert_eq!(header_of(head, "connection").as_deref(), Some("upgrade"));
        assert_eq!(header_of(head, "origin").as_deref(), Some(GOOD));
        assert_eq!(header_of(head, "cookie").as_deref(), Some("session=s3cret"));
        assert_eq!(header_of(head, "sec-websocket-key").as_deref(), Some(KEY));
        assert_eq!(header_of(head, "sec-websocket-version").as_deref(), Some("13"));
        assert_eq!(
            header_of(head, "sec-websocket-protocol").as_deref(),
            Some("chat, superchat")
        );
        assert_eq!(header_of(head, "sec-websocket-extensions").as_deref(), Some("x-test"));
        assert_eq!(
            header_of(head, "x-forwarded-for").as_deref(),
            Some("10.9.9.9, 127.0.0.1")
        );
        assert_eq!(header_of(head, "x-forwarded-host"), Some(gw.addr.to_string()));
        assert_eq!(header_of(head, "x-forwarded-proto").as_deref(), Some("http"));
        for gone in ["keep-alive", "x-drop"] {
            assert!(header_of(head, gone).is_none(), "{gone} went upstream:\n{head}");
        }
        for once in ["upgrade:", "connection:", "sec-websocket-key:", "host:"] {
            let n = head
                .lines()
                .filter(|l| l.to_ascii_lowercase().starts_with(once))
                .count();
            assert_eq!(n, 1, "{once} {n} times:\n{head}");
        }
        let opened = gw.logs_with("WebSocket opened");
        assert_eq!(opened.len(), 1);
        assert_eq!(opened[0]["allowed"], "policy");
        assert_eq!(opened[0]["policy"], "api");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlisted_origin_is_refused_before_the_upstream_sees_anything() {
    bounded(20, async {
        let (up, gw) = setup("").await;
        let r = refused(&gw, &up, &[("Origin", EVIL)], 403, "websocket_origin_not_allowed").await;
        assert!(r.varies_on_origin(), "{r:?}");
        assert_eq!(r.header("connection").as_deref(), Some("close"));
        refused(&gw, &up, &[("Origin", "null")], 403, "websocket_null_origin").await;
        // A look-alike of the listed origin.
        refused(
            &gw,
            &up,
            &[("Origin", "https://app.example.com.evil.example")],
            403,
            "websocket_origin_not_allowed",
        )
        .await;
        // Two Origin lines: ambiguous.
        refused(
            &gw,
            &up,
            &[("Origin", GOOD), ("Origin", EVIL)],
            400,
            "websocket_multiple_origins",
        )
        .await;
        let m = gw.metrics().await;
        assert_eq!(
            sample(
                &m,
                "corsair_websocket_handshakes_total{outcome=\"websocket_origin_not_allowed\"}"
            ),
            2
        );
        assert_eq!(
            sample(
                &m,
                "corsair_websocket_handshakes_total{outcome=\"websocket_null_origin\"}"
            ),
            1
        );
        assert_eq!(
            sample(&m, "corsair_websocket_handshakes_total{outcome=\"upgraded\"}"),
            0
        );
        // The same gateway still opens a listed origin's.
        let (_, mut c) = open(&gw, "/ws", &[("Origin", GOOD)]).await;
        echo(&mut c, TEXT, b"still works").await;
        assert_eq!(up.heads().len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_origin_and_the_same_origin_are_allowed() {
    bounded(20, async {
        let (up, gw) = setup("").await;
        // A non-browser client (RFC 6455 §4.2.1 item 7).
        let (_, mut c) = open(&gw, "/ws", &[]).await;
        echo(&mut c, TEXT, b"cli").await;
        // The page of the site itself, which no policy lists.
        let own = format!("http://{}", gw.addr);
        let (_, mut c) = open(&gw, "/ws", &[("Origin", own.as_str())]).await;
        echo(&mut c, TEXT, b"same origin").await;
        assert!(header_of(&up.heads()[0], "origin").is_none());
        let opened: Vec<String> = gw
            .logs_with("WebSocket opened")
            .iter()
            .map(|l| l["allowed"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(opened, ["no_origin", "same_origin"]);
        // Another port of the same host is another origin.
        let other = format!("http://127.0.0.1:{}", gw.addr.port() ^ 1);
        let (r, _) = handshake(gw.addr, "/ws", &[("Origin", other.as_str())]).await.unwrap();
        assert_eq!(r.status, 403);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_no_policy_covers_allows_only_the_same_origin() {
    bounded(20, async {
        let up = WsUpstream::start().await;
        let gw = TestGateway::start(&config(&up.url(), "/api", ""));
        // Listed for /api, but /ws is not covered: no list applies.
        refused(&gw, &up, &[("Origin", GOOD)], 403, "websocket_cross_origin_uncovered").await;
        let own = format!("http://{}", gw.addr);
        let (_, mut c) = open(&gw, "/ws", &[("Origin", own.as_str())]).await;
        echo(&mut c, TEXT, b"same origin").await;
        let (_, mut c) = open(&gw, "/ws", &[]).await;
        echo(&mut c, TEXT, b"no origin").await;
        // Covered: the list applies.
        let (_, mut c) = open(&gw, "/api/ws", &[("Origin", GOOD)]).await;
        echo(&mut c, TEXT, b"listed").await;
        assert_eq!(up.heads().len(), 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_handshakes_are_refused_and_never_forwarded() {
    bounded(20, async {
        let (up, gw) = setup("").await;
        let host = gw.addr.to_string();
        let head = |method: &str, fields: &[&str]| {
            let mut s =
                format!("{method} /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
            for f in fields {
                s.push_str(f);
                s.push_str("\r\n");
            }
            s.push_str("\r\n");
            s
        };
        let key = format!("Sec-WebSocket-Key: {KEY}");
        let cases: Vec<(String, u16, &str)> = vec![
            (
                head("POST", &[&key, "Sec-WebSocket-Version: 13", "Content-Length: 0"]),
                400,
                "websocket_method",
            ),
            (head("GET", &["Sec-WebSocket-Version: 13"]), 400, "websocket_key"),
            (
                head("GET", &["Sec-WebSocket-Key: c2hvcnQ=", "Sec-WebSocket-Version: 13"]),
                400,
                "websocket_key",
            ),
            (head("GET", &[&key]), 400, "websocket_version_missing"),
            (
                head("GET", &[&key, "Sec-WebSocket-Version: 8"]),
                426,
                "websocket_version_unsupported",
            ),
            (
                head("GET", &[&key, "Sec-WebSocket-Version: 13", "Content-Length: 2"]),
                400,
                "websocket_body",
            ),
        ];
        for (raw, status, code) in cases {
            let raw = if code == "websocket_body" {
                format!("{raw}hi")
            } else {
                raw
            };
            let (resp, client) = handshake_raw(gw.addr, raw.as_bytes()).await.unwrap();
            assert!(client.is_none());
            assert_eq!(resp.status, status, "{raw}{resp:?}");
            assert!(resp.text().contains(code), "{raw}{}", resp.text());
            if status == 426 || code == "websocket_version_missing" {
                assert_eq!(resp.header("sec-websocket-version").as_deref(), Some("13"));
            }
        }
        assert!(up.heads().is_empty(), "{:?}", up.heads());
        let m = gw.metrics().await;
        assert_eq!(
            sample(&m, "corsair_websocket_handshakes_total{outcome=\"websocket_key\"}"),
            2
        );
        assert_eq!(
            sample(
                &m,
                "corsair_websocket_handshakes_total{outcome=\"websocket_version_unsupported\"}"
            ),
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_without_the_connection_option_is_no_handshake() {
    bounded(20, async {
        let (up, gw) = setup("").await;
        // `Upgrade: websocket` without `Connection: upgrade` asks for no
        // upgrade (RFC 9110 §7.8): forwarded as a plain GET, without the
        // hop-by-hop Upgrade. This upstream answers 101 to anything; to a
        // request that asked for no upgrade that is a protocol error (502),
        // never a tunnel.
        let raw = request(
            "GET",
            "/ws",
            Some(GOOD),
            &["Upgrade: websocket", &format!("Sec-WebSocket-Key: {KEY}")],
        );
        let r = exchange(gw.addr, &raw).await.unwrap();
        assert_eq!(r.status, 502, "{r:?}");
        let heads = up.heads();
        assert_eq!(heads.len(), 1);
        assert!(header_of(&heads[0], "upgrade").is_none(), "{}", heads[0]);
        assert!(gw.logs_with("WebSocket handshake refused").is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstreams_refusals_are_relayed_and_bad_101s_are_502() {
    bounded(20, async {
        let (up, gw) = setup("").await;
        for (path, status, body) in [("/deny", 403, "forbidden"), ("/missing", 404, "no such socket")] {
            let (r, client) = handshake(gw.addr, path, &[("Origin", GOOD)]).await.unwrap();
            assert!(client.is_none());
            assert_eq!((r.status, r.text().as_str()), (status, body), "{path}: {r:?}");
            assert!(r.cors_headers().is_empty(), "{r:?}");
            assert!(r.header("upgrade").is_none());
        }
        for path in ["/bad-accept", "/not-websocket"] {
            let (r, client) = handshake(gw.addr, path, &[("Origin", GOOD)]).await.unwrap();
            assert!(client.is_none());
            assert_eq!(r.status, 502, "{path}: {r:?}");
        }
        assert_eq!(up.heads().len(), 4);
        let m = gw.metrics().await;
        assert_eq!(
            sample(&m, "corsair_websocket_handshakes_total{outcome=\"declined\"}"),
            2
        );
        assert_eq!(
            sample(&m, "corsair_websocket_handshakes_total{outcome=\"upstream_error\"}"),
            2
        );
        assert_eq!(sample(&m, "corsair_websocket_open"), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_is_a_502() {
    bounded(20, async {
        let dead = corsair_testkit::RefusingAddr::new();
        let gw = TestGateway::start(&config(&dead.url(), "/", ""));
        let (r, client) = handshake(gw.addr, "/ws", &[("Origin", GOOD)]).await.unwrap();
        assert!(client.is_none());
        assert_eq!(r.status, 502);
        let m = gw.metrics().await;
        assert_eq!(sample(&m, "corsair_upstream_errors_total{kind=\"unreachable\"}"), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_sent_behind_the_101_and_frames_larger_than_the_buffers_arrive() {
    bounded(30, async {
        let (_up, gw) = setup("").await;
        let (_, mut c) = open(&gw, "/hello", &[("Origin", GOOD)]).await;
        let f = c.recv().await.unwrap();
        assert_eq!((f.opcode, f.payload), (TEXT, b"hello".to_vec()));
        // 1 MiB and 70 000 bytes: many times the 8 KiB copy buffers, and
        // the 16- and 64-bit length forms.
        let big: Vec<u8> = (0..1024 * 1024).map(|i| (i * 7 % 251) as u8).collect();
        echo(&mut c, BINARY, &big).await;
        echo(&mut c, TEXT, &vec![b'x'; 70_000]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstream_closing_first_and_the_client_closing_first() {
    bounded(20, async {
        let (_up, gw) = setup("").await;
        // The upstream says bye and closes.
        let (_, mut c) = open(&gw, "/bye", &[("Origin", GOOD)]).await;
        let f = c.recv().await.unwrap();
        assert_eq!((f.opcode, f.payload), (TEXT, b"bye".to_vec()));
        let f = c.recv().await.unwrap();
        assert_eq!(f.opcode, CLOSE);
        assert!(c.at_end().await, "the gateway closes after the upstream");
        // A client closes its connection once the server's has ended.
        drop(c);
        let closed = gw.wait_log("WebSocket closed", 1, Duration::from_secs(5)).await;
        assert_eq!(closed[0]["reason"], "upstream_closed");

        // The client ends its side: the upstream's side is ended too.
        let (_, mut c) = open(&gw, "/ws", &[("Origin", GOOD)]).await;
        echo(&mut c, TEXT, b"last words").await;
        c.io.get_mut().shutdown().await.unwrap();
        assert!(c.at_end().await);
        let closed = gw.wait_log("WebSocket closed", 2, Duration::from_secs(5)).await;
        assert_eq!(closed[1]["reason"], "client_closed");
        // With the close handshake in between (RFC 6455 §7): the client's
        // close, the upstream's answer, the upstream closes.
        let (_, mut c) = open(&gw, "/ws", &[("Origin", GOOD)]).await;
        c.send(CLOSE, &1000u16.to_be_bytes()).await.unwrap();
        assert_eq!(c.recv().await.unwrap().opcode, CLOSE);
        assert!(c.at_end().await);
        drop(c);
        let closed = gw.wait_log("WebSocket closed", 3, Duration::from_secs(5)).await;
        assert_eq!(closed[2]["reason"], "upstream_closed");
        let m = gw.metrics().await;
        assert_eq!(
            sample(&m, "corsair_websocket_closed_total{reason=\"upstream_closed\"}"),
            2
        );
        assert_eq!(
            sample(&m, "corsair_websocket_closed_total{reason=\"client_closed\"}"),
            1
        );
        assert_eq!(sample(&m, "corsair_websocket_open"), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_tunnel_is_closed_and_a_busy_one_is_not() {
    bounded(30, async {
        let (_up, gw) = setup("websocket_idle_timeout = 1").await;
        // Busy: a ping every 300 ms for 2.5 s, well past the idle limit.
        let (_, mut busy) = open(&gw, "/ws", &[("Origin", GOOD)]).await;
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            busy.send(PING, b"").await.unwrap();
            assert_eq!(busy.recv().await.expect("still open").opcode, PONG);
        }
        // Idle: closed after about a second.
        let took = ends_within(&mut busy, Duration::from_secs(5)).await;
        assert!(took >= Duration::from_millis(900), "closed after {took:?}");
        let closed = gw.wait_log("WebSocket closed", 1, Duration::from_secs(5)).await;
        assert_eq!(closed[0]["reason"], "idle_timeout");
        let m = gw.metrics().await;
        assert_eq!(sample(&m, "corsair_websocket_closed_total{reason=\"idle_timeout\"}"), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tunnel_is_closed_at_its_total_limit_however_busy() {
    bounded(30, async {
        let (_up, gw) = setup("websocket_max_duration = 2").await;
        let (_, mut c) = open(&gw, "/ws", &[("Origin", GOOD)]).await;
        let start = Instant::now();
        loop {
            if c.send(PING, b"").await.is_err() {
                break;
            }
            match tokio::time::timeout(Duration::from_secs(5), c.recv()).await {
                Ok(Ok(f)) => assert_eq!(f.opcode, PONG),
                Ok(Err(_)) => break,
                Err(_) => panic!("no answer and no close"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(1800) && took < Duration::from_secs(6),
            "closed after {took:?}"
        );
        let closed = gw.wait_log("WebSocket closed", 1, Duration::from_secs(5)).await;
        assert_eq!(closed[0]["reason"], "max_duration");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_idle_tunnels_at_once_and_busy_ones_at_the_end_of_the_grace() {
    bounded(30, async {
        let (_up, mut gw) = setup("").await;
        let (_, mut idle) = open(&gw, "/ws", &[("Origin", GOOD)]).await;
        let (_, mut busy) = open(&gw, "/ws", &[("Origin", GOOD)]).await;
        echo(&mut idle, TEXT, b"then quiet").await;
        // The busy one pings every 200 ms until it is closed; how long
        // after `since` its last pong came.
        let since = Instant::now() + Duration::from_millis(1200);
        let pinger = tokio::spawn(async move {
            let mut alive_until = None;
            loop {
                if busy.send(PING, b"").await.is_err() {
                    break;
                }
                match tokio::time::timeout(Duration::from_secs(5), busy.recv()).await {
                    Ok(Ok(_)) => alive_until = Some(Instant::now()),
                    _ => break,
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            alive_until.map(|t| t.saturating_duration_since(since))
        });
        tokio::time::sleep_until(since.into()).await;
        let start = Instant::now();
        gw.begin_shutdown();
        // The idle one goes at once (it has been quiet for over a second).
        let took = ends_within(&mut idle, Duration::from_secs(2)).await;
        assert!(took < Duration::from_millis(900), "idle tunnel closed after {took:?}");
        // The busy one lives until the grace (3 s) ends.
        let alive_until = pinger.await.unwrap().expect("pongs");
        assert!(
            alive_until >= Duration::from_millis(2500),
            "the busy tunnel was closed after {alive_until:?}"
        );
        gw.stopped().await;
        let reasons: Vec<String> = gw
            .logs_with("WebSocket closed")
            .iter()
            .map(|l| l["reason"].as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(reasons, ["shutdown", "shutdown"]);
        assert!(start.elapsed() < Duration::from_secs(6), "{:?}", start.elapsed());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_the_bytes_of_each_way_exactly() {
    bounded(20, async {
        let (_up, gw) = setup("").await;
        let (_, mut c) = open(&gw, "/ws", &[("Origin", GOOD)]).await;
        let payloads: [&[u8]; 3] = [b"a", &[7u8; 200], &[9u8; 70_000]];
        let mut up_bytes = 0;
        let mut down_bytes = 0;
        for p in payloads {
            echo(&mut c, BINARY, p).await;
            up_bytes += encode(BINARY, p, Some([0; 4])).len() as u64;
            down_bytes += encode(BINARY, p, None).len() as u64;
        }
        let m = gw.metrics().await;
        assert_eq!(sample(&m, "corsair_websocket_open"), 1);
        assert_eq!(
            sample(&m, "corsair_websocket_handshakes_total{outcome=\"upgraded\"}"),
            1
        );
        assert_eq!(
            sample(&m, "corsair_websocket_bytes_total{direction=\"to_upstream\"}"),
            up_bytes
        );
        assert_eq!(
            sample(&m, "corsair_websocket_bytes_total{direction=\"to_client\"}"),
            down_bytes
        );
        c.io.get_mut().shutdown().await.unwrap();
        assert!(c.at_end().await);
        let closed = gw.wait_log("WebSocket closed", 1, Duration::from_secs(5)).await;
        assert_eq!(closed[0]["bytes_to_upstream"], up_bytes);
        assert_eq!(closed[0]["bytes_to_client"], down_bytes);
        let m = gw.metrics().await;
        assert_eq!(sample(&m, "corsair_websocket_open"), 0);
        // A handshake is no CORS request.
        assert!(!m.contains("kind=\"actual\",outcome=\"allowed\"} 1"), "{m}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tunnel_holds_its_place_in_max_connections() {
    bounded(30, async {
        let (_up, gw) = setup("max_connections = 1").await;
        let (_, mut c) = open(&gw, "/ws", &[("Origin", GOOD)]).await;
        echo(&mut c, TEXT, b"holding the only place").await;
        // The next connection waits in the backlog while the tunnel lives.
        let raw = request("GET", "/plain", None, &[]);
        let addr = gw.addr;
        let waiting = tokio::spawn(async move { exchange(addr, &raw).await });
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert!(!waiting.is_finished(), "served while the tunnel held the only place");
        c.io.get_mut().shutdown().await.unwrap();
        assert!(c.at_end().await);
        let r = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("served once the tunnel closed")
            .unwrap();
        // The test upstream answers any GET with a 101, which a plain
        // request cannot take: what matters is that it was served.
        assert_eq!(r.map(|r| r.status).unwrap_or(0), 502);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builtin_echo_upstream_declines_after_the_origin_check() {
    bounded(20, async {
        let gw = TestGateway::start(&config("builtin:echo", "/", ""));
        let (r, _) = handshake(gw.addr, "/ws", &[("Origin", GOOD)]).await.unwrap();
        assert_eq!(r.status, 501, "{r:?}");
        let (r, _) = handshake(gw.addr, "/ws", &[("Origin", EVIL)]).await.unwrap();
        assert_eq!(r.status, 403, "{r:?}");
    })
    .await;
}

mod http2 {
    //! RFC 8441: the extended CONNECT of an HTTP/2 client, tunnelled to the
    //! upstream's HTTP/1.1 WebSocket.

    use super::*;
    use bytes::Bytes;
    use http_body_util::Empty;
    use hyper::client::conn::http2::SendRequest;
    use hyper::ext::Protocol;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use tokio::io::{AsyncReadExt, BufReader};
    use tokio::net::TcpStream;

    async fn connect(gw: &TestGateway) -> SendRequest<Empty<Bytes>> {
        let tcp = TcpStream::connect(gw.addr).await.unwrap();
        let (send, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
        tokio::spawn(conn);
        send
    }

    fn connect_request(gw: &TestGateway, origin: &str) -> http::Request<Empty<Bytes>> {
        let mut req = http::Request::builder()
            .method(http::Method::CONNECT)
            .uri(format!("http://{}/chat/../ws", gw.addr))
            .header("origin", origin)
            .header("sec-websocket-version", "13")
            .header("sec-websocket-protocol", "chat")
            .body(Empty::new())
            .unwrap();
        req.extensions_mut().insert(Protocol::from_static("websocket"));
        req
    }

    /// Sends `req`, waiting for the server's SETTINGS to allow the
    /// extended CONNECT (RFC 8441 §3) if they have not arrived yet.
    async fn send(
        send: &mut SendRequest<Empty<Bytes>>,
        gw: &TestGateway,
        origin: &str,
    ) -> http::Response<hyper::body::Incoming> {
        for _ in 0..50 {
            match send.send_request(connect_request(gw, origin)).await {
                Ok(r) => return r,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        panic!("the gateway never allowed the extended CONNECT");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_http2_client_opens_a_websocket_with_extended_connect() {
        bounded(20, async {
            let (up, gw) = setup("").await;
            let mut s = connect(&gw).await;
            let mut resp = send(&mut s, &gw, GOOD).await;
            assert_eq!(resp.status(), 200, "RFC 8441 §5: a 2xx");
            assert!(resp.headers().get("sec-websocket-accept").is_none());
            assert_eq!(resp.headers()["sec-websocket-protocol"], "chat");
            let upgraded = hyper::upgrade::on(&mut resp).await.expect("the stream");
            let mut io = BufReader::new(TokioIo::new(upgraded));
            io.get_mut()
                .write_all(&encode(TEXT, b"over h2", Some([1, 2, 3, 4])))
                .await
                .unwrap();
            let f = read_frame(&mut io).await.unwrap();
            assert_eq!((f.opcode, f.payload), (TEXT, b"over h2".to_vec()));
            // A second socket on the same connection, and an unlisted
            // origin refused on it.
            let denied = send(&mut s, &gw, EVIL).await;
            assert_eq!(denied.status(), 403);
            let mut second = send(&mut s, &gw, GOOD).await;
            assert_eq!(second.status(), 200);
            let up2 = hyper::upgrade::on(&mut second).await.unwrap();
            let mut io2 = BufReader::new(TokioIo::new(up2));
            io2.get_mut()
                .write_all(&encode(BINARY, &[5; 20_000], Some([9, 9, 9, 9])))
                .await
                .unwrap();
            let f = read_frame(&mut io2).await.unwrap();
            assert_eq!(f.payload, vec![5; 20_000]);
            // The upstream got an HTTP/1.1 handshake with the gateway's own
            // key, which the gateway checked against its accept.
            let heads = up.heads();
            assert_eq!(heads.len(), 2, "{heads:?}");
            let head = &heads[0];
            assert_eq!(head.lines().next(), Some("GET /ws HTTP/1.1"), "{head}");
            assert_eq!(header_of(head, "upgrade").as_deref(), Some("websocket"));
            assert_eq!(header_of(head, "connection").as_deref(), Some("upgrade"));
            assert_eq!(header_of(head, "origin").as_deref(), Some(GOOD));
            let key = header_of(head, "sec-websocket-key").expect("a key");
            assert!(corsair_gateway::websocket::handshake::is_key(key.as_bytes()), "{key}");
            assert_ne!(key, header_of(&heads[1], "sec-websocket-key").unwrap());
            let opened = gw.logs_with("WebSocket opened");
            assert_eq!(opened[0]["http2"], true);
            // The client ends the stream: the tunnel closes.
            drop(io);
            let closed = gw.wait_log("WebSocket closed", 1, Duration::from_secs(5)).await;
            assert_eq!(closed[0]["reason"], "client_closed");
            let mut rest = Vec::new();
            let _ = tokio::time::timeout(Duration::from_millis(100), io2.read_to_end(&mut rest)).await;
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_idle_http2_tunnel_keeps_its_connection_past_the_header_timeout() {
        bounded(30, async {
            // header_read_timeout closes HTTP/2 connections with nothing in
            // flight; a tunnel is in flight until it closes.
            let up = WsUpstream::start().await;
            let text = config(&up.url(), "/", "").replace("header_read_timeout = 5", "header_read_timeout = 1");
            let gw = TestGateway::start(&text);
            let mut s = connect(&gw).await;
            let mut resp = send(&mut s, &gw, GOOD).await;
            assert_eq!(resp.status(), 200);
            let upgraded = hyper::upgrade::on(&mut resp).await.unwrap();
            let mut io = BufReader::new(TokioIo::new(upgraded));
            tokio::time::sleep(Duration::from_millis(2500)).await;
            io.get_mut()
                .write_all(&encode(TEXT, b"after a quiet while", Some([1, 1, 1, 1])))
                .await
                .unwrap();
            let f = read_frame(&mut io).await.expect("the connection is still open");
            assert_eq!(f.payload, b"after a quiet while".to_vec());
        })
        .await;
    }
}
