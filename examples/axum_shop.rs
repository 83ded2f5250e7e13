//! A ticket shop written with axum, protected by Doorman in-process (no proxy hop): a
//! blacklisted buyer's checkout never reaches the shop's handler and lands back on the event page.
//!
//! ```sh
//! cargo run --example axum_shop -- --block mallory@example.com
//! curl -i http://127.0.0.1:3000/events/spring-concert
//! curl -i -d 'email=ada@example.com&quantity=2' http://127.0.0.1:3000/events/spring-concert/checkout
//! curl -i -d 'email=mallory@example.com&quantity=2' http://127.0.0.1:3000/events/spring-concert/checkout
//! ```
//!
//! The first checkout is the shop's "Order placed"; the second is a quiet `303` back to
//! `/events/spring-concert`. Options: `--listen ADDR` (default `127.0.0.1:3000`), `--block EMAIL`
//! (repeatable). The blacklist lives in an embedded store in a temporary folder; the e-mail hash
//! key comes from `DOORMAN_HASH_KEY`, or a random one for this run.

use std::sync::Arc;

use axum::extract::Path;
use axum::routing::{get, post};
use axum::Router;
use doorman::adapters::store::EmbeddedStore;
use doorman::app::admin::{Admin, BlacklistAdmin, EntryRequest, Principal};
use doorman::app::Ports;
use doorman::core::email_hash::EmailHasher;
use doorman::core::policy::Policy;
use doorman::hosts::layer::{DoormanLayer, TokioTasks};

/// Which requests complete a purchase, and where a blocked buyer is sent.
const POLICY: &str = r#"
[backend]
url = "http://127.0.0.1:9"   # unused: the shop is in-process
[blacklist]
[[blacklist.checkout]]
route = "POST /events/{event}/checkout"
redirect = "/events/{event}"
"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut listen, mut block) = ("127.0.0.1:3000".to_owned(), Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--listen", Some(addr)) => listen = addr,
            ("--block", Some(email)) => block.push(email),
            _ => {
                return Err(format!("usage: axum_shop [--listen ADDR] [--block EMAIL]...; got `{arg}`").into())
            }
        }
    }

    let policy = Policy::from_toml_str("axum_shop", POLICY, std::iter::empty())?;
    let blacklist = policy.blacklist.expect("the policy has a [blacklist]");
    let key = match std::env::var("DOORMAN_HASH_KEY") {
        Ok(key) => key.trim().as_bytes().to_vec(),
        Err(_) => (0..32).map(|_| rand_byte()).collect(),
    };
    let hasher = EmailHasher::hmac(&key)?;
    let dir = tempfile::tempdir()?;
    let store = EmbeddedStore::open(&dir.path().join("doorman.redb"), "shop")?;
    // The entries are added as the admin API adds them (hashed, audited).
    let admin = Admin::new(
        Ports::new(store.clone(), Arc::new(TokioTasks)),
        Some(BlacklistAdmin {
            hasher: hasher.clone(),
            rules: blacklist.rules,
            hash_accounts: blacklist.hash_accounts,
        }),
    );
    for email in block {
        let request =
            EntryRequest { email: Some(email), reason: Some("example".into()), ..Default::default() };
        admin.add_entry(&Principal::Operator, &request).await?;
    }

    let shop = Router::new()
        .route(
            "/events/{id}",
            get(|Path(id): Path<String>| async move { format!("Event {id}: tickets on sale\n") }),
        )
        .route(
            "/events/{id}/checkout",
            post(|Path(id): Path<String>| async move { format!("Order placed for {id}\n") }),
        );
    // Doorman outermost: it decides on checkouts before the shop sees them.
    let app = shop.layer(DoormanLayer::blacklist(blacklist, hasher, store).build());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("axum shop protected by Doorman on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

fn rand_byte() -> u8 {
    let mut b = [0u8];
    getrandom::fill(&mut b).expect("the OS has a random source");
    b[0]
}
