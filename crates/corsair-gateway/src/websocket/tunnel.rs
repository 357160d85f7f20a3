//! A WebSocket tunnel: bytes copied both ways between the client's upgraded
//! connection and the upstream's, until one side ends and the other has
//! followed, or a limit closes both:
//!
//! - `limits.websocket_idle_timeout`: no byte either way for that long (a
//!   ping from either side is a byte, so an application with heartbeats is
//!   never idle);
//! - `limits.websocket_max_duration`: open that long;
//! - shutdown ([`Watcher`]): once the drain starts, a tunnel closes as soon
//!   as no byte has moved for [`DRAIN_IDLE`] (nothing is in flight), and
//!   every tunnel still open closes when `limits.shutdown_grace` ends.
//!
//! When one side ends (EOF), the other side's write half is shut down and
//! the copy the other way goes on until that side ends too (the WebSocket
//! close handshake travels as ordinary bytes). Closing is closing the
//! sockets: the gateway does not read frames, so it sends no close frame of
//! its own (a client sees the connection end, code 1006, and reconnects).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::ops::metrics::websocket::{Close, Direction, WebSocketCounters};
use crate::runtime::drain::{Phase, Watcher};

/// During the drain, a tunnel with no byte moving for this long is closed:
/// nothing is in flight, and waiting longer only delays the shutdown.
pub const DRAIN_IDLE: Duration = Duration::from_secs(1);

/// The copy buffer of each direction (as tokio's `copy_bidirectional`): a
/// larger frame goes through in several reads.
const BUF: usize = 8 * 1024;

/// A tunnel's limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most time with no byte either way.
    pub idle: Duration,
    /// The most time open.
    pub max: Duration,
}

/// How a tunnel ended.
#[derive(Debug, Clone, Copy)]
pub struct Ended {
    /// Why.
    pub reason: Close,
    /// Bytes from the client to the upstream.
    pub to_upstream: u64,
    /// Bytes from the upstream to the client.
    pub to_client: u64,
    /// How long it was open.
    pub duration: Duration,
}

/// What both directions share: the last time a byte moved, which side
/// ended first, the bytes each way.
struct Activity<'a> {
    start: Instant,
    last_ms: AtomicU64,
    /// 0: neither side ended; 1: the client first; 2: the upstream first.
    first_end: AtomicU8,
    to_upstream: AtomicU64,
    to_client: AtomicU64,
    metrics: &'a WebSocketCounters,
}

impl Activity<'_> {
    fn idle_for(&self, now: Instant) -> Duration {
        let last = self.start + Duration::from_millis(self.last_ms.load(Relaxed));
        now.saturating_duration_since(last)
    }

    fn moved(&self, d: Direction, n: usize) {
        let n = n as u64;
        match d {
            Direction::ToUpstream => self.to_upstream.fetch_add(n, Relaxed),
            Direction::ToClient => self.to_client.fetch_add(n, Relaxed),
        };
        self.metrics.bytes(d, n);
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Relaxed);
    }
}

/// One end of the tunnel: what is read from it is counted as going the
/// other way, and its end is noted.
struct Side<'a, T> {
    io: T,
    /// Where the bytes read from this side go.
    dir: Direction,
    activity: &'a Activity<'a>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Side<'_, T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            let n = buf.filled().len() - before;
            if n == 0 {
                let me = match this.dir {
                    Direction::ToUpstream => 1,
                    Direction::ToClient => 2,
                };
                let _ = this.activity.first_end.compare_exchange(0, me, Relaxed, Relaxed);
            } else {
                this.activity.moved(this.dir, n);
            }
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Side<'_, T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Copies bytes between `client` and `upstream` until the tunnel ends (see
/// the module docs); counts them, and the tunnel, in `metrics`. Both
/// connections are closed when it returns.
pub async fn run<C, U>(client: C, upstream: U, limits: Limits, metrics: &WebSocketCounters, mut drain: Watcher) -> Ended
where
    C: AsyncRead + AsyncWrite + Unpin,
    U: AsyncRead + AsyncWrite + Unpin,
{
    metrics.opened();
    let activity = Activity {
        start: Instant::now(),
        last_ms: AtomicU64::new(0),
        first_end: AtomicU8::new(0),
        to_upstream: AtomicU64::new(0),
        to_client: AtomicU64::new(0),
        metrics,
    };
    let mut client = Side {
        io: client,
        dir: Direction::ToUpstream,
        activity: &activity,
    };
    let mut upstream = Side {
        io: upstream,
        dir: Direction::ToClient,
        activity: &activity,
    };
    let reason = {
        let copy = tokio::io::copy_bidirectional_with_sizes(&mut client, &mut upstream, BUF, BUF);
        tokio::pin!(copy);
        let closes_at = tokio::time::Instant::from_std(activity.start) + limits.max;
        let mut phase = drain.phase();
        loop {
            if phase == Phase::Closing {
                break Close::Shutdown;
            }
            let idle_limit = if phase == Phase::Draining {
                DRAIN_IDLE
            } else {
                limits.idle
            };
            let now = Instant::now();
            let idle = activity.idle_for(now);
            if idle >= idle_limit {
                break if phase == Phase::Draining {
                    Close::Shutdown
                } else {
                    Close::Idle
                };
            }
            let idle_at = tokio::time::Instant::from_std(now + (idle_limit - idle));
            tokio::select! {
                r = &mut copy => break match (r, activity.first_end.load(Relaxed)) {
                    (_, 1) => Close::Client,
                    (_, 2) => Close::Upstream,
                    _ => Close::Error,
                },
                () = tokio::time::sleep_until(idle_at) => {}
                () = tokio::time::sleep_until(closes_at) => break Close::MaxDuration,
                p = drain.changed() => phase = p,
            }
        }
    };
    metrics.closed(reason);
    Ended {
        reason,
        to_upstream: activity.to_upstream.load(Relaxed),
        to_client: activity.to_client.load(Relaxed),
        duration: activity.start.elapsed(),
    }
}
