//! The Doorman tower layer: wraps any HTTP service (the forwarding proxy, or an axum shop
//! in-process) and applies Doorman's decisions before the inner service sees a request.
//!
//! Shaped like tower-http's middleware: [`DoormanLayer`] makes [`Doorman`] services, whose
//! [`ResponseFuture`] either drives the inner service or answers early.
//!
//! ```
//! use doorman::hosts::layer::DoormanLayer;
//! use tower::{service_fn, ServiceBuilder};
//!
//! let shop = service_fn(|_req: http::Request<String>| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("shop")))
//! });
//! let protected = ServiceBuilder::new().layer(DoormanLayer::new()).service(shop);
//! # let _ = protected;
//! ```

mod future;
mod service;

pub use future::ResponseFuture;
pub use service::Doorman;

/// Makes [`Doorman`] services. Cheap to clone: state is shared.
#[derive(Clone, Debug, Default)]
pub struct DoormanLayer {
    _private: (),
}

impl DoormanLayer {
    /// A layer that forwards every request to the inner service.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> tower::Layer<S> for DoormanLayer {
    type Service = Doorman<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Doorman::new(inner, self.clone())
    }
}
