//! Client connections: the accept loop and its limits, TLS, and the choice
//! of HTTP/1.1 or HTTP/2.
//!
//! Limits (from the active config when the connection is accepted):
//! - `max_connections`: a semaphore permit is taken *before* `accept`, so a
//!   full gateway leaves new connections in the kernel's backlog instead of
//!   accepting and dropping them;
//! - `header_read_timeout`: bounds the TLS handshake, the first bytes (to
//!   tell HTTP/2 from HTTP/1.1), and every HTTP/1.1 request head (hyper's
//!   timer also closes keep-alive connections idle that long), and closes
//!   HTTP/2 connections silent that long with no request in flight;
//! - `max_header_bytes`: HTTP/1.1 request heads larger than this get hyper's
//!   `431 Request Header Fields Too Large` and the connection is closed;
//!   on HTTP/2 it is the SETTINGS_MAX_HEADER_LIST_SIZE advertised to clients.

pub(crate) mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{debug, warn};

use crate::config::Limits;
use crate::proxy::{self, ConnCtx};
use crate::runtime::deadline::CoarseTimer;
use crate::runtime::drain::{Drain, Phase, Watcher};
use crate::runtime::workers::Workers;
use crate::state::Shared;

/// The client connection preface of HTTP/2 (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Accepts connections until `shutdown` resolves. Every connection holds a
/// watcher of `drain`, which the caller uses to drain them.
pub async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    drain: &Drain,
    workers: &Workers,
    max_connections: usize,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let limit = Arc::new(Semaphore::new(max_connections));
    let mut saturated = false;
    loop {
        let permit = match limit.clone().try_acquire_owned() {
            Ok(p) => {
                saturated = false;
                p
            }
            Err(_) => {
                shared.metrics.connection_limit_wait();
                if !saturated {
                    warn!(
                        max_connections,
                        "connection limit reached; new connections wait in the backlog"
                    );
                    saturated = true;
                }
                tokio::select! {
                    biased;
                    () = &mut shutdown => return,
                    p = limit.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => return,
                    },
                }
            }
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => return,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        // Moved to a worker: deregistered from this runtime's reactor here,
        // registered with the worker's there.
        let stream = match stream.into_std() {
            Ok(s) => s,
            Err(e) => {
                debug!(%peer, error = %e, "cannot hand the connection to a worker");
                continue;
            }
        };
        let shared = shared.clone();
        let watcher = drain.watcher();
        workers.spawn(move || async move {
            match TcpStream::from_std(stream) {
                Ok(stream) => serve_connection(stream, peer, shared, watcher, permit).await,
                Err(e) => debug!(%peer, error = %e, "cannot register the connection with its worker"),
            }
        });
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    watcher: Watcher,
    _permit: OwnedSemaphorePermit,
) {
    // The watcher and the permit live in the connection's context, which a
    // WebSocket tunnel keeps after hyper has handed the connection over.
    let _open = shared.metrics.connection();
    let active = shared.active();
    let limits = active.config.limits.clone();
    let tls = active.tls.clone();
    drop(active);
    let ctx = Arc::new(ConnCtx::new(shared.clone(), peer, watcher, Some(_permit)));
    match (shared.listener_tls, tls) {
        // Never plain HTTP on a TLS listener (reload keeps an acceptor).
        (true, None) => {}
        (true, Some(acceptor)) => {
            let tls = match tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
            serve_http(TokioIo::new(tls), h2, ctx, &limits).await;
        }
        (false, _) => {
            let (prefix, h2) = match tokio::time::timeout(limits.header_read_timeout, sniff(&mut stream)).await {
                Ok(Ok(x)) => x,
                Ok(Err(e)) => {
                    debug!(%peer, error = %e, "connection closed before a request");
                    return;
                }
                Err(_) => {
                    debug!(%peer, "no request within header_read_timeout");
                    return;
                }
            };
            serve_http(TokioIo::new(Rewind { prefix, inner: stream }), h2, ctx, &limits).await;
        }
    }
}

async fn serve_http<I>(io: I, h2: bool, ctx: Arc<ConnCtx>, limits: &Limits)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let peer = ctx.peer;
    let mut drain = ctx.drain.clone();
    let svc = service_fn(move |req| {
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(proxy::handle(req, ctx).await) }
    });
    let result = if h2 {
        // hyper has no idle timeout for HTTP/2 servers: track the last I/O
        // and the requests in flight, and close a connection that has been
        // silent with nothing in flight for `header_read_timeout` (otherwise
        // a client could hold `max_connections` permits with bare prefaces).
        let activity = Arc::new(Activity::new());
        let in_flight = activity.clone();
        let inner = svc;
        let svc = service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            let guard = InFlight::enter(in_flight.clone());
            if req.method() == hyper::Method::CONNECT {
                // A WebSocket (RFC 8441) keeps the stream, hence the
                // connection, busy after its response: the tunnel holds this.
                req.extensions_mut()
                    .insert(StreamBusy(Arc::new(InFlight::enter(in_flight.clone()))));
            }
            let fut = hyper::service::Service::call(&inner, req);
            async move {
                let r = fut.await;
                drop(guard);
                r
            }
        });
        let mut b = http2::Builder::new(TokioExecutor::new());
        b.timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
            // SETTINGS_ENABLE_CONNECT_PROTOCOL: WebSockets over HTTP/2
            // (RFC 8441), served by `proxy::websocket`.
            .enable_connect_protocol();
        let io = Tracked {
            inner: io,
            activity: activity.clone(),
        };
        let conn = b.serve_connection(io, svc);
        tokio::pin!(conn);
        let idle_limit = limits.header_read_timeout;
        let tick = (idle_limit / 4).max(Duration::from_millis(50));
        if drain.phase() >= Phase::Draining {
            conn.as_mut().graceful_shutdown();
        }
        loop {
            tokio::select! {
                biased;
                r = &mut conn => break r,
                p = drain.changed() => match p {
                    Phase::Serving => {}
                    // GOAWAY, then the streams in flight finish.
                    Phase::Draining => conn.as_mut().graceful_shutdown(),
                    Phase::Closing => break Ok(()),
                },
                _ = tokio::time::sleep(tick) => {
                    if activity.idle_for() >= idle_limit {
                        debug!(%peer, "closing an idle HTTP/2 connection");
                        break Ok(());
                    }
                }
            }
        }
    } else {
        let mut b = http1::Builder::new();
        b.writev(false);
        // The slab's coarse timer, not tokio's: hyper arms it for every
        // request head (see `deadline`).
        b.timer(CoarseTimer)
            .header_read_timeout(limits.header_read_timeout)
            .max_header_size(limits.max_header_bytes);
        // With upgrades: a WebSocket handshake's 101 hands the connection
        // to its tunnel (`proxy::websocket`).
        let conn = b.serve_connection(io, svc).with_upgrades();
        tokio::pin!(conn);
        if drain.phase() >= Phase::Draining {
            conn.as_mut().graceful_shutdown();
        }
        loop {
            tokio::select! {
                biased;
                r = &mut conn => break r,
                p = drain.changed() => match p {
                    Phase::Serving => {}
                    // Closed after the request in flight (at once if idle).
                    Phase::Draining => conn.as_mut().graceful_shutdown(),
                    Phase::Closing => break Ok(()),
                },
            }
        }
    };
    if let Err(e) = result {
        debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// The last I/O of a connection and its requests in flight.
struct Activity {
    start: std::time::Instant,
    last_ms: std::sync::atomic::AtomicU64,
    in_flight: std::sync::atomic::AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: std::time::Instant::now(),
            last_ms: std::sync::atomic::AtomicU64::new(0),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// How long the connection has had no I/O and no request in flight.
    fn idle_for(&self) -> Duration {
        if self.in_flight.load(std::sync::atomic::Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_millis(self.last_ms.load(std::sync::atomic::Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Counts a request in flight until dropped.
struct InFlight(Arc<Activity>);

/// An HTTP/2 CONNECT stream's hold on its connection: the connection is not
/// idle while a WebSocket tunnel on it keeps this (a request extension,
/// taken by `proxy::websocket`).
#[derive(Clone)]
pub(crate) struct StreamBusy(#[allow(dead_code)] Arc<InFlight>);

impl InFlight {
    fn enter(a: Arc<Activity>) -> Self {
        a.in_flight.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self(a)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        self.0.touch();
    }
}

pin_project! {
    /// An I/O object that records when it last read or wrote.
    struct Tracked<I> {
        #[pin]
        inner: I,
        activity: Arc<Activity>,
    }
}

impl<I: hyper::rt::Read> hyper::rt::Read for Tracked<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let r = this.inner.poll_read(cx, buf);
        if r.is_ready() {
            this.activity.touch();
        }
        r
    }
}

impl<I: hyper::rt::Write> hyper::rt::Write for Tracked<I> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.project();
        let r = this.inner.poll_write(cx, buf);
        if r.is_ready() {
            this.activity.touch();
        }
        r
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let r = this.inner.poll_write_vectored(cx, bufs);
        if r.is_ready() {
            this.activity.touch();
        }
        r
    }
}

/// Reads the first bytes of a cleartext connection: HTTP/2 if they are the
/// HTTP/2 preface (prior knowledge), HTTP/1.1 otherwise. Returns them to be
/// replayed.
async fn sniff(stream: &mut TcpStream) -> io::Result<(Bytes, bool)> {
    let mut buf = BytesMut::with_capacity(4096);
    loop {
        if stream.read_buf(&mut buf).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let n = buf.len().min(H2_PREFACE.len());
        if buf[..n] != H2_PREFACE[..n] {
            return Ok((buf.freeze(), false));
        }
        if n == H2_PREFACE.len() {
            return Ok((buf.freeze(), true));
        }
    }
}

pin_project! {
    /// A stream whose first reads replay bytes already read from it.
    struct Rewind<T> {
        prefix: Bytes,
        #[pin]
        inner: T,
    }
}

impl<T: AsyncRead> AsyncRead for Rewind<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        if !this.prefix.is_empty() {
            let n = this.prefix.len().min(buf.remaining());
            buf.put_slice(&this.prefix[..n]);
            this.prefix.advance(n);
            return Poll::Ready(Ok(()));
        }
        this.inner.poll_read(cx, buf)
    }
}

impl<T: AsyncWrite> AsyncWrite for Rewind<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sniff_tells_h2_prior_knowledge_from_http1() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for (sent, h2) in [
            (&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], false),
            (H2_PREFACE, true),
            (b"PRI * HTTP/1.1\r\n", false),
        ] {
            let client = tokio::spawn(async move {
                let mut s = TcpStream::connect(addr).await.unwrap();
                // Byte by byte: the sniffer must wait for enough of them.
                for b in sent {
                    tokio::io::AsyncWriteExt::write_all(&mut s, &[*b]).await.unwrap();
                }
                s
            });
            let (mut server, _) = listener.accept().await.unwrap();
            let _client = client.await.unwrap();
            let (prefix, is_h2) = sniff(&mut server).await.unwrap();
            assert_eq!(is_h2, h2, "{:?}", String::from_utf8_lossy(sent));
            let mut replay = Rewind { prefix, inner: server };
            let mut got = vec![0u8; sent.len()];
            replay.read_exact(&mut got).await.unwrap();
            assert_eq!(got, sent);
        }
    }
}
