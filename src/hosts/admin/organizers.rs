//! Organizers and their tokens (operator only).
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /v1/organizers` | `{id, name}` | 201 `{id, name, token}`: the token is shown once |
//! | `GET /v1/organizers` | | `{organizers: [...]}` |
//! | `POST /v1/organizers/{id}/token` | | a new token; the old one stops working with the same write |
//!
//! An organizer's record (`org:<id>`) holds the digest of its one valid token, so there is never
//! a valid token the record does not name.

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::blacklist::audit_admin;
use super::error::{slug, ApiError, Body};
use super::principal::{token_digest, Principal};
use super::{random_token, AdminState};
use crate::adapters::store::AnyStore;
use crate::core::blacklist::audit::AuditAction;
use crate::core::blacklist::Scope;
use crate::ports::store::{Store, StoreError};

/// An organizer as stored under `org:<id>`.
#[derive(Serialize, Deserialize)]
pub struct OrganizerRecord {
    /// The slug.
    pub id: String,
    /// Display name.
    pub name: String,
    /// When it was created, Unix milliseconds.
    pub created_at_ms: u64,
    /// SHA-256 (hex) of the one valid token.
    pub token_digest: String,
}

/// Body of `POST /v1/organizers`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganizer {
    id: String,
    name: String,
}

fn org_key(id: &str) -> String {
    format!("org:{id}")
}

/// A new token for organizer `id`: `org.<id>.<64 hex digits>`.
fn new_token(id: &str) -> String {
    format!("org.{id}.{}{}", random_token(), random_token())
}

/// The record of organizer `id`, if any.
pub async fn load(store: &AnyStore, id: &str) -> Result<Option<OrganizerRecord>, StoreError> {
    let Some(raw) = store.get(&org_key(id)).await? else { return Ok(None) };
    serde_json::from_slice(&raw).map(Some).map_err(|e| StoreError::Failed(format!("organizer {id}: {e}")))
}

async fn save(store: &AnyStore, org: &OrganizerRecord) -> Result<(), StoreError> {
    store.set(&org_key(&org.id), &serde_json::to_vec(org).expect("an organizer serializes"), None).await
}

/// `POST /v1/organizers`
pub async fn create(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    body: Result<Body<NewOrganizer>, ApiError>,
) -> Result<Response, ApiError> {
    who.require_operator()?;
    let Body(req) = body?;
    slug("id", &req.id)?;
    if req.name.trim().is_empty() || req.name.len() > 200 || req.name.chars().any(char::is_control) {
        return Err(ApiError::bad("name: 1 to 200 characters of text"));
    }
    if load(&state.ports.store, &req.id).await?.is_some() {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("organizer `{}` exists; rotate its token instead", req.id),
        ));
    }
    let token = new_token(&req.id);
    let org = OrganizerRecord {
        id: req.id,
        name: req.name.trim().to_owned(),
        created_at_ms: state.ports.clock.unix_ms(),
        token_digest: token_digest(&token),
    };
    save(&state.ports.store, &org).await?;
    tracing::info!(organizer = org.id, "organizer created");
    audit_admin(
        &state,
        &who,
        AuditAction::CreateOrganizer,
        "organizer",
        &org.id,
        &Scope::Organizer(org.id.clone()),
    )
    .await;
    Ok((StatusCode::CREATED, Json(json!({ "id": org.id, "name": org.name, "token": token }))).into_response())
}

/// `GET /v1/organizers`
pub async fn list(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
) -> Result<Response, ApiError> {
    who.require_operator()?;
    let organizers: Vec<_> = state
        .ports
        .store
        .scan_prefix("org:", 100_000)
        .await?
        .into_iter()
        .filter_map(|e| serde_json::from_slice::<OrganizerRecord>(&e.value).ok())
        .map(|o| json!({ "id": o.id, "name": o.name }))
        .collect();
    Ok(Json(json!({ "organizers": organizers })).into_response())
}

/// `POST /v1/organizers/{id}/token`
pub async fn rotate(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    who.require_operator()?;
    slug("id", &id)?;
    let Some(mut org) = load(&state.ports.store, &id).await? else {
        return Err(ApiError::not_found("no such organizer"));
    };
    let token = new_token(&id);
    org.token_digest = token_digest(&token);
    save(&state.ports.store, &org).await?;
    tracing::info!(organizer = id, "organizer token rotated");
    audit_admin(&state, &who, AuditAction::RotateToken, "organizer", &id, &Scope::Organizer(id.clone()))
        .await;
    Ok(Json(json!({ "id": id, "token": token })).into_response())
}
