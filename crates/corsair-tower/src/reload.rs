//! [`PolicyHandle`]: replaces the policy of a reloadable layer while it
//! serves.

use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;
use corsair::{ConfigErrors, Policy, PolicyConfig};

/// Replaces the policy of a layer made with
/// [`CorsLayer::reloadable`](crate::CorsLayer::reloadable) (or
/// [`CorsLayerBuilder::build_reloadable`](crate::CorsLayerBuilder::build_reloadable)),
/// atomically: a request is decided and answered by the policy current
/// when it arrived, never by a mixture. Clones control the same layer.
#[derive(Clone)]
pub struct PolicyHandle {
    current: Arc<ArcSwap<Policy>>,
}

impl fmt::Debug for PolicyHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyHandle").finish_non_exhaustive()
    }
}

impl PolicyHandle {
    pub(crate) fn new(current: Arc<ArcSwap<Policy>>) -> Self {
        Self { current }
    }

    /// Makes `policy` the layer's policy from the next request on.
    pub fn replace(&self, policy: Policy) {
        self.current.store(Arc::new(policy));
    }

    /// [`replace`](Self::replace) with a shared policy.
    pub fn replace_shared(&self, policy: Arc<Policy>) {
        self.current.store(policy);
    }

    /// Builds `config` and makes it the policy; when it is invalid, the
    /// current policy stays and every problem is returned (as jub0bs/cors's
    /// `Reconfigure`).
    pub fn reconfigure(&self, config: &PolicyConfig) -> Result<(), ConfigErrors> {
        self.replace(config.build()?);
        Ok(())
    }

    /// The current policy.
    pub fn current(&self) -> Arc<Policy> {
        self.current.load_full()
    }
}
