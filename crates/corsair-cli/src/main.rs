//! `corsair`: a CORS gateway, browser simulator, auditor and config linter.

/// `println!` that never panics: a closed stdout (`corsair check … | head`)
/// is not an error worth a crash.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

/// `print!` that never panics (see `outln!`).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($t)*);
    }};
}

mod audit;
mod check;
mod client;
mod explain;
mod help;
mod report;
mod serve;
mod validate;
mod wsprobe;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// corsair: CORS that is correct, fast and restrictive by default.
#[derive(Debug, Parser)]
#[command(name = "corsair", version, about, long_about = None, after_help = help::MAIN)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the CORS gateway: a reverse proxy that applies corsair policies to an upstream.
    #[command(after_help = help::SERVE)]
    Serve(ServeArgs),
    /// Would a browser allow this cross-origin request? If not, why, and what to change.
    #[command(after_help = help::CHECK)]
    Check(CheckArgs),
    /// Turn a browser's CORS console message into the failed check, its cause and the fix.
    #[command(after_help = help::EXPLAIN)]
    Explain(ExplainArgs),
    /// Probe a live URL for dangerous CORS configurations.
    #[command(after_help = help::AUDIT)]
    Audit(AuditArgs),
    /// Lint a config file: every error and warning, with its line, column and key.
    #[command(after_help = help::VALIDATE)]
    Validate(ValidateArgs),
    /// Config helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// Output format for the diagnostic commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// The mode of the request `check` asks about (Fetch's request mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum RequestMode {
    /// `fetch()`'s default: may the page read the answer?
    #[default]
    Cors,
    /// `fetch(url, {mode: "no-cors"})`: sent without a preflight, never readable; does it
    /// reach the service?
    NoCors,
    /// An HTML form submission (`<form method=post>`): does it reach the service?
    Navigate,
}

/// Log format for `serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Arguments of `corsair serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Config file (TOML). Without it, the embedded default is used.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Override the config's `listen` address.
    #[arg(long)]
    pub listen: Option<String>,
    /// Override the config's `upstream` URL.
    #[arg(long)]
    pub upstream: Option<String>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Arguments of `corsair check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The URL the page would fetch.
    #[arg(required_unless_present = "har")]
    pub url: Option<String>,
    /// The page's origin, e.g. `https://app.example.com`.
    #[arg(long, required_unless_present = "har")]
    pub origin: Option<String>,
    /// The request method (normalized as `fetch()` does).
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// A request header set by the script, `Name: value`; repeatable.
    #[arg(long = "header", short = 'H')]
    pub headers: Vec<String>,
    /// Send credentials (`credentials: "include"`).
    #[arg(long)]
    pub credentials: bool,
    /// The MIME type of the request body (sets `Content-Type`).
    #[arg(long)]
    pub body_type: Option<String>,
    /// Decide offline against this corsair config file instead of the network.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Check a WebSocket from the origin instead of a fetch (implied by a ws:// or wss://
    /// URL): one handshake, closed at once; with --policy, the gateway's Origin check.
    #[arg(long, conflicts_with_all = ["method", "headers", "body_type", "credentials", "send", "mode"])]
    pub websocket: bool,
    /// Also send the actual request when its method is not GET or HEAD (it may change
    /// state on the server); without it, check stops after the preflight.
    #[arg(long)]
    pub send: bool,
    /// The request's mode: `cors` (fetch()'s default: may the page read the answer?),
    /// `no-cors` (fetch(url, {mode: "no-cors"})) or `navigate` (a `<form method=post>`
    /// submission). The last two are sent without a preflight and never read: check then
    /// says whether the request reaches the service or is refused by cross-origin
    /// protection (CSRF), and why.
    #[arg(long, value_enum, default_value_t = RequestMode::Cors)]
    pub mode: RequestMode,
    /// Decide every cross-origin request of a DevTools HAR export, offline.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["url", "origin", "policy", "send", "headers", "body_type", "credentials", "mode"])]
    pub har: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Arguments of `corsair explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The browser's console message (Chromium's line, Firefox's, or its `Reason:`
    /// identifier, Safari's); read from standard input when absent or `-`.
    pub message: Option<String>,
    /// The request's method, which the message does not name (normalized as `fetch()` does).
    #[arg(long)]
    pub method: Option<String>,
    /// A request header the script set, `Name: value`; repeatable.
    #[arg(long = "header", short = 'H')]
    pub headers: Vec<String>,
    /// The request was sent with credentials (`credentials: "include"`).
    #[arg(long)]
    pub credentials: bool,
    /// The MIME type of the request body (sets `Content-Type`).
    #[arg(long)]
    pub body_type: Option<String>,
    /// The page's origin, for messages that do not name it (Firefox's).
    #[arg(long)]
    pub origin: Option<String>,
    /// Run the request the message describes through this corsair config file and name
    /// the real rejection and the key to change.
    #[arg(long, conflicts_with = "probe")]
    pub policy: Option<PathBuf>,
    /// Ask the live URL, as `check` does (only safe requests: the preflight, GET, HEAD).
    #[arg(long)]
    pub probe: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Arguments of `corsair audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The URL to probe.
    pub url: String,
    /// An origin the site is meant to trust (used to derive look-alike probes); repeatable.
    #[arg(long = "origin")]
    pub origins: Vec<String>,
    /// Also send three form POSTs (body `corsair_probe=1`): from the site's own origin,
    /// and from an arbitrary origin with and without `Sec-Fetch-Site: cross-site`, to find
    /// an endpoint that accepts cross-site unsafe requests (CSRF). A POST can change
    /// state: use it on endpoints where that is harmless, or on a test deployment.
    #[arg(long)]
    pub unsafe_probes: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Arguments of `corsair validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The config file to lint.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the embedded default config as a commented TOML file.
    #[command(after_help = help::CONFIG_DEFAULT)]
    Default,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Check(args) => check::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Config(ConfigCommand::Default) => {
            out!("{}", corsair_gateway::DEFAULT_CONFIG);
            ExitCode::SUCCESS
        }
    }
}
