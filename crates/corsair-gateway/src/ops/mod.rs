//! Operations: the admin listener, the metrics behind it, and config reload.

pub(crate) mod admin;
pub(crate) mod metrics;
pub(crate) mod reload;
