//! `corsair serve`: the CORS gateway, a reverse proxy that applies corsair
//! policies to any HTTP upstream.
//!
//! - [`state`]: the active config (an `Arc` swapped atomically on reload),
//!   the upstream client and the metrics, shared by every connection.
//! - [`conn`]: the listener: connection limit, TLS handshake, HTTP/1.1 or
//!   HTTP/2 (ALPN over TLS, prior knowledge in clear), header limits.
//! - [`proxy`]: one request: routing, the CORS decision, forwarding.
//! - [`deadline`]: `upstream_timeout` without a tokio timer per request.
//! - [`echo`]: the built-in echo upstream (`upstream = "builtin:echo"`).
//! - [`admin`]: `/healthz` and `/metrics` on their own listener.
//! - [`metrics`]: counters and the Prometheus text exposition.
//! - [`reload`]: SIGHUP and config-file changes.
//! - [`tls`]: PEM loading for the listener.
//! - [`upstream`]: the connection pool to an `http://` upstream.
//! - [`workers`]: the worker threads (one single-threaded runtime each)
//!   that serve connections.
//!
//! Shutdown (SIGTERM or Ctrl-C): the listener stops accepting, every open
//! connection is told to finish (HTTP/1.1: after its in-flight request;
//! HTTP/2: GOAWAY), and the process waits up to `limits.shutdown_grace` for
//! them before exiting 0.

mod admin;
mod conn;
mod deadline;
mod echo;
mod h1;
mod metrics;
mod proxy;
mod reload;
mod state;
mod tls;
mod upstream;
mod workers;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tracing::{info, warn};

use crate::config::{self, Config, ConfigFileError, Upstream};
use crate::LogFormat;
use state::{Active, Shared};

/// Command-line values that replace the file's, on start and on every reload.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    listen: Option<SocketAddr>,
    upstream: Option<Upstream>,
}

impl Overrides {
    fn from_args(args: &crate::ServeArgs) -> Result<Self, String> {
        let listen = match &args.listen {
            None => None,
            Some(l) => Some(
                l.parse::<SocketAddr>()
                    .map_err(|_| format!("--listen {l:?}: not an address such as `127.0.0.1:8080` or `[::1]:8443`"))?,
            ),
        };
        let upstream = match &args.upstream {
            None => None,
            Some(u) => Some(config::parse_upstream_value(u).map_err(|m| format!("--upstream {m}"))?),
        };
        Ok(Self { listen, upstream })
    }

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

/// Entry point of `corsair serve`.
pub fn run(args: crate::ServeArgs) -> ExitCode {
    init_logging(args.log_format);
    let overrides = match Overrides::from_args(&args) {
        Ok(o) => o,
        Err(m) => {
            eprintln!("corsair serve: {m}");
            return ExitCode::from(2);
        }
    };
    // The file's bytes as first read: the reload watcher compares against them.
    let initial_text = args.config.as_deref().and_then(|p| std::fs::read(p).ok());
    let loaded = match &args.config {
        Some(path) => config::load(path),
        None => config::embedded_default(),
    };
    let mut config = match loaded {
        Ok(c) => c,
        Err(e) => return config_error(&e),
    };
    overrides.apply(&mut config);
    // The main runtime runs the accept loop, signals, reloads and the admin
    // listener; connections run on the workers.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("corsair serve: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let workers = match workers::Workers::start(config.worker_count()) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("corsair serve: cannot start the worker threads: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(serve(
        config,
        args.config,
        overrides,
        initial_text.unwrap_or_default(),
        &workers,
    ));
    // Connections still open after the grace period are dropped here.
    drop(workers);
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}

fn config_error(e: &ConfigFileError) -> ExitCode {
    eprint!("{e}");
    ExitCode::FAILURE
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
    };
}

async fn serve(
    config: Config,
    path: Option<PathBuf>,
    overrides: Overrides,
    initial_text: Vec<u8>,
    workers: &workers::Workers,
) -> ExitCode {
    let listener_tls = config.tls.is_some();
    let metrics = metrics::Metrics::default();
    let active = match Active::build(config, None, listener_tls, &metrics, workers.len()) {
        Ok(a) => a,
        Err(e) => return config_error(&e),
    };
    let cfg = active.config.clone();
    let listener = match TcpListener::bind(cfg.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("corsair serve: cannot listen on {}: {e}", cfg.listen);
            return ExitCode::FAILURE;
        }
    };
    let admin_listener = match cfg.admin {
        None => None,
        Some(a) => match TcpListener::bind(a).await {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("corsair serve: cannot listen on {a} (admin.listen): {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let shared = match Shared::new(active, metrics, listener_tls, workers.len()) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("corsair serve: cannot set up the upstream client: {e}");
            return ExitCode::FAILURE;
        }
    };

    // Signal handlers first: a signal must never find the default action
    // (termination) once the gateway says it is listening.
    let mut signals = Signals::new();
    let hangup = reload::hangup_signal();

    let scheme = if listener_tls { "https" } else { "http" };
    let addr = listener.local_addr().unwrap_or(cfg.listen);
    info!(
        addr = %addr,
        url = %format!("{scheme}://{addr}"),
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
    let admin_task = admin_listener.map(|al| {
        if let Ok(a) = al.local_addr() {
            info!(addr = %a, endpoints = "GET /healthz, GET /metrics", "admin listening");
        }
        tokio::spawn(admin::serve(al, shared.clone()))
    });
    if path.is_none() && cfg.upstream == Upstream::Echo {
        info!(
            "try it: curl -i -H 'Origin: http://localhost:3000' {scheme}://{addr}/hello \
             (corsair config default > corsair.toml to start your own config)"
        );
    }
    let reload_task = tokio::spawn(reload::run(shared.clone(), path, overrides, initial_text, hangup));

    let graceful = GracefulShutdown::new();
    let stop = async {
        let name = signals.next().await;
        info!(signal = name, "shutdown requested");
    };
    conn::accept_loop(
        listener,
        shared.clone(),
        &graceful,
        workers,
        cfg.limits.max_connections,
        stop,
    )
    .await;

    // The listener is closed (dropped by the accept loop); drain.
    shared.draining.store(true, Ordering::SeqCst);
    reload_task.abort();
    let grace = shared.active().config.limits.shutdown_grace;
    info!(
        open_connections = shared.metrics.open_connections(),
        grace_s = grace.as_secs(),
        "shutting down: draining in-flight requests"
    );
    tokio::select! {
        drained = tokio::time::timeout(grace, graceful.shutdown()) => match drained {
            Ok(()) => info!("drained; bye"),
            Err(_) => warn!(
                open_connections = shared.metrics.open_connections(),
                "shutdown grace elapsed; closing the remaining connections"
            ),
        },
        name = signals.next() => warn!(
            signal = name,
            open_connections = shared.metrics.open_connections(),
            "second signal: closing the remaining connections now"
        ),
    }
    if let Some(t) = admin_task {
        t.abort();
    }
    ExitCode::SUCCESS
}

/// SIGTERM and Ctrl-C (SIGINT), registered as soon as the gateway starts.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let register = |kind: SignalKind, name: &str| match signal(kind) {
                Ok(s) => Some(s),
                Err(e) => {
                    warn!(error = %e, "cannot listen for {name}");
                    None
                }
            };
            Signals {
                term: register(SignalKind::terminate(), "SIGTERM"),
                int: register(SignalKind::interrupt(), "SIGINT"),
            }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    /// Waits for the next shutdown signal and names it.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                if let Some(s) = s {
                    if s.recv().await.is_some() {
                        return;
                    }
                }
                std::future::pending().await
            }
            tokio::select! {
                () = recv(&mut self.term) => "SIGTERM",
                () = recv(&mut self.int) => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            match tokio::signal::ctrl_c().await {
                Ok(()) => "Ctrl-C",
                Err(_) => std::future::pending().await,
            }
        }
    }
}
