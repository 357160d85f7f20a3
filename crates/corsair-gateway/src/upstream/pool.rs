//! The gateway's client for a cleartext HTTP/1.1 upstream (`upstream =
//! "http://…"`), its hot path.
//!
//! A general-purpose client (hyper's, hyper-util's) drives each connection
//! from a task of its own: the request travels to that task through a
//! channel, the response head comes back through another, and every body
//! frame through a third, each hand-off a task wake-up. The gateway talks to
//! one fixed upstream, so here the exchange runs in the task that serves
//! the client's request: the request head is written from that task, the
//! response head parsed in it, and the response body is read from the
//! upstream socket by the body itself, as the client's connection polls it
//! ([`UpstreamBody`]). The wire format is in [`super::h1`]; this module is
//! the I/O and the pool.
//!
//! - **Pool.** A LIFO stack of idle connections per worker (the mutex is
//!   never contended; a connection is only used by the thread whose driver
//!   registered its socket). A connection goes back when its response body
//!   has been read to its end, the request body has been sent in full, the
//!   response allowed keep-alive and no byte follows it. Idle connections
//!   expire after [`IDLE_TIMEOUT`] (checked on checkout and by a reaper).
//! - **Liveness.** On checkout a connection whose socket became readable
//!   while idle (the upstream closed it, or sent stray bytes) is dropped;
//!   the check costs no system call when it was not.
//! - **Retry.** A request without a body, with an idempotent method, whose
//!   *reused* connection closed before a single response byte arrived (the
//!   upstream's idle timeout racing the checkout) is sent once more on a
//!   new connection, as Go's transport and nginx do. Nothing else is retried.
//! - **Full duplex.** The request body is streamed while the response is
//!   read: an upstream may answer before it has read the body (a 413, or a
//!   streaming echo), and that answer is forwarded; a connection whose
//!   request body was not sent in full is never reused.
//!
//! `https://` upstreams go through hyper-util's client with rustls (see
//! [`super::state`]).

use std::future::poll_fn;
use std::io::{self, Write as _};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH};
use http::{Method, Request, Response};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::io::AsyncWrite;
use tokio::net::TcpStream;
use tokio_util::io::poll_read_buf;
use tracing::debug;

use super::h1::{self, ChunkedDecoder, Decoded, Framing, ProtoError};
use crate::runtime::workers;

/// How long an idle upstream connection is kept (the same as hyper-util's
/// default for the https client).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The read buffer's size: a response head and a small body in one read.
const READ_BUF: usize = 8 * 1024;
/// The largest read: large bodies are read in growing reads (doubling while
/// each read fills the buffer, as hyper's adaptive strategy), up to this.
const MAX_READ: usize = 64 * 1024;
/// Request body frames up to this size are copied next to their chunk
/// framing (one write); larger ones are written from their own buffer.
const COPY_MAX: usize = 4 * 1024;
/// The most request body bytes gathered before writing.
const WRITE_BUF: usize = 16 * 1024;

/// Why a request got no response from the upstream.
#[derive(Debug)]
pub enum SendError {
    /// Could not connect (DNS, refused, unreachable).
    Connect(io::Error),
    /// Reading or writing the connection failed.
    Io(io::Error),
    /// The upstream closed the connection before a complete response head.
    Closed,
    /// The response head breaks HTTP/1.1.
    Protocol(ProtoError),
    /// The client's request body failed (the client went away, or sent a
    /// broken body): the upstream got a truncated request.
    ClientBody(hyper::Error),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SendError::Connect(_) => "connect",
            SendError::Io(_) => "HTTP/1.1 exchange",
            SendError::Closed => "the upstream closed the connection before answering",
            SendError::Protocol(_) => "invalid response",
            SendError::ClientBody(_) => "client request body",
        })
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SendError::Connect(e) | SendError::Io(e) => Some(e),
            SendError::Protocol(e) => Some(e),
            SendError::ClientBody(e) => Some(e),
            SendError::Closed => None,
        }
    }
}

/// Why a response body ended early (the client sees a truncated response).
#[derive(Debug)]
pub enum BodyError {
    /// Reading the connection failed.
    Io(io::Error),
    /// The upstream closed the connection before the body's end.
    Truncated,
    /// The chunked coding broke.
    Protocol(ProtoError),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Io(e) => write!(f, "upstream response body: {e}"),
            BodyError::Truncated => f.write_str("upstream closed the connection before the end of the body"),
            BodyError::Protocol(e) => write!(f, "upstream response body: {e}"),
        }
    }
}

impl std::error::Error for BodyError {}

/// One connection to the upstream and its buffers (kept across requests).
struct Conn {
    io: TcpStream,
    rbuf: BytesMut,
    wbuf: Vec<u8>,
    /// Scratch space for parsing response heads.
    fields: Vec<[u32; 4]>,
    /// Taken from the pool rather than just opened.
    reused: bool,
    /// The size of the next read (see [`MAX_READ`]).
    read_size: usize,
}

impl Conn {
    /// Reads more into the read buffer: `Ok(0)` at the end of the stream.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let want = self.read_size;
        if self.rbuf.capacity() - self.rbuf.len() < want / 4 {
            self.rbuf.reserve(want);
        }
        let room = self.rbuf.capacity() - self.rbuf.len();
        let n = ready!(poll_read_buf(Pin::new(&mut self.io), cx, &mut self.rbuf))?;
        if n == room && want < MAX_READ {
            self.read_size = want * 2;
        } else if n < want / 4 && want > READ_BUF {
            self.read_size = want / 2;
        }
        Poll::Ready(Ok(n))
    }
}

/// Writes all of `buf[*pos..]` to `io`, advancing `pos`.
fn poll_write_all(io: &mut TcpStream, cx: &mut Context<'_>, buf: &[u8], pos: &mut usize) -> Poll<io::Result<()>> {
    while *pos < buf.len() {
        match ready!(Pin::new(&mut *io).poll_write(cx, &buf[*pos..])) {
            Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => *pos += n,
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
    Poll::Ready(Ok(()))
}

struct Idle {
    conn: Conn,
    since: Instant,
}

/// The idle stack of one worker. In an `Arc` of its own, so that the
/// reference each response body keeps to it is counted in memory only that
/// worker writes.
#[derive(Default)]
struct Shard {
    idle: Mutex<Vec<Idle>>,
}

impl Shard {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn put_back(&self, mut conn: Conn) {
        conn.read_size = READ_BUF;
        self.lock().push(Idle {
            conn,
            since: Instant::now(),
        });
    }
}

/// A pool of HTTP/1.1 connections to one `host:port`.
pub struct Http1Pool {
    /// `host:port` as written in the upstream URL, for connecting.
    addr: String,
    /// The `Host` header sent upstream (the upstream URL's authority).
    host: HeaderValue,
    /// One stack of idle connections per worker.
    shards: Box<[Arc<Shard>]>,
}

impl Http1Pool {
    /// A pool for the upstream `host[:port]` (port 80 when absent), with
    /// one idle stack per worker; its idle-connection reaper runs on `rt`.
    pub fn new(authority: &http::uri::Authority, workers: usize, rt: &tokio::runtime::Handle) -> Arc<Self> {
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
            shards: (0..workers.max(1)).map(|_| Arc::default()).collect(),
        });
        rt.spawn(reap(Arc::downgrade(&pool)));
        pool
    }

    /// The idle stack of the calling worker.
    fn shard(&self) -> &Arc<Shard> {
        &self.shards[workers::current_id() % self.shards.len()]
    }

    /// Sends `req` (its URI in origin form, `/path?query`, its hop-by-hop
    /// headers removed), with the headers `set` replacing any of the same
    /// name, and returns the response head; the body streams from the
    /// connection, which returns to the pool at the body's end.
    pub async fn send(
        &self,
        req: Request<Incoming>,
        set: &[(&HeaderName, h1::SetField<'_>)],
    ) -> Result<Response<UpstreamBody>, SendError> {
        let (parts, body) = req.into_parts();
        let has_body = !body.is_end_stream();
        // The client's length when it gave one (hyper checked it against
        // the body); otherwise the chunked coding.
        let chunked = has_body && !(parts.headers.contains_key(CONTENT_LENGTH) && body.size_hint().exact().is_some());
        let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let head_request = parts.method == Method::HEAD;
        let mut body = has_body.then_some(body);
        let mut conn = match self.checkout() {
            Some(c) => c,
            None => Box::pin(self.connect()).await?,
        };
        loop {
            conn.wbuf.clear();
            h1::encode_request_head(
                &mut conn.wbuf,
                &parts.method,
                target,
                &self.host,
                &parts.headers,
                set,
                chunked,
            );
            let mut writer = Writer::new(body.take(), chunked);
            match exchange(&mut conn, &mut writer, head_request).await {
                Ok(head) => return Ok(self.response(conn, writer, head)),
                Err(e)
                    if conn.reused
                        && conn.rbuf.is_empty()
                        && !has_body
                        && idempotent(&parts.method)
                        && e.is_closed() =>
                {
                    debug!(error = %e, "pooled upstream connection was closed; retrying on a new one");
                    conn = Box::pin(self.connect()).await?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn response(&self, conn: Conn, writer: Writer, head: h1::ResponseHead) -> Response<UpstreamBody> {
        let reader = match head.framing {
            Framing::Empty | Framing::Length(0) => Reader::Done,
            Framing::Length(n) => Reader::Length(n),
            Framing::Chunked => Reader::Chunked(ChunkedDecoder::default()),
            Framing::Close => Reader::Close,
        };
        let mut body = UpstreamBody {
            conn: Some(conn),
            writer,
            reader,
            keep_alive: head.keep_alive,
            pool: Arc::downgrade(self.shard()),
        };
        if matches!(body.reader, Reader::Done) {
            body.finish();
        }
        let mut resp = Response::new(body);
        *resp.status_mut() = head.status;
        *resp.version_mut() = head.version;
        *resp.headers_mut() = head.headers;
        resp
    }

    /// An idle connection that is still open, if any.
    fn checkout(&self) -> Option<Conn> {
        loop {
            let Idle { mut conn, since } = self.shard().lock().pop()?;
            if since.elapsed() > IDLE_TIMEOUT {
                continue;
            }
            // Without a readiness event since it went idle, `try_read`
            // answers WouldBlock with no system call: the common case.
            // Readable means the upstream closed it (or sent stray bytes).
            match conn.io.try_read(&mut [0u8; 1]) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    conn.reused = true;
                    return Some(conn);
                }
                _ => continue,
            }
        }
    }

    async fn connect(&self) -> Result<Conn, SendError> {
        let io = TcpStream::connect(&self.addr).await.map_err(SendError::Connect)?;
        let _ = io.set_nodelay(true);
        Ok(Conn {
            io,
            rbuf: BytesMut::with_capacity(READ_BUF),
            wbuf: Vec::with_capacity(1024),
            fields: Vec::new(),
            reused: false,
            read_size: READ_BUF,
        })
    }
}

impl SendError {
    /// The connection ended (closed or reset) with nothing read.
    fn is_closed(&self) -> bool {
        match self {
            SendError::Closed => true,
            SendError::Io(e) => matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionAborted
            ),
            _ => false,
        }
    }
}

/// RFC 9110 §9.2.2.
fn idempotent(m: &Method) -> bool {
    matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

/// Writes the request (head in `conn.wbuf`, then `writer`'s body) and reads
/// the final response head.
async fn exchange(conn: &mut Conn, writer: &mut Writer, head_request: bool) -> Result<h1::ResponseHead, SendError> {
    let mut write_error = None;
    poll_fn(|cx| {
        if !writer.finished {
            match writer.poll(conn, cx) {
                Poll::Ready(Ok(())) => writer.finished = true,
                Poll::Ready(Err(WriteError::Client(e))) => return Poll::Ready(Err(SendError::ClientBody(e))),
                // The upstream may have answered early and stopped reading:
                // its answer may be waiting. Read on.
                Poll::Ready(Err(WriteError::Io(e))) => {
                    writer.fail();
                    write_error = Some(e);
                }
                Poll::Pending => {}
            }
        }
        loop {
            match h1::parse_response_head(&mut conn.rbuf, head_request, &mut conn.fields) {
                Ok(Some(head)) => return Poll::Ready(Ok(head)),
                Ok(None) => {}
                Err(e) => return Poll::Ready(Err(SendError::Protocol(e))),
            }
            match ready!(conn.poll_read(cx)) {
                Ok(0) if conn.rbuf.is_empty() => {
                    return Poll::Ready(Err(write_error.take().map_or(SendError::Closed, SendError::Io)))
                }
                Ok(0) => return Poll::Ready(Err(SendError::Closed)),
                Ok(_) => {}
                Err(e) => return Poll::Ready(Err(SendError::Io(e))),
            }
        }
    })
    .await
}

enum WriteError {
    Io(io::Error),
    Client(hyper::Error),
}

/// The sending side of an exchange: the head (already in `conn.wbuf`), then
/// the request body, in its own length or in chunks.
struct Writer {
    body: Option<Incoming>,
    chunked: bool,
    /// Bytes of `conn.wbuf` written.
    pos: usize,
    /// A large body frame being written from its own buffer (`data_pos`
    /// of it written), then whether a CRLF (the end of its chunk) follows.
    data: Option<Bytes>,
    data_pos: usize,
    crlf_after_data: bool,
    /// Everything was sent (or sending failed and stopped).
    finished: bool,
    /// Sending failed or stopped before the end.
    failed: bool,
}

impl Writer {
    fn new(body: Option<Incoming>, chunked: bool) -> Self {
        Self {
            body,
            chunked,
            pos: 0,
            data: None,
            data_pos: 0,
            crlf_after_data: false,
            finished: false,
            failed: false,
        }
    }

    /// Stops sending: the request will not be complete.
    fn fail(&mut self) {
        self.body = None;
        self.data = None;
        self.finished = true;
        self.failed = true;
    }

    /// Writes until everything is sent (`Ready(Ok)`), the socket or the
    /// client's body makes it wait (`Pending`), or it fails. What the
    /// client's body has ready is gathered behind the unsent bytes first,
    /// so a head and a small body leave in one write.
    fn poll(&mut self, conn: &mut Conn, cx: &mut Context<'_>) -> Poll<Result<(), WriteError>> {
        loop {
            let mut waiting = false;
            if let (None, Some(body)) = (&self.data, &mut self.body) {
                if self.pos == conn.wbuf.len() {
                    conn.wbuf.clear();
                    self.pos = 0;
                }
                while self.data.is_none() && conn.wbuf.len() - self.pos < WRITE_BUF {
                    match Pin::new(&mut *body).poll_frame(cx) {
                        Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                            Ok(d) if d.is_empty() => {}
                            Ok(d) => {
                                if self.chunked {
                                    let _ = write!(conn.wbuf, "{:x}\r\n", d.len());
                                }
                                if d.len() <= COPY_MAX {
                                    conn.wbuf.extend_from_slice(&d);
                                    if self.chunked {
                                        conn.wbuf.extend_from_slice(b"\r\n");
                                    }
                                } else {
                                    self.data = Some(d);
                                    self.crlf_after_data = self.chunked;
                                }
                            }
                            Err(frame) => {
                                if let (true, Ok(trailers)) = (self.chunked, frame.into_trailers()) {
                                    end_chunks(&mut conn.wbuf, &trailers);
                                    self.body = None;
                                    break;
                                }
                            }
                        },
                        Poll::Ready(None) => {
                            if self.chunked {
                                end_chunks(&mut conn.wbuf, &HeaderMap::new());
                            }
                            self.body = None;
                            break;
                        }
                        Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(WriteError::Client(e))),
                        Poll::Pending => {
                            waiting = true;
                            break;
                        }
                    }
                }
            }
            ready!(poll_write_all(&mut conn.io, cx, &conn.wbuf, &mut self.pos)).map_err(WriteError::Io)?;
            if let Some(data) = &self.data {
                ready!(poll_write_all(&mut conn.io, cx, data, &mut self.data_pos)).map_err(WriteError::Io)?;
                self.data = None;
                self.data_pos = 0;
                conn.wbuf.clear();
                self.pos = 0;
                if std::mem::take(&mut self.crlf_after_data) {
                    conn.wbuf.extend_from_slice(b"\r\n");
                }
                continue;
            }
            if self.body.is_none() {
                return Poll::Ready(Ok(()));
            }
            if waiting {
                return Poll::Pending;
            }
        }
    }
}

/// The last chunk and the trailer section.
fn end_chunks(out: &mut Vec<u8>, trailers: &HeaderMap) {
    out.extend_from_slice(b"0\r\n");
    for (name, value) in trailers {
        h1::field(out, name, value);
    }
    out.extend_from_slice(b"\r\n");
}

enum Reader {
    Length(u64),
    Chunked(ChunkedDecoder),
    Close,
    Done,
}

/// A response body read straight from the upstream connection by whoever
/// polls it; the connection goes back to the pool at its end (see the
/// module docs for when), and is closed if the body is dropped before.
pub struct UpstreamBody {
    conn: Option<Conn>,
    writer: Writer,
    reader: Reader,
    keep_alive: bool,
    pool: Weak<Shard>,
}

impl UpstreamBody {
    /// The body has been read: the connection goes back to the pool or is
    /// closed.
    fn finish(&mut self) {
        self.reader = Reader::Done;
        let Some(conn) = self.conn.take() else { return };
        let reusable = self.keep_alive && self.writer.finished && !self.writer.failed && conn.rbuf.is_empty();
        if reusable {
            if let Some(pool) = self.pool.upgrade() {
                pool.put_back(conn);
            }
        }
    }

    fn fail(&mut self, e: BodyError) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.reader = Reader::Done;
        self.conn = None;
        Poll::Ready(Some(Err(e)))
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        let Some(conn) = &mut this.conn else {
            return Poll::Ready(None);
        };
        // Keep sending the request body (an upstream may stream its answer
        // while it reads); a failure only stops the sending.
        if !this.writer.finished {
            match this.writer.poll(conn, cx) {
                Poll::Ready(Ok(())) => this.writer.finished = true,
                Poll::Ready(Err(_)) => this.writer.fail(),
                Poll::Pending => {}
            }
        }
        loop {
            let frame = match &mut this.reader {
                Reader::Done => return Poll::Ready(None),
                Reader::Length(left) if !conn.rbuf.is_empty() => {
                    let n = usize::try_from(*left).unwrap_or(usize::MAX).min(conn.rbuf.len());
                    *left -= n as u64;
                    let last = *left == 0;
                    let data = conn.rbuf.split_to(n).freeze();
                    if last {
                        this.finish();
                    }
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Reader::Length(_) => None,
                Reader::Close if !conn.rbuf.is_empty() => Some(Frame::data(conn.rbuf.split().freeze())),
                Reader::Close => None,
                Reader::Chunked(d) => match d.decode(&mut conn.rbuf) {
                    Ok(Decoded::Data(b)) => Some(Frame::data(b)),
                    Ok(Decoded::Trailers(t)) => {
                        this.finish();
                        return Poll::Ready(Some(Ok(Frame::trailers(t))));
                    }
                    Ok(Decoded::End) => {
                        this.finish();
                        return Poll::Ready(None);
                    }
                    Ok(Decoded::NeedMore) => None,
                    Err(e) => return this.fail(BodyError::Protocol(e)),
                },
            };
            if let Some(f) = frame {
                return Poll::Ready(Some(Ok(f)));
            }
            match ready!(conn.poll_read(cx)) {
                Ok(0) if matches!(this.reader, Reader::Close) => {
                    this.keep_alive = false;
                    this.finish();
                    return Poll::Ready(None);
                }
                Ok(0) => return this.fail(BodyError::Truncated),
                Ok(_) => {}
                Err(e) => return this.fail(BodyError::Io(e)),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.reader, Reader::Done | Reader::Length(0))
    }

    fn size_hint(&self) -> SizeHint {
        match self.reader {
            Reader::Done => SizeHint::with_exact(0),
            Reader::Length(n) => SizeHint::with_exact(n),
            _ => SizeHint::default(),
        }
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
                let mut idle = shard.lock();
                // Oldest first: everything before the first fresh one goes.
                let keep = idle
                    .iter()
                    .position(|i| i.since.elapsed() <= IDLE_TIMEOUT)
                    .unwrap_or(idle.len());
                idle.drain(..keep).collect()
            };
            drop(expired); // outside the lock
        }
    }
}
