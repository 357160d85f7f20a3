//! What every connection shares: the active config, the upstream client and
//! the metrics.
//!
//! The active config is an `Arc<Active>` behind a `RwLock` that is held only
//! long enough to clone the `Arc`: a request reads it once and keeps that
//! snapshot to the end, so a reload never changes the rules under a request
//! in flight, and readers never wait for a reload (the new config is built
//! before the write lock is taken).
//!
//! Each worker thread keeps its own handle on the active config, refreshed
//! when a reload bumps the generation: taking a request's snapshot touches
//! only memory of the calling thread (the lock word and the shared `Arc`'s
//! count, written by every request, would bounce between the cores).

use std::cell::RefCell;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

use crate::config::{Config, ConfigFileError, Upstream};
use crate::listener::tls;
use crate::ops::metrics::{Metrics, PolicyCounters};
use crate::upstream::pool::Http1Pool;

/// One validated config with everything derived from it.
pub struct Active {
    /// The config.
    pub config: Arc<Config>,
    /// Counters of each policy, in the order of `config.policies`.
    pub counters: Vec<Arc<PolicyCounters>>,
    /// The TLS acceptor when the listener speaks TLS (certificates are
    /// re-read on every reload).
    pub tls: Option<TlsAcceptor>,
    /// The connection pool when the upstream is a URL (kept across reloads
    /// that change neither the upstream nor `upstream_ca`).
    pub http1: Option<Arc<Http1Pool>>,
}

impl Active {
    /// Derives the run-time state of `config`. `previous` is the state it
    /// replaces (on reload); `listener_tls` whether the listener was started
    /// with TLS (adding or removing `[tls]` needs a restart).
    pub fn build(
        config: Config,
        previous: Option<&Active>,
        listener_tls: bool,
        metrics: &Metrics,
        workers: usize,
        rt: &tokio::runtime::Handle,
    ) -> Result<Self, ConfigFileError> {
        let tls = match (&config.tls, listener_tls) {
            (Some(t), true) => Some(tls::acceptor(t, &config.source)?),
            (None, false) => None,
            (Some(_), false) => {
                warn!("[tls] was added: it takes effect after a restart; still serving plain HTTP");
                None
            }
            (None, true) => {
                warn!("[tls] was removed: it takes effect after a restart; keeping the current certificate");
                previous.and_then(|p| p.tls.clone())
            }
        };
        if let Some(p) = previous {
            let old = &p.config;
            if old.listen != config.listen {
                warn!(from = %old.listen, to = %config.listen, "`listen` changed: it takes effect after a restart");
            }
            if old.admin != config.admin {
                warn!("`admin.listen` changed: it takes effect after a restart");
            }
            if old.workers != config.workers {
                warn!("`workers` changed: it takes effect after a restart");
            }
            if old.limits.max_connections != config.limits.max_connections {
                warn!("`limits.max_connections` changed: it takes effect after a restart");
            }
        }
        let counters = config
            .policies
            .iter()
            .map(|p| metrics.policy(&p.name, p.mode))
            .collect();
        let http1 = match &config.upstream {
            Upstream::Url(u) => match previous {
                Some(p)
                    if p.config.upstream == config.upstream
                        && p.config.upstream_ca == config.upstream_ca
                        && p.http1.is_some() =>
                {
                    p.http1.clone()
                }
                _ => {
                    let tls = match u.scheme_str() {
                        Some("https") => Some(
                            crate::upstream::tls_connector(config.upstream_ca.as_deref())
                                .map_err(|m| ConfigFileError::one(&config.source, "upstream_ca", m))?,
                        ),
                        _ => None,
                    };
                    let pool = Http1Pool::new(u, tls, workers, rt, metrics.read_timeouts())
                        .map_err(|m| ConfigFileError::one(&config.source, "upstream", m))?;
                    Some(pool)
                }
            },
            Upstream::Echo => None,
        };
        Ok(Self {
            config: Arc::new(config),
            counters,
            tls,
            http1,
        })
    }
}

/// A request's snapshot of the active config (see the module docs): an
/// `Arc` of the calling thread's own around the shared one.
#[derive(Clone)]
pub struct Snapshot(Arc<ThreadHandle>);

/// One thread's handle on a shared config: a separate allocation, so its
/// count is written by that thread only.
struct ThreadHandle(Arc<Active>);

impl Deref for Snapshot {
    type Target = Active;

    fn deref(&self) -> &Active {
        &self.0 .0
    }
}

thread_local! {
    /// This thread's snapshot: the `Shared` it belongs to (its id), the
    /// generation it was taken at, and the snapshot.
    static SNAPSHOT: RefCell<Option<(usize, u64, Snapshot)>> = const { RefCell::new(None) };
}

/// State shared by every connection and task.
pub struct Shared {
    active: RwLock<Arc<Active>>,
    /// Bumped by every swap of `active`.
    generation: AtomicU64,
    /// Tells this `Shared` apart from others in the thread-local snapshot.
    id: usize,
    /// The counters behind `/metrics`.
    pub metrics: Metrics,
    /// What report-only policies found (`GET /report`); kept across reloads.
    pub report: std::sync::Mutex<corsair::shadow::ShadowReport>,
    /// Whether the listener speaks TLS (fixed at start).
    pub listener_tls: bool,
    /// Set when shutdown starts (`/healthz` answers 503).
    pub draining: AtomicBool,
    /// How many worker threads serve connections (fixed at start).
    pub workers: usize,
    /// The runtime the gateway was bound on (accept loop, admin, reload,
    /// the pools' idle reapers).
    pub runtime: tokio::runtime::Handle,
}

impl Shared {
    /// The shared state around the first config.
    pub fn new(
        active: Active,
        metrics: Metrics,
        listener_tls: bool,
        workers: usize,
        runtime: tokio::runtime::Handle,
    ) -> std::io::Result<Self> {
        static NEXT_ID: AtomicUsize = AtomicUsize::new(0);
        Ok(Self {
            active: RwLock::new(Arc::new(active)),
            generation: AtomicU64::new(0),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            metrics,
            report: std::sync::Mutex::new(corsair::shadow::ShadowReport::new()),
            listener_tls,
            draining: AtomicBool::new(false),
            workers,
            runtime,
        })
    }

    /// A snapshot of the active config: the calling thread's own, unless a
    /// swap happened since it was taken.
    pub fn active(&self) -> Snapshot {
        let generation = self.generation.load(Ordering::Acquire);
        SNAPSHOT.with(|cell| {
            let mut cached = cell.borrow_mut();
            match &*cached {
                Some((id, g, snap)) if *id == self.id && *g == generation => snap.clone(),
                _ => {
                    let shared = self.active.read().unwrap_or_else(PoisonError::into_inner).clone();
                    let snap = Snapshot(Arc::new(ThreadHandle(shared)));
                    *cached = Some((self.id, generation, snap.clone()));
                    snap
                }
            }
        })
    }

    /// Makes `next` the active config; requests already running keep theirs.
    pub fn swap(&self, next: Active) {
        let next = Arc::new(next);
        let old = std::mem::replace(&mut *self.active.write().unwrap_or_else(PoisonError::into_inner), next);
        self.generation.fetch_add(1, Ordering::Release);
        drop(old); // outside the lock
    }
}

/// Logs the policies of a config, one line each.
pub fn log_policies(c: &Config) {
    for p in &c.policies {
        let cfg = p.policy.config();
        info!(
            policy = %p.name,
            hosts = %if p.hosts.is_empty() { "*".to_owned() } else { p.hosts.join(",") },
            path_prefix = %p.path_prefix,
            origins = %cfg.allow_origins.join(", "),
            credentials = cfg.allow_credentials,
            "policy"
        );
    }
    // What the file probably does not mean: accepted, but said.
    for w in &c.warnings {
        warn!(
            file = %c.source,
            line = w.line,
            column = w.column,
            key = %w.key,
            code = w.code,
            warning = %w.message,
            "config warning"
        );
    }
}
