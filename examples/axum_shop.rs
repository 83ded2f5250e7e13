//! A ticket shop written with axum, protected by Doorman in-process (no proxy hop).
//!
//! ```sh
//! cargo run --example axum_shop
//! curl -i http://127.0.0.1:3000/events/spring-concert
//! ```
//!
//! The Doorman layer sits outermost, so it sees each request before the shop does (that is
//! where the blacklist decides on checkouts).

use axum::extract::Path;
use axum::routing::{get, post};
use axum::Router;
use doorman::hosts::layer::DoormanLayer;
use tower::ServiceBuilder;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let shop = Router::new()
        .route(
            "/events/{id}",
            get(|Path(id): Path<String>| async move { format!("Event {id}: tickets on sale\n") }),
        )
        .route(
            "/events/{id}/checkout",
            post(|Path(id): Path<String>| async move { format!("Order placed for {id}\n") }),
        );
    // Doorman first: it decides before the shop sees the request.
    let app = shop.layer(ServiceBuilder::new().layer(DoormanLayer::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("axum shop protected by Doorman on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
