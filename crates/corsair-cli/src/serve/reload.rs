//! Config reload: on SIGHUP, or when the file's content changes (it is read
//! once a second and compared with the last version seen, which catches
//! in-place writes and atomic renames alike, with no extra dependency).
//!
//! A new config is fully validated and built (TLS certificates included)
//! before it replaces the active one in a single pointer swap; requests in
//! flight finish under the config they started with. A config that fails
//! is refused with each of its problems logged, and the previous one keeps
//! serving. `--listen`/`--upstream` still override the file after a reload.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tracing::{error, info, warn};

use super::state::{self, Active, Shared};
use super::Overrides;
use crate::config::{self, ConfigFileError, Problem};

/// How often the file is checked for changes.
const POLL: Duration = Duration::from_secs(1);

/// The SIGHUP stream, registered before the gateway announces itself (the
/// default action of SIGHUP would end the process).
pub struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

/// Registers the SIGHUP handler.
pub fn hangup_signal() -> Hangup {
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => Hangup { signal: Some(s) },
            Err(e) => {
                warn!(error = %e, "cannot listen for SIGHUP; reloads follow file changes only");
                Hangup { signal: None }
            }
        }
    }
    #[cfg(not(unix))]
    {
        Hangup {}
    }
}

impl Hangup {
    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &mut self.signal {
            if s.recv().await.is_some() {
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}

/// Watches for reasons to reload until the task is aborted.
pub async fn run(
    shared: Arc<Shared>,
    path: Option<PathBuf>,
    overrides: Overrides,
    initial: Vec<u8>,
    mut hangup: Hangup,
) {
    let mut last = initial;
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let mut read_error_logged = false;
    loop {
        let forced = tokio::select! {
            _ = tick.tick() => false,
            () = hangup.recv() => true,
        };
        let Some(path) = path.as_deref() else {
            if forced {
                info!("SIGHUP: serving the embedded default; there is no file to reload");
            }
            continue;
        };
        if forced {
            info!(file = %path.display(), "SIGHUP: reloading the config");
        }
        let text = match tokio::fs::read(path).await {
            Ok(t) => {
                read_error_logged = false;
                t
            }
            Err(e) => {
                if forced || !read_error_logged {
                    warn!(file = %path.display(), error = %e, "cannot read the config file; the current config keeps serving");
                    read_error_logged = true;
                }
                continue;
            }
        };
        if !forced && text == last {
            continue;
        }
        last = text;
        apply(&shared, path, &last, &overrides);
    }
}

/// Validates and activates a new config text; returns whether it was taken.
fn apply(shared: &Shared, path: &Path, text: &[u8], overrides: &Overrides) -> bool {
    let file = path.display().to_string();
    let parsed = match std::str::from_utf8(text) {
        Ok(t) => config::parse(t, &file, path.parent()),
        Err(_) => Err(ConfigFileError {
            file: file.clone(),
            problems: vec![Problem {
                key: String::new(),
                message: "the file is not UTF-8 text".to_owned(),
            }],
        }),
    };
    let current = shared.active();
    let built = parsed.and_then(|mut c| {
        overrides.apply(&mut c);
        Active::build(c, Some(&current), shared.listener_tls, &shared.metrics, shared.workers)
    });
    match built {
        Ok(next) => {
            let cfg = next.config.clone();
            if cfg.upstream != current.config.upstream {
                info!(upstream = %upstream_name(&cfg.upstream), "upstream changed");
            }
            drop(current);
            shared.swap(next);
            shared.metrics.reload(true);
            info!(file = %file, policies = cfg.policies.len(), "config reloaded");
            state::log_policies(&cfg);
            true
        }
        Err(e) => {
            for p in &e.problems {
                error!(file = %e.file, key = %p.key, problem = %p.message, "config problem");
            }
            error!(
                file = %file,
                problems = e.problems.len(),
                "config reload refused; the previous config keeps serving"
            );
            shared.metrics.reload(false);
            false
        }
    }
}

fn upstream_name(u: &config::Upstream) -> String {
    match u {
        config::Upstream::Echo => config::BUILTIN_ECHO.to_owned(),
        config::Upstream::Url(u) => u.to_string(),
    }
}
