//! The HTTP/1.1 wire format of the gateway's upstream client, without I/O:
//! the request head it writes, the response head it reads (and what that
//! head says about the body's framing and the connection's reuse), and the
//! chunked transfer coding. `super::pool` drives these over a socket;
//! the unit tests below drive them over byte slices cut at every boundary.
//!
//! Public so that the fuzz targets can reach it; not a stable API.
//!
//! Strict where leniency lets one response be read as two (RFC 9112 §6.3,
//! §11.2): a `Transfer-Encoding` next to a `Content-Length`, differing or
//! malformed lengths, a `Transfer-Encoding` on HTTP/1.0 or with a byte
//! outside visible ASCII, a chunk-size line that is not
//! `HEXDIG… [ws] [; ext] CRLF`, a chunk not followed by CRLF, and a trailer
//! line not ended by CRLF are errors, never guesses. Every size is bounded: a response head
//! (interim heads included) at [`MAX_HEAD`] bytes and [`MAX_HEADERS`]
//! fields, a chunk-size line at [`MAX_CHUNK_LINE`] bytes, trailers as a head.

use std::mem::MaybeUninit;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};

/// The largest response head accepted, interim (1xx) heads included: 64 KiB
/// (nginx stops at 4 or 8 KiB by default, hyper at about 400 KiB).
pub const MAX_HEAD: usize = 64 * 1024;
/// The most header fields in one response head or trailer section (as
/// hyper's client).
pub const MAX_HEADERS: usize = 100;
/// Room left in a parsed head's map for the headers the gateway adds (the
/// CORS headers of an actual request: at most five, and `Vary`).
const EXTRA_HEADERS: usize = 6;
/// The longest chunk-size line, extensions included.
pub const MAX_CHUNK_LINE: usize = 4096;

/// A response the gateway cannot forward as HTTP/1.1 says it must be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtoError {
    /// Not an HTTP/1.x response head (httparse's reason).
    Malformed(httparse::Error),
    /// More than [`MAX_HEADERS`] fields.
    TooManyHeaders,
    /// A head larger than [`MAX_HEAD`].
    HeadTooLarge,
    /// A field name or value that `http` refuses.
    BadField,
    /// `101 Switching Protocols` to a request that asked for no upgrade
    /// (only a WebSocket handshake does; see [`parse_upgrade_response_head`]).
    UnexpectedUpgrade,
    /// A `Content-Length` that is not one decimal length.
    BadContentLength,
    /// Both `Transfer-Encoding` and `Content-Length`.
    LengthAndTransferEncoding,
    /// `Transfer-Encoding` on an HTTP/1.0 response.
    TransferEncodingOnHttp10,
    /// A `Transfer-Encoding` value with a byte outside visible ASCII: not
    /// a list of transfer codings.
    BadTransferEncoding,
    /// A chunk-size line or a chunk's end that breaks the chunked coding.
    BadChunk,
}

impl std::fmt::Display for ProtoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProtoError::Malformed(e) => write!(f, "malformed response head ({e})"),
            ProtoError::TooManyHeaders => write!(f, "more than {MAX_HEADERS} header fields"),
            ProtoError::HeadTooLarge => write!(f, "response head larger than {MAX_HEAD} bytes"),
            ProtoError::BadField => f.write_str("invalid header field"),
            ProtoError::UnexpectedUpgrade => f.write_str("unexpected 101 Switching Protocols"),
            ProtoError::BadContentLength => f.write_str("invalid Content-Length"),
            ProtoError::LengthAndTransferEncoding => f.write_str("both Content-Length and Transfer-Encoding"),
            ProtoError::TransferEncodingOnHttp10 => f.write_str("Transfer-Encoding on an HTTP/1.0 response"),
            ProtoError::BadTransferEncoding => f.write_str("invalid Transfer-Encoding"),
            ProtoError::BadChunk => f.write_str("invalid chunked coding"),
        }
    }
}

impl std::error::Error for ProtoError {}

/// How a response body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body: a HEAD request, 204 or 304.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// The chunked coding.
    Chunked,
    /// Everything until the upstream closes the connection.
    Close,
}

/// A final response head.
#[derive(Debug)]
pub struct ResponseHead {
    /// The final status (never 1xx).
    pub status: StatusCode,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The header fields.
    pub headers: HeaderMap,
    /// How the body is delimited.
    pub framing: Framing,
    /// Whether the connection may carry another request once the body has
    /// been read: HTTP/1.1, no `Connection: close`, not close-delimited.
    pub keep_alive: bool,
}

/// A header the gateway sets on the upstream request, replacing any the
/// client sent under that name.
#[derive(Debug, Clone, Copy)]
pub enum SetField<'a> {
    /// The client's lines of that name are removed and none is added.
    Remove,
    /// One line with this value.
    Value(&'a HeaderValue),
}

/// Writes the head of a request to the upstream into `out`: the request
/// line with `target` (origin form), `host`, then `headers` except any
/// `Host`, any `Content-Length` when `chunked`, and any named in `set`,
/// then the fields of `set`, and `Transfer-Encoding: chunked` when
/// `chunked`.
pub fn encode_request_head(
    out: &mut Vec<u8>,
    method: &Method,
    target: &str,
    host: &HeaderValue,
    headers: &HeaderMap,
    set: &[(&HeaderName, SetField<'_>)],
    chunked: bool,
) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        if name == header::HOST || (chunked && name == header::CONTENT_LENGTH) || set.iter().any(|(n, _)| *n == name) {
            continue;
        }
        field(out, name, value);
    }
    for (name, value) in set {
        match value {
            SetField::Remove => {}
            SetField::Value(v) => field(out, name, v),
        }
    }
    if chunked {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// `name: value` and CRLF.
pub fn field(out: &mut Vec<u8>, name: &HeaderName, value: &HeaderValue) {
    out.extend_from_slice(name.as_str().as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Reads the final response head from the start of `buf`, skipping interim
/// (1xx) heads, and removes what it read. `Ok(None)`: the head is not
/// complete yet (read more and call again). `head_request`: the request was
/// HEAD, so the response has no body whatever its headers say. `fields`
/// is scratch space, kept by the caller so that it is allocated once.
pub fn parse_response_head(
    buf: &mut BytesMut,
    head_request: bool,
    fields: &mut Vec<[u32; 4]>,
) -> Result<Option<ResponseHead>, ProtoError> {
    parse_head(buf, head_request, false, fields)
}

/// [`parse_response_head`] for a request that asked for an upgrade
/// (`Upgrade: websocket`, RFC 9110 §7.8): `101 Switching Protocols` is a
/// final answer here, whose head ends the HTTP/1.1 part of the connection
/// (what follows it in `buf` belongs to the new protocol). Whatever the
/// answer, the connection never carries another request: `keep_alive` is
/// always false (a 101's connection becomes the tunnel; after any other
/// answer, an upgrade request's connection is closed rather than returned
/// to the pool).
pub fn parse_upgrade_response_head(
    buf: &mut BytesMut,
    fields: &mut Vec<[u32; 4]>,
) -> Result<Option<ResponseHead>, ProtoError> {
    let head = parse_head(buf, false, true, fields)?;
    Ok(head.map(|mut h| {
        h.keep_alive = false;
        if h.status == StatusCode::SWITCHING_PROTOCOLS {
            h.framing = Framing::Empty;
        }
        h
    }))
}

fn parse_head(
    buf: &mut BytesMut,
    head_request: bool,
    upgrade: bool,
    fields: &mut Vec<[u32; 4]>,
) -> Result<Option<ResponseHead>, ProtoError> {
    loop {
        if buf.is_empty() {
            return Ok(None);
        }
        // Offsets of each field's name and value in `buf`: the head is cut
        // off `buf` and frozen once parsed, and the values share it.
        fields.clear();
        let (len, code, version, count) = {
            let mut raw = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
            let mut res = httparse::Response::new(&mut []);
            let len =
                match httparse::ParserConfig::default().parse_response_with_uninit_headers(&mut res, buf, &mut raw) {
                    Ok(httparse::Status::Complete(len)) => len,
                    Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Err(ProtoError::HeadTooLarge),
                    Ok(httparse::Status::Partial) => return Ok(None),
                    Err(httparse::Error::TooManyHeaders) => return Err(ProtoError::TooManyHeaders),
                    Err(e) => return Err(ProtoError::Malformed(e)),
                };
            if len > MAX_HEAD {
                return Err(ProtoError::HeadTooLarge);
            }
            let version = match res.version {
                Some(0) => Version::HTTP_10,
                Some(1) => Version::HTTP_11,
                _ => return Err(ProtoError::Malformed(httparse::Error::Version)),
            };
            let Some(code) = res.code else {
                return Err(ProtoError::Malformed(httparse::Error::Status));
            };
            let base = buf.as_ptr() as usize;
            for h in res.headers.iter() {
                let name = h.name.as_ptr() as usize - base;
                let value = h.value.as_ptr() as usize - base;
                // Within MAX_HEAD, so within u32.
                fields.push([
                    name as u32,
                    (name + h.name.len()) as u32,
                    value as u32,
                    (value + h.value.len()) as u32,
                ]);
            }
            (len, code, version, res.headers.len())
        };
        if (100..200).contains(&code) && !(code == 101 && upgrade) {
            if code == 101 {
                return Err(ProtoError::UnexpectedUpgrade);
            }
            // Interim: the final head follows.
            buf.advance(len);
            continue;
        }
        let status = StatusCode::from_u16(code).map_err(|_| ProtoError::Malformed(httparse::Error::Status))?;
        let head = buf.split_to(len).freeze();
        // Room for the CORS headers the gateway adds: growing the map
        // costs more than the rest of building it.
        let mut headers = HeaderMap::with_capacity(count + EXTRA_HEADERS);
        for &[ns, ne, vs, ve] in &fields[..count] {
            let name = HeaderName::from_bytes(&head[ns as usize..ne as usize]).map_err(|_| ProtoError::BadField)?;
            let value = HeaderValue::from_maybe_shared(head.slice(vs as usize..ve as usize))
                .map_err(|_| ProtoError::BadField)?;
            headers.append(name, value);
        }
        let framing = framing(&headers, status, version, head_request)?;
        // A response that has no body by its request method or status (HEAD,
        // 204, 304) but whose head advertises one (a non-zero length, or a
        // transfer coding) ends where nothing can verify it: if the upstream
        // sends that body after all, now or later, those bytes would be read
        // as the answer to the connection's next request — another client's.
        // Such a connection is never reused (RFC 9112 §6.3 and §9.3, the
        // gateway's response-mixing rule: see the README).
        let unverifiable_end = framing == Framing::Empty && advertises_body(&headers);
        let keep_alive = version == Version::HTTP_11
            && framing != Framing::Close
            && !unverifiable_end
            && !has_token(&headers, &header::CONNECTION, "close");
        return Ok(Some(ResponseHead {
            status,
            version,
            headers,
            framing,
            keep_alive,
        }));
    }
}

/// Whether a head says a body follows: `Transfer-Encoding`, or a
/// `Content-Length` that is not 0 (or not a length at all).
fn advertises_body(h: &HeaderMap) -> bool {
    h.contains_key(header::TRANSFER_ENCODING)
        || h.get_all(header::CONTENT_LENGTH)
            .iter()
            .any(|v| v.as_bytes().split(|&b| b == b',').any(|p| trim(p) != b"0"))
}

/// RFC 9112 §6.3, for a response.
fn framing(h: &HeaderMap, status: StatusCode, version: Version, head_request: bool) -> Result<Framing, ProtoError> {
    if head_request || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return Ok(Framing::Empty);
    }
    if h.contains_key(header::TRANSFER_ENCODING) {
        if version == Version::HTTP_10 {
            return Err(ProtoError::TransferEncodingOnHttp10);
        }
        // Either could delimit the body: refuse to choose (as nginx).
        if h.contains_key(header::CONTENT_LENGTH) {
            return Err(ProtoError::LengthAndTransferEncoding);
        }
        // Transfer codings are tokens (RFC 9112 §7, RFC 9110 §5.6.2): a
        // value with obs-text is no list of codings, and readers disagree
        // on it (hyper's client reads no coding, hence a body delimited by
        // the connection's close; a byte-wise reading finds `chunked` last
        // and a body that ends much earlier). Found by the h1_differential
        // fuzz target.
        if h.get_all(header::TRANSFER_ENCODING).iter().any(|v| v.to_str().is_err()) {
            return Err(ProtoError::BadTransferEncoding);
        }
        let last = h
            .get_all(header::TRANSFER_ENCODING)
            .iter()
            .next_back()
            .and_then(|v| v.as_bytes().rsplit(|&b| b == b',').next())
            .map(trim);
        return Ok(match last {
            Some(c) if c.eq_ignore_ascii_case(b"chunked") => Framing::Chunked,
            // Another coding last: the body ends when the connection does.
            _ => Framing::Close,
        });
    }
    if h.contains_key(header::CONTENT_LENGTH) {
        return content_length(h).map(Framing::Length);
    }
    Ok(Framing::Close)
}

/// The one length all `Content-Length` values (and list elements) agree on.
fn content_length(h: &HeaderMap) -> Result<u64, ProtoError> {
    let mut len = None;
    for v in h.get_all(header::CONTENT_LENGTH) {
        for part in v.as_bytes().split(|&b| b == b',') {
            let digits = trim(part);
            if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
                return Err(ProtoError::BadContentLength);
            }
            let n = digits.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
            if len.is_some_and(|l| l != n) {
                return Err(ProtoError::BadContentLength);
            }
            len = Some(n);
        }
    }
    len.ok_or(ProtoError::BadContentLength)
}

fn has_token(h: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    h.get_all(name)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .any(|t| trim(t).eq_ignore_ascii_case(token.as_bytes()))
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |e| e + 1);
    &s[start..end]
}

/// What [`ChunkedDecoder::decode`] found in the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// Body bytes (a piece of a chunk).
    Data(Bytes),
    /// The trailer section (not empty); [`Decoded::End`] follows.
    Trailers(HeaderMap),
    /// The end of the body.
    End,
    /// Read more into the buffer and call again.
    NeedMore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
    Done,
}

/// The chunked transfer coding (RFC 9112 §7.1), decoded in place from a
/// read buffer: chunk data is split off the buffer, never copied.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: Chunk,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self { state: Chunk::Size }
    }
}

impl ChunkedDecoder {
    /// Decodes what `buf` holds, removing what it used.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, ProtoError> {
        loop {
            match self.state {
                Chunk::Size => {
                    let Some(nl) = buf.iter().take(MAX_CHUNK_LINE).position(|&b| b == b'\n') else {
                        return if buf.len() >= MAX_CHUNK_LINE {
                            Err(ProtoError::BadChunk)
                        } else {
                            Ok(Decoded::NeedMore)
                        };
                    };
                    let size = chunk_size(&buf[..nl])?;
                    buf.advance(nl + 1);
                    self.state = if size == 0 { Chunk::Trailers } else { Chunk::Data(size) };
                }
                Chunk::Data(left) => {
                    if buf.is_empty() {
                        return Ok(Decoded::NeedMore);
                    }
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
                    let data = buf.split_to(n).freeze();
                    let left = left - n as u64;
                    self.state = if left == 0 { Chunk::DataEnd } else { Chunk::Data(left) };
                    return Ok(Decoded::Data(data));
                }
                Chunk::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(Decoded::NeedMore);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(ProtoError::BadChunk);
                    }
                    buf.advance(2);
                    self.state = Chunk::Size;
                }
                Chunk::Trailers => {
                    let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
                    match httparse::parse_headers(buf, &mut raw) {
                        Ok(httparse::Status::Complete((len, fields))) => {
                            // httparse also ends a line at a bare LF; a
                            // reader that ends lines at CRLF only (hyper's
                            // client) finds the end of the body elsewhere,
                            // so either could be right: refuse (RFC 9112
                            // §7.1.2 trailer lines end with CRLF). Found by
                            // the h1_differential fuzz target.
                            if has_bare_lf(&buf[..len]) {
                                return Err(ProtoError::BadChunk);
                            }
                            let mut trailers = HeaderMap::new();
                            for f in fields {
                                let name =
                                    HeaderName::from_bytes(f.name.as_bytes()).map_err(|_| ProtoError::BadField)?;
                                let value = HeaderValue::from_bytes(f.value).map_err(|_| ProtoError::BadField)?;
                                trailers.append(name, value);
                            }
                            buf.advance(len);
                            self.state = Chunk::Done;
                            if !trailers.is_empty() {
                                return Ok(Decoded::Trailers(trailers));
                            }
                        }
                        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Err(ProtoError::HeadTooLarge),
                        Ok(httparse::Status::Partial) => return Ok(Decoded::NeedMore),
                        Err(httparse::Error::TooManyHeaders) => return Err(ProtoError::TooManyHeaders),
                        Err(e) => return Err(ProtoError::Malformed(e)),
                    }
                }
                Chunk::Done => return Ok(Decoded::End),
            }
        }
    }
}

/// Whether a LF in `s` is not preceded by a CR.
fn has_bare_lf(s: &[u8]) -> bool {
    s.iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || s[i - 1] != b'\r'))
}

/// `chunk-size [ws] [; chunk-ext] CR` (the line up to its LF): 1 to 16 hex
/// digits; extensions are skipped but must be visible ASCII or whitespace.
fn chunk_size(line: &[u8]) -> Result<u64, ProtoError> {
    let Some((&b'\r', line)) = line.split_last() else {
        return Err(ProtoError::BadChunk);
    };
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 16 {
        return Err(ProtoError::BadChunk);
    }
    let rest = trim(&line[digits..]);
    if !(rest.is_empty() || rest[0] == b';' && rest.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))) {
        return Err(ProtoError::BadChunk);
    }
    let mut n = 0u64;
    for &d in &line[..digits] {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => d - b'A' + 10,
        };
        n = n << 4 | u64::from(v);
    }
    Ok(n)
}

#[cfg(test)]
mod tests;
