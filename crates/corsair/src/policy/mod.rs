//! The policy model: a plain configuration ([`PolicyConfig`]), its
//! validation into typed errors ([`ConfigError`], each with a stable code),
//! and the validated, precompiled form ([`Policy`]) that decisions read.

mod compiled;
mod config;
mod error;
#[cfg(feature = "toml")]
mod file;
mod mode;
mod table;
#[cfg(test)]
mod tests;
mod validate;

pub(crate) use validate::INSECURE_ORIGIN;

pub use compiled::Policy;
pub use config::{IntoHeaderName, IntoMaxAge, IntoMethod, IntoOrigin, PolicyConfig};
pub use error::{ConfigError, ConfigErrorKind, ConfigErrors};
#[cfg(feature = "toml")]
pub use file::{PolicyFile, PolicyFileError};
pub use mode::PolicyMode;
pub use table::{FileProblem, PolicyEntry, PolicyTable};

/// The longest header name a policy may list (and that a preflight may ask
/// for by name). Browsers have no such limit, but no real header comes close.
pub(crate) const MAX_HEADER_NAME: usize = 128;

/// The largest `max_age`: browsers cap it lower (Chromium 7200 s), and
/// Firefox's cap of 86400 s is the highest any browser honours.
pub const MAX_AGE_LIMIT: i64 = 86_400;
