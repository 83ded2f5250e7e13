//! Organizers and their tokens (operator only).
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /v1/organizers` | `{id, name}` | 201 `{id, name, token}`: the token is shown once |
//! | `GET /v1/organizers` | | `{organizers: [...]}` |
//! | `POST /v1/organizers/{id}/token` | | a new token; the old one stops working at once |

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::{ApiError, Body};
use super::principal::{token_key, Principal};
use super::{random_token, AdminState};
use crate::core::blacklist::is_slug;
use crate::ports::store::Store;

/// An organizer as stored under `org:<id>`.
#[derive(Serialize, Deserialize)]
struct Organizer {
    id: String,
    name: String,
    created_at_ms: u64,
    /// Store key of the current token's digest, so rotation can revoke it.
    token_key: String,
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

fn new_token(id: &str) -> String {
    format!("org_{id}_{}{}", random_token(), random_token())
}

/// `POST /v1/organizers`
pub async fn create(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Body(req): Body<NewOrganizer>,
) -> Result<Response, ApiError> {
    who.require_operator()?;
    if !is_slug(&req.id) {
        return Err(ApiError::bad("id: 1 to 64 of a-z, 0-9, '-', '_'"));
    }
    if req.name.trim().is_empty() || req.name.len() > 200 || req.name.chars().any(char::is_control) {
        return Err(ApiError::bad("name: 1 to 200 characters of text"));
    }
    if state.store.get(&org_key(&req.id)).await?.is_some() {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("organizer `{}` exists; rotate its token instead", req.id),
        ));
    }
    let token = new_token(&req.id);
    let org = Organizer {
        id: req.id.clone(),
        name: req.name.trim().to_owned(),
        created_at_ms: crate::hosts::audit::now_ms(),
        token_key: token_key(&token),
    };
    // Token first: an organizer record never points at a token that was not stored.
    state.store.set(&org.token_key, org.id.as_bytes(), None).await?;
    state.store.set(&org_key(&org.id), &serde_json::to_vec(&org).expect("serializes"), None).await?;
    tracing::info!(organizer = org.id, "organizer created");
    Ok((StatusCode::CREATED, Json(json!({ "id": org.id, "name": org.name, "token": token }))).into_response())
}

/// `GET /v1/organizers`
pub async fn list(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
) -> Result<Response, ApiError> {
    who.require_operator()?;
    let organizers: Vec<_> = state
        .store
        .scan_prefix("org:", 100_000)
        .await?
        .into_iter()
        .filter_map(|e| serde_json::from_slice::<Organizer>(&e.value).ok())
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
    let Some(raw) = state.store.get(&org_key(&id)).await? else {
        return Err(ApiError::not_found("no such organizer"));
    };
    let mut org: Organizer = serde_json::from_slice(&raw)
        .map_err(|_| ApiError(StatusCode::INTERNAL_SERVER_ERROR, "corrupt organizer".into()))?;
    let token = new_token(&id);
    let old = std::mem::replace(&mut org.token_key, token_key(&token));
    state.store.set(&org.token_key, org.id.as_bytes(), None).await?;
    state.store.set(&org_key(&id), &serde_json::to_vec(&org).expect("serializes"), None).await?;
    state.store.delete(&old).await?;
    tracing::info!(organizer = id, "organizer token rotated");
    Ok(Json(json!({ "id": id, "token": token })).into_response())
}
