//! What each store does when things go wrong: restarts, a dead Redis, a reopened file.

use std::time::{Duration, Instant};

use doorman::adapters::store::{EmbeddedStore, RedisStore};
use doorman::ports::store::{Store, StoreError};

#[tokio::test]
async fn embedded_writes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doorman.redb");
    {
        let s = EmbeddedStore::open(&path, "ns").unwrap();
        s.set("kept", b"yes", None).await.unwrap();
        s.increment("n", 3, None).await.unwrap();
    }
    let s = EmbeddedStore::open(&path, "ns").unwrap();
    assert_eq!(s.get("kept").await.unwrap().as_deref(), Some(&b"yes"[..]));
    assert_eq!(s.increment("n", 1, None).await.unwrap(), 4);
    let other = {
        drop(s);
        EmbeddedStore::open(&path, "other").unwrap()
    };
    assert_eq!(other.get("kept").await.unwrap(), None, "namespaces do not see each other");
}

#[test]
fn embedded_store_in_an_unwritable_place_is_a_clear_error() {
    let err = EmbeddedStore::open(std::path::Path::new("/proc/doorman-cannot-write-here/x.redb"), "ns")
        .err()
        .unwrap();
    assert!(
        matches!(err, StoreError::Unavailable(ref m) if m.contains("/proc/doorman-cannot-write-here")),
        "{err}"
    );
}

#[tokio::test]
async fn redis_namespaces_do_not_see_each_other() {
    let server = crate::support::redis::RedisServer::start();
    let a = RedisStore::connect(&server.url(), "a").unwrap();
    let b = RedisStore::connect(&server.url(), "b").unwrap();
    a.set("k", b"from a", None).await.unwrap();
    assert_eq!(b.get("k").await.unwrap(), None);
    assert!(b.scan_prefix("", 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn redis_down_is_reported_quickly_and_recovered_from_by_itself() {
    let mut server = crate::support::redis::RedisServer::start();
    let s = RedisStore::connect(&server.url(), "ns").unwrap();
    s.set("k", b"v", None).await.unwrap();
    server.kill();

    let started = Instant::now();
    match s.get("k").await {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("expected Unavailable while Redis is down, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a dead Redis took {:?} to report",
        started.elapsed()
    );
    assert!(s.ping().await.is_err());

    server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match s.set("k2", b"back", None).await {
            Ok(()) => break,
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => panic!("the store did not recover after Redis came back: {e}"),
        }
    }
    assert_eq!(s.get("k2").await.unwrap().as_deref(), Some(&b"back"[..]));
}

#[test]
fn redis_urls_that_cannot_work_are_refused_up_front() {
    for bad in ["not a url", "http://127.0.0.1:6379/"] {
        assert!(matches!(RedisStore::connect(bad, "ns"), Err(StoreError::Failed(_))), "{bad} was accepted");
    }
}

#[tokio::test]
async fn redis_that_never_ran_is_unavailable_not_hanging() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let s = RedisStore::connect(&format!("redis://127.0.0.1:{port}/"), "ns").unwrap();
    let started = Instant::now();
    assert!(matches!(s.ping().await, Err(StoreError::Unavailable(_))));
    assert!(started.elapsed() < Duration::from_secs(3));
}
