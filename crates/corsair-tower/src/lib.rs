//! # corsair-tower
//!
//! A [`tower`](https://docs.rs/tower) [`Layer`] that applies a [`corsair`]
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

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use corsair::{Decision, Policy};
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

/// A [`Layer`] that wraps services in [`Cors`].
#[derive(Debug, Clone)]
pub struct CorsLayer {
    policy: Arc<Policy>,
}

impl CorsLayer {
    /// A layer enforcing `policy`.
    pub fn new(policy: Policy) -> Self {
        Self {
            policy: Arc::new(policy),
        }
    }

    /// A layer enforcing a shared policy.
    pub fn from_shared(policy: Arc<Policy>) -> Self {
        Self { policy }
    }

    /// The policy.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }
}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Cors {
            inner,
            policy: self.policy.clone(),
        }
    }
}

/// The CORS middleware service. Build it with [`CorsLayer`].
#[derive(Debug, Clone)]
pub struct Cors<S> {
    inner: S,
    policy: Arc<Policy>,
}

impl<S> Cors<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Cors<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let decision = self.policy.evaluate(req.method(), req.headers());
        if decision.is_preflight() {
            // Answered here: the policy writes its answer straight into the
            // response's (empty) header map.
            let mut resp = Response::new(ResBody::default());
            if let Some(status) = self.policy.write_preflight(&decision, resp.headers_mut()) {
                *resp.status_mut() = status;
                return ResponseFuture {
                    state: State::Ready { resp: Some(resp) },
                };
            }
        }
        ResponseFuture {
            state: State::Inner {
                fut: self.inner.call(req),
                policy: self.policy.clone(),
                decision,
            },
        }
    }
}

pin_project! {
    /// The future of [`Cors`].
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Ready { resp: Option<Response<B>> },
        Inner { #[pin] fut: F, policy: Arc<Policy>, decision: Decision },
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Ready { resp } => match resp.take() {
                Some(r) => Poll::Ready(Ok(r)),
                None => Poll::Pending,
            },
            StateProj::Inner { fut, policy, decision } => {
                let mut resp = ready!(fut.poll(cx))?;
                policy.apply(decision, resp.headers_mut());
                Poll::Ready(Ok(resp))
            }
        }
    }
}
