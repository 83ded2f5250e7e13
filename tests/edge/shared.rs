//! One blacklist for native and edge: organizers change entries through the native admin API,
//! the component reads them from the same Redis, keys and values as native Doorman writes them.

use bytes::Bytes;

use crate::host::{compiled_policy, EdgeHost};
use crate::support::backend::Backend;
use crate::support::doorman::{policy, Doorman, HASH_KEY};
use crate::support::redis::RedisServer;

const BLACKLIST: &str = "[blacklist]\nemail_fields = [\"email\"]\naccount_fields = [\"account\"]\n\
    [[blacklist.checkout]]\nroute = \"POST /echo/{event}/checkout\"\nredirect = \"/echo/{event}\"\n";

async fn admin(doorman: &Doorman, path: &str, json: &str) -> u16 {
    doorman.admin("POST", path, json).await.0
}

fn checkout(form: &'static str) -> http::Request<Bytes> {
    crate::smoke::request("POST", "/echo/spring-gala/checkout", form)
}

#[tokio::test]
async fn an_entry_added_through_the_native_admin_api_blocks_at_the_edge_until_it_is_removed() {
    let redis = RedisServer::start();
    let backend = Backend::start();
    let store = format!("[store]\nurl = \"{}\"\nnamespace = \"shop1\"\n", redis.url());
    let text = format!("{}{store}{BLACKLIST}", policy(&backend.url(), "", ""));
    let native = Doorman::start(&text);
    let edge =
        EdgeHost::new(&redis.url(), &[("policy", &compiled_policy(&text)), ("hash_key", HASH_KEY)]).await;

    let ada = edge.handle(checkout("email=ada%40example.com&quantity=2")).await.unwrap();
    assert_eq!(ada.status(), 200, "an ordinary customer buys at the edge");

    // An organizer's own entry, on an event mapped to that organizer.
    assert_eq!(
        admin(&native, "/v1/organizers", r#"{"id": "harbour-hall", "name": "Harbour Hall"}"#).await,
        201
    );
    let map = native.admin("PUT", "/v1/events/spring-gala", r#"{"organizer": "harbour-hall"}"#).await;
    assert_eq!(map.0, 200);
    let entry = r#"{"email": "Mallory@Example.com", "organizer": "harbour-hall"}"#;
    assert_eq!(admin(&native, "/v1/blacklist", entry).await, 201);
    assert_eq!(admin(&native, "/v1/blacklist", r#"{"account": "eve"}"#).await, 201);

    let blocked = edge.handle(checkout("email=mallory%40example.com&quantity=2")).await.unwrap();
    assert_eq!(blocked.status(), 303, "{}", String::from_utf8_lossy(blocked.body()));
    assert_eq!(blocked.headers()["location"], "/echo/spring-gala");
    let blocked = edge.handle(checkout("account=eve&quantity=2")).await.unwrap();
    assert_eq!(blocked.status(), 303, "a platform-wide account entry");

    // The edge audited its blocks where native Doorman reads them.
    let (_, records) = native.admin("GET", "/v1/audit?organizer=harbour-hall", "").await;
    let blocks: Vec<_> =
        records["records"].as_array().unwrap().iter().filter(|r| r["action"] == "block").collect();
    assert_eq!(blocks.len(), 1, "{records}");
    assert_eq!(blocks[0]["event"], "spring-gala");

    let removed = r#"{"email": "mallory@example.com", "organizer": "harbour-hall"}"#;
    assert_eq!(admin(&native, "/v1/blacklist/remove", removed).await, 200);
    let freed = edge.handle(checkout("email=mallory%40example.com&quantity=2")).await.unwrap();
    assert_eq!(freed.status(), 200, "removing the entry frees the customer at once");
}
