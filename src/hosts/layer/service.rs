//! The [`Doorman`] service: classifies a request and either passes it on untouched or runs the
//! checkout phases.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};

use super::body::BodyFromBytes;
use super::checkout::checkout;
use super::guard::BlacklistGuard;
use super::ResponseFuture;

/// A service wrapped by [`super::DoormanLayer`].
#[derive(Clone)]
pub struct Doorman<S> {
    inner: S,
    blacklist: Option<Arc<BlacklistGuard>>,
}

impl<S> Doorman<S> {
    /// Wraps `inner`; with a guard, checkouts are checked against the blacklist.
    pub fn new(inner: S, blacklist: Option<Arc<BlacklistGuard>>) -> Self {
        Self { inner, blacklist }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, B, R> tower::Service<Request<B>> for Doorman<S>
where
    S: tower::Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: hyper::body::Body<Data = Bytes> + BodyFromBytes + Unpin + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    R: BodyFromBytes + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // Phase "classify": only checkout-completion routes are looked at; everything else goes
        // straight to the inner service, with no allocation and no store access.
        if let Some(guard) = &self.blacklist {
            if let Some(classified) = guard.classify(req.method(), req.uri().path()) {
                // The ready service is taken for this request; a fresh clone stays for the next.
                let fresh = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, fresh);
                return ResponseFuture::checkout(Box::pin(checkout(guard.clone(), ready, req, classified)));
            }
        }
        ResponseFuture::inner(self.inner.call(req))
    }
}
