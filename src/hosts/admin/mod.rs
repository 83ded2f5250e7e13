//! The operations and admin listener: health, readiness, Prometheus metrics, and (behind a
//! bearer token) the admin API. It never shares the public listener.

pub mod blacklist;
mod error;
pub mod organizers;
pub mod principal;
pub mod transfer;
pub mod waitlist;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};

pub use crate::app::admin::{random_token, AdminToken, TokenError, MIN_TOKEN_LEN};

use crate::adapters::store::AnyStore;
use crate::app::admin::Admin;
pub use crate::app::admin::BlacklistAdmin;
use crate::hosts::metrics::Metrics;
use crate::ports::store::Store;

/// The admin API's OpenAPI 3.1 document (`openapi/admin.json`), served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../../../openapi/admin.json");

/// What the admin handlers share.
#[derive(Clone)]
pub struct AdminState {
    /// The admin use cases, over the store, clock and randomness.
    pub admin: Arc<Admin<AnyStore>>,
    /// Metrics to render.
    pub metrics: Metrics,
    /// The operator token; without one, only organizer tokens (issued earlier) are accepted.
    pub token: Option<AdminToken>,
    /// Set when shutdown begins, so `/readyz` turns away new traffic.
    pub draining: Arc<AtomicBool>,
}

/// The admin router: `/healthz` and `/readyz` open, everything else behind the bearer token.
pub fn router(state: AdminState) -> Router {
    let protected = Router::new()
        .route("/metrics", get(metrics))
        .route("/v1/blacklist", post(blacklist::add).get(blacklist::list))
        .route("/v1/blacklist/remove", post(blacklist::remove))
        .route("/v1/events/{event}", put(blacklist::put_event).get(blacklist::get_event))
        .route("/v1/events/{event}/waitlist", get(waitlist::get_settings).patch(waitlist::change_settings))
        .route("/v1/events/{event}/waitlist/signups", get(waitlist::export))
        .route("/v1/hash-email", post(blacklist::hash_email))
        .route("/v1/audit", get(blacklist::audit_log))
        .route("/v1/organizers", post(organizers::create).get(organizers::list))
        .route(
            "/v1/organizers/{id}",
            get(organizers::show).patch(organizers::change).delete(organizers::delete),
        )
        .route("/v1/organizers/{id}/token", post(organizers::rotate))
        .route("/v1/organizers/{id}/box-office-token", post(organizers::rotate_box_office))
        .layer(DefaultBodyLimit::max(64 * 1024))
        // Imports stream line by line (their own limit, transfer::MAX_IMPORT_BYTES); everything
        // else is small JSON.
        .route("/v1/blacklist/import", post(transfer::import))
        .route("/v1/blacklist/export", get(transfer::export))
        .route_layer(middleware::from_fn_with_state(state.clone(), principal::authenticate));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI) }))
        .merge(protected)
        .fallback(|| async { (StatusCode::NOT_FOUND, Json(serde_json::json!({"error": "not found"}))) })
        .with_state(state)
}

async fn readyz(State(state): State<AdminState>) -> Response {
    if state.draining.load(Ordering::Relaxed) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"ready": false, "reason": "shutting down"})),
        )
            .into_response();
    }
    let store = &state.admin.ports.store;
    match store.ping().await {
        Ok(()) => {
            let durability = store.durability().await.ok();
            Json(serde_json::json!({"ready": true, "store": store.kind(), "durability": durability}))
                .into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness: store unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"ready": false, "reason": "store unavailable", "store": state.admin.ports.store.kind()})),
            )
                .into_response()
        }
    }
}

async fn metrics(
    State(state): State<AdminState>,
    axum::extract::Extension(who): axum::extract::Extension<principal::Principal>,
) -> Response {
    if let Err(e) = who.require_operator() {
        return error::ApiError::from(e).into_response();
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
        .into_response()
}
