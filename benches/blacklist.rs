//! Blacklist benchmark: fills a store with N entries, then measures
//!
//! 1. the checkout decision alone (event lookup + entry lookup, as the layer does it), and
//! 2. whole requests through the Doorman layer around a trivial inner service, in-process:
//!    a non-checkout request, a checkout by someone not blacklisted, a blacklisted checkout —
//!    so "added latency" is the checkout's cost over a request the layer only passes on.
//!
//! ```sh
//! cargo bench --bench blacklist -- --entries 1000000 --store embedded
//! cargo bench --bench blacklist -- --entries 1000000 --store redis://127.0.0.1:6379/
//! ```
//! Prints one markdown table row per measurement, and the disk (embedded) or memory (Redis)
//! the entries take. The three request kinds are measured in `--rounds` rounds (5) of
//! `--samples` requests each (20000), taking turns: figures are medians over the rounds. `bench/blacklist.sh` runs the matrix and starts its own Redis.

#[path = "support/stats.rs"]
mod stats;

use stats::percentile_us;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use doorman::adapters::store::{AnyStore, EmbeddedStore, RedisStore};
use doorman::core::blacklist::entry::Entry;
use doorman::core::blacklist::{entry_key, event_key, Identity, Scope};
use doorman::core::email_hash::EmailHasher;
use doorman::core::policy::Policy;
use doorman::hosts::layer::DoormanLayer;
use doorman::hosts::metrics::Metrics;
use doorman::ports::store::{SetItem, Store};
use http::{Request, Response};
use http_body_util::Full;
use tower::{Layer, ServiceExt};

const POLICY: &str = r#"
[backend]
url = "http://127.0.0.1:9"
[blacklist]
hash = "sha256"
email_fields = ["email"]
[[blacklist.checkout]]
route = "POST /events/{event}/checkout"
redirect = "/events/{event}"
"#;

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.into())
}

fn address(i: u64) -> String {
    format!("customer{i}@example.com")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let export_from = arg("--export-loop", "");
    if !export_from.is_empty() {
        return export_loop(&export_from).await;
    }
    let entries: u64 = arg("--entries", "100000").parse().expect("--entries N");
    let store_arg = arg("--store", "embedded");
    let samples: usize = arg("--samples", "20000").parse().expect("--samples N");
    let rounds: usize = arg("--rounds", "5").parse::<usize>().expect("--rounds N").max(1);
    let dir = tempfile::tempdir().unwrap();
    let hasher = EmailHasher::PlainSha256;

    let store = if store_arg == "embedded" {
        AnyStore::Embedded(EmbeddedStore::open(&dir.path().join("doorman.redb"), "bench").unwrap())
    } else {
        AnyStore::Redis(RedisStore::connect(&store_arg, "bench").unwrap())
    };
    // As `doorman serve` does at the first start on a new store: marks the key layout, so
    // checkouts ask for current keys only.
    doorman::app::blacklist::layout::move_legacy_entries(&store, 0, |_| {}).await.unwrap();
    let redis_before = redis_used_memory(&store_arg).await;

    // Fill: half e-mail hashes, half account ids, platform-wide.
    let started = Instant::now();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..entries {
        let identity = if i % 2 == 0 {
            Identity::EmailHash(hasher.hash_hex(&address(i)))
        } else {
            Identity::Account(format!("acct-{i}"))
        };
        let entry = Entry {
            kind: identity.kind().into(),
            value: identity.value().into(),
            scope: "*".into(),
            reason: "bench".into(),
            added_by: "operator".into(),
            added_at: now,
            expires_at: None,
        };
        batch.push(SetItem {
            key: entry_key(&identity, &Scope::Platform),
            value: entry.to_stored(),
            ttl: None,
        });
        if batch.len() == 10_000 {
            store.set_many(&batch).await.unwrap();
            batch.clear();
        }
    }
    store.set_many(&batch).await.unwrap();
    let fill = started.elapsed();
    let footprint = if store_arg == "embedded" {
        let bytes = std::fs::metadata(dir.path().join("doorman.redb")).unwrap().len();
        format!("disk {:.0} MB per million entries", bytes as f64 / entries as f64 * 1e6 / 1e6)
    } else {
        let after = redis_used_memory(&store_arg).await;
        format!("Redis memory {:.0} MB per million entries", (after - redis_before) as f64 / entries as f64)
    };
    println!(
        "store {store_arg}: {entries} entries filled in {:.1} s ({:.0}/s); {footprint}",
        fill.as_secs_f64(),
        entries as f64 / fill.as_secs_f64()
    );

    // The layer around a trivial inner service.
    let policy = Policy::from_toml_str("bench", POLICY, std::iter::empty()).unwrap();
    let layer = DoormanLayer::blacklist(policy.blacklist.unwrap(), hasher.clone(), store.clone())
        .events(std::sync::Arc::new(Metrics::new()))
        .build();
    let inner = tower::service_fn(|_req: Request<Full<Bytes>>| async {
        Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
    });
    let service = layer.layer(inner);

    // The three kinds of request, measured in rounds taking turns, so a slow spell of this
    // shared machine hits every kind alike: each figure is the median over rounds, and a row's
    // added latency is the median of its round-by-round difference from the same round's
    // baseline (not a checkout).
    let kinds = [
        ("not a checkout (GET /events/e1)", 0u8),
        ("checkout, not blacklisted", 1),
        ("checkout, blacklisted (e-mail)", 2),
    ];
    // On Redis each round also times the peer: bare GETs in Redis's own protocol.
    let peer = store_arg.strip_prefix("redis://").map(|rest| rest.trim_end_matches('/').to_owned());
    let mut by_round: Vec<Vec<(f64, f64)>> = Vec::new();
    for _ in 0..rounds {
        let mut round = Vec::new();
        for (_, make) in kinds {
            let times = checkouts(&service, samples, entries, make).await;
            round.push((percentile_us(&times, 0.5), percentile_us(&times, 0.99)));
        }
        if let Some(addr) = &peer {
            let times = bare_gets(addr, samples);
            round.push((percentile_us(&times, 0.5), percentile_us(&times, 0.99)));
        }
        by_round.push(round);
    }
    let column =
        |f: fn(&[(f64, f64)], usize) -> f64, k: usize| median(by_round.iter().map(|r| f(r, k)).collect());
    let (base50, base99) = (column(|r, _| r[0].0, 0), column(|r, _| r[0].1, 0));
    let mut rows = Vec::new();
    for (k, (name, _)) in kinds.iter().enumerate() {
        rows.push(Row {
            name: name.to_string(),
            p50: column(|r, k| r[k].0, k),
            p99: column(|r, k| r[k].1, k),
            added50: column(|r, k| r[k].0 - r[0].0, k),
            added99: column(|r, k| r[k].1 - r[0].1, k),
        });
    }
    let per_round: Vec<String> = by_round.iter().map(|r| format!("{:+.1}", r[1].1 - r[0].1)).collect();
    println!("added p99 of a checkout (not blacklisted), round by round: {} µs", per_round.join(", "));
    if peer.is_some() {
        let p99s: Vec<String> = by_round.iter().map(|r| format!("{:.1}", r[3].1)).collect();
        let beyond: Vec<f64> = by_round.iter().map(|r| (r[1].1 - r[0].1) - r[3].1).collect();
        println!(
            "peer: a bare GET (Redis's own protocol, no client library), p99 round by round: {} µs; \
             a checkout's added p99 beyond the same round's bare GET p99: median {:+.1} µs (rounds: {})",
            p99s.join(", "),
            median(beyond.clone()),
            beyond.iter().map(|b| format!("{b:+.1}")).collect::<Vec<_>>().join(", ")
        );
        rows.push(Row {
            name: "the peer: a bare GET, one at a time (no Doorman, no client library)".into(),
            p50: column(|r, _| r[3].0, 3),
            p99: column(|r, _| r[3].1, 3),
            added50: f64::NAN,
            added99: f64::NAN,
        });
    }
    let single = |name: &str, times: &[Duration]| {
        let (p50, p99) = (percentile_us(times, 0.5), percentile_us(times, 0.99));
        Row { name: name.into(), p50, p99, added50: p50 - base50, added99: p99 - base99 }
    };
    // The store's share: the one round trip a checkout makes (the event's organizer, the account
    // the address is attached to, and the entry keys of one e-mail identity, as the lookup
    // asks), timed alone.
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples as u64 {
        let hash = hasher.hash_hex(&format!("free{i}@example.org"));
        let get = [event_key("e1"), doorman::core::blacklist::customer::attachment_key(&hash)];
        let identity = Identity::EmailHash(hash);
        let exists = [entry_key(&identity, &Scope::Platform)];
        let t = Instant::now();
        store.get_and_exists(&get, &exists).await.unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    rows.push(single("the store round trip alone (get_and_exists)", &times));
    // Admin reads beside checkouts (Redis, where one server serves both): an export of every
    // entry looping on its own thread and connection, as the admin listener's would.
    if store_arg != "embedded" {
        // Its own process on Redis's CPU (--export-cpu), at the lowest priority: this machine has
        // no third core, and in production the admin listener and Redis do not share one, so
        // what is measured is what the export's store commands cost checkouts, not two
        // processes taking turns on one CPU.
        let cpu = arg("--export-cpu", "0");
        let exe = std::env::current_exe().unwrap();
        let mut exporter = std::process::Command::new("nice")
            .args(["-n", "19", "taskset", "-c", &cpu])
            .arg(exe)
            .args(["--export-loop", &store_arg])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("taskset");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let times = checkouts(&service, samples, entries, 1).await;
        let _ = exporter.kill();
        let out = exporter.wait_with_output().unwrap();
        rows.push(single("checkout, not blacklisted, an export looping beside", &times));
        let idle99 = rows[1].p99;
        println!(
            "export beside: {} entries exported while the row was measured; checkout p99 {:.2}x the idle figure",
            String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or("0"),
            percentile_us(&times, 0.99) / idle99
        );
    }
    // The embedded store restarted, as a node is after a bulk load: the store compacts the file
    // at open when a quarter of it is free room (copies left by the load's commits), and its
    // cache starts cold.
    if store_arg == "embedded" {
        let file = dir.path().join("doorman.redb");
        drop((service, layer, store));
        let reopened = loop {
            match EmbeddedStore::open(&file, "bench") {
                Ok(s) => break AnyStore::Embedded(s),
                // The writer thread closes the file as it ends, a moment after the last handle.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        };
        let bytes = std::fs::metadata(&file).unwrap().len();
        println!(
            "after a restart: disk {:.0} MB per million entries",
            bytes as f64 / entries as f64 * 1e6 / 1e6
        );
        let policy = Policy::from_toml_str("bench", POLICY, std::iter::empty()).unwrap();
        let service = DoormanLayer::blacklist(policy.blacklist.unwrap(), hasher.clone(), reopened)
            .build()
            .layer(tower::service_fn(|_req: Request<Full<Bytes>>| async {
                Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
            }));
        let times = checkouts(&service, samples, entries, 1).await;
        rows.push(single("checkout, not blacklisted, after a restart (compacted, cache cold)", &times));
    }
    println!("\n| store | entries | request through the layer | p50 µs | p99 µs | added p50 | added p99 |");
    println!("|---|---:|---|---:|---:|---:|---:|");
    let added = |v: f64| if v.is_nan() { String::new() } else { format!("{v:+.1}") };
    for Row { name, p50, p99, added50, added99 } in &rows {
        println!(
            "| {} | {entries} | {name} | {p50:.1} | {p99:.1} | {} | {} |",
            if store_arg == "embedded" { "embedded" } else { "redis" },
            added(*added50),
            added(*added99),
        );
    }
}

/// Times `samples` bare `GET`s of a missing key, one at a time, in Redis's own protocol over a
/// plain socket to `addr`: what one round trip to this Redis costs right now, with no Doorman
/// and no client library in the way (the peer the checkout rows are read against). Sorted.
fn bare_gets(addr: &str, samples: usize) -> Vec<Duration> {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(addr).expect("the bench's Redis");
    socket.set_nodelay(true).unwrap();
    let mut reply = [0u8; 16];
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        socket.write_all(b"*2\r\n$3\r\nGET\r\n$12\r\nbench:absent\r\n").unwrap();
        let mut got = 0;
        while !reply[..got].ends_with(b"\r\n") {
            got += socket.read(&mut reply[got..]).unwrap();
        }
        times.push(t.elapsed());
        assert_eq!(&reply[..got], b"$-1\r\n", "a missing key");
    }
    times.sort();
    times
}

/// One row of the table: latencies in µs, and what they add to the baseline.
struct Row {
    name: String,
    p50: f64,
    p99: f64,
    added50: f64,
    added99: f64,
}

/// The median of `values`.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Times `samples` requests of one kind through `service` (0: not a checkout, 1: a checkout by
/// someone not blacklisted, 2: a blacklisted one), sorted.
async fn checkouts<S, B>(service: &S, samples: usize, entries: u64, make: u8) -> Vec<Duration>
where
    S: tower::Service<Request<Full<Bytes>>, Response = Response<B>> + Clone,
    S::Error: std::fmt::Debug,
{
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples as u64 {
        let req = match make {
            0 => Request::get("/events/e1").body(Full::new(Bytes::new())).unwrap(),
            _ => {
                // Blacklisted: an even index below `entries`; not: an address never added.
                let addr = if make == 2 {
                    address((i * 2) % entries.max(2))
                } else {
                    format!("free{i}@example.org")
                };
                let form = format!("email={}&quantity=1", addr.replace('@', "%40"));
                Request::post("/events/e1/checkout")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Full::new(Bytes::from(form)))
                    .unwrap()
            }
        };
        let t = Instant::now();
        let resp = service.clone().oneshot(req).await.unwrap();
        times.push(t.elapsed());
        let expected = if make == 2 { 303 } else { 200 };
        assert_eq!(resp.status().as_u16(), expected, "request kind {make}");
    }
    times.sort();
    times
}

/// `--export-loop URL`: exports every entry again and again, a page at a time as
/// `GET /v1/blacklist/export` does, printing the running count after each page, until killed.
async fn export_loop(url: &str) {
    use doorman::app::admin::transfer::Format;
    use doorman::app::admin::{Admin, Principal};
    let store = AnyStore::Redis(RedisStore::connect(url, "bench").unwrap());
    let ports = doorman::app::Ports::new(store, std::sync::Arc::new(doorman::hosts::layer::TokioTasks));
    let admin = std::sync::Arc::new(Admin::new(ports, None));
    let mut lines = 0;
    loop {
        let mut export = admin.export(&Principal::Operator, None, Format::Ndjson).unwrap();
        while let Some(chunk) = export.next_chunk().await {
            lines += chunk.unwrap().lines().count();
            println!("{lines}");
        }
    }
}

async fn redis_used_memory(url: &str) -> i64 {
    if !url.starts_with("redis://") {
        return 0;
    }
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let info: String = redis::cmd("INFO").arg("memory").query_async(&mut c).await.unwrap();
    info.lines().find_map(|l| l.strip_prefix("used_memory:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}
