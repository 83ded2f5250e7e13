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

use super::error::{
    ApiError, BadRequest, Body, CommonErrors, ErrorBody, NoSuchOrganizer, NotTheirOrganizer, OperatorOnly,
    PayloadTooLarge,
};
use super::principal::Principal;
use super::{AdminState, OrganizerPath};
use crate::app::admin::{
    NewOrganizer, OrganizerChange, OrganizerCreated, OrganizerDeleted, OrganizerList, OrganizerToken,
    OrganizerView,
};

/// Create an organizer and its token
///
/// Creates an organizer and issues its bearer token, which is shown only in this answer.
/// Operator token only. The body is JSON (`Content-Type: application/json`, at most 64 KiB).
#[utoipa::path(
    post, path = "/v1/organizers", operation_id = "createOrganizer", tag = "organizers",
    request_body = NewOrganizer,
    responses(
        (status = 201, description = "The organizer was created.", body = OrganizerCreated),
        (status = 400, response = BadRequest),
        (status = 403, response = OperatorOnly),
        (status = 409, description = "The organizer exists; rotate its token instead.", body = ErrorBody,
            example = json!({"error": "organizer `harbour-hall` exists; rotate its token instead"})),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn create(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    body: Result<Body<NewOrganizer>, ApiError>,
) -> Result<Response, ApiError> {
    who.may_create_organizers()?;
    let Body(req) = body?;
    Ok((StatusCode::CREATED, Json(state.admin.create_organizer(&who, &req).await?)).into_response())
}

/// List organizers
///
/// Every organizer. Operator token only.
#[utoipa::path(
    get, path = "/v1/organizers", operation_id = "listOrganizers", tag = "organizers",
    responses(
        (status = 200, description = "The organizers.", body = OrganizerList),
        (status = 403, response = OperatorOnly),
        CommonErrors,
    )
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.organizers(&who).await?).into_response())
}

/// Rotate an organizer's token
///
/// Issues a new token for the organizer, shown only in this answer; the old one stops working
/// at once. No request body. Operator token only.
#[utoipa::path(
    post, path = "/v1/organizers/{id}/token", operation_id = "rotateOrganizerToken", tag = "organizers",
    params(OrganizerPath),
    responses(
        (status = 200, description = "The new token.", body = OrganizerToken),
        (status = 400, response = BadRequest),
        (status = 403, response = OperatorOnly),
        (status = 404, response = NoSuchOrganizer),
        (status = 500, description = "The stored organizer record cannot be read.", body = ErrorBody,
            example = json!({"error": "corrupt organizer"})),
        CommonErrors,
    )
)]
pub async fn rotate(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(OrganizerPath { id }): Path<OrganizerPath>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.rotate_token(&who, &id).await?).into_response())
}

/// Get an organizer
///
/// The organizer's name and box-office setup. The operator token or the organizer's own admin
/// token.
#[utoipa::path(
    get, path = "/v1/organizers/{id}", operation_id = "getOrganizer", tag = "organizers",
    params(OrganizerPath),
    responses(
        (status = 200, description = "The organizer.", body = OrganizerView),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirOrganizer),
        (status = 404, response = NoSuchOrganizer),
        CommonErrors,
    )
)]
pub async fn show(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(OrganizerPath { id }): Path<OrganizerPath>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.organizer_view(&who, &id).await?).into_response())
}

/// Change an organizer's name or box-office address
///
/// Only the fields given change; `box_office_address: null` removes the address. The operator
/// token or the organizer's own admin token. Audited as `change_organizer`. The body is JSON
/// (`Content-Type: application/json`, at most 64 KiB).
#[utoipa::path(
    patch, path = "/v1/organizers/{id}", operation_id = "changeOrganizer", tag = "organizers",
    params(OrganizerPath),
    request_body = OrganizerChange,
    responses(
        (status = 200, description = "The organizer as changed.", body = OrganizerView),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirOrganizer),
        (status = 404, response = NoSuchOrganizer),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn change(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(OrganizerPath { id }): Path<OrganizerPath>,
    body: Result<Body<OrganizerChange>, ApiError>,
) -> Result<Response, ApiError> {
    who.may_change_organizer(&id)?;
    let Body(change) = body?;
    Ok(Json(state.admin.change_organizer(&who, &id, change).await?).into_response())
}

/// Issue an organizer's box-office token
///
/// Issues a new box-office token (`box.<organizer>.<secret>`), shown only in this answer; the
/// old one, and every staff session signed in with it, stop working at once. No request body.
/// The operator token or the organizer's own admin token. Audited as `rotate_box_office_token`.
#[utoipa::path(
    post, path = "/v1/organizers/{id}/box-office-token", operation_id = "rotateBoxOfficeToken",
    tag = "organizers",
    params(OrganizerPath),
    responses(
        (status = 200, description = "The new token.", body = OrganizerToken),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirOrganizer),
        (status = 404, response = NoSuchOrganizer),
        CommonErrors,
    )
)]
pub async fn rotate_box_office(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(OrganizerPath { id }): Path<OrganizerPath>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.rotate_box_office_token(&who, &id).await?).into_response())
}

/// Delete an organizer
///
/// Deletes the organizer's record: its admin and box-office tokens stop working at once, and
/// its staff sessions end. Its blacklist entries, event mappings and audit log stay. Operator
/// token only. Audited as `delete_organizer`.
#[utoipa::path(
    delete, path = "/v1/organizers/{id}", operation_id = "deleteOrganizer", tag = "organizers",
    params(OrganizerPath),
    responses(
        (status = 200, description = "Deleted.", body = OrganizerDeleted),
        (status = 400, response = BadRequest),
        (status = 403, response = OperatorOnly),
        (status = 404, response = NoSuchOrganizer),
        CommonErrors,
    )
)]
pub async fn delete(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(OrganizerPath { id }): Path<OrganizerPath>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.delete_organizer(&who, &id).await?).into_response())
}
