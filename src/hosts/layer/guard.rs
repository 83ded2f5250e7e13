//! The blacklist guard: what the layer needs to decide a checkout (policy, hasher, store).

use std::sync::Arc;

use http::Method;

use super::timing::RouteTiming;
use crate::adapters::store::AnyStore;
use crate::core::blacklist::audit::{AuditAction, AuditRecord};
use crate::core::blacklist::decide::{lookup_keys, Lookup};
use crate::core::blacklist::session::SessionVerifier;
use crate::core::blacklist::{event_key, is_slug, BlacklistPolicy, Identity};
use crate::core::email_hash::EmailHasher;
use crate::hosts::metrics::Metrics;
use crate::ports::store::Store;

/// Everything a checkout decision needs. Shared by every connection.
pub struct BlacklistGuard {
    pub(super) policy: BlacklistPolicy,
    pub(super) hasher: EmailHasher,
    pub(super) session: Option<SessionVerifier>,
    store: AnyStore,
    pub(super) metrics: Metrics,
    /// Forwarded-checkout durations per checkout route, for timing cover.
    pub(super) timing: Vec<RouteTiming>,
}

impl BlacklistGuard {
    /// A guard over `store`.
    pub fn new(
        policy: BlacklistPolicy,
        hasher: EmailHasher,
        session: Option<SessionVerifier>,
        store: AnyStore,
        metrics: Metrics,
    ) -> Arc<Self> {
        let timing = policy.checkout.iter().map(|_| RouteTiming::default()).collect();
        Arc::new(Self { policy, hasher, session, store, metrics, timing })
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
    pub(super) async fn lookup(&self, event: &str, identities: &[Identity]) -> Found {
        let mut found = Found { lookup: Lookup::Answered(false), organizer: None, matched: Vec::new() };
        if identities.is_empty() {
            return found;
        }
        found.organizer = match self.store.get(&event_key(event)).await {
            Ok(org) => org.and_then(|o| String::from_utf8(o).ok()).filter(|o| is_slug(o)),
            Err(e) => {
                tracing::warn!(error = %e, "blacklist: store unavailable for a checkout");
                found.lookup = Lookup::Failed;
                return found;
            }
        };
        let keys = lookup_keys(identities, found.organizer.as_deref());
        let per_identity = keys.len() / identities.len();
        match self.store.exists_many(&keys).await {
            Ok(hits) => {
                // Per identity the keys are [platform, organizer?]: an organizer's own entry wins,
                // so its audit record goes to that organizer, and platform matches stay the
                // operator's.
                found.matched = identities
                    .iter()
                    .zip(hits.chunks(per_identity))
                    .filter_map(|(id, h)| match (h.first(), h.get(1)) {
                        (_, Some(true)) => {
                            Some((id.clone(), found.organizer.clone().unwrap_or_else(|| "*".into())))
                        }
                        (Some(true), _) => Some((id.clone(), "*".to_owned())),
                        _ => None,
                    })
                    .collect();
                found.lookup = Lookup::Answered(!found.matched.is_empty());
            }
            Err(e) => {
                tracing::warn!(error = %e, "blacklist: store unavailable for a checkout");
                found.lookup = Lookup::Failed;
            }
        }
        found
    }

    /// Records a blocked checkout in the audit log, without delaying the answer.
    pub(super) fn audit_block(&self, found: &Found, identities: &[Identity], event: &str, route: usize) {
        let store = self.store.clone();
        // Fail-closed blocks do not know which identity matched: all are recorded.
        let who: Vec<(Identity, String)> = if found.matched.is_empty() {
            identities.iter().map(|id| (id.clone(), "*".to_owned())).collect()
        } else {
            found.matched.clone()
        };
        let records: Vec<AuditRecord> = who
            .iter()
            .map(|(id, scope)| AuditRecord {
                at_ms: crate::hosts::audit::now_ms(),
                scope: scope.clone(),
                action: AuditAction::Block,
                actor: "checkout".into(),
                kind: id.kind().into(),
                value: id.value().into(),
                event: Some(event.to_owned()),
                route: Some(self.policy.checkout[route].route.to_string()),
            })
            .collect();
        tokio::spawn(async move {
            for record in records {
                if let Err(e) = crate::hosts::audit::write(&store, &record).await {
                    tracing::warn!(error = %e, "audit log write failed for a blocked checkout");
                }
            }
        });
    }
}

/// What the store said about a checkout.
pub(super) struct Found {
    /// The answer, or that there was none.
    pub lookup: Lookup,
    /// The event's organizer, if mapped.
    pub organizer: Option<String>,
    /// The identities that matched an entry, with the scope of the entry (`*` or the organizer).
    pub matched: Vec<(Identity, String)>,
}
