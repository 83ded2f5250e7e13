//! What each store does when things go wrong: restarts, a dead Redis, a reopened file.

use std::time::{Duration, Instant};

use doorman::adapters::store::{EmbeddedStore, RedisStore};
use doorman::ports::store::{SetItem, Store, StoreError};

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
    let port = crate::support::dead_port();
    let s = RedisStore::connect(&format!("redis://127.0.0.1:{port}/"), "ns").unwrap();
    let started = Instant::now();
    assert!(matches!(s.ping().await, Err(StoreError::Unavailable(_))));
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// Writes `rounds` batches of `rows` expiring rows into the store file at `path`, each gone
/// before the next is written, and answers the file's size after the first batch and after the
/// last.
async fn file_growth(
    path: &std::path::Path,
    sweep_every: Duration,
    rounds: usize,
    rows: usize,
) -> (u64, u64) {
    let store = EmbeddedStore::open_sweeping(path, "test", sweep_every).unwrap();
    let value = vec![b'a'; 400];
    let mut first = 0;
    for round in 0..rounds {
        let items: Vec<SetItem> = (0..rows)
            .map(|i| SetItem {
                key: format!("audit:hh:{round:03}:{i:08}"),
                value: value.clone(),
                ttl: Some(Duration::from_millis(50)),
            })
            .collect();
        for chunk in items.chunks(1000) {
            store.set_many(chunk).await.unwrap();
        }
        if round == 0 {
            first = std::fs::metadata(path).unwrap().len();
        }
        // Past the expiry and a few sweeps.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(store.scan_prefix(&format!("audit:hh:{round:03}:"), 10).await.unwrap().is_empty());
    }
    (first, std::fs::metadata(path).unwrap().len())
}

#[tokio::test]
async fn embedded_expiry_frees_space_that_later_writes_reuse_and_compaction_returns() {
    let dir = tempfile::tempdir().unwrap();
    // Swept: four batches of expired rows take about the room of one.
    let swept = dir.path().join("swept.redb");
    let (first, last) = file_growth(&swept, Duration::from_millis(50), 4, 10_000).await;
    assert!(last < first * 2, "swept: {first} bytes after one batch, {last} after four");
    // Not swept (the sweeper waits an hour): the same writes keep growing the file, so the
    // sweeper is what frees it.
    let kept = dir.path().join("kept.redb");
    let (first_kept, last_kept) = file_growth(&kept, Duration::from_secs(3600), 4, 10_000).await;
    assert!(
        last_kept > first_kept * 3,
        "unswept: {first_kept} bytes after one batch, {last_kept} after four"
    );
    // Opened again, the sweeper empties it; opened once more, the free room goes back to the disk.
    let store = EmbeddedStore::open_sweeping(&kept, "test", Duration::from_millis(20)).unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    drop(store);
    let before = std::fs::metadata(&kept).unwrap().len();
    let store = EmbeddedStore::open(&kept, "test").unwrap();
    let compacted = std::fs::metadata(&kept).unwrap().len();
    assert!(
        compacted < before * 3 / 4 && compacted < last_kept / 3,
        "compacted at open: {last_kept} bytes at most, {before} closed, then {compacted}"
    );
    store.set("still", b"works", None).await.unwrap();
    assert_eq!(store.get("still").await.unwrap().as_deref(), Some(&b"works"[..]));
}
