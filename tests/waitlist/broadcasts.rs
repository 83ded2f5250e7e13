//! Messages to a whole list through the binary: written through the admin API, queued by the
//! nodes' sending pass once due, one mail per recipient (a real outbox), each in the message
//! history with its fate; consent and language limit news; bad schedules are refused; two nodes
//! on one Redis send a message once.

use std::time::Duration;

use crate::offers::line_up;
use crate::support::redis::RedisServer;
use crate::{Mail, Shop, StoreKind};

/// An RFC 3339 time `secs` from now.
fn in_secs(secs: i64) -> String {
    let now = std::time::SystemTime::now();
    let at = if secs >= 0 {
        now + Duration::from_secs(secs as u64)
    } else {
        now - Duration::from_secs(secs.unsigned_abs())
    };
    humantime::format_rfc3339_seconds(at).to_string()
}

fn draft(subject: &str, extra: &str) -> String {
    format!(
        r#"{{"audience": "waiting", "purpose": "service",
            "texts": {{"en": {{"subject": "{subject}", "body": "Doors open at 18:30."}}}}{extra}}}"#
    )
}

fn with_subject<'a>(mails: &'a [Mail], subject: &str) -> Vec<&'a Mail> {
    mails.iter().filter(|m| m.subject == subject).collect()
}

/// Waits (at most 20 s) until `n` mails with `subject` are in `shops`' outboxes together.
async fn wait_for(shops: &[&Shop], subject: &str, n: usize) -> Vec<Mail> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let all: Vec<Mail> = shops.iter().flat_map(|s| s.mails()).collect();
        let found: Vec<Mail> = with_subject(&all, subject).into_iter().cloned().collect();
        if found.len() >= n || std::time::Instant::now() > deadline {
            assert_eq!(found.len(), n, "mails with the subject {subject:?}");
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn a_message_to_the_list_reaches_each_waiting_signup_once_with_its_fate_in_the_history(
    store: StoreKind,
) {
    let shop = Shop::start(store);
    shop.open("gala", &format!(r#", "starts": "{}""#, in_secs(3 * 86_400))).await;
    line_up(&shop, "gala", &[("ada@example.com", "2"), ("bob@example.com", "1"), ("cy@example.com", "1")])
        .await;
    shop.sign_up_fresh("gala", "pending@example.com").await;
    let path = "/v1/events/gala/waitlist/broadcasts";

    // Bad schedules and texts are refused with the field named, and store nothing.
    for (body, says) in [
        (draft("Past", &format!(r#", "at": "{}""#, in_secs(-3600))), "past"),
        (draft("Late", &format!(r#", "at": "{}""#, in_secs(4 * 86_400))), "after the event"),
        (draft("Far", r#", "before_start": "5days""#), "past"),
        (draft("Both", &format!(r#", "at": "{}", "before_start": "1h""#, in_secs(60))), "not both"),
        (draft("Bcc: x@y.z\r\nInjected", ""), "subject"),
        (r#"{"audience": "everyone", "purpose": "service", "texts": {}}"#.to_owned(), "audience"),
        (draft("Nl", r#", "languages": ["xx"]"#), "languages"),
    ] {
        let (status, answer) = shop.admin("POST", path, &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(says), "{body}: {answer}");
    }
    let (status, _) = shop.admin("POST", "/v1/events/nowhere/waitlist/broadcasts", &draft("X", "")).await;
    assert_eq!(status, 404, "an event without a waitlist");
    assert_eq!(shop.admin("GET", path, "").await.1["messages"], serde_json::json!([]));

    // A preview says how many it reaches; a message now reaches the three waiting, once each.
    let preview = format!(r#"{{"message": {}}}"#, draft("Doors move", ""));
    let (status, shown) = shop.admin("POST", &format!("{path}/preview"), &preview).await;
    assert_eq!((status, shown["recipients"].as_u64()), (200, Some(3)), "{shown}");
    let test = format!(r#"{{"message": {}, "to": "staff@shop.test"}}"#, draft("Doors move", ""));
    let (status, tested) = shop.admin("POST", &format!("{path}/test"), &test).await;
    assert_eq!(status, 200, "{tested}");
    let (status, written) = shop.admin("POST", path, &draft("Doors move", "")).await;
    assert_eq!(status, 201, "{written}");
    assert_eq!(written["status"], "scheduled");
    let mails = wait_for(&[&shop], "Doors move", 4).await;
    for email in ["ada@example.com", "bob@example.com", "cy@example.com", "staff@shop.test"] {
        assert_eq!(mails.iter().filter(|m| m.to.contains(email)).count(), 1, "{email}");
    }
    assert!(mails[0].text.contains("Doors open at 18:30.") && mails[0].text.contains("/waitlist/manage?t="));

    // The history has each recipient's fate; the message says it is sent.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let sent = loop {
        let (_, history) = shop.admin("GET", "/v1/events/gala/waitlist/messages", "").await;
        let sent: Vec<serde_json::Value> = history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["template"] == "message:1" && m["status"] == "sent")
            .cloned()
            .collect();
        if sent.len() == 3 || std::time::Instant::now() > deadline {
            break sent;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(sent.len(), 3, "{sent:?}");
    let (_, one) = shop.admin("GET", &format!("{path}/1"), "").await;
    assert_eq!((one["status"].as_str(), one["queued"].as_u64()), (Some("sent"), Some(3)), "{one}");
    let (status, _) = shop.admin("POST", &format!("{path}/1/cancel"), "").await;
    assert_eq!(status, 409, "too late to cancel");

    // News goes only to those who ticked the box: nobody here.
    let (status, news) = shop.admin("POST", path, &draft("News", "").replace("service", "news")).await;
    assert_eq!(status, 201, "{news}");
    // A message an hour ahead, cancelled, never goes.
    let (_, later) =
        shop.admin("POST", path, &draft("Later", &format!(r#", "at": "{}""#, in_secs(3600)))).await;
    let (status, cancelled) = shop.admin("POST", &format!("{path}/{}/cancel", later["number"]), "").await;
    assert_eq!((status, cancelled["status"].as_str()), (200, Some("cancelled")), "{cancelled}");
    tokio::time::sleep(Duration::from_secs(6)).await; // a sending pass or more
    let (_, list) = shop.admin("GET", path, "").await;
    let statuses: Vec<&str> =
        list["messages"].as_array().unwrap().iter().map(|m| m["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["sent", "sent", "cancelled"], "{list}");
    assert_eq!(list["messages"][1]["queued"], 0, "nobody consented to news");
    assert!(
        with_subject(&shop.mails(), "News").is_empty() && with_subject(&shop.mails(), "Later").is_empty()
    );

    // Ada asks for news on her signup's page; news then reach her alone, with a one-click
    // unsubscribe that her mail program posts.
    let all = shop.mails();
    let confirmed = all
        .iter()
        .find(|m| m.to.contains("ada@example.com") && m.subject.contains("on the waitlist"))
        .unwrap();
    let manage = confirmed.link("manage");
    let mut jar = crate::Jar::default();
    let page = shop.get(&mut jar, &manage).await;
    assert!(page.html.contains("Keep me informed"), "{}", page.html);
    let t = confirmed.token("manage");
    let chose = shop
        .post(&mut jar, "/waitlist/manage/news", &[("t", &t), ("csrf", &page.csrf()), ("news", "yes")])
        .await;
    assert!(chose.html.contains("You will get news"), "{}", chose.html);
    let (status, _) = shop.admin("POST", path, &draft("Second show", "").replace("service", "news")).await;
    assert_eq!(status, 201);
    let second = wait_for(&[&shop], "Second show", 1).await;
    assert!(second[0].to.contains("ada@example.com"));
    let unsubscribe = second[0].raw.lines().find_map(|l| l.strip_prefix("List-Unsubscribe: <")).unwrap();
    let unsubscribe = unsubscribe.trim_end_matches('>').strip_prefix(crate::PUBLIC_URL).unwrap().to_owned();
    assert!(second[0].raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    // RFC 8058 lets the mail program post multipart/form-data too; either way it stops the news.
    let multipart =
        "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
    let req = http::Request::post(shop.doorman.url(&unsubscribe))
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(crate::support::client::body(multipart))
        .unwrap();
    let (resp, said) = crate::support::client::send(req).await;
    assert_eq!((resp.status().as_u16(), &said[..]), (200, &b"unsubscribed\n"[..]));
    let done =
        shop.post_raw(&mut crate::Jar::default(), &unsubscribe, b"List-Unsubscribe=One-Click".to_vec()).await;
    assert_eq!((done.status, done.html.as_str()), (200, "unsubscribed\n"));
    let wrong =
        shop.post_raw(&mut crate::Jar::default(), &unsubscribe, b"List-Unsubscribe=Later".to_vec()).await;
    assert_eq!(wrong.status, 400, "not a one-click unsubscribe");
    let (_, third) = shop.admin("POST", path, &draft("Third show", "").replace("service", "news")).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (_, third) = shop.admin("GET", &format!("{path}/{}", third["number"]), "").await;
    assert_eq!((third["status"].as_str(), third["queued"].as_u64()), (Some("sent"), Some(0)), "{third}");
    let (_, export) = shop.admin("GET", "/v1/events/gala/waitlist/signups", "").await;
    assert!(export["signups"].as_array().unwrap().iter().all(|s| s["informed"] == false), "{export}");

    let (_, audit) = shop.admin("GET", "/v1/audit", "").await;
    let audit = audit.to_string();
    for action in ["schedule_message", "cancel_message", "test_message"] {
        assert!(audit.contains(action), "{action}: {audit}");
    }
}

pub async fn two_nodes_on_one_redis_send_a_message_to_the_list_once() {
    let redis = RedisServer::start();
    let a = Shop::start(StoreKind::Url(redis.url()));
    a.open("gala", "").await;
    let emails: Vec<String> = (0..12).map(|i| format!("guest{i:02}@example.com")).collect();
    let people: Vec<(&str, &str)> = emails.iter().map(|e| (e.as_str(), "1")).collect();
    line_up(&a, "gala", &people).await;
    // The second node starts once the line is there (its sender would take some of the
    // confirmation mails into its own outbox).
    let b = Shop::start(StoreKind::Url(redis.url()));
    // Both nodes' passes look every five seconds; written just before one.
    for n in 0..4 {
        let (status, answer) =
            b.admin("POST", "/v1/events/gala/waitlist/broadcasts", &draft(&format!("Note {n}"), "")).await;
        assert_eq!(status, 201, "{answer}");
    }
    for n in 0..4 {
        let mails = wait_for(&[&a, &b], &format!("Note {n}"), 12).await;
        let mut to: Vec<&str> = mails.iter().map(|m| m.to.as_str()).collect();
        to.sort();
        to.dedup();
        assert_eq!(to.len(), 12, "each once: {to:?}");
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    let all: Vec<Mail> = [&a, &b].iter().flat_map(|s| s.mails()).collect();
    assert_eq!(all.iter().filter(|m| m.subject.starts_with("Note ")).count(), 48, "nothing sent twice later");
}
