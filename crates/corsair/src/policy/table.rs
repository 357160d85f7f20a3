//! [`PolicyTable`]: one `[[policy]]` table of a corsair config file, and its
//! validation into a [`PolicyEntry`]: one set of rules for the gateway
//! (which reads the file with its own spanned reader) and for
//! `PolicyFile` (the `toml` feature).

use std::collections::HashSet;

use super::{ConfigErrorKind, Policy, PolicyConfig, PolicyMode};
use crate::cross_origin::{CrossOriginProtection, EXEMPT_KEY};

/// One `[[policy]]` table as written: the routing keys the gateway uses
/// (`name`, `hosts`, `path_prefix`, `mode`), the keys of a [`PolicyConfig`]
/// and those of its cross-origin protection. Unknown keys are errors (serde's message names the key
/// and lists the known ones).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize), serde(deny_unknown_fields))]
pub struct PolicyTable {
    /// `name`: used in logs, metrics and reports; unique in a file
    /// (default `policy[i]`).
    pub name: Option<String>,
    /// `hosts`: the host names the policy covers (gateway routing).
    #[cfg_attr(feature = "serde", serde(default))]
    pub hosts: Vec<String>,
    /// `path_prefix`: the path prefix the policy covers (gateway routing).
    pub path_prefix: Option<String>,
    /// `mode`: `"enforce"` (default) or `"report-only"`.
    #[cfg_attr(feature = "serde", serde(default))]
    pub mode: PolicyMode,
    /// See [`PolicyConfig::allow_origins`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub allow_origins: Vec<String>,
    /// See [`PolicyConfig::allow_methods`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub allow_methods: Vec<String>,
    /// See [`PolicyConfig::allow_headers`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub allow_headers: Vec<String>,
    /// See [`PolicyConfig::expose_headers`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub expose_headers: Vec<String>,
    /// See [`PolicyConfig::allow_credentials`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub allow_credentials: bool,
    /// See [`PolicyConfig::max_age`].
    pub max_age: Option<i64>,
    /// See [`PolicyConfig::allow_private_network`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub allow_private_network: bool,
    /// See [`PolicyConfig::allow_insecure_origins`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub allow_insecure_origins: bool,
    /// See [`PolicyConfig::debug`].
    #[cfg_attr(feature = "serde", serde(default))]
    pub debug: bool,
    /// `protect_unsafe_requests`: cross-origin protection (CSRF) for this
    /// policy (see [`crate::cross_origin`]); `None` is the default, on.
    pub protect_unsafe_requests: Option<bool>,
    /// `protect_unsafe_requests_exempt`: exact paths that take unsafe
    /// requests from browsers of any origin (see
    /// [`CrossOriginProtection::exempt_paths`]).
    #[cfg_attr(feature = "serde", serde(default))]
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
    /// path prefix's form (a path starting with `/`), the cross-origin
    /// protection and the policy. Problems are pushed under keys
    /// `policy[{index}].…`, with the gateway's messages. Paths are taken as
    /// written and compared case-sensitively; the gateway, which routes on
    /// a normalized path, calls [`validate_routed`](Self::validate_routed).
    pub fn validate(
        &self,
        index: usize,
        names: &mut HashSet<String>,
        problems: &mut Vec<FileProblem>,
    ) -> Option<PolicyEntry> {
        self.validate_routed(index, names, problems, true, &|p| Ok(p.to_owned()))
    }

    /// [`validate`](Self::validate) for a router that decides on a normalized
    /// path: `canonical` gives the form a path is routed on (or why it has
    /// none), and the path prefix and every exempt path must already be in
    /// that form, or they could never match; `case_sensitive` is how paths
    /// compare. The gateway validates its `[[policy]]` tables with this, so
    /// it and `PolicyFile` (the `toml` feature) accept the same tables.
    pub fn validate_routed(
        &self,
        index: usize,
        names: &mut HashSet<String>,
        problems: &mut Vec<FileProblem>,
        case_sensitive: bool,
        canonical: &dyn Fn(&str) -> Result<String, String>,
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
        } else {
            match canonical(&path_prefix) {
                Ok(c) if c == path_prefix => {}
                Ok(c) => p(
                    format!("{prefix}.path_prefix"),
                    None,
                    format!(
                        "{path_prefix:?} is not in canonical form (requests are routed on their normalized path); \
                         write {c:?}"
                    ),
                ),
                Err(r) => p(format!("{prefix}.path_prefix"), None, format!("{path_prefix:?}: {r}")),
            }
        }
        let exempt_form = |e: &str| match canonical(e) {
            Ok(c) if c == e => Ok(()),
            Ok(c) => Err(format!(
                "{e:?} is not in canonical form (requests are decided on their normalized path, so it could never \
                 match); write {c:?}"
            )),
            Err(r) => Err(format!("{e:?}: {r}")),
        };
        let (protection, exempt_problems) = CrossOriginProtection::from_table(
            self.protect_unsafe_requests,
            &self.protect_unsafe_requests_exempt,
            &path_prefix,
            case_sensitive,
            exempt_form,
        );
        for e in exempt_problems {
            p(format!("{prefix}.{EXEMPT_KEY}[{}]", e.index), e.kind, e.message);
        }
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

/// A host name as `hosts` takes it: DNS labels (letters, digits, `-`,
/// `_`), at most 253 bytes, or a bracketed IPv6 address.
fn is_host_name(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && (h.split('.').all(|l| {
            !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }) || (h.starts_with('[') && h.ends_with(']') && h[1..h.len() - 1].parse::<std::net::Ipv6Addr>().is_ok()))
}
