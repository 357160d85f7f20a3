//! A WebSocket handshake to the upstream (RFC 6455 §4.1 over HTTP/1.1):
//! always on a new connection, never one from the pool, and never returned
//! to it. After a `101 Switching Protocols` the connection is handed over
//! as a [`Tunnel`] (its socket and the bytes already read past the 101's
//! head); any other answer is a response like any other, whose connection
//! is closed at the body's end.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use http::header::HeaderName;
use http::{HeaderMap, Method, Response, StatusCode, Version};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::body::UpstreamBody;
use super::conn::Io;
use super::exchange::{exchange_upgrade, SendError, Writer};
use super::h1;
use super::pool::Http1Pool;

/// The upstream's answer to a handshake.
pub enum Upgraded {
    /// `101 Switching Protocols`: its status line's version, its headers,
    /// and the connection, now the upstream end of the tunnel.
    Switched {
        /// HTTP/1.0 or HTTP/1.1, as the status line said.
        version: Version,
        /// The 101's header fields.
        headers: HeaderMap,
        /// The connection.
        tunnel: Tunnel,
    },
    /// Any other final answer, relayed as a response; its connection is
    /// closed after the body.
    Declined(Box<Response<UpstreamBody>>),
}

impl Http1Pool {
    /// Sends a WebSocket handshake (`GET target`, no body) with `headers`
    /// (hop-by-hop ones removed; `set` replaces fields of the same name and
    /// must re-create `Upgrade` and `Connection`) on a new connection, and
    /// reads the upstream's final answer. Between two reads of a declined
    /// answer's body the upstream has `read_timeout`.
    pub async fn upgrade(
        &self,
        target: &str,
        headers: &HeaderMap,
        set: &[(&HeaderName, h1::SetField<'_>)],
        read_timeout: Duration,
    ) -> Result<Upgraded, SendError> {
        let mut conn = Box::pin(self.endpoint.connect()).await.map_err(SendError::Connect)?;
        conn.wbuf.clear();
        h1::encode_request_head(&mut conn.wbuf, &Method::GET, target, &self.host, headers, set, false);
        let mut writer = Writer::new(None, false);
        let head = exchange_upgrade(&mut conn, &mut writer).await?;
        if head.status != StatusCode::SWITCHING_PROTOCOLS {
            return Ok(Upgraded::Declined(Box::new(self.response(
                conn,
                writer,
                head,
                read_timeout,
            ))));
        }
        let leftover = std::mem::take(&mut conn.rbuf);
        Ok(Upgraded::Switched {
            version: head.version,
            headers: head.headers,
            tunnel: Tunnel { io: conn.io, leftover },
        })
    }
}

/// The upstream end of a WebSocket tunnel: the socket (TCP, or TLS for an
/// `https://` upstream), whose first reads return the bytes the upstream
/// sent right behind its 101 (already read with the head).
pub struct Tunnel {
    io: Io,
    leftover: BytesMut,
}

impl AsyncRead for Tunnel {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.leftover.is_empty() {
            let n = this.leftover.len().min(buf.remaining());
            buf.put_slice(&this.leftover[..n]);
            this.leftover.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tunnel {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
