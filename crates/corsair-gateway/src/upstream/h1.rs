//! The HTTP/1.1 wire format of the gateway's upstream client, without I/O:
//! the request head it writes, the response head it reads (and what that
//! head says about the body's framing and the connection's reuse), and the
//! chunked transfer coding. [`super::pool`] drives these over a socket;
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
    /// `101 Switching Protocols`: the gateway never asks for an upgrade.
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
    /// One line whose value is these pieces, concatenated (written
    /// straight into the head: no per-request header value is allocated).
    Parts(&'a [&'a [u8]]),
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
            SetField::Parts(parts) => {
                out.extend_from_slice(name.as_str().as_bytes());
                out.extend_from_slice(b": ");
                for p in *parts {
                    out.extend_from_slice(p);
                }
                out.extend_from_slice(b"\r\n");
            }
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
        if (100..200).contains(&code) {
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
mod tests {
    use super::*;

    fn head(raw: &str, head_request: bool) -> Result<Option<ResponseHead>, ProtoError> {
        parse_response_head(&mut BytesMut::from(raw), head_request, &mut Vec::new())
    }

    fn framing_of(raw: &str) -> Result<Framing, ProtoError> {
        Ok(head(raw, false)?.expect("complete head").framing)
    }

    #[test]
    fn request_heads_are_written_in_origin_form_with_the_upstream_host() {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("client.example"));
        h.insert("content-length", HeaderValue::from_static("5"));
        h.append("x-a", HeaderValue::from_static("1"));
        h.append("x-a", HeaderValue::from_static("2"));
        let host = HeaderValue::from_static("127.0.0.1:8080");
        h.insert("x-f", HeaderValue::from_static("spoofed"));
        h.insert("x-g", HeaderValue::from_static("spoofed"));
        let mut out = Vec::new();
        encode_request_head(&mut out, &Method::POST, "/p?q=1", &host, &h, &[], false);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST /p?q=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\ncontent-length: 5\r\nx-a: 1\r\nx-a: 2\r\n\
             x-f: spoofed\r\nx-g: spoofed\r\n\r\n"
        );
        // Replaced names: the map's values go, the given ones are written
        // (`Remove` only removes; `Parts` are concatenated).
        let (xf, xg, v) = (
            HeaderName::from_static("x-f"),
            HeaderName::from_static("x-g"),
            HeaderValue::from_static("mine"),
        );
        let mut out = Vec::new();
        encode_request_head(
            &mut out,
            &Method::PUT,
            "/",
            &host,
            &h,
            &[
                (&xf, SetField::Value(&v)),
                (&xg, SetField::Remove),
                (&header::FORWARDED, SetField::Parts(&[b"for=1.2.3.4", b";host=\"a\""])),
            ],
            true,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "PUT / HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nx-a: 1\r\nx-a: 2\r\nx-f: mine\r\n\
             forwarded: for=1.2.3.4;host=\"a\"\r\ntransfer-encoding: chunked\r\n\r\n"
        );
    }

    #[test]
    fn a_head_parses_at_every_cut_and_keeps_the_body_bytes() {
        let raw = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n\
                   HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-A: 1\r\nx-a: 2\r\n\r\nbody";
        for cut in 0..raw.len() - 4 {
            let mut buf = BytesMut::from(&raw[..cut]);
            // Incomplete: nothing decided, and (past the interim head) only
            // the interim head consumed.
            assert!(
                parse_response_head(&mut buf, false, &mut Vec::new()).unwrap().is_none(),
                "cut {cut}"
            );
            buf.extend_from_slice(&raw.as_bytes()[cut..]);
            let h = parse_response_head(&mut buf, false, &mut Vec::new()).unwrap().unwrap();
            assert_eq!(h.status, 200);
            assert_eq!(h.framing, Framing::Length(4));
            assert!(h.keep_alive);
            let xa: Vec<_> = h.headers.get_all("x-a").iter().collect();
            assert_eq!(xa, ["1", "2"]);
            assert!(h.headers.get("link").is_none(), "interim fields are not kept");
            assert_eq!(&buf[..], b"body");
        }
    }

    #[test]
    fn framing_follows_rfc_9112() {
        assert_eq!(
            framing_of("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
            Ok(Framing::Length(0))
        );
        assert_eq!(
            framing_of("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n"),
            Ok(Framing::Length(7))
        );
        assert_eq!(
            framing_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framing_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n"),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framing_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"),
            Ok(Framing::Close)
        );
        assert_eq!(framing_of("HTTP/1.1 200 OK\r\n\r\n"), Ok(Framing::Close));
        assert_eq!(
            framing_of("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"),
            Ok(Framing::Empty)
        );
        assert_eq!(
            framing_of("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"),
            Ok(Framing::Empty)
        );
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true)
            .unwrap()
            .unwrap();
        assert_eq!(h.framing, Framing::Empty);
        assert_eq!(h.headers["content-length"], "10", "kept for the client");
        for bad in [
            "Content-Length: abc",
            "Content-Length: -1",
            "Content-Length: +1",
            "Content-Length: ",
            "Content-Length: 1 2",
            "Content-Length: 99999999999999999999",
            "Content-Length: 2\r\nContent-Length: 3",
            "Content-Length: 2, 3",
        ] {
            let raw = format!("HTTP/1.1 200 OK\r\n{bad}\r\n\r\n");
            assert_eq!(framing_of(&raw), Err(ProtoError::BadContentLength), "{bad}");
        }
        assert_eq!(
            framing_of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(ProtoError::LengthAndTransferEncoding)
        );
        assert_eq!(
            framing_of("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(ProtoError::TransferEncodingOnHttp10)
        );
    }

    #[test]
    fn a_transfer_encoding_outside_visible_ascii_is_refused() {
        // hyper's client reads these as no transfer coding (a body up to the
        // close), a byte-wise reader as chunked: two different ends.
        let with_te = |te: &[u8]| {
            let mut raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: ".to_vec();
            raw.extend_from_slice(te);
            raw.extend_from_slice(b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
            parse_response_head(&mut BytesMut::from(&raw[..]), false, &mut Vec::new()).map(|h| h.map(|h| h.framing))
        };
        for te in [&b"\x80, chunked"[..], b"gzip\xff, chunked", b"chunked\xe9"] {
            assert_eq!(with_te(te), Err(ProtoError::BadTransferEncoding), "{te:?}");
        }
        assert_eq!(with_te(b"gzip,\tchunked"), Ok(Some(Framing::Chunked)));
        assert_eq!(
            framing_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: \u{e9}\r\n\r\n"),
            Err(ProtoError::BadTransferEncoding),
            "any line"
        );
        // An answer without a body (204) is not framed by it.
        assert_eq!(
            framing_of("HTTP/1.1 204 No Content\r\nTransfer-Encoding: \u{e9}\r\n\r\n"),
            Ok(Framing::Empty)
        );
    }

    #[test]
    fn bodyless_answers_that_advertise_a_body_end_the_connection() {
        let ka = |raw: &str, head_request: bool| head(raw, head_request).unwrap().unwrap().keep_alive;
        // The answer's end cannot be verified: never reused.
        assert!(!ka("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true));
        assert!(!ka("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true));
        assert!(!ka("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false));
        assert!(!ka("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false));
        assert!(!ka(
            "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
            false
        ));
        assert!(!ka("HTTP/1.1 304 Not Modified\r\nContent-Length: 0, 1\r\n\r\n", false));
        // Nothing advertised, or a zero length: the end is where the head ends.
        assert!(ka("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true));
        assert!(ka("HTTP/1.1 200 OK\r\n\r\n", true));
        assert!(ka("HTTP/1.1 204 No Content\r\n\r\n", false));
        assert!(ka("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", false));
        assert!(ka("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", false));
    }

    #[test]
    fn only_http_1_1_without_close_keeps_the_connection() {
        let ka = |raw: &str| head(raw, false).unwrap().unwrap().keep_alive;
        assert!(ka("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(ka(
            "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(!ka(
            "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(!ka(
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(!ka("HTTP/1.1 200 OK\r\n\r\n"), "close-delimited");
    }

    #[test]
    fn bad_heads_are_errors() {
        assert!(matches!(
            head("HELLO THERE\r\n\r\n", false),
            Err(ProtoError::Malformed(_))
        ));
        assert!(matches!(
            head("HTTP/1.1 200 OK\r\nX Bad: y\r\n\r\n", false),
            Err(ProtoError::Malformed(_))
        ));
        assert!(matches!(
            head("HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n", false),
            Err(ProtoError::Malformed(_))
        ));
        assert!(
            matches!(
                head("HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n", false),
                Err(ProtoError::Malformed(_))
            ),
            "obs-fold"
        );
        assert!(matches!(
            head("HTTP/2 200 OK\r\n\r\n", false),
            Err(ProtoError::Malformed(_))
        ));
        assert_eq!(
            head("HTTP/1.1 101 Switching Protocols\r\n\r\n", false).unwrap_err(),
            ProtoError::UnexpectedUpgrade
        );
        let many: String = (0..=MAX_HEADERS).map(|i| format!("x-{i}: 1\r\n")).collect();
        assert_eq!(
            head(&format!("HTTP/1.1 200 OK\r\n{many}\r\n"), false).unwrap_err(),
            ProtoError::TooManyHeaders
        );
        let enough: String = (0..MAX_HEADERS).map(|i| format!("x-{i}: 1\r\n")).collect();
        assert_eq!(
            head(&format!("HTTP/1.1 200 OK\r\n{enough}\r\n"), false)
                .unwrap()
                .unwrap()
                .headers
                .len(),
            MAX_HEADERS
        );
        // Too large, complete or not.
        let big = format!("HTTP/1.1 200 OK\r\nX-Big: {}\r\n", "b".repeat(MAX_HEAD));
        assert_eq!(head(&big, false).unwrap_err(), ProtoError::HeadTooLarge);
        assert_eq!(
            head(&format!("{big}\r\n"), false).unwrap_err(),
            ProtoError::HeadTooLarge
        );
        // Endless interim heads count toward the limit too.
        let interim = "HTTP/1.1 100 Continue\r\n\r\n".repeat(MAX_HEAD / 20);
        let mut buf = BytesMut::from(interim.as_str());
        assert!(
            matches!(parse_response_head(&mut buf, false, &mut Vec::new()), Ok(None)),
            "interim heads are consumed"
        );
        assert!(buf.is_empty());
    }

    /// Decodes all of `wire` fed in pieces of `step` bytes.
    fn dechunk(wire: &[u8], step: usize) -> Result<(Vec<u8>, Option<HeaderMap>, usize), ProtoError> {
        let mut d = ChunkedDecoder::default();
        let mut buf = BytesMut::new();
        let (mut body, mut trailers) = (Vec::new(), None);
        let mut fed = 0;
        loop {
            match d.decode(&mut buf)? {
                Decoded::Data(b) => body.extend_from_slice(&b),
                Decoded::Trailers(t) => trailers = Some(t),
                Decoded::End => return Ok((body, trailers, buf.len())),
                Decoded::NeedMore if fed == wire.len() => return Err(ProtoError::BadChunk),
                Decoded::NeedMore => {
                    let n = step.min(wire.len() - fed);
                    buf.extend_from_slice(&wire[fed..fed + n]);
                    fed += n;
                }
            }
        }
    }

    #[test]
    fn chunked_bodies_decode_at_every_cut() {
        let wire = b"5;name=value\r\nhello\r\nA \r\n, chunked!\r\n1\r\n \r\n000\r\nX-T: 1\r\n\r\nNEXT";
        for step in 1..wire.len() {
            let (body, trailers, left) = dechunk(wire, step).unwrap();
            assert_eq!(body, b"hello, chunked! ", "step {step}");
            assert_eq!(trailers.unwrap()["x-t"], "1");
            // Bytes after the body stay in the buffer (the caller refuses
            // to reuse a connection that has any).
            assert!(left <= 4);
        }
        let (body, trailers, _) = dechunk(b"0\r\n\r\n", 1).unwrap();
        assert!(body.is_empty() && trailers.is_none());
    }

    #[test]
    fn broken_chunked_bodies_are_errors() {
        for bad in [
            &b"zz\r\nhello\r\n0\r\n\r\n"[..],
            b"\r\nhello\r\n0\r\n\r\n",
            b"fffffffffffffffff\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"5 5\r\nhello\r\n0\r\n\r\n",
            b"5;\x01\r\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"-5\r\nhello\r\n0\r\n\r\n",
            b"0x5\r\nhello\r\n0\r\n\r\n",
            b"5\r\nhello\r\n0\r\nX Bad: 1\r\n\r\n",
            // Trailer lines end with CRLF: httparse would end them (and the
            // body) at a bare LF, hyper's client at the next CRLF CRLF.
            b"5\r\nhello\r\n0\r\n\n",
            b"5\r\nhello\r\n0\r\nX-T: 1\n\n",
            b"5\r\nhello\r\n0\r\nX-T: 1\nX-U: 2\r\n\r\n",
            b"5\r\nhello\r\n0\r\nX-T: 1\r\n\n",
        ] {
            assert!(dechunk(bad, 1).is_err(), "{}", String::from_utf8_lossy(bad));
            assert!(dechunk(bad, bad.len()).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        // An endless chunk-size line is cut off.
        let long = vec![b'0'; MAX_CHUNK_LINE + 1];
        assert_eq!(dechunk(&long, long.len()).unwrap_err(), ProtoError::BadChunk);
        let mut ext = b"5;".to_vec();
        ext.extend(std::iter::repeat_n(b'e', MAX_CHUNK_LINE));
        assert_eq!(dechunk(&ext, 64).unwrap_err(), ProtoError::BadChunk);
        // 16 digits is the most, and large sizes are fine.
        let mut d = ChunkedDecoder::default();
        let mut buf = BytesMut::from(&b"000000000000000f\r\nabc"[..]);
        assert_eq!(d.decode(&mut buf).unwrap(), Decoded::Data(Bytes::from_static(b"abc")));
        assert_eq!(d.decode(&mut buf).unwrap(), Decoded::NeedMore);
    }
}
