//! One exchange over a pooled connection: the request head and body are
//! written (the body streamed, in its own length or in chunks) while the
//! final response head is read (full duplex: an upstream may answer before
//! it has read the body).

use std::future::poll_fn;
use std::io::{self, Write as _};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::header::HeaderMap;
use http::Method;
use http_body::Body;
use hyper::body::Incoming;

use super::conn::Conn;
use super::h1::{self, ProtoError};

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

impl SendError {
    /// The connection ended (closed or reset) with nothing read.
    pub(super) fn is_closed(&self) -> bool {
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
pub(super) fn idempotent(m: &Method) -> bool {
    matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

/// Writes the request (head in `conn.wbuf`, then `writer`'s body) and reads
/// the final response head.
pub(super) async fn exchange(
    conn: &mut Conn,
    writer: &mut Writer,
    head_request: bool,
) -> Result<h1::ResponseHead, SendError> {
    exchange_with(conn, writer, head_request, false).await
}

/// [`exchange`] for a request that asks for an upgrade: a 101 is a final
/// answer ([`h1::parse_upgrade_response_head`]).
pub(super) async fn exchange_upgrade(conn: &mut Conn, writer: &mut Writer) -> Result<h1::ResponseHead, SendError> {
    exchange_with(conn, writer, false, true).await
}

async fn exchange_with(
    conn: &mut Conn,
    writer: &mut Writer,
    head_request: bool,
    upgrade: bool,
) -> Result<h1::ResponseHead, SendError> {
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
            let parsed = if upgrade {
                h1::parse_upgrade_response_head(&mut conn.rbuf, &mut conn.fields)
            } else {
                h1::parse_response_head(&mut conn.rbuf, head_request, &mut conn.fields)
            };
            match parsed {
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

pub(super) enum WriteError {
    Io(io::Error),
    Client(hyper::Error),
}

/// The sending side of an exchange: the head (already in `conn.wbuf`), then
/// the request body, in its own length or in chunks.
pub(super) struct Writer {
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
    pub(super) finished: bool,
    /// Sending failed or stopped before the end.
    pub(super) failed: bool,
}

impl Writer {
    pub(super) fn new(body: Option<Incoming>, chunked: bool) -> Self {
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
    pub(super) fn fail(&mut self) {
        self.body = None;
        self.data = None;
        self.finished = true;
        self.failed = true;
    }

    /// Writes until everything is sent (`Ready(Ok)`), the socket or the
    /// client's body makes it wait (`Pending`), or it fails. What the
    /// client's body has ready is gathered behind the unsent bytes first,
    /// so a head and a small body leave in one write.
    pub(super) fn poll(&mut self, conn: &mut Conn, cx: &mut Context<'_>) -> Poll<Result<(), WriteError>> {
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
            ready!(conn.io.poll_write_all(cx, &conn.wbuf, &mut self.pos)).map_err(WriteError::Io)?;
            if let Some(data) = &self.data {
                ready!(conn.io.poll_write_all(cx, data, &mut self.data_pos)).map_err(WriteError::Io)?;
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
