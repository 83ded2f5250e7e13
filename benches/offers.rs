//! Freed-seats benchmark: an event with `--signups` (100,000) confirmed signups of two tickets
//! each, then reports of freed seats through the waitlist's own use case, in-process, on the
//! embedded store or Redis, with the blacklist checking every customer offered:
//!
//! 1. a report of 1,000 seats: 500 offers chosen, stored and their mails queued (wall time);
//! 2. reports of 4 seats (two offers each), one after the other: p50 and p99;
//! 3. dry runs of the same (the warning before a booking is freed): p50 and p99;
//! 4. the peer: the store's own floor for one report, the same round trips issued directly
//!    (read the head, a page of the line and its signups, write two offers with their signups
//!    and mails, count them out of the line), in the same run: the ratio says what Doorman's
//!    deciding adds to the store's I/O;
//! 5. the worst case: `first_fit` with one seat, which nobody (all want two) can take, so the
//!    whole rest of the line is read.
//!
//! ```sh
//! cargo bench --bench offers -- --signups 100000 --store embedded
//! cargo bench --bench offers -- --signups 100000 --store redis://127.0.0.1:6379/
//! ```
//! `bench/offers.sh` runs both, with its own Redis, pinned apart from the benchmark.

#[path = "support/stats.rs"]
mod stats;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use doorman::adapters::store::{AnyStore, EmbeddedStore, RedisStore};
use doorman::app::{assemble, AppSpec, Lifecycle, Ports};
use doorman::core::email_hash::EmailHasher;
use doorman::core::policy::Policy;
use doorman::core::waitlist::{keys, line, Fit, Lang, Mode, Signup, Status, WaitlistSettings};
use doorman::hosts::layer::TokioTasks;
use doorman::ports::store::{SetItem, Store};
use stats::percentile_ms;

const POLICY: &str = r#"
[backend]
url = "http://127.0.0.1:9"
[blacklist]
hash = "sha256"
email_fields = ["email"]
[[blacklist.checkout]]
route = "POST /events/{event}/checkout"
redirect = "/events/{event}"
[waitlist]
public_url = "https://shop.example"
from = "Shop <waitlist@shop.example>"
"#;

const EVENT: &str = "gala";

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.into())
}

fn item(key: String, value: Vec<u8>) -> SetItem {
    SetItem { key, value, ttl: None }
}

async fn set_settings(store: &AnyStore, fit: Fit) {
    let settings = WaitlistSettings {
        sold_out: true,
        active: true,
        mode: Mode::Automatic,
        fit,
        offer_link: Some("/events/{event}/claim?offer={code}".into()),
        ..WaitlistSettings::new(EVENT)
    };
    store.set(&keys::settings(EVENT), &serde_json::to_vec(&settings).unwrap(), None).await.unwrap();
}

/// `n` confirmed signups of two tickets each, in line order.
async fn seed(store: &AnyStore, n: u64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let mut batch = Vec::with_capacity(2000);
    for seq in 1..=n {
        let id = format!("bench{seq:017}");
        let signup = Signup {
            id: id.clone(),
            event: EVENT.into(),
            email: format!("customer{seq}@example.com"),
            name: format!("Customer {seq}"),
            phone: None,
            tickets: 2,
            lang: Lang::En,
            account: None,
            status: Status::Confirmed,
            created: now,
            expires: now + 3600,
            confirmed: Some(now),
            cancelled: None,
            seq: Some(seq),
            box_office: false,
            box_office_address: false,
            note: None,
            offer: None,
            anonymised: None,
            informed: false,
        };
        batch.push(item(keys::signup(EVENT, &id), serde_json::to_vec(&signup).unwrap()));
        batch.push(item(keys::line_entry(EVENT, seq), id.into_bytes()));
        if batch.len() >= 2000 {
            store.set_many(&batch).await.unwrap();
            batch.clear();
        }
    }
    batch.push(item(keys::line_counter(EVENT), n.to_string().into_bytes()));
    batch.push(item(keys::signups_count(EVENT), n.to_string().into_bytes()));
    batch.push(item(keys::tickets_count(EVENT), (2 * n).to_string().into_bytes()));
    store.set_many(&batch).await.unwrap();
}

/// The store's floor for one report of two offers: the same round trips, issued directly.
async fn floor_once(store: &AnyStore, from: u64) {
    let got = store.get_many(&[keys::line_head(EVENT), keys::line_counter(EVENT)]).await.unwrap();
    assert!(got[1].is_some());
    let entries: Vec<String> = (from..from + 256).map(|n| keys::line_entry(EVENT, n)).collect();
    let ids = store.get_many(&entries).await.unwrap();
    let signups: Vec<String> =
        ids.iter().flatten().map(|id| keys::signup(EVENT, &String::from_utf8_lossy(id))).collect();
    let records = store.get_many(&signups).await.unwrap();
    let value = records.iter().flatten().next().cloned().unwrap_or_default();
    let mut items = vec![item("bench:floor:pool".into(), b"0".to_vec())];
    for i in 0..2 {
        items.push(item(format!("bench:floor:offer:{i}"), value.clone()));
        items.push(item(format!("bench:floor:signup:{i}"), value.clone()));
        items.push(item(format!("bench:floor:mail:{i}"), vec![b'm'; 2400]));
    }
    store.set_many(&items).await.unwrap();
    let mut steps: Vec<(String, i64)> = Vec::new();
    for seq in [from, from + 1] {
        steps.extend(line::nodes_to_bump(seq).into_iter().map(|n| (format!("bench:floor:left:{n}"), 1)));
    }
    store.increment_many(&steps).await.unwrap();
}

fn row(what: &str, samples: &mut [Duration]) -> String {
    samples.sort();
    format!(
        "| {what} | {} | {:.2} | {:.2} |",
        samples.len(),
        percentile_ms(samples, 0.5),
        percentile_ms(samples, 0.99)
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: u64 = arg("--signups", "100000").parse().expect("--signups N");
    let reports: usize = arg("--reports", "300").parse().expect("--reports N");
    let store_arg = arg("--store", "embedded");
    let dir = tempfile::tempdir().unwrap();
    let store = if store_arg == "embedded" {
        AnyStore::Embedded(EmbeddedStore::open(&dir.path().join("doorman.redb"), "bench").unwrap())
    } else {
        AnyStore::Redis(RedisStore::connect(&store_arg, "bench").unwrap())
    };
    doorman::app::blacklist::layout::move_legacy_entries(&store, 0, |_| {}).await.unwrap();
    let started = Instant::now();
    seed(&store, n).await;
    set_settings(&store, Fit::Strict).await;
    let seeded = started.elapsed();

    let policy = Policy::from_toml_str("bench", POLICY, std::iter::empty()).unwrap();
    let signer = doorman::app::secrets::link_signer(&[7u8; 32]).unwrap();
    let vault = doorman::app::secrets::data_keys(b"the-offers-bench-data-key-0123456789").unwrap();
    let spec = AppSpec::from_policy(&policy, Some(EmailHasher::PlainSha256), None, Some(signer), Some(vault))
        .unwrap();
    let app = assemble(&spec, Ports::new(store.clone(), Arc::new(TokioTasks)), Lifecycle::Resident);
    let waitlist = app.waitlist().unwrap();
    let blacklist = app.blacklist();

    println!("store {store_arg}: {n} confirmed signups seeded in {:.1} s\n", seeded.as_secs_f64());
    println!("| measurement | n | p50 ms | p99 ms |\n|---|---|---|---|");

    // 1. A large report: 1,000 seats, 500 offers with their mails.
    let mut large = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let r = waitlist.release(EVENT, 1000, false, blacklist).await.unwrap().unwrap();
        large.push(t.elapsed());
        assert_eq!(r.offers.len(), 500, "every offer of the report");
    }
    println!("{}", row("report of 1,000 seats: 500 offers chosen, stored, mails queued", &mut large));

    // 2. and 4. Small reports and the store's floor, taking turns so a slow spell hits both.
    let (mut small, mut floor, mut dry) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..reports {
        let t = Instant::now();
        let r = waitlist.release(EVENT, 4, false, blacklist).await.unwrap().unwrap();
        small.push(t.elapsed());
        assert_eq!(r.offers.len(), 2);
        let t = Instant::now();
        floor_once(&store, 1501 + 2 * i as u64).await;
        floor.push(t.elapsed());
        let t = Instant::now();
        let r = waitlist.release(EVENT, 4, true, blacklist).await.unwrap().unwrap();
        dry.push(t.elapsed());
        assert_eq!(r.offers.len(), 2);
    }
    let small_p99 = {
        small.sort();
        percentile_ms(&small, 0.99)
    };
    let floor_p99 = {
        floor.sort();
        percentile_ms(&floor, 0.99)
    };
    println!("{}", row("report of 4 seats: 2 offers (one after the other)", &mut small));
    println!("{}", row("dry run of 4 seats: who would get them", &mut dry));
    println!("{}", row("peer: the store's floor, the same round trips issued directly", &mut floor));

    // 5. The worst case: first fit, one seat, nobody can take it: the rest of the line is read.
    set_settings(&store, Fit::FirstFit).await;
    let t = Instant::now();
    let r = waitlist.release(EVENT, 1, false, blacklist).await.unwrap().unwrap();
    let mut whole = vec![t.elapsed()];
    assert_eq!((r.offers.len(), r.seats_returned), (0, 1));
    let left = n - 1500 - 2 * reports as u64;
    println!(
        "{}",
        row(&format!("first fit, 1 seat nobody takes: the rest of the line ({left}) read"), &mut whole)
    );
    let offers = 1500 + 2 * reports;
    println!(
        "\n{offers} offers made, each with its mail queued. Report p99 / floor p99: {:.2}.",
        small_p99 / floor_p99
    );
}
