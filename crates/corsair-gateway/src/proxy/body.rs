//! The gateway's response body type and the bodies it makes itself.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use tracing::debug;

/// The response body type of the gateway.
pub type Body = BoxBody<Bytes, BoxError>;

/// The error of a response body: the upstream's body broke off.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An error answered by the gateway itself (the caller applies the policy).
pub fn gateway_error(status: StatusCode, message: &'static str) -> Response<Body> {
    let mut resp = Response::new(full(message));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    debug!(status = status.as_u16(), "gateway error response");
    resp
}

/// A body as the gateway's, its error boxed.
pub(crate) fn boxed<B>(b: B) -> Body
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<BoxError>,
{
    b.map_err(Into::into).boxed()
}

/// An empty body.
pub fn empty() -> Body {
    Empty::<Bytes>::new().map_err(|never| match never {}).boxed()
}

/// A body of known bytes.
pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|never| match never {}).boxed()
}
