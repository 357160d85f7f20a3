//! A hyper HTTP/1.1 client that reads whole responses, with a bound.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty};
use hyper::body::Body;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A response, fully read.
#[derive(Debug)]
pub struct Got {
    /// The status.
    pub status: StatusCode,
    /// The HTTP version.
    pub version: http::Version,
    /// The header fields.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Got {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value, `None` if absent (panics if repeated).
    pub fn header(&self, name: &str) -> Option<String> {
        let mut all = self.headers.get_all(name).iter();
        let first = all.next().map(|v| v.to_str().unwrap().to_owned());
        assert!(all.next().is_none(), "{name} is repeated: {:?}", self.headers);
        first
    }

    /// The Vary header's members, lowercase, in order (all lines).
    pub fn vary(&self) -> Vec<String> {
        self.headers
            .get_all("vary")
            .iter()
            .flat_map(|v| v.to_str().unwrap().split(','))
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// The request body type of [`client`].
pub type ClientBody = BoxBody<Bytes, Infallible>;

/// A pooled HTTP/1.1 client.
pub fn client() -> Client<HttpConnector, ClientBody> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Sends a request and reads the whole response (10 s limit).
pub async fn send(
    c: &Client<HttpConnector, ClientBody>,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Got, String> {
    let mut b = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b.body(Empty::new().boxed()).map_err(|e| e.to_string())?;
    let fut = async {
        let resp = c.request(req).await.map_err(|e| format!("{e:?}"))?;
        read(resp).await
    };
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .map_err(|_| "timed out".to_owned())?
}

/// Reads a whole response.
pub async fn read<B>(resp: Response<B>) -> Result<Got, String>
where
    B: Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.map_err(|e| format!("{e:?}"))?.to_bytes();
    Ok(Got {
        status: parts.status,
        version: parts.version,
        headers: parts.headers,
        body,
    })
}

/// One GET with a fresh client; panics on failure.
pub async fn get(url: &str, headers: &[(&str, &str)]) -> Got {
    send(&client(), "GET", url, headers)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}
