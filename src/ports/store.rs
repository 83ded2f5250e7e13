//! The store port: a small durable key-value interface with expiry and counters.
//!
//! Keys are UTF-8 strings chosen by Doorman's features (e.g. `bl:acct:{org}:alice`); the adapter
//! adds its namespace. A write has returned `Ok` only once the store has taken it: the embedded
//! store has committed it to disk with an `fsync`; Redis has acknowledged it, which survives a
//! Redis restart only as far as its persistence settings say (everything with `appendonly yes`
//! and `appendfsync always`; `adapters::store::Durability` reads and reports them).
//!
//! Futures are `Send` so hosts can hold a store in multi-threaded runtimes.

use std::future::Future;
use std::time::Duration;

/// Why a store operation failed. Callers decide between fail-open and fail-closed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached (connection refused, timed out, closed).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store answered, but not as expected (wrong type, corrupt value).
    #[error("store failed: {0}")]
    Failed(String),
}

/// One entry returned by [`Store::scan_prefix`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key, without the adapter's namespace.
    pub key: String,
    /// The stored bytes.
    pub value: Vec<u8>,
}

/// One page of [`Store::scan_page`]: the live entries found, and where the next page starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanPage {
    /// The live entries of this page (possibly none, even when more follow).
    pub entries: Vec<Entry>,
    /// The cursor of the next page; `None` when the scan is complete.
    pub next: Option<String>,
}

/// What [`Store::get_and_exists`] answers: the values, then whether each key exists.
pub type GotAndExists = (Vec<Option<Vec<u8>>>, Vec<bool>);

/// One write of [`Store::set_many`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetItem {
    /// The key.
    pub key: String,
    /// The value.
    pub value: Vec<u8>,
    /// Expiry, if any.
    pub ttl: Option<Duration>,
}

/// A durable key-value store with per-key expiry and atomic counters.
pub trait Store: Send + Sync + 'static {
    /// Checks that the store answers (used by `/readyz`).
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The value under `key`, if any and not expired.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// Stores `value` under `key`, replacing what was there; with `ttl` it expires after that long.
    fn set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores many values at once, before it returns: one disk commit or one Redis round trip
    /// for the whole batch. All or nothing on the embedded store and on one Redis server
    /// (`MULTI`); a Redis Cluster takes one batch only within one hash slot, so callers keep a
    /// batch's keys under one hash tag where all-or-nothing matters.
    fn set_many(&self, items: &[SetItem]) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes `key`; answers whether it existed.
    fn delete(&self, key: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Removes every key of `keys` (missing ones are fine): in one commit or one round trip where
    /// the store can; all or nothing as [`Store::set_many`] is.
    fn delete_many(&self, keys: &[String]) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            for key in keys {
                self.delete(key).await?;
            }
            Ok(())
        }
    }

    /// The values under `keys`, in their order (`None` for a missing or expired key), in one
    /// round trip where the store can.
    fn get_many(
        &self,
        keys: &[String],
    ) -> impl Future<Output = Result<Vec<Option<Vec<u8>>>, StoreError>> + Send;

    /// Claims `key`: answers `true` for exactly one caller until the key is deleted or, with
    /// `ttl`, expires; every other caller gets `false`. A claim is a marker with no value of its
    /// own (single-use links, one signup per address, one sender per message). It works like a
    /// counter's first increment, so every store, `wasi:keyvalue` included, agrees on who won.
    fn claim(
        &self,
        key: &str,
        ttl: Option<Duration>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// For each key, whether it exists, in one round trip (the checkout decision's lookup).
    fn exists_many(&self, keys: &[String]) -> impl Future<Output = Result<Vec<bool>, StoreError>> + Send;

    /// The values under `get` and, for each of `exists`, whether it exists: in one round trip
    /// where the store can (the checkout's lookup of its event's organizer and its entry keys
    /// together). By default [`Store::get_many`], then [`Store::exists_many`].
    fn get_and_exists(
        &self,
        get: &[String],
        exists: &[String],
    ) -> impl Future<Output = Result<GotAndExists, StoreError>> + Send {
        async move { Ok((self.get_many(get).await?, self.exists_many(exists).await?)) }
    }

    /// Adds `by` to the counter under `key` (missing counts as 0) and answers the new value.
    /// Counters are decimal text on every store, so `get` reads one as `b"12"`. With
    /// `ttl`, a counter created by this call expires after that long (fixed-window rate limits).
    fn increment(
        &self,
        key: &str,
        by: i64,
        ttl: Option<Duration>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Adds each step's amount to its counter (no expiry), as [`Store::increment`] does, and
    /// answers the new values in order: in one commit or one round trip where the store can.
    /// Each step is atomic; together they are one transaction only on the embedded store.
    fn increment_many(
        &self,
        steps: &[(String, i64)],
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send {
        async move {
            let mut values = Vec::with_capacity(steps.len());
            for (key, by) in steps {
                values.push(self.increment(key, *by, None).await?);
            }
            Ok(values)
        }
    }

    /// Adds each `(key, member)` to the set of equally wide members kept side by side in one
    /// value (readable with [`Store::get`]): a member already there, at a member boundary, is not
    /// added again; a missing value is created, with no expiry. Each add is atomic; one commit or
    /// one round trip for all where the store can (the blacklist's identity index).
    fn add_members(&self, adds: &[(String, Vec<u8>)]) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces the value under `key` with `new` only if it is still `expected`, keeping its
    /// expiry; answers whether it did. Atomic on every store that has it (re-sealing records
    /// with a new data key must never overwrite a change made since they were read). Stores
    /// without it (the edge's key-value store) answer an error.
    fn replace_if(
        &self,
        key: &str,
        expected: &[u8],
        new: &[u8],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let _ = (key, expected, new);
        async { Err(StoreError::Failed("this store cannot replace a value conditionally".into())) }
    }

    /// One page of the live entries whose key starts with `prefix`, from `cursor` (`""` for the
    /// start; otherwise a page's `next`). Bounded work: about `count` keys are looked at, matching
    /// or not, in one round trip (Redis: one `SCAN`, then one `MGET` of what it found); a page
    /// may hold none, and the scan is complete only when `next` is `None`. The order is the
    /// store's own (key order on the embedded store; Redis's `SCAN` order, where a key may be
    /// seen twice while the keyspace is resized, never missed; on a Redis Cluster, primary by
    /// primary, and one that fails over mid-scan may repeat or miss its part). Admin reads page through this,
    /// so they never hold the store for long.
    fn scan_page(
        &self,
        prefix: &str,
        cursor: &str,
        count: usize,
    ) -> impl Future<Output = Result<ScanPage, StoreError>> + Send;

    /// Up to `limit` live entries whose key starts with `prefix`, sorted by key, read through
    /// [`Store::scan_page`] a bounded page at a time (for small key families: organizers, tests).
    fn scan_prefix(
        &self,
        prefix: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Entry>, StoreError>> + Send {
        async move {
            let mut found = Vec::new();
            let mut cursor = String::new();
            loop {
                let page = self.scan_page(prefix, &cursor, SCAN_COUNT).await?;
                found.extend(page.entries);
                match page.next {
                    Some(next) if found.len() < limit => cursor = next,
                    _ => break,
                }
            }
            found.sort_by(|a, b| a.key.cmp(&b.key));
            found.dedup_by(|a, b| a.key == b.key);
            found.truncate(limit);
            Ok(found)
        }
    }
}

/// Keys looked at per [`Store::scan_page`] call where callers have no better size: small, so a
/// request waiting behind a page (a checkout on the same Redis) is answered soon.
pub const SCAN_COUNT: usize = 100;

/// Adds `member` to `value`, a run of members as wide as it (see [`Store::add_members`]), unless
/// it is there already; answers whether it was added. For stores that edit values in place.
pub fn add_member(value: &mut Vec<u8>, member: &[u8]) -> bool {
    let width = member.len().max(1);
    if value.chunks_exact(width).any(|m| m == member) {
        return false;
    }
    value.extend_from_slice(member);
    true
}
