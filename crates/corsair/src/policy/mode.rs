//! [`PolicyMode`]: whether a policy's answers go out (`enforce`) or are only
//! compared with the service's own (`report-only`).

use std::fmt;

/// What a policy does with its verdicts: `mode` in a corsair config's
/// `[[policy]]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum PolicyMode {
    /// `enforce` (the default): the policy answers preflights and writes the
    /// CORS headers of every response.
    #[default]
    Enforce,
    /// `report-only`: the policy decides every request as usual but the
    /// service's own answer goes out untouched; where the two disagree, the
    /// disagreement is recorded (see [`crate::shadow`]).
    ReportOnly,
}

impl PolicyMode {
    /// `enforce` or `report-only`, as written in a config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::ReportOnly => "report-only",
        }
    }
}

impl fmt::Display for PolicyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
