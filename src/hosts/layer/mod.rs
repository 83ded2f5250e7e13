//! The Doorman tower layer: wraps any HTTP service (the forwarding proxy, or an axum or hyper
//! shop in-process) and applies Doorman's decisions before the inner service sees a request.
//!
//! Shaped like tower-http's middleware: [`DoormanLayer`] makes [`Doorman`] services, whose
//! [`ResponseFuture`] either drives the inner service or answers early. The decisions are the
//! application tier's ([`crate::app`]); this host only hands it requests and tokio's timers.
//! Requests that are not checkouts pass through untouched; checkouts are buffered (up to the
//! policy's limit), checked against the blacklist, then forwarded byte for byte or answered
//! with a quiet redirect.
//!
//! ```no_run
//! use doorman::core::policy::Policy;
//! use doorman::core::email_hash::EmailHasher;
//! use doorman::hosts::layer::DoormanLayer;
//! # use doorman::adapters::store::EmbeddedStore;
//! use tower::{service_fn, ServiceBuilder};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = Policy::from_toml_str("shop.toml", &std::fs::read_to_string("shop.toml")?, std::iter::empty())?;
//! let store = EmbeddedStore::open("doorman.redb".as_ref(), "shop")?; // or a RedisStore, or your own Store
//! let hasher = EmailHasher::hmac(std::env::var("DOORMAN_HASH_KEY")?.trim().as_bytes())?;
//! let layer = DoormanLayer::blacklist(policy.blacklist.expect("a [blacklist]"), hasher, store).build();
//! let shop = service_fn(|_req: http::Request<axum::body::Body>| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(axum::body::Body::from("shop")))
//! });
//! let protected = ServiceBuilder::new().layer(layer).service(shop);
//! # let _ = protected; Ok(())
//! # }
//! ```

mod body;
mod buffer;
mod checkout;
mod future;
mod page;
mod service;
mod tasks;

use std::net::IpAddr;
use std::sync::Arc;

pub use body::{BodyFromBytes, BoxError, MadeBody};
pub use buffer::{HyperBody, LINGER_BYTES, LINGER_TIME};
pub use future::ResponseFuture;
pub use service::{Doorman, PeerAddr};
pub use tasks::TokioTasks;

use crate::app::vault::Vault;
use crate::app::waitlist::WaitlistConfig;
use crate::app::{assemble, App, AppSpec, Events, Lifecycle, Ports};
use crate::core::blacklist::session::SessionVerifier;
use crate::core::blacklist::BlacklistPolicy;
use crate::core::email_hash::EmailHasher;
use crate::core::waitlist::link::Signer;
use crate::ports::store::Store;

/// Makes [`Doorman`] services around an application. Cheap to clone: state is shared.
pub struct DoormanLayer<St> {
    app: Arc<App<St>>,
}

impl<St> Clone for DoormanLayer<St> {
    fn clone(&self) -> Self {
        Self { app: self.app.clone() }
    }
}

impl<St: Store + Clone> DoormanLayer<St> {
    /// A layer over an application [`assemble`]d elsewhere.
    pub fn new(app: Arc<App<St>>) -> Self {
        Self { app }
    }

    /// A layer for the features of `spec` (see [`AppSpec::from_policy`]) over `store`, set up
    /// by the returned builder (metrics).
    pub fn from_spec(spec: AppSpec, store: St) -> LayerBuilder<St> {
        LayerBuilder { spec, store, events: Arc::new(()) }
    }

    /// A layer that checks checkouts against the blacklist in `store`, set up by the returned
    /// builder (session cookie, waitlist, metrics).
    pub fn blacklist(policy: BlacklistPolicy, hasher: EmailHasher, store: St) -> LayerBuilder<St> {
        Self::from_spec(AppSpec::blacklist(policy, hasher), store)
    }

    /// The application behind the layer (to flush it at shutdown, say).
    pub fn app(&self) -> &Arc<App<St>> {
        &self.app
    }

    /// Wraps `inner` for one connection whose peer the host knows (Doorman's own proxy).
    pub fn layer_for_peer<S>(&self, inner: S, peer: IpAddr) -> Doorman<S, St> {
        Doorman::new(inner, self.app.clone()).with_peer(peer)
    }
}

/// Sets up a [`DoormanLayer`]: the features, the store, and where events go.
pub struct LayerBuilder<St> {
    spec: AppSpec,
    store: St,
    events: Arc<dyn Events>,
}

impl<St: Store + Clone> LayerBuilder<St> {
    /// Recognises signed-in customers by the shop's session cookie.
    pub fn session(mut self, verifier: SessionVerifier) -> Self {
        self.spec = self.spec.session(verifier);
        self
    }

    /// Reports checkouts and client faults to `events` (Doorman's Prometheus [`crate::hosts::metrics::Metrics`],
    /// or your own).
    pub fn events(mut self, events: Arc<dyn Events>) -> Self {
        self.events = events;
        self
    }

    /// Serves the waitlist's pages as well (see [`crate::app::waitlist`]), signing links with
    /// `signer` and sealing personal data with `vault`'s data keys (check them against the store
    /// at start with [`crate::app::vault::check_and_register`]); signed-in customers are
    /// recognised by the blacklist's session cookie.
    pub fn waitlist(mut self, config: WaitlistConfig, signer: Signer, vault: Vault) -> Self {
        self.spec = self.spec.waitlist(config, signer, vault);
        self
    }

    /// The layer. It sleeps and spawns on the tokio runtime it runs on.
    pub fn build(self) -> DoormanLayer<St> {
        let ports = Ports::new(self.store, Arc::new(TokioTasks)).with_events(self.events);
        DoormanLayer::new(Arc::new(assemble(&self.spec, ports, Lifecycle::Resident)))
    }
}

impl<S, St> tower::Layer<S> for DoormanLayer<St> {
    type Service = Doorman<S, St>;

    fn layer(&self, inner: S) -> Self::Service {
        Doorman::new(inner, self.app.clone())
    }
}
