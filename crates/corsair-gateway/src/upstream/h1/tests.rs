//! Unit tests of the parent module.

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
    // (`Remove` only removes).
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
        &[(&xf, SetField::Value(&v)), (&xg, SetField::Remove)],
        true,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "PUT / HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nx-a: 1\r\nx-a: 2\r\nx-f: mine\r\ntransfer-encoding: chunked\r\n\r\n"
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
fn a_101_is_final_only_for_an_upgrade_request_and_never_reused() {
    let raw = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
               Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nframe!";
    // Without an upgrade request: refused, as before.
    assert_eq!(head(raw, false).unwrap_err(), ProtoError::UnexpectedUpgrade);
    // With one: the final head; the frame behind it stays in the buffer.
    let mut buf = BytesMut::from(raw);
    let h = parse_upgrade_response_head(&mut buf, &mut Vec::new()).unwrap().unwrap();
    assert_eq!(h.status, StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(h.framing, Framing::Empty);
    assert!(!h.keep_alive);
    assert_eq!(&buf[..], b"frame!");
    // Cut anywhere in the head: not complete yet, nothing consumed.
    let head_len = raw.len() - 6;
    for cut in 0..head_len {
        let mut buf = BytesMut::from(&raw[..cut]);
        assert!(
            parse_upgrade_response_head(&mut buf, &mut Vec::new())
                .unwrap()
                .is_none(),
            "cut {cut}"
        );
        assert_eq!(buf.len(), cut);
    }
    // A 100 Continue before it is skipped; a 101 advertising a body has none.
    let mut buf = BytesMut::from(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nContent-Length: 5\r\n\r\nframe",
    );
    let h = parse_upgrade_response_head(&mut buf, &mut Vec::new()).unwrap().unwrap();
    assert_eq!((h.status.as_u16(), h.framing), (101, Framing::Empty));
    assert_eq!(&buf[..], b"frame");
}

#[test]
fn a_declined_upgrade_is_an_ordinary_answer_whose_connection_is_not_reused() {
    let raw = "HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno!";
    let mut buf = BytesMut::from(raw);
    let h = parse_upgrade_response_head(&mut buf, &mut Vec::new()).unwrap().unwrap();
    assert_eq!(
        (h.status.as_u16(), h.framing, h.keep_alive),
        (403, Framing::Length(3), false)
    );
    // The same head without the upgrade: reusable.
    assert!(head(raw, false).unwrap().unwrap().keep_alive);
    // Framing errors are the same errors.
    let mut bad = BytesMut::from("HTTP/1.1 400 Bad\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(
        parse_upgrade_response_head(&mut bad, &mut Vec::new()).unwrap_err(),
        ProtoError::LengthAndTransferEncoding
    );
}
