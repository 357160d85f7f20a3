//! `upstream_timeout` for every proxied request, without a tokio timer per
//! request.
//!
//! A tokio timer per request registers in the timer wheel when the exchange
//! first waits and is removed when it ends, a measurable share of a proxied
//! request (the figures are in bench/notes.md, "Stop 10"). The upstream
//! timeout is counted in whole seconds, so it needs no millisecond
//! precision: each worker keeps a slab of deadlines (a push and a pop per
//! request) and, while any is pending, one task wakes every [`TICK`] to
//! expire the overdue ones. A request times out between its deadline and
//! [`TICK`] later.
//!
//! The same slab serves hyper as its [`hyper::rt::Timer`] ([`CoarseTimer`])
//! for the HTTP/1.1 `header_read_timeout`: hyper arms that timer for every
//! request head, and in tokio's timer wheel that cost a boxed sleep, a
//! registration and a removal per request (bench/notes.md).
//!
//! Everything here is per thread: the slab is thread-local and the ticker
//! is spawned on the worker's own single-threaded runtime, which is also the
//! only place a [`Deadline`] or a [`CoarseSleep`] is polled. An entry
//! remembers its slab, so one dropped on another thread never touches that
//! thread's slab (it stays until its own thread's ticker expires it).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use hyper::rt::{Sleep, Timer};
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
    /// This thread's slab, told apart from other threads'.
    static SLAB_ID: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    };
}

/// A registered entry: its slot, in the slab of one thread.
#[derive(Debug, Clone, Copy)]
struct Key {
    slot: usize,
    slab: usize,
}

fn remove(k: Key) {
    // `try_with`: a future dropped while the thread is exiting.
    if SLAB_ID.try_with(|id| *id == k.slab).unwrap_or(false) {
        let _ = SLAB.try_with(|s| s.borrow_mut().remove(k.slot));
    }
}

/// Whether the deadline of `key` has passed: registers it (with the deadline
/// `deadline()`, and the ticker if it is not running) on the first call,
/// and keeps its waker current on the next ones. Once this returns `true`
/// the entry is gone and `key` is `None`.
fn poll_expired(key: &mut Option<Key>, deadline: impl FnOnce() -> Instant, cx: &mut Context<'_>) -> bool {
    let Some(k) = *key else {
        let deadline = deadline();
        debug_assert!(
            tokio::runtime::Handle::try_current().is_ok(),
            "polled outside a runtime"
        );
        let start_ticker = SLAB.with(|s| {
            let mut s = s.borrow_mut();
            let slot = s.insert(Entry {
                deadline,
                waker: Some(cx.waker().clone()),
                expired: false,
            });
            *key = Some(Key {
                slot,
                slab: SLAB_ID.with(|id| *id),
            });
            !std::mem::replace(&mut s.ticking, true)
        });
        if start_ticker {
            tokio::spawn(tick());
        }
        return false;
    };
    debug_assert_eq!(
        SLAB_ID.with(|id| *id),
        k.slab,
        "polled on another thread than registered"
    );
    let expired = SLAB.with(|s| {
        let mut s = s.borrow_mut();
        match s.entries.get_mut(k.slot).and_then(Option::as_mut) {
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
        *key = None;
        remove(k);
    }
    expired
}

pin_project! {
    /// A future bounded by a deadline (see the module documentation).
    pub struct Deadline<F> {
        #[pin]
        inner: F,
        timeout: Duration,
        key: Option<Key>,
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
        // The first wait starts the deadline.
        let timeout = *this.timeout;
        if poll_expired(this.key, || Instant::now() + timeout, cx) {
            Poll::Ready(Err(Elapsed))
        } else {
            Poll::Pending
        }
    }
}

/// hyper's [`Timer`] on the slab (see the module documentation): its
/// sleeps end between their deadline and [`TICK`] later. For the HTTP/1.1
/// connections of the workers only.
#[derive(Debug, Clone, Copy, Default)]
pub struct CoarseTimer;

impl Timer for CoarseTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(CoarseSleep {
            deadline,
            key: None,
            fired: false,
        })
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<CoarseSleep>() {
            Some(s) => s.get_mut().reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A sleep of [`CoarseTimer`]: registered in the slab when first polled.
#[derive(Debug)]
pub struct CoarseSleep {
    deadline: Instant,
    key: Option<Key>,
    fired: bool,
}

impl CoarseSleep {
    /// A sleep until `deadline`, registered when first polled; for the
    /// worker that polls it.
    pub(crate) fn new(deadline: Instant) -> Self {
        Self {
            deadline,
            key: None,
            fired: false,
        }
    }

    fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        self.fired = false;
        if let Some(k) = self.key.take() {
            remove(k);
        }
    }
}

impl Future for CoarseSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if !this.fired {
            let deadline = this.deadline;
            this.fired = poll_expired(&mut this.key, || deadline, cx);
        }
        if this.fired {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Sleep for CoarseSleep {}

impl Drop for CoarseSleep {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            remove(k);
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
    fn coarse_sleeps_fire_reset_and_deregister() {
        rt().block_on(async {
            let t = CoarseTimer;
            let started = Instant::now();
            t.sleep(Duration::from_millis(150)).await;
            let took = started.elapsed();
            assert!(
                took >= Duration::from_millis(150) && took < Duration::from_millis(150) + TICK * 3,
                "{took:?}"
            );
            assert_eq!(live(), 0);

            // Reset while registered: fires at the new deadline, not the old.
            let mut s = t.sleep_until(Instant::now() + Duration::from_secs(60));
            assert!(futures_poll_once(s.as_mut()).await.is_none());
            assert_eq!(live(), 1);
            let started = Instant::now();
            t.reset(&mut s, Instant::now() + Duration::from_millis(100));
            s.as_mut().await;
            assert!(started.elapsed() < Duration::from_secs(1));
            // Fired stays fired; a reset arms it again.
            assert!(futures_poll_once(s.as_mut()).await.is_some());
            t.reset(&mut s, Instant::now() + Duration::from_secs(60));
            assert!(futures_poll_once(s.as_mut()).await.is_none());
            assert_eq!(live(), 1);
            drop(s);
            assert_eq!(live(), 0, "a dropped sleep leaves the slab");
        });
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
