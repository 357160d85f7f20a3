//! The gateway's life: bind, run, reload, drain.
//!
//! [`Gateway::bind`] takes a validated [`Config`], starts the worker
//! threads (one single-threaded tokio runtime each, see [`workers`]), binds
//! the listener and the admin listener and returns a [`Bound`] gateway,
//! whose addresses are known at once ([`Bound::local_addr`]): connections
//! made from then on wait in the kernel's backlog until [`Bound::run`]
//! accepts them. `run` serves until its `shutdown` future resolves (or, with
//! [`Options::handle_signals`], SIGTERM or Ctrl-C), then stops accepting,
//! tells every open connection to finish (HTTP/1.1: after its in-flight
//! request; HTTP/2: GOAWAY), and waits up to `limits.shutdown_grace` for
//! them.
//!
//! `bind` and `run` must be called inside a tokio runtime with I/O and time
//! enabled; the accept loop, the admin listener and the reload watcher run
//! on it, the connections on the workers.

pub(crate) mod deadline;
pub(crate) mod drain;
pub(crate) mod signals;
pub(crate) mod workers;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::net::TcpListener;
use tracing::instrument::WithSubscriber;
use tracing::{info, warn};

use crate::config::{self, Config, ConfigFileError, Upstream};
use crate::listener;
use crate::ops::{admin, metrics, reload};
use crate::state::{self, Active, Shared};

/// Values that replace the config file's, on start and on every reload
/// (the command line's `--listen` and `--upstream`).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// Replaces `listen`.
    pub listen: Option<SocketAddr>,
    /// Replaces `upstream`.
    pub upstream: Option<Upstream>,
}

impl Overrides {
    /// Applies the overrides to a freshly loaded config.
    pub fn apply(&self, c: &mut Config) {
        if let Some(l) = self.listen {
            c.listen = l;
        }
        if let Some(u) = &self.upstream {
            c.upstream = u.clone();
        }
    }
}

/// How a gateway runs, beyond its [`Config`].
#[derive(Default)]
pub struct Options {
    listener: Option<std::net::TcpListener>,
    config_file: Option<PathBuf>,
    watch_config: bool,
    handle_signals: bool,
    overrides: Overrides,
    dispatch: Option<tracing::Dispatch>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("listener", &self.listener)
            .field("config_file", &self.config_file)
            .field("watch_config", &self.watch_config)
            .field("handle_signals", &self.handle_signals)
            .field("overrides", &self.overrides)
            .field("dispatch", &self.dispatch.is_some())
            .finish()
    }
}

impl Options {
    /// No config file, no signal handling, no overrides, logs to the global
    /// `tracing` subscriber.
    pub fn new() -> Self {
        Self::default()
    }

    /// The file the config was read from: [`Handle::reload`] and SIGHUP
    /// re-read it, and with `watch` it is re-read when its content changes
    /// (checked once a second).
    pub fn config_file(mut self, path: impl Into<PathBuf>, watch: bool) -> Self {
        self.config_file = Some(path.into());
        self.watch_config = watch;
        self
    }

    /// Whether the gateway handles the process's signals: SIGTERM and
    /// SIGINT shut it down (a second one ends the drain at once), SIGHUP
    /// reloads the config file. For the `corsair` binary; an embedding
    /// program usually keeps its signals and passes a `shutdown` future to
    /// [`Bound::run`].
    pub fn handle_signals(mut self, yes: bool) -> Self {
        self.handle_signals = yes;
        self
    }

    /// Serves on this already-bound listener instead of binding the
    /// config's `listen` address (socket activation, or a test that binds
    /// port 0 itself).
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Values that replace the file's on start and on every reload.
    pub fn overrides(mut self, overrides: Overrides) -> Self {
        self.overrides = overrides;
        self
    }

    /// Sends the gateway's log events to this subscriber instead of the
    /// global one (an embedding program's own, or a test's).
    pub fn log_to(mut self, dispatch: tracing::Dispatch) -> Self {
        self.dispatch = Some(dispatch);
        self
    }
}

/// Why a gateway could not start.
#[derive(Debug)]
pub enum StartError {
    /// The config failed to build (certificates that cannot be read…).
    Config(ConfigFileError),
    /// The worker threads or the upstream client could not be set up.
    Setup(&'static str, std::io::Error),
    /// An address could not be bound.
    Listen {
        /// Which key names the address (`listen` or `admin.listen`).
        key: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Config(e) => write!(f, "{}", e.to_string().trim_end()),
            StartError::Setup(what, e) => write!(f, "cannot start {what}: {e}"),
            StartError::Listen { key, addr, error } => write!(f, "cannot listen on {addr} ({key}): {error}"),
        }
    }
}

impl std::error::Error for StartError {}

/// The gateway.
#[derive(Debug)]
pub struct Gateway;

impl Gateway {
    /// Builds the run-time state of `config`, starts the workers and binds
    /// the listeners. Nothing is accepted until [`Bound::run`].
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// use corsair_gateway::{Config, Gateway, Options};
    ///
    /// let config = Config::parse(
    ///     r#"
    ///     listen = "127.0.0.1:0"
    ///     upstream = "http://127.0.0.1:3000"
    ///     [[policy]]
    ///     allow_origins = ["https://app.example.com"]
    ///     "#,
    ///     "inline",
    ///     None,
    /// )?;
    /// let gateway = Gateway::bind(config, Options::new()).await?;
    /// println!("listening on {}", gateway.local_addr());
    /// gateway
    ///     .run(async {
    ///         let _ = tokio::signal::ctrl_c().await;
    ///     })
    ///     .await;
    /// # Ok(()) }
    /// ```
    pub async fn bind(config: Config, options: Options) -> Result<Bound, StartError> {
        let dispatch = options.dispatch.clone();
        match dispatch {
            Some(d) => bind(config, options).with_subscriber(d).await,
            None => bind(config, options).await,
        }
    }
}

async fn bind(mut config: Config, mut options: Options) -> Result<Bound, StartError> {
    options.overrides.apply(&mut config);
    // The file's bytes as first read: the watcher compares against them.
    let initial_text = options
        .config_file
        .as_deref()
        .and_then(|p| std::fs::read(p).ok())
        .unwrap_or_default();
    let workers = workers::Workers::start(config.worker_count(), options.dispatch.clone())
        .map_err(|e| StartError::Setup("the worker threads", e))?;
    let listener_tls = config.tls.is_some();
    let metrics = metrics::Metrics::default();
    let rt = tokio::runtime::Handle::current();
    let active = Active::build(config, None, listener_tls, &metrics, workers.len(), &rt).map_err(StartError::Config)?;
    let cfg = active.config.clone();
    let listen_error = |error| StartError::Listen {
        key: "listen",
        addr: cfg.listen,
        error,
    };
    let listener = match options.listener.take() {
        Some(l) => {
            l.set_nonblocking(true).map_err(listen_error)?;
            TcpListener::from_std(l).map_err(listen_error)?
        }
        None => TcpListener::bind(cfg.listen).await.map_err(listen_error)?,
    };
    let admin_listener = match cfg.admin {
        None => None,
        Some(addr) => Some(TcpListener::bind(addr).await.map_err(|error| StartError::Listen {
            key: "admin.listen",
            addr,
            error,
        })?),
    };
    let local_addr = listener.local_addr().unwrap_or(cfg.listen);
    let admin_addr = admin_listener.as_ref().and_then(|l| l.local_addr().ok().or(cfg.admin));
    let shared = Shared::new(active, metrics, listener_tls, workers.len(), rt)
        .map_err(|e| StartError::Setup("the upstream client", e))?;
    let signals = options
        .handle_signals
        .then(|| (signals::Shutdown::register(), signals::Hangup::register()));

    let scheme = if listener_tls { "https" } else { "http" };
    info!(
        addr = %local_addr,
        url = %format!("{scheme}://{local_addr}"),
        config = %cfg.source,
        protocols = if listener_tls { "HTTP/1.1, HTTP/2 (ALPN)" } else { "HTTP/1.1, HTTP/2 (prior knowledge)" },
        "corsair gateway listening"
    );
    match &cfg.upstream {
        Upstream::Echo => info!(upstream = config::BUILTIN_ECHO, "proxying to the built-in echo service"),
        Upstream::Url(u) => info!(upstream = %u, "proxying to the upstream"),
    }
    state::log_policies(&cfg);
    let l = &cfg.limits;
    info!(workers = workers.len(), "worker threads");
    info!(
        header_read_timeout_s = l.header_read_timeout.as_secs(),
        upstream_timeout_s = l.upstream_timeout.as_secs(),
        max_header_bytes = l.max_header_bytes,
        max_connections = l.max_connections,
        shutdown_grace_s = l.shutdown_grace.as_secs(),
        "limits"
    );
    if let Some(a) = admin_addr {
        info!(addr = %a, endpoints = "GET /healthz, GET /metrics, GET /report", "admin listening");
    }
    if options.config_file.is_none() && cfg.upstream == Upstream::Echo {
        info!(
            "try it: curl -i -H 'Origin: http://localhost:3000' {scheme}://{local_addr}/hello \
             (corsair config default > corsair.toml to start your own config)"
        );
    }
    Ok(Bound {
        shared: Arc::new(shared),
        listener,
        admin_listener,
        local_addr,
        admin_addr,
        workers,
        options,
        initial_text,
        signals,
    })
}

/// A gateway whose listeners are bound, ready to [`run`](Bound::run).
pub struct Bound {
    shared: Arc<Shared>,
    listener: TcpListener,
    admin_listener: Option<TcpListener>,
    local_addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    workers: workers::Workers,
    options: Options,
    initial_text: Vec<u8>,
    signals: Option<(signals::Shutdown, signals::Hangup)>,
}

impl std::fmt::Debug for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bound")
            .field("local_addr", &self.local_addr)
            .field("admin_addr", &self.admin_addr)
            .finish_non_exhaustive()
    }
}

impl Bound {
    /// The address the gateway listens on (with its real port when the
    /// config asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The admin listener's address, when `[admin]` is configured.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// A handle to reload the config while the gateway runs.
    pub fn handle(&self) -> Handle {
        Handle {
            shared: self.shared.clone(),
            config_file: self.options.config_file.clone(),
            overrides: self.options.overrides.clone(),
            dispatch: self.options.dispatch.clone(),
        }
    }

    /// Serves until `shutdown` resolves (or a shutdown signal arrives, with
    /// [`Options::handle_signals`]), then drains: no new connection is
    /// accepted, in-flight requests get up to `limits.shutdown_grace` to
    /// finish, and the connections still open after that are closed.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let dispatch = self.options.dispatch.clone();
        match dispatch {
            Some(d) => self.run_inner(shutdown).with_subscriber(d).await,
            None => self.run_inner(shutdown).await,
        }
    }

    async fn run_inner(self, shutdown: impl Future<Output = ()>) {
        let Bound {
            shared,
            listener,
            admin_listener,
            workers,
            options,
            initial_text,
            signals,
            ..
        } = self;
        let (mut stop_signals, hangup) = match signals {
            Some((s, h)) => (Some(s), Some(h)),
            None => (None, None),
        };
        let admin_task =
            admin_listener.map(|al| tokio::spawn(admin::serve(al, shared.clone()).with_current_subscriber()));
        let reload_task = (options.watch_config || hangup.is_some()).then(|| {
            tokio::spawn(
                reload::watch(
                    shared.clone(),
                    options.config_file.clone(),
                    options.overrides.clone(),
                    initial_text,
                    options.watch_config,
                    hangup,
                )
                .with_current_subscriber(),
            )
        });

        let drain = drain::Drain::default();
        let stop = async {
            tokio::select! {
                () = shutdown => info!("shutdown requested"),
                name = next_signal(&mut stop_signals) => info!(signal = name, "shutdown requested"),
            }
        };
        let max_connections = shared.active().config.limits.max_connections;
        listener::accept_loop(listener, shared.clone(), &drain, &workers, max_connections, stop).await;

        // The listener is closed (dropped by the accept loop); drain.
        shared.draining.store(true, Ordering::SeqCst);
        if let Some(t) = reload_task {
            t.abort();
        }
        let grace = shared.active().config.limits.shutdown_grace;
        info!(
            open_connections = shared.metrics.open_connections(),
            open_websockets = shared.metrics.websocket.open(),
            grace_s = grace.as_secs(),
            "shutting down: draining in-flight requests"
        );
        drain.start();
        tokio::select! {
            drained = tokio::time::timeout(grace, drain.finished()) => match drained {
                Ok(()) => info!("drained; bye"),
                Err(_) => warn!(
                    open_connections = shared.metrics.open_connections(),
                    open_websockets = shared.metrics.websocket.open(),
                    "shutdown grace elapsed; closing the remaining connections"
                ),
            },
            name = next_signal(&mut stop_signals) => warn!(
                signal = name,
                open_connections = shared.metrics.open_connections(),
                open_websockets = shared.metrics.websocket.open(),
                "second signal: closing the remaining connections now"
            ),
        }
        // Whatever is left closes now (the WebSocket tunnels count their
        // close); what has not closed within CLOSE_WAIT is dropped with its
        // worker.
        drain.close_now();
        let _ = tokio::time::timeout(CLOSE_WAIT, drain.finished()).await;
        if let Some(t) = admin_task {
            t.abort();
        }
        // Connections still open are dropped with their workers; joining the
        // worker threads blocks, so not on this runtime's thread.
        let _ = tokio::task::spawn_blocking(move || drop(workers)).await;
    }
}

/// How long the connections left at the end of the drain get to close
/// once told to (each is one task on a worker, closing its sockets).
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// The next shutdown signal, or never without signal handling.
async fn next_signal(s: &mut Option<signals::Shutdown>) -> &'static str {
    match s {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

/// Reloads a running gateway's config.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
    config_file: Option<PathBuf>,
    overrides: Overrides,
    /// [`Options::log_to`]'s subscriber: a reload's log lines go where
    /// the gateway's do, whichever thread calls.
    dispatch: Option<tracing::Dispatch>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("config_file", &self.config_file)
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// Re-reads the config file (as SIGHUP does) and activates it, or
    /// refuses it and keeps the current one. May be called from any thread.
    pub fn reload(&self) -> Result<(), ConfigFileError> {
        match &self.config_file {
            Some(path) => self.logging(|| reload::reload_file(&self.shared, path, &self.overrides)),
            None => Err(ConfigFileError::single(
                std::path::Path::new("<no file>"),
                "the gateway was not started from a config file (Options::config_file)".to_owned(),
            )),
        }
    }

    /// Activates `config` (the overrides are not applied to it), or refuses
    /// it and keeps the current one. May be called from any thread.
    pub fn replace(&self, config: Config) -> Result<(), ConfigFileError> {
        self.logging(|| reload::apply(&self.shared, Ok(config)))
    }

    /// Runs `f` with the gateway's subscriber as the caller's default.
    fn logging<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.dispatch {
            Some(d) => tracing::dispatcher::with_default(d, f),
            None => f(),
        }
    }

    /// Whether the gateway has started shutting down.
    pub fn is_draining(&self) -> bool {
        self.shared.draining.load(Ordering::SeqCst)
    }
}
