//! Store adapters: the embedded redb file (default, one node) and Redis, one server or a
//! cluster (many nodes).
//!
//! [`StoreFactory`] opens the store the policy names once at start-up; each runtime that uses it
//! then takes an [`AnyStore`] from it (the embedded file is shared; every runtime gets its own
//! Redis connection, so no request waits on another thread). Both pass the same suite in
//! `tests/store`.

mod durability;
mod embedded;
mod redis;

use std::path::Path;
use std::time::Duration;

pub use self::durability::Durability;
pub use self::embedded::EmbeddedStore;
pub use self::redis::RedisStore;
use crate::core::policy::StorePolicy;
use crate::ports::store::{GotAndExists, ScanPage, SetItem, Store, StoreError};

/// Opens the store the policy names, and hands out handles to it per runtime.
#[derive(Clone)]
pub enum StoreFactory {
    /// The embedded file, opened once and shared.
    Embedded(EmbeddedStore),
    /// A Redis server; each handle gets its own connection.
    Redis {
        /// The checked URL.
        client: ::redis::Client,
        /// Key namespace.
        namespace: String,
    },
    /// A Redis Cluster; each handle gets its own cluster connection.
    RedisCluster {
        /// The checked node URLs.
        client: Box<::redis::cluster::ClusterClient>,
        /// Key namespace.
        namespace: String,
    },
}

impl StoreFactory {
    /// Opens the embedded file in `data_dir`, or checks the Redis URL.
    pub fn open(policy: &StorePolicy, data_dir: &Path) -> Result<Self, StoreError> {
        match policy {
            StorePolicy::Embedded { namespace } => {
                std::fs::create_dir_all(data_dir).map_err(|e| {
                    StoreError::Unavailable(format!("cannot create data dir {}: {e}", data_dir.display()))
                })?;
                Ok(Self::Embedded(EmbeddedStore::open(&data_dir.join("doorman.redb"), namespace)?))
            }
            StorePolicy::Redis { url, namespace } => {
                Ok(Self::Redis { client: RedisStore::client(url)?, namespace: namespace.clone() })
            }
            StorePolicy::RedisCluster { urls, namespace } => Ok(Self::RedisCluster {
                client: Box::new(RedisStore::cluster_client(urls)?),
                namespace: namespace.clone(),
            }),
        }
    }

    /// A handle for the current tokio runtime.
    pub fn connect(&self) -> Result<AnyStore, StoreError> {
        match self {
            Self::Embedded(s) => Ok(AnyStore::Embedded(s.clone())),
            Self::Redis { client, namespace } => {
                Ok(AnyStore::Redis(RedisStore::from_client(client, namespace)?))
            }
            Self::RedisCluster { client, namespace } => {
                Ok(AnyStore::Redis(RedisStore::from_cluster_client(client, namespace)))
            }
        }
    }
}

/// The store chosen by the policy.
#[derive(Clone)]
pub enum AnyStore {
    /// The embedded durable file.
    Embedded(EmbeddedStore),
    /// Redis.
    Redis(RedisStore),
}

impl AnyStore {
    /// A short name for logs and metrics: `embedded`, `redis` or `redis-cluster`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Embedded(_) => "embedded",
            Self::Redis(r) if r.is_cluster() => "redis-cluster",
            Self::Redis(_) => "redis",
        }
    }

    /// What the store promises about acknowledged writes, read from it now.
    pub async fn durability(&self) -> Result<Durability, StoreError> {
        match self {
            Self::Embedded(_) => Ok(Durability::embedded()),
            Self::Redis(r) => r.durability().await,
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Embedded($s) => $e,
            AnyStore::Redis($s) => $e,
        }
    };
}

impl Store for AnyStore {
    async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, s => s.ping().await)
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        dispatch!(self, s => s.get(key).await)
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        dispatch!(self, s => s.set(key, value, ttl).await)
    }
    async fn set_many(&self, items: &[SetItem]) -> Result<(), StoreError> {
        dispatch!(self, s => s.set_many(items).await)
    }
    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        dispatch!(self, s => s.delete(key).await)
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        dispatch!(self, s => s.get_many(keys).await)
    }
    async fn claim(&self, key: &str, ttl: Option<Duration>) -> Result<bool, StoreError> {
        dispatch!(self, s => s.claim(key, ttl).await)
    }
    async fn exists_many(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        dispatch!(self, s => s.exists_many(keys).await)
    }
    async fn increment(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, StoreError> {
        dispatch!(self, s => s.increment(key, by, ttl).await)
    }
    async fn get_and_exists(&self, get: &[String], exists: &[String]) -> Result<GotAndExists, StoreError> {
        dispatch!(self, s => s.get_and_exists(get, exists).await)
    }
    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        dispatch!(self, s => s.delete_many(keys).await)
    }
    async fn increment_many(&self, steps: &[(String, i64)]) -> Result<Vec<i64>, StoreError> {
        dispatch!(self, s => s.increment_many(steps).await)
    }
    async fn add_members(&self, adds: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        dispatch!(self, s => s.add_members(adds).await)
    }

    async fn replace_if(&self, key: &str, expected: &[u8], new: &[u8]) -> Result<bool, StoreError> {
        dispatch!(self, s => s.replace_if(key, expected, new).await)
    }

    async fn scan_page(&self, prefix: &str, cursor: &str, count: usize) -> Result<ScanPage, StoreError> {
        dispatch!(self, s => s.scan_page(prefix, cursor, count).await)
    }
}
