//! `corsair-bench-insn SHAPE LIB N MODE`: makes N clones of SHAPE's request,
//! then (MODE `call`) passes each through LIB's CORS layer around a handler
//! that answers at once, dropping the response, or (MODE `setup`) just drops
//! them. Under callgrind, (Ir(call) - Ir(setup)) / N is the cost of one
//! request through the middleware, response included. MODE `outcome` passes
//! one request and prints the response's status and CORS headers as one JSON
//! object, so that the report can say where the two libraries answer the
//! same shape differently. The policy, the
//! services and the shapes are those of
//! crates/corsair-tower/benches/vs_tower_http.rs: both include
//! crates/corsair-tower/benches/shared/shapes.rs.

use std::convert::Infallible;
use std::hint::black_box;

use http::{Request, Response};
use tower_service::Service;

#[path = "../../../crates/corsair-tower/benches/shared/shapes.rs"]
mod shapes;

use shapes::{corsair_svc, now, origins, shapes, tower_http_svc, Body};

/// The response's status and its `Access-Control-*` and `Vary` headers
/// (repeated lines joined with ", "), as a JSON object.
fn outcome(resp: &Response<Body>) -> String {
    fn esc(s: &str) -> String {
        let mut o = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '"' => o.push_str("\\\""),
                '\\' => o.push_str("\\\\"),
                c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
                c => o.push(c),
            }
        }
        o
    }
    let mut names: Vec<&str> = resp
        .headers()
        .keys()
        .map(|n| n.as_str())
        .filter(|n| n.starts_with("access-control-") || *n == "vary")
        .collect();
    names.sort_unstable();
    let fields: Vec<String> = names
        .iter()
        .map(|n| {
            let v: Vec<String> = resp
                .headers()
                .get_all(*n)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            format!("\"{}\":\"{}\"", esc(n), esc(&v.join(", ")))
        })
        .collect();
    format!(
        "{{\"status\":{},\"headers\":{{{}}}}}",
        resp.status().as_u16(),
        fields.join(",")
    )
}

fn run<S>(mut svc: S, reqs: Vec<Request<()>>, mode: &str)
where
    S: Service<Request<()>, Response = Response<Body>, Error = Infallible>,
{
    if mode == "outcome" {
        for r in reqs.into_iter().take(1) {
            match now(svc.call(r)) {
                Ok(resp) => println!("{}", outcome(&resp)),
                Err(never) => match never {},
            }
        }
        return;
    }
    let call = mode == "call";
    if !call {
        drop(black_box(reqs));
        drop(black_box(svc));
        return;
    }
    for r in reqs {
        drop(black_box(now(svc.call(r))));
    }
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [shape, lib, n, mode] = &a[..] else {
        panic!("usage: corsair-bench-insn SHAPE corsair|tower-http N call|setup|outcome");
    };
    let n: usize = n.parse().expect("N");
    assert!(
        matches!(mode.as_str(), "call" | "setup" | "outcome"),
        "unknown mode {mode}: call, setup or outcome"
    );
    let Some(shape) = shapes().into_iter().find(|s| s.name == shape) else {
        panic!("unknown shape {shape}");
    };
    let o = origins(shape.origins);
    let reqs: Vec<Request<()>> = (0..n).map(|_| shape.request.clone()).collect();
    match lib.as_str() {
        "corsair" => run(corsair_svc(&o), reqs, mode),
        "tower-http" => run(tower_http_svc(&o), reqs, mode),
        l => panic!("unknown lib {l}"),
    }
}
