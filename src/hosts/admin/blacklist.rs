//! The admin API of the blacklist, the event → organizer map and the audit log, over HTTP; the
//! rules are `app::admin`'s.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /v1/blacklist` | `{account \| email \| email_hash, organizer?, reason?, expires_in?}` | 201 entry (with a `warning` when no event maps to the organizer) |
//! | `POST /v1/blacklist/remove` | `{account \| email \| email_hash, organizer?}` | 200 / 404 |
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

use super::error::{ApiError, Body, Params};
use super::principal::Principal;
use super::AdminState;
pub use crate::app::admin::EntryRequest;

/// `POST /v1/blacklist`
pub async fn add(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Body(req): Body<EntryRequest>,
) -> Result<Response, ApiError> {
    Ok((StatusCode::CREATED, Json(state.admin.add_entry(&who, &req).await?)).into_response())
}

/// `POST /v1/blacklist/remove`
pub async fn remove(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Body(req): Body<EntryRequest>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.remove_entry(&who, &req).await?).into_response())
}

/// Query of `GET /v1/blacklist`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    organizer: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// Query of `GET /v1/audit`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    organizer: Option<String>,
    limit: Option<usize>,
    before: Option<String>,
}

/// `GET /v1/blacklist`
pub async fn list(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Params(q): Params<ListQuery>,
) -> Result<Response, ApiError> {
    let page = state.admin.list_entries(&who, q.organizer.as_deref(), q.limit, q.cursor.as_deref()).await?;
    Ok(Json(page).into_response())
}

/// Body of `PUT /v1/events/{event}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRequest {
    organizer: String,
}

/// `PUT /v1/events/{event}`
pub async fn put_event(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(event): Path<String>,
    body: Result<Body<EventRequest>, ApiError>,
) -> Result<Response, ApiError> {
    who.require_operator()?;
    let Body(req) = body?;
    Ok(Json(state.admin.map_event(&who, &event, &req.organizer).await?).into_response())
}

/// `GET /v1/events/{event}`
pub async fn get_event(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(event): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.event(&who, &event).await?).into_response())
}

/// Body of `POST /v1/hash-email`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashRequest {
    email: String,
}

/// `POST /v1/hash-email`: the hash the blacklist would store for an address.
pub async fn hash_email(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Body(req): Body<HashRequest>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.hash_email(&who, &req.email)?).into_response())
}

/// `GET /v1/audit?organizer=&limit=&before=`: a page of records, newest first.
pub async fn audit_log(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Params(q): Params<AuditQuery>,
) -> Result<Response, ApiError> {
    let page = state.admin.audit_log(&who, q.organizer.as_deref(), q.limit, q.before.as_deref()).await?;
    Ok(Json(page).into_response())
}
