//! The test upstream: a hyper HTTP/1.1 server on 127.0.0.1:0, on a thread
//! and runtime of its own (so sync and async tests use it alike), that
//! records every request and stops when dropped.
//!
//! [`Upstream::start`] serves the gateway tests' routes: `/gate` (and
//! `/api/gate`) answers `gate open` only once [`Upstream::open_gate`] is
//! called (a request held in flight for as long as the test needs, with no
//! timer); `/stream` streams two chunks, the second only once
//! [`Upstream::release`] is called; `/upload` reads the body frame
//! by frame, reporting each chunk ([`Upstream::next_upload_chunk`]), and
//! answers the byte count; any path with `?acao` in its query answers with
//! CORS headers and hop-by-hop headers of its own (which a gateway must
//! remove); everything else answers `upstream ok`. Every answer carries
//! `x-upstream: yes`.
//!
//! [`Upstream::with`] answers every request with a [`Reply`] computed by a
//! closure from the method and the request headers (for `check` and
//! `audit`, which probe servers with given CORS behaviour).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::{mpsc, oneshot, watch, Notify};

/// What the upstream received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The method.
    pub method: Method,
    /// The path (no query).
    pub path: String,
    /// The query, if any.
    pub query: Option<String>,
    /// The HTTP version.
    pub version: http::Version,
    /// The header fields.
    pub headers: HeaderMap,
}

/// An answer of a [`Upstream::with`] handler: a status and header lines
/// (repeats allowed); the body is `{"ok":true}`.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Header lines, in order.
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// 204 for OPTIONS, 200 for anything else, with these headers.
    pub fn for_method(method: &Method, headers: Vec<(&'static str, String)>) -> Reply {
        let status = if method == Method::OPTIONS { 204 } else { 200 };
        Reply { status, headers }
    }
}

/// The request's `Origin`, if any and printable (for handlers).
pub fn origin_of(headers: &HeaderMap) -> Option<&str> {
    headers.get("origin").and_then(|v| v.to_str().ok())
}

type Handler = dyn Fn(&Method, &HeaderMap) -> Reply + Send + Sync;

#[derive(Clone)]
enum Mode {
    Routes,
    Handler(Arc<Handler>),
}

struct State {
    seen: Mutex<Vec<Seen>>,
    release: Notify,
    gate: watch::Sender<bool>,
    uploads: mpsc::UnboundedSender<Bytes>,
}

/// The running test upstream (see the module docs).
pub struct Upstream {
    /// Its address.
    pub addr: SocketAddr,
    state: Arc<State>,
    uploads: tokio::sync::Mutex<mpsc::UnboundedReceiver<Bytes>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Upstream {
    /// The upstream with the gateway tests' routes.
    pub fn start() -> Upstream {
        Self::spawn(Mode::Routes)
    }

    /// An upstream whose every answer is `handler(method, request headers)`.
    pub fn with<F>(handler: F) -> Upstream
    where
        F: Fn(&Method, &HeaderMap) -> Reply + Send + Sync + 'static,
    {
        Self::spawn(Mode::Handler(Arc::new(handler)))
    }

    fn spawn(mode: Mode) -> Upstream {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let (up_tx, up_rx) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            seen: Mutex::new(Vec::new()),
            release: Notify::new(),
            gate: watch::Sender::new(false),
            uploads: up_tx,
        });
        let (stop, mut stopped) = oneshot::channel::<()>();
        let st = state.clone();
        let thread = thread::Builder::new()
            .name("test-upstream".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                    loop {
                        tokio::select! {
                            _ = &mut stopped => break,
                            accepted = listener.accept() => {
                                let Ok((stream, _)) = accepted else { continue };
                                let (st, mode) = (st.clone(), mode.clone());
                                tokio::spawn(async move {
                                    let svc = service_fn(move |req| handle(req, st.clone(), mode.clone()));
                                    let _ = hyper::server::conn::http1::Builder::new()
                                        .serve_connection(TokioIo::new(stream), svc)
                                        .await;
                                });
                            }
                        }
                    }
                });
            })
            .expect("spawn the upstream thread");
        Upstream {
            addr,
            state,
            uploads: tokio::sync::Mutex::new(up_rx),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Lets `/stream` send its second chunk.
    pub fn release(&self) {
        self.state.release.notify_one();
    }

    /// Lets every `/gate` request, held or still to come, answer.
    pub fn open_gate(&self) {
        self.state.gate.send_replace(true);
    }

    /// The next chunk `/upload` received.
    pub async fn next_upload_chunk(&self) -> Bytes {
        self.uploads.lock().await.recv().await.expect("upload chunk")
    }

    /// Waits until `n` requests were received.
    pub async fn wait_seen(&self, n: usize) {
        while self.seen().len() < n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

type UpBody = BoxBody<Bytes, Infallible>;

async fn handle(req: Request<Incoming>, st: Arc<State>, mode: Mode) -> Result<Response<UpBody>, Infallible> {
    st.seen.lock().unwrap_or_else(PoisonError::into_inner).push(Seen {
        method: req.method().clone(),
        path: req.uri().path().to_owned(),
        query: req.uri().query().map(str::to_owned),
        version: req.version(),
        headers: req.headers().clone(),
    });
    if let Mode::Handler(h) = mode {
        let reply = h(req.method(), req.headers());
        let mut resp = Response::new(full("{\"ok\":true}\n"));
        *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
        for (name, value) in reply.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().append(name, v);
            }
        }
        return Ok(resp);
    }
    let path = req.uri().path().to_owned();
    let acao = req.uri().query().is_some_and(|q| q.contains("acao"));
    let mut resp = match path.as_str() {
        "/gate" | "/api/gate" => {
            let mut open = st.gate.subscribe();
            // The sender lives in `st`, so this ends only when the gate opens.
            let _ = open.wait_for(|&o| o).await;
            Response::new(full("gate open"))
        }
        "/stream" | "/api/stream" => {
            let (tx, rx) = mpsc::channel::<Bytes>(1);
            let st = st.clone();
            tokio::spawn(async move {
                let _ = tx.send(Bytes::from_static(b"first chunk;")).await;
                st.release.notified().await;
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
                    let _ = st.uploads.send(d);
                }
            }
            Response::new(full(format!("received {n} bytes")))
        }
        _ => Response::new(full("upstream ok")),
    };
    let h = resp.headers_mut();
    h.insert("x-upstream", HeaderValue::from_static("yes"));
    if acao {
        for (k, v) in [
            ("access-control-allow-origin", "*"),
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-methods", "DELETE"),
            ("vary", "Accept-Encoding"),
            ("connection", "x-hop-response"),
            ("x-hop-response", "secret"),
            ("proxy-authenticate", "Basic"),
        ] {
            h.insert(k, HeaderValue::from_static(v));
        }
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
    /// The body of `rx`'s chunks, ending when the sender is dropped.
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
