//! Writing the identity index ([`crate::core::blacklist::index`]): an identity's member goes in
//! before its entry, and `doorman serve` builds the index of a store once, at start.

use crate::core::blacklist::index::{bucket_key, place, BUCKETS, BUILT, BUILT_KEY, READY};
use crate::core::blacklist::{parse_entry_key, Identity, ENTRY_PREFIX, LAYOUT, LAYOUT_KEY};
use crate::ports::store::{Store, StoreError, SCAN_COUNT};

/// The index writes that must reach the store before entries of `identities` are written.
pub fn members<'a>(identities: impl IntoIterator<Item = &'a Identity>) -> Vec<(String, Vec<u8>)> {
    identities
        .into_iter()
        .map(|identity| {
            let place = place(identity);
            (place.key, place.member.to_vec())
        })
        .collect()
}

/// What [`build`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Built {
    /// Identities found in entries and indexed.
    pub indexed: u64,
    /// Whether the index was there already (nothing to do).
    pub already: bool,
}

/// Builds the index of the store: creates every bucket, adds the member of every identity that
/// has an entry, a store page at a time, marks every bucket ready, then writes the marker.
///
/// Safe to run again, from several nodes at once, after a crash midway, and while entries
/// change: every entry this version writes has its member added first, so an entry written
/// during the walk is indexed either way.
pub async fn build<S: Store>(store: &S) -> Result<Built, StoreError> {
    if store.get(BUILT_KEY).await?.as_deref() == Some(BUILT) {
        return Ok(Built { already: true, ..Built::default() });
    }
    let mut built = Built::default();
    let mut cursor = String::new();
    loop {
        let page = store.scan_page(ENTRY_PREFIX, &cursor, SCAN_COUNT).await?;
        let identities: Vec<Identity> =
            page.entries.iter().filter_map(|item| parse_entry_key(&item.key)).map(|(id, _)| id).collect();
        store.add_members(&members(&identities)).await?;
        built.indexed += identities.len() as u64;
        match page.next {
            Some(next) => cursor = next,
            None => break,
        }
    }
    let ready: Vec<(String, Vec<u8>)> = (0..BUCKETS).map(|n| (bucket_key(n), READY.to_vec())).collect();
    for chunk in ready.chunks(512) {
        store.add_members(chunk).await?;
    }
    store.set(BUILT_KEY, BUILT, None).await?;
    Ok(built)
}

/// [`build`] for a store that had its index and may have lost it (emptied, or a Redis restarted
/// without persistence): only once the key layout is settled (`None` before: the start-up move
/// builds the index after it, and an index marked ready mid-move would let the edge skip the
/// entries not yet moved).
pub async fn rebuild_if_lost<S: Store>(store: &S) -> Result<Option<Built>, StoreError> {
    if store.get(LAYOUT_KEY).await?.as_deref() != Some(LAYOUT) {
        return Ok(None);
    }
    build(store).await.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::blacklist::index::{may_be_listed, IndexFault};
    use crate::core::blacklist::{entry_key, Scope};
    use crate::testkit::{block_on, MemoryStore};

    #[test]
    fn a_build_indexes_every_entry_once_and_marks_every_bucket() {
        block_on(async {
            let store = MemoryStore::default();
            let eve = Identity::Account("eve".into());
            let ada = Identity::Account("ada".into());
            let bob = Identity::Account("bob".into());
            store.set(&entry_key(&eve, &Scope::Platform), b"{}", None).await.unwrap();
            store.set(&entry_key(&eve, &Scope::Organizer("harbour".into())), b"{}", None).await.unwrap();
            store.set(&entry_key(&ada, &Scope::Platform), b"{}", None).await.unwrap();
            let read = |id: &Identity| {
                let store = store.clone();
                let place = place(id);
                async move { may_be_listed(store.get(&place.key).await.unwrap().as_deref(), &place.member) }
            };
            assert_eq!(read(&eve).await, Err(IndexFault::Missing), "no index yet");

            assert_eq!(build(&store).await.unwrap(), Built { indexed: 3, already: false });
            assert_eq!(
                (read(&eve).await, read(&ada).await, read(&bob).await),
                (Ok(true), Ok(true), Ok(false))
            );
            let buckets = store.keys().iter().filter(|k| k.starts_with("bx:")).count();
            assert_eq!(buckets, usize::from(BUCKETS));
            assert!(build(&store).await.unwrap().already);
            // A second build (the marker lost) adds nothing twice.
            store.delete(BUILT_KEY).await.unwrap();
            let before = store.get(&place(&eve).key).await.unwrap();
            build(&store).await.unwrap();
            assert_eq!(store.get(&place(&eve).key).await.unwrap(), before);
        })
    }

    #[test]
    fn a_lost_index_is_built_again_only_once_the_key_layout_is_settled() {
        block_on(async {
            let store = MemoryStore::default();
            store
                .set(&entry_key(&Identity::Account("eve".into()), &Scope::Platform), b"{}", None)
                .await
                .unwrap();
            assert_eq!(rebuild_if_lost(&store).await.unwrap(), None, "the move at start comes first");
            assert!(store.keys().iter().all(|k| !k.starts_with("bx:")));
            store.set(LAYOUT_KEY, LAYOUT, None).await.unwrap();
            assert_eq!(rebuild_if_lost(&store).await.unwrap(), Some(Built { indexed: 1, already: false }));
            assert_eq!(rebuild_if_lost(&store).await.unwrap(), Some(Built { indexed: 0, already: true }));
        })
    }
}
