//! The store port over `wasi:keyvalue` (`store` and `atomics`, 0.2.0-draft2), so the edge shares
//! the blacklist with native Doorman on one Redis.
//!
//! Keys are `namespace:key`, exactly as the native Redis adapter writes them, and values are the
//! same bytes: Spin's Redis key-value store keeps keys as given and values as raw strings, and
//! counts with `INCRBY` (decimal strings), as native Doorman does. What `wasi:keyvalue` cannot
//! do is answered plainly:
//! - expiry: the interface has none, so a key written with a lifetime gets a companion key
//!   saying when it expires (`doorman::core::expiry`), and native Doorman's sweeper deletes
//!   both once it has passed; lookups see native entries expire, because Redis expires them;
//! - `set_many` is one `set` per item, not all or nothing;
//! - `exists_many` and `get_many` are one call per key (Spin's Redis `get-many` cannot be relied
//!   on);
//! - `claim` is a first `increment` (the interface's CAS is not atomic on Spin's Redis store);
//! - `scan_page` is refused: listing keys is the native admin API's work, never the edge's.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use doorman::core::expiry;
use doorman::ports::store::{ScanPage, SetItem, Store, StoreError};

use crate::bindings::wasi::keyvalue::{atomics, store};

/// A bucket of the host's key-value store, opened at its first use (Spin's Redis store answers
/// an open with a `PING` round trip, which a request that reads nothing, a page, should not
/// pay), or why it could not be opened.
#[derive(Clone)]
pub struct KvStore {
    inner: Arc<Lazy>,
    prefix: String,
}

struct Lazy {
    label: String,
    bucket: OnceLock<Result<store::Bucket, String>>,
}

fn failure(e: store::Error) -> StoreError {
    match e {
        store::Error::NoSuchStore => StoreError::Failed("no such key-value store".into()),
        store::Error::AccessDenied => StoreError::Failed("access to the key-value store denied".into()),
        store::Error::Other(text) => StoreError::Unavailable(text),
    }
}

impl KvStore {
    /// The store labelled `label` (Spin: one of the component's `key_value_stores`), opened
    /// when it is first used.
    pub fn open(label: &str, namespace: &str) -> Self {
        let inner = Arc::new(Lazy { label: label.to_owned(), bucket: OnceLock::new() });
        Self { inner, prefix: format!("{namespace}:") }
    }

    fn bucket(&self) -> Result<&store::Bucket, StoreError> {
        let opened = self
            .inner
            .bucket
            .get_or_init(|| store::open(&self.inner.label).map_err(|e| failure(e).to_string()));
        opened.as_ref().map_err(|e| StoreError::Unavailable(e.clone()))
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

impl KvStore {
    /// Writes `value` under `key`, with its lifetime in a companion written first (or, without
    /// one, any companion an earlier write left removed first): a crash in between leaves a
    /// companion of a key that is not there yet, never a key that outlives its lifetime.
    fn write(
        &self,
        bucket: &store::Bucket,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<(), StoreError> {
        let companion = self.key(&expiry::companion(key));
        match ttl {
            Some(ttl) => bucket.set(&companion, &expiry::encode(expires_at(ttl))).map_err(failure)?,
            None => bucket.delete(&companion).map_err(failure)?,
        }
        bucket.set(&self.key(key), value).map_err(failure)
    }

    /// Gives a key this call created (a first increment, a claim) its lifetime.
    fn created(&self, bucket: &store::Bucket, key: &str, ttl: Option<Duration>) -> Result<(), StoreError> {
        match ttl {
            Some(ttl) => bucket
                .set(&self.key(&expiry::companion(key)), &expiry::encode(expires_at(ttl)))
                .map_err(failure),
            None => Ok(()),
        }
    }
}

/// When a lifetime of `ttl` from now ends, in Unix milliseconds.
fn expires_at(ttl: Duration) -> u64 {
    use doorman::app::Clock;
    doorman::app::SystemClock.unix_ms().saturating_add(ttl.as_millis() as u64)
}

impl Store for KvStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.bucket().map(|_| ())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.bucket()?.get(&self.key(key)).map_err(failure)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        self.write(self.bucket()?, key, value, ttl)
    }

    async fn set_many(&self, items: &[SetItem]) -> Result<(), StoreError> {
        let bucket = self.bucket()?;
        for item in items {
            self.write(bucket, &item.key, &item.value, item.ttl)?;
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let bucket = self.bucket()?;
        let full = self.key(key);
        let existed = bucket.exists(&full).map_err(failure)?;
        bucket.delete(&full).map_err(failure)?;
        bucket.delete(&self.key(&expiry::companion(key))).map_err(failure)?;
        Ok(existed)
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let bucket = self.bucket()?;
        keys.iter().map(|k| bucket.get(&self.key(k)).map_err(failure)).collect()
    }

    async fn claim(&self, key: &str, ttl: Option<Duration>) -> Result<bool, StoreError> {
        // The first increment wins, here and against native Doorman's `SET NX` of "1"; the
        // winner gives the claim its lease, after which the sweeper frees it.
        let bucket = self.bucket()?;
        let won = atomics::increment(bucket, &self.key(key), 1).map_err(failure)? == 1;
        if won {
            self.created(bucket, key, ttl)?;
        }
        Ok(won)
    }

    async fn exists_many(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        let bucket = self.bucket()?;
        keys.iter().map(|k| bucket.exists(&self.key(k)).map_err(failure)).collect()
    }

    async fn increment(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, StoreError> {
        // As natively, only the call that creates a counter gives it its lifetime (a fixed
        // window); a counter is created by the increment that answers `by` (from nothing).
        let bucket = self.bucket()?;
        let value = atomics::increment(bucket, &self.key(key), by).map_err(failure)?;
        if value == by {
            self.created(bucket, key, ttl)?;
        }
        Ok(value)
    }

    async fn add_members(&self, _adds: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        Err(StoreError::Failed(
            "the blacklist's index is written by native Doorman, never at the edge".into(),
        ))
    }

    async fn scan_page(&self, _prefix: &str, _cursor: &str, _count: usize) -> Result<ScanPage, StoreError> {
        Err(StoreError::Failed("listing keys is not offered at the edge".into()))
    }
}
