//! The [`Doorman`] service: asks the application tier whether it has an action for a request,
//! and either passes the request on untouched or runs that action.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};

use super::body::BodyFromBytes;
use super::checkout::run;
use super::ResponseFuture;
use crate::app::App;
use crate::ports::store::Store;

/// A service wrapped by [`super::DoormanLayer`].
pub struct Doorman<S, St> {
    inner: S,
    app: Arc<App<St>>,
}

impl<S: Clone, St> Clone for Doorman<S, St> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), app: self.app.clone() }
    }
}

impl<S, St> Doorman<S, St> {
    /// Wraps `inner` with `app`'s decisions.
    pub fn new(inner: S, app: Arc<App<St>>) -> Self {
        Self { inner, app }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, St, B, R> tower::Service<Request<B>> for Doorman<S, St>
where
    S: tower::Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    St: Store + Clone,
    B: hyper::body::Body<Data = Bytes> + BodyFromBytes + Unpin + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    R: BodyFromBytes + hyper::body::Body<Data = Bytes> + Send + 'static,
    R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // Phase "classify": only requests the tier has an action for (checkout completions) are
        // looked at; everything else goes straight to the inner service, with no allocation and
        // no store access.
        if let Some(action) = self.app.classify(req.method(), req.uri().path()) {
            // The ready service is taken for this request; a fresh clone stays for the next.
            let fresh = self.inner.clone();
            let ready = std::mem::replace(&mut self.inner, fresh);
            return ResponseFuture::checkout(Box::pin(run(self.app.clone(), ready, req, action)));
        }
        // An event page that may get the waitlist button (only for body types that can stream).
        if R::STREAMS {
            if let Some(event) = self.app.event_page(req.method(), req.uri().path()) {
                let fresh = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, fresh);
                return ResponseFuture::checkout(Box::pin(super::page::run(
                    self.app.clone(),
                    ready,
                    req,
                    event,
                )));
            }
        }
        ResponseFuture::inner(self.inner.call(req))
    }
}
