//! The blacklist's key layout across versions, and moving the entries of earlier versions.
//!
//! Entry keys hold hashes in base64url since layout 2 ([`entry_key`]); earlier versions wrote
//! them in hex ([`legacy_entry_key`]). Until the store's marker ([`LAYOUT_KEY`]) says every entry
//! was moved, checkouts ask for both keys, with the marker, in the same round trip. `doorman
//! serve` moves the entries at start ([`move_legacy_entries`]) and holds changes to entries
//! meanwhile (`Admin::set_entries_moving`); on a new store that is one empty walk and the marker.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::core::blacklist::entry::Entry;
use crate::core::blacklist::{entry_key, is_legacy_entry_key, parse_entry_key, LAYOUT, LAYOUT_KEY};
use crate::ports::store::{SetItem, Store, StoreError, SCAN_COUNT};

/// What this process knows of the store's key layout: once it has seen the marker, it stops
/// asking for keys of earlier versions.
#[derive(Debug, Default)]
pub struct KeyLayout(AtomicBool);

impl KeyLayout {
    /// Whether the store is known to hold every entry in the current layout.
    pub fn is_current(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Notes that the store's marker says so.
    pub fn mark_current(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// What [`move_legacy_entries`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    /// Entries moved to their current key.
    pub moved: u64,
    /// Entries of earlier versions that had expired: dropped.
    pub expired: u64,
    /// Whether the marker was there already (nothing to do).
    pub already: bool,
}

/// Moves every entry stored under a key of an earlier layout to its current key, a store page
/// at a time, then writes the marker. `now` is Unix seconds (an entry's expiry carries over);
/// `progress` hears the running count of moved entries after each page.
///
/// Safe to run again, from several nodes at once, and after a crash midway: a page's new keys
/// are written before its old ones are deleted, and a move stops when it finds the marker written
/// by another node meanwhile. Changes to entries must wait until it is done (the admin API holds
/// them): an entry changed meanwhile could come back as it was.
pub async fn move_legacy_entries<S: Store>(
    store: &S,
    now: u64,
    mut progress: impl FnMut(u64),
) -> Result<Moved, StoreError> {
    let mut moved = Moved::default();
    if store.get(LAYOUT_KEY).await?.as_deref() == Some(LAYOUT) {
        moved.already = true;
        return Ok(moved);
    }
    for prefix in ["bl:{e:", "bl:{h:"] {
        let mut cursor = String::new();
        loop {
            let page = store.scan_page(prefix, &cursor, SCAN_COUNT).await?;
            let mut writes = Vec::new();
            let mut old_keys = Vec::new();
            for item in page.entries.into_iter().filter(|item| is_legacy_entry_key(&item.key)) {
                let Some((identity, scope)) = parse_entry_key(&item.key) else { continue };
                let expires_at = Entry::from_stored(&item.key, &item.value).and_then(|e| e.expires_at);
                match expires_at.map(|at| at.saturating_sub(now)) {
                    Some(0) => moved.expired += 1,
                    left => writes.push(SetItem {
                        key: entry_key(&identity, &scope),
                        value: item.value,
                        ttl: left.map(Duration::from_secs),
                    }),
                }
                old_keys.push(item.key);
            }
            if !old_keys.is_empty() {
                if store.get(LAYOUT_KEY).await?.as_deref() == Some(LAYOUT) {
                    // Another node finished the move (and entries may be changing again).
                    return Ok(moved);
                }
                if !writes.is_empty() {
                    store.set_many(&writes).await?;
                }
                store.delete_many(&old_keys).await?;
                moved.moved += writes.len() as u64;
                progress(moved.moved);
            }
            match page.next {
                Some(next) => cursor = next,
                None => break,
            }
        }
    }
    store.set(LAYOUT_KEY, LAYOUT, None).await?;
    Ok(moved)
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::core::blacklist::decide::Lookup;
    use crate::core::blacklist::{legacy_entry_key, Identity, Scope, ENTRY_PREFIX};
    use crate::core::email_hash::EmailHasher;
    use crate::testkit::block_on;
    use crate::testkit::MemoryStore;

    const NOW: u64 = 1_800_000_000;

    fn stored(expires_at: Option<u64>) -> Vec<u8> {
        let expires = expires_at.map(|t| t.to_string()).unwrap_or_default();
        format!("1700000000\t{expires}\toperator\tchargebacks").into_bytes()
    }

    #[test]
    fn entries_of_earlier_versions_block_before_and_after_they_are_moved() {
        block_on(async {
            let store = MemoryStore::default();
            let hasher = EmailHasher::hmac(&[7u8; 32]).unwrap();
            let eve = Identity::EmailHash(hasher.hash_hex("eve@example.com"));
            let mallory = Identity::AccountHash(hasher.account_hex("mallory"));
            let gone = Identity::EmailHash(hasher.hash_hex("gone@example.com"));
            let trent = Identity::Account("trent".into());
            let harbour = Scope::Organizer("harbour".into());
            // As an earlier version left them: hashes in hex, one in the JSON of older values,
            // one past its expiry (the store had not dropped it yet), an account (unchanged).
            let old = |id: &Identity, scope: &Scope| legacy_entry_key(id, scope).unwrap();
            store.set(&old(&eve, &Scope::Platform), &stored(None), None).await.unwrap();
            store.set(&old(&mallory, &harbour), &stored(Some(NOW + 3600)), None).await.unwrap();
            store.set(&old(&gone, &Scope::Platform), &stored(Some(NOW - 1)), None).await.unwrap();
            let json = format!(
                r#"{{"kind":"email_hash","value":"{}","scope":"harbour","reason":"","added_by":"operator","added_at":1}}"#,
                eve.value()
            );
            store.set(&old(&eve, &harbour), json.as_bytes(), None).await.unwrap();
            store.set(&entry_key(&trent, &Scope::Platform), &stored(None), None).await.unwrap();
            store.set(&crate::core::blacklist::event_key("gala"), b"harbour", None).await.unwrap();

            let blacklist =
                super::super::test_blacklist(store.clone(), hasher, crate::app::Lifecycle::Resident);
            let blocked = |ids: Vec<Identity>| {
                let blacklist = &blacklist;
                async move { blacklist.lookup(Some("gala"), &ids).await }
            };

            // Before the move: the old keys still block, in the scope they were made for.
            let found = blocked(vec![mallory.clone()]).await;
            assert_eq!(
                (found.lookup, found.matched),
                (Lookup::Answered(true), vec![(mallory.clone(), "harbour".into())])
            );
            assert_eq!(blocked(vec![eve.clone()]).await.lookup, Lookup::Answered(true));
            assert!(!blacklist.layout.is_current(), "no marker yet: keep asking for old keys");

            let mut heard = Vec::new();
            let moved = move_legacy_entries(&store, NOW, |n| heard.push(n)).await.unwrap();
            assert_eq!(moved, Moved { moved: 3, expired: 1, already: false });
            assert_eq!(heard.last(), Some(&3));
            let keys: Vec<String> =
                store.scan_prefix(ENTRY_PREFIX, 100).await.unwrap().into_iter().map(|e| e.key).collect();
            assert_eq!(keys.len(), 4, "{keys:?}");
            assert!(keys.iter().all(|k| !is_legacy_entry_key(k)), "{keys:?}");
            assert_eq!(
                store.get(&entry_key(&mallory, &harbour)).await.unwrap(),
                Some(stored(Some(NOW + 3600)))
            );
            assert_eq!(store.get(&entry_key(&eve, &harbour)).await.unwrap(), Some(json.into_bytes()));
            assert_eq!(
                store.get(&entry_key(&gone, &Scope::Platform)).await.unwrap(),
                None,
                "expired: dropped"
            );

            // After it: the same answers, and the marker read in the same round trip ends the
            // asking for old keys.
            assert_eq!(blocked(vec![mallory.clone()]).await.lookup, Lookup::Answered(true));
            assert!(blacklist.layout.is_current());
            for ids in [vec![eve.clone()], vec![trent.clone()], vec![gone.clone(), mallory.clone()]] {
                assert_eq!(blocked(ids).await.lookup, Lookup::Answered(true));
            }
            assert_eq!(blocked(vec![gone]).await.lookup, Lookup::Answered(false));
            assert_eq!(
                move_legacy_entries(&store, NOW, |_| {}).await.unwrap(),
                Moved { already: true, ..Moved::default() },
                "done once"
            );
        });
    }
}
