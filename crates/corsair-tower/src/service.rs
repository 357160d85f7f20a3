//! [`Cors`], the service: one decision per request, the preflight answered
//! here or the inner service's response decorated (enforce mode), or the
//! inner service's response compared and left alone (report-only mode).
//! Before it, cross-origin protection: an untrusted browser's unsafe request
//! is answered `403` here (enforce mode).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use corsair::{Decision, Policy};
use http::{Extensions, Request, Response};
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::layer::Shared;
use crate::shadow::Observation;

/// The CORS middleware service. Build it with [`CorsLayer`](crate::CorsLayer).
#[derive(Debug, Clone)]
pub struct Cors<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Cors<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }

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
        let shared = &*self.shared;
        let loaded;
        let policy: &Arc<Policy> = match &shared.enforced {
            // The usual layer: one fixed policy, enforced.
            Some(p) => p,
            None => {
                loaded = shared.source.load();
                if shared.report_only {
                    return observe(&mut self.inner, &self.shared, &loaded, req);
                }
                &loaded
            }
        };
        // Cross-origin protection first: a refused unsafe request never
        // reaches the service (a safe method costs one comparison).
        if let Err(r) = shared.protection.check_request(policy, &req) {
            return ResponseFuture {
                state: State::Ready {
                    resp: Some(crate::protection::refuse(&shared.reasons, &req, r)),
                },
            };
        }
        let decision = policy.evaluate(req.method(), req.headers());
        let reasons = &shared.reasons;
        let rejected = |r| {
            if reasons.wanted() {
                reasons.rejected(decision.kind(), r, req.method(), req.uri().path(), req.headers())
            } else {
                None
            }
        };
        if decision.is_preflight() {
            // Answered here: the policy writes its answer straight into the
            // response's (empty) header map.
            let mut resp = Response::new(ResBody::default());
            if let Some(status) = policy.write_preflight(&decision, resp.headers_mut()) {
                *resp.status_mut() = status;
                if let Some(r) = decision.rejection().and_then(rejected) {
                    attach(&mut resp, r);
                }
                return ResponseFuture {
                    state: State::Ready { resp: Some(resp) },
                };
            }
        }
        let rejected = decision.rejection().and_then(rejected).unwrap_or_default();
        let policy = Arc::clone(policy);
        ResponseFuture {
            state: State::Inner {
                fut: self.inner.call(req),
                policy,
                decision,
                rejected,
            },
        }
    }
}

/// Report-only mode: the request goes to the inner service as it is; its
/// response will be compared with the policy's verdict (and with
/// cross-origin protection's).
#[cold]
fn observe<S, ReqBody, ResBody>(
    inner: &mut S,
    shared: &Arc<Shared>,
    policy: &Arc<Policy>,
    req: Request<ReqBody>,
) -> ResponseFuture<S::Future, ResBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    let decision = policy.evaluate(req.method(), req.headers());
    let refusal = shared.protection.check_request(policy, &req).err();
    let observation = Observation::new(shared, policy, decision, refusal, &req);
    let fut = inner.call(req);
    ResponseFuture {
        state: match observation {
            Some(obs) => State::Observed { fut, obs },
            None => State::Passthrough { fut },
        },
    }
}

/// Puts the reason in the response's extensions (rejected requests only,
/// kept out of the request path's code): the [`Extensions`] that
/// [`Reasons::rejected`](crate::reasons::Reasons::rejected) built, taken
/// whole when the response has none, merged otherwise (the reason replaces
/// any [`CorsRejection`](crate::CorsRejection) already there, as an insertion
/// would).
#[cold]
#[inline(never)]
fn attach<B>(resp: &mut Response<B>, ext: Extensions) {
    resp.extensions_mut().extend(ext);
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
        // `rejected`: the reason for the response's extensions, empty (no
        // allocation) unless the request was rejected and the layer keeps
        // reasons there.
        Inner { #[pin] fut: F, policy: Arc<Policy>, decision: Decision, rejected: Extensions },
        Passthrough { #[pin] fut: F },
        Observed { #[pin] fut: F, obs: Box<Observation> },
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Ready { resp } => match resp.take() {
                Some(r) => Poll::Ready(Ok(r)),
                None => Poll::Pending,
            },
            StateProj::Inner {
                fut,
                policy,
                decision,
                rejected,
            } => {
                let mut resp = ready!(fut.poll(cx))?;
                policy.apply(decision, resp.headers_mut());
                if decision.rejection().is_some() {
                    attach(&mut resp, std::mem::take(rejected));
                }
                Poll::Ready(Ok(resp))
            }
            StateProj::Passthrough { fut } => fut.poll(cx),
            StateProj::Observed { fut, obs } => {
                let resp = ready!(fut.poll(cx))?;
                obs.compare(&resp);
                Poll::Ready(Ok(resp))
            }
        }
    }
}
