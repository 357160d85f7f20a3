//! # corsair-gateway
//!
//! The corsair CORS gateway as a library: a reverse proxy that puts
//! [`corsair`] policies, written in TOML, in front of any HTTP service.
//! `corsair serve` is a thin caller of this crate; a program can embed the
//! gateway the same way, and the project's tests run it in-process.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use corsair_gateway::{Config, Gateway, Options};
//!
//! let config = Config::parse(
//!     r#"
//!     listen = "127.0.0.1:0"            # any free port
//!     upstream = "http://127.0.0.1:3000"
//!     [[policy]]
//!     allow_origins = ["https://app.example.com"]
//!     allow_methods = ["PUT"]
//!     "#,
//!     "inline config",
//!     None,
//! )?;
//! let gateway = Gateway::bind(config, Options::new()).await?;
//! let addr = gateway.local_addr(); // the real port
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let running = tokio::spawn(gateway.run(async {
//!     let _ = stopped.await;
//! }));
//! // … requests to `addr` …
//! # let _ = addr;
//! let _ = stop.send(());
//! running.await?; // drained
//! # Ok(()) }
//! ```
//!
//! The parts, one module each:
//! - [`config`]: the TOML file model, its validation (every problem at
//!   once, with the key) and the routing of a request to a policy;
//! - `listener`: accepting connections, TLS, HTTP/1.1 or HTTP/2, limits;
//! - `proxy`: one request: routing, the CORS decision, forwarding;
//! - [`upstream`]: the HTTP/1.1 codec, pool and exchange for `http://`
//!   upstreams, the hyper-based client for `https://` ones, the built-in
//!   echo service, and the project's one TLS client configuration;
//! - [`websocket`]: what a WebSocket handshake must be, whose origin may
//!   open one, and the tunnel behind it;
//! - `ops`: the admin listener (`/healthz`, `/metrics`), the metrics and
//!   config reload;
//! - `runtime`: [`Gateway`], the worker threads, signals and the drain.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
mod listener;
mod ops;
mod proxy;
mod runtime;
mod state;
pub mod upstream;
pub mod websocket;

pub use config::{Config, ConfigFileError, Limits, Problem, RoutedPolicy, Tls, Upstream, BUILTIN_ECHO, DEFAULT_CONFIG};
pub use runtime::{Bound, Gateway, Handle, Options, Overrides, StartError};
