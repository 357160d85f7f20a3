//! The worker threads that serve client connections: one single-threaded
//! tokio runtime per worker, nginx-style.
//!
//! The accept loop (on the main runtime, with the signals, the reload
//! watcher and the admin listener) hands each accepted connection to the
//! worker with the fewest open connections. From then on everything of
//! that connection runs on that one thread: its requests, the upstream
//! connections it opens (their driver tasks are spawned on the same
//! runtime) and the idle-connection stack they return to (the pool is
//! sharded by worker, see `crate::upstream`). No task hops threads and no
//! lock is contended on the request path; a work-stealing runtime spent
//! more CPU per proxied request on the same load (bench/notes.md).

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

thread_local! {
    static WORKER_ID: Cell<usize> = const { Cell::new(0) };
}

/// The index of the worker running the caller (0 outside the workers).
pub fn current_id() -> usize {
    WORKER_ID.with(Cell::get)
}

/// Makes the calling thread count as worker `id` (tests of per-worker state).
#[cfg(test)]
pub(crate) fn set_current_id(id: usize) {
    WORKER_ID.with(|w| w.set(id));
}

struct Worker {
    handle: Handle,
    open: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// The running workers.
pub struct Workers {
    workers: Vec<Worker>,
    next: AtomicUsize,
}

/// Counts a connection open on a worker until dropped.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Workers {
    /// Starts `n` worker threads (at least one). With `dispatch`, the
    /// workers' log events go to that subscriber instead of the global one.
    pub fn start(n: usize, dispatch: Option<tracing::Dispatch>) -> io::Result<Self> {
        let mut workers = Vec::with_capacity(n.max(1));
        for id in 0..n.max(1) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let handle = rt.handle().clone();
            let (stop, stopped) = oneshot::channel::<()>();
            let dispatch = dispatch.clone();
            let thread = std::thread::Builder::new()
                .name(format!("corsair-worker-{id}"))
                .spawn(move || {
                    WORKER_ID.with(|w| w.set(id));
                    let _logs = dispatch.as_ref().map(tracing::dispatcher::set_default);
                    // Drives every task spawned on this worker until told
                    // to stop; the tasks left then are dropped (their
                    // connections closed) with the runtime.
                    let _ = rt.block_on(stopped);
                    rt.shutdown_timeout(Duration::from_millis(100));
                })?;
            workers.push(Worker {
                handle,
                open: Arc::new(AtomicUsize::new(0)),
                stop: Some(stop),
                thread: Some(thread),
            });
        }
        Ok(Self {
            workers,
            next: AtomicUsize::new(0),
        })
    }

    /// How many workers run.
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// Runs the future made by `make` on the worker with the fewest open
    /// connections (ties broken round-robin), counting it as one open
    /// connection while it runs. `make` runs on the worker's thread, so it
    /// may register I/O objects with that worker's reactor.
    pub fn spawn<F, Fut>(&self, make: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let n = self.workers.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let mut best = start;
        let mut best_open = usize::MAX;
        for i in 0..n {
            let w = (start + i) % n;
            let open = self.workers[w].open.load(Ordering::Relaxed);
            if open < best_open {
                best = w;
                best_open = open;
            }
        }
        let worker = &self.workers[best];
        worker.open.fetch_add(1, Ordering::Relaxed);
        let open = Open(worker.open.clone());
        worker.handle.spawn(async move {
            let _open = open;
            // Built here, on the worker's thread, and polled only here (a
            // current-thread runtime never moves a task).
            make().await;
        });
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for w in &mut self.workers {
            if let Some(s) = w.stop.take() {
                let _ = s.send(());
            }
        }
        for w in &mut self.workers {
            if let Some(t) = w.thread.take() {
                let _ = t.join();
            }
        }
    }
}
