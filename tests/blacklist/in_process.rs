//! The Doorman layer inside an axum shop, in-process (no proxy hop): the same decisions.

use axum::body::Body;
use axum::routing::{get, post};
use axum::Router;
use doorman::adapters::store::{AnyStore, EmbeddedStore};
use doorman::core::blacklist::{entry_key, Identity, Scope};
use doorman::core::email_hash::EmailHasher;
use doorman::core::policy::Policy;
use doorman::hosts::layer::{BlacklistGuard, DoormanLayer};
use doorman::hosts::metrics::Metrics;
use doorman::ports::store::Store;
use http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

const POLICY: &str = r#"
[backend]
url = "http://127.0.0.1:9"
[blacklist]
hash = "sha256"
match_timing = false
[[blacklist.checkout]]
route = "POST /events/{event}/checkout"
redirect = "/events/{event}"
"#;

#[tokio::test]
async fn an_axum_shop_wrapped_in_the_layer_turns_blacklisted_checkouts_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = AnyStore::Embedded(EmbeddedStore::open(&dir.path().join("db.redb"), "t").unwrap());
    let hasher = EmailHasher::PlainSha256;
    let blocked = Identity::EmailHash(hasher.hash_hex("mallory@example.com"));
    store.set(&entry_key(&blocked, &Scope::Platform), b"{}", None).await.unwrap();

    let policy = Policy::from_toml_str("in-process", POLICY, std::iter::empty()).unwrap();
    let guard = BlacklistGuard::new(policy.blacklist.unwrap(), hasher, None, store, Metrics::new());
    let shop = Router::new()
        .route("/events/{id}", get(|| async { "event page" }))
        .route("/events/{id}/checkout", post(|body: String| async move { format!("order placed: {body}") }))
        .layer(DoormanLayer::with_blacklist(guard));

    let checkout = |form: &'static str| {
        Request::post("/events/spring-concert/checkout")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap()
    };
    let resp = shop.clone().oneshot(checkout("email=mallory%40example.com&quantity=1")).await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/events/spring-concert");

    let resp = shop.clone().oneshot(checkout("email=ada%40example.com&quantity=1")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&text[..], b"order placed: email=ada%40example.com&quantity=1", "the shop saw the same body");

    let resp =
        shop.oneshot(Request::get("/events/spring-concert").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(resp.status(), 200, "browsing is untouched");
}
