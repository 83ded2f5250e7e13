//! Several Doorman nodes on one Redis, and Redis going away mid-run.

use std::time::Duration;

use crate::support::backend::Backend;
use crate::support::doorman::{policy, Doorman};
use crate::support::redis::RedisServer;
use crate::{admin_call, Shop, StoreKind, BLACKLIST};

#[tokio::test]
async fn an_entry_added_on_one_node_blocks_on_every_node_at_once() {
    let redis = RedisServer::start();
    let backend = Backend::start();
    let text = format!("{}[store]\nurl = \"{}\"\n{BLACKLIST}", policy(&backend.url(), "", ""), redis.url());
    let (a, b) = (Doorman::start(&text), Doorman::start(&text));
    let form = "email=mallory%40example.com";
    let post = |d: &Doorman| {
        let req = http::Request::post(d.url("/echo/e1/checkout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(crate::support::client::body(form))
            .unwrap();
        crate::support::client::send(req)
    };
    assert_eq!(post(&b).await.0.status(), 200);
    assert_eq!(admin_call(&a, "POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await.0, 201);
    assert_eq!(post(&b).await.0.status(), 303, "node B blocks at once what node A added");
    assert_eq!(
        admin_call(&b, "POST", "/v1/blacklist/remove", r#"{"email": "mallory@example.com"}"#).await.0,
        200
    );
    assert_eq!(post(&a).await.0.status(), 200, "node A frees at once what node B removed");
}

async fn outage(mode: &str) -> (Shop, u16, u16) {
    let blacklist = BLACKLIST
        .replace("max_body_bytes = 4096", &format!("max_body_bytes = 4096\non_store_error = \"{mode}\""));
    let mut shop = Shop::start_with(StoreKind::Redis(RedisServer::start()), &blacklist, "");
    shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;
    shop.redis().kill();
    let innocent = shop.checkout_form("e1", "email=ada%40example.com").await.0.status().as_u16();
    let blocked = shop.checkout_form("e1", "email=mallory%40example.com").await.0.status().as_u16();
    shop.redis().restart();
    (shop, innocent, blocked)
}

#[tokio::test]
async fn redis_down_fails_open_by_default_and_recovers_by_itself() {
    let (shop, innocent, blocked) = outage("open").await;
    assert_eq!((innocent, blocked), (200, 200), "fail-open forwards every checkout while Redis is down");
    let metrics = crate::support::client::send(
        http::Request::get(shop.doorman.admin_url("/metrics"))
            .header("authorization", format!("Bearer {}", crate::support::doorman::TOKEN))
            .body(crate::support::client::body(""))
            .unwrap(),
    )
    .await
    .1;
    assert!(String::from_utf8_lossy(&metrics).contains("doorman_checkouts_total{outcome=\"store_error\"} 2"));
    // The restarted Redis is empty (no persistence in tests): add again once it answers.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await.0 != 201 {
        assert!(std::time::Instant::now() < deadline, "never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        shop.checkout_form("e1", "email=mallory%40example.com").await.0.status(),
        303,
        "blocking again"
    );
    assert_eq!(shop.checkout_form("e1", "email=ada%40example.com").await.0.status(), 200);
}

#[tokio::test]
async fn redis_down_fails_closed_when_the_policy_says_so() {
    let (shop, innocent, blocked) = outage("closed").await;
    assert_eq!((innocent, blocked), (303, 303), "fail-closed turns every checkout back while Redis is down");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while shop.checkout_form("e1", "email=ada%40example.com").await.0.status() != 200 {
        assert!(std::time::Instant::now() < deadline, "never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
