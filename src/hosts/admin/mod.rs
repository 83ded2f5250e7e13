//! The operations and admin listener: health, readiness, Prometheus metrics, and (behind a
//! bearer token) the admin API. It never shares the public listener.
//!
//! Every route is registered together with its OpenAPI description (`utoipa`'s
//! [`OpenApiRouter`] and `routes!`), so the document served at `/openapi.json` (and printed by
//! `doorman openapi`, and kept in `openapi/admin.json`) names exactly the routes the router has.

pub mod blacklist;
pub mod broadcasts;
pub mod customers;
pub mod data;
mod error;
pub mod offers;
pub mod organizers;
pub mod principal;
pub mod transfer;
pub mod waitlist;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use crate::app::admin::{random_token, AdminToken, TokenError, MIN_TOKEN_LEN};

use crate::adapters::store::{AnyStore, Durability};
use crate::app::admin::Admin;
pub use crate::app::admin::BlacklistAdmin;
use crate::hosts::metrics::Metrics;
use crate::ports::store::Store;
pub use error::ErrorBody;
use error::{
    BadRequest, CommonErrors, Forbidden, NoBlacklist, NoSuchOrganizer, NotTheirEvent, NotTheirOrganizer,
    OperatorOnly, PayloadTooLarge, StoreUnavailable, Unauthorized,
};

/// The path of every operation on one event: the extractor its handler takes, and its
/// description in the document.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EventPath {
    /// The event slug (1 to 64 of `a-z`, `0-9`, `-`, `_`; anything else is answered with 400).
    #[param(pattern = "^[a-z0-9_-]{1,64}$", example = "spring-concert")]
    event: String,
}

/// The path of every operation on one organizer, as [`EventPath`] is for events.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OrganizerPath {
    /// The organizer slug.
    #[param(pattern = "^[a-z0-9_-]{1,64}$", example = "harbour-hall")]
    id: String,
}

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

/// The parts of the document that belong to no one operation: its introduction
/// (`openapi/intro.md`), server, tags, the bearer scheme and the shared error answers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Doorman admin API",
        version = "1",
        description = include_str!("../../../openapi/intro.md"),
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    servers((url = "http://127.0.0.1:8081", description = "The admin listener at its default address (`server.admin_listen`).")),
    security(("bearerAuth" = [])),
    tags(
        (name = "operations", description = "Health, readiness, metrics and this document."),
        (name = "blacklist", description = "Blacklist entries, one at a time."),
        (name = "transfer", description = "Bulk import and export of blacklist entries."),
        (name = "customers", description = "One customer, several addresses: addresses attached to an account (operator only)."),
        (name = "data", description = "The data keys personal data is sealed with, and re-sealing after a rotation (operator only)."),
        (name = "events", description = "The event → organizer map (operator only)."),
        (name = "audit", description = "The audit log."),
        (name = "organizers", description = "Organizers and their tokens (operator only)."),
        (name = "waitlist", description = "Waitlists of sold-out events."),
    ),
    components(
        schemas(crate::app::admin::transfer::Row),
        responses(
            BadRequest, Unauthorized, Forbidden, OperatorOnly, NotTheirOrganizer, NotTheirEvent, NoSuchOrganizer,
            NoBlacklist, PayloadTooLarge, StoreUnavailable
        ),
    ),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

/// Adds the `bearerAuth` security scheme that every protected operation names.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(
            "`Authorization: Bearer <token>`: the operator token, an organizer token issued with \
             `POST /v1/organizers`, or a box-office token.",
        ));
        components.add_security_scheme("bearerAuth", SecurityScheme::Http(scheme.build()));
    }
}

/// Every route with its description. `protect` wraps the routes behind the bearer token (the
/// router passes the authentication layer; the document needs none).
fn api(
    protect: impl FnOnce(OpenApiRouter<AdminState>) -> OpenApiRouter<AdminState>,
) -> OpenApiRouter<AdminState> {
    let small_json = OpenApiRouter::new()
        .routes(routes!(metrics))
        .routes(routes!(blacklist::add, blacklist::list))
        .routes(routes!(blacklist::remove))
        .routes(routes!(blacklist::status))
        .routes(routes!(customers::attach))
        .routes(routes!(customers::detach))
        .routes(routes!(customers::addresses))
        .routes(routes!(data::keys))
        .routes(routes!(data::reseal))
        .routes(routes!(blacklist::put_event, blacklist::get_event))
        .routes(routes!(waitlist::get_settings, waitlist::change_settings))
        .routes(routes!(waitlist::export))
        .routes(routes!(waitlist::messages))
        .routes(routes!(waitlist::signup_data))
        .routes(routes!(waitlist::erase_signup))
        .routes(routes!(waitlist::preview_message))
        .routes(routes!(waitlist::test_message))
        .routes(routes!(broadcasts::schedule, broadcasts::list))
        .routes(routes!(broadcasts::show))
        .routes(routes!(broadcasts::cancel))
        .routes(routes!(broadcasts::preview))
        .routes(routes!(broadcasts::test))
        .routes(routes!(offers::release))
        .routes(routes!(offers::list, offers::make))
        .routes(routes!(offers::taken))
        .routes(routes!(offers::withdraw))
        .routes(routes!(blacklist::hash_email))
        .routes(routes!(blacklist::audit_log))
        .routes(routes!(organizers::create, organizers::list))
        .routes(routes!(organizers::show, organizers::change, organizers::delete))
        .routes(routes!(organizers::rotate))
        .routes(routes!(organizers::rotate_box_office))
        .layer(DefaultBodyLimit::max(64 * 1024));
    // Imports stream line by line (their own limit, transfer::MAX_IMPORT_BYTES); everything else
    // is small JSON.
    let streamed = OpenApiRouter::new().routes(routes!(transfer::import)).routes(routes!(transfer::export));
    let protected = protect(small_json.merge(streamed));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(openapi_json))
        .merge(protected)
}

/// The admin router: `/healthz`, `/readyz` and `/openapi.json` open, everything else behind the
/// bearer token.
pub fn router(state: AdminState) -> Router {
    let auth = middleware::from_fn_with_state(state.clone(), principal::authenticate);
    let (router, _) = api(|protected| protected.route_layer(auth)).split_for_parts();
    router
        .fallback(|| async { (StatusCode::NOT_FOUND, Json(ErrorBody { error: "not found".into() })) })
        .with_state(state)
}

/// The admin API's OpenAPI 3.1 document, generated from the routes, handlers and types (once),
/// as served at `/openapi.json`, printed by `doorman openapi` and kept in `openapi/admin.json`.
pub fn openapi() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let (_, document) = api(|protected| protected).split_for_parts();
        document.to_pretty_json().expect("the OpenAPI document serializes")
    })
}

/// Liveness
///
/// Answers `ok` while the process runs. Open: no token.
#[utoipa::path(
    get, path = "/healthz", operation_id = "getHealth", tag = "operations", security(),
    responses((status = 200, description = "The process runs.", body = String,
        content_type = "text/plain; charset=utf-8", example = json!("ok\n")))
)]
async fn healthz() -> &'static str {
    "ok\n"
}

/// Whether the node takes traffic.
#[derive(Serialize, ToSchema)]
#[schema(as = Readiness)]
struct Readiness {
    /// Whether the node takes traffic.
    ready: bool,
    /// Why the node is not ready (only when `ready` is false): `shutting down` or
    /// `store unavailable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(shutting down|store unavailable)$")]
    reason: Option<&'static str>,
    /// The kind of store, `embedded` or `redis` (absent while shutting down).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(embedded|redis)$")]
    store: Option<&'static str>,
    /// What the store promises about acknowledged writes, read from it now (only when ready):
    /// the embedded store flushes every write to disk; Redis keeps them across a restart only
    /// with `appendonly yes` and `appendfsync always`. `null` when it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Durability>)]
    durability: Option<Option<Durability>>,
}

/// Readiness
///
/// Whether the node should get traffic: ready while the store answers and shutdown has not
/// begun. Open: no token.
#[utoipa::path(
    get, path = "/readyz", operation_id = "getReadiness", tag = "operations", security(),
    responses(
        (status = 200, description = "Ready.", body = Readiness,
            example = json!({"ready": true, "store": "embedded", "durability": {
                "level": "fsync", "safe": true, "detail": "every write is on disk before it is acknowledged"}})),
        (status = 503, description = "Not ready: shutting down, or the store is unreachable.", body = Readiness,
            examples(
                ("shutting down" = (value = json!({"ready": false, "reason": "shutting down"}))),
                ("store unavailable" = (value = json!({"ready": false, "reason": "store unavailable", "store": "redis"}))),
            )),
    )
)]
async fn readyz(State(state): State<AdminState>) -> Response {
    if state.draining.load(Ordering::Relaxed) {
        let answer = Readiness { ready: false, reason: Some("shutting down"), store: None, durability: None };
        return (StatusCode::SERVICE_UNAVAILABLE, Json(answer)).into_response();
    }
    let store = &state.admin.ports.store;
    match store.ping().await {
        Ok(()) => {
            let durability = store.durability().await.ok();
            let answer = Readiness {
                ready: true,
                reason: None,
                store: Some(store.kind()),
                durability: Some(durability),
            };
            Json(answer).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness: store unavailable");
            let answer = Readiness {
                ready: false,
                reason: Some("store unavailable"),
                store: Some(store.kind()),
                durability: None,
            };
            (StatusCode::SERVICE_UNAVAILABLE, Json(answer)).into_response()
        }
    }
}

/// This OpenAPI document
///
/// The OpenAPI 3.1 description of the admin API (this document), generated from the server's
/// routes, handlers and types. Open: no token.
#[utoipa::path(
    get, path = "/openapi.json", operation_id = "getOpenApi", tag = "operations", security(),
    responses((status = 200, description = "The OpenAPI document.", body = Object, content_type = "application/json"))
)]
async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], openapi())
}

/// Prometheus metrics
///
/// The Prometheus text exposition: `doorman_responses_total{class}`,
/// `doorman_response_head_seconds` (histogram),
/// `doorman_backend_errors_total{kind="connect"|"timeout"|"protocol"}`,
/// `doorman_client_errors_total{kind="framing"|"cut_short"|"too_slow"|"too_large"|"gone"}`,
/// `doorman_checkouts_total{outcome="forwarded"|"blocked"|"store_error"|"refused"}`,
/// `doorman_checkout_unmapped_events_total`, `doorman_audit_dropped_total`,
/// `doorman_waitlist_mails_queued_total`, `doorman_waitlist_mails_total{result="sent"|"retried"|"failed"}`,
/// `doorman_waitlist_outbox_passes_total`, `doorman_internal_errors_total`. Operator token only.
#[utoipa::path(
    get, path = "/metrics", operation_id = "getMetrics", tag = "operations",
    responses(
        (status = 200, description = "The metrics.", body = String, content_type = "text/plain; version=0.0.4; charset=utf-8",
            example = json!("# HELP doorman_checkouts_total Checkouts seen by the blacklist, by outcome (forwarded, blocked, store_error)\n# TYPE doorman_checkouts_total counter\ndoorman_checkouts_total{outcome=\"blocked\"} 3\n")),
        (status = 403, response = OperatorOnly),
        CommonErrors,
    )
)]
async fn metrics(
    State(state): State<AdminState>,
    axum::extract::Extension(who): axum::extract::Extension<principal::Principal>,
) -> Response {
    if let Err(e) = who.may_read_metrics() {
        return error::ApiError::from(e).into_response();
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
        .into_response()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// utoipa takes limits as literals only: this test keeps the document's copies equal to the
    /// constants the code checks against.
    #[test]
    fn the_documents_limits_are_the_codes() {
        let doc: Value = serde_json::from_str(super::openapi()).unwrap();
        let param = |path: &str, name: &str, field: &str| {
            let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
            params.iter().find(|p| p["name"] == name).unwrap()["schema"][field].as_u64().unwrap()
        };
        let list = crate::app::admin::MAX_LIST;
        assert_eq!(param("/v1/blacklist", "limit", "maximum"), list as u64);
        assert_eq!(param("/v1/audit", "limit", "maximum"), list as u64);
        let page = crate::app::admin::waitlist::MAX_PAGE as u64;
        assert_eq!(param("/v1/events/{event}/waitlist/signups", "limit", "maximum"), page);
        let schema = |name: &str, field: &str, bound: &str| {
            let s = &doc["components"]["schemas"][name]["properties"][field];
            s[bound]
                .as_u64()
                .or_else(|| s["oneOf"][0][bound].as_u64())
                .unwrap_or_else(|| panic!("{name}.{field}: {s}"))
        };
        use crate::core::waitlist::settings::{CONFIRM_WITHIN_RANGE, MAX_TICKETS_LIMIT, MAX_TITLE};
        assert_eq!(schema("WaitlistSettings", "max_tickets", "maximum"), u64::from(MAX_TICKETS_LIMIT));
        assert_eq!(schema("WaitlistSettings", "confirm_within_secs", "minimum"), CONFIRM_WITHIN_RANGE.0);
        assert_eq!(schema("WaitlistSettings", "confirm_within_secs", "maximum"), CONFIRM_WITHIN_RANGE.1);
        assert_eq!(schema("WaitlistSettings", "title", "maxLength"), MAX_TITLE as u64);
        assert_eq!(
            schema("NewOrganizer", "name", "maxLength"),
            crate::app::admin::organizers::MAX_NAME as u64
        );
        assert_eq!(
            schema("EntryRequest", "account", "maxLength"),
            crate::core::blacklist::MAX_ACCOUNT_ID as u64
        );
        assert_eq!(schema("EntryRequest", "reason", "maxLength"), crate::app::admin::MAX_REASON as u64);
    }
}
