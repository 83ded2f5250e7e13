//! Box office: staff sign in with their organizer's box-office token and sign customers up on
//! their behalf, with the organizer's box-office address or the customer's own, and an internal
//! note that staff and staff exports see and customers never do.

use crate::{Jar, Page, Shop, StoreKind};

const BOX_ADDRESS: &str = "box-office@harbour.test";

/// An organizer `harbour` owning `gala` (open), with a box-office address; answers its admin
/// and box-office tokens.
pub(crate) async fn harbour(shop: &Shop) -> (String, String) {
    shop.open("gala", r#", "max_tickets": 4"#).await;
    let (status, org) =
        shop.admin("POST", "/v1/organizers", r#"{"id": "harbour", "name": "Harbour Hall"}"#).await;
    assert_eq!(status, 201, "{org}");
    let admin = org["token"].as_str().unwrap().to_owned();
    assert_eq!(shop.admin("PUT", "/v1/events/gala", r#"{"organizer": "harbour"}"#).await.0, 200);
    // The organizer's own admin sets up the box office.
    let address = format!(r#"{{"box_office_address": "{BOX_ADDRESS}"}}"#);
    let (status, changed) = shop.admin_as(&admin, "PATCH", "/v1/organizers/harbour", &address).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["box_office_address"], BOX_ADDRESS);
    let (status, issued) = shop.admin_as(&admin, "POST", "/v1/organizers/harbour/box-office-token", "").await;
    assert_eq!(status, 200, "{issued}");
    let box_office = issued["token"].as_str().unwrap().to_owned();
    assert!(box_office.starts_with("box.harbour."), "{box_office}");
    (admin, box_office)
}

/// Signs in at the staff page with `token`, for `event`'s form.
pub(crate) async fn sign_in(shop: &Shop, jar: &mut Jar, token: &str) -> Page {
    let page = shop.get(jar, "/waitlist/staff?event=gala").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("type=\"password\""), "a token field that does not echo: {}", page.html);
    shop.post(jar, "/waitlist/staff", &[("csrf", &page.csrf()), ("token", token), ("event", "gala")]).await
}

/// A staff signup of the gala form with `fields` (plus the form's CSRF token).
pub(crate) async fn staff_post(shop: &Shop, jar: &mut Jar, fields: &[(&str, &str)]) -> Page {
    let csrf = shop.get(jar, "/waitlist/gala").await.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    shop.post(jar, "/waitlist/gala", &all).await
}

async fn export(shop: &Shop, token: &str) -> Vec<serde_json::Value> {
    let (status, page) = shop.admin_as(token, "GET", "/v1/events/gala/waitlist/signups", "").await;
    assert_eq!(status, 200, "{page}");
    page["signups"].as_array().unwrap().clone()
}

pub async fn staff_sign_in_and_sign_customers_up_with_notes_kept_from_customers(store: StoreKind) {
    let shop = Shop::start(store);
    let (admin, box_office) = harbour(&shop).await;
    let change = r#"{"title": "The gala night", "mail_text": {"de": "Bis bald"}}"#;
    assert_eq!(shop.admin_as(&admin, "PATCH", "/v1/events/gala/waitlist", change).await.0, 200);
    let mut staff = Jar::default();

    // A wrong token: refused, no session.
    let wrong = sign_in(&shop, &mut staff, &format!("box.harbour.{}", "0".repeat(64))).await;
    assert_eq!(wrong.status, 403);
    assert!(wrong.html.contains("That token is not valid."), "{}", wrong.html);
    assert!(staff.get("doorman_staff").is_none());

    // The right one: a session cookie (HttpOnly, SameSite=Strict, under the mount), then the form.
    let signed_in = sign_in(&shop, &mut staff, &box_office).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.html);
    assert_eq!(signed_in.headers["location"], "/waitlist/gala?lang=en");
    let set = signed_in.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect::<Vec<_>>();
    let cookie = set.iter().find(|c| c.starts_with("doorman_staff=")).expect("a staff cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/waitlist", "Max-Age="] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    assert!(!cookie.contains(&box_office), "the cookie does not carry the token");
    let form = shop.get(&mut staff, "/waitlist/gala").await;
    assert!(form.html.contains("Signed in as box-office staff of Harbour Hall."), "{}", form.html);
    assert!(form.html.contains("name=\"note\"") && form.html.contains("name=\"box_office_address\""));
    assert!(form.html.contains(BOX_ADDRESS), "the address staff would use is shown");

    // The box-office address needs a phone number; a note of markup comes back escaped.
    let page = staff_post(
        &shop,
        &mut staff,
        &[
            ("box_office_address", "on"),
            ("name", "Walk-in Wim"),
            ("tickets", "2"),
            ("note", "<b>pays cash</b>"),
        ],
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.html);
    assert!(page.html.contains("A phone number is required"), "{}", page.html);
    assert!(page.html.contains("&#60;b&#62;pays cash") && !page.html.contains("<b>pays"), "{}", page.html);
    assert!(page.html.contains("checked"), "the checkbox stays as it was");
    let long = "n".repeat(501);
    let page = staff_post(
        &shop,
        &mut staff,
        &[("email", "c@example.com"), ("name", "C"), ("tickets", "1"), ("note", &long)],
    )
    .await;
    assert_eq!(page.status, 422);
    assert!(page.html.contains("The note is too long"), "{}", page.html);

    // With a phone number: confirmed at once, the place shown, the note shown to staff.
    let page = staff_post(
        &shop,
        &mut staff,
        &[
            ("box_office_address", "on"),
            ("name", "Walk-in Wim"),
            ("phone", "+31 6 1234 5678"),
            ("tickets", "2"),
            ("note", "<b>pays cash</b>\r\nat the door"),
        ],
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Your place in line: 1"), "{}", page.html);
    assert!(page.html.contains("Internal note: &#60;b&#62;pays cash"), "{}", page.html);
    // The box office gets the "on the list" mail, with no note in it.
    let mails = shop.wait_mails(1).await;
    assert!(mails[0].to.contains(BOX_ADDRESS) && mails[0].subject.starts_with("You are on the waitlist"));
    assert!(!mails[0].raw.contains("pays cash") && !mails[0].text.contains("pays cash"), "no note in mails");
    // The same phone number again: listed already, nothing new in line.
    let page = staff_post(
        &shop,
        &mut staff,
        &[("box_office_address", "on"), ("name", "Wim"), ("phone", "+31 6 12345678"), ("tickets", "1")],
    )
    .await;
    assert!(page.html.contains("already on the waitlist"), "{}", page.html);
    // Another walk-in with the same box-office address is a signup of its own.
    let page = staff_post(
        &shop,
        &mut staff,
        &[
            ("box_office_address", "on"),
            ("name", "Walk-in Wendy"),
            ("phone", "020 555 0101"),
            ("tickets", "1"),
        ],
    )
    .await;
    assert!(page.html.contains("Your place in line: 2"), "{}", page.html);

    // With the customer's own address: double opt-in, the note kept from the customer.
    let page = staff_post(
        &shop,
        &mut staff,
        &[
            ("email", "cora@example.com"),
            ("name", "Cora"),
            ("tickets", "3"),
            ("note", "VIP: regular since 2019"),
        ],
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(
        page.html.contains("confirmation mail") && page.html.contains("cora@example.com"),
        "{}",
        page.html
    );
    assert!(page.html.contains("Internal note: VIP"), "{}", page.html);
    let mails = shop.wait_mails(4).await; // two "on the list", a reminder to the box office, Cora's
    let cora = mails.iter().find(|m| m.to.contains("cora@example.com")).expect("Cora's confirmation");
    assert!(!cora.raw.contains("VIP") && !cora.text.contains("regular since"), "no note in mails");
    let mut customer = Jar::default();
    let confirm = shop.get(&mut customer, &cora.link("confirm")).await;
    assert!(!confirm.html.contains("VIP"), "no note on the customer's pages");
    let done = shop.post(&mut customer, "/waitlist/confirm", &[("t", &cora.token("confirm"))]).await;
    assert!(done.html.contains("Your place in line: 3"), "{}", done.html);
    assert!(!done.html.contains("VIP"));
    let mails = shop.wait_mails(5).await;
    let manage = mails.iter().rev().find(|m| m.to.contains("cora@example.com")).unwrap().link("manage");
    let status = shop.get(&mut customer, &manage).await;
    assert_eq!(status.status, 200);
    assert!(!status.html.contains("VIP") && !status.html.contains("regular since"), "{}", status.html);

    // Staff's export (the box-office token) has the notes and the box-office flag, in line order.
    let rows = export(&shop, &box_office).await;
    let seen: Vec<_> = rows
        .iter()
        .map(|r| {
            (r["name"].as_str().unwrap(), r["place"].as_u64(), r["box_office"].as_bool(), r["note"].as_str())
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("Walk-in Wim", Some(1), Some(true), Some("<b>pays cash</b>\nat the door")),
            ("Walk-in Wendy", Some(2), Some(true), None),
            ("Cora", Some(3), Some(true), Some("VIP: regular since 2019")),
        ]
    );
    assert_eq!(rows[0]["email"], BOX_ADDRESS);
    assert_eq!(rows[0]["phone"], "+31 6 1234 5678");
    assert!(rows.iter().all(|r| r["account"].is_null()), "staff signups are on nobody's account");

    // A customer asks staff for their data, then to erase it: the box office does both through
    // the admin API. The data leaves staff's note out; the erasure keeps the line's numbers.
    let cora_id = rows[2]["id"].as_str().unwrap().to_owned();
    let data_path = format!("/v1/events/gala/waitlist/signups/{cora_id}/data");
    let (status, data) = shop.admin_as(&box_office, "GET", &data_path, "").await;
    assert_eq!(status, 200, "{data}");
    assert_eq!((data["email"].as_str(), data["place"].as_u64()), (Some("cora@example.com"), Some(3)));
    assert!(!data.to_string().contains("VIP"), "never staff's notes: {data}");
    let erase_path = format!("/v1/events/gala/waitlist/signups/{cora_id}/erase");
    let (status, erased) = shop.admin_as(&box_office, "POST", &erase_path, "").await;
    assert_eq!((status, erased["outcome"].as_str()), (200, Some("erased")), "{erased}");
    let (_, again) = shop.admin_as(&box_office, "POST", &erase_path, "").await;
    assert_eq!(again["outcome"], "already");
    assert_eq!(shop.admin_as(&box_office, "GET", &data_path, "").await.0, 404, "nothing left to read");
    let nobody = "/v1/events/gala/waitlist/signups/nobody/erase";
    assert_eq!(shop.admin_as(&box_office, "POST", nobody, "").await.0, 404);
    let after = export(&shop, &box_office).await;
    assert_eq!((after[2]["status"].as_str(), after[2]["email"].as_str()), (Some("cancelled"), Some("")));
    assert_eq!(after[2]["note"], serde_json::Value::Null, "staff's note went with it");

    // The organizer's audit log holds the settings change, each box-office signup and the
    // export of personal data: who, which event, what came of it; never who the customers are.
    let (status, log) = shop.admin_as(&admin, "GET", "/v1/audit?organizer=harbour", "").await;
    assert_eq!(status, 200, "{log}");
    let seen: Vec<(&str, &str, &str)> = log["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["value"] == "gala")
        .map(|r| {
            (r["action"].as_str().unwrap(), r["actor"].as_str().unwrap(), r["detail"].as_str().unwrap_or(""))
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("export_waitlist", "box-office:harbour", "3 signups, line numbers 1 to 3"),
            ("erase_signup", "box-office:harbour", "line number 3 erased by staff"),
            ("export_waitlist", "box-office:harbour", "one signup's data, line number 3"),
            ("export_waitlist", "box-office:harbour", "3 signups, line numbers 1 to 3"),
            ("staff_signup", "box-office:harbour", "confirmation mailed"),
            ("staff_signup", "box-office:harbour", "placed"),
            ("staff_signup", "box-office:harbour", "already listed"),
            ("staff_signup", "box-office:harbour", "placed"),
            ("change_waitlist", "organizer:harbour", "title, mail_text.de"),
            ("map_event", "operator", ""),
        ],
        "{log}"
    );
    let text = log.to_string();
    // The phone numbers as typed, and their digits (a bare "1234" would also be found in a
    // record's millisecond timestamp now and then).
    let phones = ["+31 6 1234 5678", "+31 6 12345678", "31612345678", "612345678"];
    for personal in ["Wim", "Wendy", "Cora", "cora@example.com", BOX_ADDRESS, "VIP", "pays cash"]
        .into_iter()
        .chain(phones)
    {
        assert!(!text.contains(personal), "{personal} in the audit log: {text}");
    }

    // Signing out ends the session: the form is the customer's again.
    let csrf = shop.get(&mut staff, "/waitlist/staff").await.csrf();
    let out = shop.post(&mut staff, "/waitlist/staff/out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 200);
    assert!(out.html.contains("You are signed out."));
    let form = shop.get(&mut staff, "/waitlist/gala").await;
    assert!(!form.html.contains("name=\"note\""), "{}", form.html);
}

pub async fn box_office_tokens_reach_waitlists_only_and_rotating_one_ends_its_sessions(store: StoreKind) {
    let shop = Shop::start(store);
    let (admin, box_office) = harbour(&shop).await;
    let (status, _) = shop.admin("POST", "/v1/organizers", r#"{"id": "river", "name": "River Club"}"#).await;
    assert_eq!(status, 201);
    shop.open("jazz", "").await;
    assert_eq!(shop.admin("PUT", "/v1/events/jazz", r#"{"organizer": "river"}"#).await.0, 200);

    // What a box-office token reaches: its organizer's waitlists, to read and export.
    let bo = |method: &'static str, path: &'static str, json: &'static str| {
        let token = box_office.clone();
        let shop = &shop;
        async move { shop.admin_as(&token, method, path, json).await.0 }
    };
    assert_eq!(bo("GET", "/v1/events/gala/waitlist", "").await, 200);
    assert_eq!(bo("GET", "/v1/events/gala/waitlist/signups?format=csv", "").await, 200);
    // And nothing else.
    assert_eq!(bo("PATCH", "/v1/events/gala/waitlist", r#"{"active": false}"#).await, 403, "no settings");
    assert_eq!(bo("GET", "/v1/events/jazz/waitlist", "").await, 403, "another organizer's event");
    assert_eq!(bo("GET", "/v1/events/jazz/waitlist/signups", "").await, 403);
    assert_eq!(bo("GET", "/v1/blacklist", "").await, 403, "no blacklist");
    assert_eq!(bo("POST", "/v1/blacklist", r#"{"email": "x@example.com"}"#).await, 403);
    assert_eq!(bo("POST", "/v1/blacklist/remove", r#"{"email": "x@example.com"}"#).await, 403);
    assert_eq!(bo("GET", "/v1/blacklist/export", "").await, 403);
    assert_eq!(bo("POST", "/v1/hash-email", r#"{"email": "x@example.com"}"#).await, 403);
    assert_eq!(bo("GET", "/v1/audit", "").await, 403);
    assert_eq!(bo("GET", "/v1/organizers/harbour", "").await, 403);
    assert_eq!(bo("PATCH", "/v1/organizers/harbour", r#"{"box_office_address": null}"#).await, 403);
    assert_eq!(bo("POST", "/v1/organizers/harbour/box-office-token", "").await, 403, "no new tokens");
    assert_eq!(bo("GET", "/metrics", "").await, 403);
    let (status, settings) = shop.admin("GET", "/v1/events/gala/waitlist", "").await;
    assert_eq!((status, settings["settings"]["active"].as_bool()), (200, Some(true)), "nothing changed");
    // An organizer's admin manages only its own box office.
    assert_eq!(shop.admin_as(&admin, "POST", "/v1/organizers/river/box-office-token", "").await.0, 403);
    assert_eq!(shop.admin_as(&admin, "GET", "/v1/organizers/river", "").await.0, 403);
    let (status, view) = shop.admin_as(&admin, "GET", "/v1/organizers/harbour", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        (view["box_office_address"].as_str(), view["box_office_token"].as_bool()),
        (Some(BOX_ADDRESS), Some(true))
    );
    assert!(view.get("token_digest").is_none() && !view.to_string().contains(&box_office));
    // Bad setup input is named.
    for bad in [
        r#"{"box_office_address": "not an address"}"#,
        r#"{"box_office_address": "a@b.c\r\nBcc: x@y.z"}"#,
        r#"{"colour": "red"}"#,
        r#"{"name": ""}"#,
        r#"{"retention_days": 0}"#,
        r#"{"retention_days": 3651}"#,
        r#"{"retention_days": "30"}"#,
    ] {
        assert_eq!(shop.admin_as(&admin, "PATCH", "/v1/organizers/harbour", bad).await.0, 400, "{bad}");
    }
    assert_eq!(view["retention_days"], 30, "the default: {view}");
    let (status, view) =
        shop.admin_as(&admin, "PATCH", "/v1/organizers/harbour", r#"{"retention_days": 90}"#).await;
    assert_eq!((status, view["retention_days"].as_u64()), (200, Some(90)), "{view}");
    let (_, view) =
        shop.admin_as(&admin, "PATCH", "/v1/organizers/harbour", r#"{"retention_days": null}"#).await;
    assert_eq!(view["retention_days"], 30, "null restores the default: {view}");
    assert_eq!(shop.admin("GET", "/v1/organizers/nobody", "").await.0, 404);
    // The changes are in the organizer's audit log, by who made them.
    let (_, log) = shop.admin_as(&admin, "GET", "/v1/audit", "").await;
    let actions: Vec<_> =
        log["records"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap().to_owned()).collect();
    assert!(
        actions.contains(&"change_organizer".into()) && actions.contains(&"rotate_box_office_token".into()),
        "{log}"
    );

    // A staff session; a box-office token of another organizer signs in for its own events only.
    let mut staff = Jar::default();
    assert_eq!(sign_in(&shop, &mut staff, &box_office).await.status, 303);
    let jazz = shop.get(&mut staff, "/waitlist/jazz").await;
    assert!(!jazz.html.contains("name=\"note\""), "not staff of jazz's organizer: {}", jazz.html);
    assert!(shop.get(&mut staff, "/waitlist/gala").await.html.contains("name=\"note\""));
    // The organizer's admin signs in with the admin token, as an admin.
    let mut boss = Jar::default();
    assert_eq!(sign_in(&shop, &mut boss, &admin).await.status, 303);
    let page = shop.get(&mut boss, "/waitlist/gala").await;
    assert!(
        page.html.contains("Signed in as an admin of") && page.html.contains("name=\"note\""),
        "{}",
        page.html
    );
    assert!(
        !shop.get(&mut boss, "/waitlist/jazz").await.html.contains("name=\"note\""),
        "not jazz's organizer"
    );

    // A new box-office token: the old one and the session opened with it stop working at once.
    let (_, issued) = shop.admin_as(&admin, "POST", "/v1/organizers/harbour/box-office-token", "").await;
    let fresh = issued["token"].as_str().unwrap().to_owned();
    assert_eq!(shop.admin_as(&box_office, "GET", "/v1/events/gala/waitlist", "").await.0, 401);
    assert_eq!(shop.admin_as(&fresh, "GET", "/v1/events/gala/waitlist", "").await.0, 200);
    assert!(
        !shop.get(&mut staff, "/waitlist/gala").await.html.contains("name=\"note\""),
        "the session ended"
    );
    let page = staff_post(
        &shop,
        &mut staff,
        &[("email", "d@example.com"), ("name", "D"), ("tickets", "1"), ("note", "x")],
    )
    .await;
    assert_eq!(page.status, 403, "{}", page.html);
    assert_eq!(sign_in(&shop, &mut staff, &box_office).await.status, 403, "the old token");
    assert_eq!(sign_in(&shop, &mut staff, &fresh).await.status, 303);
    assert!(shop.get(&mut staff, "/waitlist/gala").await.html.contains("name=\"note\""));
    // Without an address set up there is no box-office checkbox, and sending it anyway is named.
    let (status, _) =
        shop.admin_as(&admin, "PATCH", "/v1/organizers/harbour", r#"{"box_office_address": null}"#).await;
    assert_eq!(status, 200);
    let form = shop.get(&mut staff, "/waitlist/gala").await;
    assert!(form.html.contains("name=\"note\"") && !form.html.contains("name=\"box_office_address\""));
    let page = staff_post(
        &shop,
        &mut staff,
        &[("box_office_address", "on"), ("name", "E"), ("phone", "0612345678"), ("tickets", "1")],
    )
    .await;
    assert_eq!(page.status, 422);
    assert!(page.html.contains("no box-office address set up"), "{}", page.html);
}

pub async fn box_office_fields_without_a_staff_session_are_refused_and_nothing_is_stored(store: StoreKind) {
    let shop = Shop::start(store);
    let (admin, box_office) = harbour(&shop).await;
    let mut customer = Jar::default();
    assert_eq!(shop.get(&mut customer, "/waitlist/gala").await.status, 200);
    let base = [("email", "eve@example.com"), ("name", "Eve"), ("tickets", "1"), ("phone", "0612345678")];
    let with = |extra: (&'static str, &'static str)| {
        let mut f = base.to_vec();
        f.push(extra);
        f
    };
    // A customer's form carrying staff fields: refused, with the way to sign in.
    for extra in [("box_office_address", "on"), ("box_office_address", ""), ("note", "let me in")] {
        let page = staff_post(&shop, &mut customer, &with(extra)).await;
        assert_eq!(page.status, 403, "{extra:?}: {}", page.html);
        assert!(page.html.contains("Box-office fields need a box-office sign-in"), "{}", page.html);
        assert!(page.html.contains("/waitlist/staff?event=gala"));
    }
    // A forged, altered or foreign staff cookie is no session.
    let forged = [
        "harbour:0123456789abcdef.9999999999.AAAA".to_owned(),
        format!("harbour:{}.{}.x", "a".repeat(16), u32::MAX),
        box_office.clone(),
        admin.clone(),
    ];
    for value in forged {
        let mut jar = customer.clone();
        jar.set("doorman_staff", &value);
        let page = staff_post(&shop, &mut jar, &with(("note", "x"))).await;
        assert_eq!(page.status, 403, "{value}");
    }
    // The sign-in form itself: no CSRF token, a token too long, a field twice, a GET body.
    let mut jar = Jar::default();
    assert_eq!(
        shop.post(&mut jar, "/waitlist/staff", &[("token", &box_office)]).await.status,
        403,
        "no CSRF"
    );
    assert!(jar.get("doorman_staff").is_none());
    let staff_page = shop.get(&mut jar, "/waitlist/staff").await;
    assert_eq!(staff_page.status, 200);
    let csrf = staff_page.csrf();
    let long = format!("box.harbour.{}", "a".repeat(5000));
    assert_eq!(
        shop.post(&mut jar, "/waitlist/staff", &[("csrf", &csrf), ("token", &long)]).await.status,
        403
    );
    let twice = format!("csrf={csrf}&token={box_office}&token={box_office}");
    assert_eq!(shop.post_raw(&mut jar, "/waitlist/staff", twice.into_bytes()).await.status, 400);
    let evil = shop
        .post(
            &mut jar,
            "/waitlist/staff",
            &[("csrf", &csrf), ("token", &box_office), ("event", "//evil.example")],
        )
        .await;
    assert_eq!(evil.status, 303);
    assert_eq!(evil.headers["location"], "/waitlist/staff?lang=en", "no open redirect");
    assert_eq!(shop.post(&mut jar, "/waitlist/staff/out", &[]).await.status, 403, "sign-out needs CSRF too");
    assert_eq!(shop.get(&mut jar, "/waitlist/staff/out").await.status, 405);

    // Nothing was stored and nothing mailed.
    let (status, page) = shop.admin("GET", "/v1/events/gala/waitlist/signups", "").await;
    assert_eq!(status, 200);
    assert_eq!(page["signups"].as_array().unwrap().len(), 0, "{page}");
    let (_, settings) = shop.admin("GET", "/v1/events/gala/waitlist", "").await;
    assert_eq!(settings["confirmed_signups"], 0);
    assert_eq!(shop.mails_queued().await, 0, "nothing queued for mailing");
}
