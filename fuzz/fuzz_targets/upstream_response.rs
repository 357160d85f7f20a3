//! The gateway's reading of an upstream's HTTP/1.1 answer
//! (`corsair_gateway::upstream::h1`): arbitrary bytes as a response head, then as a chunked body,
//! each read whole and read in pieces of an arbitrary size. No panic; the
//! pieces decide exactly what the whole decides (a parser that depends on
//! where reads happen to end could read one response as two); what a head
//! says about framing is consistent (HEAD answers have no body, keep-alive
//! only on HTTP/1.1 with a delimited body); a chunked body yields no more
//! bytes than it was given.
#![no_main]

use bytes::BytesMut;
use corsair_gateway::upstream::h1::{self, ChunkedDecoder, Decoded, Framing, ProtoError, ResponseHead};
use http::Version;
use libfuzzer_sys::fuzz_target;

/// What a head parse decided, in comparable form.
type Head = Result<Option<(u16, Vec<(String, Vec<u8>)>, Framing, bool, Vec<u8>)>, ()>;

fn summary(r: Result<Option<ResponseHead>, ProtoError>, rest: &BytesMut) -> Head {
    match r {
        Ok(Some(h)) => Ok(Some((
            h.status.as_u16(),
            h.headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
                .collect(),
            h.framing,
            h.keep_alive,
            rest.to_vec(),
        ))),
        Ok(None) => Ok(None),
        Err(_) => Err(()),
    }
}

fn check_head(h: &ResponseHead, head_request: bool) {
    if head_request {
        assert_eq!(h.framing, Framing::Empty);
    }
    if h.keep_alive {
        assert_eq!(h.version, Version::HTTP_11);
        assert_ne!(h.framing, Framing::Close);
    }
    assert!(h.headers.len() <= h1::MAX_HEADERS);
}

/// Parses the head from `data` fed `step` bytes at a time, as reads would.
fn head_in_pieces(data: &[u8], step: usize, head_request: bool) -> Head {
    let mut buf = BytesMut::new();
    let mut fields = Vec::new();
    let mut fed = 0;
    loop {
        let n = step.min(data.len() - fed);
        buf.extend_from_slice(&data[fed..fed + n]);
        fed += n;
        match h1::parse_response_head(&mut buf, head_request, &mut fields) {
            Ok(None) if fed < data.len() => continue,
            Ok(Some(h)) => {
                check_head(&h, head_request);
                // The rest of the input is the body's.
                buf.extend_from_slice(&data[fed..]);
                return summary(Ok(Some(h)), &buf);
            }
            r => return summary(r, &buf),
        }
    }
}

/// Decodes a chunked body from `data` fed `step` bytes at a time: the
/// bytes, whether trailers came, and whether it ended (`Some(ok)`) or needs
/// more (`None`).
fn dechunk(data: &[u8], step: usize) -> (Vec<u8>, bool, Option<bool>) {
    let mut d = ChunkedDecoder::default();
    let mut buf = BytesMut::new();
    let (mut body, mut trailers) = (Vec::new(), false);
    let mut fed = 0;
    loop {
        match d.decode(&mut buf) {
            Ok(Decoded::Data(b)) => {
                assert!(!b.is_empty());
                body.extend_from_slice(&b);
            }
            Ok(Decoded::Trailers(t)) => {
                assert!(!t.is_empty());
                trailers = true;
            }
            Ok(Decoded::End) => return (body, trailers, Some(true)),
            Err(_) => return (body, trailers, Some(false)),
            Ok(Decoded::NeedMore) if fed == data.len() => return (body, trailers, None),
            Ok(Decoded::NeedMore) => {
                let n = step.min(data.len() - fed);
                buf.extend_from_slice(&data[fed..fed + n]);
                fed += n;
            }
        }
    }
}

fuzz_target!(|input: (u8, bool, &[u8])| {
    let (step, head_request, data) = input;
    let step = usize::from(step).max(1);

    let whole = head_in_pieces(data, data.len().max(1), head_request);
    let pieces = head_in_pieces(data, step, head_request);
    assert_eq!(whole, pieces, "the head depends on where reads end (step {step})");

    let (body, trailers, end) = dechunk(data, data.len().max(1));
    assert!(body.len() <= data.len());
    let (body2, trailers2, end2) = dechunk(data, step);
    // Errors may surface earlier or later in pieces (a bad byte is seen
    // when it arrives), but a body that ends must end the same way.
    if end == Some(true) || end2 == Some(true) {
        assert_eq!((&body, trailers, end), (&body2, trailers2, end2), "step {step}");
    } else {
        assert!(body2.starts_with(&body) || body.starts_with(&body2));
    }
});
