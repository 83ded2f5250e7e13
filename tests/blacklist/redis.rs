//! Several Doorman nodes on one Redis, and Redis going away mid-run.

use std::time::Duration;

use crate::support::backend::Backend;
use crate::support::doorman::{policy, Doorman};
use crate::support::redis::RedisServer;
use crate::{Shop, StoreKind, BLACKLIST};

#[tokio::test]
async fn an_entry_added_on_one_node_blocks_on_every_node_at_once() {
    let redis = RedisServer::start();
    let backend = Backend::start();
    let text = format!("{}[store]\nurl = \"{}\"\n{BLACKLIST}", policy(&backend.url(), "", ""), redis.url());
    let (a, b) = (Doorman::start(&text), Doorman::start(&text));
    let form = "email=mallory%40example.com";
    let post = |d: &Doorman| {
        let req = http::Request::post(d.url("/echo/e1/checkout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(crate::support::client::body(form))
            .unwrap();
        crate::support::client::send(req)
    };
    assert_eq!(post(&b).await.0.status(), 200);
    assert_eq!(a.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await.0, 201);
    assert_eq!(post(&b).await.0.status(), 303, "node B blocks at once what node A added");
    assert_eq!(b.admin("POST", "/v1/blacklist/remove", r#"{"email": "mallory@example.com"}"#).await.0, 200);
    assert_eq!(post(&a).await.0.status(), 200, "node A frees at once what node B removed");
}

#[tokio::test]
async fn an_address_attached_on_one_node_is_turned_back_on_the_other_at_once() {
    let redis = RedisServer::start();
    let backend = Backend::start();
    let text = format!("{}[store]\nurl = \"{}\"\n{BLACKLIST}", policy(&backend.url(), "", ""), redis.url());
    let (a, b) = (Doorman::start(&text), Doorman::start(&text));
    let post = |d: &Doorman| {
        let req = http::Request::post(d.url("/echo/e1/checkout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(crate::support::client::body("email=eve.private%40example.com"))
            .unwrap();
        crate::support::client::send(req)
    };
    assert_eq!(a.admin("POST", "/v1/blacklist", r#"{"account": "eve-42"}"#).await.0, 201);
    assert_eq!(post(&b).await.0.status(), 200);
    let attach = r#"{"account": "eve-42", "email": "eve.private@example.com"}"#;
    assert_eq!(a.admin("POST", "/v1/customers/attach", attach).await.0, 200);
    assert_eq!(post(&b).await.0.status(), 303, "node B turns back at once what node A attached");
    assert_eq!(b.admin("POST", "/v1/customers/detach", attach).await.0, 200);
    assert_eq!(post(&a).await.0.status(), 200, "node A frees at once what node B detached");
}

async fn outage(mode: &str) -> (Shop, u16, u16) {
    let blacklist = BLACKLIST
        .replace("max_body_bytes = 4096", &format!("max_body_bytes = 4096\non_store_error = \"{mode}\""));
    let mut shop = Shop::start_with(StoreKind::Redis(RedisServer::start()), &blacklist, "");
    shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;
    shop.redis().kill();
    let innocent = shop.checkout_form("e1", "email=ada%40example.com").await.0.status().as_u16();
    let blocked = shop.checkout_form("e1", "email=mallory%40example.com").await.0.status().as_u16();
    shop.redis().restart();
    (shop, innocent, blocked)
}

#[tokio::test]
async fn redis_down_fails_open_by_default_and_recovers_by_itself() {
    let (shop, innocent, blocked) = outage("open").await;
    assert_eq!((innocent, blocked), (200, 200), "fail-open forwards every checkout while Redis is down");
    let metrics = crate::support::client::send(
        http::Request::get(shop.doorman.admin_url("/metrics"))
            .header("authorization", format!("Bearer {}", crate::support::doorman::TOKEN))
            .body(crate::support::client::body(""))
            .unwrap(),
    )
    .await
    .1;
    assert!(String::from_utf8_lossy(&metrics).contains("doorman_checkouts_total{outcome=\"store_error\"} 2"));
    // The restarted Redis is empty (no persistence in tests): add again once it answers.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await.0 != 201 {
        assert!(std::time::Instant::now() < deadline, "never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        shop.checkout_form("e1", "email=mallory%40example.com").await.0.status(),
        303,
        "blocking again"
    );
    assert_eq!(shop.checkout_form("e1", "email=ada%40example.com").await.0.status(), 200);
}

#[tokio::test]
async fn redis_down_fails_closed_when_the_policy_says_so() {
    let (shop, innocent, blocked) = outage("closed").await;
    assert_eq!((innocent, blocked), (303, 303), "fail-closed turns every checkout back while Redis is down");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while shop.checkout_form("e1", "email=ada%40example.com").await.0.status() != 200 {
        assert!(std::time::Instant::now() < deadline, "never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The admin API must never starve checkouts: before pages, an export `SCAN`ned the whole
/// keyspace and sent one `MGET` of every entry, which held Redis (single-threaded) for as long
/// as that took, and every checkout behind it waited, past the response timeout on a busy
/// server (and with `on_store_error = "open"` forwarded unchecked). With a million entries,
/// exports looping beside a checkout load must leave every checkout decided by the store, and
/// no command may hold Redis for a quarter of a second (Redis's own slow log says; the one `MGET`
/// of a million entries took longer than the 1 s response timeout, while one page of the export
/// takes well under a millisecond, so the bound leaves room for a loaded test machine pausing
/// Redis mid-command: 20 ms was seen). How much the export costs checkout latency is a benchmark
/// figure (`bench/blacklist.sh`).
#[tokio::test]
async fn a_million_entries_exported_in_a_loop_never_starve_checkouts() {
    use doorman::core::blacklist::entry::Entry;
    use doorman::core::blacklist::{entry_key, Identity, Scope};

    let shop = Shop::start(StoreKind::Redis(RedisServer::start()), "");
    // A million platform-wide entries as Doorman stores them, written straight into Redis (the
    // admin API of a debug build would take minutes).
    let entries = 1_000_000;
    shop.redis_ref().pipe((0..entries).map(|i| {
        let identity = Identity::Account(format!("acct-{i}"));
        let entry = Entry {
            kind: "account".into(),
            value: identity.value().into(),
            scope: "*".into(),
            reason: "bulk".into(),
            added_by: "operator".into(),
            added_at: 1_700_000_000,
            expires_at: None,
        };
        let key = format!("doorman:{}", entry_key(&identity, &Scope::Platform));
        vec!["SET".into(), key, String::from_utf8(entry.to_stored()).unwrap()]
    }));
    assert_eq!(
        shop.checkout_form("e1", "account=acct-777").await.0.status(),
        303,
        "the fill is what Doorman reads"
    );
    let redis = shop.redis_ref();
    redis.cli(&["CONFIG", "SET", "slowlog-log-slower-than", "250000"]);
    redis.cli(&["SLOWLOG", "RESET"]);

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut exports = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let (url, stop) = (shop.doorman.admin_url("/v1/blacklist/export?format=ndjson"), stop.clone());
        exports.spawn(async move {
            let mut lines = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let req = http::Request::get(&url)
                    .header("authorization", format!("Bearer {}", crate::support::doorman::TOKEN))
                    .body(crate::support::client::body(""))
                    .unwrap();
                let (_, bytes) = crate::support::client::send(req).await;
                lines += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            }
            lines
        });
    }
    // Checkouts while the exports run: blacklisted and not, every one decided by the store.
    let until = std::time::Instant::now() + Duration::from_secs(20);
    let mut checked = 0;
    while std::time::Instant::now() < until {
        let i = checked % 2000;
        let (blocked, free) = (format!("account=acct-{}", i * 499), format!("account=someone-{i}"));
        assert_eq!(shop.checkout_form("e1", &blocked).await.0.status(), 303, "{blocked}");
        assert_eq!(shop.checkout_form("e1", &free).await.0.status(), 200, "{free}");
        checked += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut exported = 0;
    while let Some(lines) = exports.join_next().await {
        exported += lines.unwrap();
    }
    assert!(exported >= entries, "the exports went through at least one whole list: {exported} lines");
    let metrics = shop.metrics().await;
    assert!(
        metrics.contains("doorman_checkouts_total{outcome=\"store_error\"} 0"),
        "a checkout met a store error beside the export:\n{metrics}"
    );
    assert!(checked > 50, "only {checked} rounds of checkouts in 20 s");
    assert_eq!(
        redis.cli(&["SLOWLOG", "LEN"]),
        "0",
        "commands held Redis for over 250 ms:\n{}",
        redis.cli(&["SLOWLOG", "GET", "5"])
    );
}

/// A Redis Cluster primary dies during checkouts: with `on_store_error = "closed"` no checkout
/// of the blacklisted customer reaches the shop meanwhile, none waits longer than the store's
/// few seconds, and once the replica has taken over the entry made before is still there and
/// blocks again, new entries are taken, and everybody else buys, without restarting Doorman.
#[tokio::test]
async fn checkouts_come_through_a_cluster_failover_without_a_way_around_the_block() {
    use crate::support::redis_cluster::RedisCluster;

    let blacklist =
        BLACKLIST.replace("max_body_bytes = 4096", "max_body_bytes = 4096\non_store_error = \"closed\"");
    let shop = Shop::start_with(StoreKind::Cluster(RedisCluster::start()), &blacklist, "");
    assert_eq!(shop.admin("POST", "/v1/blacklist", r#"{"account": "eve"}"#).await.0, 201);
    assert_eq!(shop.checkout_form("e1", "account=eve").await.0.status(), 303);
    assert_eq!(shop.checkout_form("e1", "account=ada").await.0.status(), 200);
    let StoreKind::Cluster(cluster) = &shop.store else { unreachable!() };

    // The primary holding eve's entry (the account's hash tag) crashes.
    let before = shop.backend_requests();
    cluster.kill_primary_of("doorman:bl:{a:eve}:*");
    let until = std::time::Instant::now() + Duration::from_secs(6);
    let mut answers = 0;
    while std::time::Instant::now() < until {
        let started = std::time::Instant::now();
        let status = shop.checkout_form("e1", "account=eve").await.0.status();
        let took = started.elapsed();
        assert_eq!(status, 303, "eve is turned back during the failover too");
        assert!(took < Duration::from_secs(5), "a checkout waited {took:?} for the store");
        answers += 1;
    }
    assert_eq!(shop.backend_requests(), before, "nothing of eve's reached the shop");
    assert!(answers >= 2, "only {answers} checkouts answered in 6 s");

    cluster.wait_ok();
    // The client finds the new primary by itself: the entry survived on the replica.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while shop.checkout_form("e1", "account=ada").await.0.status() != 200 {
        assert!(std::time::Instant::now() < deadline, "checkouts never recovered after the failover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        shop.checkout_form("e1", "account=eve").await.0.status(),
        303,
        "the entry outlived its primary"
    );
    assert_eq!(shop.admin("POST", "/v1/blacklist", r#"{"account": "mallet"}"#).await.0, 201);
    assert_eq!(shop.checkout_form("e1", "account=mallet").await.0.status(), 303, "new entries land");
}

#[tokio::test]
async fn entries_an_earlier_version_stored_keep_blocking_and_are_moved_at_start() {
    let redis = RedisServer::start();
    let backend = Backend::start();
    let text = format!("{}[store]\nurl = \"{}\"\n{BLACKLIST}", policy(&backend.url(), "", ""), redis.url());
    let hex = {
        let first = Doorman::start(&text);
        let (status, answer) =
            first.admin("POST", "/v1/hash-email", r#"{"email": "mallory@example.com"}"#).await;
        assert_eq!(status, 200);
        answer["email_hash"].as_str().unwrap().to_owned()
    };
    // The store as a version before the compact keys left it: hashes in hex, no marker.
    let old_platform = format!("doorman:bl:{{e:{hex}}}:*");
    let old_own = format!("doorman:bl:{{e:{hex}}}:harbour");
    redis.cli(&["SET", &old_platform, "1700000000\t\toperator\tchargebacks"]);
    redis.cli(&["SET", &old_own, "1700000000\t4102444800\toperator\t", "EX", "3600"]);
    redis.cli(&["DEL", "doorman:meta:blacklist-layout"]);
    assert_eq!(redis.cli(&["EXISTS", &old_platform]), "1");

    let node = Doorman::start(&text);
    let post = |email: &'static str| {
        let req = http::Request::post(node.url("/echo/e1/checkout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(crate::support::client::body(format!("email={email}")))
            .unwrap();
        crate::support::client::send(req)
    };
    assert_eq!(post("mallory%40example.com").await.0.status(), 303, "the old entry still blocks");
    assert_eq!(post("ada%40example.com").await.0.status(), 200);
    // The admin API answers once the move is done: the old keys are gone, each entry is under
    // its compact key with its expiry, and the list shows the hash as before, once per scope.
    let (status, list) = node.admin("GET", "/v1/blacklist", "").await;
    assert_eq!(status, 200);
    let hashes: Vec<(&str, &str)> = list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["value"].as_str().unwrap(), e["organizer"].as_str().unwrap_or("*")))
        .collect();
    assert_eq!(hashes.len(), 2, "{list}");
    assert_eq!(hashes.iter().filter(|(h, _)| *h == hex).count(), 2, "{list}");
    assert_ne!(hashes[0].1, hashes[1].1, "{list}");
    assert_eq!(redis.cli(&["EXISTS", &old_platform, &old_own]), "0");
    let keys = redis.cli(&["--scan", "--pattern", "doorman:bl:*"]);
    let mut keys: Vec<&str> = keys.lines().collect();
    keys.sort();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for key in &keys {
        let inner = key.strip_prefix("doorman:bl:{e:").and_then(|k| k.split_once('}')).unwrap().0;
        assert_eq!(inner.len(), 43, "the hash in base64url: {key}");
    }
    let ttl: i64 =
        redis.cli(&["TTL", keys.iter().find(|k| k.ends_with(":harbour")).unwrap()]).parse().unwrap();
    assert!(ttl > 3600, "the expiry (2100) carried over, not the old key's TTL: {ttl}");
    assert_eq!(redis.cli(&["GET", "doorman:meta:blacklist-layout"]), "2");
    assert_eq!(post("mallory%40example.com").await.0.status(), 303, "and blocks after the move");
    assert_eq!(
        node.admin("POST", "/v1/blacklist/remove", r#"{"email": "mallory@example.com"}"#).await.0,
        200
    );
    assert_eq!(post("mallory%40example.com").await.0.status(), 200, "removed under its new key");
}
