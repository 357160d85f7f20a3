//! Config reload: on SIGHUP (with [`crate::Options::handle_signals`]), when
//! the file's content changes (with [`crate::Options::watch_config`]: it is
//! read once a second and compared with the last version seen, which
//! catches in-place writes and atomic renames alike, with no extra
//! dependency), or when the embedder asks ([`crate::Handle::reload`],
//! [`crate::Handle::replace`]).
//!
//! A new config is fully validated and built (TLS certificates included)
//! before it replaces the active one in a single pointer swap; requests in
//! flight finish under the config they started with. A config that fails
//! is refused with each of its problems logged, and the previous one keeps
//! serving. The [`crate::Overrides`] still replace the file's values after
//! a reload.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tracing::{error, info, warn};

use crate::config::{self, Config, ConfigFileError, Problem};
use crate::runtime::signals::Hangup;
use crate::runtime::Overrides;
use crate::state::{self, Active, Shared};

/// How often the file is checked for changes.
const POLL: Duration = Duration::from_secs(1);

/// Watches for reasons to reload until the task is aborted: the file's
/// content changing (when `watch`), and SIGHUP (when `hangup`).
pub(crate) async fn watch(
    shared: Arc<Shared>,
    path: Option<PathBuf>,
    overrides: Overrides,
    initial: Vec<u8>,
    watch: bool,
    mut hangup: Option<Hangup>,
) {
    let mut last = initial;
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    let mut read_error_logged = false;
    loop {
        let forced = tokio::select! {
            _ = tick.tick(), if watch => false,
            () = async {
                match &mut hangup {
                    Some(h) => h.recv().await,
                    None => std::future::pending().await,
                }
            } => true,
        };
        let Some(path) = path.as_deref() else {
            if forced {
                info!("SIGHUP: serving a config that was not read from a file; nothing to reload");
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
        let _ = apply_text(&shared, path, &last, &overrides);
    }
}

/// Reads, validates and activates the config file at `path`.
pub(crate) fn reload_file(shared: &Shared, path: &Path, overrides: &Overrides) -> Result<(), ConfigFileError> {
    let text = std::fs::read(path).map_err(|e| ConfigFileError::single(path, format!("cannot read the file: {e}")))?;
    apply_text(shared, path, &text, overrides)
}

/// Validates and activates a new config text.
fn apply_text(shared: &Shared, path: &Path, text: &[u8], overrides: &Overrides) -> Result<(), ConfigFileError> {
    let file = path.display().to_string();
    let parsed = match std::str::from_utf8(text) {
        Ok(t) => config::parse(t, &file, path.parent()),
        Err(_) => Err(ConfigFileError {
            file: file.clone(),
            problems: vec![Problem::new("", "the file is not UTF-8 text").with_code("syntax")],
        }),
    };
    apply(
        shared,
        parsed.map(|mut c| {
            overrides.apply(&mut c);
            c
        }),
    )
}

/// Builds and activates `config`, or refuses it (logged and counted); the
/// previous config keeps serving on refusal.
pub(crate) fn apply(shared: &Shared, config: Result<Config, ConfigFileError>) -> Result<(), ConfigFileError> {
    let current = shared.active();
    let built = config.and_then(|c| {
        Active::build(
            c,
            Some(&current),
            shared.listener_tls,
            &shared.metrics,
            shared.workers,
            &shared.runtime,
        )
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
            info!(file = %cfg.source, policies = cfg.policies.len(), "config reloaded");
            state::log_policies(&cfg);
            Ok(())
        }
        Err(e) => {
            for p in &e.problems {
                error!(
                    file = %e.file,
                    line = p.line,
                    column = p.column,
                    key = %p.key,
                    code = p.code,
                    problem = %p.message,
                    "config problem"
                );
            }
            error!(
                file = %e.file,
                problems = e.problems.len(),
                "config reload refused; the previous config keeps serving"
            );
            shared.metrics.reload(false);
            Err(e)
        }
    }
}

fn upstream_name(u: &config::Upstream) -> String {
    match u {
        config::Upstream::Echo => config::BUILTIN_ECHO.to_owned(),
        config::Upstream::Url(u) => u.to_string(),
    }
}
