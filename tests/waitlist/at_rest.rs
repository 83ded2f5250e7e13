//! Personal data at rest: what a dump of the store shows of a signup (nothing readable of its
//! name, address, phone number or note, searched in the raw redb file and in Redis's own dump),
//! what a node started with the wrong data key does (refuses to start, writes nothing), and a
//! key rotation: the new key first, `doorman data reseal`, then the old key dropped.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::doorman::{binary, HASH_KEY, TOKEN};
use crate::{Jar, Shop, StoreKind, DATA_KEY, LINK_KEY};

/// What the customers and staff typed, none of which may be readable in the store.
const PERSONAL: &[&str] = &[
    "Grace Hopper",
    "Hopper",
    "grace.hopper",
    "+44 20 7946 0958",
    "2079460958",
    "Walk-in Wim",
    "+31 6 1234 5678",
    "31612345678",
    "pays cash at the door",
    "Ada Lovelace",
    "ada.lovelace",
];

/// A title in clear (settings hold no personal data): proves the dump is searchable at all.
const TITLE: &str = "Gala night of the harbour";

const NEW_KEY: &str = "a-new-data-key-for-the-rotation-0123456789";
const WRONG_KEY: &str = "somebody-elses-data-key-0123456789abcdefgh";

pub async fn a_store_dump_shows_no_name_address_phone_or_note_and_a_wrong_key_never_starts(store: StoreKind) {
    let data = tempfile::tempdir().unwrap();
    // The test keeps a Redis server of its own, so it outlives the first Doorman and can be dumped.
    let (redis, store) = match store {
        StoreKind::Redis(r) => {
            let url = r.url();
            (Some(r), StoreKind::Url(url))
        }
        other => (None, other),
    };
    let again = |s: &StoreKind| match s {
        StoreKind::Url(u) => StoreKind::Url(u.clone()),
        _ => StoreKind::Embedded,
    };
    let second = again(&store);
    let shop = Shop::start_with(store, "", &[], Some(data.path()));
    let (_, box_office) = crate::box_office::harbour(&shop).await;
    let title = format!(r#"{{"title": "{TITLE}"}}"#);
    assert_eq!(shop.admin("PATCH", "/v1/events/gala/waitlist", &title).await.0, 200);

    // A customer with a phone number, confirmed by mail; one only pending (name and address).
    let mut grace = Jar::default();
    let csrf = shop.get(&mut grace, "/waitlist/gala").await.csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("email", "Grace.Hopper@example.com"),
        ("name", "Grace Hopper"),
        ("phone", "+44 20 7946 0958"),
        ("tickets", "2"),
        ("lang", "en"),
    ];
    let page = shop.post(&mut grace, "/waitlist/gala", &fields).await;
    assert!(page.html.contains("Check your mail"), "{}", page.html);
    let mail = shop.wait_mails(1).await.remove(0);
    let done = shop.post(&mut grace, "/waitlist/confirm", &[("t", &mail.token("confirm"))]).await;
    assert!(done.html.contains("Your place in line: 1"), "{}", done.html);
    let page = shop.sign_up(&mut Jar::default(), "gala", "ada.lovelace@example.com", "1").await;
    assert!(page.html.contains("Check your mail"), "{}", page.html);
    // Box-office staff sign a walk-in up with a phone number and an internal note.
    let mut staff = Jar::default();
    assert_eq!(crate::box_office::sign_in(&shop, &mut staff, &box_office).await.status, 303);
    let page = crate::box_office::staff_post(
        &shop,
        &mut staff,
        &[
            ("box_office_address", "on"),
            ("name", "Walk-in Wim"),
            ("phone", "+31 6 1234 5678"),
            ("tickets", "1"),
            ("note", "pays cash at the door"),
        ],
    )
    .await;
    assert!(page.html.contains("Your place in line: 2"), "{}", page.html);
    shop.wait_mails(4).await; // Grace's two, Ada's link, the box office's "on the list"

    // Staff still read it all: the export opens what the store holds sealed.
    let (status, export) = shop.admin("GET", "/v1/events/gala/waitlist/signups", "").await;
    assert_eq!(status, 200, "{export}");
    let rows = export["signups"].as_array().unwrap();
    assert_eq!(
        rows.iter().map(|r| (r["name"].as_str(), r["phone"].as_str())).collect::<Vec<_>>(),
        [(Some("Grace Hopper"), Some("+44 20 7946 0958")), (Some("Walk-in Wim"), Some("+31 6 1234 5678"))]
    );
    assert_eq!(rows[1]["note"], "pays cash at the door");
    let (status, history) = shop.admin("GET", "/v1/events/gala/waitlist/messages", "").await;
    assert_eq!(status, 200, "{history}");
    assert!(
        history.to_string().contains("Grace.Hopper@example.com"),
        "the history names recipients: {history}"
    );

    // The raw store: the redb file as it is on disk, or Redis's own dump (uncompressed).
    let dump = match &redis {
        Some(r) => redis_dump(r, data.path()),
        None => std::fs::read(data.path().join("doorman.redb")).unwrap(),
    };
    let text = String::from_utf8_lossy(&dump).to_lowercase();
    assert!(text.contains(&TITLE.to_lowercase()), "the dump is searchable: the title in clear is found");
    for personal in PERSONAL {
        assert!(!text.contains(&personal.to_lowercase()), "{personal:?} is readable in the store");
    }

    // A node with the wrong key refuses to start, naming the key the store needs; nothing is
    // written (the registered keys stay as they were).
    let policy = data.path().join("policy.toml");
    std::fs::write(&policy, &shop.policy).unwrap();
    shop.stop();
    let refused = serve_until_exit(&policy, data.path(), Some(WRONG_KEY));
    assert!(!refused.success, "a wrong key started: {}", refused.output);
    assert!(
        refused.output.contains("sealed with data key") && refused.output.contains("Nothing was written"),
        "{}",
        refused.output
    );
    let missing = serve_until_exit(&policy, data.path(), None);
    assert!(!missing.success && missing.output.contains("DOORMAN_DATA_KEY"), "{}", missing.output);

    // Rotation: the new key first, the old one after it. Old records read; new ones are
    // sealed with the new key; the old key cannot be dropped while its records remain.
    let rotated = format!("{NEW_KEY}\n{DATA_KEY}");
    let (third, fourth) = (again(&second), again(&second));
    let shop = Shop::start_with(second, "", &[("DOORMAN_DATA_KEY", &rotated)], Some(data.path()));
    let (_, export) = shop.admin("GET", "/v1/events/gala/waitlist/signups", "").await;
    assert_eq!(export["signups"][0]["name"], "Grace Hopper", "records of the old key read: {export}");
    let page = shop.sign_up(&mut Jar::default(), "gala", "alan@example.com", "1").await;
    assert!(page.html.contains("Check your mail"), "{}", page.html);
    let (_, keys) = shop.admin("GET", "/v1/data/keys", "").await;
    let old_id = keys["keys"][1].as_str().unwrap().to_owned();
    assert_eq!(keys["registered"].as_array().unwrap().len(), 2, "both keys have sealed records: {keys}");
    shop.stop();
    let dropped = serve_until_exit(&policy, data.path(), Some(NEW_KEY));
    assert!(!dropped.success && dropped.output.contains(&old_id), "{}", dropped.output);

    // `doorman data reseal` seals everything with the new key; then the old one can go.
    let shop = Shop::start_with(third, "", &[("DOORMAN_DATA_KEY", &rotated)], Some(data.path()));
    let out = Command::new(binary())
        .args(["data", "reseal"])
        .env("DOORMAN_ADMIN_URL", shop.doorman.admin_url(""))
        .env("DOORMAN_ADMIN_TOKEN", TOKEN)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{printed}{}", String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains(&format!("retired {old_id}")), "{printed}");
    let (_, log) = shop.admin("GET", "/v1/audit", "").await;
    assert_eq!(log["records"][0]["action"], "reseal_data", "{log}");
    shop.stop();
    let shop = Shop::start_with(fourth, "", &[("DOORMAN_DATA_KEY", NEW_KEY)], Some(data.path()));
    let (_, export) = shop.admin("GET", "/v1/events/gala/waitlist/signups", "").await;
    assert_eq!(export["signups"][0]["name"], "Grace Hopper", "read with the new key alone: {export}");
    let (_, history) = shop.admin("GET", "/v1/events/gala/waitlist/messages", "").await;
    assert!(history.to_string().contains("alan@example.com"), "{history}");
    let dump = match &redis {
        Some(r) => redis_dump(r, data.path()),
        None => {
            shop.stop();
            std::fs::read(data.path().join("doorman.redb")).unwrap()
        }
    };
    let text = String::from_utf8_lossy(&dump).to_lowercase();
    for personal in PERSONAL.iter().chain(&["alan@example.com"]) {
        assert!(
            !text.contains(&personal.to_lowercase()),
            "{personal:?} is readable in the store after re-sealing"
        );
    }
    drop(redis);
}

/// Redis's own dump of everything it holds (`redis-cli --rdb`), strings uncompressed.
fn redis_dump(redis: &crate::support::redis::RedisServer, dir: &Path) -> Vec<u8> {
    redis.cli(&["CONFIG", "SET", "rdbcompression", "no"]);
    let file = dir.join("dump.rdb");
    let port = redis.url().rsplit(':').next().unwrap().trim_end_matches('/').to_owned();
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port, "--rdb"])
        .arg(&file)
        .output()
        .expect("redis-cli");
    assert!(out.status.success(), "redis-cli --rdb: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(&file).unwrap()
}

/// What a `doorman serve` that is expected to stop came to.
struct Exit {
    success: bool,
    output: String,
}

/// Runs `doorman serve` with `data_key` (none: unset) until it exits (at most 20 s; one that
/// keeps running is stopped and counts as started).
fn serve_until_exit(policy: &Path, data: &Path, data_key: Option<&str>) -> Exit {
    let mut cmd = Command::new(binary());
    cmd.args(["serve", "--policy"])
        .arg(policy)
        .arg("--data-dir")
        .arg(data)
        .env("DOORMAN_ADMIN_TOKEN", TOKEN)
        .env("DOORMAN_HASH_KEY", HASH_KEY)
        .env("DOORMAN_LINK_KEY", LINK_KEY)
        .env_remove("DOORMAN_DATA_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(key) = data_key {
        cmd.env("DOORMAN_DATA_KEY", key);
    }
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let output =
                format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            return Exit { success: status.success(), output };
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            return Exit { success: true, output: String::from_utf8_lossy(&out.stdout).into_owned() };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
