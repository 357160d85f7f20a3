//! Loopback HTTP servers and a runner for the `corsair` binary, shared by integration tests.
//!
//! Lives in `tests/support/mod.rs` so that Cargo does not build it as a test target itself.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::thread;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

/// What a test server answers: a status and the response headers (repeats allowed).
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// 200 for GET (and anything else), 204 for OPTIONS, with these headers.
    pub fn for_method(method: &Method, headers: Vec<(&'static str, String)>) -> Reply {
        let status = if method == Method::OPTIONS { 204 } else { 200 };
        Reply { status, headers }
    }
}

type Handler = dyn Fn(&Method, &HeaderMap) -> Reply + Send + Sync;

/// An HTTP/1.1 server on `127.0.0.1:0`, running on its own thread until dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl TestServer {
    /// Start a server whose every response is decided by `handler(method, request headers)`.
    pub fn start<F>(handler: F) -> TestServer
    where
        F: Fn(&Method, &HeaderMap) -> Reply + Send + Sync + 'static,
    {
        let handler: Arc<Handler> = Arc::new(handler);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let (tx, mut rx) = oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let handler = handler.clone();
                            tokio::spawn(async move {
                                let service = service_fn(move |req: Request<Incoming>| {
                                    let reply = handler(req.method(), req.headers());
                                    async move { Ok::<_, Infallible>(into_response(reply)) }
                                });
                                let _ = http1::Builder::new()
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            });
                        }
                    }
                }
            });
        });
        TestServer {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// A URL on this server.
    pub fn url(&self) -> String {
        format!("http://{}/api/data", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn into_response(reply: Reply) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(b"{\"ok\":true}\n")));
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    for (name, value) in reply.headers {
        if let Ok(v) = http::HeaderValue::from_str(&value) {
            resp.headers_mut().append(name, v);
        }
    }
    resp
}

/// The request's `Origin`, if any and printable.
pub fn origin_of(headers: &HeaderMap) -> Option<&str> {
    headers.get("origin").and_then(|v| v.to_str().ok())
}

/// The output of one `corsair` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout parsed as JSON (panics with the output when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
}

/// Run the built `corsair` binary with these arguments.
pub fn corsair(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run corsair");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
