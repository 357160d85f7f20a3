//! The connection pool to a cleartext HTTP/1.1 upstream (`upstream =
//! "http://…"`), the gateway's hot path.
//!
//! hyper-util's general-purpose client checks a connection out through a
//! keyed pool, a `Checkout` future and a task spawned per request to put the
//! connection back once its response has been read. Here the upstream is
//! one fixed address, so the pool is a LIFO stack of idle
//! [`SendRequest`] handles behind a mutex held for a push or a pop, and a
//! connection goes back on the stack from the response body itself, when
//! the body's last frame has been read: no task per request, no per-request
//! hashing. Each connection is driven by one task spawned when it is opened,
//! on the worker that opened it, and it goes back to that worker's own stack
//! (the pool is sharded by worker, so the mutex is never contended and a
//! connection is only ever used by the thread that drives it).
//!
//! - Idle connections are reused most-recent first (warm sockets, and the
//!   rarely used ones age out); a connection idle longer than
//!   [`IDLE_TIMEOUT`] is closed, checked on every checkout and by a reaper
//!   every [`IDLE_TIMEOUT`]/2.
//! - A request whose connection turns out to be closed *before it was
//!   written* (the upstream closed an idle keep-alive connection at the same
//!   moment) is retried once on a new connection; a request that may have
//!   reached the upstream is never retried.
//! - A response body dropped before its end (the client went away) takes
//!   its connection with it: hyper closes it rather than reuse a connection
//!   with unread bytes.
//!
//! `https://` upstreams go through hyper-util's client with rustls (see
//! [`super::state`]).

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderValue, HOST};
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tracing::debug;

use super::workers;

/// How long an idle upstream connection is kept (the same as hyper-util's
/// default for the https client).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a request could not be sent upstream.
#[derive(Debug)]
pub enum SendError {
    /// Could not connect (DNS, refused, unreachable).
    Connect(io::Error),
    /// The HTTP/1.1 handshake or the exchange failed.
    Http(hyper::Error),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SendError::Connect(_) => "connect",
            SendError::Http(_) => "HTTP/1.1 exchange",
        })
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SendError::Connect(e) => Some(e),
            SendError::Http(e) => Some(e),
        }
    }
}

struct Idle {
    sender: SendRequest<Incoming>,
    since: Instant,
}

/// A pool of HTTP/1.1 connections to one `host:port`.
pub struct Http1Pool {
    /// `host:port` as written in the upstream URL, for connecting.
    addr: String,
    /// The `Host` header sent upstream (the upstream URL's authority).
    host: HeaderValue,
    /// One stack of idle connections per worker.
    shards: Box<[Mutex<VecDeque<Idle>>]>,
}

impl Http1Pool {
    /// A pool for the upstream `host[:port]` (port 80 when absent), with
    /// one idle stack per worker. Must be called inside a tokio runtime: it
    /// spawns the idle-connection reaper.
    pub fn new(authority: &http::uri::Authority, workers: usize) -> Arc<Self> {
        let port = authority.port_u16().unwrap_or(80);
        let host_part = authority.host();
        let addr = format!("{host_part}:{port}");
        let host_header = match authority.port() {
            Some(p) => format!("{host_part}:{p}"),
            None => host_part.to_owned(),
        };
        let host = HeaderValue::from_str(&host_header).unwrap_or(HeaderValue::from_static("localhost"));
        let pool = Arc::new(Self {
            addr,
            host,
            shards: (0..workers.max(1)).map(|_| Mutex::new(VecDeque::new())).collect(),
        });
        tokio::spawn(reap(Arc::downgrade(&pool)));
        pool
    }

    /// The idle stack of the calling worker.
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Idle>> {
        lock(&self.shards[workers::current_id() % self.shards.len()])
    }

    /// Sends `req` (its URI in origin form, `/path?query`) and returns the
    /// response head; the connection returns to the pool when the body has
    /// been read to its end.
    pub async fn send(self: &Arc<Self>, mut req: Request<Incoming>) -> Result<Response<PooledBody>, SendError> {
        req.headers_mut().insert(HOST, self.host.clone());
        let mut sender = self.checkout().await?;
        let resp = match sender.try_send_request(req).await {
            Ok(r) => r,
            Err(mut e) => match e.take_message() {
                // Never written: the connection was already closing.
                // Retry once on a fresh connection.
                Some(req) => {
                    debug!(error = %e.error(), "pooled upstream connection was closed; retrying on a new one");
                    sender = Box::pin(self.connect()).await?;
                    sender.send_request(req).await.map_err(SendError::Http)?
                }
                None => return Err(SendError::Http(e.into_error())),
            },
        };
        let pool = Arc::downgrade(self);
        Ok(resp.map(|body| {
            let done = body.is_end_stream();
            let mut b = PooledBody {
                inner: body,
                back: Some((sender, pool)),
            };
            if done {
                b.release();
            }
            b
        }))
    }

    /// An idle connection ready to send, or a new one.
    async fn checkout(&self) -> Result<SendRequest<Incoming>, SendError> {
        loop {
            let candidate = self.lock().pop_back();
            let Some(Idle { mut sender, since }) = candidate else {
                // Boxed: the rare path stays out of every request's future.
                return Box::pin(self.connect()).await;
            };
            if sender.is_closed() || since.elapsed() > IDLE_TIMEOUT {
                continue;
            }
            // Pooled only when ready (see `put_back`), so this returns at
            // once; it fails for a connection the upstream closed since.
            if sender.ready().await.is_ok() {
                return Ok(sender);
            }
        }
    }

    async fn connect(&self) -> Result<SendRequest<Incoming>, SendError> {
        let stream = TcpStream::connect(&self.addr).await.map_err(SendError::Connect)?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::Builder::new()
            .writev(false)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(SendError::Http)?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                debug!(error = %e, "upstream connection ended with an error");
            }
        });
        Ok(sender)
    }

    fn put_back(&self, sender: SendRequest<Incoming>) {
        // At the end of a response body hyper has already made the
        // connection ready for the next request (measured: every time under
        // load). One that is not is still busy — say, still sending the
        // body of a request the upstream answered early — and would make
        // the next checkout wait on it: let it finish and close instead.
        if sender.is_closed() || !sender.is_ready() {
            return;
        }
        self.lock().push_back(Idle {
            sender,
            since: Instant::now(),
        });
    }
}

/// Closes connections idle longer than [`IDLE_TIMEOUT`] until the pool is
/// dropped.
async fn reap(pool: Weak<Http1Pool>) {
    loop {
        tokio::time::sleep(IDLE_TIMEOUT / 2).await;
        let Some(pool) = pool.upgrade() else { return };
        for shard in pool.shards.iter() {
            let expired: Vec<Idle> = {
                let mut idle = lock(shard);
                // Oldest first: everything before the first fresh one goes.
                let keep = idle
                    .iter()
                    .position(|i| i.since.elapsed() <= IDLE_TIMEOUT && !i.sender.is_closed())
                    .unwrap_or(idle.len());
                idle.drain(..keep).collect()
            };
            drop(expired); // outside the lock
        }
    }
}

fn lock(shard: &Mutex<VecDeque<Idle>>) -> std::sync::MutexGuard<'_, VecDeque<Idle>> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A response body from the pool: hands its connection back when its last
/// frame has been read.
pub struct PooledBody {
    inner: Incoming,
    back: Option<(SendRequest<Incoming>, Weak<Http1Pool>)>,
}

impl PooledBody {
    fn release(&mut self) {
        if let Some((sender, pool)) = self.back.take() {
            if let Some(pool) = pool.upgrade() {
                pool.put_back(sender);
            }
        }
    }
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_frame(cx);
        match &r {
            Poll::Ready(None) => this.release(),
            Poll::Ready(Some(Ok(_))) if this.inner.is_end_stream() => this.release(),
            Poll::Ready(Some(Err(_))) => this.back = None,
            _ => {}
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
