//! Bad input: each gets a clear answer, and nothing is half-stored.

use doorman::core::waitlist::link::{Kind, Signer};

use crate::{Jar, Shop, StoreKind, LINK_KEY};

/// The signup form's CSRF token (its cookie goes into `jar`).
async fn form_csrf(shop: &Shop, jar: &mut Jar, event: &str) -> String {
    let form = shop.get(jar, &format!("/waitlist/{event}")).await;
    assert_eq!(form.status, 200);
    form.csrf()
}

pub async fn malformed_fields_are_refused_field_by_field_and_nothing_is_stored(store: StoreKind) {
    let shop = Shop::start(store);
    shop.open("gala", r#", "max_tickets": 4"#).await;
    let mut jar = Jar::default();
    let csrf = form_csrf(&shop, &mut jar, "gala").await;
    let cases: &[(&str, &str, &str, &str)] = &[
        // (email, name, tickets, the message expected)
        ("ada@example.com", "Ada", "0", "Choose a number of tickets from 1 to 4."),
        ("ada@example.com", "Ada", "-1", "Choose a number of tickets"),
        ("ada@example.com", "Ada", "5", "Choose a number of tickets"),
        ("ada@example.com", "Ada", "", "Choose a number of tickets"),
        ("ada@example.com", "Ada", "two", "Choose a number of tickets"),
        ("ada@example.com", "Ada", "1.5", "Choose a number of tickets"),
        ("ada@example.com", "Ada", "99999999999999999999", "Choose a number of tickets"),
        ("not-an-address", "Ada", "1", "Enter a valid e-mail address"),
        ("ada@example.com\r\nBcc: all@example.com", "Ada", "1", "Enter a valid e-mail address"),
        ("<script>@example.com", "Ada", "1", "Enter a valid e-mail address"),
        ("ada@example.com", "", "1", "Enter a name."),
        ("ada@example.com", "Ada\r\nSubject: spam", "1", "The name is too long"),
    ];
    for (email, name, tickets, expected) in cases {
        let page = shop
            .post(
                &mut jar,
                "/waitlist/gala",
                &[("csrf", &csrf), ("email", email), ("name", name), ("tickets", tickets)],
            )
            .await;
        assert_eq!(page.status, 422, "{email:?} {name:?} {tickets:?}");
        assert!(page.html.contains(expected), "{email:?} {name:?} {tickets:?}: {}", page.html);
        assert!(page.html.contains("aria-invalid=\"true\""), "the wrong field is marked");
    }
    // Markup typed into a field comes back escaped, never as markup.
    let page = shop
        .post(
            &mut jar,
            "/waitlist/gala",
            &[("csrf", &csrf), ("email", "x"), ("name", "<img src=x onerror=alert(1)>"), ("tickets", "1")],
        )
        .await;
    assert!(!page.html.contains("<img src=x") && page.html.contains("&#60;img src=x"), "{}", page.html);
    // The honeypot: a bot gets the normal answer and nothing is kept.
    let page = shop
        .post(
            &mut jar,
            "/waitlist/gala",
            &[
                ("csrf", &csrf),
                ("email", "bot@example.com"),
                ("name", "Bot"),
                ("tickets", "1"),
                ("website", "http://spam"),
            ],
        )
        .await;
    assert!(page.html.contains("Check your mail"));
    // A field sent twice could be read two ways: refused.
    let twice = format!("csrf={csrf}&email=a%40example.com&name=A&tickets=1&tickets=4");
    assert_eq!(shop.post_raw(&mut jar, "/waitlist/gala", twice.into_bytes()).await.status, 400);
    // A body over 16 KiB.
    let big = format!("csrf={csrf}&name={}", "a".repeat(20_000));
    assert_eq!(shop.post_raw(&mut jar, "/waitlist/gala", big.into_bytes()).await.status, 413);
    // Not UTF-8.
    let latin =
        [b"csrf=".as_slice(), csrf.as_bytes(), b"&email=a%40b.de&name=Jos%E9&tickets=1".as_slice()].concat();
    assert_eq!(
        shop.post_raw(&mut jar, "/waitlist/gala", latin).await.status,
        400,
        "read strictly or not at all"
    );

    // Nothing was stored, nothing queued for mailing, nothing counted.
    assert_eq!(shop.mails_queued().await, 0, "nothing queued: {:?}", shop.mails());
    let (_, settings) = shop.admin("GET", "/v1/events/gala/waitlist", "").await;
    assert_eq!(settings["confirmed_signups"], 0);
}

pub async fn forms_without_a_valid_csrf_token_are_refused(store: StoreKind) {
    let shop = Shop::start(store);
    shop.open("gala", "").await;
    let fields = [("email", "ada@example.com"), ("name", "Ada"), ("tickets", "1")];
    // No cookie, no field.
    let page = shop.post(&mut Jar::default(), "/waitlist/gala", &fields).await;
    assert_eq!(page.status, 403);
    assert!(page.html.contains("The form has expired"));
    // A field that does not match the cookie.
    let mut jar = Jar::default();
    let csrf = form_csrf(&shop, &mut jar, "gala").await;
    let mut with = fields.to_vec();
    with.push(("csrf", "forged.9999999999.AAAA"));
    assert_eq!(shop.post(&mut jar, "/waitlist/gala", &with).await.status, 403);
    // A cookie and field that match but were not signed by Doorman.
    let mut forged = Jar::default();
    forged.set("doorman_csrf", "mine.9999999999.AAAA");
    let mut with = fields.to_vec();
    with.push(("csrf", "mine.9999999999.AAAA"));
    assert_eq!(shop.post(&mut forged, "/waitlist/gala", &with).await.status, 403);
    // Another kind of Doorman token (a manage link's) is no CSRF token.
    let signer = Signer::new(LINK_KEY.as_bytes()).unwrap();
    let other_kind = signer.seal(Kind::Manage, "x", 9_999_999_999);
    let mut wrong = Jar::default();
    wrong.set("doorman_csrf", &other_kind);
    let mut with = fields.to_vec();
    with.push(("csrf", &other_kind));
    assert_eq!(shop.post(&mut wrong, "/waitlist/gala", &with).await.status, 403);
    // The cookie's own value sent back (plain double submit) is not the form's token.
    let mut with = fields.to_vec();
    let cookie_value = jar.get("doorman_csrf").unwrap();
    with.push(("csrf", &cookie_value));
    assert_eq!(shop.post(&mut jar, "/waitlist/gala", &with).await.status, 403);
    // The token of another cookie of ours does not pass with this one.
    let other = form_csrf(&shop, &mut Jar::default(), "gala").await;
    let mut with = fields.to_vec();
    with.push(("csrf", &other));
    assert_eq!(shop.post(&mut jar, "/waitlist/gala", &with).await.status, 403);
    // The right one works.
    let mut with = fields.to_vec();
    with.push(("csrf", &csrf));
    assert_eq!(shop.post(&mut jar, "/waitlist/gala", &with).await.status, 200);
    let cookie = shop.get(&mut Jar::default(), "/waitlist/gala").await.headers["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/waitlist"),
        "{cookie}"
    );
}

pub async fn links_that_are_replayed_expired_tampered_or_guessed(store: StoreKind) {
    let shop = Shop::start(store);
    shop.open("gala", "").await;
    let mut jar = Jar::default();
    shop.sign_up(&mut jar, "gala", "ada@example.com", "1").await;
    let mail = shop.wait_mails(1).await.remove(0);
    let token = mail.token("confirm");

    // Tampered: another signup id, a pushed expiry, a cut MAC.
    let (body, _) = token.rsplit_once('.').unwrap();
    let (signup, expires) = body.rsplit_once('.').unwrap();
    for bad in [
        format!("{}x.{expires}.{}", signup, token.rsplit_once('.').unwrap().1),
        format!("{signup}.{}.{}", expires.parse::<u64>().unwrap() + 1, token.rsplit_once('.').unwrap().1),
        token[..token.len() - 3].to_owned(),
        "garbage".to_owned(),
        String::new(),
    ] {
        let page = shop.post(&mut jar, "/waitlist/confirm", &[("t", &bad)]).await;
        assert_eq!(page.status, 404, "{bad}");
        assert!(page.html.contains("This link does not work"), "{}", page.html);
    }
    // A manage link is no confirmation link, and the other way round.
    let manage = mail.token("manage");
    assert_eq!(shop.post(&mut jar, "/waitlist/confirm", &[("t", &manage)]).await.status, 404);
    assert_eq!(shop.get(&mut jar, &format!("/waitlist/manage?t={token}")).await.status, 404);
    // Expired: sealed with the right key, but past its time.
    let signer = Signer::new(crate::LINK_KEY.as_bytes()).unwrap();
    let expired = signer.seal(Kind::Confirm, signup, 1_000_000);
    let page = shop.post(&mut jar, "/waitlist/confirm", &[("t", &expired)]).await;
    assert_eq!(page.status, 410);
    assert!(
        page.html.contains("This link has expired") && page.html.contains("href=\"/waitlist/gala\""),
        "{}",
        page.html
    );
    // Guessed: a well-signed link to a signup that does not exist.
    let guessed = signer.seal(Kind::Confirm, "gala.AAAAAAAAAAAAAAAAAAAAAA", 9_999_999_999);
    assert_eq!(shop.post(&mut jar, "/waitlist/confirm", &[("t", &guessed)]).await.status, 410);

    // Used once: confirmed; replayed: "already used", still one signup.
    assert!(shop
        .post(&mut jar, "/waitlist/confirm", &[("t", &token)])
        .await
        .html
        .contains("place in line: 1"));
    let replay = shop.post(&mut jar, "/waitlist/confirm", &[("t", &token)]).await;
    assert_eq!(replay.status, 200);
    assert!(replay.html.contains("This link was already used") && replay.html.contains("place in line: 1"));
    let (_, settings) = shop.admin("GET", "/v1/events/gala/waitlist", "").await;
    assert_eq!(settings["confirmed_signups"], 1);
    // Cancelling with a forged manage link does nothing.
    let csrf = form_csrf(&shop, &mut jar, "gala").await;
    let forged = signer.seal(Kind::Manage, "gala.BBBBBBBBBBBBBBBBBBBBBB", 9_999_999_999);
    assert_eq!(shop.post(&mut jar, "/waitlist/cancel", &[("t", &forged), ("csrf", &csrf)]).await.status, 404);
    let (_, settings) = shop.admin("GET", "/v1/events/gala/waitlist", "").await;
    assert_eq!(settings["confirmed_signups"], 1);
}

pub async fn requests_that_are_not_forms_of_ours(store: StoreKind) {
    let shop = Shop::start(store);
    shop.open("gala", "").await;
    let mut jar = Jar::default();
    // An event without a waitlist, or not sold out: closed, and nothing stored.
    assert_eq!(shop.get(&mut jar, "/waitlist/spring").await.status, 404);
    shop.admin("PATCH", "/v1/events/open-air/waitlist", r#"{"active": true}"#).await;
    let closed = shop.get(&mut jar, "/waitlist/open-air").await;
    assert_eq!(closed.status, 404, "active but not sold out");
    let csrf = form_csrf(&shop, &mut jar, "gala").await;
    let fields = [("csrf", csrf.as_str()), ("email", "ada@example.com"), ("name", "Ada"), ("tickets", "1")];
    let page = shop.post(&mut jar, "/waitlist/open-air", &fields).await;
    assert_eq!(page.status, 404);
    assert!(page.html.contains("The waitlist is not open"));
    // Paths and methods of ours that are wrong.
    assert_eq!(shop.get(&mut jar, "/waitlist/Not%20A%20Slug").await.status, 404);
    assert_eq!(shop.get(&mut jar, "/waitlist/cancel").await.status, 405);
    assert_eq!(shop.post(&mut jar, "/waitlist/manage", &[]).await.status, 405);
    // Paths that only look like ours are the backend's.
    assert_eq!(shop.get(&mut jar, "/waitlisting").await.status, shop.backend_status("/waitlisting").await);
    // Admin settings are checked.
    for bad in [r#"{"max_tickets": 0}"#, r#"{"languages": ["fr"]}"#, r#"{"unknown": true}"#, "not json"] {
        let (status, answer) = shop.admin("PATCH", "/v1/events/gala/waitlist", bad).await;
        assert_eq!(status, 400, "{bad}: {answer}");
        assert!(answer["error"].is_string());
    }
    assert_eq!(shop.admin("PATCH", "/v1/events/Bad%20Event/waitlist", "{}").await.0, 400);
    assert_eq!(shop.mails_queued().await, 0, "nothing queued");
}

pub async fn rate_limits_per_address_and_per_client(store: StoreKind) {
    let shop = Shop::start_with(store, "posts_per_network_per_10_minutes = 60\n", &[], None);
    shop.open("gala", "").await;
    let mut jar = Jar::default();
    let csrf = form_csrf(&shop, &mut jar, "gala").await;
    // The same address: the sixth attempt within the hour is refused.
    for i in 0..6 {
        let page = shop
            .post(
                &mut jar,
                "/waitlist/gala",
                &[("csrf", &csrf), ("email", "ada@example.com"), ("name", "Ada"), ("tickets", "1")],
            )
            .await;
        if i < 5 {
            assert_eq!(page.status, 200, "attempt {i}");
        } else {
            assert_eq!(page.status, 429);
            assert!(page.html.contains("Too many attempts") && page.headers.contains_key("retry-after"));
        }
    }
    // One browser session: 30 posts per 10 minutes, whatever the addresses.
    let mut refused = 0;
    for i in 0..30 {
        let email = format!("guest{i}@example.com");
        let page = shop
            .post(
                &mut jar,
                "/waitlist/gala",
                &[("csrf", &csrf), ("email", &email), ("name", "G"), ("tickets", "1")],
            )
            .await;
        refused += usize::from(page.status == 429);
    }
    assert_eq!(refused, 6, "24 of the 30 fit after the first 6 posts");
    // Other customers at the same address (behind one carrier NAT), each in their own browser,
    // go on: up to the network's 60 posts per 10 minutes (30 so far), then the form refuses.
    for i in 0..30 {
        let page = shop.sign_up(&mut Jar::default(), "gala", &format!("crowd{i}@example.com"), "1").await;
        assert_eq!(page.status, 200, "customer {i} behind the NAT");
    }
    let page = shop.sign_up(&mut Jar::default(), "gala", "late@example.com", "1").await;
    assert_eq!(page.status, 429);
    assert!(page.html.contains("Too many attempts"));
}
