//! The axum app of the end-to-end suite (`e2e/run.sh`): the `[[policy]]`
//! tables of a corsair config file, each applied by its own
//! [`corsair_tower::CorsLayer`] to the requests its `path_prefix` (and
//! `hosts`) cover, the first that fits winning, as in `corsair serve`.
//!
//! ```text
//! cargo run -p corsair-tower --example e2e_app -- --config e2e.toml --listen 127.0.0.1:0
//! cargo run -p corsair-tower --example e2e_app -- --plain --listen 127.0.0.1:0
//! ```
//!
//! With `--plain` there is no layer at all: the app is only the recording
//! upstream, which the suite puts behind `corsair serve` (a node server cannot
//! be that upstream: its parser refuses the lowercase `patch` method that a
//! browser sends unchanged). With `--plain --reflect` it is the lazy service
//! a team wants to move away from: it reflects any `Origin` with
//! credentials, and grants every preflight what it asks for (the suite's
//! report-only part puts a report-only gateway in front of it).
//!
//! Prints `listening on ADDR` once bound. Behind the layers sits a recording
//! "upstream" that answers like the suite's node upstream: JSON body,
//! `X-Request-Id`, `X-Secret`, and CORS headers of its own (`*`) that the layer
//! must replace. Requests are counted twice, by `METHOD path?query`:
//! `seen` (everything that arrived, preflights included, counted outside the
//! layers) and `inner` (what reached the handler behind the layer).
//! `GET /__e2e/counts` returns both as JSON, `POST /__e2e/reset` clears them.
//! Neither is covered by a policy.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use corsair_tower::{Cors, CorsLayer};
use http::StatusCode;
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceExt};

#[derive(Default)]
struct Counts {
    seen: BTreeMap<String, u64>,
    inner: BTreeMap<String, u64>,
}

type Shared = Arc<Mutex<Counts>>;
type Inner = BoxCloneSyncService<Request, Response, Infallible>;

struct Route {
    name: String,
    hosts: Vec<String>,
    prefix: String,
    svc: Cors<Inner>,
}

fn key(req: &Request) -> String {
    let pq = req.uri().path_and_query().map_or("/", |p| p.as_str());
    format!("{} {}", req.method(), pq)
}

/// Segment-aware prefix, as `corsair serve` routes: `/api` covers `/api`,
/// `/api/x` and `/api?q`, not `/apix`.
fn has_prefix(path: &str, prefix: &str) -> bool {
    if prefix == "/" || prefix.is_empty() {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => prefix.ends_with('/') || rest.is_empty() || rest.starts_with(['/', '?']),
        None => false,
    }
}

fn covers(r: &Route, req: &Request) -> bool {
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.split(':').next().unwrap_or(h).to_ascii_lowercase());
    let host_ok = r.hosts.is_empty() || host.is_some_and(|h| r.hosts.contains(&h));
    host_ok && has_prefix(req.uri().path(), &r.prefix)
}

/// Reads the `[[policy]]` tables of a corsair config file, as the library
/// offers it (`corsair::PolicyFile`): each table's layer is named after it,
/// in its mode, with its cross-origin protection.
fn load(path: &str, inner: &Inner) -> Result<Vec<Route>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let file = corsair::PolicyFile::parse(&text).map_err(|e| format!("{path}: {e}"))?;
    if file.policies().is_empty() {
        return Err(format!("{path}: no [[policy]] table"));
    }
    Ok(file
        .into_policies()
        .into_iter()
        .map(|entry| Route {
            name: entry.name.clone(),
            hosts: entry.hosts.clone(),
            prefix: entry.path_prefix.clone(),
            svc: CorsLayer::from_policy_entry(entry).layer(inner.clone()),
        })
        .collect())
}

fn json_map(m: &BTreeMap<String, u64>) -> String {
    let body: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("\"{}\":{v}", k.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// The lazy answer: the request's `Origin` reflected with credentials, and
/// a preflight granted whatever it asks for.
fn reflecting(req: &Request, body: String) -> Response {
    let h = req.headers();
    let mut b = Response::builder()
        .status(if req.method() == http::Method::OPTIONS {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::OK
        })
        .header("content-type", "application/json");
    if let Some(o) = h.get("origin") {
        b = b
            .header("access-control-allow-origin", o.clone())
            .header("access-control-allow-credentials", "true");
        if let Some(m) = h.get("access-control-request-method") {
            b = b.header("access-control-allow-methods", m.clone());
        }
        if let Some(hs) = h.get("access-control-request-headers") {
            b = b.header("access-control-allow-headers", hs.clone());
        }
    }
    let body = if req.method() == http::Method::OPTIONS {
        Body::empty()
    } else {
        Body::from(body)
    };
    b.body(body).unwrap_or_else(|_| Response::new(Body::empty()))
}

fn usage() -> ! {
    eprintln!("usage: e2e_app (--config FILE | --plain [--reflect]) [--listen ADDR]");
    std::process::exit(2);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut config = None;
    let mut plain = false;
    let mut reflect = false;
    let mut listen = String::from("127.0.0.1:0");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--config" => config = Some(args.next().unwrap_or_else(|| usage())),
            "--listen" => listen = args.next().unwrap_or_else(|| usage()),
            "--plain" => plain = true,
            "--reflect" => reflect = true,
            _ => usage(),
        }
    }
    if plain == config.is_some() || (reflect && !plain) {
        usage();
    }

    let counts: Shared = Arc::default();
    let serial = Arc::new(AtomicU64::new(0));

    // The recording upstream behind the layers.
    let c = counts.clone();
    let inner: Inner = BoxCloneSyncService::new(tower::service_fn(move |req: Request| {
        let c = c.clone();
        let n = serial.fetch_add(1, Ordering::Relaxed) + 1;
        async move {
            let k = key(&req);
            *c.lock().unwrap().inner.entry(k.clone()).or_default() += 1;
            let body = format!("{{\"ok\":true,\"request\":\"{}\"}}", k.replace('"', "'"));
            if reflect {
                return Ok::<_, Infallible>(reflecting(&req, body));
            }
            let resp = Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .header("x-request-id", n.to_string())
                .header("x-secret", "s3cr3t")
                // Bogus CORS headers of the app's own: the layer must replace them.
                .header("access-control-allow-origin", "*")
                .header("access-control-allow-credentials", "true")
                .header("access-control-expose-headers", "x-secret")
                .body(Body::from(body))
                .unwrap();
            Ok::<_, Infallible>(resp)
        }
    }));

    let dispatch: Inner = match config {
        None => {
            eprintln!("e2e_app: plain recording upstream, no CORS layer");
            inner
        }
        Some(config) => {
            let routes = match load(&config, &inner) {
                Ok(r) => Arc::new(r),
                Err(e) => {
                    eprintln!("e2e_app: {e}");
                    std::process::exit(2);
                }
            };
            for r in routes.iter() {
                eprintln!("e2e_app: policy {:?} on {}", r.name, r.prefix);
            }
            BoxCloneSyncService::new(tower::service_fn(move |req: Request| {
                let routes = routes.clone();
                async move {
                    match routes.iter().find(|r| covers(r, &req)) {
                        Some(r) => r.svc.clone().oneshot(req).await,
                        None => Ok(Response::builder()
                            .status(StatusCode::NOT_FOUND)
                            .body(Body::from("no policy covers this path"))
                            .unwrap()),
                    }
                }
            }))
        }
    };

    let (c1, c2, c3) = (counts.clone(), counts.clone(), counts.clone());
    let app = Router::new()
        .route(
            "/__e2e/counts",
            get(move || async move {
                let c = c1.lock().unwrap();
                (
                    [("content-type", "application/json")],
                    format!("{{\"seen\":{},\"inner\":{}}}", json_map(&c.seen), json_map(&c.inner)),
                )
            }),
        )
        .route(
            "/__e2e/reset",
            post(move || async move {
                *c2.lock().unwrap() = Counts::default();
                "reset"
            }),
        )
        .fallback_service(dispatch)
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let c = c3.clone();
            async move {
                if !req.uri().path().starts_with("/__e2e/") {
                    *c.lock().unwrap().seen.entry(key(&req)).or_default() += 1;
                }
                next.run(req).await
            }
        }));

    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("e2e_app: cannot listen on {listen}: {e}");
            std::process::exit(1);
        }
    };
    println!("listening on {}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}
