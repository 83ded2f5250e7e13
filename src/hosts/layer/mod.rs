//! The Doorman tower layer: wraps any HTTP service (the forwarding proxy, or an axum shop
//! in-process) and applies Doorman's decisions before the inner service sees a request.
//!
//! Shaped like tower-http's middleware: [`DoormanLayer`] makes [`Doorman`] services, whose
//! [`ResponseFuture`] either drives the inner service or answers early. Requests that are not
//! checkouts pass through untouched; checkouts are buffered (up to the policy's limit), checked
//! against the blacklist, then forwarded byte for byte or answered with a quiet redirect.
//!
//! ```
//! use doorman::hosts::layer::DoormanLayer;
//! use tower::{service_fn, ServiceBuilder};
//!
//! let shop = service_fn(|_req: http::Request<String>| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("shop")))
//! });
//! // Without a blacklist guard the layer forwards everything.
//! let protected = ServiceBuilder::new().layer(DoormanLayer::new()).service(shop);
//! # let _ = protected;
//! ```

mod body;
mod buffer;
mod checkout;
mod future;
mod guard;
mod service;
mod timing;

use std::sync::Arc;

pub use body::BodyFromBytes;
pub use future::ResponseFuture;
pub use guard::BlacklistGuard;
pub use service::Doorman;

/// Makes [`Doorman`] services. Cheap to clone: state is shared.
#[derive(Clone, Default)]
pub struct DoormanLayer {
    blacklist: Option<Arc<BlacklistGuard>>,
}

impl DoormanLayer {
    /// A layer that forwards every request to the inner service.
    pub fn new() -> Self {
        Self::default()
    }

    /// A layer that checks checkouts against the blacklist `guard`.
    pub fn with_blacklist(guard: Arc<BlacklistGuard>) -> Self {
        Self { blacklist: Some(guard) }
    }
}

impl<S> tower::Layer<S> for DoormanLayer {
    type Service = Doorman<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Doorman::new(inner, self.blacklist.clone())
    }
}
