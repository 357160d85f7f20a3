//! The gateway's hand-written HTTP/1.1 client against hyper 1's, on the
//! same upstream: where does a response end, and may the connection carry
//! the next request?
//!
//! # The model
//!
//! The input is a flags byte (bit 0: the first request is `HEAD`, bit 1:
//! the second one is), then the upstream's bytes, cut in two by the first
//! [`LATE`] marker. Each client sends a request on a fresh connection and
//! the upstream answers in three deliveries, each made only when the client
//! has nothing left to do but wait:
//!
//! 1. the bytes before the marker (`A1`), as soon as the request arrives;
//! 2. the bytes after it (`A2`) followed by [`SENTINEL`], a well-formed
//!    answer with a body;
//! 3. the end of the connection (EOF).
//!
//! When the first answer has ended and the client's rules let the
//! connection carry another request *before* delivery 2 (the only moment
//! reuse can happen: after it, the upstream has closed or sent bytes nobody
//! asked for), the client sends a second request, answered by `A2`. `A2`
//! is thus either the honest answer to the second request, or a
//! misbehaving upstream's late bytes (the body of a `HEAD` answer, sent
//! late, then the real answer), which is how responses get mixed
//! (issue 14, finding 2).
//!
//! - **corsair** is run without I/O, exactly as `upstream::pool`,
//!   `exchange` and `body` drive `upstream::h1`: [`h1::parse_response_head`]
//!   until a head, then the body by its [`Framing`] (`Length(n)` takes at
//!   most `n` buffered bytes, `Chunked` goes through [`ChunkedDecoder`]
//!   and ends at `Trailers` or `End`, `Close` reads to EOF); the connection
//!   is reused when `keep_alive` holds and no byte is left in the buffer
//!   (`UpstreamBody::finish`), and when no byte followed either (the pool's
//!   liveness check at checkout), which here means the answer ended in
//!   delivery 1.
//! - **hyper** is `hyper::client::conn::http1` over a `tokio::io::duplex`,
//!   with a fake upstream on the other end, on a current-thread runtime with
//!   a paused clock: a delivery is a `sleep` that only fires when every task
//!   waits (tokio's auto-advance), so "the client has nothing left to do"
//!   is exact and the run is deterministic. The connection is reused when
//!   `SendRequest::ready` succeeds before delivery 2.
//!
//! # What must agree
//!
//! For each answer both clients read, an [`Answer`] records the status, the
//! body bytes, the trailer fields, and the delivery during which the answer
//! ended. Then:
//!
//! 1. if corsair accepts the first answer, hyper accepts it too, with an
//!    equal [`Answer`]: the same bytes are the body, and the end is found at
//!    the same moment — an end found with fewer bytes, or needing more (or
//!    EOF), shows as a different body or a different delivery;
//! 2. if corsair reuses the connection, hyper does too: hyper refuses to
//!    reuse a connection with a byte left after the answer (it reads it as
//!    an "unexpected message"), so this fails when corsair put the end
//!    further than hyper;
//! 3. if both reuse it and corsair accepts the second answer, hyper accepts
//!    it with an equal [`Answer`]: the second request gets the second answer,
//!    the same way on both sides — a mismatch is response mixing;
//! 4. corsair never reuses the connection after a `HEAD`, 204 or 304 answer
//!    whose head advertises a body ([`advertises_impossible_body`]). hyper reuses it,
//!    and reads a late body as the second answer (the seeds show it), so
//!    rules 1-3 cannot see this kind of mixing: the target states the rule
//!    itself.
//!
//! 5. the head of an answer to a WebSocket handshake
//!    ([`h1::parse_upgrade_response_head`], the first answer's bytes read
//!    whole) never lets the connection be reused: a 101 hands it to the
//!    tunnel, any other answer closes it. A 101 is its final head, with no
//!    body; any other final head is the one [`h1::parse_response_head`]
//!    reads (same status, fields and framing), and the two refuse the
//!    same bytes alike, but for the 101 the upgrade request allows. The
//!    handshake is not sent to hyper's client here (it would hand the
//!    connection over, not read a second answer).
//!
//! Rules 1 and 3 bind corsair's *acceptances*: corsair refusing what hyper
//! takes is allowed only for the deliberate strictness listed below.
//! Corsair not reusing a connection that hyper reuses is always allowed
//! (a new connection costs a handshake, never a wrong answer): rule 4's
//! answers, and HTTP/1.0 keep-alive (hyper reuses, corsair does not).
//!
//! # Allowed asymmetries (corsair refuses, hyper accepts)
//!
//! Each is a deliberate strictness of `upstream::h1`, checked on the bytes
//! corsair refused (not only on its error's kind) by [`allowed_refusal`]:
//!
//! - `101 Switching Protocols` to a request that asked for no upgrade (only
//!   a WebSocket handshake does, rule 5): a server must not switch to a
//!   protocol the request did not name in `Upgrade` (RFC 9110 §7.8,
//!   §15.2.2); hyper hands the 101 to its caller.
//! - A response head over 64 KiB (hyper: about 400 KiB): a bound, which
//!   RFC 9112 §2.3 leaves to the recipient. Not reached here (inputs are at
//!   most [`MAX_INPUT`] bytes); listed for completeness.
//! - `Transfer-Encoding` next to `Content-Length`: RFC 9112 §6.3 item 3
//!   says such a message "ought to be handled as an error"; hyper lets
//!   `Transfer-Encoding` win.
//! - A `Transfer-Encoding` value with obs-text (a byte of 0x80 or more):
//!   transfer codings are tokens (RFC 9112 §7, RFC 9110 §5.6.2). hyper
//!   reads such a value as no coding at all, hence a body delimited by the
//!   close; a byte-wise reader finds `chunked` last. Corsair refuses it
//!   (it used to read `chunked`: found by this target).
//! - A `Content-Length` element of 20 digits or more (leading zeros, or
//!   lengths past 10^19): RFC 9110 §8.6 has no bound; the gateway bounds
//!   the field at 19 digits, hyper parses any that fits a `u64`.
//! - Chunk-size lines (RFC 9112 §7.1, §7.1.1) with more than 16 hex digits
//!   (leading zeros; hyper accepts any count that fits a `u64`), longer
//!   than 4 KiB (hyper bounds extensions at 16 KiB per body), or with a
//!   chunk extension holding a byte outside visible ASCII and whitespace
//!   (hyper skips any byte but LF; the RFC allows obs-text only inside a
//!   quoted `chunk-ext-val`, and corsair refuses it there too).
//! - A trailer line ended by a bare LF (RFC 9112 §7.1.2; §2.2 lets a
//!   recipient take a bare LF as a line end, and httparse does): hyper ends
//!   trailer lines only at CRLF, so the two readers put the end of the body
//!   at different bytes. Corsair refuses it (it used to end the body at the
//!   bare LF: found by this target).
//!
//! Any other refusal hyper does not share fails the target, and so does an
//! EOF that corsair finds before the end while hyper found an end.
//! hyper's 16 KiB limits (chunk extensions per body, trailer bytes) are
//! never reached: inputs are at most [`MAX_INPUT`] bytes.
#![no_main]

use std::cell::Cell;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use corsair_gateway::upstream::h1::{self, ChunkedDecoder, Decoded, Framing, ProtoError};
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// Splits the upstream's bytes into the first delivery and the late one.
const LATE: &[u8] = b"|LATE|";
/// Appended to the late bytes: a well-formed answer with a body, so that a
/// second answer read from the right place is visible as this one.
const SENTINEL: &[u8] = b"HTTP/1.1 299 Sentinel\r\ncontent-length: 8\r\n\r\nsentinel";
/// Below hyper's 16 KiB limits on chunk extensions and trailers, which the
/// gateway does not share (it bounds each line at 4 KiB and a trailer
/// section at 64 KiB instead).
const MAX_INPUT: usize = 16 * 1024 - 1;
/// The wait between two deliveries: virtual time, it passes only when every
/// task waits.
const TICK: Duration = Duration::from_secs(1);
/// How long (virtual) a client may wait before it counts as hung.
const HANG: Duration = Duration::from_secs(3600);

/// One answer as its client read it.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: u16,
    body: Vec<u8>,
    trailers: Vec<(String, Vec<u8>)>,
    /// The delivery during which the answer ended (1: the first bytes, 2:
    /// the late bytes, 3: EOF).
    ended_in: u8,
}

/// What one client made of the upstream's bytes.
#[derive(Debug)]
struct Run<E> {
    first: Result<Answer, E>,
    /// The second request went over the same connection.
    reused: bool,
    /// Its answer, when it did.
    second: Option<Result<Answer, E>>,
}

fn fields(h: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    h.iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect()
}

// ---------------------------------------------------------------------------
// corsair: the pool's reading of `upstream::h1`, without a socket
// ---------------------------------------------------------------------------

/// Why corsair's client gave up on an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    /// The head or the chunked coding broke HTTP/1.1 (`SendError::Protocol`,
    /// `BodyError::Protocol`), and the unread bytes from the head, or from
    /// the chunk-size line, trailer section or chunk end, where it did.
    Proto(ProtoError, Vec<u8>),
    /// EOF before a complete head (`SendError::Closed`).
    Closed,
    /// EOF before the body's end (`BodyError::Truncated`).
    Truncated,
}

/// The gateway's side of the connection: its read buffer and what the
/// upstream has not delivered yet.
struct Conn {
    rbuf: BytesMut,
    late: Option<Vec<u8>>,
    /// Deliveries made (see [`Answer::ended_in`]).
    delivered: u8,
}

impl Conn {
    /// One read of the socket: the late bytes, then EOF (0).
    fn read(&mut self) -> usize {
        match self.late.take() {
            Some(b) => {
                self.delivered = 2;
                self.rbuf.extend_from_slice(&b);
                b.len()
            }
            None => {
                self.delivered = 3;
                0
            }
        }
    }

    /// One exchange: the answer, whether the connection goes back to the
    /// pool after it (`UpstreamBody::finish`: keep-alive, and no byte left;
    /// the request has no body, so it was sent in full), and whether the
    /// head promised a body the answer cannot have ([`advertises_impossible_body`]).
    fn answer(&mut self, head_request: bool) -> Result<(Answer, bool, bool), Refusal> {
        let mut scratch = Vec::new();
        // `exchange::exchange`.
        let head = loop {
            let unread = self.rbuf.to_vec();
            match h1::parse_response_head(&mut self.rbuf, head_request, &mut scratch) {
                Ok(Some(h)) => break h,
                Ok(None) if self.read() == 0 => return Err(Refusal::Closed),
                Ok(None) => {}
                Err(e) => return Err(Refusal::Proto(e, unread)),
            }
        };
        let unverifiable = advertises_impossible_body(head_request, head.status.as_u16(), &head.headers);
        // `pool::Http1Pool::response`, then `UpstreamBody::poll_frame`.
        let mut keep_alive = head.keep_alive;
        let mut body = Vec::new();
        let mut trailers = Vec::new();
        match head.framing {
            Framing::Empty | Framing::Length(0) => {}
            Framing::Length(mut left) => loop {
                if self.rbuf.is_empty() {
                    if self.read() == 0 {
                        return Err(Refusal::Truncated);
                    }
                    continue;
                }
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(self.rbuf.len());
                body.extend_from_slice(&self.rbuf.split_to(n));
                left -= n as u64;
                if left == 0 {
                    break;
                }
            },
            Framing::Chunked => {
                let mut decoder = ChunkedDecoder::default();
                loop {
                    match decoder.decode(&mut self.rbuf) {
                        Ok(Decoded::Data(b)) => body.extend_from_slice(&b),
                        Ok(Decoded::Trailers(t)) => {
                            trailers = fields(&t);
                            break;
                        }
                        Ok(Decoded::End) => break,
                        Ok(Decoded::NeedMore) => {
                            if self.read() == 0 {
                                return Err(Refusal::Truncated);
                            }
                        }
                        // The decoder stops at the line or bytes it refuses.
                        Err(e) => return Err(Refusal::Proto(e, self.rbuf.to_vec())),
                    }
                }
            }
            Framing::Close => loop {
                body.extend_from_slice(&self.rbuf.split());
                if self.read() == 0 {
                    keep_alive = false;
                    break;
                }
            },
        }
        let answer = Answer {
            status: head.status.as_u16(),
            body,
            trailers,
            ended_in: self.delivered,
        };
        Ok((answer, keep_alive && self.rbuf.is_empty(), unverifiable))
    }
}

/// Whether an answer that has no body by its request (`HEAD`) or status
/// (204, 304) has a head that advertises one anyway (a transfer coding, or
/// a length other than 0): RFC 9112 §6.3 ends it with its head, but nothing
/// can tell whether the upstream agrees — if it sends the body after all,
/// those bytes would be read as the next request's answer. hyper reads it
/// exactly so (as nginx 1.22 does), so the differential cannot see it; this
/// is the target's own statement of the rule.
fn advertises_impossible_body(head_request: bool, status: u16, headers: &HeaderMap) -> bool {
    let bodyless = head_request || status == 204 || status == 304;
    bodyless
        && (headers.contains_key(http::header::TRANSFER_ENCODING)
            || headers
                .get_all(http::header::CONTENT_LENGTH)
                .iter()
                .any(|v| v.as_bytes().split(|&b| b == b',').any(|n| n.trim_ascii() != b"0")))
}

/// corsair's run, and whether its first answer's end was unverifiable.
fn corsair(first: &[u8], late: &[u8], head: [bool; 2]) -> (Run<Refusal>, bool) {
    let mut conn = Conn {
        rbuf: BytesMut::from(first),
        late: Some(late.to_vec()),
        delivered: 1,
    };
    let (first, back_to_pool, unverifiable) = match conn.answer(head[0]) {
        Ok((a, back, unverifiable)) => (Ok(a), back, unverifiable),
        Err(e) => (Err(e), false, false),
    };
    // Checked out again only if nothing arrived since (`Conn::is_quiet`):
    // the answer ended before the late delivery.
    let reused = back_to_pool && conn.delivered == 1;
    let second = reused.then(|| conn.answer(head[1]).map(|(a, ..)| a));
    (Run { first, reused, second }, unverifiable)
}

// ---------------------------------------------------------------------------
// hyper: its client connection against a fake upstream, in virtual time
// ---------------------------------------------------------------------------

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime");
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// Sends one request and reads its answer to the end.
async fn exchange(sender: &mut Sender, head_request: bool, delivered: &Cell<u8>) -> Result<Answer, String> {
    let method = if head_request { Method::HEAD } else { Method::GET };
    let mut req = Request::new(Empty::<Bytes>::new());
    *req.method_mut() = method;
    *req.uri_mut() = http::Uri::from_static("/");
    let resp = sender.send_request(req).await.map_err(|e| format!("head: {e:?}"))?;
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut data = Vec::new();
    let mut trailers = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("body: {e:?}"))?;
        match frame.into_data() {
            Ok(d) => data.extend_from_slice(&d),
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    trailers = fields(&t);
                }
            }
        }
    }
    Ok(Answer {
        status,
        body: data,
        trailers,
        ended_in: delivered.get(),
    })
}

/// The upstream: reads the first request's head, then makes the three
/// deliveries, each when the client waits.
async fn upstream(io: &mut DuplexStream, first: &[u8], late: &[u8], delivered: &Cell<u8>) {
    let mut request = Vec::new();
    let mut buf = [0u8; 256];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match io.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    delivered.set(1);
    if io.write_all(first).await.is_err() {
        return;
    }
    tokio::time::sleep(TICK).await;
    delivered.set(2);
    if io.write_all(late).await.is_err() {
        return;
    }
    tokio::time::sleep(TICK).await;
    delivered.set(3);
    let _ = io.shutdown().await;
}

fn hyper(first: &[u8], late: &[u8], head: [bool; 2]) -> Run<String> {
    RUNTIME.with(|rt| {
        rt.block_on(async {
            // Room for every byte either way: neither side ever waits for
            // the other to read.
            let (client_io, mut upstream_io) = tokio::io::duplex(64 * 1024);
            let delivered = Cell::new(0u8);
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(client_io))
                .await
                .expect("a handshake does no I/O");
            let conn = tokio::spawn(conn);
            let client = async {
                let first = exchange(&mut sender, head[0], &delivered).await;
                let reused =
                    first.is_ok() && delivered.get() == 1 && sender.ready().await.is_ok() && delivered.get() == 1;
                let second = if reused {
                    Some(exchange(&mut sender, head[1], &delivered).await)
                } else {
                    None
                };
                Run { first, reused, second }
            };
            let (_, run) = tokio::join!(
                upstream(&mut upstream_io, first, late, &delivered),
                tokio::time::timeout(HANG, client)
            );
            conn.abort();
            let _ = conn.await;
            run.unwrap_or_else(|_| Run {
                first: Err("hung".to_owned()),
                reused: false,
                second: None,
            })
        })
    })
}

// ---------------------------------------------------------------------------
// The comparison
// ---------------------------------------------------------------------------

/// Why corsair may refuse an answer hyper accepts, or `None` when it may
/// not. See the module docs for each reason.
fn allowed_refusal(r: &Refusal) -> Option<&'static str> {
    let Refusal::Proto(e, unread) = r else {
        // EOF before the end: hyper must not have found an end either.
        return None;
    };
    match e {
        ProtoError::UnexpectedUpgrade => Some("101 without an Upgrade request"),
        ProtoError::HeadTooLarge => Some("head over 64 KiB"),
        ProtoError::LengthAndTransferEncoding => Some("Transfer-Encoding with Content-Length"),
        ProtoError::BadTransferEncoding => Some("Transfer-Encoding with obs-text"),
        ProtoError::BadContentLength if long_content_length(unread) => Some("Content-Length of 20 digits or more"),
        ProtoError::BadChunk => chunk_strictness(unread),
        _ => None,
    }
}

/// Whether the final head in `heads` (interim ones skipped) has a
/// `Content-Length` element of 20 digits or more (corsair reads at most 19;
/// hyper any that fits a `u64`).
fn long_content_length(mut heads: &[u8]) -> bool {
    loop {
        let mut fields = [httparse::EMPTY_HEADER; h1::MAX_HEADERS];
        let mut res = httparse::Response::new(&mut fields);
        let Ok(httparse::Status::Complete(len)) = res.parse(heads) else {
            return false;
        };
        if !res.code.is_some_and(|c| (100..200).contains(&c)) {
            return res
                .headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("content-length"))
                .any(|h| {
                    h.value
                        .split(|&b| b == b',')
                        .any(|v| v.iter().filter(|b| b.is_ascii_digit()).count() >= 20)
                });
        }
        heads = &heads[len..];
    }
}

/// Which chunked-coding strictness of corsair's (that hyper does not
/// share) refused `unread` (from the bytes where the decoder stopped), if
/// any.
fn chunk_strictness(unread: &[u8]) -> Option<&'static str> {
    let window = &unread[..unread.len().min(h1::MAX_CHUNK_LINE)];
    let Some(nl) = window.iter().position(|&b| b == b'\n') else {
        return (unread.len() >= h1::MAX_CHUNK_LINE).then_some("chunk-size line over 4 KiB");
    };
    let line = &unread[..nl];
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits > 16 {
        return Some("chunk size of more than 16 digits");
    }
    let ext = &line[digits..line.len() - usize::from(line.ends_with(b"\r"))];
    if digits > 0 && ext.contains(&b';') && ext.iter().any(|&b| b != b'\t' && !(b' '..=b'~').contains(&b)) {
        return Some("chunk-ext byte outside visible ASCII");
    }
    // A trailer section (up to its empty line) with a line ended by a bare LF.
    let section = unread
        .windows(2)
        .position(|w| w == b"\n\n" || w == b"\n\r")
        .map_or(unread, |e| &unread[..e + 2]);
    let bare_lf = section
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || section[i - 1] != b'\r'));
    bare_lf.then_some("trailer line ended by a bare LF")
}

fn compare(which: &str, c: &Result<Answer, Refusal>, h: &Result<Answer, String>) {
    match (c, h) {
        (Ok(c), Ok(h)) => assert_eq!(c, h, "{which} answer: corsair and hyper read it differently"),
        (Ok(c), Err(h)) => panic!("{which} answer: corsair accepts {c:?}, hyper refuses it: {h}"),
        (Err(c), Ok(h)) => {
            if allowed_refusal(c).is_none() {
                panic!("{which} answer: corsair refuses it ({c:?}), hyper accepts {h:?}")
            }
        }
        (Err(_), Err(_)) => {}
    }
}

/// Rule 5: the answer to a WebSocket handshake, read from `bytes` whole.
fn upgrade_rule(bytes: &[u8]) {
    let mut up = BytesMut::from(bytes);
    let mut plain = BytesMut::from(bytes);
    let upgrade = h1::parse_upgrade_response_head(&mut up, &mut Vec::new());
    let ordinary = h1::parse_response_head(&mut plain, false, &mut Vec::new());
    match (upgrade, ordinary) {
        (Ok(Some(u)), _) if u.status.as_u16() == 101 => {
            assert!(!u.keep_alive, "a 101 lets the connection be reused");
            assert_eq!(u.framing, Framing::Empty, "a 101 with a body");
        }
        (Ok(Some(u)), Ok(Some(o))) => {
            assert!(!u.keep_alive, "an upgrade request's connection is reused after {}", u.status);
            assert_eq!((u.status, u.version, u.framing), (o.status, o.version, o.framing));
            assert_eq!(fields(&u.headers), fields(&o.headers));
            assert_eq!(up, plain, "the two read different lengths");
        }
        (Ok(None), Ok(None)) | (Err(_), Err(_)) => {}
        // The ordinary reader refuses a 101 that the upgrade reader takes
        // before the final head; anything else is a disagreement.
        (u, Err(ProtoError::UnexpectedUpgrade)) => {
            assert!(!matches!(u, Ok(Some(ref h)) if h.keep_alive), "{u:?}");
        }
        (u, o) => panic!("an upgrade answer is read as {u:?}, the same bytes otherwise as {o:?}"),
    }
}

/// `H1_DIFFERENTIAL_SHOW=1`: print both runs (to read what an input does).
static SHOW: std::sync::LazyLock<bool> =
    std::sync::LazyLock::new(|| std::env::var_os("H1_DIFFERENTIAL_SHOW").is_some());

fuzz_target!(|data: &[u8]| {
    let Some((&flags, stream)) = data.split_first() else {
        return;
    };
    if stream.len() > MAX_INPUT {
        return;
    }
    let head = [flags & 1 != 0, flags & 2 != 0];
    let (first, late) = match stream.windows(LATE.len()).position(|w| w == LATE) {
        Some(at) => (&stream[..at], &stream[at + LATE.len()..]),
        None => (stream, &[][..]),
    };
    let late = [late, SENTINEL].concat();

    let (c, unverifiable) = corsair(first, &late, head);
    let h = hyper(first, &late, head);
    if *SHOW {
        eprintln!("corsair: {c:?}\nhyper:   {h:?}");
        if let Err(r) = &c.first {
            eprintln!("allowed refusal: {:?}", allowed_refusal(r));
        }
    }

    upgrade_rule(first);
    compare("first", &c.first, &h.first);
    if c.reused {
        assert!(
            h.reused,
            "corsair reuses the connection after {:?}, hyper does not",
            c.first
        );
        assert!(
            !unverifiable,
            "corsair reuses the connection after {:?}, whose head advertises a body it cannot have",
            c.first
        );
    }
    if let (Some(c2), Some(h2)) = (&c.second, &h.second) {
        compare("second", c2, h2);
    }
});
