//! A minimal WebSocket (RFC 6455) for tests: frames ([`encode`],
//! [`read_frame`]), a client over raw TCP ([`handshake`], [`Client`]) and a
//! test upstream ([`WsUpstream`]) that records every handshake head it
//! receives. Enough to drive the gateway's tunnel, not a general
//! implementation (no fragmentation, no extensions).
//!
//! The upstream answers by path:
//! - `/deny`: 403 with a body; `/missing`: 404 with a body;
//! - `/bad-accept`: a 101 whose `Sec-WebSocket-Accept` is wrong;
//! - `/not-websocket`: a 101 that switches to `h2c`;
//! - `/hello`: a 101 and, in the same write, a text frame `hello`; then echo;
//! - `/bye`: a 101, a text frame `bye`, a close frame, and the end of the
//!   connection (the upstream closes first);
//! - anything else: a 101 (choosing the first `Sec-WebSocket-Protocol`
//!   offered), then every data frame echoed, pings answered, and a close
//!   frame answered with one before the upstream closes.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::raw::{header_of, read_request_head, read_response, target_of, Resp};

/// RFC 6455 §1.3's example key.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// Text frame.
pub const TEXT: u8 = 0x1;
/// Binary frame.
pub const BINARY: u8 = 0x2;
/// Close frame.
pub const CLOSE: u8 = 0x8;
/// Ping frame.
pub const PING: u8 = 0x9;
/// Pong frame.
pub const PONG: u8 = 0xA;

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The opcode.
    pub opcode: u8,
    /// The payload, unmasked.
    pub payload: Vec<u8>,
    /// Whether it came masked.
    pub masked: bool,
}

/// A final frame of `opcode` and `payload`, masked with `mask` (a client's
/// frames must be, a server's must not be: RFC 6455 §5.1).
pub fn encode(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(m | n as u8),
        n if n <= 0xFFFF => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        None => out.extend_from_slice(payload),
        Some(k) => {
            out.extend_from_slice(&k);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
    }
    out
}

/// Reads one frame.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Frame> {
    let mut h = [0u8; 2];
    r.read_exact(&mut h).await?;
    let masked = h[1] & 0x80 != 0;
    let len = match h[1] & 0x7F {
        126 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b).await?;
            u64::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0u8; 8];
            r.read_exact(&mut b).await?;
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    let mut key = [0u8; 4];
    if masked {
        r.read_exact(&mut key).await?;
    }
    let len = usize::try_from(len).map_err(|_| io::Error::other("frame too large"))?;
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload).await?;
    if masked {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    Ok(Frame {
        opcode: h[0] & 0x0F,
        payload,
        masked,
    })
}

/// A client connection after a 101.
pub struct Client {
    /// The connection (reads buffered).
    pub io: BufReader<TcpStream>,
}

impl Client {
    /// Sends a masked frame.
    pub async fn send(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        self.io
            .get_mut()
            .write_all(&encode(opcode, payload, Some([0x37, 0xfa, 0x21, 0x3d])))
            .await
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: &str) -> io::Result<()> {
        self.send(TEXT, text.as_bytes()).await
    }

    /// Reads the next frame.
    pub async fn recv(&mut self) -> io::Result<Frame> {
        read_frame(&mut self.io).await
    }

    /// Whether the connection ends (EOF or reset) before any byte arrives.
    pub async fn at_end(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.io.read(&mut b).await, Ok(0) | Err(_))
    }
}

/// The request head of a handshake for `path` to `host`, with the fields
/// of `extra` after the standard ones.
pub fn request(path: &str, host: &str, extra: &[(&str, &str)]) -> String {
    let mut s = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n"
    );
    for (k, v) in extra {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s
}

/// Sends `raw` (a handshake's head) to `addr` and reads the answer's head
/// (and its body, for an answer other than 101); the client when it is a
/// 101.
pub async fn handshake_raw(addr: SocketAddr, raw: &[u8]) -> io::Result<(Resp, Option<Client>)> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(raw).await?;
    let mut io = BufReader::new(s);
    let resp = read_response(&mut io, false).await?;
    let client = (resp.status == 101).then_some(Client { io });
    Ok((resp, client))
}

/// A handshake for `path` on `addr` (`Host` is the address), with `extra`
/// fields (an `Origin`, say).
pub async fn handshake(addr: SocketAddr, path: &str, extra: &[(&str, &str)]) -> io::Result<(Resp, Option<Client>)> {
    handshake_raw(addr, request(path, &addr.to_string(), extra).as_bytes()).await
}

/// The test upstream (see the module docs).
pub struct WsUpstream {
    /// Its address.
    pub addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl WsUpstream {
    /// Starts it on the caller's runtime.
    pub async fn start() -> WsUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let heads: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = heads.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, seen).await;
                });
            }
        });
        WsUpstream { addr, heads, task }
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request head received, in order.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Drop for WsUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(stream: TcpStream, seen: Arc<Mutex<Vec<String>>>) -> io::Result<()> {
    let mut io = BufReader::new(stream);
    let Some(head) = read_request_head(&mut io).await else {
        return Ok(());
    };
    seen.lock().unwrap_or_else(PoisonError::into_inner).push(head.clone());
    let path = target_of(&head);
    let key = header_of(&head, "sec-websocket-key").unwrap_or_default();
    let accept = corsair_gateway::websocket::accept_key(key.as_bytes());
    let switch = |extra: &str| {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
        )
    };
    let w = io.get_mut();
    match path.as_str() {
        "/deny" => {
            return w
                .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden")
                .await
        }
        "/missing" => {
            return w
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 14\r\n\r\nno such socket")
                .await
        }
        "/bad-accept" => {
            return w
                .write_all(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                      Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                )
                .await
        }
        "/not-websocket" => {
            let h = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");
            return w.write_all(h.as_bytes()).await;
        }
        "/hello" => {
            let mut out = switch("").into_bytes();
            out.extend_from_slice(&encode(TEXT, b"hello", None));
            w.write_all(&out).await?;
        }
        "/bye" => {
            let mut out = switch("").into_bytes();
            out.extend_from_slice(&encode(TEXT, b"bye", None));
            out.extend_from_slice(&encode(CLOSE, &1000u16.to_be_bytes(), None));
            w.write_all(&out).await?;
            return w.shutdown().await;
        }
        _ => {
            let protocol = header_of(&head, "sec-websocket-protocol")
                .and_then(|p| p.split(',').next().map(|s| s.trim().to_owned()))
                .map(|p| format!("Sec-WebSocket-Protocol: {p}\r\n"))
                .unwrap_or_default();
            w.write_all(switch(&protocol).as_bytes()).await?;
        }
    }
    echo(&mut io).await
}

async fn echo<S: AsyncRead + AsyncWrite + Unpin>(io: &mut BufReader<S>) -> io::Result<()> {
    loop {
        let f = match read_frame(io).await {
            Ok(f) => f,
            Err(_) => return Ok(()),
        };
        match f.opcode {
            CLOSE => {
                io.get_mut().write_all(&encode(CLOSE, &f.payload, None)).await?;
                return io.get_mut().shutdown().await;
            }
            PING => io.get_mut().write_all(&encode(PONG, &f.payload, None)).await?,
            PONG => {}
            op => io.get_mut().write_all(&encode(op, &f.payload, None)).await?,
        }
    }
}
