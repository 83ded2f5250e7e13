//! The [`Doorman`] service: classifies a request and either passes it on or answers itself.

use std::task::{Context, Poll};

use http::Request;

use super::{DoormanLayer, ResponseFuture};

/// A service wrapped by [`DoormanLayer`].
#[derive(Clone, Debug)]
pub struct Doorman<S> {
    inner: S,
    layer: DoormanLayer,
}

impl<S> Doorman<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, layer: DoormanLayer) -> Self {
        Self { inner, layer }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, B> tower::Service<Request<B>> for Doorman<S>
where
    S: tower::Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let _ = &self.layer;
        ResponseFuture::inner(self.inner.call(req))
    }
}
