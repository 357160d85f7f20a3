//! `corsair-bench-insn SHAPE LIB N MODE`: makes N clones of SHAPE's request,
//! then (MODE `call`) passes each through LIB's CORS layer around a handler
//! that answers at once, dropping the response, or (MODE `setup`) just drops
//! them. Under callgrind, (Ir(call) - Ir(setup)) / N is the cost of one
//! request through the middleware, response included. The policy, the
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

fn run<S>(mut svc: S, reqs: Vec<Request<()>>, call: bool)
where
    S: Service<Request<()>, Response = Response<Body>, Error = Infallible>,
{
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
        panic!("usage: corsair-bench-insn SHAPE corsair|tower-http N call|setup");
    };
    let n: usize = n.parse().expect("N");
    let Some(shape) = shapes().into_iter().find(|s| s.name == shape) else {
        panic!("unknown shape {shape}");
    };
    let o = origins(shape.origins);
    let reqs: Vec<Request<()>> = (0..n).map(|_| shape.request.clone()).collect();
    let call = mode == "call";
    match lib.as_str() {
        "corsair" => run(corsair_svc(&o), reqs, call),
        "tower-http" => run(tower_http_svc(&o), reqs, call),
        l => panic!("unknown lib {l}"),
    }
}
