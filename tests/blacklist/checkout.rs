//! What customers meet at checkout (every case runs on both stores; see `both_stores!`).

use std::time::Duration;

use http::Request;

use crate::support::client::{body, get, send, Echo};
use crate::support::doorman::{policy, Doorman};
use crate::{Shop, StoreKind};

pub async fn blacklisted_guest_lands_back_on_the_event_page_and_nothing_reaches_the_backend(
    store: StoreKind,
) {
    let shop = Shop::start(store, "");
    let (status, entry) =
        shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com", "reason": "fraud"}"#).await;
    assert_eq!(status, 201, "{entry}");
    assert!(!entry.to_string().contains("mallory"), "the raw address is echoed: {entry}");

    let before = shop.backend_requests();
    let (resp, bytes) = shop.checkout_form("spring-concert", "email=mallory%40example.com&quantity=2").await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/echo/spring-concert");
    assert!(bytes.is_empty(), "no message in the body");
    assert!(!resp.headers().contains_key("set-cookie"), "no new cookies");
    assert!(resp.headers().contains_key("x-request-id"), "looks like every other answer");
    for (name, _) in resp.headers() {
        assert!(!name.as_str().contains("doorman") && !name.as_str().contains("blacklist"), "{name}");
    }
    assert_eq!(shop.backend_requests(), before, "the blocked checkout reached the backend");

    let (resp, _) = get(&shop.doorman.url("/echo/spring-concert")).await;
    assert_eq!(resp.status(), 200, "browsing still works for the blacklisted customer");
    let log = shop.doorman.log();
    assert!(log.contains("checkout quietly turned back"), "{log}");
    assert!(!log.contains("mallory"), "the raw address reached the log");
}

pub async fn everyone_else_is_forwarded_byte_for_byte(store: StoreKind) {
    let shop = Shop::start(store, "");
    shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;
    let form = "email=ada%40example.com&quantity=2&note=%E2%9C%93+caf%C3%A9";
    let (resp, bytes) = shop.checkout_form("spring-concert", form).await;
    assert_eq!(resp.status(), 200);
    let echo = Echo::parse(&bytes);
    assert_eq!(echo.0["body"], form);
    assert_eq!(echo.header("content-type").as_deref(), Some("application/x-www-form-urlencoded"));
    assert_eq!(echo.header("content-length").as_deref(), Some(form.len().to_string().as_str()));
}

pub async fn javascript_checkouts_get_the_json_answer(store: StoreKind) {
    let shop = Shop::start(store, "");
    shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;
    let req = Request::post(shop.doorman.url("/echo/summer-gala/checkout"))
        .header("content-type", "application/json")
        .body(body(r#"{"customer": {"email": "Mallory@Example.com"}, "quantity": 1}"#))
        .unwrap();
    let (resp, bytes) = send(req).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(json, serde_json::json!({"redirect": "/echo/summer-gala"}));
}

pub async fn accounts_from_header_and_body_fields(store: StoreKind) {
    let shop = Shop::start(store, "");
    let (status, _) = shop.admin("POST", "/v1/blacklist", r#"{"account": "eve-42"}"#).await;
    assert_eq!(status, 201);
    let req = Request::post(shop.doorman.url("/echo/spring-concert/checkout"))
        .header("x-account", "eve-42")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body("quantity=1"))
        .unwrap();
    assert_eq!(send(req).await.0.status(), 303, "account from the trusted header");
    let (resp, _) = shop.checkout_form("spring-concert", "account=eve-42&quantity=1").await;
    assert_eq!(resp.status(), 303, "account from the body field");
    let (resp, _) = shop.checkout_form("spring-concert", "account=alice&quantity=1").await;
    assert_eq!(resp.status(), 200, "another account passes");
}

pub async fn organizer_entries_apply_only_to_that_organizers_events(store: StoreKind) {
    let shop = Shop::start(store, "");
    assert_eq!(
        shop.admin("PUT", "/v1/events/spring-concert", r#"{"organizer": "harbour-hall"}"#).await.0,
        200
    );
    assert_eq!(shop.admin("PUT", "/v1/events/summer-gala", r#"{"organizer": "city-arts"}"#).await.0, 200);
    let (status, entry) = shop
        .admin("POST", "/v1/blacklist", r#"{"email": "trent@example.com", "organizer": "harbour-hall"}"#)
        .await;
    assert_eq!(status, 201);
    assert_eq!(entry["organizer"], "harbour-hall");
    assert!(entry.get("warning").is_none(), "harbour-hall has an event: {entry}");
    let form = "email=trent%40example.com&quantity=1";
    assert_eq!(shop.checkout_form("spring-concert", form).await.0.status(), 303, "harbour-hall's event");
    assert_eq!(shop.checkout_form("summer-gala", form).await.0.status(), 200, "another organizer's event");
    assert_eq!(
        shop.checkout_form("unmapped-event", form).await.0.status(),
        200,
        "an event with no organizer"
    );
    let (status, entry) = shop
        .admin("POST", "/v1/blacklist", r#"{"email": "trent@example.com", "organizer": "no-events-yet"}"#)
        .await;
    assert_eq!(status, 201);
    let warning = entry["warning"].as_str().expect("a warning for an organizer with no mapped event");
    assert!(warning.contains("no-events-yet") && warning.contains("/v1/events/"), "{warning}");
    let metrics = shop.metrics().await;
    assert!(metrics.contains("doorman_checkout_unmapped_events_total 1"), "{metrics}");
    let (_, list) = shop.admin("GET", "/v1/blacklist?organizer=city-arts", "").await;
    assert_eq!(list["entries"].as_array().unwrap().len(), 0);
    let (_, list) = shop.admin("GET", "/v1/blacklist?organizer=harbour-hall", "").await;
    assert_eq!(list["entries"].as_array().unwrap().len(), 1); // The warning follows events as they move (mapping the same event twice counts once).
    let warned = async |organizer: &str| {
        let body = format!(r#"{{"account": "x", "organizer": "{organizer}"}}"#);
        shop.admin("POST", "/v1/blacklist", &body).await.1.get("warning").is_some()
    };
    for _ in 0..2 {
        shop.admin("PUT", "/v1/events/autumn-fair", r#"{"organizer": "no-events-yet"}"#).await;
    }
    assert!(!warned("no-events-yet").await);
    shop.admin("PUT", "/v1/events/autumn-fair", r#"{"organizer": "harbour-hall"}"#).await;
    assert!(warned("no-events-yet").await, "its only event moved away");
    assert!(!warned("harbour-hall").await);
}

pub async fn removal_and_expiry_free_the_customer(store: StoreKind) {
    let shop = Shop::start(store, "");
    let form = "email=peggy%40example.com&quantity=1";
    shop.admin("POST", "/v1/blacklist", r#"{"email": "peggy@example.com"}"#).await;
    assert_eq!(shop.checkout_form("e1", form).await.0.status(), 303);
    let (status, _) = shop.admin("POST", "/v1/blacklist/remove", r#"{"email": "peggy@example.com"}"#).await;
    assert_eq!(status, 200);
    assert_eq!(shop.checkout_form("e1", form).await.0.status(), 200, "free again at once");
    let (status, _) = shop.admin("POST", "/v1/blacklist/remove", r#"{"email": "peggy@example.com"}"#).await;
    assert_eq!(status, 404, "removing twice");

    let (status, entry) =
        shop.admin("POST", "/v1/blacklist", r#"{"account": "temp", "expires_in": "1s"}"#).await;
    assert_eq!(status, 201);
    assert!(entry["expires_at"].is_string());
    assert_eq!(shop.checkout_form("e1", "account=temp").await.0.status(), 303);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        if shop.checkout_form("e1", "account=temp").await.0.status() == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the entry never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn address_spellings_and_duplicates_do_not_slip_through(store: StoreKind) {
    let shop = Shop::start(store, "");
    shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;
    for form in [
        "email=MALLORY%40Example.COM",
        "email=+mallory%40example.com+",
        "email=mallory%2Bconcerts%40example.com", // plus tags are stripped in this policy
        "email=%EF%BD%8Dallory%40example.com",    // full-width m
        "email=ada%40example.com&email=mallory%40example.com",
        "email=mallory%40example.com&email=ada%40example.com",
    ] {
        assert_eq!(shop.checkout_form("e1", form).await.0.status(), 303, "{form}");
    }
    let req = Request::post(shop.doorman.url("/echo/e1/checkout"))
        .header("content-type", "application/json")
        .body(body(r#"{"email": "ada@example.com", "email": "mallory@example.com"}"#))
        .unwrap();
    assert_eq!(send(req).await.0.status(), 200, "JSON answer");
}

pub async fn oversized_and_malformed_checkouts(store: StoreKind) {
    let shop = Shop::start(store, "");
    shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;
    let big = format!("email=mallory%40example.com&pad={}", "x".repeat(5000));
    let (resp, bytes) = shop.checkout_form("e1", &big).await;
    assert_eq!(resp.status(), 413, "over the policy's max_body_bytes");
    assert!(String::from_utf8_lossy(&bytes).contains("too large"));
    let req = Request::post(shop.doorman.url("/echo-upload")).body(body("y".repeat(100_000))).unwrap();
    assert_eq!(send(req).await.0.status(), 200, "other routes are not limited or buffered");

    let before = shop.backend_requests();
    for (ct, payload) in [
        ("application/json", "{\"email\": \"mallory@exa"),
        ("application/json", "\u{0}\u{ff}"),
        ("application/json", r#"{"email": "mallory@example.com", "x": NaN}"#),
        ("application/json", r#"{"email": "mallory@example.com", "x": "\ud800"}"#),
        ("application/json", &format!("{}{}", "[".repeat(300), "]".repeat(300))),
        ("application/x-www-form-urlencoded", "email=%ff%fe%fd"),
        ("application/x-www-form-urlencoded", "email=mallory%40example.com%0d%0aBcc:%20x"),
        ("application/x-www-form-urlencoded; charset=latin1", "email=mallory%40example.com"),
        ("application/xml", "<email>mallory@example.com</email>"),
        ("text/json", r#"/* Ruby's parser skips this */ {"email": "mallory@example.com"}"#),
        ("", "email=mallory@example.com"),
        ("multipart/form-data; boundary=b", "--b\nContent-Disposition: form-data; name=\"email\"\n\nmallory@example.com\n--b--\n"),
        ("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name*=UTF-8''email\r\n\r\nmallory@example.com\r\n--b--\r\n"),
        ("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nmallory@example.com\r\n--b--\r\n"),
        ("multipart/form-data; boundary=a; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nmallory@example.com\r\n--b--\r\n"),
    ] {
        let mut req = Request::post(shop.doorman.url("/echo/e1/checkout"));
        if !ct.is_empty() {
            req = req.header("content-type", ct);
        }
        let (resp, bytes) = send(req.body(body(payload.to_owned())).unwrap()).await;
        assert_eq!(resp.status(), 400, "{ct} {payload:.60?} is refused, not forwarded unread");
        assert!(String::from_utf8_lossy(&bytes).contains("Bad Request"));
    }
    let req = Request::post(shop.doorman.url("/echo/e1/checkout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-encoding", "gzip")
        .body(body(&b"\x1f\x8b\x08\x00"[..]))
        .unwrap();
    assert_eq!(send(req).await.0.status(), 400, "a body Doorman does not decode");
    assert_eq!(shop.backend_requests(), before, "a refused checkout reached the backend");
    let metrics = shop.metrics().await;
    assert!(metrics.contains("doorman_checkouts_total{outcome=\"refused\"} 16"), "{metrics}");
}

pub async fn identities_in_the_query_string_and_other_key_spellings_count(store: StoreKind) {
    let shop = Shop::start(store, "");
    shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;
    let post = |path: &str, ct: &str, payload: &str| {
        let req = Request::post(shop.doorman.url(path))
            .header("content-type", ct)
            .body(body(payload.to_owned()))
            .unwrap();
        send(req)
    };
    let form = "application/x-www-form-urlencoded";
    assert_eq!(
        post("/echo/e1/checkout?email=mallory%40example.com", form, "quantity=1").await.0.status(),
        303
    );
    assert_eq!(post("/echo/e1/checkout?x=1;email=mallory%40example.com", form, "").await.0.status(), 303);
    assert_eq!(post("/echo/e1/checkout", form, "x=1;email=mallory%40example.com").await.0.status(), 303);
    assert_eq!(
        post("/echo/e1/checkout", form, "customer%5Bemail%5D=mallory%40example.com").await.0.status(),
        303
    );
    let json = "application/json";
    for payload in
        [r#"{"EMAIL": "mallory@example.com"}"#, r#"{"Customer": {"Email": "mallory@example.com"}}"#]
    {
        let (resp, bytes) = post("/echo/e1/checkout", json, payload).await;
        assert_eq!(resp.status(), 200);
        let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(answer, serde_json::json!({"redirect": "/echo/e1"}), "{payload} got through");
    }
    assert_eq!(post("/echo/e1/checkout", "application/xml; charset=utf-8", "").await.0.status(), 400);
    let (resp, bytes) = post("/echo/e1/checkout?ref=mail", json, r#"{"email": "ada@example.com"}"#).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(Echo::parse(&bytes).0["uri"], "/echo/e1/checkout?ref=mail", "forwarded as received");
}

pub async fn multipart_checkouts_are_checked_and_forwarded_intact(store: StoreKind) {
    let shop = Shop::start(store, "");
    shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;
    let part = |email: &str| {
        format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n{email}\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.bin\"\r\n\r\n\x01\x02\r\n--XyZ--\r\n"
        )
    };
    let post = |payload: String| {
        let req = Request::post(shop.doorman.url("/echo/e1/checkout"))
            .header("content-type", "multipart/form-data; boundary=XyZ")
            .body(body(payload))
            .unwrap();
        send(req)
    };
    assert_eq!(post(part("Mallory@example.com")).await.0.status(), 303);
    let payload = part("ada@example.com");
    let (resp, bytes) = post(payload.clone()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(Echo::parse(&bytes).0["body"], payload.as_str());
}

pub async fn slow_bodies_time_out_and_bursts_of_blocked_attempts_are_all_audited(store: StoreKind) {
    let blacklist = crate::BLACKLIST.replace("[blacklist]\n", "[blacklist]\nbody_read_timeout = \"500ms\"\n");
    let shop = Shop::start_with(store, &blacklist, "");
    shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;

    // A body that never finishes gets 408 once the deadline passes, and reaches no backend.
    let head = "POST /echo/e1/checkout HTTP/1.1\r\nhost: shop\r\ncontent-type: application/x-www-form-urlencoded\r\n\
                content-length: 100\r\n\r\nemail=mallory";
    let before = shop.backend_requests();
    let started = std::time::Instant::now();
    let answer = crate::support::client::raw(shop.doorman.public, head.as_bytes(), Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:.200}");
    assert!(started.elapsed() < Duration::from_secs(4), "answered after {:?}", started.elapsed());
    assert_eq!(shop.backend_requests(), before);

    // A burst of blocked attempts: every one is in the audit log, written in batches.
    let attempts = 150;
    let url = shop.doorman.url("/echo/e1/checkout");
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..attempts {
        let req = Request::post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body("email=mallory%40example.com"))
            .unwrap();
        burst.spawn(async move { send(req).await.0.status() });
    }
    while let Some(status) = burst.join_next().await {
        assert_eq!(status.unwrap(), 303);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, audit) = shop.admin("GET", "/v1/audit?limit=1000", "").await;
        let blocks = audit["records"].as_array().unwrap().iter().filter(|r| r["action"] == "block").count();
        if blocks == attempts {
            break;
        }
        assert!(blocks < attempts, "{blocks} records for {attempts} attempts");
        assert!(std::time::Instant::now() < deadline, "only {blocks} of {attempts} blocked attempts audited");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(shop.metrics().await.contains("doorman_audit_dropped_total 0"));
}

pub async fn json_or_redirect_follows_the_policys_json_answer_rule(store: StoreKind) {
    // A form post from a script that accepts JSON: by default (`json_answer = "json_body"`) only a
    // JSON body gets JSON, as most shops decide; `json_body_or_accept` is for shops that also
    // answer `Accept: application/json` with JSON. Two Doormans on the same backend and store.
    let shop = Shop::start(store, "");
    let with_accept =
        crate::BLACKLIST.replace("[blacklist]\n", "[blacklist]\njson_answer = \"json_body_or_accept\"\n");
    let text = format!("{}{}{with_accept}", policy(&shop.backend.url(), "", ""), shop.store.toml());
    let accepting = Doorman::start(&text);
    for doorman in [&shop.doorman, &accepting] {
        let (status, _) = doorman.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;
        assert!(status == 201 || status == 200, "{status}");
    }
    let post = |doorman: &Doorman, ct: &str, accept: &str, payload: &str| {
        let req = Request::post(doorman.url("/echo/e1/checkout"))
            .header("content-type", ct)
            .header("accept", accept)
            .body(body(payload.to_owned()))
            .unwrap();
        send(req)
    };
    let form = "application/x-www-form-urlencoded";
    let json = serde_json::json!({"redirect": "/echo/e1"});
    let form_body = "email=mallory%40example.com&quantity=1";
    let json_body = r#"{"email": "mallory@example.com", "quantity": 1}"#;
    let before = shop.backend_requests();

    let (resp, bytes) = post(&shop.doorman, form, "application/json", form_body).await;
    assert_eq!(resp.status(), 303, "json_body: a form post gets the redirect whatever it accepts");
    assert_eq!(resp.headers()["location"], "/echo/e1");
    assert!(bytes.is_empty());
    let (resp, bytes) = post(&accepting, form, "application/json", form_body).await;
    assert_eq!(resp.status(), 200, "json_body_or_accept: JSON for Accept: application/json");
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&bytes).unwrap(), json);
    let (resp, _) = post(&accepting, form, "text/html,application/xhtml+xml,*/*;q=0.8", form_body).await;
    assert_eq!(resp.status(), 303, "a browser's form post still gets the redirect");
    for doorman in [&shop.doorman, &accepting] {
        let (resp, bytes) = post(doorman, "application/json", "*/*", json_body).await;
        assert_eq!(resp.status(), 200, "a JSON checkout gets the JSON answer under either rule");
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&bytes).unwrap(), json);
    }
    assert_eq!(shop.backend_requests(), before, "no blocked checkout reached the backend");
}
