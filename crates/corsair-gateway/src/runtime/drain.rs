//! The shutdown of client connections, HTTP and WebSocket alike.
//!
//! Every client connection holds a [`Watcher`] from accept to close; an
//! upgraded connection's tunnel keeps it (hyper's connection ends when it
//! hands the socket over, so hyper-util's graceful shutdown, which watches
//! hyper's connections, would no longer see it). [`Drain::start`] tells
//! every watcher that shutdown began (HTTP connections finish their
//! in-flight request and close; tunnels close once idle),
//! [`Drain::close_now`] that the grace period is over (everything closes),
//! and [`Drain::finished`] resolves once no watcher is left.

use tokio::sync::watch;

/// Where the shutdown is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Serving as usual.
    Serving,
    /// Shutdown began: finish what is in flight, then close.
    Draining,
    /// The grace period is over: close now.
    Closing,
}

/// The sending side, kept by the gateway's run loop.
#[derive(Debug)]
pub struct Drain {
    tx: watch::Sender<Phase>,
}

impl Default for Drain {
    fn default() -> Self {
        Self {
            tx: watch::Sender::new(Phase::Serving),
        }
    }
}

impl Drain {
    /// A watcher for one more connection.
    pub fn watcher(&self) -> Watcher {
        Watcher {
            rx: self.tx.subscribe(),
        }
    }

    /// Shutdown begins.
    pub fn start(&self) {
        self.tx.send_replace(Phase::Draining);
    }

    /// The grace period is over.
    pub fn close_now(&self) {
        self.tx.send_replace(Phase::Closing);
    }

    /// Resolves once every watcher is gone.
    pub async fn finished(&self) {
        self.tx.closed().await;
    }
}

/// A connection's view of the shutdown; the connection counts as open
/// while it (or a clone) lives.
#[derive(Debug, Clone)]
pub struct Watcher {
    rx: watch::Receiver<Phase>,
}

impl Watcher {
    /// The phase now.
    pub fn phase(&self) -> Phase {
        *self.rx.borrow()
    }

    /// Resolves at the next change of phase (never, if the gateway is
    /// gone), and returns the new phase.
    pub async fn changed(&mut self) -> Phase {
        if self.rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
        self.phase()
    }
}
