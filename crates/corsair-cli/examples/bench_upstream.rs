//! A tiny, fast HTTP/1.1 upstream for the gateway load benchmark
//! (`bench/run`): answers every request at once with a small JSON body, an
//! `x-request-id` and a permissive `access-control-allow-origin: *` that the
//! gateways in front must replace with their own policy's headers.
//!
//! Run: `cargo run --release -p corsair-cli --example bench_upstream -- 127.0.0.1:39080 [workers]`

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{HeaderValue, ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_TYPE};
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const BODY: &[u8] = b"{\"ok\":true}\n";

async fn answer(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut r = Response::new(Full::new(Bytes::from_static(BODY)));
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert("x-request-id", HeaderValue::from_static("bench-1"));
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(r)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:39080".to_owned())
        .parse()
        .expect("usage: bench_upstream ADDR [WORKERS]");
    let workers: usize = args.next().map_or(2, |w| w.parse().expect("WORKERS: a number"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = TcpListener::bind(addr).await.expect("bind");
        eprintln!("bench_upstream listening on http://{addr} ({workers} workers)");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(answer))
                    .await;
            });
        }
    });
}
