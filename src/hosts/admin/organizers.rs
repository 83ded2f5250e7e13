//! Organizers and their tokens (operator only), over HTTP; the rules are `app::admin`'s.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /v1/organizers` | `{id, name}` | 201 `{id, name, token}`: the token is shown once |
//! | `GET /v1/organizers` | | `{organizers: [...]}` |
//! | `POST /v1/organizers/{id}/token` | | a new token; the old one stops working with the same write |
//! | `DELETE /v1/organizers/{id}` | | deletes it (operator): its tokens stop working at once |
//! | `GET /v1/organizers/{id}` | | `{id, name, box_office_address, box_office_token}` (operator or the organizer's admin) |
//! | `PATCH /v1/organizers/{id}` | `{name?, box_office_address?}` | the organizer; `null` removes the address |
//! | `POST /v1/organizers/{id}/box-office-token` | | a new box-office token, shown once; the old one and its staff sessions stop working |

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::{ApiError, Body};
use super::principal::Principal;
use super::AdminState;
use crate::app::admin::{NewOrganizer, OrganizerChange};

/// `POST /v1/organizers`
pub async fn create(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    body: Result<Body<NewOrganizer>, ApiError>,
) -> Result<Response, ApiError> {
    who.require_operator()?;
    let Body(req) = body?;
    Ok((StatusCode::CREATED, Json(state.admin.create_organizer(&who, &req).await?)).into_response())
}

/// `GET /v1/organizers`
pub async fn list(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.organizers(&who).await?).into_response())
}

/// `POST /v1/organizers/{id}/token`
pub async fn rotate(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.rotate_token(&who, &id).await?).into_response())
}

/// `GET /v1/organizers/{id}`
pub async fn show(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.organizer_view(&who, &id).await?).into_response())
}

/// `PATCH /v1/organizers/{id}`
pub async fn change(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    body: Result<Body<OrganizerChange>, ApiError>,
) -> Result<Response, ApiError> {
    who.require_organizer_admin(&id)?;
    let Body(change) = body?;
    Ok(Json(state.admin.change_organizer(&who, &id, change).await?).into_response())
}

/// `POST /v1/organizers/{id}/box-office-token`
pub async fn rotate_box_office(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.rotate_box_office_token(&who, &id).await?).into_response())
}

/// `DELETE /v1/organizers/{id}`
pub async fn delete(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.delete_organizer(&who, &id).await?).into_response())
}
