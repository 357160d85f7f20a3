//! Raw HTTP/1.1 over TCP, for tests that control every byte a client or an
//! upstream sends: reading a response off the wire ([`read_response`],
//! [`Resp`]), one exchange on a fresh connection ([`exchange`],
//! [`raw_exchange`]), request heads as an upstream sees them
//! ([`read_request_head`]), and [`RawServer`], a loopback server whose
//! connections the test scripts (misbehaving upstreams).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader as TokioBufReader};
use tokio::net::{TcpListener, TcpStream};

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

    /// Asserts that a policy granted `origin` this response: one
    /// `Access-Control-Allow-Origin` naming it, `Access-Control-Allow-Credentials:
    /// true` exactly when `credentials`, and `Vary: Origin`.
    pub fn assert_grants(&self, origin: &str, credentials: bool, what: &str) {
        assert_eq!(self.all("access-control-allow-origin"), [origin], "{what}: {self:?}");
        assert_eq!(
            self.header("access-control-allow-credentials").as_deref(),
            credentials.then_some("true"),
            "{what}: {self:?}"
        );
        assert!(self.varies_on_origin(), "{what}: no Vary: Origin: {self:?}");
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

/// Sends raw bytes on a fresh connection and reads until the server closes
/// it (or `timeout`); returns what was read and whether it closed.
pub async fn raw_exchange(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> (Vec<u8>, bool) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    // A write may fail if the server already closed on us.
    let _ = s.write_all(bytes).await;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(0)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(_)) => return (out, true),
            Err(_) => return (out, false),
        }
    }
}

/// A loopback server (127.0.0.1:0) that runs `serve` on each accepted
/// connection, on the runtime of the test that started it; stopped when
/// dropped.
pub struct RawServer {
    /// Its address.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RawServer {
    /// Starts the server; `serve(stream, n)` gets the `n`-th connection
    /// (from 0).
    pub async fn start<F, Fut>(serve: F) -> RawServer
    where
        F: Fn(TcpStream, usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        Self::start_on(listener, serve)
    }

    /// [`RawServer::start`] on a listener the test made (for example the
    /// one a [`crate::RefusingAddr`] becomes).
    pub fn start_on<F, Fut>(listener: TcpListener, serve: F) -> RawServer
    where
        F: Fn(TcpStream, usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let mut n = 0;
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(serve(stream, n));
                n += 1;
            }
        });
        RawServer { addr, task }
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
