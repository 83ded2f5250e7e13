//! Offers of freed seats over HTTP; the rules are `app::admin`'s and the waitlist's.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /v1/events/{event}/waitlist/release` | `{seats, dry_run?}` | the offers made (or that would be) |
//! | `GET /v1/events/{event}/waitlist/offers?after=&limit=` | | `{offers, next}` in the order made |
//! | `POST /v1/events/{event}/waitlist/offers` | `{signup, link?, text?, hours?}` | 201 the offer |
//! | `POST /v1/events/{event}/waitlist/offers/{number}/taken` | | the offer, taken |
//! | `POST /v1/events/{event}/waitlist/offers/{number}/withdraw` | | the offer, withdrawn |

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::{
    ApiError, BadRequest, Body, CommonErrors, ErrorBody, NotTheirEvent, Params, PayloadTooLarge,
};
use super::principal::Principal;
use super::{AdminState, EventPath};
use crate::app::admin::offers::{EndedView, OffersPage};
use crate::app::waitlist::usecases::{Ending, OfferNotice, Release, StaffOffer};

/// A report of freed seats.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SeatsFreed, example = json!({"seats": 2, "dry_run": true}))]
pub struct SeatsFreed {
    /// Seats freed (1 to 10000).
    #[schema(minimum = 1, maximum = 10000)]
    pub seats: i64,
    /// Answer who would receive offers, storing and sending nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Staff's offer to one signup.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewOffer, example = json!({"signup": "q7Xw1cY0f3N2o8bV5kT9aA", "link": "https://shop.example/pay/r-1042", "text": "Row 5, seats 11 and 12.", "hours": 24}))]
pub struct NewOffer {
    /// The signup (its id, as in the export).
    pub signup: String,
    /// The link the customer books with (a reservation's payment link, an allocation's action
    /// link): an http(s) URL. Without one, the event's `offer_link` template.
    pub link: Option<String>,
    /// Staff's own text for the offer mail (at most 4000 characters).
    pub text: Option<String>,
    /// Hours the offer holds (1 to 336; default: the event's `offer_hours`).
    #[schema(minimum = 1, maximum = 336)]
    pub hours: Option<u32>,
}

/// The path of one offer.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OfferPath {
    /// The event slug.
    #[param(pattern = "^[a-z0-9_-]{1,64}$", example = "spring-concert")]
    event: String,
    /// The offer's number within the event.
    #[param(minimum = 1)]
    number: u64,
}

/// Query of `GET /v1/events/{event}/waitlist/offers`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OffersQuery {
    /// The offer number the page starts after (default 0).
    #[param(minimum = 0, default = 0)]
    after: Option<u64>,
    /// Offers per page (default 100, at most 500).
    #[param(minimum = 1, maximum = 500, default = 100)]
    limit: Option<usize>,
}

/// Report freed seats
///
/// In automatic mode, the seats go to the confirmed signups that have waited longest, each
/// signup's whole ticket count or nothing; a head of the line that wants more seats than are
/// free waits and keeps the seats (`fit: strict`, the default) or is passed by the next signups
/// that fit (`fit: first_fit`). Blacklisted customers are passed over without a word. Each offer
/// is stored with its mail before this answers. With `dry_run`, the answer says who would
/// receive offers, storing and sending nothing: show it as the warning before freeing a
/// booking. Two reports at the same moment never offer the same seats twice. The operator
/// token, or the admin token of the organizer the event is mapped to.
#[utoipa::path(
    post, path = "/v1/events/{event}/waitlist/release", operation_id = "releaseSeats", tag = "waitlist",
    params(EventPath),
    request_body = SeatsFreed,
    responses(
        (status = 200, description = "The offers made (or, in a dry run, that would be).", body = Release),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        (status = 409, description = "The event's waitlist is in manual mode, or deactivated.", body = ErrorBody,
            example = json!({"error": "the event's waitlist is in manual mode: staff make offers, none are made automatically"})),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn release(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
    body: Result<Body<SeatsFreed>, ApiError>,
) -> Result<Response, ApiError> {
    let Body(req) = body?;
    Ok(Json(state.admin.release_seats(&who, &event, req.seats, req.dry_run).await?).into_response())
}

/// List an event's offers
///
/// The event's offers in the order they were made, with their status (`open`, `taken`,
/// `declined`, `expired`, `withdrawn`) and times, a page at a time: pass `next` as `after`. The
/// operator token, or an admin or box-office token of the organizer the event is mapped to.
#[utoipa::path(
    get, path = "/v1/events/{event}/waitlist/offers", operation_id = "listOffers", tag = "waitlist",
    params(EventPath, OffersQuery),
    responses(
        (status = 200, description = "One page of offers.", body = OffersPage),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        CommonErrors,
    )
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
    Params(q): Params<OffersQuery>,
) -> Result<Response, ApiError> {
    let page = state.admin.offers(&who, &event, q.after.unwrap_or(0), q.limit.unwrap_or(100)).await?;
    Ok(Json(page).into_response())
}

/// Offer seats to one signup
///
/// Staff's offer to a confirmed signup of their choosing (either mode), with the link the
/// customer books with (or the event's `offer_link` template), their own text and how long it
/// holds. The customer gets the offer mail with a decline link. The operator token, or the
/// admin token of the organizer the event is mapped to.
#[utoipa::path(
    post, path = "/v1/events/{event}/waitlist/offers", operation_id = "makeOffer", tag = "waitlist",
    params(EventPath),
    request_body = NewOffer,
    responses(
        (status = 201, description = "The offer was made and its mail queued.", body = OfferNotice),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        (status = 404, description = "No such signup.", body = ErrorBody, example = json!({"error": "no such signup"})),
        (status = 409, description = "The signup is not waiting in line (pending, offered, ended).", body = ErrorBody,
            example = json!({"error": "the signup is offered: only a confirmed signup waiting in line can receive an offer"})),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn make(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(EventPath { event }): Path<EventPath>,
    body: Result<Body<NewOffer>, ApiError>,
) -> Result<Response, ApiError> {
    let Body(req) = body?;
    let offer = StaffOffer { link: req.link, text: req.text, hours: req.hours };
    let notice = state.admin.make_offer(&who, &event, &req.signup, offer).await?;
    Ok((StatusCode::CREATED, Json(notice)).into_response())
}

/// Report an offer taken
///
/// The backend booked the offer's seats: the offer is `taken`, its signup `booked`. Reporting
/// an offer that has ended answers 409 with how it ended. No request body. The operator token,
/// or the admin token of the organizer the event is mapped to.
#[utoipa::path(
    post, path = "/v1/events/{event}/waitlist/offers/{number}/taken", operation_id = "offerTaken", tag = "waitlist",
    params(OfferPath),
    responses(
        (status = 200, description = "The offer, taken.", body = EndedView),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        (status = 404, description = "No such offer.", body = ErrorBody, example = json!({"error": "no such offer"})),
        (status = 409, description = "The offer has ended already.", body = ErrorBody,
            example = json!({"error": "the offer has ended already (declined)"})),
        CommonErrors,
    )
)]
pub async fn taken(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(OfferPath { event, number }): Path<OfferPath>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.end_offer(&who, &event, number, Ending::Taken).await?).into_response())
}

/// Withdraw an offer
///
/// Staff take the offer back: it is `withdrawn`, and its signup is back in its old place in
/// line. The seats are staff's again (report them to pass them on). No request body. The
/// operator token, or the admin token of the organizer the event is mapped to.
#[utoipa::path(
    post, path = "/v1/events/{event}/waitlist/offers/{number}/withdraw", operation_id = "withdrawOffer", tag = "waitlist",
    params(OfferPath),
    responses(
        (status = 200, description = "The offer, withdrawn.", body = EndedView),
        (status = 400, response = BadRequest),
        (status = 403, response = NotTheirEvent),
        (status = 404, description = "No such offer.", body = ErrorBody, example = json!({"error": "no such offer"})),
        (status = 409, description = "The offer has ended already.", body = ErrorBody,
            example = json!({"error": "the offer has ended already (taken)"})),
        CommonErrors,
    )
)]
pub async fn withdraw(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(OfferPath { event, number }): Path<OfferPath>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.end_offer(&who, &event, number, Ending::Withdrawn).await?).into_response())
}
