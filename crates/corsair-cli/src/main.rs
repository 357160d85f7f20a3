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
mod report;
mod serve;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// corsair: CORS that is correct, fast and restrictive by default.
#[derive(Debug, Parser)]
#[command(name = "corsair", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the CORS gateway: a reverse proxy that applies corsair policies to an upstream.
    Serve(ServeArgs),
    /// Would a browser allow this cross-origin request? If not, why, and what to change.
    Check(CheckArgs),
    /// Probe a live URL for dangerous CORS configurations.
    Audit(AuditArgs),
    /// Lint a config file: every error, with the file, the key and the problem.
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
    pub url: String,
    /// The page's origin, e.g. `https://app.example.com`.
    #[arg(long)]
    pub origin: String,
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
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Arguments of `corsair validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The config file to lint.
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the embedded default config as a commented TOML file.
    Default,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Check(args) => check::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Config(ConfigCommand::Default) => {
            out!("{}", corsair_gateway::DEFAULT_CONFIG);
            ExitCode::SUCCESS
        }
    }
}
