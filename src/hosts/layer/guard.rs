//! The blacklist guard: what the layer needs to decide a checkout (policy, hasher, store).

use std::sync::Arc;

use http::Method;

use crate::adapters::store::AnyStore;
use crate::core::blacklist::decide::{lookup_keys, Lookup};
use crate::core::blacklist::{event_key, is_slug, BlacklistPolicy, Identity};
use crate::core::email_hash::EmailHasher;
use crate::hosts::metrics::Metrics;
use crate::ports::store::Store;

/// Everything a checkout decision needs. Shared by every connection.
pub struct BlacklistGuard {
    pub(super) policy: BlacklistPolicy,
    pub(super) hasher: EmailHasher,
    store: AnyStore,
    pub(super) metrics: Metrics,
}

impl BlacklistGuard {
    /// A guard over `store`.
    pub fn new(policy: BlacklistPolicy, hasher: EmailHasher, store: AnyStore, metrics: Metrics) -> Arc<Self> {
        Arc::new(Self { policy, hasher, store, metrics })
    }

    /// The checkout route and event a request completes, if it is a checkout.
    pub(super) fn classify(&self, method: &Method, path: &str) -> Option<(usize, String)> {
        self.policy.checkout.iter().enumerate().find_map(|(i, route)| {
            let captures = route.route.matches(method, path)?;
            Some((i, captures.get("event")?.to_owned()))
        })
    }

    /// Asks the store whether any of `identities` is blacklisted for `event`: platform-wide
    /// entries, and the entries of the event's organizer.
    pub(super) async fn lookup(&self, event: &str, identities: &[Identity]) -> Lookup {
        if identities.is_empty() {
            return Lookup::Answered(false);
        }
        let organizer = match self.store.get(&event_key(event)).await {
            Ok(org) => org.and_then(|o| String::from_utf8(o).ok()).filter(|o| is_slug(o)),
            Err(e) => {
                tracing::warn!(error = %e, "blacklist: store unavailable for a checkout");
                return Lookup::Failed;
            }
        };
        let keys = lookup_keys(identities, organizer.as_deref());
        match self.store.exists_many(&keys).await {
            Ok(found) => Lookup::Answered(found.into_iter().any(|f| f)),
            Err(e) => {
                tracing::warn!(error = %e, "blacklist: store unavailable for a checkout");
                Lookup::Failed
            }
        }
    }
}
