//! # corsair-tower
//!
//! A [`tower`](https://docs.rs/tower) [`Layer`](tower_layer::Layer) that applies a [`corsair`]
//! CORS policy in front of any service: axum routers, hyper services, tonic
//! servers.
//!
//! - Preflights (`OPTIONS` + `Origin` + `Access-Control-Request-Method`) are
//!   answered by the layer (204 when accepted, 403 with no CORS headers when
//!   rejected); the inner service never sees them.
//! - Every other response gets the policy's headers: the inner service's own
//!   `Access-Control-*` headers are replaced, `Vary: Origin` is merged.
//! - The decision is made once per request by the pure engine, with every
//!   header value precomputed when the policy was built.
//! - Every rejection has a reason: a `tracing` event (target `corsair`, at
//!   [`CorsLayer::rejection_level`], `DEBUG` by default), a
//!   [`CorsRejection`] in the response's extensions and, if the app wants,
//!   its own [`CorsLayer::on_rejection`] hook.
//! - [`CorsLayer::report_only`] tries a policy on live traffic without
//!   changing a response, and reports where it would differ
//!   ([`CorsLayer::report`]).
//! - [`CorsLayer::reloadable`] swaps the policy while serving;
//!   [`corsair::DynamicOrigins`] adds and removes origins at run time;
//!   [`CorsLayer::from_config_file`] reads the gateway's `[[policy]]`
//!   tables; [`CorsLayer::builder`] speaks tower-http's method names.
//!
//! ```
//! use corsair::PolicyConfig;
//! use corsair_tower::CorsLayer;
//! use http::{Request, Response, StatusCode};
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = PolicyConfig::new()
//!     .allow_origins(["https://app.example.com"])
//!     .allow_methods(["PUT"])
//!     .build()?;
//! let app = service_fn(|_req: Request<String>| async {
//!     Ok::<_, std::convert::Infallible>(Response::new(String::from("hello")))
//! });
//! let svc = CorsLayer::new(policy).layer(app);
//!
//! let req = Request::get("/").header("origin", "https://app.example.com").body(String::new())?;
//! let resp = svc.clone().oneshot(req).await?;
//! assert_eq!(resp.headers()["access-control-allow-origin"], "https://app.example.com");
//! assert_eq!(resp.headers()["vary"], "Origin");
//!
//! let preflight = Request::options("/")
//!     .header("origin", "https://evil.example")
//!     .header("access-control-request-method", "PUT")
//!     .body(String::new())?;
//! let resp = svc.oneshot(preflight).await?;
//! assert_eq!(resp.status(), StatusCode::FORBIDDEN);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod builder;
#[cfg(feature = "toml")]
mod file;
mod layer;
mod protection;
mod reasons;
mod reload;
mod service;
mod shadow;

pub use builder::{Any, CorsLayerBuilder};
#[cfg(feature = "toml")]
pub use file::ConfigFileError;
pub use layer::CorsLayer;
pub use protection::CrossOriginRefusal;
pub use reasons::{CorsRejection, RejectionEvent};
pub use reload::PolicyHandle;
pub use service::{Cors, ResponseFuture};

/// The README's code blocks, compiled and run as doc tests, so that the
/// README's library examples always build.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
