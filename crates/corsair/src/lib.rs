//! # corsair
//!
//! A restrictive-by-default, spec-exact CORS policy engine. Pure: it depends
//! on the [`http`] crate only and does no I/O, so the same decision code serves
//! the `corsair-tower` middleware, the `corsair serve` gateway and
//! `corsair check --policy`.
//!
//! The server half:
//! 1. write a [`PolicyConfig`] (or deserialize one, with the `serde` feature);
//! 2. [`PolicyConfig::build`] validates it — every insecure or malformed
//!    setting is refused with the key, the value and the reason — and
//!    precomputes every header value;
//! 3. per request, [`Policy::evaluate`] classifies and decides;
//!    [`Policy::preflight_response`] answers preflights (or
//!    [`Policy::write_preflight`], straight into a response's headers) and
//!    [`Policy::apply`] decorates every other response.
//!
//! ```
//! use corsair::PolicyConfig;
//! use http::{HeaderMap, HeaderValue, Method, StatusCode};
//!
//! let policy = PolicyConfig::new()
//!     .allow_origins(["https://app.example.com"])
//!     .allow_methods(["PUT"])
//!     .allow_headers(["content-type"])
//!     .max_age(600)
//!     .build()?;
//!
//! // A preflight from the allowed origin.
//! let mut req = HeaderMap::new();
//! req.insert("origin", HeaderValue::from_static("https://app.example.com"));
//! req.insert("access-control-request-method", HeaderValue::from_static("PUT"));
//! req.insert("access-control-request-headers", HeaderValue::from_static("content-type"));
//! let decision = policy.evaluate(&Method::OPTIONS, &req);
//! let (status, headers) = policy.preflight_response(&decision).unwrap();
//! assert_eq!(status, StatusCode::NO_CONTENT);
//! assert_eq!(headers["access-control-allow-origin"], "https://app.example.com");
//! assert_eq!(headers["access-control-allow-methods"], "PUT");
//! assert_eq!(headers["access-control-max-age"], "600");
//!
//! // The same preflight from elsewhere: 403 and no CORS headers.
//! req.insert("origin", HeaderValue::from_static("https://evil.example"));
//! let decision = policy.evaluate(&Method::OPTIONS, &req);
//! let (status, headers) = policy.preflight_response(&decision).unwrap();
//! assert_eq!(status, StatusCode::FORBIDDEN);
//! assert!(headers.get("access-control-allow-origin").is_none());
//! assert_eq!(decision.rejection().unwrap().code(), "origin_not_allowed");
//! # Ok::<(), corsair::ConfigErrors>(())
//! ```
//!
//! Around it: [`DynamicOrigins`], an origin set that changes while a policy
//! serves ([`PolicyConfig::build_with_dynamic_origins`]); [`shadow`],
//! report-only mode's comparison of a policy's verdict with a service's own
//! answer and its bounded report; and, with the `toml` feature,
//! `PolicyFile`, the `[[policy]]` tables of a corsair config file.
//! Next to CORS, [`cross_origin`] refuses what CORS cannot: unsafe requests
//! (a cross-site `<form method=post>`, a `no-cors` POST) that a browser sends
//! for a page of an origin the policy does not allow
//! ([`CrossOriginProtection::check`], Go's `CrossOriginProtection` with the
//! policy's `allow_origins` as the trusted origins).
//!
//! The user-agent half, [`agent`], runs the browser's side of the protocol:
//! whether a request needs a preflight, what it sends, and whether the
//! responses pass the browser's checks.
//!
//! Both halves share [`fetch`], the Fetch Standard's primitives (methods,
//! header-name classes, list syntax), one function per concept. Code that
//! implements a step of the standard names it in a comment, e.g.
//! `// Fetch §4.8 "CORS-preflight fetch", step 7.5`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod agent;
pub mod cross_origin;
mod decision;
pub mod fetch;
mod nameset;
mod origin;
mod policy;
pub mod shadow;

pub use cross_origin::{CrossOriginProtection, CrossOriginRejection};
pub use decision::{
    Decision, Rejection, RequestKind, ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK, ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK,
};
pub use origin::{DynamicOrigins, OriginPattern, PatternError};
pub use policy::{
    ConfigError, ConfigErrorKind, ConfigErrors, FileProblem, IntoHeaderName, IntoMaxAge, IntoMethod, IntoOrigin,
    Policy, PolicyConfig, PolicyEntry, PolicyMode, PolicyTable, MAX_AGE_LIMIT,
};
#[cfg(feature = "toml")]
pub use policy::{PolicyFile, PolicyFileError};
