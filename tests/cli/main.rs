//! The `doorman` command line as an operator meets it: exit codes, messages, the demo.

#[path = "../support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::doorman::binary;

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(binary());
    cmd.args(args).env_remove("DOORMAN_ADMIN_TOKEN").env("DOORMAN_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn write_policy(dir: &std::path::Path, text: &str) -> String {
    let path = dir.join("policy.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const GOOD: &str = "[backend]\nurl = \"http://127.0.0.1:9\"\n";

#[test]
fn check_policy_accepts_the_shipped_policies() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/policies")).unwrap() {
        let path = entry.unwrap().path();
        let out = run(&["check-policy", path.to_str().unwrap()], &[]);
        assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains(": ok"));
    }
}

#[test]
fn compile_policy_prints_the_file_as_written_on_one_line_for_the_edge() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/policies")).unwrap() {
        let path = entry.unwrap().path();
        // The operator's own environment is not baked in: the edge applies its own variables.
        let out =
            run(&["compile-policy", path.to_str().unwrap()], &[("DOORMAN_BACKEND_URL", "http://10.9.9.9:1")]);
        assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(stdout.lines().count(), 1, "one line, for a variable: {stdout}");
        let compiled: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let file: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        assert_eq!(
            compiled["backend"]["url"].as_str(),
            file["backend"]["url"].as_str(),
            "{}",
            path.display()
        );
        assert_eq!(compiled, serde_json::to_value(&file).unwrap(), "the file as written: {}", path.display());
    }
    let out = run(&["compile-policy", "/nonexistent/policy.toml"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing a shell would put into a variable");
}

#[test]
fn invalid_policies_exit_2_naming_file_field_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[backend]\nurl = \"http://127.0.0.1:9\"\ncolour = \"red\"\n", "backend.colour", "unknown field"),
        ("[backend]\nurl = \"ftp://x\"\n", "backend.url", "http://"),
        (
            "[server]\nlisten = \"not-an-address\"\n[backend]\nurl = \"http://x:1\"\n",
            "server.listen",
            "address",
        ),
        ("[backend\n", "", "not valid TOML"),
        ("", "backend", "missing"),
    ];
    for (text, field, words) in cases {
        let path = write_policy(dir.path(), text);
        let commands = [
            &["check-policy", path.as_str()][..],
            &["compile-policy", path.as_str()],
            &["serve", "--policy", path.as_str()],
        ];
        for cmd in commands {
            let out = run(cmd, &[]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cmd:?} {text:?}: {err}");
            assert!(err.contains(&path), "the message names the file: {err}");
            assert!(
                err.contains(&format!("`{field}`")) || field.is_empty(),
                "the message names {field}: {err}"
            );
            assert!(err.contains(words), "the message says what is wrong ({words}): {err}");
        }
    }
}

#[test]
fn unreadable_policy_and_bad_overrides_exit_2() {
    let out = run(&["check-policy", "/nonexistent/policy.toml"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/policy.toml"));

    let dir = tempfile::tempdir().unwrap();
    let path = write_policy(dir.path(), GOOD);
    let out = run(&["check-policy", &path], &[("DOORMAN_SERVER_WORKERS", "lots")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DOORMAN_SERVER_WORKERS"));
    let out = run(&["check-policy", &path], &[("DOORMAN_NOPE_X", "1")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("DOORMAN_NOPE_X"),
        "the misspelt variable is named"
    );
    let out = run(&["check-policy", &path], &[("DOORMAN_BACKEND_URL", "http://10.0.0.1:8000")]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("10.0.0.1:8000"), "the override is applied");
}

#[test]
fn kubernetes_service_links_named_doorman_do_not_stop_doorman() {
    // A Kubernetes Service called `doorman` puts these into every pod of its namespace.
    let links = [
        ("DOORMAN_SERVICE_HOST", "10.96.0.12"),
        ("DOORMAN_SERVICE_PORT", "8080"),
        ("DOORMAN_PORT", "tcp://10.96.0.12:8080"),
        ("DOORMAN_PORT_8080_TCP_ADDR", "10.96.0.12"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = write_policy(dir.path(), GOOD);
    let out = run(&["check-policy", &path], &links);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ignored DOORMAN_SERVICE_HOST"), "{stdout}");
    assert!(stdout.contains("ignored DOORMAN_PORT_8080_TCP_ADDR"), "{stdout}");
    assert!(!stdout.contains("10.96.0.12"), "values are never printed: {stdout}");
}

#[test]
fn unusable_admin_secrets_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let policy = format!("{GOOD}[server]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n[admin]\ntoken_file = \"token.txt\"\n");
    let path = write_policy(dir.path(), &policy);
    let out = run(&["serve", "--policy", &path], &[]);
    assert_eq!(out.status.code(), Some(2), "missing token file");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("admin.token_file") && err.contains("token.txt"), "{err}");

    std::fs::write(dir.path().join("token.txt"), "short\n").unwrap();
    let out = run(&["serve", "--policy", &path], &[]);
    assert_eq!(out.status.code(), Some(2), "weak token");
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 16"));

    let out = run(&["serve", "--policy", &path], &[("DOORMAN_ADMIN_TOKEN", "tiny")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DOORMAN_ADMIN_TOKEN"));
}

#[test]
fn a_port_in_use_exits_1_with_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let policy = format!("[server]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"{addr}\"\n{GOOD}");
    let path = write_policy(dir.path(), &policy);
    let data = dir.path().join("data");
    let out = run(&["serve", "--policy", &path, "--data-dir", data.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&addr.to_string()));
}

/// Reads the demo's banner until the line naming `label`, and answers its URL.
fn banner_url(lines: &mut impl Iterator<Item = String>, label: &str) -> String {
    for line in lines.by_ref() {
        if let Some(rest) = line.trim().strip_prefix(label) {
            return rest.trim().to_owned();
        }
    }
    panic!("the demo never printed {label}");
}

#[tokio::test]
async fn the_demo_serves_the_shop_through_doorman_and_stops_on_sigterm() {
    let mut demo = Demo::start();
    let (base, admin, token) = (demo.shop.clone(), demo.admin.clone(), demo.token.clone());
    let shop = format!("{base}/events");

    let (resp, body) = support::client::get(&shop).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-request-id"), "answered through Doorman");
    let page = String::from_utf8_lossy(&body);
    assert!(page.contains("spring-concert") && page.contains("summer-gala"), "{page}");

    let (resp, body) = support::client::get(&format!("{base}/events/summer-gala")).await;
    assert_eq!(resp.status(), 200);
    assert!(String::from_utf8_lossy(&body).to_lowercase().contains("sold out"));

    let req = http::Request::post(format!("{base}/events/spring-concert/checkout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(support::client::body("email=ada%40example.com&quantity=2"))
        .unwrap();
    let (resp, body) = support::client::send(req).await;
    assert_eq!(resp.status(), 200);
    assert!(String::from_utf8_lossy(&body).contains("DM-"), "an order confirmation");

    let req = http::Request::get(format!("{admin}/metrics"))
        .header("authorization", format!("Bearer {token}"))
        .body(support::client::body(""))
        .unwrap();
    assert_eq!(support::client::send(req).await.0.status(), 200, "the printed token works");

    // The blacklist, as the banner tells: add through the CLI, the checkout lands back on the
    // event page; remove, and the order goes through.
    let cli = |args: &[&str]| demo.cli(args);
    let checkout = |form: &'static str| {
        let req = http::Request::post(format!("{base}/events/spring-concert/checkout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(support::client::body(form))
            .unwrap();
        support::client::send(req)
    };
    cli(&["blacklist", "add", "--email", "ada@example.com", "--reason", "chargebacks"]);
    let (resp, _) = checkout("email=ada%40example.com&quantity=2").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/events/spring-concert");
    cli(&["blacklist", "remove", "--email", "ada@example.com"]);
    assert_eq!(checkout("email=ada%40example.com&quantity=2").await.0.status(), 200);

    // A signed-in customer is known by the shop's own signed session cookie, and the demo's
    // events are mapped to their organizers, so an organizer's own entry applies.
    let login = http::Request::post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(support::client::body("account=alice"))
        .unwrap();
    let (resp, _) = support::client::send(login).await;
    assert_eq!(resp.status(), 303);
    let session = resp.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert!(session.starts_with("shop_session=ey"), "a signed session: {session}");
    let checkout_as = |cookie: String| {
        let req = http::Request::post(format!("{base}/events/spring-concert/checkout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", cookie)
            .body(support::client::body("email=alice%40example.com&quantity=1"))
            .unwrap();
        support::client::send(req)
    };
    let out = demo.cli_output(&["blacklist", "add", "--account", "alice", "--organizer", "harbour-hall"]);
    assert!(!out.contains("warning"), "the demo maps its events: {out}");
    let (resp, _) = checkout_as(session.clone()).await;
    assert_eq!(resp.status(), 303, "a blacklisted demo account, by the organizer of the event");
    let (resp, body) = checkout_as("shop_session=alice".into()).await;
    assert_eq!(resp.status(), 200, "an unsigned cookie is no session: a guest order");
    assert!(!String::from_utf8_lossy(&body).contains("Account: alice"));
    cli(&["blacklist", "remove", "--account", "alice", "--organizer", "harbour-hall"]);
    assert_eq!(checkout_as(session).await.0.status(), 200);

    Command::new("kill").arg("-TERM").arg(demo.child.id().to_string()).status().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = demo.child.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "demo did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}

#[test]
fn unusable_tls_files_exit_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("garbage.pem"), "not pem at all").unwrap();
    let cert = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tls/localhost.crt");
    let cases = [
        ("missing.pem", "missing.key", "server.tls_cert_file"),
        ("garbage.pem", "garbage.pem", "server.tls_cert_file"),
        (cert, "garbage.pem", "server.tls_key_file"),
    ];
    for (c, k, field) in cases {
        let policy = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\ntls_cert_file = \"{c}\"\ntls_key_file = \"{k}\"\n{GOOD}"
        );
        let path = write_policy(dir.path(), &policy);
        let data = dir.path().join("data");
        let out = run(&["serve", "--policy", &path, "--data-dir", data.to_str().unwrap()], &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{c} {k}: {err}");
        assert!(err.contains(field), "{c} {k}: {err}");
        let out = run(&["check-policy", &path], &[]);
        assert_eq!(out.status.code(), Some(2), "check-policy reads the files too: {c} {k}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(field));
    }
    // An https:// backend's CA bundle, likewise.
    for (ca, needle) in [("missing-ca.pem", "No such file"), ("garbage.pem", "holds no usable certificate")] {
        let policy = format!("[backend]\nurl = \"https://localhost:9\"\ntls_ca_file = \"{ca}\"\n");
        let path = write_policy(dir.path(), &policy);
        let out = run(&["check-policy", &path], &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{ca}: {err}");
        assert!(err.contains("backend.tls_ca_file") && err.contains(needle), "{ca}: {err}");
    }
}

#[test]
fn missing_blacklist_secrets_exit_2_and_say_where_to_put_them() {
    let dir = tempfile::tempdir().unwrap();
    let checkout =
        "[[blacklist.checkout]]\nroute = \"POST /e/{event}/checkout\"\nredirect = \"/e/{event}\"\n";
    let base = format!("[server]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n{GOOD}");
    let cases = [
        (format!("{base}[blacklist]\n{checkout}"), vec![], "DOORMAN_HASH_KEY"),
        (format!("{base}[blacklist]\n{checkout}"), vec![("DOORMAN_HASH_KEY", "too-short")], "at least 32"),
        (
            format!("{base}[blacklist]\nhash = \"sha256\"\nsession_cookie = \"s\"\nsession_algorithm = \"HS256\"\n{checkout}"),
            vec![],
            "DOORMAN_SESSION_KEY",
        ),
        (
            format!("{base}[blacklist]\nhash = \"sha256\"\nsession_cookie = \"s\"\nsession_algorithm = \"ES256\"\nsession_key_file = \"nope.pem\"\n{checkout}"),
            vec![],
            "session_key_file",
        ),
    ];
    for (policy, env, words) in cases {
        let path = write_policy(dir.path(), &policy);
        let data = dir.path().join("data");
        let out = run(&["serve", "--policy", &path, "--data-dir", data.to_str().unwrap()], &env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{words}: {err}");
        assert!(err.contains(words), "{words}: {err}");
    }
}

/// A running `doorman demo` and what its banner says.
struct Demo {
    child: std::process::Child,
    shop: String,
    admin: String,
    token: String,
    data: std::path::PathBuf,
    /// summer-gala's organizer's box-office token.
    box_office: String,
}

impl Demo {
    fn start() -> Self {
        let mut child = Command::new(binary())
            .args(["demo", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .env("DOORMAN_LOG", "warn")
            .env_remove("DOORMAN_ADMIN_TOKEN")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines().map(Result::unwrap);
        let shop =
            banner_url(&mut lines, "Ticket shop (through Doorman):").trim_end_matches("/events").to_owned();
        let admin = banner_url(&mut lines, "Admin and operations:");
        let token = banner_url(&mut lines, "Admin token:");
        let data = banner_url(&mut lines, "Data folder:").into();
        let box_office = banner_url(&mut lines, "Box-office token:");
        // Keep reading, so the demo never writes into a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, shop, admin, token, data, box_office }
    }

    fn cli(&self, args: &[&str]) {
        self.cli_output(args);
    }

    /// Runs the CLI against the demo; answers stdout and stderr.
    fn cli_output(&self, args: &[&str]) -> String {
        self.cli_as(&self.token, args)
    }

    /// Runs the CLI against the demo with `token`; answers stdout and stderr.
    fn cli_as(&self, token: &str, args: &[&str]) -> String {
        let out = Command::new(binary())
            .args(args)
            .env("DOORMAN_ADMIN_URL", &self.admin)
            .env("DOORMAN_ADMIN_TOKEN", token)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn in_a_real_browser_a_blacklisted_buyer_lands_back_on_the_event_page_without_a_word() {
    let demo = Demo::start();
    let browser = support::browser::Browser::start().await;
    let event = format!("{}/events/spring-concert", demo.shop);

    // An ordinary customer buys tickets.
    browser.goto(&event).await;
    browser.fill("input[name=email]", "ada@example.com").await;
    browser.fill("input[name=quantity]", "2").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("the order confirmation", |t| t.contains("DM-")).await;

    // A blacklisted one does the same and is back on the event page, as if nothing happened.
    demo.cli(&["blacklist", "add", "--email", "mallory@example.com", "--reason", "chargebacks"]);
    browser.goto(&event).await;
    let before = browser.page_text().await;
    browser.fill("input[name=email]", "Mallory@Example.com").await;
    browser.mark_page().await;
    browser.click("button[type=submit]").await;
    // The answer is held back as long as a real order took (timing cover); then the browser
    // follows the redirect to a freshly loaded event page.
    browser.wait_for_new_page().await;
    let after = browser.page_text().await;
    assert_eq!(browser.current_url().await, event, "the browser followed the quiet redirect");
    assert!(!after.contains("DM-"), "an order went through: {after}");
    for word in ["error", "blocked", "blacklist", "denied", "sorry"] {
        assert!(!after.to_lowercase().contains(word), "the page hints at the block ({word}): {after}");
    }
    let strip_seats =
        |t: &str| t.lines().filter(|l| !l.contains("seats left")).collect::<Vec<_>>().join("\n");
    assert_eq!(strip_seats(&after), strip_seats(&before), "the page looks like the event page did before");

    // Removed from the blacklist, the same customer can buy again.
    demo.cli(&["blacklist", "remove", "--email", "mallory@example.com"]);
    browser.goto(&event).await;
    browser.fill("input[name=email]", "mallory@example.com").await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("the order confirmation", |t| t.contains("DM-")).await;
    browser.quit().await;
}

/// The mails in the demo's outbox, quoted-printable decoded, oldest first.
fn demo_mails(demo: &Demo) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(demo.data.join("outbox")) else { return Vec::new() };
    let mut files: Vec<_> =
        dir.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect();
    files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    files
        .iter()
        .map(|p| {
            let raw = std::fs::read(p).unwrap();
            String::from_utf8(quoted_printable::decode(&raw, quoted_printable::ParseMode::Robust).unwrap())
                .unwrap()
        })
        .collect()
}

/// Waits for the `n`-th mail of the outbox and answers the first link in it to `what`.
async fn demo_link(demo: &Demo, n: usize, what: &str) -> String {
    demo_mail_link(demo, n, &format!("/waitlist/{what}?t=")).await
}

#[tokio::test]
async fn in_a_real_browser_a_customer_joins_the_summer_gala_waitlist_confirms_sees_it_and_cancels() {
    let demo = Demo::start();
    let browser = support::browser::Browser::start().await;
    // Signed in to the shop with its own session cookie.
    browser.goto(&format!("{}/login", demo.shop)).await;
    browser.fill("input[name=account]", "ada").await;
    browser.mark_page().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_new_page().await;

    // The sold-out event page carries the button Doorman put in; it leads to the form.
    browser.goto(&format!("{}/events/summer-gala", demo.shop)).await;
    let page = browser.wait_for_text("the event page", |t| t.contains("Join the waitlist")).await;
    assert!(page.contains("Sold out."), "{page}");
    browser.mark_page().await;
    browser.click("a.doorman-waitlist-button").await;
    browser.wait_for_new_page().await;
    browser.wait_for_text("the form", |t| t.contains("Number of tickets")).await;
    browser.fill("input[name=email]", "ada@example.com").await;
    browser.fill("input[name=name]", "Ada Lovelace").await;
    browser.fill("input[name=tickets]", "2").await;
    browser.mark_page().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_new_page().await;
    browser.wait_for_text("the answer", |t| t.contains("Check your mail")).await;

    // The link in the mail, then the button on its page.
    let link = demo_link(&demo, 1, "confirm").await;
    browser.goto(&link).await;
    browser.wait_for_text("the confirmation page", |t| t.contains("2 tickets for Ada Lovelace")).await;
    browser.mark_page().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_new_page().await;
    browser.wait_for_text("the place", |t| t.contains("Your place in line: 1")).await;

    // My signups, then cancel.
    browser.goto(&format!("{}/waitlist/mine", demo.shop)).await;
    let mine = browser.wait_for_text("my signups", |t| t.contains("Summer Gala Night")).await;
    assert!(mine.contains("Confirmed"), "{mine}");
    browser.mark_page().await;
    browser.click("form[action='/waitlist/mine/cancel'] button").await;
    browser.wait_for_new_page().await;
    browser.wait_for_text("the cancellation", |t| t.contains("Your signup is cancelled")).await;
    browser.goto(&format!("{}/waitlist/mine", demo.shop)).await;
    let mine = browser.wait_for_text("my signups", |t| t.contains("Summer Gala Night")).await;
    assert!(mine.contains("Cancelled") && !mine.contains("Cancel the signup"), "{mine}");
    browser.quit().await;
}

#[tokio::test]
async fn previews_and_test_sends_through_the_cli_show_what_customers_get_and_land_in_the_history() {
    let demo = Demo::start();
    let preview =
        demo.cli_output(&["waitlist", "preview", "summer-gala", "--template", "offer", "--lang", "de"]);
    assert!(preview.starts_with("Subject: ") && preview.contains("Summer Gala Night"), "{preview}");
    assert!(
        preview.contains("Alex Sample") && preview.contains("2 Karten"),
        "a sample signup, in German: {preview}"
    );
    let html = demo.cli_output(&["waitlist", "preview", "summer-gala", "--template", "confirm", "--html"]);
    assert!(html.contains("<html") && html.contains("Alex Sample"), "{html}");
    // Bad input is named and nothing is sent.
    for (args, says) in [
        (vec!["--template", "nonsense"], "template"),
        (vec!["--template", "confirm", "--lang", "xx"], "lang"),
        (vec!["--template", "confirm", "--signup", "nobody"], "no signup"),
    ] {
        let mut all = vec!["waitlist", "preview", "summer-gala"];
        all.extend(args);
        let out = Command::new(binary())
            .args(&all)
            .env("DOORMAN_ADMIN_URL", &demo.admin)
            .env("DOORMAN_ADMIN_TOKEN", &demo.token)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{all:?}: {err}");
    }
    let to = "staff@city-arts-society.example";
    let sent =
        demo.cli_output(&["waitlist", "test-send", "summer-gala", "--template", "confirmed", "--to", to]);
    assert!(sent.contains("queued as message 1"), "{sent}");
    let mail = demo_mail(&demo, 1).await;
    assert!(mail.contains(&format!("<{to}>")) && mail.contains("Hello Alex Sample"), "{mail}");
    let history = demo.cli_output(&["waitlist", "history", "summer-gala"]);
    assert!(history.contains("test:confirmed") && history.contains(to), "{history}");
    let bad = Command::new(binary())
        .args([
            "waitlist",
            "test-send",
            "summer-gala",
            "--template",
            "confirm",
            "--to",
            "x@y.z\r\nBcc: a@b.c",
        ])
        .env("DOORMAN_ADMIN_URL", &demo.admin)
        .env("DOORMAN_ADMIN_TOKEN", &demo.token)
        .output()
        .unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("to:"), "{bad:?}");
}

#[tokio::test]
async fn in_a_real_browser_a_guest_downloads_and_erases_their_data_through_the_manage_link() {
    let demo = Demo::start();
    let browser = support::browser::Browser::start().await;
    // A guest (not signed in) joins, confirms, and opens the manage link of the second mail.
    browser.goto(&format!("{}/waitlist/summer-gala", demo.shop)).await;
    browser.wait_for_text("the form", |t| t.contains("Number of tickets")).await;
    browser.fill("input[name=email]", "grace@example.com").await;
    browser.fill("input[name=name]", "Grace Hopper").await;
    browser.fill("input[name=tickets]", "2").await;
    browser.mark_page().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_new_page().await;
    browser.wait_for_text("the answer", |t| t.contains("Check your mail")).await;
    browser.goto(&demo_link(&demo, 1, "confirm").await).await;
    browser.wait_for_text("the confirmation page", |t| t.contains("Grace Hopper")).await;
    browser.mark_page().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_new_page().await;
    browser.wait_for_text("the place", |t| t.contains("Your place in line: 1")).await;
    let manage = demo_link(&demo, 2, "manage").await;
    browser.goto(&manage).await;
    let page = browser.wait_for_text("the signup's page", |t| t.contains("Your data")).await;
    assert!(page.contains("Download my data") && page.contains("Erase my data"), "{page}");

    // The download: everything held about the signup, shown by the browser.
    browser.mark_page().await;
    browser.click("a[href*='/waitlist/manage/data']").await;
    browser.wait_for_new_page().await;
    let json = browser.wait_for_text("the data", |t| t.contains("grace@example.com")).await;
    assert!(
        json.contains("Grace Hopper") && json.contains("\"place\": 1") && json.contains("confirmed"),
        "{json}"
    );

    // Erasing asks once more, then erases: the place is given up, a last mail confirms it.
    browser.goto(&manage).await;
    browser.wait_for_text("the signup's page", |t| t.contains("Your data")).await;
    browser.mark_page().await;
    browser.click("form[action='/waitlist/manage/erase'] button").await;
    browser.wait_for_new_page().await;
    browser.wait_for_text("the question", |t| t.contains("Erase your data?")).await;
    browser.mark_page().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_new_page().await;
    browser.wait_for_text("the answer", |t| t.contains("Your data is erased")).await;
    let last = demo_mail(&demo, 3).await;
    assert!(last.contains("is erased") && last.contains("grace@example.com"), "{last}");
    browser.goto(&manage).await;
    browser.wait_for_text("the link's page", |t| t.contains("erased already")).await;
    // Staff's export keeps the line's numbers, not the customer.
    let export = demo.cli_output(&["waitlist", "export", "summer-gala", "--format", "json"]);
    assert!(
        export.contains("cancelled") && !export.contains("grace") && !export.contains("Grace"),
        "{export}"
    );
    browser.quit().await;
}

/// Waits (at most 20 s) for a mail of the outbox that contains every one of `needles` and
/// answers it whole.
async fn demo_mail_with(demo: &Demo, needles: &[&str]) -> String {
    for _ in 0..200 {
        if let Some(mail) = demo_mails(demo).into_iter().find(|m| needles.iter().all(|n| m.contains(n))) {
            return mail;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no mail with {needles:?} in the outbox");
}

/// Waits for the `n`-th mail of the outbox and answers it whole.
async fn demo_mail(demo: &Demo, n: usize) -> String {
    for _ in 0..200 {
        if let Some(mail) = demo_mails(demo).get(n - 1) {
            return mail.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no mail number {n} in the outbox");
}

#[tokio::test]
async fn in_a_real_browser_box_office_staff_sign_a_walk_in_up_with_a_note_only_staff_see() {
    let demo = Demo::start();
    assert!(demo.box_office.starts_with("box.city-arts-society."), "{}", demo.box_office);
    let browser = support::browser::Browser::start().await;
    // The sign-in page, as the banner says; the token field does not echo.
    browser.goto(&format!("{}/waitlist/staff?event=summer-gala", demo.shop)).await;
    browser.wait_for_text("the sign-in page", |t| t.contains("Box-office token")).await;
    browser.fill("input[name=token]", &demo.box_office).await;
    browser.mark_page().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_new_page().await;
    // Straight on to summer-gala's form, with the box-office fields.
    let form = browser
        .wait_for_text("the staff form", |t| t.contains("Signed in as box-office staff of City Arts Society"))
        .await;
    assert!(form.contains("box-office@city-arts-society.example"), "{form}");
    browser.click("input[name=box_office_address]").await;
    browser.fill("input[name=name]", "Walk-in Wim").await;
    browser.fill("input[name=phone]", "+31 6 1234 5678").await;
    browser.fill("input[name=tickets]", "3").await;
    browser.fill("textarea[name=note]", "Pays cash at the door").await;
    browser.mark_page().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_new_page().await;
    let placed = browser.wait_for_text("the place", |t| t.contains("Your place in line: 1")).await;
    assert!(placed.contains("Internal note: Pays cash at the door"), "{placed}");

    // The box office's mail has no note; the staff export through the CLI has it.
    let manage = demo_link(&demo, 1, "manage").await;
    assert!(!demo_mails(&demo)[0].contains("Pays cash"), "no note in mails");
    let csv = demo.cli_as(&demo.box_office, &["waitlist", "export", "summer-gala", "--format", "csv"]);
    assert!(
        csv.contains(
            "Walk-in Wim,box-office@city-arts-society.example,'+31 6 1234 5678,Pays cash at the door"
        ),
        "{csv}"
    );
    // The signup's own page (the manage link in the mail) has no note either.
    browser.goto(&manage).await;
    let status = browser.wait_for_text("the signup's page", |t| t.contains("Summer Gala Night")).await;
    assert!(status.contains("Confirmed") && !status.contains("Pays cash"), "{status}");
    browser.quit().await;
}

/// Waits for the `n`-th mail of the outbox and answers the first link in it that starts with
/// `prefix` (after the shop's address).
async fn demo_mail_link(demo: &Demo, n: usize, prefix: &str) -> String {
    let prefix = format!("{}{prefix}", demo.shop);
    for _ in 0..100 {
        if let Some(mail) = demo_mails(demo).get(n - 1) {
            let start = mail.find(&prefix).unwrap_or_else(|| panic!("no {prefix} link in {mail}"));
            return mail[start..].chars().take_while(|c| !c.is_whitespace()).collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("mail {n} never arrived in {}", demo.data.display());
}

#[tokio::test]
async fn in_a_real_browser_freed_seats_reach_the_longest_waiting_who_declines_and_they_pass_on() {
    let demo = Demo::start();
    let browser = support::browser::Browser::start().await;
    // Two customers join the Summer Gala's waitlist and confirm, Ada first.
    for (n, (email, name)) in
        [("ada@example.com", "Ada Lovelace"), ("bob@example.com", "Bob Stone")].iter().enumerate()
    {
        let form = join_and_confirm(&browser, &demo, email, name, 2 * n + 1, n as u64 + 1).await;
        assert!(
            form.contains("they are offered by e-mail"),
            "the form says what automatic mode does: {form}"
        );
    }

    // The box office frees two seats, as the banner says: first the warning, then the offers.
    let dry = demo.cli_output(&["waitlist", "release", "summer-gala", "--seats", "2", "--dry-run"]);
    assert!(dry.contains("ada@example.com") && !dry.contains("bob@example.com"), "{dry}");
    demo.cli(&["waitlist", "release", "summer-gala", "--seats", "2"]);
    // Mails: two confirmations and two "on the list", then Ada's offer.
    let decline = demo_mail_link(&demo, 5, "/waitlist/offer?c=").await;
    assert!(demo_mails(&demo)[4].contains("2 tickets for Summer Gala Night are free for you"));
    browser.goto(&decline).await;
    let offer = browser.wait_for_text("the offer page", |t| t.contains("Decline the offer")).await;
    assert!(offer.contains("Book my tickets") && offer.contains("UTC"), "{offer}");
    browser.mark_page().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_new_page().await;
    browser.wait_for_text("the answer", |t| t.contains("You declined the offer")).await;
    // Her seats went on to Bob at once.
    let bobs = demo_mail_link(&demo, 6, "/waitlist/offer?c=").await;
    assert!(demo_mails(&demo)[5].contains("bob@example.com"), "Bob's offer");
    assert_ne!(bobs, decline);
    let offers = demo.cli_output(&["waitlist", "offers", "summer-gala"]);
    assert!(offers.contains("\"declined\"") && offers.contains("\"open\""), "{offers}");
    browser.quit().await;
}

#[tokio::test]
async fn in_a_real_browser_box_office_staff_work_the_list_and_send_a_manual_offer_with_their_own_link() {
    let demo = Demo::start();
    let browser = support::browser::Browser::start().await;
    // A customer joins and confirms.
    join_and_confirm(&browser, &demo, "ada@example.com", "Ada Lovelace", 1, 1).await;

    // Staff open the list as the banner says: the sign-in first, then the list.
    browser.goto(&format!("{}/waitlist/staff/list?event=summer-gala", demo.shop)).await;
    browser.wait_for_text("the sign-in page", |t| t.contains("Box-office token")).await;
    browser.fill("input[name=token]", &demo.box_office).await;
    browser.mark_page().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_new_page().await;
    let list = browser.wait_for_text("the list", |t| t.contains("Waitlist: Summer Gala Night")).await;
    assert!(list.contains("ada@example.com") && list.contains("Confirmed"), "{list}");

    // A note, kept from the customer.
    browser.click("tbody tr:nth-child(1) summary").await;
    browser.fill("tbody tr:nth-child(1) textarea[name=note]", "Called back, wants row 5").await;
    browser.mark_page().await;
    browser.click("tbody tr:nth-child(1) form:nth-of-type(1) button").await;
    browser.wait_for_new_page().await;
    let noted = browser.wait_for_text("the saved note", |t| t.contains("The note is saved.")).await;
    assert!(noted.contains("Called back, wants row 5"), "{noted}");

    // The manual path: staff reserved seats in the back office and send its payment link.
    browser.click("tbody tr:nth-child(1) summary").await;
    browser.fill("tbody tr:nth-child(1) input[name=link]", "https://pay.example/reservation/R-1042").await;
    browser.fill("tbody tr:nth-child(1) textarea[name=text]", "Row 5, seats 11 and 12.").await;
    browser.mark_page().await;
    browser.click("tbody tr:nth-child(1) form:has(input[name=link]) button").await;
    browser.wait_for_new_page().await;
    let sent = browser.wait_for_text("the sent offer", |t| t.contains("The offer is sent.")).await;
    assert!(sent.contains("Offer 1: open until"), "{sent}");
    // The customer's offer mail carries staff's link and text, never the note.
    let decline = demo_mail_link(&demo, 3, "/waitlist/offer?c=").await;
    let mail = &demo_mails(&demo)[2];
    assert!(
        mail.contains("https://pay.example/reservation/R-1042") && mail.contains("Row 5, seats 11 and 12."),
        "{mail}"
    );
    assert!(!mail.contains("Called back"), "the note stays with staff");
    browser.goto(&decline).await;
    browser.wait_for_text("the offer page", |t| t.contains("Decline the offer")).await;
    // The event's messages, as staff read them.
    browser.goto(&format!("{}/waitlist/staff/messages?event=summer-gala", demo.shop)).await;
    let messages = browser.wait_for_text("the messages", |t| t.contains("Messages: Summer Gala Night")).await;
    assert!(messages.contains("offer") && messages.contains("confirmed"), "{messages}");
    browser.quit().await;
}

/// A customer joins summer-gala's waitlist in `browser` for two tickets and confirms through the
/// `mail`-th mail of the outbox, reaching `place`; answers the form's text.
async fn join_and_confirm(
    browser: &support::browser::Browser,
    demo: &Demo,
    email: &str,
    name: &str,
    mail: usize,
    place: u64,
) -> String {
    browser.goto(&format!("{}/waitlist/summer-gala", demo.shop)).await;
    let form = browser.wait_for_text("the form", |t| t.contains("Number of tickets")).await;
    browser.fill("input[name=email]", email).await;
    browser.fill("input[name=name]", name).await;
    browser.fill("input[name=tickets]", "2").await;
    browser.mark_page().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_new_page().await;
    browser.wait_for_text("the answer", |t| t.contains("Check your mail")).await;
    browser.goto(&demo_link(demo, mail, "confirm").await).await;
    browser.wait_for_text("the confirmation page", |t| t.contains("Confirm my place")).await;
    browser.mark_page().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_new_page().await;
    browser.wait_for_text("the place", |t| t.contains(&format!("Your place in line: {place}"))).await;
    form
}

/// A new admin token of summer-gala's organizer, issued with the demo's operator token.
async fn organizer_admin_token(demo: &Demo) -> String {
    let req = http::Request::post(format!("{}/v1/organizers/city-arts-society/token", demo.admin))
        .header("authorization", format!("Bearer {}", demo.token))
        .body(support::client::body(""))
        .unwrap();
    let (resp, bytes) = support::client::send(req).await;
    assert!(resp.status().is_success(), "{}", String::from_utf8_lossy(&bytes));
    let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    answer["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn in_a_real_browser_and_the_cli_messages_to_the_whole_list_are_previewed_tested_scheduled_and_sent() {
    let demo = Demo::start();
    let browser = support::browser::Browser::start().await;
    join_and_confirm(&browser, &demo, "ada@example.com", "Ada Lovelace", 1, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("en.txt");
    std::fs::write(&text, "Parking at the lake\n\nThe car park by the lake opens at 18:00.\n").unwrap();
    let text_arg = format!("en={}", text.display());
    let draft = ["--audience", "waiting", "--purpose", "service", "--text", text_arg.as_str()];
    let with = |head: &[&str], tail: &[&str]| -> Vec<String> {
        head.iter().chain(draft.iter()).chain(tail).map(|s| (*s).to_owned()).collect()
    };
    let cli = |args: Vec<String>| demo.cli_output(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // The CLI: a preview with its reach, a test send, one scheduled an hour ahead and cancelled,
    // and one sent now.
    let preview = cli(with(&["waitlist", "broadcast", "preview", "summer-gala"], &[]));
    assert!(preview.starts_with("To: 1 signups now\nSubject: Parking at the lake"), "{preview}");
    assert!(preview.contains("Hello Alex Sample") && preview.contains("opens at 18:00"), "{preview}");
    let to = "staff@city-arts-society.example";
    let tested = cli(with(&["waitlist", "broadcast", "test-send", "summer-gala"], &["--to", to]));
    assert!(tested.contains("(test:message)"), "{tested}");
    let test_mail = demo_mail_with(&demo, &[&format!("<{to}>")]).await;
    assert!(test_mail.contains("Parking at the lake"), "{test_mail}");
    let at = humantime::format_rfc3339_seconds(std::time::SystemTime::now() + Duration::from_secs(3600));
    let at = at.to_string();
    let later = cli(with(&["waitlist", "broadcast", "send", "summer-gala"], &["--at", at.as_str()]));
    assert!(later.contains("\"status\": \"scheduled\"") && later.contains("\"number\": 1"), "{later}");
    let cancelled = demo.cli_output(&["waitlist", "broadcast", "cancel", "summer-gala", "1"]);
    assert!(cancelled.contains("\"status\": \"cancelled\""), "{cancelled}");
    // One timed a few seconds ahead waits for its time, then goes.
    let soon = humantime::format_rfc3339_seconds(std::time::SystemTime::now() + Duration::from_secs(4));
    let soon = soon.to_string();
    let timed = cli(with(&["waitlist", "broadcast", "send", "summer-gala"], &["--at", soon.as_str()]));
    assert!(timed.contains("\"status\": \"scheduled\"") && timed.contains("\"number\": 2"), "{timed}");
    let parking = |m: &String| m.contains("Subject: Parking at the lake") && m.contains("<ada@example.com>");
    assert!(!demo_mails(&demo).iter().any(parking), "not before its time");
    demo_mail_with(&demo, &["Subject: Parking at the lake", "<ada@example.com>"]).await;
    let past = Command::new(binary())
        .args(with(&["waitlist", "broadcast", "send", "summer-gala"], &["--at", "2020-01-01T00:00:00Z"]))
        .env("DOORMAN_ADMIN_URL", &demo.admin)
        .env("DOORMAN_ADMIN_TOKEN", &demo.token)
        .output()
        .unwrap();
    assert!(!past.status.success() && String::from_utf8_lossy(&past.stderr).contains("past"), "{past:?}");

    // The staff page: an admin of the organizer previews, then sends one now.
    let token = organizer_admin_token(&demo).await;
    browser.goto(&format!("{}/waitlist/staff?event=summer-gala", demo.shop)).await;
    browser.wait_for_text("the sign-in page", |t| t.contains("Box-office token")).await;
    browser.fill("input[name=token]", &token).await;
    browser.mark_page().await;
    browser.click("button[type=submit]").await;
    browser.wait_for_new_page().await;
    browser.goto(&format!("{}/waitlist/staff/broadcasts?event=summer-gala", demo.shop)).await;
    let page = browser.wait_for_text("the page", |t| t.contains("Messages to the whole list")).await;
    assert!(page.contains("Parking at the lake") && page.contains("cancelled"), "{page}");
    browser.click("input[name=purpose][value=service]").await;
    browser.fill("input[name=subject]", "Fireworks at 23:00").await;
    browser.fill("textarea[name=body]", "Stay for the fireworks over the lake.").await;
    browser.mark_page().await;
    browser.click("button[value=preview]").await;
    browser.wait_for_new_page().await;
    let shown = browser.wait_for_text("the preview", |t| t.contains("It would reach 1 signups now.")).await;
    assert!(shown.contains("Stay for the fireworks over the lake."), "{shown}");
    browser.mark_page().await;
    browser.click("button[value=schedule]").await;
    browser.wait_for_new_page().await;
    browser.wait_for_text("the answer", |t| t.contains("Message 3 is scheduled (now)")).await;
    demo_mail_with(&demo, &["Subject: Fireworks at 23:00", "<ada@example.com>"]).await;
    browser.goto(&format!("{}/waitlist/staff/messages?event=summer-gala", demo.shop)).await;
    let history = browser.wait_for_text("the history", |t| t.contains("message:3")).await;
    assert!(history.contains("message:2") && history.contains("test:message"), "{history}");
    browser.quit().await;
}

#[test]
fn a_message_to_the_list_whose_text_cannot_be_read_exits_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let env =
        [("DOORMAN_ADMIN_URL", "http://127.0.0.1:9"), ("DOORMAN_ADMIN_TOKEN", "a-token-of-sixteen-chars")];
    let missing = dir.path().join("missing.txt").display().to_string();
    for (text, says) in [("en", "LANG=FILE"), (&format!("en={missing}") as &str, "cannot read")] {
        let args = [
            "waitlist",
            "broadcast",
            "send",
            "gala",
            "--audience",
            "waiting",
            "--purpose",
            "service",
            "--text",
            text,
        ];
        let out = run(&args, &env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains("--text") && err.contains(says), "{text}: {err}");
    }
    let out = run(
        &["waitlist", "broadcast", "send", "gala", "--audience", "waiting", "--purpose", "service"],
        &env,
    );
    assert_eq!(out.status.code(), Some(2), "a message needs a text");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--text"));
}
