//! `doorman hash-email` and `doorman blacklist …` as an organizer's script would use them.

use std::process::{Command, Output};

use crate::support::doorman::{binary, HASH_KEY, TOKEN};
use crate::{Shop, StoreKind};

fn doorman(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .env_remove("DOORMAN_ADMIN_TOKEN")
        .env_remove("DOORMAN_HASH_KEY")
        .env_remove("DOORMAN_POLICY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[tokio::test]
async fn add_list_remove_through_the_cli_changes_what_checkouts_meet() {
    let shop = Shop::start(StoreKind::Embedded, "");
    let url = shop.doorman.admin_url("");
    let env = [("DOORMAN_ADMIN_URL", url.as_str()), ("DOORMAN_ADMIN_TOKEN", TOKEN)];
    let form = "email=mallory%40example.com";

    let out =
        doorman(&["blacklist", "add", "--email", "Mallory@Example.com", "--reason", "chargebacks"], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(shop.checkout_form("e1", form).await.0.status(), 303);

    let out = doorman(&["blacklist", "list"], &env);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("email_hash") && listed.contains("chargebacks"), "{listed}");
    assert!(!listed.to_lowercase().contains("mallory"), "{listed}");

    let out = doorman(&["blacklist", "remove", "--email", "mallory@example.com"], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(shop.checkout_form("e1", form).await.0.status(), 200);

    let out = doorman(
        &["blacklist", "add", "--account", "eve", "--organizer", "harbour-hall", "--expires-in", "30d"],
        &env,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("organizer harbour-hall"));
    let warned = String::from_utf8_lossy(&out.stderr);
    assert!(warned.contains("warning: no event is mapped to organizer `harbour-hall`"), "{warned}");
    shop.admin("PUT", "/v1/events/e1", r#"{"organizer": "harbour-hall"}"#).await;
    let out = doorman(&["blacklist", "add", "--account", "eve", "--organizer", "harbour-hall"], &env);
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(shop.checkout_form("e1", "account=eve").await.0.status(), 303);
}

#[test]
fn the_hash_key_is_trimmed_wherever_it_comes_from() {
    let hash = |key: &str| {
        let out = doorman(&["hash-email", "ada@bücher.example"], &[("DOORMAN_HASH_KEY", key)]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let key = "0123456789abcdef0123456789abcdef";
    assert_eq!(hash(&format!("{key}\n")), hash(key), "a pasted newline changes nothing");
    assert_eq!(hash(&format!("  {key} ")), hash(key));
    let out = doorman(&["hash-email", "ada@xn--bcher-kva.example"], &[("DOORMAN_HASH_KEY", key)]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), hash(key), "one hash per IDNA domain spelling");
}

#[tokio::test]
async fn cli_errors_are_clear() {
    let shop = Shop::start(StoreKind::Embedded, "");
    let url = shop.doorman.admin_url("");
    let out = doorman(&["blacklist", "list"], &[("DOORMAN_ADMIN_URL", url.as_str())]);
    assert_eq!(out.status.code(), Some(2), "no token");
    assert!(String::from_utf8_lossy(&out.stderr).contains("DOORMAN_ADMIN_TOKEN"));

    let out = doorman(
        &["blacklist", "list"],
        &[("DOORMAN_ADMIN_URL", url.as_str()), ("DOORMAN_ADMIN_TOKEN", "wrong-token-wrong")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));

    let out = doorman(&["blacklist", "add", "--account", "a", "--email", "b@c.d"], &[]);
    assert_eq!(out.status.code(), Some(2), "two identities are a usage error");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let out = doorman(
        &["blacklist", "list"],
        &[("DOORMAN_ADMIN_URL", &format!("http://{closed}")), ("DOORMAN_ADMIN_TOKEN", TOKEN)],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));
}

#[tokio::test]
async fn hash_email_matches_what_the_admin_api_stores() {
    let shop = Shop::start(StoreKind::Embedded, "");
    let (_, api) = shop.admin("POST", "/v1/hash-email", r#"{"email": "ada@example.com"}"#).await;
    let out = doorman(&["hash-email", " ADA@example.com "], &[("DOORMAN_HASH_KEY", HASH_KEY)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), api["email_hash"].as_str().unwrap());

    let out = doorman(&["hash-email", "ada@example.com"], &[]);
    assert_eq!(out.status.code(), Some(2), "no key");
    let out = doorman(&["hash-email", "not an address"], &[("DOORMAN_HASH_KEY", HASH_KEY)]);
    assert_eq!(out.status.code(), Some(2));
    let out = doorman(&["hash-email", "a@b.c"], &[("DOORMAN_HASH_KEY", "short")]);
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn import_and_export_files_through_the_cli() {
    let shop = Shop::start(StoreKind::Embedded, "");
    let url = shop.doorman.admin_url("");
    let env = [("DOORMAN_ADMIN_URL", url.as_str()), ("DOORMAN_ADMIN_TOKEN", TOKEN)];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("entries.ndjson");
    std::fs::write(&file, "{\"account\": \"eve\"}\n{\"email\": \"bad\"}\n").unwrap();
    let out = doorman(&["blacklist", "import", file.to_str().unwrap()], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "added 1, rejected 1");
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2:"));
    assert_eq!(shop.checkout_form("e1", "account=eve").await.0.status(), 303);

    let out = doorman(&["blacklist", "export", "--format", "csv"], &env);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.lines().nth(1).unwrap().starts_with("account,eve,"), "{csv}");
    let out = doorman(&["blacklist", "import", "/nonexistent.csv"], &env);
    assert_eq!(out.status.code(), Some(2));
}
