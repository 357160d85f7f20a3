//! [`Policy`]: a validated, immutable policy with every answer precomputed.

use http::{HeaderMap, HeaderValue};

use super::PolicyConfig;
use crate::nameset::NameSet;
use crate::origin::{DynamicOrigins, OriginMatcher};

/// A validated, immutable CORS policy with every response header value
/// precomputed. Build one with [`PolicyConfig::build`], share it (it is
/// `Send + Sync`; wrap it in an `Arc`), and ask it for decisions with
/// [`Policy::evaluate`].
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) origins: OriginMatcher,
    pub(crate) credentials: bool,
    pub(crate) any_method: bool,
    pub(crate) methods: NameSet,
    pub(crate) any_header: bool,
    pub(crate) headers: NameSet,
    pub(crate) authorization_listed: bool,
    pub(crate) expose: Option<HeaderValue>,
    pub(crate) max_age: Option<HeaderValue>,
    pub(crate) private_network: bool,
    pub(crate) debug: bool,
    pub(crate) preflight_vary: HeaderValue,
    /// The configured methods, for debug-mode answers to method rejections.
    pub(crate) listed_methods: HeaderValue,
    /// The answers to accepted preflights, see `Policy::preflight_templates`.
    pub(crate) preflight_ok: [HeaderMap; 4],
    /// The answer to refused preflights, see `Policy::preflight_refusal`.
    pub(crate) preflight_refused: HeaderMap,
    /// Origins allowed besides `origins`, read at each request.
    pub(crate) dynamic: Option<DynamicOrigins>,
    pub(crate) config: PolicyConfig,
}

impl Policy {
    /// Whether this policy answers `Access-Control-Allow-Origin: *` (a public
    /// resource), in which case its headers do not depend on `Origin`.
    pub fn is_public(&self) -> bool {
        self.origins.any
    }

    /// Whether credentials are allowed.
    pub fn allows_credentials(&self) -> bool {
        self.credentials
    }

    /// Whether debug mode is on.
    pub fn is_debug(&self) -> bool {
        self.debug
    }

    /// Whether the policy allows this origin (its exact serialization).
    /// A public (`*`) policy allows every origin, `null` included (its
    /// answer is the same `*` for every request); any other policy never
    /// allows `null`.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origins.any || (origin != "null" && (self.origins.matches(origin) || self.dynamic_allows(origin)))
    }

    /// Whether the dynamic origin set, if any, allows the origin now.
    #[inline]
    pub(crate) fn dynamic_allows(&self, origin: &str) -> bool {
        self.dynamic.as_ref().is_some_and(|d| d.matches(origin))
    }

    /// The dynamic origin set the policy was built with
    /// ([`PolicyConfig::build_with_dynamic_origins`]).
    pub fn dynamic_origins(&self) -> Option<&DynamicOrigins> {
        self.dynamic.as_ref()
    }

    /// The configuration this policy was built from (normalized: methods
    /// uppercased where Fetch uppercases them).
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// The number of exact origins and patterns of `allow_origins`
    /// (excluding `*`, and the dynamic set's).
    pub fn origin_count(&self) -> usize {
        self.origins.len()
    }
}
