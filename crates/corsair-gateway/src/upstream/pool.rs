//! The gateway's client for an HTTP/1.1 upstream (`upstream = "http://…"`
//! or `"https://…"`), its hot path.
//!
//! A general-purpose client (hyper's, hyper-util's) drives each connection
//! from a task of its own: the request travels to that task through a
//! channel, the response head comes back through another, and every body
//! frame through a third, each hand-off a task wake-up. The gateway talks to
//! one fixed upstream, so here the exchange runs in the task that serves
//! the client's request: the request head is written from that task, the
//! response head parsed in it ([`super::exchange`]), and the response body
//! is read from the upstream socket by the body itself, as the client's
//! connection polls it ([`UpstreamBody`]). The wire format is in
//! [`super::h1`]; the socket (TCP, or TLS for `https://`) in
//! [`super::conn`]; this module is the pool.
//!
//! - **Pool.** A LIFO stack of idle connections per worker (the mutex is
//!   never contended; a connection is only used by the thread whose driver
//!   registered its socket). A connection goes back when its response body
//!   has been read to its end, the request body has been sent in full, the
//!   response allowed keep-alive, its end could be verified (a HEAD, 204 or
//!   304 answer whose head advertises a body ends the connection: see
//!   [`super::h1`]) and no byte follows it. Idle connections expire after
//!   [`IDLE_TIMEOUT`] (checked on checkout and by a reaper).
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

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH};
use http::{Method, Request, Response, Uri};
use http_body::Body;
use hyper::body::Incoming;
use rustls::pki_types::ServerName;
use tracing::debug;

use super::body::{Reader, UpstreamBody};
use super::conn::{Conn, Endpoint, READ_BUF};
use super::exchange::{exchange, idempotent, SendError, Writer};
use super::h1::{self, ChunkedDecoder, Framing};
use crate::runtime::workers;

/// How long an idle upstream connection is kept.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

struct Idle {
    conn: Conn,
    since: Instant,
}

/// The idle stack of one worker. In an `Arc` of its own, so that the
/// reference each response body keeps to it is counted in memory only that
/// worker writes.
pub(super) struct Shard {
    idle: Mutex<Vec<Idle>>,
    /// Responses cut off by `limits.upstream_read_timeout` (shared with the
    /// metrics).
    pub(super) read_timeouts: Arc<AtomicU64>,
}

impl Shard {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn put_back(&self, mut conn: Conn) {
        conn.read_size = READ_BUF;
        self.lock().push(Idle {
            conn,
            since: Instant::now(),
        });
    }
}

/// A pool of HTTP/1.1 connections to one upstream.
pub struct Http1Pool {
    pub(super) endpoint: Endpoint,
    /// The `Host` header sent upstream (the upstream URL's authority).
    pub(super) host: HeaderValue,
    /// One stack of idle connections per worker.
    shards: Box<[Arc<Shard>]>,
}

impl Http1Pool {
    /// A pool for the upstream at `url` (`http://host[:port]`, or
    /// `https://…` with `tls`), with one idle stack per worker; its
    /// idle-connection reaper runs on `rt`; responses it cuts off for
    /// stalling are counted in `read_timeouts`.
    pub(crate) fn new(
        url: &Uri,
        tls: Option<tokio_rustls::TlsConnector>,
        workers: usize,
        rt: &tokio::runtime::Handle,
        read_timeouts: Arc<AtomicU64>,
    ) -> Result<Arc<Self>, String> {
        let authority = url.authority().ok_or("the upstream URL has no host")?;
        let https = url.scheme_str() == Some("https");
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let host_part = authority.host();
        let addr = format!("{host_part}:{port}");
        let host = HeaderValue::from_str(authority.as_str()).map_err(|e| e.to_string())?;
        let tls = match (https, tls) {
            (false, _) => None,
            (true, None) => return Err("an https upstream needs a TLS configuration".to_owned()),
            (true, Some(connector)) => {
                let name = host_part.trim_start_matches('[').trim_end_matches(']');
                let name = ServerName::try_from(name.to_owned())
                    .map_err(|e| format!("{host_part:?} is not a name TLS can verify: {e}"))?;
                Some((connector, name))
            }
        };
        let pool = Arc::new(Self {
            endpoint: Endpoint { addr, tls },
            host,
            shards: (0..workers.max(1))
                .map(|_| {
                    Arc::new(Shard {
                        idle: Mutex::default(),
                        read_timeouts: read_timeouts.clone(),
                    })
                })
                .collect(),
        });
        rt.spawn(reap(Arc::downgrade(&pool)));
        Ok(pool)
    }

    /// The idle stack of the calling worker.
    fn shard(&self) -> &Arc<Shard> {
        &self.shards[workers::current_id() % self.shards.len()]
    }

    /// Sends `req` (its URI in origin form, `/path?query`, its hop-by-hop
    /// headers removed), with the headers `set` replacing any of the same
    /// name, and returns the response head; the body streams from the
    /// connection, which returns to the pool at the body's end. Between two
    /// reads of the body the upstream has `read_timeout`.
    pub async fn send(
        &self,
        req: Request<Incoming>,
        set: &[(&HeaderName, h1::SetField<'_>)],
        read_timeout: Duration,
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
            None => Box::pin(self.endpoint.connect()).await.map_err(SendError::Connect)?,
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
                Ok(head) => return Ok(self.response(conn, writer, head, read_timeout)),
                Err(e)
                    if conn.reused
                        && conn.rbuf.is_empty()
                        && !has_body
                        && idempotent(&parts.method)
                        && e.is_closed() =>
                {
                    debug!(error = %e, "pooled upstream connection was closed; retrying on a new one");
                    conn = Box::pin(self.endpoint.connect()).await.map_err(SendError::Connect)?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub(super) fn response(
        &self,
        conn: Conn,
        writer: Writer,
        head: h1::ResponseHead,
        read_timeout: Duration,
    ) -> Response<UpstreamBody> {
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
            read_timeout,
            stall: None,
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

    /// An idle connection that is still open and quiet, if any.
    fn checkout(&self) -> Option<Conn> {
        loop {
            let Idle { mut conn, since } = self.shard().lock().pop()?;
            if since.elapsed() > IDLE_TIMEOUT || !conn.is_quiet() {
                continue;
            }
            conn.reused = true;
            return Some(conn);
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
