//! An event's waitlist settings over HTTP; the rules are `app::admin`'s.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /v1/events/{event}/waitlist` | | `{event, settings, confirmed_signups, confirmed_tickets}` |
//! | `PATCH /v1/events/{event}/waitlist` | the fields to change | the same, after the change |

use axum::extract::{Extension, Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::{ApiError, Body};
use super::principal::Principal;
use super::AdminState;
use crate::core::waitlist::settings::SettingsChange;

/// `GET /v1/events/{event}/waitlist`
pub async fn get_settings(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(event): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.waitlist_settings(&who, &event).await?).into_response())
}

/// `PATCH /v1/events/{event}/waitlist`
pub async fn change_settings(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(event): Path<String>,
    body: Result<Body<SettingsChange>, ApiError>,
) -> Result<Response, ApiError> {
    let Body(change) = body?;
    Ok(Json(state.admin.change_waitlist(&who, &event, change).await?).into_response())
}
