//! Blacklist entries: add, remove, list, and the hash an address would have. Addresses are
//! hashed on arrival and never stored, logged or echoed.

use std::time::{Duration, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::{Admin, AdminError, Principal};
use crate::core::blacklist::audit::AuditAction;
use crate::core::blacklist::entry::Entry;
use crate::core::blacklist::{
    entry_key, is_account_id, organizer_events_count_key, organizer_events_prefix, Identity, Scope,
    ENTRY_PREFIX,
};
use crate::core::email::canonicalize;
use crate::core::email_hash::is_hash_hex;
use crate::ports::store::{Entry as StoredItem, Store, StoreError};

/// Longest reason an entry may carry, in bytes.
pub const MAX_REASON: usize = 500;
/// Most entries (or audit records) one list call returns.
pub const MAX_LIST: usize = 10_000;
/// Keys an admin read looks at per store page: small, so a checkout waiting behind a page is
/// answered soon (on Redis a page is one `SCAN` step and one pipelined `GET` of what it found;
/// with pages of 1000 the checkout p99 beside a looping export was 5.8x the idle figure, with
/// 100 it is 1.3-1.5x: BENCHMARKS.md).
pub const ADMIN_PAGE: usize = crate::ports::store::SCAN_COUNT;
/// Store pages one list call looks through at most: a bound on its work (10,000 keys),
/// whatever it finds.
pub const SCAN_PAGES: usize = 100;

/// The entries among stored `items` that `scope` may see (all when `None`).
pub(super) fn visible_entries<'a>(
    items: &'a [StoredItem],
    scope: Option<&'a Scope>,
) -> impl Iterator<Item = Entry> + 'a {
    items
        .iter()
        .filter_map(|item| Entry::from_stored(&item.key, &item.value))
        .filter(move |entry| scope.is_none_or(|s| *s == entry.scope()))
}

/// Where a list goes on: a store page (its scan cursor), and within it the entries after the
/// last key already handed out (a store page may hold more than a list page has room for).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ListCursor {
    /// The store's cursor of the page to read (`""`: the start).
    page: String,
    /// Within that page, go on after this key (in key order).
    after: Option<String>,
}

impl ListCursor {
    /// As the API hands it out: URL-safe and opaque.
    fn encode(&self) -> String {
        match &self.after {
            None => URL_SAFE_NO_PAD.encode(&self.page),
            Some(after) => URL_SAFE_NO_PAD.encode(format!("{}\0{after}", self.page)),
        }
    }

    /// Reads back an [`Self::encode`]d cursor; none is the start.
    fn decode(cursor: Option<&str>) -> Result<Self, AdminError> {
        let Some(cursor) = cursor.filter(|c| !c.is_empty()) else { return Ok(Self::default()) };
        let text = URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| AdminError::bad("cursor: not a cursor of this list (use a page's `next`)"))?;
        Ok(match text.split_once('\0') {
            Some((page, after)) => Self { page: page.to_owned(), after: Some(after.to_owned()) },
            None => Self { page: text, after: None },
        })
    }
}

/// A blacklist entry to add or remove. Give exactly one of `account`, `email`, `email_hash`
/// and `account_hash` (otherwise 400), and at most one of `expires_in` and `expires_at`; without
/// either the entry never expires. A field given as `null` counts as absent. Adding an entry that
/// exists replaces it. To remove, name the entry and the organizer whose entry it is (none: the
/// platform-wide entry for the operator, the caller's own organizer for an organizer token);
/// `reason`, `expires_in` and `expires_at` are then refused with 400.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(example = json!({
    "email": "mallory@example.com", "organizer": "harbour-hall", "reason": "chargebacks", "expires_in": "90d"
})))]
#[serde(deny_unknown_fields)]
pub struct EntryRequest {
    /// A customer's account id: 1 to 256 bytes, no control characters, no leading or trailing
    /// whitespace. Where the policy keeps account ids hashed (`blacklist.account_ids =
    /// "hashed"`), it is hashed on arrival and only the hash is stored and returned (`kind`
    /// `account_hash`).
    #[cfg_attr(feature = "native", schema(min_length = 1, max_length = 256, example = "eve-42"))]
    pub account: Option<String>,
    /// An account-id hash as a list or export shows it (`kind` `account_hash`); only where the
    /// policy keeps account ids hashed (`blacklist.account_ids = "hashed"`), else 400.
    #[serde(default)]
    #[cfg_attr(feature = "native", schema(pattern = "^[0-9a-f]{64}$"))]
    pub account_hash: Option<String>,
    /// A guest's e-mail address. It is canonicalized and hashed on arrival; only the hash is
    /// stored and returned (as `value` with `kind` `email_hash`).
    #[cfg_attr(feature = "native", schema(example = "mallory@example.com"))]
    pub email: Option<String>,
    /// The hash of a canonical address, as `POST /v1/hash-email` computes it: 64 lowercase hex
    /// digits.
    #[cfg_attr(
        feature = "native",
        schema(
            pattern = "^[0-9a-f]{64}$",
            example = "1b6554a0f7b3c4d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8"
        )
    )]
    pub email_hash: Option<String>,
    /// The organizer slug (1 to 64 of `a-z`, `0-9`, `-`, `_`). Without it, operator requests act
    /// on the whole platform and organizer-token requests on their own organizer; an organizer
    /// token naming another organizer gets 403.
    #[cfg_attr(feature = "native", schema(pattern = "^[a-z0-9_-]{1,64}$", example = "harbour-hall"))]
    pub organizer: Option<String>,
    /// Why the entry was made: free text, at most 500 bytes, no control characters except
    /// newline. Defaults to the empty string. Adds only.
    #[cfg_attr(feature = "native", schema(max_length = 500, example = "chargebacks"))]
    pub reason: Option<String>,
    /// How long the entry applies, as a duration such as `30d`, `12h` or `1h 30m`: more than
    /// zero and at most 100 years. Adds only.
    #[cfg_attr(feature = "native", schema(example = "90d"))]
    pub expires_in: Option<String>,
    /// When the entry stops applying, as an RFC 3339 time in UTC such as
    /// `2027-01-31T00:00:00Z` (`Z`, `+00:00` or no zone; other offsets are refused): in the
    /// future and at most 100 years away. Adds only.
    #[cfg_attr(feature = "native", schema(format = DateTime, example = "2027-01-31T00:00:00Z"))]
    pub expires_at: Option<String>,
}

/// A checked add request: what to store where, for how long.
pub struct NewEntry {
    /// Who.
    pub identity: Identity,
    /// Where it applies.
    pub scope: Scope,
    /// The stored form.
    pub entry: Entry,
    /// Until it expires.
    pub ttl: Option<Duration>,
}

/// A blacklist entry, as the API answers it. E-mail addresses appear only as hashes.
// Fields in alphabetical order: an NDJSON export line serializes them in this order, as it did
// when it was built from a JSON map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = Entry, example = json!({
    "kind": "email_hash",
    "value": "1b6554a0f7b3c4d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8",
    "organizer": "harbour-hall", "reason": "chargebacks", "added_by": "operator",
    "added_at": "2026-05-01T12:00:00Z", "expires_at": "2026-07-30T12:00:00Z"
})))]
pub struct EntryView {
    /// When it was made (RFC 3339, UTC, whole seconds).
    #[cfg_attr(feature = "native", schema(format = DateTime))]
    pub added_at: String,
    /// Who made it: `operator` or `organizer:<slug>`.
    #[cfg_attr(feature = "native", schema(pattern = "^(operator|organizer:[a-z0-9_-]{1,64})$"))]
    pub added_by: String,
    /// When it stops applying (RFC 3339, UTC, whole seconds); `null` for never.
    #[cfg_attr(feature = "native", schema(format = DateTime))]
    pub expires_at: Option<String>,
    /// What `value` is: `account`, `email_hash` or `account_hash`.
    #[cfg_attr(feature = "native", schema(pattern = "^(account|email_hash|account_hash)$"))]
    pub kind: String,
    /// The organizer the entry applies to; `null` for a platform-wide entry.
    #[cfg_attr(feature = "native", schema(pattern = "^[a-z0-9_-]{1,64}$"))]
    pub organizer: Option<String>,
    /// Why the entry was made; empty if no reason was given.
    pub reason: String,
    /// The account id, the e-mail hash, or (where the policy keeps account ids hashed,
    /// `account_ids = "hashed"`) the account-id hash; hashes are 64 lowercase hex digits.
    pub value: String,
    /// Only on `POST /v1/blacklist`: present when the entry is an organizer's and no event is
    /// mapped to that organizer yet, so it blocks nothing until one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "native", schema(nullable = false))]
    pub warning: Option<String>,
}

/// The API's view of an entry.
pub fn entry_json(e: &Entry) -> EntryView {
    let time = |t: u64| humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(t)).to_string();
    EntryView {
        kind: e.kind.clone(),
        value: e.value.clone(),
        organizer: if e.scope == "*" { None } else { Some(e.scope.clone()) },
        reason: e.reason.clone(),
        added_by: e.added_by.clone(),
        added_at: time(e.added_at),
        expires_at: e.expires_at.map(time),
        warning: None,
    }
}

/// The answer of a removal: always `{"removed": true}` (a missing entry is a 404).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(example = json!({"removed": true})))]
pub struct Removed {
    /// Always `true`.
    pub removed: bool,
}

/// A page of blacklist entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct EntryPage {
    /// The entries of this page.
    pub entries: Vec<EntryView>,
    /// The cursor of the next page; null when the list is complete.
    pub next: Option<String>,
}

/// The hash the blacklist would store for an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(example = json!({
    "email_hash": "1b6554a0f7b3c4d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8"
})))]
pub struct EmailHashAnswer {
    /// 64 lowercase hex digits.
    #[cfg_attr(feature = "native", schema(pattern = "^[0-9a-f]{64}$"))]
    pub email_hash: String,
}

impl<S: Store> Admin<S> {
    pub(super) fn identity(&self, req: &EntryRequest) -> Result<Identity, AdminError> {
        let blacklist = self.blacklist()?;
        match (&req.account, &req.email, &req.email_hash, &req.account_hash) {
            (Some(a), None, None, None) if is_account_id(a) && blacklist.hash_accounts => {
                Ok(Identity::AccountHash(blacklist.hasher.account_hex(a)))
            }
            (Some(a), None, None, None) if is_account_id(a) => Ok(Identity::Account(a.clone())),
            (Some(_), None, None, None) => {
                Err(AdminError::bad(format!(
                    "account: 1 to {} characters, no control characters or outer spaces",
                    crate::core::blacklist::MAX_ACCOUNT_ID
                )))
            }
            (None, Some(e), None, None) => {
                let canonical =
                    canonicalize(e, blacklist.rules).map_err(|e| AdminError::bad(format!("email: {e}")))?;
                Ok(Identity::EmailHash(blacklist.hasher.hash_hex(&canonical)))
            }
            (None, None, Some(h), None) if is_hash_hex(h) => Ok(Identity::EmailHash(h.clone())),
            (None, None, Some(_), None) => Err(AdminError::bad("email_hash: 64 lowercase hex digits")),
            (None, None, None, Some(h)) if is_hash_hex(h) && blacklist.hash_accounts => {
                Ok(Identity::AccountHash(h.clone()))
            }
            (None, None, None, Some(h)) if is_hash_hex(h) => Err(AdminError::bad(
                "account_hash: this policy keeps account ids readable (blacklist.account_ids = \"plain\"); give the account",
            )),
            (None, None, None, Some(_)) => Err(AdminError::bad("account_hash: 64 lowercase hex digits")),
            _ => Err(AdminError::bad("give exactly one of account, email, email_hash, account_hash")),
        }
    }

    /// Checks an add request from `who` at `now` (Unix seconds) and makes the entry.
    pub fn new_entry(&self, who: &Principal, req: &EntryRequest, now: u64) -> Result<NewEntry, AdminError> {
        let identity = self.identity(req)?;
        let scope = who.scope(req.organizer.as_deref())?;
        let reason = req.reason.clone().unwrap_or_default();
        if reason.len() > MAX_REASON || reason.chars().any(char::is_control) {
            return Err(AdminError::bad(format!("reason: at most {MAX_REASON} bytes of text on one line")));
        }
        let ttl =
            match (&req.expires_in, &req.expires_at) {
                (Some(_), Some(_)) => return Err(AdminError::bad("give expires_in or expires_at, not both")),
                (Some(d), None) => Some(humantime::parse_duration(d).map_err(|e| {
                    AdminError::bad(format!("expires_in: not a duration like 90d or 12h: {e}"))
                })?),
                (None, Some(t)) => {
                    let at = humantime::parse_rfc3339_weak(t).map_err(|e| {
                        AdminError::bad(format!(
                            "expires_at: not an RFC 3339 time like 2027-01-01T00:00:00Z: {e}"
                        ))
                    })?;
                    let at = at.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
                    Some(Duration::from_secs(at.saturating_sub(now)))
                }
                (None, None) => None,
            };
        if ttl.is_some_and(|t| t.is_zero() || t > Duration::from_secs(100 * 365 * 86_400)) {
            return Err(AdminError::bad("the expiry must be in the future and at most 100 years away"));
        }
        let entry = Entry {
            kind: identity.kind().into(),
            value: identity.value().into(),
            scope: scope.as_str().into(),
            reason,
            added_by: who.label(),
            added_at: now,
            expires_at: ttl.map(|t| now + t.as_secs()),
        };
        Ok(NewEntry { identity, scope, entry, ttl })
    }

    /// Adds an entry; answers it (with a `warning` when no event maps to its organizer yet, so
    /// it blocks nothing until one does).
    pub async fn add_entry(&self, who: &Principal, req: &EntryRequest) -> Result<EntryView, AdminError> {
        let NewEntry { identity, scope, entry, ttl } = self.new_entry(who, req, self.now())?;
        self.entries_writable()?;
        let value = entry.to_stored();
        // The index first: an entry is never in the store without its identity's member.
        self.ports.store.add_members(&crate::app::blacklist::index::members([&identity])).await?;
        self.ports.store.set(&entry_key(&identity, &scope), &value, ttl).await?;
        tracing::info!(kind = entry.kind, scope = entry.scope, by = entry.added_by, "blacklist: entry added");
        self.record(who, AuditAction::Add, identity.kind(), identity.value(), &scope).await;
        let mut answer = entry_json(&entry);
        if let Scope::Organizer(org) = &scope {
            if !self.organizer_has_events(org).await? {
                answer.warning = Some(format!(
                    "no event is mapped to organizer `{org}` yet, so this entry blocks nothing until one is \
                     (PUT /v1/events/{{event}} with {{\"organizer\": \"{org}\"}})"
                ));
            }
        }
        Ok(answer)
    }

    /// Removes an entry; `NotFound` when there was none.
    pub async fn remove_entry(&self, who: &Principal, req: &EntryRequest) -> Result<Removed, AdminError> {
        if req.reason.is_some() || req.expires_in.is_some() || req.expires_at.is_some() {
            return Err(AdminError::bad("remove takes only account, email or email_hash, and organizer"));
        }
        let identity = self.identity(req)?;
        let scope = who.scope(req.organizer.as_deref())?;
        self.entries_writable()?;
        if !self.ports.store.delete(&entry_key(&identity, &scope)).await? {
            return Err(AdminError::NotFound("no such entry".into()));
        }
        tracing::info!(
            kind = identity.kind(),
            scope = scope.as_str(),
            by = who.label(),
            "blacklist: entry removed"
        );
        self.record(who, AuditAction::Remove, identity.kind(), identity.value(), &scope).await;
        Ok(Removed { removed: true })
    }

    /// A page of the entries `who` may see (of one organizer, or all for the operator): at most
    /// `limit` (1000 by default, at most [`MAX_LIST`]) from `cursor` on (a page's `next`), and
    /// the cursor of the next page. Bounded store work: at most [`SCAN_PAGES`] store pages, so a
    /// page may hold fewer entries than asked, even none, with more to come. The order is the
    /// store's page by page, and key order within a store page (so a list page can end inside
    /// one and the next go on after its last key).
    pub async fn list_entries(
        &self,
        who: &Principal,
        organizer: Option<&str>,
        limit: Option<usize>,
        cursor: Option<&str>,
    ) -> Result<EntryPage, AdminError> {
        let scope = who.filter(organizer)?;
        let limit = limit.unwrap_or(1000).clamp(1, MAX_LIST);
        let given = cursor.is_some_and(|c| !c.is_empty());
        let mut cursor = ListCursor::decode(cursor)?;
        let mut entries = Vec::new();
        for round in 0..SCAN_PAGES {
            let page = match self.ports.store.scan_page(ENTRY_PREFIX, &cursor.page, ADMIN_PAGE).await {
                // The store refusing the caller's own cursor is the caller's mistake, not an outage.
                Err(StoreError::Failed(_)) if round == 0 && given => {
                    return Err(AdminError::bad("cursor: not a cursor of this list (use a page's `next`)"))
                }
                page => page?,
            };
            let mut found: Vec<&StoredItem> = page
                .entries
                .iter()
                .filter(|item| cursor.after.as_ref().is_none_or(|after| item.key > *after))
                .collect();
            found.sort_by(|a, b| a.key.cmp(&b.key));
            found.dedup_by(|a, b| a.key == b.key);
            for item in found {
                let Some(entry) = visible_entries(std::slice::from_ref(item), scope.as_ref()).next() else {
                    continue;
                };
                if entries.len() == limit {
                    // Full inside this store page: the next list page goes on after the last key.
                    let next = ListCursor { page: cursor.page, after: cursor.after };
                    return Ok(EntryPage { entries, next: Some(next.encode()) });
                }
                entries.push(entry_json(&entry));
                cursor.after = Some(item.key.clone());
            }
            let Some(next) = page.next else { return Ok(EntryPage { entries, next: None }) };
            cursor = ListCursor { page: next, after: None };
            if entries.len() == limit {
                break;
            }
        }
        Ok(EntryPage { entries, next: Some(cursor.encode()) })
    }

    /// Whether any event is mapped to `org`: one read of its counter. A store written before the
    /// counters existed has markers only: then they are counted once (a scan) and the count kept.
    async fn organizer_has_events(&self, org: &str) -> Result<bool, AdminError> {
        let store = &self.ports.store;
        let key = organizer_events_count_key(org);
        if let Some(count) = store.get(&key).await? {
            return Ok(std::str::from_utf8(&count).ok().and_then(|c| c.parse::<i64>().ok()).unwrap_or(0) > 0);
        }
        let markers = store.scan_prefix(&organizer_events_prefix(org), MAX_LIST).await?.len();
        if markers > 0 {
            store.increment(&key, markers as i64, None).await?;
        }
        Ok(markers > 0)
    }

    /// The hash the blacklist would store for `email` (not for box-office tokens).
    pub fn hash_email(&self, who: &Principal, email: &str) -> Result<EmailHashAnswer, AdminError> {
        who.require_admin()?;
        let blacklist = self.blacklist()?;
        let canonical =
            canonicalize(email, blacklist.rules).map_err(|e| AdminError::bad(format!("email: {e}")))?;
        Ok(EmailHashAnswer { email_hash: blacklist.hasher.hash_hex(&canonical) })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::app::admin::BlacklistAdmin;
    use crate::app::Ports;
    use crate::core::blacklist::organizer_event_key;
    use crate::core::email_hash::EmailHasher;
    use crate::testkit::MemoryStore;
    use crate::testkit::{block_on, InstantTasks};

    #[test]
    fn entries_wait_while_they_are_being_moved_to_the_current_key_layout() {
        block_on(async {
            let store = MemoryStore::default();
            let blacklist = BlacklistAdmin {
                hasher: EmailHasher::PlainSha256,
                rules: Default::default(),
                hash_accounts: false,
            };
            let admin = Admin::new(Ports::new(store, Arc::new(InstantTasks::default())), Some(blacklist));
            let eve = EntryRequest { account: Some("eve".into()), ..Default::default() };
            admin.set_entries_moving(true);
            assert!(matches!(admin.add_entry(&Principal::Operator, &eve).await, Err(AdminError::Busy(_))));
            assert!(matches!(admin.remove_entry(&Principal::Operator, &eve).await, Err(AdminError::Busy(_))));
            admin.set_entries_moving(false);
            admin.add_entry(&Principal::Operator, &eve).await.unwrap();
            admin.remove_entry(&Principal::Operator, &eve).await.unwrap();
        });
    }

    #[test]
    fn stores_from_before_the_event_counters_still_know_an_organizers_events() {
        block_on(async {
            let store = MemoryStore::default();
            // As an earlier version left it: the marker of a mapped event, no counter.
            store.set(&organizer_event_key("legacy", "e1"), b"", None).await.unwrap();
            store.set(&crate::core::blacklist::event_key("e1"), b"legacy", None).await.unwrap();
            let blacklist = BlacklistAdmin {
                hasher: EmailHasher::PlainSha256,
                rules: Default::default(),
                hash_accounts: false,
            };
            let admin =
                Admin::new(Ports::new(store.clone(), Arc::new(InstantTasks::default())), Some(blacklist));
            let add = |account: &str| EntryRequest {
                account: Some(account.into()),
                organizer: Some("legacy".into()),
                ..Default::default()
            };
            let answer = admin.add_entry(&Principal::Operator, &add("eve")).await.unwrap();
            assert!(answer.warning.is_none(), "the marker counts: {answer:?}");
            assert_eq!(
                store.get(&organizer_events_count_key("legacy")).await.unwrap().as_deref(),
                Some(&b"1"[..])
            );
            // From then on the counter follows the mapping.
            admin.map_event(&Principal::Operator, "e1", "elsewhere").await.unwrap();
            let answer = admin.add_entry(&Principal::Operator, &add("bob")).await.unwrap();
            assert!(answer.warning.is_some(), "its only event moved away: {answer:?}");
        });
    }

    #[test]
    fn list_cursors_round_trip_and_read_the_store_cursors_of_before() {
        for c in [
            ListCursor::default(),
            ListCursor { page: "17".into(), after: None },
            ListCursor { page: "node-2:4096".into(), after: Some("bl:v2:*:a:x\u{e9}".into()) },
            ListCursor { page: String::new(), after: Some(String::new()) },
        ] {
            let text = c.encode();
            assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{text}");
            assert_eq!(ListCursor::decode(Some(&text)).unwrap(), c);
        }
        let before = URL_SAFE_NO_PAD.encode("bl:v2:*:a:zz");
        assert_eq!(
            ListCursor::decode(Some(&before)).unwrap(),
            ListCursor { page: "bl:v2:*:a:zz".into(), after: None }
        );
        assert_eq!(ListCursor::decode(None).unwrap(), ListCursor::default());
        assert!(ListCursor::decode(Some("not base64!")).is_err());
        assert!(ListCursor::decode(Some(&URL_SAFE_NO_PAD.encode([0xff, 0xfe]))).is_err());
    }
}
