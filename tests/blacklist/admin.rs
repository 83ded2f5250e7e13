//! The blacklist's admin API: tokens, bad input, and what it never reveals.

use http::Request;

use crate::support::client::{body, send};
use crate::{Shop, StoreKind};

#[tokio::test]
async fn every_blacklist_endpoint_needs_the_token() {
    let shop = Shop::start(StoreKind::Embedded, "");
    for (method, path) in [
        ("POST", "/v1/blacklist"),
        ("GET", "/v1/blacklist"),
        ("POST", "/v1/blacklist/remove"),
        ("PUT", "/v1/events/e1"),
        ("GET", "/v1/events/e1"),
        ("POST", "/v1/hash-email"),
    ] {
        for auth in [None, Some("Bearer wrong-token-wrong-token"), Some("bearer")] {
            let mut req = Request::builder().method(method).uri(shop.doorman.admin_url(path));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let req =
                req.header("content-type", "application/json").body(body(r#"{"account":"x"}"#)).unwrap();
            assert_eq!(send(req).await.0.status(), 401, "{method} {path} with {auth:?}");
        }
    }
    let (_, list) = shop.admin("GET", "/v1/blacklist", "").await;
    assert_eq!(list["entries"].as_array().unwrap().len(), 0, "nothing was added by the refused calls");
}

#[tokio::test]
async fn bad_admin_input_gets_a_400_that_says_why() {
    let shop = Shop::start(StoreKind::Embedded, "");
    for (payload, words) in [
        ("", "JSON"),
        ("{", "JSON"),
        ("[]", "deserialize"),
        (r#"{}"#, "exactly one"),
        (r#"{"account": "a", "email": "a@b.c"}"#, "exactly one"),
        (r#"{"account": ""}"#, "account"),
        (r#"{"account": "a\nb"}"#, "account"),
        (r#"{"email": "not-an-address"}"#, "email"),
        (r#"{"email": "a@b.c\r\nBcc: x@y.z"}"#, "email"),
        (r#"{"email_hash": "ABC"}"#, "email_hash"),
        (r#"{"account": "a", "organizer": "Not A Slug"}"#, "organizer"),
        (r#"{"account": "a", "expires_in": "soon"}"#, "expires_in"),
        (r#"{"account": "a", "colour": "red"}"#, "unknown field"),
        (r#"{"account": 42}"#, "invalid type"),
    ] {
        let (status, answer) = shop.admin("POST", "/v1/blacklist", payload).await;
        assert_eq!(status, 400, "{payload}: {answer}");
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{payload}: {message}");
        assert!(!message.contains("a@b.c\r\n"), "hostile input is not echoed raw");
    }
    let huge = format!(r#"{{"account": "a", "reason": "{}"}}"#, "x".repeat(100_000));
    assert_eq!(shop.admin("POST", "/v1/blacklist", &huge).await.0, 413);
    let long_reason = format!(r#"{{"account": "a", "reason": "{}"}}"#, "x".repeat(600));
    assert_eq!(shop.admin("POST", "/v1/blacklist", &long_reason).await.0, 400);
    assert_eq!(shop.admin("PUT", "/v1/events/Bad%20Event", r#"{"organizer": "x"}"#).await.0, 400);
    assert_eq!(shop.admin("GET", "/v1/events/nope", "").await.0, 404);
    assert_eq!(shop.admin("GET", "/v1/blacklist?limit=abc", "").await.0, 400);
    let (_, list) = shop.admin("GET", "/v1/blacklist", "").await;
    assert_eq!(list["entries"].as_array().unwrap().len(), 0, "nothing half-added");
}

#[tokio::test]
async fn addresses_are_hashed_on_arrival_and_never_stored_or_returned() {
    let shop = Shop::start(StoreKind::Embedded, "");
    let (status, hash) = shop.admin("POST", "/v1/hash-email", r#"{"email": "Victor+x@Example.com"}"#).await;
    assert_eq!(status, 200);
    let hash = hash["email_hash"].as_str().unwrap().to_owned();
    let (_, entry) =
        shop.admin("POST", "/v1/blacklist", r#"{"email": "victor@example.com", "reason": "r"}"#).await;
    assert_eq!(entry["value"], hash.as_str(), "same canonical form, same hash (plus tags stripped)");
    assert_eq!(entry["kind"], "email_hash");
    // A ready-made hash blocks the same customer.
    let (status, _) = shop.admin("POST", "/v1/blacklist/remove", r#"{"email": "victor@example.com"}"#).await;
    assert_eq!(status, 200);
    let (status, _) = shop.admin("POST", "/v1/blacklist", &format!(r#"{{"email_hash": "{hash}"}}"#)).await;
    assert_eq!(status, 201);
    assert_eq!(shop.checkout_form("e1", "email=victor%40example.com").await.0.status(), 303);

    let (_, list) = shop.admin("GET", "/v1/blacklist", "").await;
    assert!(!list.to_string().contains("victor"), "{list}");
    let db = std::fs::read(shop.doorman.data_dir().join("data/doorman.redb")).unwrap();
    assert!(
        !db.windows(6).any(|w| w.eq_ignore_ascii_case(b"victor")),
        "the raw address is in the store file"
    );
    assert!(!shop.doorman.log().to_lowercase().contains("victor"), "the raw address is in the log");
}
