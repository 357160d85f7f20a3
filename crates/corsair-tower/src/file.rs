//! Layers from a corsair config file's `[[policy]]` tables (the `toml`
//! feature, on by default): one file can configure the gateway and the app.

use std::fmt;
use std::path::{Path, PathBuf};

use corsair::{PolicyEntry, PolicyFile, PolicyFileError};

use crate::CorsLayer;

/// Why a layer could not be made from a config file.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigFileError {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file's `[[policy]]` tables have problems (every one is listed).
    Invalid(PolicyFileError),
    /// No `[[policy]]` table has this name.
    NoSuchPolicy {
        /// The name asked for.
        name: String,
        /// The names the file has.
        available: Vec<String>,
    },
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, error } => write!(f, "cannot read {}: {error}", path.display()),
            Self::Invalid(e) => write!(f, "{e}"),
            Self::NoSuchPolicy { name, available } => write!(
                f,
                "no [[policy]] named {name:?}; the file has {}",
                available
                    .iter()
                    .map(|n| format!("{n:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl std::error::Error for ConfigFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read { error, .. } => Some(error),
            Self::Invalid(e) => Some(e),
            Self::NoSuchPolicy { .. } => None,
        }
    }
}

impl CorsLayer {
    /// The layer of the `[[policy]]` named `name` in the corsair config
    /// file at `path` (see [`PolicyFile`]): named after it, in its `mode`.
    /// The gateway's own keys in the file are ignored; every problem of its
    /// `[[policy]]` tables is reported.
    pub fn from_config_file(path: impl AsRef<Path>, name: &str) -> Result<Self, ConfigFileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| ConfigFileError::Read {
            path: path.to_owned(),
            error,
        })?;
        Self::from_config_text(&text, name)
    }

    /// [`from_config_file`](Self::from_config_file) on the file's text.
    ///
    /// ```
    /// use corsair::PolicyMode;
    /// use corsair_tower::CorsLayer;
    ///
    /// let text = r#"
    /// upstream = "http://127.0.0.1:3000"   # the gateway's; ignored here
    ///
    /// [[policy]]
    /// name = "api"
    /// mode = "report-only"
    /// allow_origins = ["https://app.example.com"]
    /// allow_methods = ["PUT"]
    /// "#;
    /// let layer = CorsLayer::from_config_text(text, "api")?;
    /// assert_eq!(layer.name(), Some("api"));
    /// assert_eq!(layer.mode(), PolicyMode::ReportOnly);
    /// assert!(CorsLayer::from_config_text(text, "web").is_err());
    /// # Ok::<(), corsair_tower::ConfigFileError>(())
    /// ```
    pub fn from_config_text(text: &str, name: &str) -> Result<Self, ConfigFileError> {
        let file = PolicyFile::parse(text).map_err(ConfigFileError::Invalid)?;
        let available: Vec<String> = file.policies().iter().map(|p| p.name.clone()).collect();
        match file.into_policies().into_iter().find(|p| p.name == name) {
            Some(entry) => Ok(Self::from_policy_entry(entry)),
            None => Err(ConfigFileError::NoSuchPolicy {
                name: name.to_owned(),
                available,
            }),
        }
    }

    /// The layer of one validated `[[policy]]` table: its policy, named
    /// after it, in its mode, with its cross-origin protection
    /// (`protect_unsafe_requests`, `protect_unsafe_requests_exempt`).
    pub fn from_policy_entry(entry: PolicyEntry) -> Self {
        Self::new(entry.policy)
            .named(entry.name)
            .with_mode(entry.mode)
            .cross_origin_protection(entry.protection)
    }
}
