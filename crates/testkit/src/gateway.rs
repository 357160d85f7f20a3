//! A gateway in-process: [`corsair_gateway::Gateway`] bound and run on a
//! thread (and single-threaded runtime) of its own, as a process would be,
//! so that sync and async tests drive it alike. The config is written to a
//! temporary file first, so that tests can rewrite it and reload.
//!
//! The gateway binds the config's `listen` itself (write `127.0.0.1:0`) and
//! the kit reads the real address back from it: nothing probes for a free
//! port, and the gateway is reachable as soon as [`TestGateway::start`]
//! returns (connections wait in the backlog until the accept loop runs).
//! Its log events go, as JSON lines, to a buffer of its own
//! ([`TestGateway::logs_with`]); a line logged before an answer is sent is
//! in the buffer by the time the answer arrives.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use corsair_gateway::{Config, ConfigFileError, Gateway, Handle, Options, Overrides};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// A running in-process gateway, shut down (and drained) when dropped.
pub struct TestGateway {
    /// The gateway's address.
    pub addr: SocketAddr,
    /// The admin listener's address, when the config has `[admin]`.
    pub admin: Option<SocketAddr>,
    handle: Handle,
    config_path: PathBuf,
    logs: Arc<Mutex<Vec<u8>>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// A `tracing` writer appending to a shared buffer.
#[derive(Clone)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl TestGateway {
    /// Starts a gateway on `config` (TOML, which should say
    /// `listen = "127.0.0.1:0"`), logging at `info`; panics with the
    /// config's problems if it is refused.
    pub fn start(config: &str) -> TestGateway {
        Self::try_start(config, "info", Overrides::default())
            .unwrap_or_else(|e| panic!("the gateway did not start: {e}"))
    }

    /// [`TestGateway::start`] with a log filter (`info`, `debug`,
    /// `corsair_gateway=debug`…) and overrides (as `--listen` and
    /// `--upstream` give); `Err` with the message when it does not start.
    pub fn try_start(config: &str, log_filter: &str, overrides: Overrides) -> Result<TestGateway, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("corsair.toml");
        std::fs::write(&path, config).map_err(|e| e.to_string())?;
        let parsed = Config::load(&path).map_err(|e| e.to_string())?;
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = Sink(logs.clone());
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_env_filter(tracing_subscriber::EnvFilter::new(log_filter))
            .with_writer(move || sink.clone())
            .finish();
        let options = Options::new()
            .config_file(&path, true)
            .overrides(overrides)
            .log_to(tracing::Dispatch::new(subscriber));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name("test-gateway".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                rt.block_on(async move {
                    match Gateway::bind(parsed, options).await {
                        Ok(bound) => {
                            let _ = ready_tx.send(Ok((bound.local_addr(), bound.admin_addr(), bound.handle())));
                            bound
                                .run(async {
                                    let _ = stopped.await;
                                })
                                .await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                        }
                    }
                });
            })
            .map_err(|e| e.to_string())?;
        let (addr, admin, handle) = match ready_rx.recv() {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err("the gateway thread ended before binding".to_owned());
            }
        };
        Ok(TestGateway {
            addr,
            admin,
            handle,
            config_path: path,
            logs,
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        })
    }

    /// `http://addr{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The gateway's reload handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Replaces the config file atomically (write + rename), as editors and
    /// config management do; the gateway notices within about a second.
    pub fn rewrite_config(&self, text: &str) {
        let tmp = self.config_path.with_extension("tmp");
        std::fs::write(&tmp, text).expect("write");
        std::fs::rename(&tmp, &self.config_path).expect("rename");
    }

    /// Reloads the config file now (as SIGHUP does).
    pub fn reload(&self) -> Result<(), ConfigFileError> {
        self.handle.reload()
    }

    /// Everything logged so far, as text (one JSON object per line).
    pub fn logs(&self) -> String {
        String::from_utf8_lossy(&self.logs.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }

    /// Every log line so far, parsed.
    pub fn log_json(&self) -> Vec<Value> {
        self.logs()
            .lines()
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

    /// Waits until a line with `message` appears `n` times (for events that
    /// happen after an answer, such as a reload or a drain) and returns
    /// every such line.
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
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The admin listener's `/metrics` text (asserting a 200).
    pub async fn metrics(&self) -> String {
        admin_get(self.admin.expect("an [admin] listener"), "/metrics").await.1
    }

    /// Stops the gateway: stops accepting, drains (up to the config's
    /// `shutdown_grace`) and returns once it has finished. Blocks.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    /// Starts the shutdown and returns at once: the gateway stops
    /// accepting, `/healthz` says 503 `draining`, and in-flight requests
    /// finish. The value stays usable (its address, admin listener and log)
    /// while the gateway drains; [`TestGateway::stopped`] waits for the end.
    pub fn begin_shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }

    /// Waits (without blocking the caller's runtime) until the gateway has
    /// finished: drained, or its `shutdown_grace` elapsed. Panics unless
    /// [`TestGateway::begin_shutdown`] was called first (it would wait
    /// forever).
    pub async fn stopped(&mut self) {
        assert!(self.stop.is_none(), "TestGateway::stopped before begin_shutdown");
        if let Some(t) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }

    /// The admin listener's `/healthz`: its status and body.
    pub async fn health(&self) -> (u16, String) {
        admin_get(self.admin.expect("an [admin] listener"), "/healthz").await
    }

    fn stop_and_join(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// `GET path` on an admin listener over HTTP/1.0 (delimited by the close):
/// the status and the body.
pub async fn admin_get(admin: SocketAddr, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(admin).await.expect("connect to admin");
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: admin\r\n\r\n").as_bytes())
        .await
        .expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read the admin answer");
    let raw = String::from_utf8(raw).expect("utf-8 answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    if path == "/metrics" {
        assert_eq!(status, 200, "{head}");
    }
    (status, body.to_owned())
}
