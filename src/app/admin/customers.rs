//! One customer, several addresses, through the admin API: the backend attaches the addresses
//! of a customer's record to their account (hashed on arrival) and detaches them; an entry by
//! account then also turns back guest checkouts and waitlist signups with any attached address
//! (`app::blacklist::lookup` reads the attachment in its first round trip, so it applies at once
//! on every node). An address belongs to at most one account: attaching it to another is refused
//! unless the request says `move`. Only the operator token attaches: the platform's customer
//! records are the backend's, not one organizer's. A change claims the address and the accounts
//! whose lists it changes (`cl:`, a short lease), so two changes at once never attach one
//! address twice or lose one from a list; a change that finds a claim held answers "busy".

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::entries::{EntryRequest, Removed};
use super::{Admin, AdminError, Principal};
use crate::core::blacklist::audit::AuditAction;
use crate::core::blacklist::customer::{
    account_lock_key, account_value, addresses_key, attachment_key, member, members, parse_account_value,
    MAX_ADDRESSES,
};
use crate::core::blacklist::{Identity, Scope};
use crate::ports::store::{SetItem, Store};

/// How long a change to an account's addresses may hold its claim if its node dies.
const LOCK_LEASE: Duration = Duration::from_secs(10);

/// How long a detached address's emptied attachment stays before it lapses (lookups read an
/// empty one as none).
const DETACHED_KEPT: Duration = Duration::from_secs(24 * 3600);

/// An account and one address: exactly one of `account` and `account_hash`, exactly one of
/// `email` and `email_hash`.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(example = json!({"account": "eve-42", "email": "eve.private@example.com"})))]
#[serde(deny_unknown_fields)]
pub struct AddressRequest {
    /// The customer's account id (hashed on arrival where the policy keeps account ids hashed).
    #[cfg_attr(feature = "native", schema(min_length = 1, max_length = 256))]
    pub account: Option<String>,
    /// An account-id hash (only where the policy keeps account ids hashed).
    #[cfg_attr(feature = "native", schema(pattern = "^[0-9a-f]{64}$"))]
    pub account_hash: Option<String>,
    /// One of the customer's addresses: canonicalized and hashed on arrival, never stored.
    pub email: Option<String>,
    /// Or its hash (64 lowercase hex digits).
    #[cfg_attr(feature = "native", schema(pattern = "^[0-9a-f]{64}$"))]
    pub email_hash: Option<String>,
    /// Attaching only: take the address from the account it is attached to now (else 409).
    #[serde(default, rename = "move")]
    pub move_it: bool,
}

/// An account: exactly one of `account` and `account_hash`.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(example = json!({"account": "eve-42"})))]
#[serde(deny_unknown_fields)]
pub struct AccountRequest {
    /// The customer's account id.
    #[cfg_attr(feature = "native", schema(min_length = 1, max_length = 256))]
    pub account: Option<String>,
    /// An account-id hash (only where the policy keeps account ids hashed).
    #[cfg_attr(feature = "native", schema(pattern = "^[0-9a-f]{64}$"))]
    pub account_hash: Option<String>,
}

/// An address attached to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct Attachment {
    /// `account` or `account_hash`.
    pub kind: String,
    /// The account id or its hash.
    pub account: String,
    /// The address's hash.
    pub email_hash: String,
    /// The account the address was taken from (a `move`), if any.
    pub moved_from: Option<String>,
}

/// The addresses attached to an account, as hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct AccountAddresses {
    /// `account` or `account_hash`.
    pub kind: String,
    /// The account id or its hash.
    pub account: String,
    /// The attached addresses' hashes.
    pub email_hashes: Vec<String>,
}

impl<S: Store> Admin<S> {
    /// The account and the address hash a request names.
    fn account_and_address(&self, req: &AddressRequest) -> Result<(Identity, String), AdminError> {
        if req.account.is_none() && req.account_hash.is_none() {
            return Err(AdminError::bad("give the account: account or account_hash"));
        }
        if req.email.is_none() && req.email_hash.is_none() {
            return Err(AdminError::bad("give the address: email or email_hash"));
        }
        let account = self.identity(&EntryRequest {
            account: req.account.clone(),
            account_hash: req.account_hash.clone(),
            ..EntryRequest::default()
        })?;
        let address = self.identity(&EntryRequest {
            email: req.email.clone(),
            email_hash: req.email_hash.clone(),
            ..EntryRequest::default()
        })?;
        match address {
            Identity::EmailHash(hash) => Ok((account, hash)),
            _ => Err(AdminError::bad("give the address: email or email_hash")),
        }
    }

    /// Claims the lists of `accounts` (in key order, so two changes never wait on each other
    /// crosswise); `Busy` when another change holds one.
    async fn lock_accounts(&self, accounts: &[&Identity]) -> Result<Vec<String>, AdminError> {
        let mut keys: Vec<String> = accounts.iter().map(|a| account_lock_key(a)).collect();
        keys.sort();
        keys.dedup();
        let mut held = Vec::new();
        for key in keys {
            match self.ports.store.claim(&key, Some(LOCK_LEASE)).await {
                Ok(true) => held.push(key),
                outcome => {
                    self.unlock_accounts(&held).await;
                    outcome?;
                    return Err(AdminError::Busy(
                        "another change to this account's addresses is under way; try again".into(),
                    ));
                }
            }
        }
        Ok(held)
    }

    async fn unlock_accounts(&self, held: &[String]) {
        if let Err(e) = self.ports.store.delete_many(held).await {
            // The claims lapse on their own after their lease.
            tracing::warn!(error = %e, "customers: a claim could not be released");
        }
    }

    /// The stored list of `account`'s addresses (32 bytes each).
    async fn address_list(&self, account: &Identity) -> Result<Vec<u8>, AdminError> {
        Ok(self.ports.store.get(&addresses_key(account)).await?.unwrap_or_default())
    }

    /// Attaches an address to an account (operator only).
    pub async fn attach_address(
        &self,
        who: &Principal,
        req: &AddressRequest,
    ) -> Result<Attachment, AdminError> {
        who.require_operator()?;
        let (account, hash) = self.account_and_address(req)?;
        // The address's claim first: two changes of one address never cross.
        let address = self.lock_accounts(&[&Identity::EmailHash(hash.clone())]).await?;
        let result = self.attach_under_claim(&account, &hash, req.move_it).await;
        self.unlock_accounts(&address).await;
        let previous = result?;
        let (kind, value) = (account.kind(), account.value());
        let detail = format!(
            "address {hash}{}",
            previous.as_ref().map(|p| format!(", moved from {} {}", p.kind(), p.value())).unwrap_or_default()
        );
        self.record_detail(who, AuditAction::AttachAddress, (kind, value), &Scope::Platform, Some(detail))
            .await;
        tracing::info!(kind, moved = previous.is_some(), "customers: an address was attached");
        Ok(Attachment {
            kind: kind.into(),
            account: value.into(),
            email_hash: hash,
            moved_from: previous.map(|p| p.value().to_owned()),
        })
    }

    /// Attaches with the address's claim held: reads where it is attached now, then claims the
    /// lists it changes.
    async fn attach_under_claim(
        &self,
        account: &Identity,
        hash: &str,
        move_it: bool,
    ) -> Result<Option<Identity>, AdminError> {
        let attached = self.ports.store.get(&attachment_key(hash)).await?;
        let previous = attached.and_then(|v| parse_account_value(&v)).filter(|a| a != account);
        if previous.is_some() && !move_it {
            return Err(AdminError::Conflict(
                "the address is attached to another account: detach it there first, or give \"move\": true"
                    .into(),
            ));
        }
        let held = self
            .lock_accounts(&std::iter::once(account).chain(previous.as_ref()).collect::<Vec<_>>())
            .await?;
        let done = self.attach_locked(account, hash, previous.as_ref()).await;
        self.unlock_accounts(&held).await;
        done.map(|()| previous)
    }

    async fn attach_locked(
        &self,
        account: &Identity,
        hash: &str,
        previous: Option<&Identity>,
    ) -> Result<(), AdminError> {
        let store = &self.ports.store;
        let m = member(hash).ok_or_else(|| AdminError::bad("email_hash: 64 lowercase hex digits"))?;
        let mut list = self.address_list(account).await?;
        let listed = list.chunks_exact(32).any(|c| c == m);
        if !listed && list.len() / 32 >= MAX_ADDRESSES {
            return Err(AdminError::bad(format!(
                "an account has at most {MAX_ADDRESSES} addresses attached"
            )));
        }
        if !listed {
            list.extend_from_slice(&m);
        }
        let mut writes = vec![
            SetItem { key: addresses_key(account), value: list, ttl: None },
            SetItem { key: attachment_key(hash), value: account_value(account).into_bytes(), ttl: None },
        ];
        if let Some(previous) = previous {
            let theirs = self.address_list(previous).await?;
            let kept: Vec<u8> = theirs.chunks_exact(32).filter(|c| *c != m).flatten().copied().collect();
            writes.push(SetItem { key: addresses_key(previous), value: kept, ttl: None });
        }
        // The index first: a host that reads it (the edge) must look this address up in full.
        let identity = Identity::EmailHash(hash.to_owned());
        store.add_members(&crate::app::blacklist::index::members([&identity])).await?;
        store.set_many(&writes).await?;
        Ok(())
    }

    /// Detaches an address from an account (operator only); `NotFound` when it was not attached
    /// to that account.
    pub async fn detach_address(&self, who: &Principal, req: &AddressRequest) -> Result<Removed, AdminError> {
        who.require_operator()?;
        if req.move_it {
            return Err(AdminError::bad("move: only when attaching"));
        }
        let (account, hash) = self.account_and_address(req)?;
        let held = self.lock_accounts(&[&Identity::EmailHash(hash.clone()), &account]).await?;
        let done = self.detach_locked(&account, &hash).await;
        self.unlock_accounts(&held).await;
        done?;
        let detail = format!("address {hash}");
        self.record_detail(
            who,
            AuditAction::DetachAddress,
            (account.kind(), account.value()),
            &Scope::Platform,
            Some(detail),
        )
        .await;
        tracing::info!(kind = account.kind(), "customers: an address was detached");
        Ok(Removed { removed: true })
    }

    async fn detach_locked(&self, account: &Identity, hash: &str) -> Result<(), AdminError> {
        let store = &self.ports.store;
        let attached = store.get(&attachment_key(hash)).await?.and_then(|v| parse_account_value(&v));
        if attached.as_ref() != Some(account) {
            return Err(AdminError::NotFound("the address is not attached to this account".into()));
        }
        let m = member(hash).ok_or_else(|| AdminError::bad("email_hash: 64 lowercase hex digits"))?;
        let list = self.address_list(account).await?;
        let kept: Vec<u8> = list.chunks_exact(32).filter(|c| *c != m).flatten().copied().collect();
        // One write of both: the attachment is emptied rather than deleted (a store without
        // a delete in its batches), and lapses a day later.
        store
            .set_many(&[
                SetItem { key: attachment_key(hash), value: Vec::new(), ttl: Some(DETACHED_KEPT) },
                SetItem { key: addresses_key(account), value: kept, ttl: None },
            ])
            .await?;
        Ok(())
    }

    /// The addresses attached to an account (operator only), as hashes.
    pub async fn account_addresses(
        &self,
        who: &Principal,
        req: &AccountRequest,
    ) -> Result<AccountAddresses, AdminError> {
        who.require_operator()?;
        if req.account.is_none() && req.account_hash.is_none() {
            return Err(AdminError::bad("give the account: account or account_hash"));
        }
        let account = self.identity(&EntryRequest {
            account: req.account.clone(),
            account_hash: req.account_hash.clone(),
            ..EntryRequest::default()
        })?;
        let list = self.address_list(&account).await?;
        Ok(AccountAddresses {
            kind: account.kind().into(),
            account: account.value().into(),
            email_hashes: members(&list),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::admin::BlacklistAdmin;
    use crate::app::blacklist::test_blacklist;
    use crate::app::Lifecycle;
    use crate::core::email_hash::EmailHasher;
    use crate::testkit::{block_on, MemoryStore, TestRig};

    fn admin(rig: &TestRig) -> Admin<MemoryStore> {
        let blacklist = BlacklistAdmin {
            hasher: EmailHasher::PlainSha256,
            rules: Default::default(),
            hash_accounts: false,
        };
        Admin::new(rig.ports(), Some(blacklist))
    }

    fn request(json: &str) -> AddressRequest {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn an_attached_address_is_turned_back_by_its_accounts_entry_on_every_kind_of_host() {
        let rig = TestRig::default();
        let admin = admin(&rig);
        let op = Principal::Operator;
        block_on(async {
            crate::app::blacklist::index::build(&rig.store).await.unwrap();
            let entry: EntryRequest = serde_json::from_str(r#"{"account": "eve-42"}"#).unwrap();
            admin.add_entry(&op, &entry).await.unwrap();
            let attach = request(r#"{"account": "eve-42", "email": "eve@example.com"}"#);
            admin.attach_address(&op, &attach).await.unwrap();
            for lifecycle in [Lifecycle::Resident, Lifecycle::OneRequest] {
                let b = test_blacklist(rig.store.clone(), EmailHasher::PlainSha256, lifecycle);
                assert_eq!(
                    b.is_listed("gala", Some("Eve@Example.com"), None).await,
                    Some(true),
                    "{lifecycle:?}"
                );
                assert_eq!(b.is_listed("gala", Some("ada@example.com"), None).await, Some(false));
                let hash = EmailHasher::PlainSha256.hash_hex("eve@example.com");
                let found = b.lookup(Some("gala"), &[Identity::EmailHash(hash)]).await;
                assert_eq!(
                    found.matched,
                    [(Identity::Account("eve-42".into()), "*".to_owned())],
                    "audited as the account"
                );
            }
            admin.detach_address(&op, &attach).await.unwrap();
            let b = test_blacklist(rig.store.clone(), EmailHasher::PlainSha256, Lifecycle::OneRequest);
            assert_eq!(b.is_listed("gala", Some("eve@example.com"), None).await, Some(false));
            let key = attachment_key(&EmailHasher::PlainSha256.hash_hex("eve@example.com"));
            assert_eq!(rig.store.get(&key).await.unwrap(), Some(Vec::new()), "emptied in the same write");
            rig.clock.advance(DETACHED_KEPT);
            assert_eq!(rig.store.get(&key).await.unwrap(), None, "and gone a day later");
        });
    }

    #[test]
    fn an_account_holds_at_most_its_share_of_addresses_and_changes_wait_for_each_other() {
        let rig = TestRig::default();
        let admin = admin(&rig);
        let op = Principal::Operator;
        block_on(async {
            for i in 0..MAX_ADDRESSES {
                let req = request(&format!(r#"{{"account": "eve", "email": "eve{i}@example.com"}}"#));
                admin.attach_address(&op, &req).await.unwrap();
            }
            let again = request(r#"{"account": "eve", "email": "eve0@example.com"}"#);
            admin.attach_address(&op, &again).await.expect("attaching again changes nothing");
            let more = request(r#"{"account": "eve", "email": "one.more@example.com"}"#);
            assert!(matches!(admin.attach_address(&op, &more).await, Err(AdminError::BadInput(_))));
            let eve: AccountRequest = serde_json::from_str(r#"{"account": "eve"}"#).unwrap();
            assert_eq!(admin.account_addresses(&op, &eve).await.unwrap().email_hashes.len(), MAX_ADDRESSES);
            // Another change holding the account's claim: this one is told to try again.
            assert!(rig
                .store
                .claim(&account_lock_key(&Identity::Account("eve".into())), Some(LOCK_LEASE))
                .await
                .unwrap());
            let detach = request(r#"{"account": "eve", "email": "eve1@example.com"}"#);
            assert!(matches!(admin.detach_address(&op, &detach).await, Err(AdminError::Busy(_))));
            rig.clock.advance(LOCK_LEASE);
            admin.detach_address(&op, &detach).await.expect("the claim lapsed");
            // A change of the same address for another account at the same moment: one waits.
            let hash = EmailHasher::PlainSha256.hash_hex("eve2@example.com");
            let address = account_lock_key(&Identity::EmailHash(hash));
            assert!(rig.store.claim(&address, Some(LOCK_LEASE)).await.unwrap());
            let to_bob = request(r#"{"account": "bob", "email": "eve2@example.com", "move": true}"#);
            assert!(matches!(admin.attach_address(&op, &to_bob).await, Err(AdminError::Busy(_))));
            rig.clock.advance(LOCK_LEASE);
            let moved = admin.attach_address(&op, &to_bob).await.unwrap();
            assert_eq!(moved.moved_from.as_deref(), Some("eve"));
        });
    }
}
