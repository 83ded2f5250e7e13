//! Offers by SMS through the binary: a real HTTP receiver stands in for the SMS provider's
//! webhook. An offer to a signup with a phone number goes by mail and by SMS; the webhook that
//! hangs or answers 503 gets the same message again later, one that refuses it (400) gets it
//! once; every attempt is signed with the token; the history shows each fate (delivered where
//! the provider says so); staff get their copy and the round's notice.

use std::time::Duration;

use hmac::{Hmac, Mac};

use crate::support::webhook::{Answer, Webhook};
use crate::{Jar, Shop, StoreKind};

const SMS_TOKEN: &str = "sms-token-for-the-tests-0123456789";

/// Opens the form and signs `email` up for `event` with `phone`, then confirms through the mail.
async fn join_with_phone(shop: &Shop, event: &str, email: &str, phone: &str) {
    let before = shop.mails().len();
    let mut jar = Jar::default();
    let form = shop.get(&mut jar, &format!("/waitlist/{event}")).await;
    let fields = [
        ("csrf", form.csrf()),
        ("email", email.to_owned()),
        ("name", "Ada Lovelace".to_owned()),
        ("phone", phone.to_owned()),
        ("tickets", "2".to_owned()),
        ("lang", "en".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = shop.post(&mut jar, &format!("/waitlist/{event}"), &fields).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let mails = shop.wait_mails(before + 1).await;
    let confirm = mails.iter().find(|m| m.to.contains(email) && m.subject.starts_with("Confirm")).unwrap();
    let done = shop.post(&mut jar, "/waitlist/confirm", &[("t", &confirm.token("confirm"))]).await;
    assert!(done.html.contains("Your place in line"), "{}", done.html);
    shop.wait_mails(before + 2).await;
}

/// Checks the `Doorman-Signature` of a request as a receiver would.
fn signed(received: &crate::support::webhook::Received) -> bool {
    let header = received.header("doorman-signature");
    let Some((t, v1)) = header.strip_prefix("t=").and_then(|rest| rest.split_once(",v1=")) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SMS_TOKEN.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", received.body).as_bytes());
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    expected == v1
}

/// The event's message history through the admin API.
async fn history(shop: &Shop, event: &str) -> Vec<serde_json::Value> {
    let (status, page) = shop.admin("GET", &format!("/v1/events/{event}/waitlist/messages"), "").await;
    assert_eq!(status, 200, "{page}");
    page["messages"].as_array().unwrap().clone()
}

pub async fn offers_go_by_sms_through_the_webhook_with_retries_and_fates_in_the_history(store: StoreKind) {
    let webhook = Webhook::start();
    let sms = format!(
        "[waitlist.mail]\nretry_after = \"1s\"\n[waitlist.sms]\nurl = \"{}\"\ncountry_code = \"+31\"\ntimeout = \"1s\"\n",
        webhook.url("/send?account=shop")
    );
    let shop = Shop::start_with(store, &sms, &[("DOORMAN_SMS_TOKEN", SMS_TOKEN)], None);
    shop.open(
        "gala",
        r#", "mode": "automatic", "offer_link": "/echo/{event}/claim?offer={code}", "sms": true,
            "staff_addresses": ["box@hall.example"], "staff_copies": true"#,
    )
    .await;
    join_with_phone(&shop, "gala", "ada@example.com", "06 1234 5678").await;
    join_with_phone(&shop, "gala", "bob@example.com", "+47 912 34 567").await;

    // The provider hangs past the timeout, then is down, then takes Ada's text and says it
    // reached her phone; Bob's number it refuses for good.
    webhook.script([
        Answer::Hang(Duration::from_secs(3)),
        Answer::Status(503, r#"{"error": "maintenance"}"#),
        Answer::Status(200, r#"{"status": "delivered", "id": "p-1"}"#),
    ]);
    let mails = shop.mails().len();
    let (status, answer) = shop.admin("POST", "/v1/events/gala/waitlist/release", r#"{"seats": 2}"#).await;
    assert_eq!(status, 200, "{answer}");
    let got = webhook.wait_for(3, Duration::from_secs(20)).await;
    assert!(got.iter().all(|r| r.path == "/send"), "the policy's path");
    assert!(got.iter().all(|r| r.header("authorization") == format!("Bearer {SMS_TOKEN}")));
    assert!(got.iter().all(signed), "every attempt signed: {got:#?}");
    assert!(got.iter().all(|r| r.body == got[0].body), "the same message each time");
    let sms = got[0].json();
    assert_eq!(sms["to"], "+31612345678", "the national number in international form");
    let text = sms["text"].as_str().unwrap();
    assert!(text.contains("The gala night: 2 tickets are free for you until"), "{text}");
    assert!(text.contains("http://shop.test/echo/gala/claim?offer="), "{text}");
    assert!(text.contains("http://shop.test/waitlist/offer?c="), "{text}");
    assert_eq!(got[0].header("idempotency-key"), sms["reference"].as_str().unwrap());
    // Ada's mail, staff's copy of it, and staff's notice of the round went as mail.
    let mails = shop.wait_mails(mails + 3).await;
    assert!(mails.iter().any(|m| m.to.contains("ada@example.com") && m.subject.contains("are free for you")));
    let mut staff: Vec<&str> =
        mails.iter().filter(|m| m.to.contains("box@hall.example")).map(|m| m.subject.as_str()).collect();
    staff.sort();
    assert_eq!(
        staff,
        ["Copy for staff: Seats for The gala night are free for you", "The gala night: one offer made"]
    );

    let mut ada_sms = Vec::new();
    for _ in 0..50 {
        ada_sms = history(&shop, "gala").await.into_iter().filter(|m| m["channel"] == "sms").collect();
        if ada_sms.first().is_some_and(|m| m["status"] != "queued") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ada_sms.len(), 1);
    assert_eq!(
        (ada_sms[0]["status"].as_str(), ada_sms[0]["attempts"].as_u64()),
        (Some("delivered"), Some(3))
    );
    assert_eq!(ada_sms[0]["to"], "+31612345678");

    // Bob's turn: the provider refuses his number; the message is given up after one attempt.
    webhook.script([Answer::Status(400, r#"{"error": "not a mobile number"}"#)]);
    let (status, _) = shop.admin("POST", "/v1/events/gala/waitlist/release", r#"{"seats": 2}"#).await;
    assert_eq!(status, 200);
    let got = webhook.wait_for(4, Duration::from_secs(10)).await;
    assert_eq!(got[3].json()["to"], "+4791234567");
    let mut bob_sms = serde_json::Value::Null;
    for _ in 0..50 {
        bob_sms = history(&shop, "gala").await.into_iter().filter(|m| m["channel"] == "sms").nth(1).unwrap();
        if bob_sms["status"] != "queued" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!((bob_sms["status"].as_str(), bob_sms["attempts"].as_u64()), (Some("failed"), Some(1)));
    assert!(bob_sms["error"].as_str().unwrap().contains("not a mobile number"), "{bob_sms}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(webhook.received().len(), 4, "a refused message is not sent again");
}

pub async fn an_event_cannot_switch_sms_on_where_the_operator_has_none(store: StoreKind) {
    let shop = Shop::start(store);
    let (status, answer) = shop.admin("PATCH", "/v1/events/gala/waitlist", r#"{"sms": true}"#).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.to_string().contains("[waitlist.sms]"), "{answer}");
    let (status, answer) = shop
        .admin(
            "PATCH",
            "/v1/events/gala/waitlist",
            r#"{"staff_addresses": ["x@y.example\r\nBcc: z@y.example"]}"#,
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    let (status, settings) = shop.admin("GET", "/v1/events/gala/waitlist", "").await;
    assert_eq!(status, 200);
    let settings = &settings["settings"];
    assert_eq!(
        (settings["sms"].as_bool(), settings["staff_addresses"].as_array().map(Vec::len)),
        (Some(false), Some(0)),
        "nothing half done: {settings}"
    );
}
