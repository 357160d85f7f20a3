//! `upstream_timeout` for every proxied request, without a tokio timer per
//! request.
//!
//! A tokio timer costs about a thousand instructions per request under
//! callgrind (registration in the timer wheel when the exchange first
//! waits, removal when it ends) — about 3% of a proxied request. The
//! upstream timeout is counted in whole seconds, so it needs no millisecond
//! precision: each worker keeps a slab of deadlines (a push and a pop per
//! request) and, while any is pending, one task wakes every [`TICK`] to
//! expire the overdue ones. A request times out between its deadline and
//! [`TICK`] later.
//!
//! Everything here is per thread: the slab is thread-local and the ticker
//! is spawned on the worker's own single-threaded runtime, which is also the
//! only place a [`Deadline`] is polled.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

/// How often pending deadlines are checked.
pub const TICK: Duration = Duration::from_millis(100);

/// The deadline passed before the future finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

struct Entry {
    deadline: Instant,
    waker: Option<Waker>,
    expired: bool,
}

#[derive(Default)]
struct Slab {
    entries: Vec<Option<Entry>>,
    free: Vec<usize>,
    live: usize,
    ticking: bool,
}

impl Slab {
    fn insert(&mut self, e: Entry) -> usize {
        self.live += 1;
        match self.free.pop() {
            Some(k) => {
                self.entries[k] = Some(e);
                k
            }
            None => {
                self.entries.push(Some(e));
                self.entries.len() - 1
            }
        }
    }

    fn remove(&mut self, k: usize) {
        if let Some(slot) = self.entries.get_mut(k) {
            if slot.take().is_some() {
                self.live -= 1;
                self.free.push(k);
            }
        }
    }
}

thread_local! {
    static SLAB: RefCell<Slab> = RefCell::new(Slab::default());
}

fn remove(k: usize) {
    // `try_with`: a future dropped while the thread is exiting.
    let _ = SLAB.try_with(|s| s.borrow_mut().remove(k));
}

pin_project! {
    /// A future bounded by a deadline (see the module documentation).
    pub struct Deadline<F> {
        #[pin]
        inner: F,
        timeout: Duration,
        key: Option<usize>,
    }

    impl<F> PinnedDrop for Deadline<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(k) = this.project().key.take() {
                remove(k);
            }
        }
    }
}

/// Runs `inner` until it finishes or `timeout` (rounded up to the next
/// [`TICK`]) passes. Must be polled inside a tokio runtime.
pub fn within<F: Future>(timeout: Duration, inner: F) -> Deadline<F> {
    Deadline {
        inner,
        timeout,
        key: None,
    }
}

impl<F: Future> Future for Deadline<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(v) = this.inner.poll(cx) {
            if let Some(k) = this.key.take() {
                remove(k);
            }
            return Poll::Ready(Ok(v));
        }
        match *this.key {
            None => {
                // First wait: the deadline starts now.
                let deadline = Instant::now() + *this.timeout;
                let start_ticker = SLAB.with(|s| {
                    let mut s = s.borrow_mut();
                    *this.key = Some(s.insert(Entry {
                        deadline,
                        waker: Some(cx.waker().clone()),
                        expired: false,
                    }));
                    !std::mem::replace(&mut s.ticking, true)
                });
                if start_ticker {
                    tokio::spawn(tick());
                }
                Poll::Pending
            }
            Some(k) => {
                let expired = SLAB.with(|s| {
                    let mut s = s.borrow_mut();
                    match s.entries.get_mut(k).and_then(Option::as_mut) {
                        Some(e) if e.expired => true,
                        Some(e) => {
                            match &e.waker {
                                Some(w) if w.will_wake(cx.waker()) => {}
                                _ => e.waker = Some(cx.waker().clone()),
                            }
                            false
                        }
                        None => true,
                    }
                });
                if expired {
                    *this.key = None;
                    remove(k);
                    Poll::Ready(Err(Elapsed))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

/// Expires overdue deadlines every [`TICK`] while any is pending, then
/// stops (the next registration starts it again).
async fn tick() {
    let mut wake = Vec::new();
    loop {
        tokio::time::sleep(TICK).await;
        let now = Instant::now();
        let done = SLAB.with(|s| {
            let mut s = s.borrow_mut();
            for e in s.entries.iter_mut().flatten() {
                if !e.expired && e.deadline <= now {
                    e.expired = true;
                    wake.extend(e.waker.take());
                }
            }
            if s.live == 0 {
                s.ticking = false;
                // Give the memory of a past burst back.
                s.entries.clear();
                s.free.clear();
                true
            } else {
                false
            }
        });
        // Outside the borrow: a waker may run code that touches the slab.
        for w in wake.drain(..) {
            w.wake();
        }
        if done {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn live() -> usize {
        SLAB.with(|s| s.borrow().live)
    }

    #[test]
    fn finishes_in_time_or_elapses_within_a_tick() {
        rt().block_on(async {
            let ok = within(Duration::from_secs(5), async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                7
            })
            .await;
            assert_eq!(ok, Ok(7));
            assert_eq!(live(), 0);

            let started = Instant::now();
            let late = within(Duration::from_millis(300), std::future::pending::<()>()).await;
            let took = started.elapsed();
            assert_eq!(late, Err(Elapsed));
            assert!(took >= Duration::from_millis(300), "{took:?}");
            assert!(took < Duration::from_millis(300) + TICK * 3, "{took:?}");
            assert_eq!(live(), 0);
        });
    }

    #[test]
    fn ready_futures_never_register() {
        rt().block_on(async {
            for i in 0..1000 {
                assert_eq!(within(Duration::from_secs(1), async move { i }).await, Ok(i));
            }
            assert_eq!(live(), 0);
            assert!(!SLAB.with(|s| s.borrow().ticking));
        });
    }

    #[test]
    fn many_concurrent_deadlines_and_drops() {
        rt().block_on(async {
            let local = tokio::task::LocalSet::new();
            local
                .run_until(async {
                    let mut handles = Vec::new();
                    for i in 0..200u64 {
                        handles.push(tokio::task::spawn_local(within(
                            Duration::from_millis(100 + (i % 4) * 100),
                            async move {
                                if i % 2 == 0 {
                                    tokio::time::sleep(Duration::from_millis(20)).await;
                                    Some(i)
                                } else {
                                    std::future::pending::<Option<u64>>().await
                                }
                            },
                        )));
                    }
                    // Dropped while registered: the slot goes back.
                    {
                        let dropped = within(Duration::from_secs(60), std::future::pending::<()>());
                        tokio::pin!(dropped);
                        assert!(futures_poll_once(dropped.as_mut()).await.is_none());
                    }
                    let mut ok = 0;
                    let mut late = 0;
                    for h in handles {
                        match h.await.unwrap() {
                            Ok(Some(_)) => ok += 1,
                            Err(Elapsed) => late += 1,
                            Ok(None) => unreachable!(),
                        }
                    }
                    assert_eq!((ok, late), (100, 100));
                    assert_eq!(live(), 0);
                })
                .await;
        });
    }

    async fn futures_poll_once<F: Future + Unpin>(mut f: F) -> Option<F::Output> {
        std::future::poll_fn(|cx| {
            Poll::Ready(match Pin::new(&mut f).poll(cx) {
                Poll::Ready(v) => Some(v),
                Poll::Pending => None,
            })
        })
        .await
    }
}
