//! The phase "look up": is any of a checkout's identities blacklisted for its event?
//! Platform-wide entries always count; the event's organizer's own entries when the event is
//! mapped to one. Then the audit records of a block.
//!
//! One round trip in the steady state: the event's mapping and the entry keys go to the store
//! together, the organizer's keys for the organizer the event was last found mapped to (no
//! organizer the first time). The answer is used only when the mapping read in the same round
//! trip agrees with that guess; when it does not (a first checkout of an event mapped to an
//! organizer, or a changed mapping), a second round trip asks for the right organizer's keys.
//! A guess is never trusted, so a changed mapping applies at once.
//!
//! An app that lives for one request (the edge component) knows no guess and no layout: it asks
//! the identity index first ([`crate::core::blacklist::index`]), one read per identity, which
//! answers a clean checkout alone and proves the store is one `doorman serve` set up.

use std::collections::HashMap;
use std::sync::Mutex;

use super::Blacklist;
use crate::core::blacklist::audit::{AuditAction, AuditRecord};
use crate::core::blacklist::customer::{attachment_key, parse_account_value};
use crate::core::blacklist::decide::{Lookup, LookupKeys};
use crate::core::blacklist::index::{self, Place};
use crate::core::blacklist::session::SessionVerifier;
use crate::core::blacklist::{event_key, is_slug, Identity, LAYOUT, LAYOUT_KEY};
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

/// Most events whose organizer is remembered; past it, the memory starts afresh.
const GUESSES: usize = 10_000;

/// The organizer each event was last found mapped to (`None`: to none).
#[derive(Debug, Default)]
pub struct OrganizerGuess(Mutex<HashMap<String, Option<String>>>);

impl OrganizerGuess {
    fn get(&self, event: &str) -> Option<String> {
        self.0.lock().ok().and_then(|m| m.get(event).cloned().flatten())
    }

    fn remember(&self, event: &str, organizer: Option<&str>) {
        let Ok(mut m) = self.0.lock() else { return };
        if m.get(event).map(Option::as_deref) == Some(organizer) {
            return;
        }
        if m.len() >= GUESSES {
            m.clear();
        }
        m.insert(event.to_owned(), organizer.map(str::to_owned));
    }
}

impl<S: Store + Clone> Blacklist<S> {
    /// Asks the store about `identities` at the event `slug`.
    pub async fn lookup(&self, slug: Option<&str>, identities: &[Identity]) -> Found {
        let mut found = Found { lookup: Lookup::Answered(false), organizer: None, matched: Vec::new() };
        if identities.is_empty() {
            return found;
        }
        let failed = |found: &mut Found, e: crate::ports::store::StoreError| {
            tracing::warn!(error = %e, "blacklist: store unavailable for a checkout");
            found.lookup = Lookup::Failed;
        };
        let store = &self.ports.store;
        if !self.lifecycle.keeps_state() {
            // A host without memory between requests asks the identity index first: one read
            // per identity answers a clean checkout and proves the store is the one set up.
            match self.index_says(identities).await {
                Ok(false) => return found,
                // The index is built after the key layout was settled.
                Ok(true) => self.layout.mark_current(),
                Err(problem) => {
                    tracing::warn!("blacklist: {problem}; the policy's on_store_error decides");
                    found.lookup = Lookup::Failed;
                    return found;
                }
            }
        }
        // Until the store is known to hold every entry in the current key layout, the lookup
        // also asks for the keys of earlier versions and reads the marker that says they were
        // moved, in the same round trip.
        let mut legacy = !self.layout.is_current();
        if legacy && !self.lifecycle.keeps_state() {
            // The component's store answers key by key: the marker alone first costs one call
            // where the keys of both layouts would cost one per key.
            match store.get(LAYOUT_KEY).await {
                Ok(marker) if marker.as_deref() == Some(LAYOUT) => {
                    self.layout.mark_current();
                    legacy = false;
                }
                Ok(_) => {}
                Err(e) => {
                    failed(&mut found, e);
                    return found;
                }
            }
        }
        let ask_marker = legacy && self.lifecycle.keeps_state();
        let guess = slug.and_then(|slug| self.organizer_guess.get(slug));
        let keys = LookupKeys::new(identities, guess.as_deref(), legacy);
        // The accounts the checkout's addresses are attached to, read in the same round trip.
        let attachments: Vec<String> = identities
            .iter()
            .filter_map(|id| match id {
                Identity::EmailHash(hash) => Some(attachment_key(hash)),
                _ => None,
            })
            .collect();
        let gets: Vec<String> = slug
            .map(event_key)
            .into_iter()
            .chain(ask_marker.then(|| LAYOUT_KEY.to_owned()))
            .chain(attachments.iter().cloned())
            .collect();
        let first = if gets.is_empty() {
            store.exists_many(&keys.keys).await.map(|hits| (Vec::new(), hits))
        } else {
            store.get_and_exists(&gets, &keys.keys).await
        };
        let mut attached: Vec<Identity> = Vec::new();
        let answer = match first {
            Err(e) => Err(e),
            Ok((mut got, hits)) => {
                let read = got.split_off(got.len().saturating_sub(attachments.len()));
                for account in read.into_iter().flatten().filter_map(|v| parse_account_value(&v)) {
                    if !identities.contains(&account) && !attached.contains(&account) {
                        attached.push(account);
                    }
                }
                if ask_marker && got.pop().flatten().as_deref() == Some(LAYOUT) {
                    self.layout.mark_current();
                }
                match slug {
                    None => Ok((None, keys, hits)),
                    Some(slug) => {
                        let organizer = got
                            .pop()
                            .flatten()
                            .and_then(|o| String::from_utf8(o).ok())
                            .filter(|o| is_slug(o));
                        self.organizer_guess.remember(slug, organizer.as_deref());
                        if organizer == guess {
                            Ok((organizer, keys, hits))
                        } else {
                            // The guess was wrong: ask for the right organizer's entries.
                            let keys = LookupKeys::new(identities, organizer.as_deref(), legacy);
                            store.exists_many(&keys.keys).await.map(|hits| (organizer, keys, hits))
                        }
                    }
                }
            }
        };
        let (keys, hits) = match answer {
            Ok((organizer, keys, hits)) => {
                found.organizer = organizer;
                (keys, hits)
            }
            Err(e) => {
                failed(&mut found, e);
                return found;
            }
        };
        if found.organizer.is_none() {
            // Organizer entries cannot apply here: the operator should map the event.
            self.ports.events.unmapped_event();
        }
        // An organizer's own entry wins, so its audit record goes to that organizer, and
        // platform matches stay the operator's.
        found.matched = keys
            .matched(&hits)
            .into_iter()
            .map(|(i, own)| {
                let scope = match (&found.organizer, own) {
                    (Some(org), true) => org.clone(),
                    _ => "*".to_owned(),
                };
                (identities[i].clone(), scope)
            })
            .collect();
        if !attached.is_empty() {
            // An address attached to an account: that account's entries apply too.
            let keys = LookupKeys::new(&attached, found.organizer.as_deref(), legacy);
            match store.exists_many(&keys.keys).await {
                Ok(hits) => {
                    for (i, own) in keys.matched(&hits) {
                        let scope = match (&found.organizer, own) {
                            (Some(org), true) => org.clone(),
                            _ => "*".to_owned(),
                        };
                        found.matched.push((attached[i].clone(), scope));
                    }
                }
                Err(e) => {
                    failed(&mut found, e);
                    return found;
                }
            }
        }
        found.lookup = Lookup::Answered(!found.matched.is_empty());
        found
    }

    /// Whether the identity index says any of `identities` may be listed: one read per bucket.
    async fn index_says(&self, identities: &[Identity]) -> Result<bool, String> {
        let places: Vec<Place> = identities.iter().map(index::place).collect();
        let mut keys: Vec<String> = Vec::with_capacity(places.len());
        for place in &places {
            if !keys.contains(&place.key) {
                keys.push(place.key.clone());
            }
        }
        let buckets = self.ports.store.get_many(&keys).await.map_err(|e| e.to_string())?;
        let mut listed = false;
        for place in &places {
            let bucket = keys.iter().position(|k| *k == place.key).and_then(|i| buckets[i].as_deref());
            listed |= index::may_be_listed(bucket, &place.member).map_err(|e| e.to_string())?;
        }
        Ok(listed)
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
                detail: None,
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
            identities.push(self.policy.account_identity(a, &self.hasher));
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::core::blacklist::{entry_key, Scope};
    use crate::core::email_hash::EmailHasher;
    use crate::ports::store::{GotAndExists, ScanPage, SetItem, StoreError};
    use crate::testkit::MemoryStore;

    /// The in-memory store, counting the calls that reach a store (what a round trip is on Redis).
    #[derive(Clone)]
    struct Counted(MemoryStore, Arc<AtomicUsize>);

    impl Counted {
        fn calls(&self) -> usize {
            self.1.swap(0, Ordering::SeqCst)
        }
        fn count(&self) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Store for Counted {
        async fn ping(&self) -> Result<(), StoreError> {
            self.0.ping().await
        }
        async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            self.count();
            self.0.get(key).await
        }
        async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
            self.0.set(key, value, ttl).await
        }
        async fn set_many(&self, items: &[SetItem]) -> Result<(), StoreError> {
            self.0.set_many(items).await
        }
        async fn delete(&self, key: &str) -> Result<bool, StoreError> {
            self.0.delete(key).await
        }
        async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
            self.count();
            self.0.get_many(keys).await
        }
        async fn claim(&self, key: &str, ttl: Option<Duration>) -> Result<bool, StoreError> {
            self.0.claim(key, ttl).await
        }
        async fn exists_many(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
            self.count();
            self.0.exists_many(keys).await
        }
        async fn get_and_exists(
            &self,
            get: &[String],
            exists: &[String],
        ) -> Result<GotAndExists, StoreError> {
            self.count();
            Ok((self.0.get_many(get).await?, self.0.exists_many(exists).await?))
        }
        async fn increment(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, StoreError> {
            self.0.increment(key, by, ttl).await
        }
        async fn add_members(&self, adds: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
            self.0.add_members(adds).await
        }
        async fn scan_page(&self, prefix: &str, cursor: &str, count: usize) -> Result<ScanPage, StoreError> {
            self.0.scan_page(prefix, cursor, count).await
        }
    }

    #[test]
    fn an_instance_answers_a_clean_checkout_with_one_read_and_never_reads_a_store_without_an_index_as_clean()
    {
        crate::testkit::block_on(async {
            let store = Counted(MemoryStore::default(), Arc::default());
            let instance = || {
                let hasher = EmailHasher::hmac(&[7u8; 32]).unwrap();
                super::super::test_blacklist(store.clone(), hasher, crate::app::Lifecycle::OneRequest)
            };
            let (eve, ada) = ([Identity::Account("eve".into())], [Identity::Account("ada".into())]);
            store.set(&entry_key(&eve[0], &Scope::Organizer("harbour".into())), b"{}", None).await.unwrap();

            // No index: not "not listed", a store failure.
            assert_eq!(instance().lookup(Some("gala"), &ada).await.lookup, Lookup::Failed);
            assert_eq!(store.calls(), 1);

            crate::app::blacklist::index::build(&store.0).await.unwrap();
            store.calls();
            assert_eq!(instance().lookup(Some("gala"), &ada).await.lookup, Lookup::Answered(false));
            assert_eq!(store.calls(), 1, "a clean checkout: one read, no mapping, no layout marker");
            // Listed for an organizer the event is not mapped to: the full lookup says no.
            assert_eq!(instance().lookup(Some("gala"), &eve).await.lookup, Lookup::Answered(false));
            store.set(&event_key("gala"), b"harbour", None).await.unwrap();
            store.calls();
            assert_eq!(instance().lookup(Some("gala"), &eve).await.lookup, Lookup::Answered(true));
            assert_eq!(store.calls(), 3, "index, mapping with platform keys, the organizer's keys");
        })
    }

    #[test]
    fn one_round_trip_once_the_mapping_is_known_and_a_changed_mapping_applies_at_once() {
        crate::testkit::block_on(async {
            let store = Counted(MemoryStore::default(), Arc::default());
            let hasher = EmailHasher::hmac(&[7u8; 32]).unwrap();
            let blacklist =
                super::super::test_blacklist(store.clone(), hasher, crate::app::Lifecycle::Resident);
            let eve = [Identity::Account("eve".into())];
            let listed = |org: &str| entry_key(&eve[0], &Scope::Organizer(org.into()));
            store.set(&listed("harbour"), b"{}", None).await.unwrap();

            // Unmapped: platform entries only, one round trip from the first checkout on.
            assert_eq!(blacklist.lookup(Some("gala"), &eve).await.lookup, Lookup::Answered(false));
            assert_eq!(store.calls(), 1);
            // Mapped to harbour: the first checkout finds the guess wrong and asks again.
            store.set(&event_key("gala"), b"harbour", None).await.unwrap();
            let found = blacklist.lookup(Some("gala"), &eve).await;
            assert_eq!((found.lookup, found.organizer.as_deref()), (Lookup::Answered(true), Some("harbour")));
            assert_eq!(store.calls(), 2);
            for _ in 0..3 {
                assert_eq!(blacklist.lookup(Some("gala"), &eve).await.lookup, Lookup::Answered(true));
                assert_eq!(store.calls(), 1, "one round trip in the steady state");
            }
            // Mapped elsewhere: the very next checkout reads the new organizer's entries.
            store.set(&event_key("gala"), b"river", None).await.unwrap();
            assert_eq!(blacklist.lookup(Some("gala"), &eve).await.lookup, Lookup::Answered(false));
            assert_eq!(store.calls(), 2);
            store.delete(&event_key("gala")).await.unwrap();
            store.set(&listed("river"), b"{}", None).await.unwrap();
            assert_eq!(
                blacklist.lookup(Some("gala"), &eve).await.lookup,
                Lookup::Answered(false),
                "unmapped again"
            );
        })
    }
}
