//! One customer's blacklist status, for the backend's customer-details screen: does an entry
//! apply to this account, address or hash for the organizer asking, and which (scope, reason,
//! expiry)? One round trip: the platform-wide entry and the organizer's, in the current key
//! layout and the one before it (while entries of an earlier version are still being moved),
//! and for an address the account it is attached to (whose entries then take a second).

use serde::{Deserialize, Serialize};

use super::entries::{entry_json, EntryRequest, EntryView};
use super::{slug, Admin, AdminError, Principal};
use crate::core::blacklist::customer::{attachment_key, parse_account_value};
use crate::core::blacklist::entry::Entry;
use crate::core::blacklist::{entry_key, event_key, legacy_entry_key, Scope};
use crate::ports::store::Store;

/// Whose status, for which organizer: exactly one of `account`, `email`, `email_hash` and
/// `account_hash`, and at most one of `organizer` and `event`.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(example = json!({"email": "mallory@example.com", "organizer": "harbour-hall"})))]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// A customer's account id (hashed on arrival where the policy keeps account ids hashed).
    #[cfg_attr(feature = "native", schema(min_length = 1, max_length = 256))]
    pub account: Option<String>,
    /// An account-id hash (only where the policy keeps account ids hashed).
    #[cfg_attr(feature = "native", schema(pattern = "^[0-9a-f]{64}$"))]
    pub account_hash: Option<String>,
    /// A guest's e-mail address: canonicalized and hashed on arrival, never stored or logged.
    pub email: Option<String>,
    /// The hash of a canonical address (64 lowercase hex digits).
    #[cfg_attr(feature = "native", schema(pattern = "^[0-9a-f]{64}$"))]
    pub email_hash: Option<String>,
    /// The organizer asking (an organizer token: its own, the default); without one, the
    /// operator asks about platform-wide entries only.
    #[cfg_attr(feature = "native", schema(pattern = "^[a-z0-9_-]{1,64}$"))]
    pub organizer: Option<String>,
    /// Or the event the customer wants to buy for: its organizer is the one asking.
    #[cfg_attr(feature = "native", schema(pattern = "^[a-z0-9_-]{1,64}$"))]
    pub event: Option<String>,
}

/// Whether entries apply to a customer, and which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = BlacklistStatus, example = json!({
    "kind": "email_hash", "value": "1b6554a0f7b3c4d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8",
    "organizer": "harbour-hall", "blacklisted": true,
    "entries": [{"kind": "email_hash", "value": "1b6554a0f7b3c4d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8",
        "organizer": "harbour-hall", "reason": "chargebacks", "added_by": "organizer:harbour-hall",
        "added_at": "2026-05-01T12:00:00Z", "expires_at": null}]
})))]
pub struct StatusAnswer {
    /// What `value` is: `account`, `email_hash` or `account_hash`.
    pub kind: String,
    /// The account id or the hash asked about (an address is answered as its hash).
    pub value: String,
    /// The organizer the answer is for; `null`: platform-wide entries only.
    pub organizer: Option<String>,
    /// Whether any entry applies: checkouts of this customer are turned back.
    pub blacklisted: bool,
    /// The entries that apply: the platform-wide one first, then the organizer's; for an
    /// address attached to an account, then the account's (`kind` `account`).
    pub entries: Vec<EntryView>,
}

impl<S: Store> Admin<S> {
    /// Which entries apply to the customer `req` names, for the organizer asking.
    pub async fn blacklist_status(
        &self,
        who: &Principal,
        req: &StatusRequest,
    ) -> Result<StatusAnswer, AdminError> {
        let store = &self.ports.store;
        let asked = match (&req.organizer, &req.event) {
            (Some(_), Some(_)) => return Err(AdminError::bad("give organizer or event, not both")),
            (None, Some(event)) => {
                slug("event", event)?;
                // An event of no organizer: platform-wide entries alone apply to it.
                store.get(&event_key(event)).await?.and_then(|o| String::from_utf8(o).ok())
            }
            (organizer, None) => organizer.clone(),
        };
        let scope = match (who, asked.as_deref()) {
            // An event of no organizer, asked by an organizer: theirs is not the asking one.
            (Principal::Organizer(_), None) if req.event.is_some() => Scope::Platform,
            (who, asked) => who.scope(asked)?,
        };
        let identity = self.identity(&EntryRequest {
            account: req.account.clone(),
            account_hash: req.account_hash.clone(),
            email: req.email.clone(),
            email_hash: req.email_hash.clone(),
            ..EntryRequest::default()
        })?;
        let mut scopes = vec![Scope::Platform];
        if scope != Scope::Platform {
            scopes.push(scope.clone());
        }
        let keys_of = |identity: &crate::core::blacklist::Identity| {
            let mut keys = Vec::new();
            for s in &scopes {
                keys.push(entry_key(identity, s));
                keys.extend(legacy_entry_key(identity, s));
            }
            keys
        };
        let mut keys = keys_of(&identity);
        // An address attached to an account: that account's entries apply to it too.
        let attachment = match &identity {
            crate::core::blacklist::Identity::EmailHash(hash) => Some(attachment_key(hash)),
            _ => None,
        };
        keys.extend(attachment.clone());
        let mut values = store.get_many(&keys).await?;
        if attachment.is_some() {
            keys.pop();
            let account = values.pop().flatten().and_then(|v| parse_account_value(&v));
            if let Some(account) = account {
                let more = keys_of(&account);
                values.extend(store.get_many(&more).await?);
                keys.extend(more);
            }
        }
        let mut entries: Vec<EntryView> = Vec::new();
        for (key, value) in keys.iter().zip(values) {
            let Some(entry) = value.and_then(|v| Entry::from_stored(key, &v)) else { continue };
            let view = entry_json(&entry);
            // An entry found under both layouts (a move under way) is shown once.
            if !entries
                .iter()
                .any(|e| (&e.kind, &e.value, &e.organizer) == (&view.kind, &view.value, &view.organizer))
            {
                entries.push(view);
            }
        }
        Ok(StatusAnswer {
            kind: identity.kind().into(),
            value: identity.value().into(),
            organizer: match scope {
                Scope::Platform => None,
                Scope::Organizer(o) => Some(o),
            },
            blacklisted: !entries.is_empty(),
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::admin::organizers::NewOrganizer;
    use crate::app::admin::BlacklistAdmin;
    use crate::core::email_hash::EmailHasher;
    use crate::testkit::{block_on, TestRig};

    fn admin(rig: &TestRig) -> Admin<crate::testkit::MemoryStore> {
        let blacklist = BlacklistAdmin {
            hasher: EmailHasher::hmac(b"a test key of at least thirty-two bytes").unwrap(),
            rules: Default::default(),
            hash_accounts: false,
        };
        Admin::new(rig.ports(), Some(blacklist))
    }

    fn add(admin: &Admin<crate::testkit::MemoryStore>, who: &Principal, json: &str) {
        let req: EntryRequest = serde_json::from_str(json).unwrap();
        block_on(admin.add_entry(who, &req)).unwrap();
    }

    fn status(
        admin: &Admin<crate::testkit::MemoryStore>,
        who: &Principal,
        json: &str,
    ) -> Result<StatusAnswer, AdminError> {
        let req: StatusRequest = serde_json::from_str(json).unwrap();
        block_on(admin.blacklist_status(who, &req))
    }

    #[test]
    fn the_status_names_the_entries_that_apply_for_the_organizer_asking() {
        let rig = TestRig::default();
        let admin = admin(&rig);
        let op = Principal::Operator;
        block_on(async {
            for id in ["harbour", "dome"] {
                let new = NewOrganizer { id: id.into(), name: id.into() };
                admin.create_organizer(&op, &new).await.unwrap();
            }
            admin.map_event(&op, "gala", "harbour").await.unwrap();
        });
        let harbour = Principal::Organizer("harbour".into());
        add(
            &admin,
            &harbour,
            r#"{"email": "Mallory@Example.com", "reason": "chargebacks", "expires_in": "30d"}"#,
        );
        add(&admin, &op, r#"{"account": "eve-42", "reason": "fraud"}"#);

        // The organizer asks by address (any spelling that canonicalizes alike), or by event.
        let s = status(&admin, &harbour, r#"{"email": "mallory@example.com"}"#).unwrap();
        assert!(s.blacklisted);
        assert_eq!((s.kind.as_str(), s.organizer.as_deref()), ("email_hash", Some("harbour")));
        assert_eq!(s.entries.len(), 1);
        assert_eq!((s.entries[0].reason.as_str(), s.entries[0].expires_at.is_some()), ("chargebacks", true));
        let by_hash =
            status(&admin, &op, &format!(r#"{{"email_hash": "{}", "event": "gala"}}"#, s.value)).unwrap();
        assert_eq!(by_hash.entries, s.entries, "the operator asking for the event's organizer");
        // Another organizer's entry does not apply to dome, nor to the platform alone.
        let dome = Principal::Organizer("dome".into());
        let s = status(&admin, &dome, r#"{"email": "mallory@example.com"}"#).unwrap();
        assert!(!s.blacklisted && s.entries.is_empty());
        assert!(!status(&admin, &op, r#"{"email": "mallory@example.com"}"#).unwrap().blacklisted);
        // A platform-wide entry applies to everyone; an event of no organizer sees only those.
        let s = status(&admin, &dome, r#"{"account": "eve-42"}"#).unwrap();
        assert_eq!((s.blacklisted, s.entries[0].organizer.clone()), (true, None));
        let s = status(&admin, &harbour, r#"{"account": "eve-42", "event": "unmapped"}"#).unwrap();
        assert_eq!((s.blacklisted, s.organizer), (true, None));
    }

    #[test]
    fn bad_status_requests_get_clear_answers() {
        let rig = TestRig::default();
        let admin = admin(&rig);
        let harbour = Principal::Organizer("harbour".into());
        for (json, wanted) in [
            (r#"{}"#, "exactly one"),
            (r#"{"account": "a", "email": "a@b.example"}"#, "exactly one"),
            (r#"{"email": "not an address"}"#, "email"),
            (r#"{"email": "a\r\nb@c.example"}"#, "email"),
            (r#"{"email_hash": "ABC"}"#, "64"),
            (r#"{"account": " padded"}"#, "account"),
            (r#"{"account": "a", "organizer": "x", "event": "y"}"#, "not both"),
            (r#"{"account": "a", "event": "Not A Slug"}"#, "event"),
        ] {
            match status(&admin, &harbour, json) {
                Err(AdminError::BadInput(e)) => assert!(e.contains(wanted), "{json}: {e}"),
                other => panic!("{json}: {other:?}"),
            }
        }
        assert!(matches!(
            status(&admin, &harbour, r#"{"account": "a", "organizer": "dome"}"#),
            Err(AdminError::Forbidden(_))
        ));
        let box_office = Principal::BoxOffice("harbour".into());
        assert!(matches!(status(&admin, &box_office, r#"{"account": "a"}"#), Err(AdminError::Forbidden(_))));
        let unknown: Result<StatusRequest, _> = serde_json::from_str(r#"{"account": "a", "reason": "x"}"#);
        assert!(unknown.is_err(), "only the status's fields");
    }
}
