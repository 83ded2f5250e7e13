//! The sweeper of keys the edge wrote with a lifetime ([`crate::core::expiry`]): native nodes
//! walk the companions a bounded page at a time and delete every key whose moment has passed,
//! with its companion. Several nodes may sweep at once; deleting twice is harmless.

use crate::core::expiry::{decode, described, PREFIX};
use crate::ports::store::{Store, StoreError, SCAN_COUNT};

/// How often hosts start a pass.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Keys deleted because their moment had passed (with their companions).
    pub expired: u64,
    /// Companions still ahead of their moment.
    pub pending: u64,
}

/// One pass over every companion, as of `now_ms` (Unix milliseconds).
pub async fn sweep_expired<S: Store>(store: &S, now_ms: u64) -> Result<Swept, StoreError> {
    let mut swept = Swept::default();
    let mut cursor = String::new();
    loop {
        let page = store.scan_page(PREFIX, &cursor, SCAN_COUNT).await?;
        let mut gone = Vec::new();
        for item in &page.entries {
            let Some(key) = described(&item.key) else { continue };
            match decode(&item.value) {
                Some(at) if at > now_ms => swept.pending += 1,
                // Past its moment: the key first, then the companion.
                Some(_) => {
                    gone.push(key.to_owned());
                    gone.push(item.key.clone());
                    swept.expired += 1;
                }
                // Not a companion's value: it says nothing about its key, which stays.
                None => gone.push(item.key.clone()),
            }
        }
        if !gone.is_empty() {
            store.delete_many(&gone).await?;
        }
        match page.next {
            Some(next) => cursor = next,
            None => return Ok(swept),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::expiry::{companion, encode};
    use crate::testkit::{block_on, MemoryStore};

    #[test]
    fn keys_past_their_moment_go_with_their_companions_and_the_rest_stay() {
        block_on(async {
            let store = MemoryStore::default();
            for (key, at) in [("rl:a", 1_000), ("rl:b", 5_000), ("wl:{gala}:s:x", 2_000)] {
                store.set(&companion(key), &encode(at), None).await.unwrap();
                store.set(key, b"1", None).await.unwrap();
            }
            store.set("kept", b"no companion", None).await.unwrap();
            store.set(&companion("gone-already"), &encode(500), None).await.unwrap();
            store.set(&companion("garbled"), b"soon", None).await.unwrap();
            store.set("garbled", b"stays", None).await.unwrap();

            let swept = sweep_expired(&store, 2_000).await.unwrap();
            assert_eq!(swept, Swept { expired: 3, pending: 1 });
            assert_eq!(store.keys(), ["garbled", "kept", "rl:b", "xp:rl:b"]);
            assert_eq!(sweep_expired(&store, 9_000).await.unwrap(), Swept { expired: 1, pending: 0 });
            assert_eq!(store.keys(), ["garbled", "kept"]);
        })
    }
}
