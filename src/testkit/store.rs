//! The store in memory, on a clock of the test's choosing.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::ports::clock::Clock;
use crate::ports::store::{add_member, Entry, ScanPage, SetItem, Store, StoreError};

/// A [`Store`] held in memory: what the redb file and Redis do, in key order (as the embedded
/// store), with expiry read from its clock. Clones share the same data. [`MemoryStore::set_down`]
/// makes every call fail as an unreachable store does.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    clock: Arc<dyn Clock>,
    items: Mutex<BTreeMap<String, Item>>,
    down: AtomicBool,
    /// Calls still to fail before the store answers again.
    failures: AtomicUsize,
    /// Calls still answered before the store goes down (`usize::MAX`: not counting).
    down_after: AtomicUsize,
}

#[derive(Debug, Clone)]
struct Item {
    value: Vec<u8>,
    /// Unix milliseconds from which the item is gone.
    expires_at: Option<u64>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").field("keys", &self.items().len()).finish()
    }
}

impl Default for MemoryStore {
    /// An empty store on the system clock.
    fn default() -> Self {
        Self::new(Arc::new(crate::ports::clock::SystemClock))
    }
}

impl MemoryStore {
    /// An empty store whose expiry follows `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let inner = Inner {
            clock,
            items: Mutex::default(),
            down: AtomicBool::new(false),
            failures: AtomicUsize::new(0),
            down_after: AtomicUsize::new(usize::MAX),
        };
        Self { inner: Arc::new(inner) }
    }

    /// While `down`, every call fails with [`StoreError::Unavailable`] and changes nothing.
    pub fn set_down(&self, down: bool) {
        self.inner.down.store(down, Ordering::SeqCst);
    }

    /// The next `calls` calls fail with [`StoreError::Unavailable`] (a store that comes back).
    pub fn fail_next(&self, calls: usize) {
        self.inner.failures.store(calls, Ordering::SeqCst);
    }

    /// The store answers `calls` more calls, then goes down (a crash at any point of a flow);
    /// [`MemoryStore::set_down`]`(false)` brings it back.
    pub fn down_after(&self, calls: usize) {
        self.inner.down_after.store(calls, Ordering::SeqCst);
    }

    /// Every live key, in order (for tests that prove what was, or was not, stored).
    pub fn keys(&self) -> Vec<String> {
        let now = self.inner.clock.unix_ms();
        self.items().iter().filter(|(_, item)| item.live(now)).map(|(k, _)| k.clone()).collect()
    }

    fn items(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Item>> {
        self.inner.items.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the items at the clock's now, unless the store is down.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, Item>, u64) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let failing =
            self.inner.failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        let counting = self.inner.down_after.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n != usize::MAX).then(|| n.saturating_sub(1))
        });
        if counting == Ok(0) {
            self.inner.down.store(true, Ordering::SeqCst);
            self.inner.down_after.store(usize::MAX, Ordering::SeqCst);
        }
        if self.inner.down.load(Ordering::SeqCst) || failing.is_ok() {
            return Err(StoreError::Unavailable("the memory store is down".into()));
        }
        let now = self.inner.clock.unix_ms();
        let mut items = self.items();
        items.retain(|_, item| item.live(now));
        f(&mut items, now)
    }
}

impl Item {
    fn live(&self, now: u64) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

fn expiry(now: u64, ttl: Option<Duration>) -> Option<u64> {
    ttl.map(|t| now.saturating_add(t.as_millis().max(1) as u64))
}

fn step(
    items: &mut BTreeMap<String, Item>,
    now: u64,
    key: &str,
    by: i64,
    ttl: Option<Duration>,
) -> Result<i64, StoreError> {
    let (current, expires_at) = match items.get(key) {
        None => (0, expiry(now, ttl)),
        Some(item) => {
            let text = std::str::from_utf8(&item.value).ok();
            let n = text.and_then(|t| t.parse::<i64>().ok());
            (n.ok_or_else(|| StoreError::Failed(format!("{key} is not a counter")))?, item.expires_at)
        }
    };
    let next = current.checked_add(by).ok_or_else(|| StoreError::Failed(format!("{key} overflows")))?;
    items.insert(key.to_owned(), Item { value: next.to_string().into_bytes(), expires_at });
    Ok(next)
}

impl Store for MemoryStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.with(|_, _| Ok(()))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|items, _| Ok(items.get(key).map(|i| i.value.clone())))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.with(|items, now| {
            items.insert(key.to_owned(), Item { value: value.to_vec(), expires_at: expiry(now, ttl) });
            Ok(())
        })
    }

    async fn set_many(&self, batch: &[SetItem]) -> Result<(), StoreError> {
        self.with(|items, now| {
            for i in batch {
                items.insert(i.key.clone(), Item { value: i.value.clone(), expires_at: expiry(now, i.ttl) });
            }
            Ok(())
        })
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.with(|items, _| Ok(items.remove(key).is_some()))
    }

    async fn replace_if(&self, key: &str, expected: &[u8], new: &[u8]) -> Result<bool, StoreError> {
        self.with(|items, _| match items.get_mut(key) {
            Some(item) if item.value == expected => {
                item.value = new.to_vec();
                Ok(true)
            }
            _ => Ok(false),
        })
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        self.with(|items, _| {
            keys.iter().for_each(|k| {
                items.remove(k);
            });
            Ok(())
        })
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.with(|items, _| Ok(keys.iter().map(|k| items.get(k).map(|i| i.value.clone())).collect()))
    }

    async fn claim(&self, key: &str, ttl: Option<Duration>) -> Result<bool, StoreError> {
        // Taken by any live key, counter or not; otherwise a counter at 1.
        self.with(|items, now| Ok(!items.contains_key(key) && step(items, now, key, 1, ttl)? == 1))
    }

    async fn exists_many(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        self.with(|items, _| Ok(keys.iter().map(|k| items.contains_key(k)).collect()))
    }

    async fn increment(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, StoreError> {
        self.with(|items, now| step(items, now, key, by, ttl))
    }

    async fn increment_many(&self, steps: &[(String, i64)]) -> Result<Vec<i64>, StoreError> {
        // One transaction, as on the embedded store: a failing step changes nothing.
        self.with(|items, now| {
            let mut scratch = items.clone();
            let values = steps
                .iter()
                .map(|(k, by)| step(&mut scratch, now, k, *by, None))
                .collect::<Result<_, _>>()?;
            *items = scratch;
            Ok(values)
        })
    }

    async fn add_members(&self, adds: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        self.with(|items, _| {
            for (key, member) in adds {
                let item = items.entry(key.clone()).or_insert(Item { value: Vec::new(), expires_at: None });
                add_member(&mut item.value, member);
            }
            Ok(())
        })
    }

    async fn scan_page(&self, prefix: &str, cursor: &str, count: usize) -> Result<ScanPage, StoreError> {
        // Key order; the cursor is the last key looked at.
        self.with(|items, _| {
            let range = if cursor.is_empty() {
                items.range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            } else {
                items.range::<str, _>((Bound::Excluded(cursor), Bound::Unbounded))
            };
            let mut entries = Vec::new();
            let mut last: Option<String> = None;
            for (looked, (key, item)) in range.enumerate() {
                if !key.starts_with(prefix) {
                    break;
                }
                if looked == count.max(1) {
                    return Ok(ScanPage { entries, next: last });
                }
                entries.push(Entry { key: key.clone(), value: item.value.clone() });
                last = Some(key.clone());
            }
            Ok(ScanPage { entries, next: None })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{block_on, ManualClock};

    #[test]
    fn expiry_follows_the_stores_clock_and_a_store_that_is_down_changes_nothing() {
        block_on(async {
            let clock = Arc::new(ManualClock::at(1_000_000));
            let store = MemoryStore::new(clock.clone());
            store.set("brief", b"x", Some(Duration::from_secs(60))).await.unwrap();
            assert!(store.claim("claim", Some(Duration::from_secs(10))).await.unwrap());
            assert!(!store.claim("claim", Some(Duration::from_secs(10))).await.unwrap());
            clock.advance(Duration::from_secs(59));
            assert_eq!(store.get("brief").await.unwrap(), Some(b"x".to_vec()));
            assert!(store.claim("claim", None).await.unwrap(), "the claim expired");
            clock.advance(Duration::from_secs(1));
            assert_eq!(store.get("brief").await.unwrap(), None);
            store.set_down(true);
            assert!(matches!(store.set("k", b"v", None).await, Err(StoreError::Unavailable(_))));
            store.set_down(false);
            assert_eq!(store.keys(), ["claim"]);
        });
    }
}
