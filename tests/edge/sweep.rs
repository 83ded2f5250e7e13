//! What the component writes with a lifetime goes away again: a flood of anonymous signup posts
//! at the edge leaves the shared Redis as it was once native Doorman's sweeper has passed their
//! moment (and its outbox sent their mails), and a confirmation whose instance died holding its
//! claim goes through once the claim's lease has passed.

use doorman::app::outbox::Sender;
use doorman::app::sweep::sweep_expired;
use doorman::core::expiry;
use doorman::testkit::TestMailer;

use crate::conformance::{bed, cases, policy_text, request, seed, Bed, DATA_KEY, LINK_KEY, NAMESPACE};
use crate::host::{compiled_policy, EdgeHost};
use crate::support::doorman::HASH_KEY;

fn now_ms() -> u64 {
    use doorman::app::Clock;
    doorman::app::SystemClock.unix_ms()
}

async fn keys(redis: &mut redis::aio::ConnectionManager) -> Vec<String> {
    redis::cmd("KEYS").arg("*").query_async(redis).await.unwrap()
}

async fn dbsize(redis: &mut redis::aio::ConnectionManager) -> u64 {
    redis::cmd("DBSIZE").query_async(redis).await.unwrap()
}

#[tokio::test]
async fn a_flood_of_posts_at_the_edge_is_swept_away_and_a_stale_claim_gives_way() {
    let Bed { redis_server, backend, mut raw, store, case } = bed("waitlist-per-client-limit").await;
    // The posts share the case's one browser session: its limit is lifted for the flood.
    let text = policy_text(&case, &backend.url(), &redis_server.url())
        .replace("[waitlist]\n", "[waitlist]\nposts_per_client_per_10_minutes = 100000\n");
    let policy = compiled_policy(&text);
    let variables =
        [("policy", policy.as_str()), ("hash_key", HASH_KEY), ("link_key", LINK_KEY), ("data_key", DATA_KEY)];
    seed(&case, &mut raw, &store).await;
    let mut host = EdgeHost::new(&redis_server.url(), &variables).await;
    let before: std::collections::BTreeSet<String> = keys(&mut raw).await.into_iter().collect();

    // Two thousand posts, each from its own address, for its own e-mail address.
    const POSTS: usize = 2000;
    let mut answered = std::collections::BTreeMap::new();
    for n in 0..POSTS {
        let ip = format!("10.{}.{}.{}:4000", n / 65_536, (n / 256) % 256, n % 256);
        host.client_addr = Some(ip.parse().unwrap());
        let status = host.handle(request(&case, n)).await.unwrap().status().as_u16();
        *answered.entry(status).or_insert(0) += 1;
    }
    assert_eq!(answered.get(&200), Some(&POSTS), "{answered:?}");
    let flooded = dbsize(&mut raw).await;
    assert!(flooded > (before.len() + 5 * POSTS) as u64, "{} keys before, {flooded} after", before.len());

    // Native Doorman sends the mails; nothing has passed its moment yet, so nothing is swept.
    let vault = doorman::app::secrets::data_keys(DATA_KEY.as_bytes()).unwrap();
    let ports =
        doorman::app::Ports::new(store.clone(), std::sync::Arc::new(doorman::hosts::layer::TokioTasks));
    let sender = Sender::new(&ports.with_vault(vault));
    let mailer = TestMailer::default();
    while sender.drain(&mailer).await.unwrap().sent > 0 {}
    assert_eq!(mailer.sent_ids().len(), POSTS);
    let now = sweep_expired(&store, now_ms()).await.unwrap();
    assert_eq!(now.expired, 0);
    assert!(now.pending >= POSTS as u64, "every pending signup has a companion: {now:?}");

    // A month on, the sweeper has deleted every key the flood wrote.
    let month = now_ms() + 31 * 86_400_000;
    let swept = sweep_expired(&store, month).await.unwrap();
    assert_eq!(swept.pending, 0);
    // Left: what was there before, and what native Doorman wrote with a Redis expiry (the sent
    // mails, kept a while against sending twice), which Redis deletes by itself.
    let mut lasting = Vec::new();
    for key in keys(&mut raw).await.into_iter().filter(|k| !before.contains(k)) {
        let ttl: i64 = redis::cmd("PTTL").arg(&key).query_async(&mut raw).await.unwrap();
        if ttl < 0 {
            lasting.push(key);
        }
    }
    lasting.sort();
    // The outbox's counters (the last number given, the first of the line not yet settled, and
    // the oldest slot of messages set aside not yet retired) come with its first mail ever and
    // stay, three keys however many mails follow; so does the event's message counter (its
    // history's records of these never-confirmed signups went with them).
    let cursor = format!("{NAMESPACE}:mail:later:from");
    let counters = [
        format!("{NAMESPACE}:mail:head"),
        format!("{NAMESPACE}:mail:seq"),
        format!("{NAMESPACE}:wl:{{gala}}:msgs"),
    ];
    lasting.retain(|key| *key != cursor);
    assert_eq!(lasting, counters, "keys the flood left for good");

    // A confirmation whose instance died holding its claim: refused while the lease holds,
    // through once the sweeper has passed it.
    let id = "conformance000000000";
    let (_, confirm) = cases().into_iter().find(|(name, _)| name == "waitlist-confirm").unwrap();
    seed(&confirm, &mut raw, &store).await;
    let claim = format!("{NAMESPACE}:{}", doorman::core::waitlist::keys::confirm_claim("gala", id));
    let _: i64 = redis::cmd("INCR").arg(&claim).query_async(&mut raw).await.unwrap();
    let lease_ends = now_ms() + 60_000;
    let companion = format!("{NAMESPACE}:{}", expiry::companion(&claim[NAMESPACE.len() + 1..]));
    let _: () = redis::cmd("SET")
        .arg(&companion)
        .arg(expiry::encode(lease_ends))
        .query_async(&mut raw)
        .await
        .unwrap();
    host.client_addr = Some("127.0.0.1:40000".parse().unwrap());
    let held = host.handle(request(&confirm, 0)).await.unwrap();
    assert_eq!(held.status(), 503, "the claim is held");
    sweep_expired(&store, lease_ends + 1).await.unwrap();
    let through = host.handle(request(&confirm, 0)).await.unwrap();
    assert_eq!(through.status(), 200);
    assert!(String::from_utf8_lossy(through.body()).contains("Your place in line: 1"));
}
