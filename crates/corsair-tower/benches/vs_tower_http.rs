//! corsair's tower layer against tower-http's `CorsLayer`, configured to the
//! same policy, on the same requests: time per request (criterion) and heap
//! allocations per request (a counting global allocator).
//!
//! Each shape's request is built once; every measured call gets a clone of
//! it, made outside the timed section, alike for both libraries (building a
//! request per iteration, 60 KB of commas included, would only evict caches).
//! The shapes, policy and services are in `shared/shapes.rs`, which
//! `bench/insn` (instruction counts) includes too.
//!
//! Run: `cargo bench -p corsair-tower --bench vs_tower_http`
//! (add `-- --quick` for a fast pass).

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::{Request, Response};
use tower_service::Service;

#[path = "shared/shapes.rs"]
mod shapes;

use shapes::{corsair_svc, now, origins, shapes, tower_http_svc, Body};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs_per_request<S>(mut svc: S, request: &Request<()>) -> u64
where
    S: Service<Request<()>, Response = Response<Body>, Error = Infallible>,
{
    const N: u64 = 1000;
    let mut total = 0;
    for _ in 0..N {
        let req = request.clone();
        ALLOCS.store(0, Ordering::SeqCst);
        COUNTING.store(true, Ordering::SeqCst);
        let resp = now(svc.call(req));
        COUNTING.store(false, Ordering::SeqCst);
        total += ALLOCS.load(Ordering::SeqCst);
        drop(black_box(resp));
    }
    total / N
}

fn bench(c: &mut Criterion) {
    let shapes = shapes();
    println!("\nheap allocations per request (middleware + response, request built beforehand)");
    println!("{:<34} {:>8} {:>11}", "shape", "corsair", "tower-http");
    for s in &shapes {
        let o = origins(s.origins);
        let a = allocs_per_request(corsair_svc(&o), &s.request);
        let b = allocs_per_request(tower_http_svc(&o), &s.request);
        println!("{:<34} {a:>8} {b:>11}", s.name);
    }
    println!();

    for s in &shapes {
        let o = origins(s.origins);
        let req = &s.request;
        let mut g = c.benchmark_group(s.name);
        let mut svc = corsair_svc(&o);
        g.bench_function("corsair", |b| {
            b.iter_batched(|| req.clone(), |req| now(svc.call(req)), BatchSize::SmallInput)
        });
        let mut svc = tower_http_svc(&o);
        g.bench_function("tower-http", |b| {
            b.iter_batched(|| req.clone(), |req| now(svc.call(req)), BatchSize::SmallInput)
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
