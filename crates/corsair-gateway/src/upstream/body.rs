//! A response body read straight from the upstream connection by whoever
//! polls it (the client's connection), and returned to the pool at its end.
//! Between two reads the upstream has `limits.upstream_read_timeout`; past
//! it the body fails, which cuts the client's response off (HTTP/1.1: the
//! connection is closed; HTTP/2: the stream is reset).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tracing::warn;

use super::conn::Conn;
use super::exchange::Writer;
use super::h1::{ChunkedDecoder, Decoded, ProtoError};
use super::pool::Shard;
use crate::runtime::deadline::CoarseSleep;

/// Why a response body ended early (the client sees a truncated response).
#[derive(Debug)]
pub enum BodyError {
    /// Reading the connection failed.
    Io(io::Error),
    /// The upstream closed the connection before the body's end.
    Truncated,
    /// The chunked coding broke.
    Protocol(ProtoError),
    /// The upstream sent nothing for `limits.upstream_read_timeout`.
    ReadTimeout(Duration),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Io(e) => write!(f, "upstream response body: {e}"),
            BodyError::Truncated => f.write_str("upstream closed the connection before the end of the body"),
            BodyError::Protocol(e) => write!(f, "upstream response body: {e}"),
            BodyError::ReadTimeout(t) => write!(
                f,
                "the upstream sent nothing of the response body for {} s (limits.upstream_read_timeout)",
                t.as_secs()
            ),
        }
    }
}

impl std::error::Error for BodyError {}

pub(super) enum Reader {
    Length(u64),
    Chunked(ChunkedDecoder),
    Close,
    Done,
}

/// A response body read straight from the upstream connection by whoever
/// polls it; the connection goes back to the pool at its end (see the
/// module docs for when), and is closed if the body is dropped before.
pub struct UpstreamBody {
    pub(super) conn: Option<Conn>,
    pub(super) writer: Writer,
    pub(super) reader: Reader,
    pub(super) keep_alive: bool,
    pub(super) pool: Weak<Shard>,
    /// The most time between two reads.
    pub(super) read_timeout: Duration,
    /// Armed while a read waits, dropped when bytes arrive.
    pub(super) stall: Option<CoarseSleep>,
}

impl UpstreamBody {
    /// The body has been read: the connection goes back to the pool or is
    /// closed.
    pub(super) fn finish(&mut self) {
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
            let read = match conn.poll_read(cx) {
                Poll::Ready(r) => {
                    this.stall = None;
                    r
                }
                Poll::Pending => {
                    let timeout = this.read_timeout;
                    let stall = this
                        .stall
                        .get_or_insert_with(|| CoarseSleep::new(Instant::now() + timeout));
                    if Pin::new(stall).poll(cx).is_ready() {
                        if let Some(shard) = this.pool.upgrade() {
                            shard.read_timeouts.fetch_add(1, Ordering::Relaxed);
                        }
                        warn!(
                            timeout_s = timeout.as_secs(),
                            "upstream response body stalled; the client's response is cut off"
                        );
                        return this.fail(BodyError::ReadTimeout(timeout));
                    }
                    return Poll::Pending;
                }
            };
            match read {
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
