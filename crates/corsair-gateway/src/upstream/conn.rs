//! One connection to the upstream: its socket (plain TCP, or TLS for an
//! `https://` upstream) and its buffers, kept across the requests it
//! carries.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::BytesMut;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_util::io::poll_read_buf;

/// The read buffer's first size: a response head and a small body in one
/// read (larger answers grow it, see [`MAX_READ`]); kept small because every
/// open upstream connection holds one (one per request in flight).
pub(super) const READ_BUF: usize = 4 * 1024;
/// The largest read: large bodies are read in growing reads (doubling while
/// each read fills the buffer, as hyper's adaptive strategy), up to this.
const MAX_READ: usize = 64 * 1024;

/// How to reach the upstream.
pub(super) struct Endpoint {
    /// `host:port`, for connecting.
    pub addr: String,
    /// TLS for an `https://` upstream: the connector (the project's client
    /// configuration, offering `http/1.1` by ALPN) and the name to verify.
    pub tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl Endpoint {
    /// Opens a connection (and completes the TLS handshake).
    pub async fn connect(&self) -> io::Result<Conn> {
        let tcp = TcpStream::connect(&self.addr).await?;
        let _ = tcp.set_nodelay(true);
        let io = match &self.tls {
            None => Io::Plain(tcp),
            Some((connector, name)) => Io::Tls(Box::new(connector.connect(name.clone(), tcp).await?)),
        };
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

/// The socket.
pub(super) enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Io {
    fn tcp(&self) -> &TcpStream {
        match self {
            Io::Plain(t) => t,
            Io::Tls(t) => t.get_ref().0,
        }
    }

    /// Writes all of `buf[*pos..]`, advancing `pos`.
    pub fn poll_write_all(&mut self, cx: &mut Context<'_>, buf: &[u8], pos: &mut usize) -> Poll<io::Result<()>> {
        while *pos < buf.len() {
            match ready!(Pin::new(&mut *self).poll_write(cx, &buf[*pos..])) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => *pos += n,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        // TLS buffers what it encrypts: push it out.
        if let Io::Tls(t) = self {
            ready!(Pin::new(t).poll_flush(cx))?;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for Io {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(t) => Pin::new(t).poll_read(cx, buf),
            Io::Tls(t) => Pin::new(t).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(t) => Pin::new(t).poll_write(cx, buf),
            Io::Tls(t) => Pin::new(t).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(t) => Pin::new(t).poll_flush(cx),
            Io::Tls(t) => Pin::new(t).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(t) => Pin::new(t).poll_shutdown(cx),
            Io::Tls(t) => Pin::new(t).poll_shutdown(cx),
        }
    }
}

/// One connection to the upstream and its buffers (kept across requests).
pub(super) struct Conn {
    pub io: Io,
    pub rbuf: BytesMut,
    pub wbuf: Vec<u8>,
    /// Scratch space for parsing response heads.
    pub fields: Vec<[u32; 4]>,
    /// Taken from the pool rather than just opened.
    pub reused: bool,
    /// The size of the next read (see [`MAX_READ`]).
    pub read_size: usize,
}

impl Conn {
    /// Reads more into the read buffer: `Ok(0)` at the end of the stream.
    pub fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
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

    /// Whether an idle connection is still quiet: the upstream neither
    /// closed it nor sent anything (stray bytes, a TLS alert) since it went
    /// idle. Peeks without consuming; without a readiness event since the
    /// last read this costs no system call (the common case).
    pub fn is_quiet(&self) -> bool {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut byte = [0u8; 1];
        let mut buf = ReadBuf::new(&mut byte);
        matches!(self.io.tcp().poll_peek(&mut cx, &mut buf), Poll::Pending)
    }
}

/// The TLS connector of an `https://` upstream: the project's client
/// configuration (see [`super::https`]), or one trusting only the CAs of
/// `ca` (PEM), offering HTTP/1.1 by ALPN.
pub(crate) fn tls_connector(ca: Option<&std::path::Path>) -> Result<TlsConnector, String> {
    let mut config = match ca {
        None => super::https::client_config().map_err(|e| e.to_string())?,
        Some(path) => {
            let certs = crate::listener::tls::read_certs(path)?;
            let mut roots = rustls::RootCertStore::empty();
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!("{}: no usable CA certificate", path.display()));
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth()
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}
