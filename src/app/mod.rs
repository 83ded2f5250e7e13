//! The application tier: Doorman's flows, written once for every runtime.
//!
//! Async code generic over the [`crate::ports`], importing no tokio, hyper, redis, redb or wasi
//! bindings; it compiles for `wasm32-wasip2`. The tower layer, the reverse proxy and the
//! WebAssembly component are thin hosts: they turn their requests into the tier's inputs
//! ([`http::request::Parts`], a [`BodyStream`]), run the flow, and send what it answers.
//!
//! - [`route`]: one table of actions per request (checkout now, waitlist pages next).
//! - [`body`]: reading a request body within a size limit and a deadline.
//! - [`blacklist`]: the checkout flow (identify, look up, decide, audit, timing cover).
//! - [`audit`]: audit records written through the store, and the bounded queue for blocked
//!   checkouts.
//!
//! A host builds the [`Ports`] once, hands them to the features, and puts the features behind
//! an [`App`]; per request it asks [`App::classify`] and, for an action, runs [`App::run`]. The
//! tower layer (`hosts::layer`) is the reference host.

pub mod admin;
pub mod assemble;
pub mod audit;
pub mod blacklist;
pub mod body;
pub mod context;
pub mod outbox;
pub mod request_id;
pub mod route;
pub mod secrets;
pub mod step;
pub mod sweep;
pub mod vault;
pub mod waitlist;

use std::sync::Arc;

use crate::ports;

pub use crate::ports::body::BodyStream;
pub use crate::ports::clock::{Clock, SystemClock};
pub use crate::ports::events::{CheckoutOutcome, ClientFaultKind, Events};
pub use crate::ports::random::{Random, SystemRandom};
pub use crate::ports::store::Store;
pub use crate::ports::tasks::Tasks;
pub use assemble::{assemble, AppSpec, Lifecycle, SpecError};
pub use context::RequestContext;
pub use route::{Action, App};
pub use step::Step;

/// Everything the tier needs from the world, as one value a host builds once.
pub struct Ports<S> {
    /// The durable store.
    pub store: S,
    /// Wall-clock and monotonic time.
    pub clock: Arc<dyn Clock>,
    /// Random bytes.
    pub random: Arc<dyn Random>,
    /// Waiting and background work.
    pub tasks: Arc<dyn Tasks>,
    /// Countable events (metrics).
    pub events: Arc<dyn Events>,
    /// The data keys records with personal data are sealed with.
    pub vault: vault::Vault,
}

impl<S> Ports<S> {
    /// `store` and `tasks`, with the system clock, system randomness and no metrics.
    pub fn new(store: S, tasks: Arc<dyn Tasks>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            random: Arc::new(SystemRandom),
            tasks,
            events: Arc::new(()),
            vault: vault::Vault::default(),
        }
    }

    /// Seals records with personal data with `vault`'s keys.
    pub fn with_vault(mut self, vault: vault::Vault) -> Self {
        self.vault = vault;
        self
    }

    /// `value` as JSON, sealed for `store_key` ([`vault::Vault::seal_json`]).
    pub fn seal<T: serde::Serialize>(
        &self,
        store_key: &str,
        value: &T,
    ) -> Result<Vec<u8>, ports::store::StoreError> {
        self.vault.seal_json(&*self.random, store_key, value)
    }

    /// The sealed record under `store_key`, from `raw` ([`vault::Vault::open_json`]).
    pub fn open<T: serde::de::DeserializeOwned>(
        &self,
        store_key: &str,
        raw: Option<Vec<u8>>,
    ) -> Result<Option<T>, ports::store::StoreError> {
        self.vault.open_json(store_key, raw)
    }

    /// Reports events to `events` (the hosts' Prometheus metrics, say).
    pub fn with_events(mut self, events: Arc<dyn Events>) -> Self {
        self.events = events;
        self
    }
}

impl<S: Clone> Clone for Ports<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            clock: self.clock.clone(),
            random: self.random.clone(),
            tasks: self.tasks.clone(),
            events: self.events.clone(),
            vault: self.vault.clone(),
        }
    }
}
