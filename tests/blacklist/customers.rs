//! One customer, several addresses, through the binary: an entry by account turns back guest
//! checkouts with any address attached to the account, at once, and detaching frees them.

use crate::{Shop, StoreKind};

const EVE_PRIVATE: &str = "email=eve.private%40example.com";

pub async fn an_account_entry_turns_back_every_attached_address(store: StoreKind) {
    let shop = Shop::start(store, "");
    assert_eq!(
        shop.admin("POST", "/v1/blacklist", r#"{"account": "eve-42", "reason": "fraud"}"#).await.0,
        201
    );
    assert_eq!(shop.checkout_form("e1", EVE_PRIVATE).await.0.status(), 200, "not attached yet");

    let (status, attached) = shop
        .admin("POST", "/v1/customers/attach", r#"{"account": "eve-42", "email": "Eve.Private@Example.com"}"#)
        .await;
    assert_eq!(status, 200, "{attached}");
    assert!(!attached.to_string().to_lowercase().contains("eve.private"), "only the hash: {attached}");
    assert_eq!(shop.checkout_form("e1", EVE_PRIVATE).await.0.status(), 303, "turned back at once");
    let spelled = "email=EVE.PRIVATE%2Btickets%40example.com";
    assert_eq!(shop.checkout_form("e1", spelled).await.0.status(), 303, "in any spelling the policy folds");
    assert_eq!(shop.checkout_form("e1", "email=ada%40example.com").await.0.status(), 200);

    // The status of the address names the account's entry.
    let (status, said) =
        shop.admin("POST", "/v1/blacklist/status", r#"{"email": "eve.private@example.com"}"#).await;
    assert_eq!(status, 200, "{said}");
    assert_eq!(said["blacklisted"], true);
    assert_eq!(
        (said["entries"][0]["kind"].as_str(), said["entries"][0]["value"].as_str()),
        (Some("account"), Some("eve-42"))
    );
    let (_, listed) = shop.admin("POST", "/v1/customers/addresses", r#"{"account": "eve-42"}"#).await;
    assert_eq!(listed["email_hashes"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["email_hashes"][0], attached["email_hash"]);

    // An address belongs to one account: another takes it only with "move".
    let to_bob = r#"{"account": "bob-7", "email": "eve.private@example.com"}"#;
    let (status, refused) = shop.admin("POST", "/v1/customers/attach", to_bob).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(shop.checkout_form("e1", EVE_PRIVATE).await.0.status(), 303, "a refused move changes nothing");
    let moved = r#"{"account": "bob-7", "email": "eve.private@example.com", "move": true}"#;
    let (status, answer) = shop.admin("POST", "/v1/customers/attach", moved).await;
    assert_eq!((status, answer["moved_from"].as_str()), (200, Some("eve-42")), "{answer}");
    assert_eq!(shop.checkout_form("e1", EVE_PRIVATE).await.0.status(), 200, "bob is not blacklisted");
    let (_, listed) = shop.admin("POST", "/v1/customers/addresses", r#"{"account": "eve-42"}"#).await;
    assert_eq!(listed["email_hashes"].as_array().map(Vec::len), Some(0), "gone from eve's list");

    // Back to eve, then detached: free again; removing the account's entry frees the rest.
    let back = r#"{"account": "eve-42", "email": "eve.private@example.com", "move": true}"#;
    assert_eq!(shop.admin("POST", "/v1/customers/attach", back).await.0, 200);
    assert_eq!(shop.checkout_form("e1", EVE_PRIVATE).await.0.status(), 303);
    let detach = r#"{"account": "eve-42", "email": "eve.private@example.com"}"#;
    assert_eq!(shop.admin("POST", "/v1/customers/detach", detach).await.0, 200);
    assert_eq!(shop.checkout_form("e1", EVE_PRIVATE).await.0.status(), 200, "detached: free at once");
    assert_eq!(shop.admin("POST", "/v1/customers/detach", detach).await.0, 404, "twice");
    let other = r#"{"account": "eve-42", "email": "eve.work@example.com"}"#;
    assert_eq!(shop.admin("POST", "/v1/customers/attach", other).await.0, 200);
    assert_eq!(shop.checkout_form("e1", "email=eve.work%40example.com").await.0.status(), 303);
    assert_eq!(shop.admin("POST", "/v1/blacklist/remove", r#"{"account": "eve-42"}"#).await.0, 200);
    assert_eq!(shop.checkout_form("e1", "email=eve.work%40example.com").await.0.status(), 200);

    // The audit log has every change, never an address.
    let (_, log) = shop.admin("GET", "/v1/audit", "").await;
    let text = log.to_string();
    assert!(text.contains("attach_address") && text.contains("detach_address"), "{text}");
    assert!(!text.to_lowercase().contains("eve.private") && !text.contains("eve.work"), "{text}");

    // Bad input: a clear answer, nothing changed.
    for (json, wanted) in [
        (r#"{"email": "a@b.example"}"#, 400),
        (r#"{"account": "eve-42"}"#, 400),
        (r#"{"account": "eve-42", "email": "a@b.example\r\nBcc: x@y.example"}"#, 400),
        (r#"{"account": "eve-42", "email_hash": "XYZ"}"#, 400),
        (r#"{"account": "eve-42", "email": "a@b.example", "organizer": "x"}"#, 400),
    ] {
        let (status, answer) = shop.admin("POST", "/v1/customers/attach", json).await;
        assert_eq!(status, wanted, "{json}: {answer}");
    }
    let (_, listed) = shop.admin("POST", "/v1/customers/addresses", r#"{"account": "eve-42"}"#).await;
    assert_eq!(listed["email_hashes"].as_array().map(Vec::len), Some(1), "only eve.work: {listed}");
}

pub async fn only_the_operator_attaches_addresses(store: StoreKind) {
    let shop = Shop::start(store, "");
    let (status, created) =
        shop.admin("POST", "/v1/organizers", r#"{"id": "harbour-hall", "name": "Harbour Hall"}"#).await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap();
    let body = r#"{"account": "eve-42", "email": "eve@example.com"}"#;
    for path in ["/v1/customers/attach", "/v1/customers/detach", "/v1/customers/addresses"] {
        let (status, _) = shop.doorman.admin_as(token, "POST", path, body).await;
        assert_eq!(status, 403, "{path}");
    }
}
