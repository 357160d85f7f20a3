//! Harness for the gateway fault and cache-poisoning tests: runs the built
//! `corsair serve` on a loopback port, and speaks raw HTTP/1.1 over TCP (so
//! that tests control every byte a client or an upstream sends).
//!
//! Lives in `tests/support_faults/mod.rs` so that Cargo does not build it as
//! a test target itself.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader as TokioBufReader};
use tokio::net::TcpStream;

/// A running `corsair serve`, killed when dropped.
pub struct Gateway {
    child: Child,
    /// The gateway's listening address.
    pub addr: SocketAddr,
    /// The config file it was started with.
    pub config: PathBuf,
    logs: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Gateway {
    /// Starts the gateway with this config text, which must not set
    /// `listen` (the gateway listens on a free loopback port, which is read
    /// back from its log).
    pub fn start(config: &str) -> Gateway {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("corsair.toml");
        std::fs::write(&path, format!("listen = \"127.0.0.1:0\"\n{config}")).expect("write config");
        let mut child = Command::new(env!("CARGO_BIN_EXE_corsair"))
            .args(["serve", "--log-format", "json", "--config"])
            .arg(&path)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn corsair serve");
        let stderr = child.stderr.take().expect("stderr");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if v["message"] == "corsair gateway listening" {
                        if let Some(a) = v["addr"].as_str().and_then(|a| a.parse::<SocketAddr>().ok()) {
                            let _ = tx.send(a);
                        }
                    }
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "corsair serve did not announce its address within 30 s; log:\n{}",
                    logs.lock().unwrap().join("\n")
                );
            }
        };
        Gateway {
            child,
            addr,
            config: path,
            logs,
            _dir: dir,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the gateway logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -TERM {} failed", self.pid());
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return Some(s);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
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

/// One HTTP/1.1 response as read off the wire.
#[derive(Debug, Clone)]
pub struct Resp {
    /// The status code.
    pub status: u16,
    /// Header lines in order (names lowercased).
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
    /// Whether the body was complete (all of Content-Length, or the last chunk).
    pub complete: bool,
}

impl Resp {
    /// The first value of a header, as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    /// Every value of a header.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether `Vary` names `Origin`.
    pub fn varies_on_origin(&self) -> bool {
        self.all("vary")
            .iter()
            .flat_map(|v| v.split(',').map(|s| s.trim().to_ascii_lowercase()).collect::<Vec<_>>())
            .any(|t| t == "origin" || t == "*")
    }

    /// The names of the `access-control-*` headers present.
    pub fn cors_headers(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.starts_with("access-control-"))
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// Reads one response; `head` says the request was `HEAD` (no body).
/// `Err` when the connection closes (or fails) before a complete head.
pub async fn read_response<R: AsyncRead + Unpin>(r: &mut TokioBufReader<R>, head: bool) -> std::io::Result<Resp> {
    let eof = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed before a response head");
    let mut line = Vec::new();
    if r.read_until(b'\n', &mut line).await? == 0 {
        return Err(eof());
    }
    let status_line = String::from_utf8_lossy(&line).into_owned();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line).await? == 0 {
            return Err(eof());
        }
        let l = line.strip_suffix(b"\n").unwrap_or(&line);
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        if l.is_empty() {
            break;
        }
        let Some(colon) = l.iter().position(|&b| b == b':') else {
            return Err(std::io::Error::other("header line without a colon"));
        };
        let name = String::from_utf8_lossy(&l[..colon]).to_ascii_lowercase();
        headers.push((name, l[colon + 1..].trim_ascii().to_vec()));
    }
    let mut resp = Resp {
        status,
        headers,
        body: Vec::new(),
        complete: true,
    };
    if head || status == 204 || status == 304 || (100..200).contains(&status) {
        return Ok(resp);
    }
    if resp
        .header("transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    {
        loop {
            line.clear();
            if r.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
                resp.complete = false;
                return Ok(resp);
            }
            let size_text = String::from_utf8_lossy(&line);
            let size_text = size_text.trim().split(';').next().unwrap_or("").to_owned();
            let Ok(size) = usize::from_str_radix(&size_text, 16) else {
                resp.complete = false;
                return Ok(resp);
            };
            if size == 0 {
                // Trailers, then the final CRLF.
                loop {
                    line.clear();
                    if r.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
                        resp.complete = false;
                        return Ok(resp);
                    }
                    if line == b"\r\n" || line == b"\n" {
                        return Ok(resp);
                    }
                }
            }
            let mut chunk = vec![0u8; size + 2];
            match r.read_exact(&mut chunk).await {
                Ok(_) => resp.body.extend_from_slice(&chunk[..size]),
                Err(_) => {
                    resp.complete = false;
                    return Ok(resp);
                }
            }
        }
    }
    if let Some(n) = resp.header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        let mut buf = vec![0u8; 16 * 1024];
        while resp.body.len() < n {
            let want = (n - resp.body.len()).min(buf.len());
            match r.read(&mut buf[..want]).await {
                Ok(0) | Err(_) => {
                    resp.complete = false;
                    return Ok(resp);
                }
                Ok(k) => resp.body.extend_from_slice(&buf[..k]),
            }
        }
        return Ok(resp);
    }
    // Delimited by the close of the connection.
    let _ = r.read_to_end(&mut resp.body).await;
    Ok(resp)
}

/// Connects, sends `raw` and reads one response.
pub async fn exchange(addr: SocketAddr, raw: &[u8]) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(raw).await?;
    let head = raw.starts_with(b"HEAD ");
    let mut r = TokioBufReader::new(s);
    read_response(&mut r, head).await
}

/// A request with `Connection: close`, optionally with an `Origin`, plus
/// extra header lines (each without CRLF).
pub fn request(method: &str, path: &str, origin: Option<&str>, extra: &[&str]) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: gateway.test\r\n");
    if let Some(o) = origin {
        r.push_str(&format!("Origin: {o}\r\n"));
    }
    for e in extra {
        r.push_str(e);
        r.push_str("\r\n");
    }
    r.push_str("Connection: close\r\n\r\n");
    r.into_bytes()
}

/// `GET path` with an optional `Origin`, with a 10 s bound.
pub async fn get(addr: SocketAddr, path: &str, origin: Option<&str>) -> Resp {
    let raw = request("GET", path, origin, &[]);
    match tokio::time::timeout(Duration::from_secs(10), exchange(addr, &raw)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => panic!("GET {path} (origin {origin:?}) failed: {e}"),
        Err(_) => panic!("GET {path} (origin {origin:?}) took more than 10 s"),
    }
}

/// Reads a request head (up to the blank line); `None` at EOF.
pub async fn read_request_head<R: AsyncRead + Unpin>(r: &mut TokioBufReader<R>) -> Option<String> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        match r.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let end = line == b"\r\n" || line == b"\n";
        head.extend_from_slice(&line);
        if end {
            return Some(String::from_utf8_lossy(&head).into_owned());
        }
    }
}

/// The request target of a request head.
pub fn target_of(head: &str) -> String {
    head.split_whitespace().nth(1).unwrap_or("/").to_owned()
}

/// A header of a request head, case-insensitively.
pub fn header_of(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

/// The soft limit on open files of this process (`/proc/self/limits`).
pub fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// A loopback port with nothing listening on it (bound, then released).
pub fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let a = l.local_addr().expect("addr");
    drop(l);
    a
}
