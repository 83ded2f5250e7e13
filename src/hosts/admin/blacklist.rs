//! The admin API of the blacklist and of the event → organizer map.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /v1/blacklist` | `{account \| email \| email_hash, organizer?, reason?, expires_in?}` | 201 entry |
//! | `POST /v1/blacklist/remove` | `{account \| email \| email_hash, organizer?}` | 200 / 404 |
//! | `GET /v1/blacklist?organizer=&limit=` | | 200 `{entries: [...]}` |
//! | `PUT /v1/events/{event}` | `{organizer}` | 200 |
//! | `GET /v1/events/{event}` | | 200 / 404 |
//! | `POST /v1/hash-email` | `{email}` | 200 `{email_hash}` |
//!
//! Addresses are hashed on arrival and never stored, logged or echoed. Errors are JSON
//! `{"error": "..."}` with 400 (bad input), 404, 409 (no blacklist in the policy) or 503 (store).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::AdminState;
use crate::core::blacklist::entry::Entry;
use crate::core::blacklist::{entry_key, event_key, is_account_id, is_slug, Identity, Scope, ENTRY_PREFIX};
use crate::core::email::canonicalize;
use crate::core::email_hash::is_hash_hex;
use crate::ports::store::{Store, StoreError};

/// Longest `reason` accepted.
const MAX_REASON: usize = 500;
/// Most entries one list call returns.
const MAX_LIST: usize = 10_000;

/// An admin API error: status and a message for the caller.
pub struct ApiError(StatusCode, String);

impl ApiError {
    fn bad(msg: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, msg.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::warn!(error = %e, "admin: store failed");
        Self(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable; nothing was changed".into())
    }
}

/// `Json<T>` whose rejections are JSON 400s naming the problem.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(ApiError(
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    rejection.status()
                } else {
                    StatusCode::BAD_REQUEST
                },
                rejection.body_text(),
            )),
        }
    }
}

/// Who an add or remove is about: exactly one of the three.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRequest {
    account: Option<String>,
    email: Option<String>,
    email_hash: Option<String>,
    organizer: Option<String>,
    reason: Option<String>,
    /// A duration such as `30d` or `12h`.
    expires_in: Option<String>,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn identity(state: &AdminState, req: &EntryRequest) -> Result<Identity, ApiError> {
    let blacklist = state.blacklist.as_ref().ok_or_else(|| {
        ApiError(StatusCode::CONFLICT, "the policy has no [blacklist] section: nothing to manage".into())
    })?;
    match (&req.account, &req.email, &req.email_hash) {
        (Some(a), None, None) if is_account_id(a) => Ok(Identity::Account(a.clone())),
        (Some(_), None, None) => {
            Err(ApiError::bad("account: 1 to 256 characters, no control characters or outer spaces"))
        }
        (None, Some(e), None) => {
            let canonical =
                canonicalize(e, blacklist.rules).map_err(|e| ApiError::bad(format!("email: {e}")))?;
            Ok(Identity::EmailHash(blacklist.hasher.hash_hex(&canonical)))
        }
        (None, None, Some(h)) if is_hash_hex(h) => Ok(Identity::EmailHash(h.clone())),
        (None, None, Some(_)) => Err(ApiError::bad("email_hash: 64 lowercase hex digits")),
        _ => Err(ApiError::bad("give exactly one of account, email, email_hash")),
    }
}

fn scope(organizer: &Option<String>) -> Result<Scope, ApiError> {
    match organizer {
        None => Ok(Scope::Platform),
        Some(o) if is_slug(o) => Ok(Scope::Organizer(o.clone())),
        Some(_) => Err(ApiError::bad("organizer: 1 to 64 of a-z, 0-9, '-', '_'")),
    }
}

fn entry_json(e: &Entry) -> serde_json::Value {
    let time = |t: u64| humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(t)).to_string();
    json!({
        "kind": e.kind, "value": e.value,
        "organizer": if e.scope == "*" { None } else { Some(&e.scope) },
        "reason": e.reason, "added_by": e.added_by, "added_at": time(e.added_at),
        "expires_at": e.expires_at.map(time),
    })
}

/// `POST /v1/blacklist`
pub async fn add(
    State(state): State<AdminState>,
    Body(req): Body<EntryRequest>,
) -> Result<Response, ApiError> {
    let identity = identity(&state, &req)?;
    let scope = scope(&req.organizer)?;
    let reason = req.reason.unwrap_or_default();
    if reason.len() > MAX_REASON || reason.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::bad(format!("reason: at most {MAX_REASON} bytes of text")));
    }
    let ttl = req
        .expires_in
        .as_deref()
        .map(|d| humantime::parse_duration(d).map_err(|e| ApiError::bad(format!("expires_in: `{d}`: {e}"))))
        .transpose()?;
    if ttl.is_some_and(|t| t.is_zero() || t > Duration::from_secs(100 * 365 * 86_400)) {
        return Err(ApiError::bad("expires_in: more than 0 and at most 100 years"));
    }
    let added_at = now();
    let entry = Entry {
        kind: identity.kind().into(),
        value: identity.value().into(),
        scope: scope.as_str().into(),
        reason,
        added_by: "operator".into(),
        added_at,
        expires_at: ttl.map(|t| added_at + t.as_secs()),
    };
    let value = serde_json::to_vec(&entry).expect("an entry serializes");
    state.store.set(&entry_key(&identity, &scope), &value, ttl).await?;
    tracing::info!(kind = entry.kind, scope = entry.scope, "blacklist: entry added");
    Ok((StatusCode::CREATED, Json(entry_json(&entry))).into_response())
}

/// `POST /v1/blacklist/remove`
pub async fn remove(
    State(state): State<AdminState>,
    Body(req): Body<EntryRequest>,
) -> Result<Response, ApiError> {
    if req.reason.is_some() || req.expires_in.is_some() {
        return Err(ApiError::bad("remove takes only account, email or email_hash, and organizer"));
    }
    let identity = identity(&state, &req)?;
    let scope = scope(&req.organizer)?;
    if state.store.delete(&entry_key(&identity, &scope)).await? {
        tracing::info!(kind = identity.kind(), scope = scope.as_str(), "blacklist: entry removed");
        Ok(Json(json!({ "removed": true })).into_response())
    } else {
        Err(ApiError(StatusCode::NOT_FOUND, "no such entry".into()))
    }
}

/// Query of `GET /v1/blacklist`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    organizer: Option<String>,
    limit: Option<usize>,
}

/// `GET /v1/blacklist`
pub async fn list(
    State(state): State<AdminState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad(e.body_text()))?;
    let scope = q.organizer.as_ref().map(|_| scope(&q.organizer)).transpose()?;
    let limit = q.limit.unwrap_or(1000).min(MAX_LIST);
    let mut entries = Vec::new();
    for item in state.store.scan_prefix(ENTRY_PREFIX, MAX_LIST * 4).await? {
        let Ok(entry) = serde_json::from_slice::<Entry>(&item.value) else { continue };
        if scope.as_ref().is_none_or(|s| *s == entry.scope()) {
            entries.push(entry_json(&entry));
        }
        if entries.len() >= limit {
            break;
        }
    }
    Ok(Json(json!({ "entries": entries })).into_response())
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
    Path(event): Path<String>,
    Body(req): Body<EventRequest>,
) -> Result<Response, ApiError> {
    if !is_slug(&event) || !is_slug(&req.organizer) {
        return Err(ApiError::bad("event and organizer: 1 to 64 of a-z, 0-9, '-', '_'"));
    }
    state.store.set(&event_key(&event), req.organizer.as_bytes(), None).await?;
    Ok(Json(json!({ "event": event, "organizer": req.organizer })).into_response())
}

/// `GET /v1/events/{event}`
pub async fn get_event(
    State(state): State<AdminState>,
    Path(event): Path<String>,
) -> Result<Response, ApiError> {
    if !is_slug(&event) {
        return Err(ApiError::bad("event: 1 to 64 of a-z, 0-9, '-', '_'"));
    }
    match state.store.get(&event_key(&event)).await? {
        Some(org) => {
            Ok(Json(json!({ "event": event, "organizer": String::from_utf8_lossy(&org) })).into_response())
        }
        None => Err(ApiError(StatusCode::NOT_FOUND, "no such event".into())),
    }
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
    Body(req): Body<HashRequest>,
) -> Result<Response, ApiError> {
    let blacklist = state
        .blacklist
        .as_ref()
        .ok_or_else(|| ApiError(StatusCode::CONFLICT, "the policy has no [blacklist] section".into()))?;
    let canonical =
        canonicalize(&req.email, blacklist.rules).map_err(|e| ApiError::bad(format!("email: {e}")))?;
    Ok(Json(json!({ "email_hash": blacklist.hasher.hash_hex(&canonical) })).into_response())
}
