//! [`PolicyFile`]: the `[[policy]]` tables of a corsair config file (the
//! gateway's TOML), read by the library, so that one file can configure the
//! gateway and an application alike.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;

use super::{ConfigErrorKind, Policy, PolicyConfig, PolicyMode};
use crate::cross_origin::{CrossOriginProtection, EXEMPT_KEY};

/// One `[[policy]]` table as written: the routing keys the gateway uses
/// (`name`, `hosts`, `path_prefix`, `mode`), the keys of a [`PolicyConfig`]
/// and those of its cross-origin protection. Unknown keys are errors (serde's message names the key
/// and lists the known ones).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyTable {
    /// `name`: used in logs, metrics and reports; unique in a file
    /// (default `policy[i]`).
    pub name: Option<String>,
    /// `hosts`: the host names the policy covers (gateway routing).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// `path_prefix`: the path prefix the policy covers (gateway routing).
    pub path_prefix: Option<String>,
    /// `mode`: `"enforce"` (default) or `"report-only"`.
    #[serde(default)]
    pub mode: PolicyMode,
    /// See [`PolicyConfig::allow_origins`].
    #[serde(default)]
    pub allow_origins: Vec<String>,
    /// See [`PolicyConfig::allow_methods`].
    #[serde(default)]
    pub allow_methods: Vec<String>,
    /// See [`PolicyConfig::allow_headers`].
    #[serde(default)]
    pub allow_headers: Vec<String>,
    /// See [`PolicyConfig::expose_headers`].
    #[serde(default)]
    pub expose_headers: Vec<String>,
    /// See [`PolicyConfig::allow_credentials`].
    #[serde(default)]
    pub allow_credentials: bool,
    /// See [`PolicyConfig::max_age`].
    pub max_age: Option<i64>,
    /// See [`PolicyConfig::allow_private_network`].
    #[serde(default)]
    pub allow_private_network: bool,
    /// See [`PolicyConfig::allow_insecure_origins`].
    #[serde(default)]
    pub allow_insecure_origins: bool,
    /// See [`PolicyConfig::debug`].
    #[serde(default)]
    pub debug: bool,
    /// `protect_unsafe_requests`: cross-origin protection (CSRF) for this
    /// policy (see [`crate::cross_origin`]); `None` is the default, on.
    pub protect_unsafe_requests: Option<bool>,
    /// `protect_unsafe_requests_exempt`: exact paths that take unsafe
    /// requests from browsers of any origin (see
    /// [`CrossOriginProtection::exempt_paths`]).
    #[serde(default)]
    pub protect_unsafe_requests_exempt: Vec<String>,
}

impl PolicyTable {
    /// The CORS keys, as a [`PolicyConfig`].
    pub fn config(&self) -> PolicyConfig {
        PolicyConfig {
            allow_origins: self.allow_origins.clone(),
            allow_methods: self.allow_methods.clone(),
            allow_headers: self.allow_headers.clone(),
            expose_headers: self.expose_headers.clone(),
            allow_credentials: self.allow_credentials,
            max_age: self.max_age,
            allow_private_network: self.allow_private_network,
            allow_insecure_origins: self.allow_insecure_origins,
            debug: self.debug,
        }
    }

    /// Validates table number `index` of a file into a [`PolicyEntry`]: the
    /// name (default `policy[{index}]`, not empty, not in `names`, the names
    /// of the tables before it, to which it is added), each host name, the
    /// path prefix's form (a path starting with `/`; whether it is in the
    /// canonical form requests are routed on depends on the gateway's
    /// `[paths]` rules, which the gateway checks), and the policy. Problems
    /// are pushed under keys `policy[{index}].…`, with the gateway's
    /// messages.
    pub fn validate(
        &self,
        index: usize,
        names: &mut HashSet<String>,
        problems: &mut Vec<FileProblem>,
    ) -> Option<PolicyEntry> {
        let prefix = format!("policy[{index}]");
        let before = problems.len();
        let mut p = |key: String, kind: Option<ConfigErrorKind>, message: String| {
            problems.push(FileProblem { key, kind, message });
        };
        let name = self.name.clone().unwrap_or_else(|| prefix.clone());
        if name.trim().is_empty() {
            p(format!("{prefix}.name"), None, "empty name".to_owned());
        }
        if !names.insert(name.clone()) {
            p(
                format!("{prefix}.name"),
                None,
                format!("{name:?} is used by an earlier policy"),
            );
        }
        let mut hosts = Vec::new();
        for (j, h) in self.hosts.iter().enumerate() {
            if is_host_name(h) {
                // Requests are routed on their host name without one
                // trailing dot (the same DNS name).
                let h = h.strip_suffix('.').unwrap_or(h);
                hosts.push(h.to_ascii_lowercase());
            } else {
                p(
                    format!("{prefix}.hosts[{j}]"),
                    None,
                    format!("{h:?} is not a host name (no scheme, port or path: `api.example.com`)"),
                );
            }
        }
        let path_prefix = self.path_prefix.clone().unwrap_or_else(|| "/".to_owned());
        if !path_prefix.starts_with('/') || path_prefix.contains(['?', '#', ' ']) {
            p(
                format!("{prefix}.path_prefix"),
                None,
                format!("{path_prefix:?} must be a URL path starting with `/`"),
            );
        }
        let protection = self.protection(&prefix, &path_prefix, &mut p);
        let config = self.config();
        let policy = match config.build() {
            Ok(policy) => Some(policy),
            Err(errs) => {
                for e in errs {
                    let msg = match &e.value {
                        Some(v) => format!("{v:?}: {}", e.message),
                        None => e.message.clone(),
                    };
                    p(format!("{prefix}.{}", e.key), Some(e.kind), msg);
                }
                None
            }
        };
        let policy = policy.filter(|_| problems.len() == before)?;
        Some(PolicyEntry {
            name,
            hosts,
            path_prefix,
            mode: self.mode,
            config,
            policy,
            protection,
        })
    }

    /// The table's cross-origin protection
    /// ([`CrossOriginProtection::from_table`]); whether each exempt path is
    /// in the canonical form requests are routed on depends on the gateway's
    /// `[paths]` rules, which the gateway checks.
    fn protection(
        &self,
        prefix: &str,
        path_prefix: &str,
        p: &mut impl FnMut(String, Option<ConfigErrorKind>, String),
    ) -> CrossOriginProtection {
        let (protection, problems) = CrossOriginProtection::from_table(
            self.protect_unsafe_requests,
            &self.protect_unsafe_requests_exempt,
            path_prefix,
            true,
            |_| Ok(()),
        );
        for e in problems {
            p(format!("{prefix}.{EXEMPT_KEY}[{}]", e.index), e.kind, e.message);
        }
        protection
    }
}

/// One validated `[[policy]]` table.
#[derive(Debug, Clone)]
pub struct PolicyEntry {
    /// The name (`policy[i]` when the table has none).
    pub name: String,
    /// The host names (lowercase, without a trailing dot; empty = any).
    pub hosts: Vec<String>,
    /// The path prefix (`/` when the table has none).
    pub path_prefix: String,
    /// Enforce or report only.
    pub mode: PolicyMode,
    /// The CORS keys as written.
    pub config: PolicyConfig,
    /// The validated policy.
    pub policy: Policy,
    /// Its cross-origin protection (`protect_unsafe_requests` and
    /// `protect_unsafe_requests_exempt`).
    pub protection: CrossOriginProtection,
}

/// The top level of a config file, as the library reads it: the
/// `[[policy]]` tables; every other key (`listen`, `upstream`, `workers`,
/// `upstream_ca`, `[tls]`, `[admin]`, `[limits]`, `[paths]`, …) is the
/// gateway's and is ignored here.
#[derive(Deserialize)]
struct FileModel {
    #[serde(default)]
    policy: Vec<PolicyTable>,
}

/// The `[[policy]]` tables of a corsair config file, validated: the same
/// file the gateway (`corsair serve --config`) reads, so one file can
/// configure the gateway and an application.
///
/// Each table gives a named [`Policy`] with its routing data (`hosts`,
/// `path_prefix`) and its [`PolicyMode`]. The gateway's own keys are
/// ignored (it checks them itself); inside `[[policy]]` every key is checked,
/// and unknown keys are errors, with the gateway's messages. The gateway is
/// to read its `[[policy]]` tables through this same model
/// ([`PolicyTable`]), so both always accept the same tables.
///
/// ```
/// use corsair::{PolicyFile, PolicyMode};
///
/// let file = PolicyFile::parse(r#"
/// listen = "127.0.0.1:8080"
/// upstream = "http://127.0.0.1:3000"
///
/// [[policy]]
/// name = "api"
/// path_prefix = "/api"
/// allow_origins = ["https://app.example.com"]
/// allow_methods = ["PUT"]
/// max_age = 600
///
/// [[policy]]
/// name = "assets"
/// mode = "report-only"
/// allow_origins = ["*"]
/// "#)?;
/// let api = file.get("api").unwrap();
/// assert_eq!(api.path_prefix, "/api");
/// assert!(api.policy.allows_origin("https://app.example.com"));
/// assert_eq!(file.get("assets").unwrap().mode, PolicyMode::ReportOnly);
///
/// let err = PolicyFile::parse("[[policy]]\nallow_origin = []\n").unwrap_err();
/// assert!(err.to_string().contains("unknown field `allow_origin`"));
/// # Ok::<(), corsair::PolicyFileError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PolicyFile {
    policies: Vec<PolicyEntry>,
}

impl PolicyFile {
    /// Parses and validates config text: every problem at once.
    pub fn parse(text: &str) -> Result<Self, PolicyFileError> {
        let model: FileModel = toml::from_str(text).map_err(|e| PolicyFileError {
            problems: vec![FileProblem {
                key: String::new(),
                kind: None,
                message: e.to_string(),
            }],
        })?;
        let mut problems = Vec::new();
        if model.policy.is_empty() {
            problems.push(FileProblem {
                key: "policy".to_owned(),
                kind: None,
                message: "no [[policy]] table: corsair would add no CORS headers at all; add at least one".to_owned(),
            });
        }
        let mut names = HashSet::new();
        let mut policies = Vec::new();
        for (i, t) in model.policy.iter().enumerate() {
            if let Some(e) = t.validate(i, &mut names, &mut problems) {
                policies.push(e);
            }
        }
        if problems.is_empty() {
            Ok(Self { policies })
        } else {
            Err(PolicyFileError { problems })
        }
    }

    /// The policy named `name`.
    pub fn get(&self, name: &str) -> Option<&PolicyEntry> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// The policies, in file order.
    pub fn policies(&self) -> &[PolicyEntry] {
        &self.policies
    }

    /// The policies, in file order, owned.
    pub fn into_policies(self) -> Vec<PolicyEntry> {
        self.policies
    }
}

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// The key, e.g. `policy[0].allow_origins[1]` (empty for a syntax
    /// error, whose message says where).
    pub key: String,
    /// For a problem of the policy's own keys, its kind.
    pub kind: Option<ConfigErrorKind>,
    /// What is wrong.
    pub message: String,
}

/// Every problem found in the `[[policy]]` tables of a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFileError {
    /// The problems, in file order.
    pub problems: Vec<FileProblem>,
}

impl fmt::Display for PolicyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(f, "{n} problem{}", if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            if p.key.is_empty() {
                write!(f, "\n  {}", p.message.trim_end().replace('\n', "\n    "))?;
            } else {
                write!(f, "\n  {}: {}", p.key, p.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for PolicyFileError {}

/// A host name as `hosts` takes it: DNS labels (letters, digits, `-`,
/// `_`), at most 253 bytes, or a bracketed IPv6 address.
fn is_host_name(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && (h.split('.').all(|l| {
            !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }) || (h.starts_with('[') && h.ends_with(']') && h[1..h.len() - 1].parse::<std::net::Ipv6Addr>().is_ok()))
}

#[cfg(test)]
mod tests;
