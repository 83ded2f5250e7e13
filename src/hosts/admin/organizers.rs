//! Organizers and their tokens (operator only), over HTTP; the rules are `app::admin`'s.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /v1/organizers` | `{id, name}` | 201 `{id, name, token}`: the token is shown once |
//! | `GET /v1/organizers` | | `{organizers: [...]}` |
//! | `POST /v1/organizers/{id}/token` | | a new token; the old one stops working with the same write |

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::{ApiError, Body};
use super::principal::Principal;
use super::AdminState;
use crate::app::admin::NewOrganizer;

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
