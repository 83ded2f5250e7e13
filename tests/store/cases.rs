//! The behaviour every store must have.

use std::time::Duration;

use doorman::ports::store::{SetItem, Store, StoreError};

async fn eventually_gone(store: &impl Store, key: &str) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while tokio::time::Instant::now() < deadline {
        if store.get(key).await.unwrap().is_none() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

pub async fn set_get_delete(s: &impl Store) {
    s.set("k", b"v1", None).await.unwrap();
    assert_eq!(s.get("k").await.unwrap().as_deref(), Some(&b"v1"[..]));
    s.set("k", b"v2", None).await.unwrap();
    assert_eq!(s.get("k").await.unwrap().as_deref(), Some(&b"v2"[..]), "set replaces");
    assert!(s.delete("k").await.unwrap());
    assert_eq!(s.get("k").await.unwrap(), None);
    // Many at once, in keys of different hash slots, missing ones among them.
    for k in ["{a}:1", "{b}:2", "{c}:3"] {
        s.set(k, b"x", Some(Duration::from_secs(60))).await.unwrap();
    }
    let gone: Vec<String> = ["{a}:1", "{b}:2", "never"].map(String::from).into();
    s.delete_many(&gone).await.unwrap();
    assert_eq!(
        s.exists_many(&["{a}:1", "{b}:2", "{c}:3"].map(String::from)).await.unwrap(),
        [false, false, true]
    );
    s.delete_many(&[]).await.unwrap();
}

pub async fn set_many_writes_every_item(s: &impl Store) {
    let items: Vec<SetItem> = (0..500)
        .map(|i| SetItem {
            key: format!("bulk:{i:04}"),
            value: i.to_string().into_bytes(),
            ttl: (i % 2 == 0).then(|| Duration::from_secs(3600)),
        })
        .collect();
    s.set_many(&items).await.unwrap();
    let all = s.scan_prefix("bulk:", 1000).await.unwrap();
    assert_eq!(all.len(), 500);
    assert_eq!(all[42].value, b"42");
    s.set_many(&[]).await.unwrap();
}

pub async fn missing_keys(s: &impl Store) {
    assert_eq!(s.get("nothing").await.unwrap(), None);
    assert!(!s.delete("nothing").await.unwrap());
}

pub async fn values_are_bytes(s: &impl Store) {
    let binary = [0u8, 255, 10, 13, 0xc3, 0x28];
    s.set("bin", &binary, None).await.unwrap();
    assert_eq!(s.get("bin").await.unwrap().as_deref(), Some(&binary[..]));
    s.set("empty", b"", None).await.unwrap();
    assert_eq!(s.get("empty").await.unwrap().as_deref(), Some(&b""[..]), "an empty value is still a value");
    let key = "ключ:{tag}:with spaces and * ? [ ]";
    s.set(key, b"x", None).await.unwrap();
    assert_eq!(s.get(key).await.unwrap().as_deref(), Some(&b"x"[..]));
    let big = vec![7u8; 1 << 20];
    s.set("big", &big, None).await.unwrap();
    assert_eq!(s.get("big").await.unwrap().unwrap().len(), big.len());
}

pub async fn expiry(s: &impl Store) {
    s.set("short", b"x", Some(Duration::from_millis(150))).await.unwrap();
    s.set("long", b"y", Some(Duration::from_secs(3600))).await.unwrap();
    assert_eq!(s.get("short").await.unwrap().as_deref(), Some(&b"x"[..]));
    assert!(eventually_gone(s, "short").await, "an expired key is still visible");
    assert_eq!(s.exists_many(&["short".into()]).await.unwrap(), [false]);
    assert!(!s.delete("short").await.unwrap(), "an expired key does not count as deleted");
    assert_eq!(s.get("long").await.unwrap().as_deref(), Some(&b"y"[..]));
    s.set("short", b"again", None).await.unwrap();
    assert_eq!(s.get("short").await.unwrap().as_deref(), Some(&b"again"[..]));
}

pub async fn exists_many(s: &impl Store) {
    s.set("a", b"1", None).await.unwrap();
    s.set("c", b"3", None).await.unwrap();
    let keys: Vec<String> = ["a", "b", "c", "a"].map(String::from).to_vec();
    assert_eq!(s.exists_many(&keys).await.unwrap(), [true, false, true, true]);
    assert!(s.exists_many(&[]).await.unwrap().is_empty());
}

pub async fn get_many(s: &impl Store) {
    s.set("a", b"1", None).await.unwrap();
    s.set("c", b"", None).await.unwrap();
    s.set("gone", b"x", Some(Duration::from_millis(1))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let keys: Vec<String> = ["a", "b", "c", "gone", "a"].map(String::from).to_vec();
    let got = s.get_many(&keys).await.unwrap();
    assert_eq!(got, [Some(b"1".to_vec()), None, Some(Vec::new()), None, Some(b"1".to_vec())]);
    assert!(s.get_many(&[]).await.unwrap().is_empty());
}

pub async fn claims_are_exclusive_until_deleted_or_expired(s: &impl Store) {
    assert!(s.claim("once", None).await.unwrap(), "the first claim wins");
    assert!(!s.claim("once", None).await.unwrap(), "a second claim loses");
    assert!(s.delete("once").await.unwrap(), "a claim is a key that can be deleted");
    assert!(s.claim("once", None).await.unwrap(), "deleting frees the claim");
    s.set("taken", b"a value", None).await.unwrap();
    assert!(!s.claim("taken", None).await.unwrap(), "a key holding a value is taken");
    assert!(s.claim("brief", Some(Duration::from_millis(150))).await.unwrap());
    assert!(!s.claim("brief", Some(Duration::from_millis(150))).await.unwrap());
    assert!(eventually_gone(s, "brief").await, "the claim never expired");
    assert!(s.claim("brief", None).await.unwrap(), "an expired claim can be claimed again");
    // The edge claims by incrementing: a native claim must read as an increment already made.
    assert!(s.claim("shared", None).await.unwrap());
    assert_eq!(s.increment("shared", 1, None).await.unwrap(), 2, "a claim is a counter at 1");
}

pub async fn concurrent_claims_have_one_winner(s: &(impl Store + Clone)) {
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.claim("race", None).await.unwrap() })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1, "exactly one of 50 concurrent claims wins");
}

pub async fn counters(s: &impl Store) {
    assert_eq!(s.increment("n", 1, None).await.unwrap(), 1);
    assert_eq!(s.increment("n", 5, None).await.unwrap(), 6);
    assert_eq!(s.increment("n", -2, None).await.unwrap(), 4);
    assert_eq!(s.increment("other", 0, None).await.unwrap(), 0);
    assert_eq!(s.get("n").await.unwrap().as_deref(), Some(&b"4"[..]), "counters are decimal text");
    s.set("text-counter", b"41", None).await.unwrap();
    assert_eq!(s.increment("text-counter", 1, None).await.unwrap(), 42, "text written by others counts");
    // Several counters in one step (the audit log's numbers), in keys of different hash slots.
    let steps = [("n".to_owned(), 3), ("{a}:new".to_owned(), 2), ("{b}:new".to_owned(), -1)];
    assert_eq!(s.increment_many(&steps).await.unwrap(), [7, 2, -1]);
    assert_eq!(s.get("{a}:new").await.unwrap().as_deref(), Some(&b"2"[..]));
    assert_eq!(s.increment_many(&[]).await.unwrap(), Vec::<i64>::new());
    s.set("text", b"not a number", None).await.unwrap();
    assert!(
        matches!(s.increment_many(&[("text".to_owned(), 1)]).await, Err(StoreError::Failed(_))),
        "a step on a non-counter fails cleanly"
    );
    assert_eq!(s.get("text").await.unwrap().as_deref(), Some(&b"not a number"[..]), "value untouched");
}

pub async fn counters_with_expiry(s: &impl Store) {
    let window = Some(Duration::from_millis(200));
    assert_eq!(s.increment("rate", 1, window).await.unwrap(), 1);
    assert_eq!(s.increment("rate", 1, window).await.unwrap(), 2, "later calls keep the window");
    assert!(eventually_gone(s, "rate").await, "the window never closed");
    assert_eq!(s.increment("rate", 1, window).await.unwrap(), 1, "a new window starts from zero");
}

pub async fn counter_on_a_non_counter_fails_cleanly(s: &impl Store) {
    s.set("text", b"not a number", None).await.unwrap();
    match s.increment("text", 1, None).await {
        Err(StoreError::Failed(_)) => {}
        other => panic!("expected a Failed error, got {other:?}"),
    }
    assert_eq!(s.get("text").await.unwrap().as_deref(), Some(&b"not a number"[..]), "value untouched");
}

pub async fn scan_prefix_is_ordered_bounded_and_literal(s: &impl Store) {
    for k in ["bl:b", "bl:a", "bl:c", "blx", "bm:a", "x*y", "xzy"] {
        s.set(k, k.as_bytes(), None).await.unwrap();
    }
    s.set("bl:expired", b"", Some(Duration::from_millis(1))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let all = s.scan_prefix("bl:", 100).await.unwrap();
    let keys: Vec<_> = all.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["bl:a", "bl:b", "bl:c"]);
    assert_eq!(all[0].value, b"bl:a");
    assert_eq!(s.scan_prefix("bl:", 2).await.unwrap().len(), 2);
    let star: Vec<_> = s.scan_prefix("x*", 10).await.unwrap().into_iter().map(|e| e.key).collect();
    assert_eq!(star, ["x*y"], "prefixes are literal, not patterns");
    assert!(s.scan_prefix("none:", 10).await.unwrap().is_empty());
}

pub async fn scan_pages_are_bounded_and_together_see_every_live_key(s: &impl Store) {
    let live: Vec<String> = (0..2500).map(|i| format!("pg:{i:05}")).collect();
    let items: Vec<SetItem> =
        live.iter().map(|k| SetItem { key: k.clone(), value: k.as_bytes().to_vec(), ttl: None }).collect();
    s.set_many(&items).await.unwrap();
    for i in 0..300 {
        s.set(&format!("pg:gone:{i}"), b"", Some(Duration::from_millis(1))).await.unwrap();
        s.set(&format!("other:{i}"), b"", None).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(20)).await;

    let (mut seen, mut cursor, mut pages) = (std::collections::BTreeSet::new(), String::new(), 0);
    loop {
        let page = s.scan_page("pg:", &cursor, 100).await.unwrap();
        pages += 1;
        // Bounded: a page of about 100 keys looked at holds about that many at most.
        assert!(page.entries.len() <= 200, "a page of {} entries for a count of 100", page.entries.len());
        for e in &page.entries {
            assert_eq!(e.value, e.key.as_bytes(), "each entry carries its own value");
            seen.insert(e.key.clone());
        }
        match page.next {
            Some(next) => cursor = next,
            None => break,
        }
        assert!(pages < 10_000, "the scan never ends");
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), live, "every live key once, nothing else");
    assert!(pages >= 25, "2500 keys in pages of about 100 took only {pages} pages");
    let nothing = s.scan_page("none:", "", 100).await.unwrap();
    assert!(nothing.entries.is_empty());
}

pub async fn concurrent_increments_are_atomic(s: &(impl Store + Clone)) {
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.increment("hits", 1, None).await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort();
    assert_eq!(seen, (1..=50).collect::<Vec<_>>(), "every increment saw a distinct value");
}

pub async fn members_are_added_once_and_read_as_one_value(s: &impl Store) {
    let add = |key: &str, member: &[u8]| (key.to_owned(), member.to_vec());
    s.add_members(&[add("{x}:set", b"AAAAaaaa"), add("{y}:set", b"BBBBbbbb")]).await.unwrap();
    // Twice the same member, in one call and in the next: added once.
    s.add_members(&[add("{x}:set", b"CCCCcccc"), add("{x}:set", b"CCCCcccc")]).await.unwrap();
    s.add_members(&[add("{x}:set", b"AAAAaaaa")]).await.unwrap();
    assert_eq!(s.get("{x}:set").await.unwrap().as_deref(), Some(&b"AAAAaaaaCCCCcccc"[..]));
    assert_eq!(s.get("{y}:set").await.unwrap().as_deref(), Some(&b"BBBBbbbb"[..]));
    // Bytes that straddle two members are not that member.
    s.add_members(&[add("{x}:set", b"aaaaCCCC")]).await.unwrap();
    assert_eq!(s.get("{x}:set").await.unwrap().as_deref(), Some(&b"AAAAaaaaCCCCccccaaaaCCCC"[..]));
    // Binary members, concurrent adds to one value: none lost.
    let members: Vec<[u8; 8]> = (0u64..64).map(|n| (n * 0x0101_0101_0101_0101).to_be_bytes()).collect();
    let one_each: Vec<[(String, Vec<u8>); 1]> =
        members.iter().map(|m| [("{z}:set".to_owned(), m.to_vec())]).collect();
    for done in futures_util::future::join_all(one_each.iter().map(|add| s.add_members(add))).await {
        done.unwrap();
    }
    let stored = s.get("{z}:set").await.unwrap().unwrap();
    assert_eq!(stored.len(), 64 * 8);
    for m in &members {
        assert!(stored.chunks_exact(8).any(|c| c == m), "{m:?} missing");
    }
    s.add_members(&[]).await.unwrap();
}

pub async fn ping(s: &impl Store) {
    s.ping().await.unwrap();
}

pub async fn a_conditional_replace_changes_only_what_was_read_and_keeps_the_expiry(s: &impl Store) {
    s.set("{r}:kept", b"old", Some(Duration::from_secs(2))).await.unwrap();
    s.set("{r}:for-good", b"old", None).await.unwrap();
    assert!(!s.replace_if("{r}:kept", b"other", b"new").await.unwrap(), "not what was read");
    assert!(!s.replace_if("{r}:missing", b"old", b"new").await.unwrap(), "nothing there");
    assert_eq!(s.get("{r}:missing").await.unwrap(), None, "and nothing made");
    assert!(s.replace_if("{r}:kept", b"old", b"\0new\xff").await.unwrap());
    assert!(s.replace_if("{r}:for-good", b"old", b"new").await.unwrap());
    assert_eq!(s.get("{r}:kept").await.unwrap().as_deref(), Some(&b"\0new\xff"[..]));
    assert!(!s.replace_if("{r}:kept", b"old", b"newer").await.unwrap(), "replaced once");
    // The expiry stays: the replaced value is gone when the original would have been.
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    assert_eq!(s.get("{r}:kept").await.unwrap(), None, "its expiry was kept");
    assert_eq!(s.get("{r}:for-good").await.unwrap().as_deref(), Some(&b"new"[..]), "no expiry given to it");
}
