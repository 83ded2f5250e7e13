//! The admin use cases, for every host of the admin API: who may act on what (organizer
//! scopes), blacklist entries (add, remove, list, hash), the event → organizer map, organizers
//! and their tokens, and the audit log of every change.
//!
//! The HTTP plumbing (routes, extractors, status codes) is the host's (`hosts::admin`); the
//! rules are here. Every change is audited; a failing audit write is logged, never turned into
//! an error for a change that has happened.

pub mod broadcasts;
pub mod cells;
mod customers;
mod data;
mod entries;
mod events;
pub mod history;
mod log;
pub mod offers;
pub mod organizers;
pub mod principal;
mod status;
mod token;
pub mod transfer;
pub mod waitlist;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::app::Ports;
use crate::core::email::CanonicalRules;
use crate::core::email_hash::EmailHasher;
use crate::ports::store::StoreError;

pub use self::customers::{AccountAddresses, AccountRequest, AddressRequest, Attachment};
pub use self::data::{DataKeysView, ResealRequest};
pub use self::entries::{
    entry_json, EmailHashAnswer, EntryPage, EntryRequest, EntryView, NewEntry, Removed, MAX_LIST, MAX_REASON,
};
pub use self::events::EventMapping;
pub use self::log::{AuditPage, AuditView};
pub use self::organizers::{
    NewOrganizer, OrganizerChange, OrganizerCreated, OrganizerDeleted, OrganizerList, OrganizerRecord,
    OrganizerSummary, OrganizerToken, OrganizerView,
};
pub use self::principal::{token_digest, Access, Principal};
pub use self::status::{StatusAnswer, StatusRequest};
pub use self::token::{random_token, strip_bearer, AdminToken, TokenError, MIN_TOKEN_LEN};
pub use self::waitlist::SettingsAnswer;

/// What the admin use cases share: the world, and the blacklist's hashing when there is one.
pub struct Admin<S> {
    /// Store, clock, randomness.
    pub ports: Ports<S>,
    /// Hashing for the blacklist, when the policy has a blacklist.
    pub blacklist: Option<BlacklistAdmin>,
    /// The application the admin API's waitlist offers run in (its waitlist, mails and
    /// blacklist), when the host gives one.
    app: Option<Arc<crate::app::App<S>>>,
    /// Set while the host moves entries of an earlier version to the current key layout
    /// (`app::blacklist::layout`): changes to entries wait until it is done.
    entries_moving: AtomicBool,
}

/// What the blacklist endpoints need to turn addresses into hashes.
#[derive(Clone)]
pub struct BlacklistAdmin {
    /// The same hasher the checkout path uses.
    pub hasher: EmailHasher,
    /// The same canonicalization rules.
    pub rules: CanonicalRules,
    /// Whether account ids are kept as keyed hashes (`blacklist.account_ids = "hashed"`).
    pub hash_accounts: bool,
}

/// Why an admin request did not happen, by kind; the host picks the status.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The input is wrong; the message says which field and how.
    #[error("{0}")]
    BadInput(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// There is no such thing.
    #[error("{0}")]
    NotFound(String),
    /// It clashes with what is there (or the policy has no blacklist to manage).
    #[error("{0}")]
    Conflict(String),
    /// The store failed; try again.
    #[error("the store is unavailable: {0}")]
    Unavailable(#[from] StoreError),
    /// Not now, but soon (entries moving to a new key layout); try again.
    #[error("{0}")]
    Busy(String),
    /// No token could be drawn: the system's randomness failed; try again.
    #[error("{0}")]
    NoRandomness(#[from] crate::ports::random::RandomUnavailable),
}

impl AdminError {
    /// A bad-input error.
    pub fn bad(msg: impl Into<String>) -> Self {
        Self::BadInput(msg.into())
    }
}

/// The counter under `key` (0 when missing), read without writing it.
async fn counter(store: &impl crate::ports::store::Store, key: &str) -> Result<u64, StoreError> {
    let raw = store.get(key).await?;
    Ok(raw.as_deref().and_then(|v| std::str::from_utf8(v).ok()).and_then(|t| t.parse().ok()).unwrap_or(0))
}

/// Checks that `value` of `field` is a slug (organizer or event id).
pub fn slug<'a>(field: &str, value: &'a str) -> Result<&'a str, AdminError> {
    if crate::core::blacklist::is_slug(value) {
        Ok(value)
    } else {
        Err(AdminError::bad(format!("{field}: 1 to 64 of a-z, 0-9, '-', '_'")))
    }
}

/// How often [`Admin::settle_key_layout`] tries again after a store failure (and reports progress).
pub const LAYOUT_RETRY: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a host waits for [`Admin::settle_key_layout`] before its admin API answers.
pub const LAYOUT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl<S> Admin<S> {
    /// The admin use cases over `ports`.
    pub fn new(ports: Ports<S>, blacklist: Option<BlacklistAdmin>) -> Self {
        Self { ports, blacklist, app: None, entries_moving: AtomicBool::new(false) }
    }

    /// Runs offers of freed seats in `app` (the same waitlist and blacklist the public listener
    /// serves).
    pub fn with_app(mut self, app: Arc<crate::app::App<S>>) -> Self {
        self.app = Some(app);
        self
    }

    /// Says whether the host is moving entries of an earlier version to the current key layout;
    /// meanwhile adds, removals and imports are answered "unavailable, try again", so no change
    /// is undone by the move.
    pub fn set_entries_moving(&self, moving: bool) {
        self.entries_moving.store(moving, Ordering::Relaxed);
    }

    /// Moves the blacklist entries an earlier version stored to this version's key layout
    /// ([`crate::app::blacklist::layout`]), holding changes to entries meanwhile; a store that
    /// fails is tried again every [`LAYOUT_RETRY`]. Hosts start it when the admin API starts and
    /// wait up to [`LAYOUT_WAIT`] before answering: a new or already moved store is done by then,
    /// a large move goes on while the API answers (changes to entries get "try again"). Then it
    /// builds the store's identity index for the edge, once per store
    /// ([`crate::app::blacklist::index::build`]).
    pub async fn settle_key_layout(&self)
    where
        S: crate::ports::store::Store,
    {
        self.set_entries_moving(true);
        let mut last_report = self.ports.clock.monotonic();
        loop {
            let now = self.now();
            let clock = self.ports.clock.clone();
            let progress = |moved: u64| {
                if clock.monotonic().saturating_sub(last_report) >= LAYOUT_RETRY {
                    last_report = clock.monotonic();
                    tracing::info!(moved, "moving blacklist entries to this version's key layout");
                }
            };
            match crate::app::blacklist::layout::move_legacy_entries(&self.ports.store, now, progress).await {
                Ok(done) if done.already => {}
                Ok(done) if done.moved + done.expired == 0 => tracing::debug!("blacklist key layout marked"),
                Ok(done) => tracing::info!(
                    moved = done.moved,
                    expired = done.expired,
                    "blacklist entries of an earlier version moved to this version's key layout"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot move blacklist entries to this version's key layout yet: the store failed; trying again in 5 s");
                    self.ports.tasks.sleep(LAYOUT_RETRY).await;
                    continue;
                }
            }
            break;
        }
        self.set_entries_moving(false);
        // Then the identity index the edge reads (changes to entries need not wait for it).
        loop {
            match crate::app::blacklist::index::build(&self.ports.store).await {
                Ok(built) if built.already => {}
                Ok(built) => tracing::info!(identities = built.indexed, "blacklist identity index built"),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot build the blacklist's identity index yet: the store failed; trying again in 5 s");
                    self.ports.tasks.sleep(LAYOUT_RETRY).await;
                    continue;
                }
            }
            break;
        }
    }

    /// Refuses changes to entries while they are being moved (see [`Admin::set_entries_moving`]).
    fn entries_writable(&self) -> Result<(), AdminError> {
        if self.entries_moving.load(Ordering::Relaxed) {
            return Err(AdminError::Busy(
                "the blacklist's entries are being moved to this version's key layout; try again in a minute"
                    .into(),
            ));
        }
        Ok(())
    }

    fn blacklist(&self) -> Result<&BlacklistAdmin, AdminError> {
        self.blacklist.as_ref().ok_or_else(|| {
            AdminError::Conflict("the policy has no [blacklist] section: nothing to manage".into())
        })
    }

    /// Now, in Unix seconds.
    fn now(&self) -> u64 {
        self.ports.clock.unix_ms() / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::blacklist::{entry_key, legacy_entry_key, Identity, Scope, LAYOUT_KEY};
    use crate::core::email_hash::EmailHasher;
    use crate::ports::store::Store;
    use crate::testkit::{block_on, TestRig};

    #[test]
    fn entries_of_an_earlier_layout_move_and_changes_wait_until_they_have() {
        block_on(async {
            let rig = TestRig::default();
            let blacklist = BlacklistAdmin {
                hasher: EmailHasher::PlainSha256,
                rules: Default::default(),
                hash_accounts: false,
            };
            let admin = Admin::new(rig.ports(), Some(blacklist));
            let eve = Identity::EmailHash(EmailHasher::PlainSha256.hash_hex("eve@example.com"));
            let old = legacy_entry_key(&eve, &Scope::Platform).expect("a hash had a hex key before");
            rig.store.set(&old, br#"{"reason":"fraud"}"#, None).await.unwrap();
            // The store fails once: the move waits and tries again; changes wait meanwhile.
            rig.store.fail_next(1);
            admin.set_entries_moving(true);
            assert!(matches!(admin.entries_writable(), Err(AdminError::Busy(_))));
            admin.settle_key_layout().await;
            assert_eq!(rig.tasks.slept(), [LAYOUT_RETRY]);
            assert!(admin.entries_writable().is_ok());
            let keys = rig.store.keys();
            assert!(keys.contains(&entry_key(&eve, &Scope::Platform)) && !keys.contains(&old), "{keys:?}");
            assert!(keys.contains(&LAYOUT_KEY.to_owned()), "the marker says the move is done");
            // A second start finds the marker and moves nothing.
            admin.settle_key_layout().await;
            assert_eq!(rig.tasks.slept().len(), 1);
        });
    }
}
