//! [`PolicyFile`]: the `[[policy]]` tables of a corsair config file (the
//! gateway's TOML), read by the library, so that one file can configure the
//! gateway and an application alike.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;

use super::{FileProblem, PolicyEntry, PolicyTable};

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
/// Each table gives a named [`Policy`](crate::Policy) with its routing data (`hosts`,
/// `path_prefix`) and its [`PolicyMode`](crate::PolicyMode). The gateway's own keys are
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

#[cfg(test)]
mod tests;
