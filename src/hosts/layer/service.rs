//! The [`Doorman`] service: asks the application tier whether it has an action for a request,
//! and either passes the request on untouched or runs that action.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::ConnectInfo;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};

use super::body::BodyFromBytes;
use super::checkout::run;
use super::ResponseFuture;
use crate::app::{Action, App};
use crate::ports::store::Store;

/// The connection's address from the request's extensions: a [`PeerAddr`], or axum's
/// [`ConnectInfo`].
fn peer_of<B>(req: &Request<B>) -> Option<IpAddr> {
    let extensions = req.extensions();
    extensions
        .get::<PeerAddr>()
        .map(|p| p.0)
        .or_else(|| extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()))
}

/// A service wrapped by [`super::DoormanLayer`].
///
/// Per-client limits (the waitlist's forms) need the client's connection address: the service
/// knows it when made for one connection ([`super::DoormanLayer::layer_for_peer`]), and
/// otherwise reads it from the request's extensions, where axum puts it
/// (`into_make_service_with_connect_info::<SocketAddr>()`, [`ConnectInfo`]) and where any host
/// may put a [`PeerAddr`]. Without either, per-client limits do not apply.
pub struct Doorman<S, St> {
    inner: S,
    app: Arc<App<St>>,
    peer: Option<IpAddr>,
}

/// The address of the connection a request came on, for hosts that put it into the request's
/// extensions themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub IpAddr);

impl<S: Clone, St> Clone for Doorman<S, St> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), app: self.app.clone(), peer: self.peer }
    }
}

impl<S, St> Doorman<S, St> {
    /// Wraps `inner` with `app`'s decisions.
    pub fn new(inner: S, app: Arc<App<St>>) -> Self {
        Self { inner, app, peer: None }
    }

    /// For one connection from `peer`.
    pub fn with_peer(mut self, peer: IpAddr) -> Self {
        self.peer = Some(peer);
        self
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
        // An event page gets the waitlist button only where the answer's body can stream.
        let action = self
            .app
            .classify(req.method(), req.uri().path())
            .filter(|a| R::STREAMS || !matches!(a, Action::EventPage(_)));
        if let Some(action) = action {
            let peer = self.peer.or_else(|| peer_of(&req));
            let context = self.app.context(peer, req.headers());
            // The ready service is taken for this request; a fresh clone stays for the next.
            let fresh = self.inner.clone();
            let ready = std::mem::replace(&mut self.inner, fresh);
            return ResponseFuture::checkout(Box::pin(run(self.app.clone(), ready, req, action, context)));
        }
        ResponseFuture::inner(self.inner.call(req))
    }
}
