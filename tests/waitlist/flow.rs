//! The customer's way through the waitlist.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::{Jar, Shop, StoreKind, KEYS, PUBLIC_URL};

/// The shop's session cookie for `account`.
fn session(account: &str) -> String {
    session_expiring(account, 600)
}

/// The shop's session cookie for `account`, expiring `seconds` from now (negative: expired).
fn session_expiring(account: &str, seconds: i64) -> String {
    let key = EncodingKey::from_ec_pem(&std::fs::read(format!("{KEYS}/es256.key")).unwrap()).unwrap();
    let exp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 + seconds;
    encode(&Header::new(Algorithm::ES256), &json!({"sub": account, "exp": exp, "iss": "shop"}), &key).unwrap()
}

/// Cancels signup `id` of `event` from "my signups" as the customer of `jar`, with the CSRF
/// token a waitlist page gives that customer.
async fn cancel(shop: &Shop, jar: &mut Jar, event: &str, id: &str) -> crate::Page {
    let csrf = shop.get(jar, "/waitlist/gala").await.csrf();
    cancel_with(shop, jar, event, id, &csrf).await
}

async fn cancel_with(shop: &Shop, jar: &mut Jar, event: &str, id: &str, csrf: &str) -> crate::Page {
    shop.post(jar, "/waitlist/mine/cancel", &[("event", event), ("id", id), ("csrf", csrf)]).await
}

/// Follows a mail's confirmation link: the page with the button, then the button.
async fn confirm(shop: &Shop, jar: &mut Jar, mail: &crate::Mail) -> crate::Page {
    let page = shop.get(jar, &mail.link("confirm")).await;
    assert_eq!(page.status, 200, "{}", page.html);
    // A pending signup's link shows a button; a confirmed one's shows the place at once.
    assert!(
        page.html.contains("Confirm my place") || page.html.contains("Your place in line"),
        "{}",
        page.html
    );
    shop.post(jar, "/waitlist/confirm", &[("t", &mail.token("confirm"))]).await
}

pub async fn join_confirm_by_mail_see_the_place_and_cancel(store: StoreKind) {
    let shop = Shop::start(store);
    shop.open("gala", r#", "mail_text": {"en": "Doors open at 19:00."}"#).await;
    let mut ada = Jar::default();
    // The form promises no more than the waitlist does: the organizer may get in touch.
    let form = shop.get(&mut ada, "/waitlist/gala").await;
    assert!(form.html.contains("the organizer may contact people on the list"), "{}", form.html);
    assert!(form.html.contains("Joining does not reserve tickets"), "{}", form.html);
    let page = shop.sign_up(&mut ada, "gala", "Ada@Example.com", "2").await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("Check your mail"), "{}", page.html);
    assert_eq!(page.headers["cache-control"], "no-store");
    assert_eq!(page.headers["referrer-policy"], "no-referrer");

    let mails = shop.wait_mails(1).await;
    let mail = &mails[0];
    assert_eq!(mail.to, "\"Ada Lovelace\" <Ada@Example.com>");
    assert_eq!(mail.subject, "Confirm your place on the waitlist for The gala night");
    assert!(mail.raw.contains("multipart/alternative") && mail.raw.contains("text/html"));
    assert!(mail.text.contains("Doors open at 19:00."), "the organizer's text is in the mail");
    assert!(mail.text.contains(&format!("{PUBLIC_URL}/waitlist/confirm?t=")));
    // Pending signups do not count yet.
    let (_, settings) = shop.admin("GET", "/v1/events/gala/waitlist", "").await;
    assert_eq!(settings["confirmed_signups"], 0);

    let page = confirm(&shop, &mut ada, mail).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Your place in line: 1"), "{}", page.html);

    let mut bob = Jar::default();
    shop.sign_up(&mut bob, "gala", "bob@example.com", "4").await;
    let mails = shop.wait_mails(3).await; // Ada's "you are on the list" and Bob's confirmation
    let bobs = mails.iter().find(|m| m.to.contains("bob@")).unwrap();
    assert!(confirm(&shop, &mut bob, bobs).await.html.contains("Your place in line: 2"));
    let confirmed = shop.wait_mails(4).await;
    let adas_confirmed =
        confirmed.iter().find(|m| m.to.contains("Ada@") && m.subject.starts_with("You are on")).unwrap();
    assert!(adas_confirmed.text.contains("Your place in line is 1"), "{}", adas_confirmed.text);
    assert!(adas_confirmed.text.contains("the organizer may contact you"), "{}", adas_confirmed.text);
    let (_, settings) = shop.admin("GET", "/v1/events/gala/waitlist", "").await;
    assert_eq!(
        (settings["confirmed_signups"].as_i64(), settings["confirmed_tickets"].as_i64()),
        (Some(2), Some(6))
    );

    // The manage link shows status and place, and cancels the whole signup.
    let manage = shop.get(&mut ada, &adas_confirmed.link("manage")).await;
    assert_eq!(manage.status, 200);
    assert!(manage.html.contains("Confirmed") && manage.html.contains("<td>1</td>"), "{}", manage.html);
    let csrf = manage.csrf();
    let t = adas_confirmed.token("manage");
    let page = shop.post(&mut ada, "/waitlist/cancel", &[("t", &t), ("csrf", &csrf)]).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("Your signup is cancelled"), "{}", page.html);
    let again = shop.post(&mut ada, "/waitlist/cancel", &[("t", &t), ("csrf", &csrf)]).await;
    assert_eq!(again.status, 200, "cancelling twice is harmless");
    // Bob moved up.
    let bobs_confirmed = shop
        .mails()
        .into_iter()
        .find(|m| m.to.contains("bob@") && m.subject.starts_with("You are on"))
        .unwrap();
    let manage = shop.get(&mut bob, &bobs_confirmed.link("manage")).await;
    assert!(manage.html.contains("<td>1</td>"), "Bob is first now: {}", manage.html);
    let (_, settings) = shop.admin("GET", "/v1/events/gala/waitlist", "").await;
    assert_eq!(
        (settings["confirmed_signups"].as_i64(), settings["confirmed_tickets"].as_i64()),
        (Some(1), Some(4))
    );
    // Ada's manage page now says cancelled, with nothing left to cancel.
    let manage = shop.get(&mut ada, &adas_confirmed.link("manage")).await;
    assert!(
        manage.html.contains("Cancelled") && !manage.html.contains("Cancel the signup"),
        "{}",
        manage.html
    );
    assert_eq!(shop.backend_requests(), 0, "the waitlist is Doorman's own: nothing reached the backend");
}

pub async fn one_signup_per_address_and_a_second_signup_gets_a_mail_not_a_place(store: StoreKind) {
    let shop = Shop::start(store);
    shop.open("gala", "").await;
    let mut jar = Jar::default();
    shop.sign_up(&mut jar, "gala", "ada@example.com", "1").await;
    let again = shop.sign_up(&mut jar, "gala", " ADA@example.com ", "3").await;
    assert!(again.html.contains("Check your mail"), "the same answer as the first time");
    let mails = shop.wait_mails(2).await;
    assert!(mails.iter().all(|m| m.subject.starts_with("Confirm your place")), "a fresh link while pending");
    // Both links point to the one signup: confirming either gives place 1, and only once.
    let first = confirm(&shop, &mut jar, &mails[0]).await;
    assert!(first.html.contains("Your place in line: 1"), "{}", first.html);
    let second = confirm(&shop, &mut jar, &mails[1]).await;
    assert!(second.html.contains("Your place in line: 1"), "{}", second.html);
    let (_, settings) = shop.admin("GET", "/v1/events/gala/waitlist", "").await;
    assert_eq!(settings["confirmed_signups"], 1, "one signup, counted once");
    // Once confirmed, another signup for the address sends "already on the list".
    shop.sign_up(&mut jar, "gala", "ada@example.com", "2").await;
    let mails = shop.wait_mails(4).await;
    assert!(mails.iter().any(|m| m.subject.starts_with("You are already on the waitlist")));
    assert!(mails.iter().any(|m| m.subject.starts_with("You are on the waitlist")));
}

pub async fn signed_in_customers_see_their_signups_and_cancel_them(store: StoreKind) {
    let shop = Shop::start(store);
    shop.open("gala", "").await;
    shop.open("jazz", "").await;
    let mut signed_in = Jar::default();
    let mine = shop.get(&mut signed_in, "/waitlist/mine").await;
    assert!(mine.html.contains("Sign in to the shop"), "signed out: {}", mine.html);
    signed_in.set("shop_session", &session("cust-42"));
    shop.sign_up(&mut signed_in, "gala", "ada@example.com", "2").await;
    shop.sign_up(&mut signed_in, "jazz", "ada@example.com", "1").await;
    let mails = shop.wait_mails(2).await;
    let gala = mails.iter().find(|m| m.subject.contains("gala")).unwrap();
    assert!(confirm(&shop, &mut signed_in, gala).await.html.contains("place in line: 1"));

    let mine = shop.get(&mut signed_in, "/waitlist/mine").await;
    assert_eq!(mine.status, 200);
    assert!(mine.html.contains("The gala night") && mine.html.contains("The jazz night"), "{}", mine.html);
    assert!(mine.html.contains("Confirmed") && mine.html.contains("Waiting for confirmation"));

    // Someone else cannot cancel it, even knowing its id.
    let id = mine.html.split("name=\"id\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let event =
        mine.html.split("name=\"event\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let mut eve = Jar::default();
    eve.set("shop_session", &session("cust-666"));
    assert_eq!(cancel(&shop, &mut eve, &event, &id).await.status, 404, "not Eve's signup");
    // A CSRF cookie and token made for someone else, tossed into the customer's browser by a
    // sibling site that can set cookies, do not pass: the token names another session.
    for attacker_session in [None, Some(session("cust-666"))] {
        let mut attacker = Jar::default();
        if let Some(s) = &attacker_session {
            attacker.set("shop_session", s);
        }
        let tossed = shop.get(&mut attacker, "/waitlist/gala").await.csrf();
        let mut victim = Jar::default();
        victim.set("shop_session", &session("cust-42"));
        victim.set("doorman_csrf", &attacker.get("doorman_csrf").unwrap());
        let page = cancel_with(&shop, &mut victim, &event, &id, &tossed).await;
        assert_eq!(page.status, 403, "a tossed pair ({attacker_session:?})");
        assert!(page.html.contains("The form has expired"), "{}", page.html);
    }
    // An old session of the same customer, signed by the shop but expired: signs nobody in.
    let mut expired = Jar::default();
    expired.set("shop_session", &session_expiring("cust-42", -60));
    let mine = shop.get(&mut expired, "/waitlist/mine").await;
    assert!(mine.html.contains("Sign in to the shop"), "an expired session lists nothing: {}", mine.html);
    assert!(!mine.html.contains("The gala night"), "{}", mine.html);
    assert_eq!(
        cancel(&shop, &mut expired, &event, &id).await.status,
        403,
        "an expired session cannot cancel"
    );
    let mut anonymous = Jar::default();
    assert_eq!(cancel(&shop, &mut anonymous, &event, &id).await.status, 403, "no session, no cancel");

    let done = cancel(&shop, &mut signed_in, &event, &id).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("Your signup is cancelled"));
    let mine = shop.get(&mut signed_in, "/waitlist/mine").await;
    assert!(mine.html.contains("Cancelled"), "{}", mine.html);

    // Staff offer seats of another event: my signups leads to the offer's page.
    shop.open("opera", "").await;
    shop.sign_up(&mut signed_in, "opera", "ada@example.com", "1").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let opera = loop {
        if let Some(m) = shop.mails().into_iter().find(|m| m.subject.contains("opera")) {
            break m;
        }
        assert!(std::time::Instant::now() < deadline, "the opera's confirmation mail");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    confirm(&shop, &mut signed_in, &opera).await;
    let (_, list) = shop.admin("GET", "/v1/events/opera/waitlist/signups", "").await;
    let body = format!(
        r#"{{"signup": "{}", "link": "https://pay.example/r/1"}}"#,
        list["signups"][0]["id"].as_str().unwrap()
    );
    let (status, made) = shop.admin("POST", "/v1/events/opera/waitlist/offers", &body).await;
    assert_eq!(status, 201, "{made}");
    let mine = shop.get(&mut signed_in, "/waitlist/mine").await;
    let link = mine.html.split("href=\"/waitlist/offer?c=").nth(1).expect("the offer's link on my signups");
    let link = format!("/waitlist/offer?c={}", link.split('"').next().unwrap().replace("&#38;", "&"));
    let offer = shop.get(&mut signed_in, &link).await;
    assert!(offer.html.contains("Decline the offer") && offer.html.contains("pay.example"), "{}", offer.html);
}

pub async fn blacklisted_customers_get_the_normal_answer_and_nothing_is_kept(store: StoreKind) {
    let shop = Shop::start(store);
    shop.open("gala", "").await;
    assert_eq!(shop.admin("POST", "/v1/blacklist", r#"{"email": "eve@example.com"}"#).await.0, 201);
    assert_eq!(shop.admin("POST", "/v1/blacklist", r#"{"account": "cust-666"}"#).await.0, 201);
    let mut eve = Jar::default();
    let page = shop.sign_up(&mut eve, "gala", "Eve@Example.com", "2").await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("Check your mail"), "the normal answer");
    let mut signed_in = Jar::default();
    signed_in.set("shop_session", &session("cust-666"));
    let page = shop.sign_up(&mut signed_in, "gala", "other@example.com", "2").await;
    assert!(page.html.contains("Check your mail"), "blacklisted by account");
    // A customer in good standing still gets their mail, so the sender is working.
    shop.sign_up(&mut Jar::default(), "gala", "ada@example.com", "1").await;
    let mails = shop.wait_mails(1).await;
    assert!(mails[0].to.contains("ada@example.com"), "no mail for the blacklisted: {:?}", mails[0].to);
    let mine = shop.get(&mut signed_in, "/waitlist/mine").await;
    assert!(mine.html.contains("no waitlist signups"), "nothing stored: {}", mine.html);
}

pub async fn caps_deactivation_and_languages(store: StoreKind) {
    let shop = Shop::start(store);
    shop.open("gala", r#", "max_tickets_total": 3, "languages": ["nl", "en"]"#).await;
    let mut jar = Jar::default();
    // The first offered language is the default; Accept-Language and ?lang= choose among them.
    let form = shop.get(&mut jar, "/waitlist/gala").await;
    assert!(form.html.contains("lang=\"nl\"") && form.html.contains("Op de wachtlijst"), "{}", form.html);
    let german = shop.get(&mut jar, "/waitlist/gala?lang=de").await;
    assert!(german.html.contains("Op de wachtlijst"), "German is not offered for this event");
    let english = shop.get(&mut jar, "/waitlist/gala?lang=en").await;
    assert!(english.html.contains("Join the waitlist"));

    shop.sign_up(&mut jar, "gala", "ada@example.com", "2").await;
    shop.sign_up(&mut jar, "gala", "bob@example.com", "2").await;
    let mails = shop.wait_mails(2).await;
    assert!(confirm(&shop, &mut jar, &mails[0]).await.html.contains("place in line: 1"));
    let full = confirm(&shop, &mut jar, &mails[1]).await;
    assert_eq!(full.status, 409, "3 tickets at most: {}", full.html);
    assert!(full.html.contains("The waitlist is full"));

    // Deactivating keeps the signups; the form says closed; reactivating carries on.
    let (status, _) = shop.admin("PATCH", "/v1/events/gala/waitlist", r#"{"active": false}"#).await;
    assert_eq!(status, 200);
    let closed = shop.get(&mut jar, "/waitlist/gala?lang=en").await;
    assert_eq!(closed.status, 404);
    assert!(closed.html.contains("The waitlist is not open"));
    let (_, settings) = shop.admin("GET", "/v1/events/gala/waitlist", "").await;
    assert_eq!(settings["confirmed_signups"], 1, "deactivating kept the signup");
    shop.admin("PATCH", "/v1/events/gala/waitlist", r#"{"active": true, "max_tickets_total": null}"#).await;
    let now = confirm(&shop, &mut jar, &mails[1]).await;
    assert!(now.html.contains("place in line: 2"), "{}", now.html);
}
