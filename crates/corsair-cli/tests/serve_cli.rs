//! `corsair serve` as a process: what only the binary shows. Signals
//! (SIGTERM drains then exits 0; SIGHUP reloads the file), the embedded
//! default config, the command line (`--upstream`, `--listen`) and exit
//! codes with clear errors. The gateway's behaviour itself is tested
//! in-process in `crates/corsair-gateway/tests/`.
//!
//! Each gateway is started by `corsair_testkit::cli::ServeProcess` on a
//! socket the test bound (socket activation), so it is reachable as soon
//! as it is spawned: no port is probed and no log line is awaited for
//! readiness. Log lines are read where the test checks what is logged, or
//! waits for an event only the log reports (the start of a drain).

use std::time::Duration;

use corsair_testkit::bounded;
use corsair_testkit::cli::{run, ServeProcess};
use corsair_testkit::client::{client, get, send};
use corsair_testkit::fixture;
use corsair_testkit::upstream::Upstream;
use http::StatusCode;

const BIN: &str = env!("CARGO_BIN_EXE_corsair");
const APP: &str = "https://app.example.com";

/// A config with one credentialed policy on `/api` for `origins`.
fn config(upstream: &str, origins: &str) -> String {
    format!(
        r#"listen = "127.0.0.1:0"
upstream = "{upstream}"
[[policy]]
name = "api"
path_prefix = "/api"
allow_origins = [{origins}]
allow_credentials = true
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_the_request_in_flight_then_exits_0() {
    bounded(30, async {
        let up = Upstream::start();
        let mut gw = ServeProcess::start(BIN, &config(&up.url(), &format!("{APP:?}")), &[]);
        // Held at the upstream until the gate opens.
        let url = gw.url("/api/gate");
        let in_flight = tokio::spawn(async move { get(&url, &[("origin", APP)]).await });
        up.wait_seen(1).await;
        gw.signal("TERM");
        // The drain has begun (the listener is closed before this is logged).
        gw.wait_log("shutting down: draining in-flight requests", 1, Duration::from_secs(5))
            .await;
        assert!(
            tokio::net::TcpStream::connect(gw.addr).await.is_err(),
            "new connections are accepted while draining"
        );
        assert!(!in_flight.is_finished(), "the held request ended early");
        up.open_gate();
        // The request in flight completes, then the process exits 0.
        let r = in_flight.await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "gate open");
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
        let st = tokio::task::block_in_place(|| gw.wait_exit(Duration::from_secs(10))).expect("exited");
        assert!(st.success(), "{st}: {}", gw.logs());
        let stop = gw.wait_log("shutdown requested", 1, Duration::from_secs(2)).await;
        assert_eq!(stop[0]["signal"], "SIGTERM");
        gw.wait_log("drained; bye", 1, Duration::from_secs(2)).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_config_and_keeps_the_command_line_overrides() {
    bounded(30, async {
        let up = Upstream::start();
        let a = "\"https://a.example\"";
        // The file says builtin:echo; --upstream replaces it.
        let gw = ServeProcess::start(BIN, &config("builtin:echo", a), &["--upstream", &up.url()]);
        let c = client();
        let r = send(&c, "GET", &gw.url("/api/x"), &[("origin", "https://b.example")])
            .await
            .unwrap();
        assert_eq!(r.text(), "upstream ok", "--upstream was not applied");
        assert_eq!(r.header("access-control-allow-origin"), None);

        // SIGHUP with the file unchanged: reloaded anyway (the file watcher
        // never reloads content it has already seen), and the process lives
        // on (SIGHUP's default action would end it).
        gw.signal("HUP");
        gw.wait_log("config reloaded", 1, Duration::from_secs(5)).await;
        assert_eq!(gw.logs_with("SIGHUP: reloading the config").len(), 1);
        let r = send(&c, "GET", &gw.url("/api/x"), &[("origin", "https://b.example")])
            .await
            .unwrap();
        assert_eq!(r.text(), "upstream ok", "--upstream was lost on reload");

        // A changed file and SIGHUP: the new policy serves, through the
        // --upstream still.
        gw.rewrite_config(&config("builtin:echo", &format!("{a}, \"https://b.example\"")));
        gw.signal("HUP");
        gw.wait_log("SIGHUP: reloading the config", 2, Duration::from_secs(5))
            .await;
        gw.wait_log("config reloaded", 2, Duration::from_secs(5)).await;
        let r = send(&c, "GET", &gw.url("/api/x"), &[("origin", "https://b.example")])
            .await
            .unwrap();
        assert_eq!(r.text(), "upstream ok");
        assert_eq!(
            r.header("access-control-allow-origin").as_deref(),
            Some("https://b.example")
        );
        assert_eq!(up.seen().len(), 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_default_allows_localhost_with_the_echo_upstream() {
    bounded(20, async {
        let gw = ServeProcess::start_args(BIN, &["serve", "--log-format", "json", "--listen", "127.0.0.1:0"]);
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
        // Logged at start; read from the child's stderr by another thread.
        let start = gw
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
    let serve = |args: &[&str]| {
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        let r = run(BIN, &all);
        (r.code, r.stderr)
    };

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "listen = \"nowhere\"\nupstream = \"ftp://x\"\n[[policy]]\nallow_origins = [\"*\"]\nallow_credentials = true\n",
    )
    .unwrap();
    let (code, err) = serve(&["--config", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    for want in [
        bad.to_str().unwrap(),
        "listen",
        "upstream",
        "policy[0].allow_origins[0]",
    ] {
        assert!(err.contains(want), "missing {want:?} in {err}");
    }
    assert!(!err.contains("panicked"), "{err}");

    let (code, err) = serve(&["--config", dir.path().join("missing.toml").to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot read the file"), "{err}");

    let (code, err) = serve(&["--listen", "nowhere"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--listen"), "{err}");
    let (code, err) = serve(&["--upstream", "ftp://x"]);
    assert_eq!(code, 2, "{err}");
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
    let (code, err) = serve(&["--config", tls.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("tls.cert"), "{err}");

    // The address is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, err) = serve(&["--listen", &addr]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot listen on"), "{err}");
    assert!(err.contains(&addr), "{err}");
}
