//! An event's waitlist settings over HTTP; the rules are `app::admin`'s.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /v1/events/{event}/waitlist` | | `{event, settings, confirmed_signups, confirmed_tickets}` |
//! | `PATCH /v1/events/{event}/waitlist` | the fields to change | the same, after the change |
//! | `GET /v1/events/{event}/waitlist/signups?after=&limit=&format=` | | a page of the list in line order: JSON `{signups, next}`, or CSV with the next cursor in `Doorman-Next` |
//! | `GET /v1/events/{event}/waitlist/messages?after=&limit=` | | a page of the message history: `{messages, next}` |

use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{
    ApiError, BadRequest, Body, CommonErrors, ErrorBody, NotTheirEvent, Params, PayloadTooLarge,
};
use super::principal::Principal;
use super::{AdminState, EventPath};
use crate::app::admin::history::MessagesPage;
use crate::app::admin::waitlist::{csv_page, ExportPage};
use crate::app::admin::SettingsAnswer;
use crate::core::waitlist::settings::SettingsChange;

/// Get an event's waitlist settings
///
/// The event's waitlist settings (defaults when never set) and its confirmed totals. The
/// operator token, or an admin or box-office token of the organizer the event is mapped to.
#[utoipa::path(
    get, path = "/v1/events/{event}/waitlist", operation_id = "getWaitlist", tag = "waitlist",
    params(EventPath),
    responses(
        (status = 200, description = "The settings.", body = SettingsAnswer),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        CommonErrors,
    )
)]
pub async fn get_settings(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.waitlist_settings(&who, &event).await?).into_response())
}

/// Change an event's waitlist settings
///
/// Changes only the fields given: mark the event sold out, activate or deactivate its waitlist
/// (deactivating keeps every signup and its status), the most tickets per signup, optional caps
/// (null removes one), how long a confirmation link lives, the languages offered (the first is
/// the default) and the organizer's own text per language, which every mail carries. The
/// operator token, or the admin token of the organizer the event is mapped to (box-office
/// tokens: 403). The body is JSON (`Content-Type: application/json`, at most 64 KiB).
#[utoipa::path(
    patch, path = "/v1/events/{event}/waitlist", operation_id = "changeWaitlist", tag = "waitlist",
    params(EventPath),
    request_body = SettingsChange,
    responses(
        (status = 200, description = "The settings after the change.", body = SettingsAnswer),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn change_settings(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
    body: Result<Body<SettingsChange>, ApiError>,
) -> Result<Response, ApiError> {
    let Body(change) = body?;
    Ok(Json(state.admin.change_waitlist(&who, &event, change).await?).into_response())
}

/// Query of `GET /v1/events/{event}/waitlist/signups`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// The line number the page starts after (default 0).
    #[param(minimum = 0, default = 0)]
    after: Option<u64>,
    /// Line numbers read (default 500, at most 1000).
    #[param(minimum = 1, maximum = 1000, default = 500)]
    limit: Option<usize>,
    /// `json` (default) or `csv`.
    #[param(pattern = "^(json|csv)$", default = "json")]
    format: Option<String>,
}

/// Export an event's waitlist, a page at a time
///
/// The confirmed signups of the event in line order (and those since offered seats, booked,
/// declined, lapsed or cancelled), with place, status, tickets, name, e-mail, phone, staff note,
/// language, account, times, and their latest offer's number, status and times. Each call reads at
/// most `limit` line numbers after `after`; pass `next` (JSON) or the `Doorman-Next` header
/// (CSV) as `after` for the next page, until there is none. CSV cells that a spreadsheet would
/// take for a formula get a leading `'`; the header row comes with the first page. The operator
/// token, or an admin or box-office token of the organizer the event is mapped to.
#[utoipa::path(
    get, path = "/v1/events/{event}/waitlist/signups", operation_id = "exportWaitlist", tag = "waitlist",
    params(EventPath, ExportQuery),
    responses(
        (status = 200, description = "One page.",
            headers(("Doorman-Next" = u64, description = "CSV only: the `after` of the next page, when there is one.")),
            content(
                (ExportPage = "application/json"),
                (String = "text/csv; charset=utf-8"),
            )
        ),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        CommonErrors,
    )
)]
pub async fn export(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
    Params(q): Params<ExportQuery>,
) -> Result<Response, ApiError> {
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(crate::app::admin::AdminError::bad(format!(
                "format `{other}` is neither json nor csv"
            ))
            .into())
        }
    };
    let after = q.after.unwrap_or(0);
    let page = state.admin.waitlist_export(&who, &event, after, q.limit.unwrap_or(500)).await?;
    if !csv {
        return Ok(Json(page).into_response());
    }
    let mut response = csv_page(&page, after == 0).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert("doorman-internal-notes", HeaderValue::from_static("included"));
    if let Some(next) = page.next {
        h.insert("doorman-next", HeaderValue::from(next));
    }
    Ok(response)
}

/// Query of `GET /v1/events/{event}/waitlist/messages`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// The message number the page starts after (default 0).
    #[param(minimum = 0, default = 0)]
    after: Option<u64>,
    /// Messages per page (default 100, at most 500).
    #[param(minimum = 1, maximum = 500, default = 100)]
    limit: Option<usize>,
}

/// Read an event's message history
///
/// Every mail of the event, oldest first: its number, channel, recipient, template
/// (`confirm`, `confirmed`, `already`, `offer`), when it was queued, and its status: `queued`
/// (waiting, or being retried), `sent` (the mail server took it) or `failed` (given up), with
/// when and after how many attempts. A page at a time: pass `next` as `after`. Reading it is in
/// the audit log, as an export is. The operator token, or an admin or box-office token of the
/// organizer the event is mapped to.
#[utoipa::path(
    get, path = "/v1/events/{event}/waitlist/messages", operation_id = "waitlistMessages", tag = "waitlist",
    params(EventPath, MessagesQuery),
    responses(
        (status = 200, description = "One page of the history.", body = MessagesPage),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        CommonErrors,
    )
)]
pub async fn messages(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
    Params(q): Params<MessagesQuery>,
) -> Result<Response, ApiError> {
    let page = state.admin.messages(&who, &event, q.after.unwrap_or(0), q.limit.unwrap_or(100)).await?;
    Ok(Json(page).into_response())
}

/// The path of one signup of an event.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SignupPath {
    /// The event slug.
    #[param(pattern = "^[a-z0-9_-]{1,64}$", example = "spring-concert")]
    event: String,
    /// The signup's id (as in exports).
    #[param(max_length = 64, example = "q3Vd0cJ5mY1bTn8Lr2Xw4A")]
    id: String,
}

/// A customer's own data
///
/// What Doorman holds about one signup, as the customer may download it themselves: the
/// signup (address, name, phone, tickets, status, place, times) and the messages about it;
/// never staff's notes. For a customer who asks staff. The read is in the audit log. Any token
/// that may export the event's list.
#[utoipa::path(
    get, path = "/v1/events/{event}/waitlist/signups/{id}/data", operation_id = "signupData", tag = "waitlist",
    params(SignupPath),
    responses(
        (status = 200, description = "The signup's data.", body = crate::app::waitlist::usecases::erase::SignupData),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        (status = 404, description = "No such signup, or its data is erased.", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn signup_data(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(SignupPath { event, id }): Path<SignupPath>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.signup_data(&who, &event, &id).await?).into_response())
}

/// Erase a customer's data
///
/// For a customer who asks staff: the signup gives up its place (those behind move up; an open
/// offer is declined and its seats pass on), its address, name, phone number, account and note
/// are erased, staff's note deleted, the recipients of its messages erased, and the customer
/// gets a last mail. Its status, tickets and line number stay, so the list still adds up.
/// Erasing again answers `already`. In the audit log by line number. Any token that may export
/// the event's list.
#[utoipa::path(
    post, path = "/v1/events/{event}/waitlist/signups/{id}/erase", operation_id = "eraseSignup", tag = "waitlist",
    params(SignupPath),
    responses(
        (status = 200, description = "Erased now, or before.", body = crate::app::admin::waitlist::ErasedAnswer),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        (status = 404, description = "No such signup.", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn erase_signup(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(SignupPath { event, id }): Path<SignupPath>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.erase_signup(&who, &event, &id).await?).into_response())
}

/// Preview a message
///
/// A template (`confirm`, `confirmed`, `already`, `offer`, `erased`) as a customer would
/// receive it: subject, text and HTML, in any language the event offers (its first when left
/// out), with the organizer's text in place and the placeholders filled from a signup (`signup`,
/// its id) or from a sample one. Nothing is sent. Any token that reads the event.
#[utoipa::path(
    post, path = "/v1/events/{event}/waitlist/messages/preview", operation_id = "previewMessage", tag = "waitlist",
    params(EventPath),
    request_body = crate::app::admin::waitlist::PreviewRequest,
    responses(
        (status = 200, description = "The message.", body = crate::app::waitlist::usecases::preview::Preview),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        (status = 404, description = "No such signup, or its data is erased.", body = ErrorBody),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn preview_message(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
    body: Result<Body<crate::app::admin::waitlist::PreviewRequest>, ApiError>,
) -> Result<Response, ApiError> {
    let Body(req) = body?;
    Ok(Json(state.admin.preview_message(&who, &event, &req).await?).into_response())
}

/// Send a message as a test
///
/// A template filled from a sample signup, to one address (staff's own): queued in the outbox
/// like any message, noted in the event's history as `test:<template>` with its fate, and in
/// the audit log. The event's admins and the operator.
#[utoipa::path(
    post, path = "/v1/events/{event}/waitlist/messages/test", operation_id = "testMessage", tag = "waitlist",
    params(EventPath),
    request_body = crate::app::admin::waitlist::TestSendRequest,
    responses(
        (status = 200, description = "Queued.", body = crate::app::admin::waitlist::TestSent),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn test_message(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
    body: Result<Body<crate::app::admin::waitlist::TestSendRequest>, ApiError>,
) -> Result<Response, ApiError> {
    let Body(req) = body?;
    Ok(Json(state.admin.test_send(&who, &event, &req).await?).into_response())
}
