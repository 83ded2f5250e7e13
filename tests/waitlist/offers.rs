//! Offers of freed seats through the binary: the backend reports seats, the longest waiting get
//! offer mails (a real outbox), a customer declines through the link and the seats pass on;
//! staff's own offers, taken and withdrawn offers, the export and the audit log; concurrent
//! reports that never offer a seat twice.

use std::process::Command;

use crate::support::doorman::{binary, TOKEN};
use crate::{Jar, Mail, Shop, StoreKind, PUBLIC_URL};

const AUTOMATIC: &str =
    r#", "mode": "automatic", "offer_hours": 24, "offer_link": "/echo/{event}/claim?offer={code}""#;

/// Signs each of `emails` up for `event` (one ticket each, or as `tickets` says) and confirms
/// them through their mails, in order: they stand in line in that order.
pub(crate) async fn line_up(shop: &Shop, event: &str, people: &[(&str, &str)]) {
    let before = shop.mails().len();
    let mut jars = Vec::new();
    for (email, tickets) in people {
        let mut jar = Jar::default();
        let page = shop.sign_up(&mut jar, event, email, tickets).await;
        assert_eq!(page.status, 200, "{}", page.html);
        jars.push(jar);
    }
    let mails = shop.wait_mails(before + people.len()).await;
    for ((email, _), jar) in people.iter().zip(&mut jars) {
        let mail = mails.iter().find(|m| m.to.contains(email) && m.subject.starts_with("Confirm")).unwrap();
        let done = shop.post(jar, "/waitlist/confirm", &[("t", &mail.token("confirm"))]).await;
        assert!(done.html.contains("Your place in line"), "{}", done.html);
    }
    shop.wait_mails(before + 2 * people.len()).await;
}

/// The offer mails to `email`.
fn offers_to(mails: &[Mail], email: &str) -> Vec<Mail> {
    mails.iter().filter(|m| m.to.contains(email) && m.subject.contains("are free for you")).cloned().collect()
}

/// The path and query of an offer mail's link that starts with `prefix`.
fn link(mail: &Mail, prefix: &str) -> String {
    let start = mail.text.find(prefix).unwrap_or_else(|| panic!("no {prefix} link in:\n{}", mail.text));
    let link: String = mail.text[start..].chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
    link.strip_prefix(PUBLIC_URL).unwrap().replace("&#38;", "&")
}

pub async fn freed_seats_are_offered_in_line_order_and_a_declined_offer_passes_on(store: StoreKind) {
    let shop = Shop::start(store);
    shop.open("gala", AUTOMATIC).await;
    // The form says what automatic mode does.
    let form = shop.get(&mut Jar::default(), "/waitlist/gala").await;
    assert!(form.html.contains("they are offered by e-mail"), "{}", form.html);
    line_up(&shop, "gala", &[("ada@example.com", "2"), ("bob@example.com", "3"), ("cy@example.com", "1")])
        .await;
    assert!(
        shop.mails().iter().any(|m| m.text.contains("the offer then holds for 24 hours")),
        "the mode's text"
    );

    // The warning before a booking is freed: who would get the seats; nothing changes.
    let mails = shop.mails().len();
    let (status, dry) =
        shop.admin("POST", "/v1/events/gala/waitlist/release", r#"{"seats": 3, "dry_run": true}"#).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["offers"].as_array().unwrap().len(), 1);
    assert_eq!(
        (dry["offers"][0]["email"].as_str(), dry["seats_held"].as_u64()),
        (Some("ada@example.com"), Some(1))
    );
    assert!(dry["offers"][0]["offer"].is_null() && dry["dry_run"] == true);
    assert_eq!(shop.mails_queued().await as usize, mails, "a dry run sends nothing");

    // The real report, through the command line: Ada's two, one seat held for Bob (strict).
    let out = Command::new(binary())
        .args(["waitlist", "release", "gala", "--seats", "3"])
        .env("DOORMAN_ADMIN_URL", format!("http://{}", shop.doorman.admin))
        .env("DOORMAN_ADMIN_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((answer["offers"][0]["offer"].as_u64(), answer["seats_held"].as_u64()), (Some(1), Some(1)));
    let mails = shop.wait_mails(mails + 1).await;
    let offer = offers_to(&mails, "ada@example.com").pop().expect("Ada's offer mail");
    assert!(offer.text.contains("2 tickets for The gala night are free for you"), "{}", offer.text);
    assert!(offer.text.contains(" UTC"), "the deadline: {}", offer.text);
    let adas_claim = link(&offer, &format!("{PUBLIC_URL}/echo/gala/claim?offer="));
    assert!(adas_claim.len() > 40, "the claim link carries the signed code: {adas_claim}");

    // Ada opens the decline link: the offer, its booking link and a button; nothing changes yet.
    let decline = link(&offer, &format!("{PUBLIC_URL}/waitlist/offer?c="));
    let mut ada = Jar::default();
    let page = shop.get(&mut ada, &decline).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(
        page.html.contains("Book my tickets") && page.html.contains("Decline the offer"),
        "{}",
        page.html
    );
    let (_, offers) = shop.admin("GET", "/v1/events/gala/waitlist/offers", "").await;
    assert_eq!(offers["offers"][0]["status"], "open");
    // She declines: her signup ends, and her seats with the held one go to Bob at once.
    let code = decline.split_once("?c=").unwrap().1;
    let code = form_urlencoded::parse(format!("c={code}").as_bytes()).next().unwrap().1.into_owned();
    let done = shop.post(&mut ada, "/waitlist/offer/decline", &[("c", &code)]).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("You declined the offer"), "{}", done.html);
    let mails = shop.wait_mails(mails.len() + 1).await;
    assert_eq!(offers_to(&mails, "bob@example.com").len(), 1, "Bob's three seats");
    let again = shop.post(&mut ada, "/waitlist/offer/decline", &[("c", &code)]).await;
    assert_eq!(again.status, 410, "declining twice: {}", again.html);
    assert!(again.html.contains("You declined this offer"), "{}", again.html);
    let forged = shop.post(&mut ada, "/waitlist/offer/decline", &[("c", &format!("{code}x"))]).await;
    assert_eq!(forged.status, 404);

    // Bob follows his link: Doorman checks the code on the backend's claim route, lets him
    // through, and the backend's answer marks the offer taken.
    let bobs = offers_to(&mails, "bob@example.com").pop().unwrap();
    let claim = link(&bobs, &format!("{PUBLIC_URL}/echo/gala/claim?offer="));
    let mut bob = Jar::default();
    let through = shop.get(&mut bob, &claim).await;
    assert_eq!(through.status, 200, "the backend's booking page: {}", through.html);
    let mut taken = false;
    for _ in 0..50 {
        let (_, offers) = shop.admin("GET", "/v1/events/gala/waitlist/offers", "").await;
        taken = offers["offers"][1]["status"] == "taken";
        if taken {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(taken, "the backend's success marks the offer taken");
    let requests = shop.backend_requests();
    let replay = shop.get(&mut bob, &claim).await;
    assert_eq!(
        (replay.status, replay.headers["location"].to_str().unwrap()),
        (303, "/echo/gala"),
        "a used code"
    );
    let forged = shop.get(&mut bob, &format!("{claim}x")).await;
    assert_eq!(forged.status, 303);
    assert_eq!(shop.backend_requests(), requests, "neither reached the backend");
    assert_eq!(shop.admin("POST", "/v1/events/gala/waitlist/offers/2/taken", "").await.0, 409, "taken twice");
    // Cy's seat comes from a report of one.
    assert_eq!(shop.admin("POST", "/v1/events/gala/waitlist/offers/99/taken", "").await.0, 404);
    let (_, one) = shop.admin("POST", "/v1/events/gala/waitlist/release", r#"{"seats": 1}"#).await;
    assert_eq!(one["offers"][0]["email"], "cy@example.com");
    let (status, withdrawn) = shop.admin("POST", "/v1/events/gala/waitlist/offers/3/withdraw", "").await;
    assert_eq!((status, withdrawn["offer"]["status"].as_str()), (200, Some("withdrawn")));

    // The export and the offers list show it all; the audit log holds no customer's data.
    let (_, export) = shop.admin("GET", "/v1/events/gala/waitlist/signups", "").await;
    let rows: Vec<(String, String, String)> = export["signups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("email"), s("status"), s("offer_status"))
        })
        .collect();
    let row = |e: &str, s: &str, o: &str| (e.to_owned(), s.to_owned(), o.to_owned());
    assert_eq!(
        rows,
        [
            row("ada@example.com", "declined", "declined"),
            row("bob@example.com", "booked", "taken"),
            row("cy@example.com", "confirmed", "withdrawn"),
        ]
    );
    assert_eq!(export["signups"][2]["place"], 1, "Cy is back in line, first");
    let (_, list) = shop.admin("GET", "/v1/events/gala/waitlist/offers?limit=2", "").await;
    assert_eq!(list["offers"].as_array().unwrap().len(), 2);
    assert_eq!(list["next"], 2);
    let (_, log) = shop.admin("GET", "/v1/audit", "").await;
    let text = log.to_string();
    assert!(text.contains("release_seats") && text.contains("end_offer"), "{text}");
    // The message history: every mail of the event, its template and its fate.
    let out = Command::new(binary())
        .args(["waitlist", "history", "gala"])
        .env("DOORMAN_ADMIN_URL", format!("http://{}", shop.doorman.admin))
        .env("DOORMAN_ADMIN_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let history: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let history = history.as_array().unwrap();
    let kinds = |template: &str| history.iter().filter(|m| m["template"] == template).count();
    assert_eq!((kinds("confirm"), kinds("confirmed"), kinds("offer")), (3, 3, 3), "{history:?}");
    let adas_offer =
        history.iter().find(|m| m["template"] == "offer" && m["to"] == "ada@example.com").unwrap();
    assert_eq!(
        (adas_offer["status"].as_str(), adas_offer["channel"].as_str()),
        (Some("sent"), Some("email"))
    );
    assert!(adas_offer["settled"].as_str().unwrap().ends_with('Z'));
    // Ada's code, declined, no longer reaches the backend either.
    let declined = shop.get(&mut ada, &adas_claim).await;
    assert_eq!(declined.status, 303);
    for personal in ["ada@example.com", "bob@", "Ada Lovelace"] {
        assert!(!text.contains(personal), "{personal} in the audit log");
    }
}

pub async fn bad_reports_and_offers_get_clear_answers_and_change_nothing(store: StoreKind) {
    let shop = Shop::start(store);
    shop.open("gala", "").await;
    line_up(&shop, "gala", &[("ada@example.com", "1")]).await;
    let release = |body: &'static str| shop.admin("POST", "/v1/events/gala/waitlist/release", body);
    assert_eq!(release(r#"{"seats": 1}"#).await.0, 409, "manual mode: staff make offers");
    let (status, answer) = shop.admin("PATCH", "/v1/events/gala/waitlist", r#"{"mode": "automatic"}"#).await;
    assert_eq!(status, 400, "automatic mode needs its link: {answer}");
    let automatic = format!("{{{}}}", &AUTOMATIC[2..]);
    assert_eq!(shop.admin("PATCH", "/v1/events/gala/waitlist", &automatic).await.0, 200);
    let queued = shop.mails_queued().await;
    for bad in [
        r#"{"seats": 0}"#,
        r#"{"seats": -3}"#,
        r#"{"seats": 10001}"#,
        r#"{"seats": 99999999999999999999}"#,
        r#"{"seats": "2"}"#,
        r#"{"seats": 1.5}"#,
        r#"{}"#,
        r#"{"seats": 1, "extra": true}"#,
        "not json",
    ] {
        assert_eq!(release(bad).await.0, 400, "{bad}");
    }
    assert_eq!(shop.admin("POST", "/v1/events/Not_A_Slug!/waitlist/release", r#"{"seats": 1}"#).await.0, 400);
    let offer = |body: &'static str| shop.admin("POST", "/v1/events/gala/waitlist/offers", body);
    assert_eq!(offer(r#"{"signup": "nobody"}"#).await.0, 404);
    assert_eq!(offer(r#"{"signup": "x", "link": "javascript:alert(1)"}"#).await.0, 400);
    assert_eq!(offer(r#"{"signup": "x", "hours": 0}"#).await.0, 400);
    assert_eq!(shop.admin("POST", "/v1/events/gala/waitlist/offers/0/taken", "").await.0, 404);
    assert_eq!(shop.admin("POST", "/v1/events/gala/waitlist/offers/abc/taken", "").await.0, 400);
    assert_eq!(shop.mails_queued().await, queued, "nothing was offered");

    // Another organizer's admin and box-office staff may not report seats.
    for org in ["harbour", "other"] {
        let body = format!(r#"{{"id": "{org}", "name": "{org}"}}"#);
        assert_eq!(shop.admin("POST", "/v1/organizers", &body).await.0, 201);
    }
    assert_eq!(shop.admin("PUT", "/v1/events/gala", r#"{"organizer": "harbour"}"#).await.0, 200);
    let (_, other) = shop.admin("POST", "/v1/organizers/other/token", "").await;
    let (_, bo) = shop.admin("POST", "/v1/organizers/harbour/box-office-token", "").await;
    for token in [other["token"].as_str().unwrap(), bo["token"].as_str().unwrap()] {
        let (status, _) =
            shop.admin_as(token, "POST", "/v1/events/gala/waitlist/release", r#"{"seats": 1}"#).await;
        assert_eq!(status, 403);
    }
    let (status, _) =
        shop.admin_as(bo["token"].as_str().unwrap(), "GET", "/v1/events/gala/waitlist/offers", "").await;
    assert_eq!(status, 200, "box-office staff see the offers");
    assert_eq!(shop.mails_queued().await, queued);
}

pub async fn concurrent_reports_never_offer_a_seat_twice_and_pass_over_the_blacklisted(store: StoreKind) {
    let shop = Shop::start(store);
    shop.open("gala", AUTOMATIC).await;
    let emails: Vec<String> = (0..24).map(|i| format!("guest{i:02}@example.com")).collect();
    let people: Vec<(&str, &str)> = emails.iter().map(|e| (e.as_str(), "1")).collect();
    line_up(&shop, "gala", &people).await;
    // Listed after confirming: passed over without a word.
    assert_eq!(shop.admin("POST", "/v1/blacklist", r#"{"email": "guest03@example.com"}"#).await.0, 201);
    let queued = shop.mails_queued().await;

    // Twelve reports of two seats each, all at once, for 23 waiting customers.
    let reports = (0..12).map(|_| shop.admin("POST", "/v1/events/gala/waitlist/release", r#"{"seats": 2}"#));
    let answers = futures_util::future::join_all(reports).await;
    let mut offered = Vec::new();
    let mut returned = 0;
    for (status, answer) in &answers {
        assert_eq!(*status, 200, "{answer}");
        returned += answer["seats_returned"].as_u64().unwrap();
        assert_eq!(answer["seats_held"], 0, "one ticket each: nobody waits for more");
        for o in answer["offers"].as_array().unwrap() {
            offered.push((o["offer"].as_u64().unwrap(), o["email"].as_str().unwrap().to_owned()));
        }
    }
    assert_eq!(offered.len() as u64 + returned, 24, "every seat offered once or returned");
    let mut who: Vec<&str> = offered.iter().map(|(_, e)| e.as_str()).collect();
    who.sort();
    let expected: Vec<&str> =
        emails.iter().map(String::as_str).filter(|e| *e != "guest03@example.com").collect();
    assert_eq!(who, expected, "each waiting customer once, the listed one never");
    let mut numbers: Vec<u64> = offered.iter().map(|(n, _)| *n).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=23).collect::<Vec<u64>>(), "no offer lost, none made twice");
    // Every offer was queued with its mail, and reaches the customer once.
    assert_eq!(shop.mails_queued().await, queued + 23);
    let mails = shop.wait_mails(2 * 24 + 23).await;
    for e in &expected {
        assert_eq!(offers_to(&mails, e).len(), 1, "{e}");
    }
    assert!(offers_to(&mails, "guest03@example.com").is_empty());
    let (_, list) = shop.admin("GET", "/v1/events/gala/waitlist/offers", "").await;
    assert_eq!(list["offers"].as_array().unwrap().len(), 23);
}
