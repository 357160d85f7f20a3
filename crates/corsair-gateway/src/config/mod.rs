//! The gateway's configuration: the validated model ([`Config`]), read
//! from TOML by [`file`] (every problem at once, with the file, the line and
//! column, the key and what is wrong; [`lint`] adds the warnings) and routed
//! to a policy per request by `route`.

mod file;
mod route;

pub use file::{lint, lint_text, load, parse, parse_upstream_value, Lint};

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use corsair::{CrossOriginProtection, Policy};

/// The embedded default, printed by `corsair config default` and used by
/// `corsair serve` without `--config`.
pub const DEFAULT_CONFIG: &str = include_str!("default.toml");

/// The value of `upstream` that selects the built-in echo upstream.
pub const BUILTIN_ECHO: &str = "builtin:echo";

/// The most worker threads `workers` may ask for.
pub const MAX_WORKERS: usize = 256;

impl Config {
    /// The number of worker threads to run: `workers`, or one per CPU.
    pub fn worker_count(&self) -> usize {
        self.workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
    }
}

/// Where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// The built-in echo service (`upstream = "builtin:echo"`).
    Echo,
    /// An http or https origin server.
    Url(http::Uri),
}

/// TLS settings for the listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// What to do with an encoded `/` or `\` in a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncodedSlashes {
    /// 400 (the default).
    #[default]
    Reject,
    /// Kept encoded, forwarded encoded, matched as an ordinary character
    /// (for upstreams that never decode it, such as APIs that carry names
    /// with slashes in one segment).
    Keep,
}

/// What to do with `;` (path parameters) in a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Semicolons {
    /// 400 (the default): servers disagree on what `;` means.
    #[default]
    Reject,
    /// An ordinary character (Node, Go, nginx, Python servers).
    Keep,
    /// Path parameters are removed from each segment before routing and
    /// forwarding (for Tomcat, Jetty and Spring upstreams).
    Strip,
}

/// How paths are normalized beyond RFC 3986 (the `[paths]` table; see [`crate::config`] docs and the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathRules {
    /// `//` is `/` (the default).
    pub merge_slashes: bool,
    /// Encoded slashes.
    pub encoded_slashes: EncodedSlashes,
    /// Path parameters.
    pub semicolons: Semicolons,
    /// Whether `path_prefix` matches paths case-sensitively (the default,
    /// as RFC 3986 says); `false` for upstreams that ignore case in paths.
    pub case_sensitive: bool,
}

impl Default for PathRules {
    fn default() -> Self {
        Self {
            merge_slashes: true,
            encoded_slashes: EncodedSlashes::Reject,
            semicolons: Semicolons::Reject,
            case_sensitive: true,
        }
    }
}

/// Gateway limits, each with a sensible default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Time a client has to send the request head (slowloris guard).
    pub header_read_timeout: Duration,
    /// Time the upstream has to answer with a response head (-> 504).
    pub upstream_timeout: Duration,
    /// The most time between two reads of an upstream's response body;
    /// then the client's response is cut off.
    pub upstream_read_timeout: Duration,
    /// Largest request head accepted (-> 431).
    pub max_header_bytes: usize,
    /// Most client connections served at once.
    pub max_connections: usize,
    /// How long shutdown waits for in-flight requests (and open
    /// WebSockets, which close earlier once idle).
    pub shutdown_grace: Duration,
    /// The most time a WebSocket tunnel may carry no byte either way; then
    /// it is closed.
    pub websocket_idle_timeout: Duration,
    /// The most time a WebSocket tunnel stays open; then it is closed.
    pub websocket_max_duration: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            upstream_timeout: Duration::from_secs(30),
            upstream_read_timeout: Duration::from_secs(60),
            max_header_bytes: 16 * 1024,
            max_connections: 10_000,
            shutdown_grace: Duration::from_secs(30),
            // As nginx's proxy_read_timeout: applications keep sockets
            // alive with pings well within it (see the README).
            websocket_idle_timeout: Duration::from_secs(60),
            // A day: long enough that no user notices, short enough that
            // credentials checked at the handshake do not live forever.
            websocket_max_duration: Duration::from_secs(86_400),
        }
    }
}

/// A policy with the requests it covers.
#[derive(Debug, Clone)]
pub struct RoutedPolicy {
    /// The policy's name (`name`, or `policy[i]`).
    pub name: String,
    /// Host names it covers, lowercase (empty: every host).
    pub hosts: Vec<String>,
    /// Path prefix it covers (`/` by default).
    pub path_prefix: String,
    /// `enforce` (the default) or `report-only`.
    pub mode: corsair::PolicyMode,
    /// The compiled policy.
    pub policy: Arc<Policy>,
    /// Cross-origin protection of the unsafe requests it covers
    /// (`protect_unsafe_requests`, `protect_unsafe_requests_exempt`); its
    /// trusted origins are the policy's.
    pub protection: CrossOriginProtection,
}

/// A validated config file.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the file was read from (`<embedded default>` for the default).
    pub source: String,
    /// Listener address.
    pub listen: SocketAddr,
    /// Upstream.
    pub upstream: Upstream,
    /// Worker threads serving connections (`None`: one per CPU).
    pub workers: Option<usize>,
    /// TLS for the listener.
    pub tls: Option<Tls>,
    /// Admin listener (`/healthz`, `/metrics`).
    pub admin: Option<SocketAddr>,
    /// Limits.
    pub limits: Limits,
    /// How request paths are normalized before routing and forwarding.
    pub paths: PathRules,
    /// CA certificates (PEM) trusted for an `https://` upstream instead of
    /// the system's trust store.
    pub upstream_ca: Option<PathBuf>,
    /// Policies, in file order; the first that covers a request applies.
    pub policies: Vec<RoutedPolicy>,
    /// What the file probably does not mean (warnings: the file is
    /// accepted), e.g. `allow_methods = ["Patch"]`.
    pub warnings: Vec<Problem>,
}

/// How serious a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Severity {
    /// The file is refused.
    #[default]
    Error,
    /// The file is accepted, but probably does not do what was meant.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key, e.g. `listen`, `policy "api".allow_origins[1]` (a policy is
    /// named by its `name`, or `policy[0]` when it has none); empty for a
    /// problem of the whole file (it cannot be read, it is not TOML).
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// The line of the file (1-based), when the problem has a place in it.
    pub line: Option<usize>,
    /// The column (1-based, in characters), with [`Problem::line`].
    pub column: Option<usize>,
    /// An error or a warning.
    pub severity: Severity,
    /// A stable identifier of the kind of problem: `syntax`, `unknown_key`,
    /// `wrong_type`, `missing`, `invalid_value`, `cannot_read`, a policy
    /// error's [`corsair::ConfigErrorKind::code`], or, for warnings,
    /// `method_case`, `private_network` and `exempt_without_protection`.
    pub code: &'static str,
    /// What the key or value was probably meant to be (an unknown key's
    /// closest known key, a method's usual spelling).
    pub suggestion: Option<String>,
}

impl Problem {
    /// An error (code `invalid_value`) under `key`, without a place in the file.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            key: key.into(),
            message: message.into(),
            line: None,
            column: None,
            severity: Severity::Error,
            code: "invalid_value",
            suggestion: None,
        }
    }

    /// The same problem with this code.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    /// The same problem with a suggestion.
    pub fn with_suggestion(mut self, suggestion: impl Into<String>) -> Self {
        self.suggestion = Some(suggestion.into());
        self
    }

    /// The same problem as a warning.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// The same problem at this line and column (1-based).
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Whether it is an error (the file is refused).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column` (or `file` alone when the problem has no place).
    pub fn place(&self, file: &str) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
            (Some(l), None) => format!("{file}:{l}"),
            _ => file.to_owned(),
        }
    }
}

/// Every error found in a config file.
#[derive(Debug, Clone)]
pub struct ConfigFileError {
    /// The file.
    pub file: String,
    /// The problems (errors only; warnings go with an accepted
    /// [`Config::warnings`] or a [`Lint`]).
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(f, "{}: {} problem{}", self.file, n, if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            let place = p.place(&self.file);
            if p.key.is_empty() {
                writeln!(f, "  {place}: {}", p.message.trim_end().replace('\n', "\n    "))?;
            } else {
                writeln!(f, "  {place}: {}: {}", p.key, p.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigFileError {}

impl ConfigFileError {
    /// One problem of `file` under `key`.
    pub fn one(file: &str, key: &str, message: String) -> Self {
        Self {
            file: file.to_owned(),
            problems: vec![Problem::new(key, message)],
        }
    }

    /// An error of the whole file (no key): it cannot be read, it is not
    /// TOML…
    pub fn single(file: &Path, message: String) -> Self {
        Self {
            file: file.display().to_string(),
            problems: vec![Problem::new("", message)],
        }
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigFileError> {
        load(path)
    }

    /// Parses and validates config text; `file` names it in errors, `base`
    /// resolves relative paths (the file's folder).
    pub fn parse(text: &str, file: &str, base: Option<&Path>) -> Result<Config, ConfigFileError> {
        parse(text, file, base)
    }

    /// The embedded default ([`DEFAULT_CONFIG`]): the built-in echo
    /// upstream behind a policy for local development origins.
    pub fn embedded_default() -> Result<Config, ConfigFileError> {
        parse(DEFAULT_CONFIG, "<embedded default>", None)
    }
}
