//! Messages to an event's whole list over HTTP; the rules are `app::admin::broadcasts`'.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /v1/events/{event}/waitlist/broadcasts` | a draft | 201, the message |
//! | `GET /v1/events/{event}/waitlist/broadcasts` | | `{messages}` |
//! | `GET /v1/events/{event}/waitlist/broadcasts/{number}` | | the message |
//! | `POST /v1/events/{event}/waitlist/broadcasts/{number}/cancel` | | the message, cancelled |
//! | `POST /v1/events/{event}/waitlist/broadcasts/preview` | `{message, lang, signup}` | subject, text, HTML, recipients |
//! | `POST /v1/events/{event}/waitlist/broadcasts/test` | `{message, lang, to}` | `{message}`: its number in the history |

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, BadRequest, Body, CommonErrors, ErrorBody, NotTheirEvent, PayloadTooLarge};
use super::principal::Principal;
use super::{AdminState, EventPath};
use crate::app::admin::broadcasts::{
    BroadcastList, BroadcastPreviewRequest, BroadcastTestRequest, BroadcastView,
};
use crate::app::admin::waitlist::TestSent;
use crate::app::waitlist::usecases::broadcast::BroadcastPreview;
use crate::core::waitlist::broadcast::Draft;

/// The path of one message to the list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BroadcastPath {
    /// The event slug.
    #[param(pattern = "^[a-z0-9_-]{1,64}$", example = "spring-concert")]
    event: String,
    /// The message's number within the event.
    #[param(minimum = 1)]
    number: u64,
}

/// Write a message to the whole list
///
/// One text per language, to the signups still `waiting` (in line, or holding an open offer) or
/// to every `confirmed` one (those whose offer ended too); never to pending, cancelled or erased
/// signups. `purpose`: `service` goes to all of them (a message every signup needs), `news` only
/// to those who ticked "keep me informed". `languages` limits it to signups in those languages.
/// It goes now (leave out `at` and `before_start`), at `at`, or `before_start` the event's start
/// (which it follows if the start moves), and never after the start: a time in the past or
/// after the start is refused. The nodes queue it once it is due, one mail per recipient, each
/// in the message history as `message:{number}` with its fate. In the audit log. The event's
/// admins and the operator.
#[utoipa::path(
    post, path = "/v1/events/{event}/waitlist/broadcasts", operation_id = "scheduleBroadcast", tag = "waitlist",
    params(EventPath),
    request_body = Draft,
    responses(
        (status = 201, description = "Written; sent when due.", body = BroadcastView),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        (status = 404, description = "The event has no waitlist.", body = ErrorBody),
        (status = 409, description = "The event has 200 messages to the list.", body = ErrorBody),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn schedule(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
    body: Result<Body<Draft>, ApiError>,
) -> Result<Response, ApiError> {
    let Body(draft) = body?;
    let view = state.admin.schedule_broadcast(&who, &event, &draft).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// List the messages to the whole list
///
/// Every message to the event's list, in the order they were written, with where each stands
/// and how many mails it queued. Any token that reads the event.
#[utoipa::path(
    get, path = "/v1/events/{event}/waitlist/broadcasts", operation_id = "listBroadcasts", tag = "waitlist",
    params(EventPath),
    responses(
        (status = 200, description = "The messages.", body = BroadcastList),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        CommonErrors,
    )
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.broadcasts(&who, &event).await?).into_response())
}

/// Get one message to the whole list
///
/// The message, where it stands (`due` with the event's start as it is now) and how many mails
/// it queued. Any token that reads the event.
#[utoipa::path(
    get, path = "/v1/events/{event}/waitlist/broadcasts/{number}", operation_id = "getBroadcast", tag = "waitlist",
    params(BroadcastPath),
    responses(
        (status = 200, description = "The message.", body = BroadcastView),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        (status = 404, description = "No such message.", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn show(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(BroadcastPath { event, number }): Path<BroadcastPath>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.broadcast(&who, &event, number).await?).into_response())
}

/// Cancel a message to the whole list
///
/// A scheduled message is never sent; one being sent stops before its next page of recipients
/// (what was queued goes). Cancelling again answers it as cancelled; a message sent (or missed)
/// answers 409. In the audit log. The event's admins and the operator.
#[utoipa::path(
    post, path = "/v1/events/{event}/waitlist/broadcasts/{number}/cancel", operation_id = "cancelBroadcast",
    tag = "waitlist",
    params(BroadcastPath),
    responses(
        (status = 200, description = "Cancelled.", body = BroadcastView),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        (status = 404, description = "No such message.", body = ErrorBody),
        (status = 409, description = "Sent or missed already.", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn cancel(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(BroadcastPath { event, number }): Path<BroadcastPath>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.cancel_broadcast(&who, &event, number).await?).into_response())
}

/// Preview a message to the whole list
///
/// The draft (`message`, as it would be written) as a signup in `lang` (the event's first when
/// left out) would receive it, filled from signup `signup` or a sample one, with the
/// organizer's text in place; and `recipients`, how many signups it would reach now. Nothing is
/// stored or sent. Any token that reads the event.
#[utoipa::path(
    post, path = "/v1/events/{event}/waitlist/broadcasts/preview", operation_id = "previewBroadcast",
    tag = "waitlist",
    params(EventPath),
    request_body = BroadcastPreviewRequest,
    responses(
        (status = 200, description = "The message.", body = BroadcastPreview),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        (status = 404, description = "No such signup, or its data is erased.", body = ErrorBody),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn preview(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
    body: Result<Body<BroadcastPreviewRequest>, ApiError>,
) -> Result<Response, ApiError> {
    let Body(req) = body?;
    Ok(Json(state.admin.preview_broadcast(&who, &event, &req).await?).into_response())
}

/// Send a message to the whole list as a test
///
/// The draft, filled from a sample signup, to one address (staff's own): queued like any
/// message, in the history as `test:message` with its fate, and in the audit log. The event's
/// admins and the operator.
#[utoipa::path(
    post, path = "/v1/events/{event}/waitlist/broadcasts/test", operation_id = "testBroadcast", tag = "waitlist",
    params(EventPath),
    request_body = BroadcastTestRequest,
    responses(
        (status = 200, description = "Queued.", body = TestSent),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn test(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
    body: Result<Body<BroadcastTestRequest>, ApiError>,
) -> Result<Response, ApiError> {
    let Body(req) = body?;
    Ok(Json(state.admin.test_broadcast(&who, &event, &req).await?).into_response())
}
