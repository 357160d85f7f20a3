//! The built `corsair serve` as a child process, shared by the gateway
//! integration tests (`serve.rs`, `faults.rs`, `cache_poisoning.rs`): started
//! on a temporary config, ready once its JSON log says it listens, killed
//! when dropped. Everything binds 127.0.0.1 only.
//!
//! Lives in `tests/support_gateway/mod.rs` so that Cargo does not build it as
//! a test target itself. Each test crate uses only part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running `corsair serve`, killed when dropped.
pub struct Gateway {
    child: Child,
    /// The gateway's address (from its start-up log).
    pub addr: SocketAddr,
    /// The admin address, when configured.
    pub admin: Option<SocketAddr>,
    /// The config file (when started with one).
    config: Option<PathBuf>,
    logs: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Gateway {
    /// Starts the gateway on `config` (written to a temp file as is, so it
    /// should say `listen = "127.0.0.1:0"`), with JSON logs and the `extra`
    /// arguments.
    pub fn start(config: &str, extra: &[&str]) -> Gateway {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("corsair.toml");
        std::fs::write(&path, config).expect("write config");
        let p = path.to_str().expect("utf-8 path").to_owned();
        let mut args = vec!["serve", "--log-format", "json", "--config", p.as_str()];
        args.extend_from_slice(extra);
        Self::spawn(&args, Some(path.clone()), dir)
    }

    /// Starts the gateway with these arguments only (no config file).
    pub fn start_args(args: &[&str]) -> Gateway {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::spawn(args, None, dir)
    }

    fn spawn(args: &[&str], config: Option<PathBuf>, dir: tempfile::TempDir) -> Gateway {
        let mut child = Command::new(env!("CARGO_BIN_EXE_corsair"))
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn corsair");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        let mut g = Gateway {
            child,
            addr: "127.0.0.1:0".parse().unwrap(),
            admin: None,
            config,
            logs,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        // "limits" is logged after the listener is bound; the admin line after it.
        let wants_admin = g
            .config
            .as_deref()
            .is_some_and(|c| std::fs::read_to_string(c).unwrap_or_default().contains("[admin]"));
        loop {
            if g.log_field("limits", "max_connections").is_some()
                && (!wants_admin || g.log_field("admin listening", "addr").is_some())
            {
                break;
            }
            if let Ok(Some(st)) = g.child.try_wait() {
                panic!("corsair exited early ({st}):\n{}", g.logs());
            }
            assert!(
                Instant::now() < deadline,
                "corsair did not start within 30 s:\n{}",
                g.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let addr = g
            .log_field("corsair gateway listening", "addr")
            .expect("listening line");
        g.addr = addr.parse().expect("addr");
        g.admin = g
            .log_field("admin listening", "addr")
            .map(|a| a.parse().expect("admin addr"));
        g
    }

    /// The URL of `path` on the gateway, `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends a signal (`TERM`, `HUP`) with kill(1).
    pub fn signal(&self, sig: &str) {
        let pid = self.child.id();
        let ok = Command::new("kill")
            .args(["-s", sig, &pid.to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -s {sig} {pid} failed");
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return Some(st);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the gateway logged so far, as text.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// Every log line so far, parsed (JSON format).
    pub fn log_json(&self) -> Vec<Value> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Log lines whose message is `message`.
    pub fn logs_with(&self, message: &str) -> Vec<Value> {
        self.log_json()
            .into_iter()
            .filter(|v| v["message"] == message)
            .collect()
    }

    fn log_field(&self, message: &str, field: &str) -> Option<String> {
        self.logs_with(message).first().and_then(|v| match &v[field] {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        })
    }

    /// Waits until a line with `message` appears `n` times, and returns
    /// every such line (the log is read from the gateway's stderr by another
    /// thread, so a line written before an answer may arrive after it).
    pub async fn wait_log(&self, message: &str, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let lines = self.logs_with(message);
            if lines.len() >= n {
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "no {message:?} ×{n} in the log:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Replaces the config file atomically (write + rename), as editors and
    /// config management do.
    pub fn rewrite_config(&self, text: &str) {
        let path = self.config.as_deref().expect("a config file");
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).expect("write");
        std::fs::rename(&tmp, path).expect("rename");
    }

    /// The admin listener's `/metrics` text (asserting a 200).
    pub async fn metrics(&self) -> String {
        let admin = self.admin.expect("admin listener");
        // HTTP/1.0: the answer is delimited by the close of the connection.
        let mut s = tokio::net::TcpStream::connect(admin).await.expect("connect to admin");
        s.write_all(b"GET /metrics HTTP/1.0\r\nHost: admin\r\n\r\n")
            .await
            .expect("send");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.expect("read /metrics");
        let raw = String::from_utf8(raw).expect("utf-8 /metrics");
        let (head, body) = raw.split_once("\r\n\r\n").expect("a response head");
        assert_eq!(head.split_whitespace().nth(1), Some("200"), "{head}");
        body.to_owned()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A 127.0.0.1 address with nothing listening on it (bound, then released).
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
}
