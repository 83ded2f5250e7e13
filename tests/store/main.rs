//! One suite for every store adapter: the embedded redb file, a real Redis server, a real
//! Redis Cluster (three primaries, three replicas), and the test kit's in-memory store (on the
//! system clock here, so the cases' real-time expiry applies to it too).
//!
//! Each case in `cases` runs against all four, through the same `Store` trait the features use.

#[path = "../support/mod.rs"]
mod support;

mod cases;
mod failures;

use doorman::adapters::store::{EmbeddedStore, RedisStore};

/// An embedded store in a fresh folder; the folder lives as long as the guard.
pub fn embedded(namespace: &str) -> (EmbeddedStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(&dir.path().join("doorman.redb"), namespace).unwrap();
    (store, dir)
}

/// A Redis store on a fresh server; the server lives as long as the guard.
pub fn redis(namespace: &str) -> (RedisStore, support::redis::RedisServer) {
    let server = support::redis::RedisServer::start();
    let store = RedisStore::connect(&server.url(), namespace).unwrap();
    (store, server)
}

/// A Redis store on a fresh cluster; the cluster lives as long as the guard.
pub fn cluster(namespace: &str) -> (RedisStore, support::redis_cluster::RedisCluster) {
    let cluster = support::redis_cluster::RedisCluster::start();
    let client = RedisStore::cluster_client(&cluster.urls()).unwrap();
    (RedisStore::from_cluster_client(&client, namespace), cluster)
}

macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $case() {
                    let store = doorman::testkit::MemoryStore::new(std::sync::Arc::new(doorman::app::SystemClock));
                    super::cases::$case(&store).await;
                }
            )*
        }
        mod embedded {
            $(
                #[tokio::test]
                async fn $case() {
                    let (store, _guard) = super::embedded("test");
                    super::cases::$case(&store).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test]
                async fn $case() {
                    let (store, _guard) = super::redis("test");
                    super::cases::$case(&store).await;
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test]
                async fn $case() {
                    let (store, _guard) = super::cluster("test");
                    super::cases::$case(&store).await;
                }
            )*
        }
    };
}

suite!(
    set_get_delete,
    set_many_writes_every_item,
    missing_keys,
    values_are_bytes,
    expiry,
    exists_many,
    get_many,
    claims_are_exclusive_until_deleted_or_expired,
    concurrent_claims_have_one_winner,
    counters,
    counters_with_expiry,
    counter_on_a_non_counter_fails_cleanly,
    scan_prefix_is_ordered_bounded_and_literal,
    scan_pages_are_bounded_and_together_see_every_live_key,
    concurrent_increments_are_atomic,
    members_are_added_once_and_read_as_one_value,
    a_conditional_replace_changes_only_what_was_read_and_keeps_the_expiry,
    ping,
);
