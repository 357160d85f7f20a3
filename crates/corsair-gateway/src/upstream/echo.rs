//! The built-in echo upstream (`upstream = "builtin:echo"`): answers every
//! request with a JSON description of what it received (method, path,
//! query, headers, body size), so that CORS can be tried with curl or a
//! browser before any real service exists. It runs in-process, behind the
//! same forwarding code as a real upstream, so it shows exactly the headers
//! an upstream would receive.

use http::header::{self, HeaderValue};
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{json, Map, Value};

use crate::proxy::{full, Body};

/// Answers one request.
pub async fn respond(req: Request<Incoming>) -> Response<Body> {
    let (parts, mut body) = req.into_parts();
    // Count the body as it streams in; it is never held whole.
    let mut body_bytes: u64 = 0;
    let mut body_error = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Some(d) = f.data_ref() {
                    body_bytes += d.len() as u64;
                }
            }
            Err(e) => {
                body_error = Some(e.to_string());
                break;
            }
        }
    }
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(name.as_str()) {
            Some(Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(&v);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(v));
            }
        }
    }
    let mut doc = json!({
        "echo": "corsair builtin:echo",
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": headers,
        "body_bytes": body_bytes,
    });
    if let Some(e) = body_error {
        doc["body_error"] = Value::String(e);
    }
    let mut text = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    text.push(b'\n');
    let mut resp = Response::new(full(text));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
