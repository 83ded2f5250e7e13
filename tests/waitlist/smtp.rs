//! Mail through a real SMTP server (aiosmtpd on loopback): STARTTLS verified against the test
//! CA, a login, and nothing lost or sent twice while the server is down or Doorman restarts.

use std::time::{Duration, Instant};

use crate::support::redis::RedisServer;
use crate::support::smtp::{free_port, SmtpOptions, SmtpServer};
use crate::{Jar, Mail, Shop, StoreKind};

const CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tls/ca.crt");

fn smtp_section(port: u16, security: &str, user: Option<&str>) -> String {
    let user = user.map(|u| format!("username = \"{u}\"\n")).unwrap_or_default();
    format!(
        "[waitlist.mail]\ntransport = \"smtp\"\nhost = \"localhost\"\nport = {port}\nsecurity = \"{security}\"\n\
         ca_file = \"{CA}\"\nretry_after = \"500ms\"\ntimeout = \"5s\"\n{user}"
    )
}

async fn wait_messages(server: &SmtpServer, n: usize, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let got = server.messages();
        if got.len() >= n || Instant::now() > deadline {
            assert_eq!(got.len(), n, "messages received: {got:#?}");
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn mail_reaches_a_real_smtp_server_over_starttls_with_a_login(store: StoreKind) {
    let options = SmtpOptions {
        starttls: true,
        login: Some(("shop".into(), "s3cret pass".into())),
        ..SmtpOptions::default()
    };
    let server = SmtpServer::start(None, &options);
    let mail = smtp_section(server.addr.port(), "starttls", Some("shop"));
    let shop = Shop::start_with(store, &mail, &[("DOORMAN_SMTP_PASSWORD", "s3cret pass")], None);
    shop.open("gala", "").await;
    let mut jar = Jar::default();
    assert!(shop.sign_up(&mut jar, "gala", "ada@example.com", "2").await.html.contains("Check your mail"));
    let received = wait_messages(&server, 1, Duration::from_secs(10)).await;
    assert!(
        received[0].starts_with("X-Envelope-From: waitlist@shop.test\r\nX-Envelope-To: ada@example.com\r\n")
    );
    let mail = Mail::parse(received[0].as_bytes());
    assert_eq!(mail.subject, "Confirm your place on the waitlist for The gala night");
    // The customer follows the link in the mail they received.
    let page = shop.post(&mut jar, "/waitlist/confirm", &[("t", &mail.token("confirm"))]).await;
    assert!(page.html.contains("Your place in line: 1"), "{}", page.html);
    let received = wait_messages(&server, 2, Duration::from_secs(10)).await;
    assert!(Mail::parse(received[1].as_bytes()).subject.starts_with("You are on the waitlist"));
    assert!(shop.mails().is_empty(), "nothing went to the file outbox");
}

pub async fn nothing_is_lost_or_sent_twice_while_the_server_is_down_or_doorman_restarts(store: StoreKind) {
    let port = free_port();
    let data = tempfile::tempdir().unwrap();
    let section = smtp_section(port, "none", None);
    // The test keeps the Redis server, so it outlives the first Doorman.
    let (redis, store) = match store {
        StoreKind::Redis(r) => {
            let url = r.url();
            (Some(r), StoreKind::Url(url))
        }
        other => (None, other),
    };
    let reuse = |s: &StoreKind| match s {
        StoreKind::Url(u) => StoreKind::Url(u.clone()),
        _ => StoreKind::Embedded,
    };
    let second = reuse(&store);
    let shop = Shop::start_with(store, &section, &[], Some(data.path()));
    shop.open("gala", "").await;
    for who in ["ada", "bob", "cy"] {
        let page = shop.sign_up(&mut Jar::default(), "gala", &format!("{who}@example.com"), "1").await;
        assert!(page.html.contains("Check your mail"), "acknowledged while the server is down");
    }
    let retried = shop.metric_reaches(r#"doorman_waitlist_mails_total{result="retried"}"#, 3).await;
    assert!(retried >= 3, "each mail was tried while the server was down: {retried}");
    let server = SmtpServer::start(Some(port), &SmtpOptions::default());
    let received = wait_messages(&server, 3, Duration::from_secs(20)).await;
    let mut to: Vec<String> = received.iter().map(|m| Mail::parse(m.as_bytes()).to).collect();
    to.sort();
    assert_eq!(
        to,
        [
            "\"Ada Lovelace\" <ada@example.com>",
            "\"Ada Lovelace\" <bob@example.com>",
            "\"Ada Lovelace\" <cy@example.com>"
        ]
    );
    // A restart on the same store sends nothing again.
    shop.stop();
    let again = Shop::start_with(second, &section, &[], Some(data.path()));
    // Its sender's first pass over the outbox is done: whatever it would send, it has.
    assert!(again.metric_reaches("doorman_waitlist_outbox_passes_total", 1).await >= 1);
    assert_eq!(again.metric(r#"doorman_waitlist_mails_total{result="sent"}"#).await, 0, "nothing sent again");
    assert_eq!(server.messages().len(), 3, "a restart sent a message twice");
    drop(again);
    drop(redis);
}

/// Signs each address up for the gala, sixteen at a time, each acknowledged.
async fn sign_up_many(shop: &Shop, addresses: impl Iterator<Item = String>) {
    let addresses: Vec<String> = addresses.collect();
    for chunk in addresses.chunks(16) {
        let signups = chunk.iter().map(|address| shop.sign_up_fresh("gala", address));
        for page in futures_util::future::join_all(signups).await {
            assert!(page.html.contains("Check your mail"), "{}", page.html);
        }
    }
}

/// More mail for a domain that refuses it for now than a sender reads of the line at once (the
/// 512 of the sender that stalled on this) never holds up the mail of anyone else, costs one attempt per back-off at that domain,
/// and all goes, once each, when the domain takes mail again.
pub async fn a_domain_that_refuses_mail_holds_up_no_one_else(store: StoreKind) {
    const DOWN: usize = 530;
    let refusing = SmtpOptions { refuse_domain: Some("down.test".into()), ..SmtpOptions::default() };
    let server = SmtpServer::start(None, &refusing);
    let port = server.addr.port();
    let section = format!("posts_per_network_per_10_minutes = 5000\n{}", smtp_section(port, "none", None));
    let shop = Shop::start_with(store, &section, &[], None);
    shop.open("gala", "").await;
    sign_up_many(&shop, (0..DOWN).map(|i| format!("c{i}@down.test"))).await;
    let page = shop.sign_up(&mut Jar::default(), "gala", "ada@example.com", "2").await;
    assert!(page.html.contains("Check your mail"));
    let received = wait_messages(&server, 1, Duration::from_secs(15)).await;
    assert!(received[0].contains("X-Envelope-To: ada@example.com\r\n"), "{}", received[0]);
    let refused = server.refused();
    assert!(
        !refused.is_empty() && refused.len() < 50,
        "one attempt per back-off, not per message: {}",
        refused.len()
    );

    // The domain takes mail again: every message goes, once.
    drop(server);
    let server = SmtpServer::start(Some(port), &SmtpOptions::default());
    let received = wait_messages(&server, DOWN, Duration::from_secs(90)).await;
    let mut to: Vec<&str> =
        received.iter().filter_map(|m| m.lines().nth(1)?.strip_prefix("X-Envelope-To: ")).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), DOWN, "each customer's mail, once");
}

/// The store killed mid-send and started again (Redis with every acknowledged write on disk):
/// the message whose outcome could not be written waits out its lease aside, and every other
/// mail leaves as soon as the store is back, also the ones beyond the first 512 (where the
/// sender that stalled on this stopped reading).
#[tokio::test]
async fn a_store_killed_mid_send_holds_up_no_mail_once_it_is_back() {
    const MAILS: usize = 700;
    let mut redis = RedisServer::start_durable();
    let server = SmtpServer::start(None, &SmtpOptions::default());
    let section = format!(
        "posts_per_network_per_10_minutes = 5000\n{}",
        smtp_section(server.addr.port(), "none", None)
    );
    let shop = Shop::start_with(StoreKind::Url(redis.url()), &section, &[], None);
    shop.open("gala", "").await;
    // Mid-send, for sure: the relay stops answering, so the sender waits inside the first send,
    // holding its lease, while every signup is queued; the store dies; the relay takes the
    // message, and the sender cannot write so.
    server.pause();
    sign_up_many(&shop, (0..MAILS).map(|i| format!("c{i}@example.com"))).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = server.messages().len();
    redis.kill();
    server.resume();
    tokio::time::sleep(Duration::from_secs(1)).await;
    redis.restart();
    let back = Instant::now();
    let at_restart = server.messages().len();
    assert_eq!(at_restart, before + 1, "the message in flight was delivered");
    while server.messages().len() == at_restart {
        assert!(back.elapsed() < Duration::from_secs(15), "no mail left after the store came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("first message {:?} after the store came back", back.elapsed());
    // Every customer's mail, once (the one in flight may come again once its lease is over, two
    // minutes on, which this test does not wait for).
    let received = wait_messages(&server, MAILS, Duration::from_secs(90)).await;
    eprintln!("all {MAILS} delivered {:?} after the store came back", back.elapsed());
    let mut to: Vec<&str> =
        received.iter().filter_map(|m| m.lines().nth(1)?.strip_prefix("X-Envelope-To: ")).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), MAILS);
}
