//! Where state lives in a test: the store a test Doorman is started on.

use super::redis::RedisServer;
use super::redis_cluster::RedisCluster;

/// The store of a test, kept alive as long as the value.
pub enum StoreKind {
    /// The embedded redb file in the Doorman's data folder.
    Embedded,
    /// A Redis server of the test's own.
    Redis(RedisServer),
    /// A Redis server the test keeps elsewhere (to outlive one Doorman).
    Url(String),
    /// A Redis Cluster of the test's own.
    Cluster(RedisCluster),
}

impl StoreKind {
    /// The policy's `[store]` section for it (none for the embedded store, the default).
    pub fn toml(&self) -> String {
        match self {
            StoreKind::Embedded => String::new(),
            StoreKind::Redis(r) => format!("[store]\nurl = \"{}\"\n", r.url()),
            StoreKind::Url(url) => format!("[store]\nurl = \"{url}\"\n"),
            StoreKind::Cluster(c) => format!("[store]\ncluster = {:?}\n", c.urls()),
        }
    }
}
