//! Helpers for the `corsair serve` integration tests: a recording upstream
//! server and a small HTTP client (the gateway itself is
//! `support_gateway::Gateway`). Everything binds 127.0.0.1 only.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};

/// Runs a test body with an overall deadline.
pub async fn bounded<F: Future<Output = ()>>(secs: u64, f: F) {
    if tokio::time::timeout(Duration::from_secs(secs), f).await.is_err() {
        panic!("test did not finish within {secs}s");
    }
}

/// A file of `tests/support_serve`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support_serve")
        .join(name)
}

// ---------------------------------------------------------------------------
// The upstream.

/// What the upstream received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub version: http::Version,
    pub headers: HeaderMap,
}

/// A recording upstream hyper server (HTTP/1.1), stopped when dropped.
///
/// Routes: `/slow` answers after 2 s; `/stream` streams two chunks, the
/// second only once [`Upstream::release`] is called; `/upload` reads the
/// body frame by frame, reporting each chunk on `uploads`, and answers the
/// byte count; any path with `?acao` answers with its own CORS headers and
/// hop-by-hop headers; everything else answers `upstream ok`.
pub struct Upstream {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    release: Arc<Notify>,
    uploads: tokio::sync::Mutex<mpsc::UnboundedReceiver<Bytes>>,
    task: tokio::task::JoinHandle<()>,
}

impl Upstream {
    pub async fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind upstream");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let release = Arc::new(Notify::new());
        let (up_tx, up_rx) = mpsc::unbounded_channel();
        let (s, r) = (seen.clone(), release.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (s, r, up_tx) = (s.clone(), r.clone(), up_tx.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req| upstream_handle(req, s.clone(), r.clone(), up_tx.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Upstream {
            addr,
            seen,
            release,
            uploads: tokio::sync::Mutex::new(up_rx),
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Lets `/stream` send its second chunk.
    pub fn release(&self) {
        self.release.notify_one();
    }

    /// The next chunk `/upload` received.
    pub async fn next_upload_chunk(&self) -> Bytes {
        self.uploads.lock().await.recv().await.expect("upload chunk")
    }

    /// Waits until `n` requests were received.
    pub async fn wait_seen(&self, n: usize) {
        while self.seen.lock().unwrap().len() < n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type UpBody = BoxBody<Bytes, Infallible>;

async fn upstream_handle(
    req: Request<Incoming>,
    seen: Arc<Mutex<Vec<Seen>>>,
    release: Arc<Notify>,
    uploads: mpsc::UnboundedSender<Bytes>,
) -> Result<Response<UpBody>, Infallible> {
    seen.lock().unwrap().push(Seen {
        method: req.method().clone(),
        path: req.uri().path().to_owned(),
        version: req.version(),
        headers: req.headers().clone(),
    });
    let path = req.uri().path().to_owned();
    let acao = req.uri().query().is_some_and(|q| q.contains("acao"));
    let resp = match path.as_str() {
        "/slow" | "/api/slow" => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            Response::new(full("slow ok"))
        }
        "/stream" | "/api/stream" => {
            let (tx, rx) = mpsc::channel::<Bytes>(1);
            tokio::spawn(async move {
                let _ = tx.send(Bytes::from_static(b"first chunk;")).await;
                release.notified().await;
                let _ = tx.send(Bytes::from_static(b"second chunk")).await;
            });
            Response::new(ChannelBody::new(rx).boxed())
        }
        "/upload" | "/api/upload" => {
            let mut body = req.into_body();
            let mut n = 0usize;
            while let Some(Ok(f)) = body.frame().await {
                if let Ok(d) = f.into_data() {
                    n += d.len();
                    let _ = uploads.send(d);
                }
            }
            Response::new(full(format!("received {n} bytes")))
        }
        _ => Response::new(full("upstream ok")),
    };
    let mut resp = resp;
    resp.headers_mut().insert("x-upstream", "yes".parse().unwrap());
    if acao {
        let h = resp.headers_mut();
        h.insert("access-control-allow-origin", "*".parse().unwrap());
        h.insert("access-control-allow-credentials", "true".parse().unwrap());
        h.insert("access-control-allow-methods", "DELETE".parse().unwrap());
        h.insert("vary", "Accept-Encoding".parse().unwrap());
        h.insert("connection", "x-hop-response".parse().unwrap());
        h.insert("x-hop-response", "secret".parse().unwrap());
        h.insert("proxy-authenticate", "Basic".parse().unwrap());
    }
    Ok(resp)
}

fn full(s: impl Into<Bytes>) -> UpBody {
    Full::new(s.into()).boxed()
}

/// A body fed by a channel: frames go out as they are sent.
pub struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
}

impl ChannelBody {
    pub fn new(rx: mpsc::Receiver<Bytes>) -> Self {
        Self { rx }
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

// ---------------------------------------------------------------------------
// The client.

/// A response, fully read.
#[derive(Debug)]
pub struct Got {
    pub status: StatusCode,
    pub version: http::Version,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Got {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value, `None` if absent (panics if repeated).
    pub fn header(&self, name: &str) -> Option<String> {
        let mut all = self.headers.get_all(name).iter();
        let first = all.next().map(|v| v.to_str().unwrap().to_owned());
        assert!(all.next().is_none(), "{name} is repeated: {:?}", self.headers);
        first
    }

    /// The Vary header's members, lowercase, in order (all lines).
    pub fn vary(&self) -> Vec<String> {
        self.headers
            .get_all("vary")
            .iter()
            .flat_map(|v| v.to_str().unwrap().split(','))
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

pub type ClientBody = BoxBody<Bytes, Infallible>;

/// A pooled HTTP/1.1 client.
pub fn client() -> Client<HttpConnector, ClientBody> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Sends a request and reads the whole response (10 s limit).
pub async fn send(
    c: &Client<HttpConnector, ClientBody>,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Got, String> {
    let mut b = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b.body(Empty::new().boxed()).map_err(|e| e.to_string())?;
    let fut = async {
        let resp = c.request(req).await.map_err(|e| format!("{e:?}"))?;
        read(resp).await
    };
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .map_err(|_| "timed out".to_owned())?
}

/// Reads a whole response.
pub async fn read<B>(resp: Response<B>) -> Result<Got, String>
where
    B: Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.map_err(|e| format!("{e:?}"))?.to_bytes();
    Ok(Got {
        status: parts.status,
        version: parts.version,
        headers: parts.headers,
        body,
    })
}

/// One GET with a fresh client; panics on failure.
pub async fn get(url: &str, headers: &[(&str, &str)]) -> Got {
    send(&client(), "GET", url, headers)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// Sends raw bytes on a fresh connection and reads until the server closes
/// it (or `timeout`); returns what was read and whether it closed.
pub async fn raw_exchange(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> (Vec<u8>, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
