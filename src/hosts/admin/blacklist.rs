//! The admin API of the blacklist, the event → organizer map and the audit log, over HTTP; the
//! rules are `app::admin`'s.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /v1/blacklist` | `{account \| email \| email_hash, organizer?, reason?, expires_in?}` | 201 entry (with a `warning` when no event maps to the organizer) |
//! | `POST /v1/blacklist/remove` | `{account \| email \| email_hash, organizer?}` | 200 / 404 |
//! | `POST /v1/blacklist/status` | `{account \| email \| email_hash, organizer? \| event?}` | 200 `{blacklisted, entries}` |
//! | `GET /v1/blacklist?organizer=&limit=&cursor=` | | 200 `{entries: [...], next}` (a page; go on with `cursor=next` while `next` is not null) |
//! | `PUT /v1/events/{event}` | `{organizer}` | 200 |
//! | `GET /v1/events/{event}` | | 200 / 404 |
//! | `POST /v1/hash-email` | `{email}` | 200 `{email_hash}` |
//! | `GET /v1/audit?organizer=&limit=&before=` | | 200 `{records: [...], next}` (newest first; go on with `before=next`) |
//!
//! Errors are JSON `{"error": "..."}` with 400 (bad input), 403 (another organizer's data), 404,
//! 409 (no blacklist in the policy) or 503 (store).

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::{
    ApiError, BadRequest, Body, CommonErrors, ErrorBody, Forbidden, NoBlacklist, OperatorOnly, Params,
    PayloadTooLarge,
};
use super::principal::Principal;
use super::{AdminState, EventPath};
pub use crate::app::admin::EntryRequest;
use crate::app::admin::{
    AuditPage, EmailHashAnswer, EntryPage, EntryView, EventMapping, Removed, StatusAnswer, StatusRequest,
};

/// Add a blacklist entry
///
/// Blacklists an account or an e-mail address, platform-wide (operator without `organizer`) or
/// for one organizer. An address is hashed on arrival and only the hash is stored and answered.
/// Organizer tokens add to their own organizer only. The change is written to the audit log.
/// The body is JSON (`Content-Type: application/json`, at most 64 KiB).
#[utoipa::path(
    post, path = "/v1/blacklist", operation_id = "addBlacklistEntry", tag = "blacklist",
    request_body = EntryRequest,
    responses(
        (status = 201, description = "The entry was added (or replaced).", body = EntryView),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = NoBlacklist),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn add(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Body(req): Body<EntryRequest>,
) -> Result<Response, ApiError> {
    Ok((StatusCode::CREATED, Json(state.admin.add_entry(&who, &req).await?)).into_response())
}

/// Remove a blacklist entry
///
/// Removes one entry, which stops applying at once: exactly one of `account`, `email`,
/// `email_hash` and `account_hash`, and the organizer whose entry it is (none: the
/// platform-wide entry for the operator, the caller's own organizer for an organizer token).
/// `reason`, `expires_in` and `expires_at` are refused with 400. The change is written to the
/// audit log. The body is JSON (`Content-Type: application/json`, at most 64 KiB).
#[utoipa::path(
    post, path = "/v1/blacklist/remove", operation_id = "removeBlacklistEntry", tag = "blacklist",
    request_body(content = EntryRequest, example = json!({"email": "mallory@example.com"})),
    responses(
        (status = 200, description = "The entry was removed.", body = Removed),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, description = "There is no such entry in that scope.", body = ErrorBody,
            example = json!({"error": "no such entry"})),
        (status = 409, response = NoBlacklist),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn remove(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Body(req): Body<EntryRequest>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.remove_entry(&who, &req).await?).into_response())
}

/// One customer's blacklist status
///
/// Whether an entry applies to a customer for the organizer asking, and which (scope, reason,
/// expiry): for the backend's customer-details screen. Exactly one of `account`, `email`,
/// `email_hash` and `account_hash`; the organizer asking is an organizer token's own, or the
/// operator's `organizer`, or the organizer of `event`; without either the operator asks about
/// platform-wide entries only. A POST, so that an address never stands in a URL (and so in an
/// access log); it is hashed on arrival and answered as its hash. Box-office tokens get 403.
#[utoipa::path(
    post, path = "/v1/blacklist/status", operation_id = "blacklistStatus", tag = "blacklist",
    request_body = StatusRequest,
    responses(
        (status = 200, description = "Whether entries apply, and which.", body = StatusAnswer),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = NoBlacklist),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn status(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Body(req): Body<StatusRequest>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.blacklist_status(&who, &req).await?).into_response())
}

/// Query of `GET /v1/blacklist`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this organizer's entries (1 to 64 of `a-z`, `0-9`, `-`, `_`; an empty value is
    /// refused). Without it the operator gets every scope, platform-wide and all organizers',
    /// and an organizer token its own organizer. An organizer token naming another organizer
    /// gets 403.
    #[param(pattern = "^[a-z0-9_-]{1,64}$", example = "harbour-hall")]
    organizer: Option<String>,
    /// About this many (default 1000; 1 to 10000).
    #[param(minimum = 1, maximum = 10000, default = 1000)]
    limit: Option<usize>,
    /// Where the page starts: the `next` of the page before (opaque); none for the first page.
    cursor: Option<String>,
}

/// Query of `GET /v1/audit`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only this organizer's records (1 to 64 of `a-z`, `0-9`, `-`, `_`; an empty value is
    /// refused). Without it the operator gets every scope, platform-wide and all organizers',
    /// and an organizer token its own organizer. An organizer token naming another organizer
    /// gets 403.
    #[param(pattern = "^[a-z0-9_-]{1,64}$", example = "harbour-hall")]
    organizer: Option<String>,
    /// At most this many (default 100; 1 to 10000).
    #[param(minimum = 1, maximum = 10000, default = 100)]
    limit: Option<usize>,
    /// Records older than this: the `next` of the page before; none for the newest.
    #[param(pattern = "^[1-9][0-9]*$")]
    before: Option<String>,
}

/// List blacklist entries
///
/// A page of live entries, in the store's order (key order on the embedded store, Redis's SCAN
/// order). The operator sees every scope unless it names an organizer; an organizer token sees
/// only its own organizer's entries. Each call does bounded store work (store pages of 100
/// keys, at most 100 of them), so a page may hold fewer entries than `limit`, even none, while
/// `next` says more follow; never more than `limit`. Go on with `cursor=next` until `next` is
/// null. On Redis an entry may appear on two
/// pages while the keyspace is resized; none is ever missed.
#[utoipa::path(
    get, path = "/v1/blacklist", operation_id = "listBlacklistEntries", tag = "blacklist",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of entries.", body = EntryPage),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        CommonErrors,
    )
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Params(q): Params<ListQuery>,
) -> Result<Response, ApiError> {
    let page = state.admin.list_entries(&who, q.organizer.as_deref(), q.limit, q.cursor.as_deref()).await?;
    Ok(Json(page).into_response())
}

/// Body of `PUT /v1/events/{event}`: the organizer an event belongs to.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"organizer": "harbour-hall"}))]
#[serde(deny_unknown_fields)]
pub struct EventRequest {
    /// The organizer slug (1 to 64 of `a-z`, `0-9`, `-`, `_`).
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    organizer: String,
}

/// Set an event's organizer
///
/// Maps the event to an organizer, so that organizer's entries apply to its checkouts
/// (platform-wide entries always apply). Replaces any earlier mapping. Operator token only. The
/// body is JSON (`Content-Type: application/json`, at most 64 KiB).
#[utoipa::path(
    put, path = "/v1/events/{event}", operation_id = "putEvent", tag = "events",
    params(EventPath),
    request_body = EventRequest,
    responses(
        (status = 200, description = "The mapping was stored.", body = EventMapping),
        (status = 400, response = BadRequest),
        (status = 403, response = OperatorOnly),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn put_event(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
    body: Result<Body<EventRequest>, ApiError>,
) -> Result<Response, ApiError> {
    who.may_map_events()?;
    let Body(req) = body?;
    Ok(Json(state.admin.map_event(&who, &event, &req.organizer).await?).into_response())
}

/// Get an event's organizer
///
/// Which organizer's entries apply to the event's checkouts. Operator token only.
#[utoipa::path(
    get, path = "/v1/events/{event}", operation_id = "getEvent", tag = "events",
    params(EventPath),
    responses(
        (status = 200, description = "The event's organizer.", body = EventMapping),
        (status = 400, response = BadRequest),
        (status = 403, response = OperatorOnly),
        (status = 404, description = "The event has no organizer.", body = ErrorBody,
            example = json!({"error": "no such event"})),
        CommonErrors,
    )
)]
pub async fn get_event(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.event(&who, &event).await?).into_response())
}

/// Body of `POST /v1/hash-email`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"email": "ada@example.com"}))]
#[serde(deny_unknown_fields)]
pub struct HashRequest {
    /// The address; it is not stored, logged or echoed.
    email: String,
}

/// Hash an e-mail address
///
/// The hash the blacklist would store for an address (canonicalized and hashed as at checkout).
/// Nothing is stored. Any valid admin token (not box-office tokens). The body is JSON
/// (`Content-Type: application/json`, at most 64 KiB).
#[utoipa::path(
    post, path = "/v1/hash-email", operation_id = "hashEmail", tag = "blacklist",
    request_body = HashRequest,
    responses(
        (status = 200, description = "The hash.", body = EmailHashAnswer),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 409, response = NoBlacklist),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn hash_email(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Body(req): Body<HashRequest>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.hash_email(&who, &req.email)?).into_response())
}

/// Read the audit log
///
/// A page of records, newest first: every add and remove, every blocked checkout, and every
/// change to events and organizers. The operator sees every scope unless it names an organizer;
/// an organizer token sees its own organizer's records. Each page is a few store reads,
/// whatever the log's length. Go on with `before=next` until `next` is null. Records are kept
/// for 400 days.
#[utoipa::path(
    get, path = "/v1/audit", operation_id = "getAuditLog", tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of records.", body = AuditPage),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        CommonErrors,
    )
)]
pub async fn audit_log(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Params(q): Params<AuditQuery>,
) -> Result<Response, ApiError> {
    let page = state.admin.audit_log(&who, q.organizer.as_deref(), q.limit, q.before.as_deref()).await?;
    Ok(Json(page).into_response())
}
