//! The WebSocket counters: handshakes by outcome, tunnels open, bytes each
//! way, tunnels closed by reason. Not per worker: a handshake is rare next
//! to requests, and the byte counters are added once per read.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::header;
use crate::websocket::Refusal;

/// What became of a handshake the gateway did not refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handshake {
    /// The upstream answered 101: a tunnel.
    Upgraded,
    /// The upstream answered anything else (relayed).
    Declined,
    /// The upstream failed (502, 504).
    UpstreamError,
}

impl Handshake {
    const ALL: [Handshake; 3] = [Handshake::Upgraded, Handshake::Declined, Handshake::UpstreamError];

    fn as_str(self) -> &'static str {
        match self {
            Handshake::Upgraded => "upgraded",
            Handshake::Declined => "declined",
            Handshake::UpstreamError => "upstream_error",
        }
    }
}

/// Why a tunnel closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// The client ended its side first.
    Client,
    /// The upstream ended its side first.
    Upstream,
    /// No byte either way for `limits.websocket_idle_timeout`.
    Idle,
    /// Open for `limits.websocket_max_duration`.
    MaxDuration,
    /// The gateway shut down.
    Shutdown,
    /// Reading or writing either side failed (a reset), or the client's
    /// upgrade never completed.
    Error,
}

impl Close {
    const ALL: [Close; 6] = [
        Close::Client,
        Close::Upstream,
        Close::Idle,
        Close::MaxDuration,
        Close::Shutdown,
        Close::Error,
    ];

    /// A stable code for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Close::Client => "client_closed",
            Close::Upstream => "upstream_closed",
            Close::Idle => "idle_timeout",
            Close::MaxDuration => "max_duration",
            Close::Shutdown => "shutdown",
            Close::Error => "error",
        }
    }
}

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the client to the upstream.
    ToUpstream,
    /// From the upstream to the client.
    ToClient,
}

/// The counters.
#[derive(Debug, Default)]
pub struct WebSocketCounters {
    handshakes: [AtomicU64; Handshake::ALL.len()],
    refused: [AtomicU64; Refusal::ALL.len()],
    open: AtomicU64,
    to_upstream: AtomicU64,
    to_client: AtomicU64,
    closed: [AtomicU64; Close::ALL.len()],
}

impl WebSocketCounters {
    /// Counts a handshake the gateway forwarded.
    pub fn handshake(&self, h: Handshake) {
        if let Some(i) = Handshake::ALL.iter().position(|x| *x == h) {
            self.handshakes[i].fetch_add(1, Relaxed);
        }
    }

    /// Counts a handshake the gateway refused.
    pub fn refused(&self, r: Refusal) {
        if let Some(i) = Refusal::ALL.iter().position(|x| *x == r) {
            self.refused[i].fetch_add(1, Relaxed);
        }
    }

    /// Counts a tunnel opening.
    pub fn opened(&self) {
        self.open.fetch_add(1, Relaxed);
    }

    /// Counts a tunnel closing.
    pub fn closed(&self, c: Close) {
        self.open.fetch_sub(1, Relaxed);
        if let Some(i) = Close::ALL.iter().position(|x| *x == c) {
            self.closed[i].fetch_add(1, Relaxed);
        }
    }

    /// Counts bytes relayed.
    pub fn bytes(&self, d: Direction, n: u64) {
        match d {
            Direction::ToUpstream => self.to_upstream.fetch_add(n, Relaxed),
            Direction::ToClient => self.to_client.fetch_add(n, Relaxed),
        };
    }

    /// Tunnels open now.
    pub fn open(&self) -> u64 {
        self.open.load(Relaxed)
    }

    /// The Prometheus text of the counters.
    pub(super) fn render(&self, out: &mut String) {
        header(
            out,
            "corsair_websocket_handshakes_total",
            "counter",
            "WebSocket handshakes, by outcome: `upgraded` (101), `declined` (the upstream's other answer, relayed), \
             `upstream_error` (502, 504), or the reason code of the gateway's refusal (400, 403, 426).",
        );
        for (i, h) in Handshake::ALL.iter().enumerate() {
            let _ = writeln!(
                out,
                "corsair_websocket_handshakes_total{{outcome=\"{}\"}} {}",
                h.as_str(),
                self.handshakes[i].load(Relaxed)
            );
        }
        for (i, r) in Refusal::ALL.iter().enumerate() {
            let _ = writeln!(
                out,
                "corsair_websocket_handshakes_total{{outcome=\"{}\"}} {}",
                r.code(),
                self.refused[i].load(Relaxed)
            );
        }
        header(out, "corsair_websocket_open", "gauge", "WebSocket tunnels open now.");
        let _ = writeln!(out, "corsair_websocket_open {}", self.open.load(Relaxed));
        header(
            out,
            "corsair_websocket_bytes_total",
            "counter",
            "Bytes relayed through WebSocket tunnels, by direction.",
        );
        let _ = writeln!(
            out,
            "corsair_websocket_bytes_total{{direction=\"to_upstream\"}} {}",
            self.to_upstream.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "corsair_websocket_bytes_total{{direction=\"to_client\"}} {}",
            self.to_client.load(Relaxed)
        );
        header(
            out,
            "corsair_websocket_closed_total",
            "counter",
            "WebSocket tunnels closed, by reason: `client_closed`, `upstream_closed` (that side ended first), \
             `idle_timeout`, `max_duration`, `shutdown`, `error`.",
        );
        for (i, c) in Close::ALL.iter().enumerate() {
            let _ = writeln!(
                out,
                "corsair_websocket_closed_total{{reason=\"{}\"}} {}",
                c.as_str(),
                self.closed[i].load(Relaxed)
            );
        }
    }
}
