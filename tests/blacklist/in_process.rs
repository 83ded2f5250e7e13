//! The Doorman layer inside an axum shop, in-process (no proxy hop): the same decisions.

use axum::body::Body;
use axum::routing::{get, post};
use axum::Router;
use doorman::adapters::store::{AnyStore, EmbeddedStore};
use doorman::core::blacklist::{entry_key, Identity, Scope};
use doorman::core::email_hash::EmailHasher;
use doorman::core::policy::Policy;
use doorman::hosts::layer::DoormanLayer;
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
    let layer = DoormanLayer::blacklist(policy.blacklist.unwrap(), hasher, store).build();
    let shop = Router::new()
        .route("/events/{id}", get(|| async { "event page" }))
        .route("/events/{id}/checkout", post(|body: String| async move { format!("order placed: {body}") }))
        .layer(layer);

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

/// The `axum_shop` example as a user runs it: it must really protect its shop.
struct Example(std::process::Child);

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_axum_shop_example_turns_a_blacklisted_checkout_back() {
    use std::io::BufRead;
    // `cargo test` builds the examples beside the test binaries.
    let exe = std::env::current_exe().unwrap();
    let example = exe.parent().unwrap().parent().unwrap().join("examples/axum_shop");
    assert!(example.exists(), "{} is built by cargo test", example.display());
    let mut child = std::process::Command::new(&example)
        .args(["--listen", "127.0.0.1:0", "--block", "Mallory@Example.com"])
        .env_remove("DOORMAN_HASH_KEY")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _guard = Example(child);
    let base = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");

    let post = |form: &'static str| {
        let req = Request::post(format!("{base}/events/spring-concert/checkout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(crate::support::client::body(form))
            .unwrap();
        crate::support::client::send(req)
    };
    let (resp, text) = post("email=ada%40example.com&quantity=2").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(&text[..], b"Order placed for spring-concert\n");
    let (resp, text) = post("email=mallory%40example.com&quantity=2").await;
    assert_eq!(resp.status(), 303, "{}", String::from_utf8_lossy(&text));
    assert_eq!(resp.headers()["location"], "/events/spring-concert");
    assert!(text.is_empty(), "no word of the block");
}
