//! The store port over `wasi:keyvalue` (`store` and `atomics`, 0.2.0-draft2), so the edge shares
//! the blacklist with native Doorman on one Redis.
//!
//! Keys are `namespace:key`, exactly as the native Redis adapter writes them, and values are the
//! same bytes: Spin's Redis key-value store keeps keys as given and values as raw strings, and
//! counts with `INCRBY` (decimal strings), as native Doorman does. What `wasi:keyvalue` cannot
//! do is answered plainly:
//! - expiry: values written here carry no expiry (the interface has none); lookups still see
//!   native entries expire, because Redis expires them;
//! - `set_many` is one `set` per item, not all or nothing;
//! - `exists_many` and `get_many` are one call per key (Spin's Redis `get-many` cannot be relied
//!   on);
//! - `claim` is a first `increment` (the interface's CAS is not atomic on Spin's Redis store);
//! - `scan_page` is refused: listing keys is the native admin API's work, never the edge's.

use std::sync::Arc;
use std::time::Duration;

use doorman::ports::store::{ScanPage, SetItem, Store, StoreError};

use crate::bindings::wasi::keyvalue::{atomics, store};

/// A bucket of the host's key-value store, or why it could not be opened.
#[derive(Clone)]
pub struct KvStore {
    bucket: Result<Arc<store::Bucket>, String>,
    prefix: String,
}

fn failure(e: store::Error) -> StoreError {
    match e {
        store::Error::NoSuchStore => StoreError::Failed("no such key-value store".into()),
        store::Error::AccessDenied => StoreError::Failed("access to the key-value store denied".into()),
        store::Error::Other(text) => StoreError::Unavailable(text),
    }
}

impl KvStore {
    /// Opens the store labelled `label` (Spin: one of the component's `key_value_stores`).
    pub fn open(label: &str, namespace: &str) -> Self {
        let bucket = store::open(label).map(Arc::new).map_err(|e| failure(e).to_string());
        Self { bucket, prefix: format!("{namespace}:") }
    }

    fn bucket(&self) -> Result<&store::Bucket, StoreError> {
        self.bucket.as_deref().map_err(|e| StoreError::Unavailable(e.clone()))
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

impl Store for KvStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.bucket().map(|_| ())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.bucket()?.get(&self.key(key)).map_err(failure)
    }

    async fn set(&self, key: &str, value: &[u8], _ttl: Option<Duration>) -> Result<(), StoreError> {
        self.bucket()?.set(&self.key(key), value).map_err(failure)
    }

    async fn set_many(&self, items: &[SetItem]) -> Result<(), StoreError> {
        let bucket = self.bucket()?;
        for item in items {
            bucket.set(&self.key(&item.key), &item.value).map_err(failure)?;
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let bucket = self.bucket()?;
        let key = self.key(key);
        let existed = bucket.exists(&key).map_err(failure)?;
        bucket.delete(&key).map_err(failure)?;
        Ok(existed)
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let bucket = self.bucket()?;
        keys.iter().map(|k| bucket.get(&self.key(k)).map_err(failure)).collect()
    }

    async fn claim(&self, key: &str, _ttl: Option<Duration>) -> Result<bool, StoreError> {
        // The first increment wins, here and against native Doorman's `SET NX` of "1".
        Ok(atomics::increment(self.bucket()?, &self.key(key), 1).map_err(failure)? == 1)
    }

    async fn exists_many(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        let bucket = self.bucket()?;
        keys.iter().map(|k| bucket.exists(&self.key(k)).map_err(failure)).collect()
    }

    async fn increment(&self, key: &str, by: i64, _ttl: Option<Duration>) -> Result<i64, StoreError> {
        atomics::increment(self.bucket()?, &self.key(key), by).map_err(failure)
    }

    async fn scan_page(&self, _prefix: &str, _cursor: &str, _count: usize) -> Result<ScanPage, StoreError> {
        Err(StoreError::Failed("listing keys is not offered at the edge".into()))
    }
}
