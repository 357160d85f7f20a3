//! Process signals, for a gateway run with [`crate::Options::handle_signals`]:
//! SIGTERM and SIGINT (Ctrl-C) start the shutdown, a second one ends the
//! drain at once; SIGHUP reloads the config.
//!
//! Each handler is registered when the gateway binds, before it reports
//! its address: a signal must never find the default action (termination)
//! once the gateway is up.

use tracing::warn;

/// SIGTERM and SIGINT.
pub(crate) struct Shutdown {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl Shutdown {
    /// Registers the handlers.
    pub(crate) fn register() -> Self {
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
            Shutdown {
                term: register(SignalKind::terminate(), "SIGTERM"),
                int: register(SignalKind::interrupt(), "SIGINT"),
            }
        }
        #[cfg(not(unix))]
        {
            Shutdown {}
        }
    }

    /// Waits for the next shutdown signal and names it.
    pub(crate) async fn next(&mut self) -> &'static str {
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

/// SIGHUP.
pub(crate) struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    /// Registers the handler.
    pub(crate) fn register() -> Self {
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

    /// Waits for the next SIGHUP.
    pub(crate) async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &mut self.signal {
            if s.recv().await.is_some() {
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}
