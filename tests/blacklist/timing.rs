//! A blocked checkout does not come back measurably sooner than a forwarded one would.

use std::time::{Duration, Instant};

use http::Request;

use crate::support::client::{body, send};
use crate::{Shop, StoreKind, BLACKLIST};

async fn timed_checkout(shop: &Shop, email: &str) -> (u16, Duration) {
    let req = Request::post(shop.doorman.url("/slow/e1/checkout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body(format!("email={email}")))
        .unwrap();
    let started = Instant::now();
    let (resp, _) = send(req).await;
    (resp.status().as_u16(), started.elapsed())
}

fn slow_route(extra: &str) -> String {
    // The test backend answers /slow/... after 150 ms, like a shop completing an order.
    BLACKLIST
        .replace("[blacklist]\n", &format!("[blacklist]\n{extra}"))
        .replace("route = \"POST /echo/{event}/checkout\"", "route = \"POST /slow/{event}/checkout\"")
}

#[tokio::test]
async fn blocked_answers_take_as_long_as_forwarded_checkouts() {
    let shop = Shop::start_with(StoreKind::Embedded, &slow_route(""), "");
    shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;
    for _ in 0..5 {
        let (status, took) = timed_checkout(&shop, "ada%40example.com").await;
        assert_eq!(status, 200);
        assert!(took >= Duration::from_millis(150));
    }
    for _ in 0..3 {
        let (status, took) = timed_checkout(&shop, "mallory%40example.com").await;
        assert_eq!(status, 303);
        assert!(
            took >= Duration::from_millis(140),
            "a blocked checkout answered in {took:?}, sooner than any order"
        );
    }
}

#[tokio::test]
async fn timing_cover_can_be_turned_off() {
    let shop = Shop::start_with(StoreKind::Embedded, &slow_route("match_timing = false\n"), "");
    shop.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;
    let (status, took) = timed_checkout(&shop, "mallory%40example.com").await;
    assert_eq!(status, 303);
    assert!(took < Duration::from_millis(140), "answered in {took:?} although timing cover is off");
}
