//! The phase "look up": is any of a checkout's identities blacklisted for its event?
//! Platform-wide entries always count; the event's organizer's own entries when the event is
//! mapped to one. Then the audit records of a block.

use super::Blacklist;
use crate::core::blacklist::audit::{AuditAction, AuditRecord};
use crate::core::blacklist::decide::{lookup_keys, Lookup};
use crate::core::blacklist::session::SessionVerifier;
use crate::core::blacklist::{event_key, is_slug, Identity};
use crate::ports::store::Store;

/// What the store said about a checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The answer, or that there was none.
    pub lookup: Lookup,
    /// The event's organizer, if mapped.
    pub organizer: Option<String>,
    /// The identities that matched an entry, with the scope of the entry (`*` or the organizer).
    pub matched: Vec<(Identity, String)>,
}

impl<S: Store + Clone> Blacklist<S> {
    /// Asks the store about `identities` at the event `slug`.
    pub async fn lookup(&self, slug: Option<&str>, identities: &[Identity]) -> Found {
        let mut found = Found { lookup: Lookup::Answered(false), organizer: None, matched: Vec::new() };
        if identities.is_empty() {
            return found;
        }
        let store = &self.ports.store;
        found.organizer = match slug {
            None => None,
            Some(slug) => match store.get(&event_key(slug)).await {
                Ok(org) => org.and_then(|o| String::from_utf8(o).ok()).filter(|o| is_slug(o)),
                Err(e) => {
                    tracing::warn!(error = %e, "blacklist: store unavailable for a checkout");
                    found.lookup = Lookup::Failed;
                    return found;
                }
            },
        };
        if found.organizer.is_none() {
            // Organizer entries cannot apply here: the operator should map the event.
            self.ports.events.unmapped_event();
        }
        let keys = lookup_keys(identities, found.organizer.as_deref());
        let per_identity = keys.len() / identities.len();
        match store.exists_many(&keys).await {
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

    /// The audit records of a blocked checkout: one per matched identity, in the scope of the
    /// entry that matched; a fail-closed block, which knows no match, records every identity
    /// for the platform.
    pub fn block_records(
        &self,
        found: &Found,
        identities: &[Identity],
        event: &str,
        route: usize,
    ) -> Vec<AuditRecord> {
        let who: Vec<(Identity, String)> = if found.matched.is_empty() {
            identities.iter().map(|id| (id.clone(), "*".to_owned())).collect()
        } else {
            found.matched.clone()
        };
        let at_ms = self.ports.clock.unix_ms();
        let route = self.policy.checkout[route].route.to_string();
        who.into_iter()
            .map(|(id, scope)| AuditRecord {
                at_ms,
                scope,
                action: AuditAction::Block,
                actor: "checkout".into(),
                kind: id.kind().into(),
                value: id.value().into(),
                event: Some(event.to_owned()),
                route: Some(route.clone()),
            })
            .collect()
    }
}

impl<S: Store + Clone> Blacklist<S> {
    /// Whether a customer (by e-mail address, account, or both) is blacklisted at `event`, as
    /// a checkout would find: the waitlist asks this before storing a signup. `None` when the
    /// store could not answer.
    pub async fn is_listed(&self, event: &str, email: Option<&str>, account: Option<&str>) -> Option<bool> {
        let mut identities = Vec::new();
        if let Some(canonical) =
            email.and_then(|e| crate::core::email::canonicalize(e, self.policy.rules).ok())
        {
            identities.push(Identity::EmailHash(self.hasher.hash_hex(&canonical)));
        }
        if let Some(a) = account {
            identities.push(Identity::Account(a.to_owned()));
        }
        match self.lookup(Some(event), &identities).await.lookup {
            Lookup::Answered(listed) => Some(listed),
            Lookup::Failed => None,
        }
    }

    /// The session-cookie verifier the blacklist recognises signed-in customers with.
    pub fn session(&self) -> Option<&SessionVerifier> {
        self.session.as_ref()
    }
}
