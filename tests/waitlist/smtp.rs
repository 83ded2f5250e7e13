//! Mail through a real SMTP server (aiosmtpd on loopback): STARTTLS verified against the test
//! CA, a login, and nothing lost or sent twice while the server is down or Doorman restarts.

use std::time::{Duration, Instant};

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
    let options = SmtpOptions { starttls: true, login: Some(("shop".into(), "s3cret pass".into())) };
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
