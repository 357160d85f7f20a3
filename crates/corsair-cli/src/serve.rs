//! `corsair serve`: the command-line face of [`corsair_gateway`]. Parses
//! the arguments, sets up logging, loads the config and runs the gateway
//! on a single-threaded runtime (the connections run on the gateway's own
//! worker threads), handling the process's signals.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;

use corsair_gateway::{config, Config, Gateway, Options, Overrides};

use crate::{LogFormat, ServeArgs};

/// Entry point of `corsair serve`.
pub fn run(args: ServeArgs) -> ExitCode {
    init_logging(args.log_format);
    let overrides = match overrides(&args) {
        Ok(o) => o,
        Err(m) => {
            eprintln!("corsair serve: {m}");
            return ExitCode::from(2);
        }
    };
    let loaded = match &args.config {
        Some(path) => Config::load(path),
        None => Config::embedded_default(),
    };
    let config = match loaded {
        Ok(c) => c,
        Err(e) => {
            eprint!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut options = Options::new().handle_signals(true).overrides(overrides);
    match activated_listener() {
        Ok(Some(l)) => options = options.listener(l),
        Ok(None) => {}
        Err(m) => {
            eprintln!("corsair serve: {m}");
            return ExitCode::FAILURE;
        }
    }
    if let Some(path) = &args.config {
        options = options.config_file(path, true);
    }
    // The accept loop, signals, reloads and the admin listener run here;
    // connections run on the gateway's workers.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("corsair serve: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async {
        match Gateway::bind(config, options).await {
            Ok(gateway) => {
                // Signals alone stop it.
                gateway.run(std::future::pending()).await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("corsair serve: {e}");
                ExitCode::FAILURE
            }
        }
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}

fn overrides(args: &ServeArgs) -> Result<Overrides, String> {
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
    Ok(Overrides { listen, upstream })
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

/// The listening socket passed by socket activation (systemd's protocol:
/// `LISTEN_FDS=1`, the socket as file descriptor 3, and `LISTEN_PID`, when
/// set, naming this process), which then replaces the `listen` address.
fn activated_listener() -> Result<Option<std::net::TcpListener>, String> {
    let Ok(fds) = std::env::var("LISTEN_FDS") else {
        return Ok(None);
    };
    if let Ok(pid) = std::env::var("LISTEN_PID") {
        if pid.trim() != std::process::id().to_string() {
            return Ok(None);
        }
    }
    // Not for any child this process might start.
    std::env::remove_var("LISTEN_FDS");
    std::env::remove_var("LISTEN_PID");
    std::env::remove_var("LISTEN_FDNAMES");
    match fds.trim() {
        "1" => {}
        n => {
            return Err(format!(
                "LISTEN_FDS={n}: socket activation must pass exactly one listening socket"
            ))
        }
    }
    activated_fd3()
}

#[cfg(unix)]
fn activated_fd3() -> Result<Option<std::net::TcpListener>, String> {
    use std::os::fd::FromRawFd;
    // SAFETY: by the socket-activation protocol, descriptor 3 is ours and
    // nothing else in this process owns or uses it; it is checked to be a
    // listening TCP socket before use.
    let listener = unsafe { std::net::TcpListener::from_raw_fd(3) };
    match listener.local_addr() {
        Ok(addr) => {
            tracing::debug!(%addr, "listening socket passed by socket activation (LISTEN_FDS)");
            Ok(Some(listener))
        }
        Err(e) => {
            // Not a socket: do not close a descriptor that is not ours.
            std::mem::forget(listener);
            Err(format!("LISTEN_FDS=1, but file descriptor 3 is not a TCP socket: {e}"))
        }
    }
}

#[cfg(not(unix))]
fn activated_fd3() -> Result<Option<std::net::TcpListener>, String> {
    Err("LISTEN_FDS: socket activation is supported on Unix only".to_owned())
}
