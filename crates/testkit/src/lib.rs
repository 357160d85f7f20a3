//! # corsair-testkit
//!
//! The one test kit of the corsair workspace (`publish = false`). Every
//! integration test of the gateway and the CLI builds on these parts, all
//! on 127.0.0.1 and on ports the kernel chose (bind port 0, read the
//! address back; nothing probes for a free port):
//!
//! - [`upstream::Upstream`]: the one test upstream, a hyper HTTP/1.1 server
//!   on its own thread that records every request; its default routes
//!   (`/gate`, `/stream`, `/upload`, `?acao`) serve the gateway tests, a
//!   handler closure serves the `check` and `audit` tests.
//! - [`raw`]: raw HTTP/1.1 over TCP, for tests that control every byte a
//!   client or a misbehaving upstream sends: [`raw::exchange`] and
//!   [`raw::read_response`], and [`raw::RawServer`], a loopback server
//!   whose connections a test scripts.
//! - [`client`]: a hyper client that reads whole responses ([`client::Got`]).
//! - [`gateway::TestGateway`]: a gateway running in-process on a thread of
//!   its own, bound to port 0 by the gateway itself (its address is read
//!   from [`corsair_gateway::Bound::local_addr`]), with its log captured.
//! - [`cli`]: a runner for the built `corsair` binary, and a `corsair serve`
//!   child process handed an already-bound listener by socket activation
//!   (so it is reachable the moment it is spawned; no log is read to learn
//!   its address).
//! - [`websocket`]: a minimal WebSocket client and a test upstream that
//!   records every handshake it receives.
//! - [`events::Recorder`]: a `tracing` layer that records every event, for
//!   tests of what the libraries log.
#![warn(missing_docs)]

pub mod cli;
pub mod client;
pub mod events;
pub mod gateway;
pub mod raw;
pub mod upstream;
pub mod websocket;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// Runs a test body with an overall deadline, panicking past it.
pub async fn bounded<F: Future<Output = ()>>(secs: u64, f: F) {
    if tokio::time::timeout(Duration::from_secs(secs), f).await.is_err() {
        panic!("test did not finish within {secs}s");
    }
}

/// A file of the kit's `fixtures/`: `cert.pem` and `key.pem` (a certificate
/// for `localhost` and 127.0.0.1), `ca.pem` (the CA that signed it).
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// Raises this process's soft limit on open files to its hard limit and
/// returns the new soft limit. Tests that open thousands of sockets call it
/// first, and fail loudly when the limit stays too low (never shrink the
/// test to fit).
pub fn raise_open_files_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid, exclusively borrowed rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        if lim.rlim_cur < lim.rlim_max {
            let want = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                lim = want;
            }
        }
    }
    lim.rlim_cur
}

/// A loopback address on which nothing accepts connections: a socket bound
/// to port 0 but not listening, so connecting to it is refused, and kept
/// bound (the port cannot be reused by anyone else) while the value lives
/// or until [`RefusingAddr::listen`].
pub struct RefusingAddr {
    socket: tokio::net::TcpSocket,
    addr: std::net::SocketAddr,
}

impl RefusingAddr {
    /// Binds the socket.
    pub fn new() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind("127.0.0.1:0".parse().expect("addr"))
            .expect("bind 127.0.0.1:0");
        let addr = socket.local_addr().expect("local addr");
        Self { socket, addr }
    }

    /// The address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts listening on the same socket: from now on connections to
    /// [`RefusingAddr::addr`] are accepted (a dead upstream coming back on
    /// its port, which nobody else could take meanwhile). Needs a tokio
    /// runtime.
    pub fn listen(self) -> tokio::net::TcpListener {
        self.socket.listen(1024).expect("listen on the refusing socket")
    }
}

impl Default for RefusingAddr {
    fn default() -> Self {
        Self::new()
    }
}
