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

    // The backend's customer screen asks whether an entry applies, for the event's organizer.
    let out = doorman(&["blacklist", "status", "--account", "eve", "--event", "e1"], &env);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.starts_with("account eve: blacklisted (organizer harbour-hall)"), "{said}");
    assert!(said.contains("organizer harbour-hall: since") && said.contains("until never"), "{said}");
    let out = doorman(&["blacklist", "status", "--account", "eve"], &env);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.starts_with("account eve: not blacklisted (platform-wide entries)"), "{said}");
    let out = doorman_with_input(&["blacklist", "status", "--email", "-"], &env, "mallory@example.com\n");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("not blacklisted") && !said.contains("mallory"), "removed above: {said}");
    // One customer, several addresses: the account's entry turns back an attached address.
    let out = doorman_with_input(
        &["blacklist", "attach", "--account", "eve", "--email", "-"],
        &env,
        "eve.work@example.com\n",
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("attached "),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(shop.checkout_form("e1", "email=eve.work%40example.com").await.0.status(), 303);
    let out = doorman(&["blacklist", "addresses", "--account", "eve"], &env);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    let out = doorman(&["blacklist", "attach", "--account", "bob", "--email", "eve.work@example.com"], &env);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("move"), "409 says how");
    let out = doorman(&["blacklist", "detach", "--account", "eve", "--email", "eve.work@example.com"], &env);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "detached");
    assert_eq!(shop.checkout_form("e1", "email=eve.work%40example.com").await.0.status(), 200);
    // Through the API, as the backend calls it: the address in the body, never in a URL.
    let (status, answer) = shop
        .admin("POST", "/v1/blacklist/status", r#"{"account": "eve", "organizer": "harbour-hall"}"#)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["blacklisted"].as_bool(), answer["entries"][0]["organizer"].as_str()),
        (Some(true), Some("harbour-hall"))
    );
    let (status, _) =
        shop.admin("POST", "/v1/blacklist/status", r#"{"account": "eve", "reason": "x"}"#).await;
    assert_eq!(status, 400);
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
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2:"));
    assert!(!stderr.contains("importing"), "no progress drawn into a pipe: {stderr}");
    assert_eq!(shop.checkout_form("e1", "account=eve").await.0.status(), 303);

    let out = doorman(&["blacklist", "export", "--format", "csv"], &env);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.lines().nth(1).unwrap().starts_with("account,eve,"), "{csv}");
    let out = doorman(&["blacklist", "import", "/nonexistent.csv"], &env);
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn serve_reads_a_hash_key_with_a_pasted_newline_as_the_trimmed_key() {
    // `export DOORMAN_HASH_KEY="$(cat key)"` drops the key file's newline; a key pasted from a
    // file viewer keeps it. `doorman serve` must hash with the key as written either way.
    use crate::support::client::{body, send};
    use crate::support::doorman::{policy, Doorman};
    let backend = crate::support::backend::Backend::start();
    let text = format!("{}{}", policy(&backend.url(), "", ""), crate::BLACKLIST);
    let data = tempfile::tempdir().unwrap();
    let pasted = format!("{HASH_KEY}\n");
    let mut pasted_key =
        Doorman::start_full(&text, &[("DOORMAN_HASH_KEY", pasted.as_str())], Some(data.path()));
    let trimmed = ::doorman::core::email_hash::EmailHasher::hmac(HASH_KEY.as_bytes()).unwrap();
    let offline = |email: &str| {
        let out = doorman(&["hash-email", email], &[("DOORMAN_HASH_KEY", HASH_KEY)]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    assert_eq!(offline("mallory@example.com"), trimmed.hash_hex("mallory@example.com"));

    let (status, api) =
        pasted_key.admin("POST", "/v1/hash-email", r#"{"email": "Mallory@Example.com"}"#).await;
    assert_eq!(status, 200);
    assert_eq!(api["email_hash"], offline("mallory@example.com"), "serve hashed with the newline in the key");
    let (status, entry) =
        pasted_key.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;
    assert_eq!(status, 201, "{entry}");
    // An organizer's list hashed offline with the key file's contents matches as well.
    let by_hash = format!(r#"{{"email_hash": "{}"}}"#, offline("peggy@example.com"));
    assert_eq!(pasted_key.admin("POST", "/v1/blacklist", &by_hash).await.0, 201);
    let checkout = |doorman: &Doorman, email: &str| {
        let req = http::Request::post(doorman.url("/echo/e1/checkout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body(format!("email={email}")))
            .unwrap();
        async move { send(req).await.0.status().as_u16() }
    };
    assert_eq!(checkout(&pasted_key, "mallory%40example.com").await, 303);
    assert_eq!(checkout(&pasted_key, "peggy%40example.com").await, 303, "the offline hash did not match");

    // The operator fixes the environment: same store, trimmed key; the entries still hold.
    pasted_key.terminate();
    assert!(pasted_key.wait_exit(std::time::Duration::from_secs(10)).success());
    let fixed = Doorman::start_full(&text, &[], Some(data.path()));
    assert_eq!(checkout(&fixed, "mallory%40example.com").await, 303, "the entry no longer matches");
    assert_eq!(checkout(&fixed, "ada%40example.com").await, 200);
}

/// The admin listener behind a TLS-terminating proxy (here a second Doorman with a certificate
/// from the test CA): the CLI speaks `https://`, verifies the proxy's certificate, and refuses
/// one it cannot verify, so the token never crosses the network in clear text.
#[tokio::test]
async fn the_cli_reaches_the_admin_api_over_verified_https() {
    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tls");
    let shop = Shop::start(StoreKind::Embedded, "");
    let admin = format!("http://{}", shop.doorman.admin);
    let proxy = crate::support::doorman::Doorman::start(&crate::support::doorman::policy(
        &admin,
        &format!("tls_cert_file = \"{DIR}/localhost.crt\"\ntls_key_file = \"{DIR}/localhost.key\""),
        "",
    ));
    let url = format!("https://localhost:{}", proxy.public.port());
    let ca = format!("{DIR}/ca.crt");
    let env = [
        ("DOORMAN_ADMIN_URL", url.as_str()),
        ("DOORMAN_ADMIN_TOKEN", TOKEN),
        ("DOORMAN_ADMIN_CA_FILE", ca.as_str()),
    ];
    let out = doorman(&["blacklist", "add", "--account", "eve-42", "--reason", "over https"], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = doorman(&["blacklist", "list"], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("over https"));
    assert_eq!(shop.checkout_form("e1", "account=eve-42").await.0.status(), 303, "the entry is real");

    // A certificate the system does not trust (the test CA is not in it): refused, not sent.
    let out = doorman(&["blacklist", "list"], &env[..2]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach") && err.contains("certificate"), "{err}");
    // What is no admin URL at all.
    for bad in ["ftp://localhost:1", "localhost:8081", "https://"] {
        let out = doorman(&["blacklist", "list"], &[("DOORMAN_ADMIN_URL", bad), env[1]]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out =
        doorman(&["blacklist", "list"], &[env[0], env[1], ("DOORMAN_ADMIN_CA_FILE", "/nonexistent.pem")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DOORMAN_ADMIN_CA_FILE"));
}

/// Runs the CLI with `input` on its standard input.
fn doorman_with_input(args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(binary());
    cmd.args(args).env_remove("DOORMAN_ADMIN_TOKEN").env_remove("DOORMAN_HASH_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn addresses_can_come_from_standard_input_and_imports_stream_from_the_file() {
    let shop = Shop::start(StoreKind::Embedded, "");
    let url = shop.doorman.admin_url("");
    let env = [("DOORMAN_ADMIN_URL", url.as_str()), ("DOORMAN_ADMIN_TOKEN", TOKEN)];
    let out = doorman_with_input(&["blacklist", "add", "--email", "-"], &env, " Mallory@Example.com\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(shop.checkout_form("e1", "email=mallory%40example.com").await.0.status(), 303);
    let hashed =
        doorman_with_input(&["hash-email", "-"], &[("DOORMAN_HASH_KEY", HASH_KEY)], "mallory@example.com\n");
    let direct = doorman(&["hash-email", "mallory@example.com"], &[("DOORMAN_HASH_KEY", HASH_KEY)]);
    assert_eq!(hashed.stdout, direct.stdout);
    let out = doorman_with_input(&["blacklist", "remove", "--email", "-"], &env, "mallory@example.com");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(shop.checkout_form("e1", "email=mallory%40example.com").await.0.status(), 200);
    let out = doorman_with_input(&["blacklist", "add", "--email", "-"], &env, "\n");
    assert_eq!(out.status.code(), Some(2), "nothing on standard input");

    // A file of 30,000 lines goes up as it is read.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accounts.csv");
    let mut text = String::from("account,reason\n");
    for i in 0..30_000 {
        text.push_str(&format!("acct-{i:05},bulk\n"));
    }
    std::fs::write(&path, text).unwrap();
    let out = doorman(&["blacklist", "import", path.to_str().unwrap()], &env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "added 30000, rejected 0");
    assert_eq!(shop.checkout_form("e1", "account=acct-29999").await.0.status(), 303);

    // On a terminal (a pseudo-terminal from `script`), imports and exports show their progress.
    let on_terminal = |command: String| {
        let out = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("DOORMAN_ADMIN_URL", url.as_str())
            .env("DOORMAN_ADMIN_TOKEN", TOKEN)
            .output()
            .expect("script (util-linux)");
        assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stdout));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let bin = binary();
    let shown = on_terminal(format!("{} blacklist import {}", bin.display(), path.display()));
    assert!(shown.contains("importing") && shown.contains("added 30000"), "{shown}");
    let shown = on_terminal(format!("{} blacklist export --format csv > /dev/null", bin.display()));
    assert!(shown.contains("entries exported"), "{shown}");
    let out = doorman(&["blacklist", "import", "/nonexistent.csv"], &env);
    assert_eq!(out.status.code(), Some(2));
}
