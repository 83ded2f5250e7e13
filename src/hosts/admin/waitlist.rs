//! An event's waitlist settings over HTTP; the rules are `app::admin`'s.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /v1/events/{event}/waitlist` | | `{event, settings, confirmed_signups, confirmed_tickets}` |
//! | `PATCH /v1/events/{event}/waitlist` | the fields to change | the same, after the change |
//! | `GET /v1/events/{event}/waitlist/signups?after=&limit=&format=` | | a page of the list in line order: JSON `{signups, next}`, or CSV with the next cursor in `Doorman-Next` |

use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::error::{ApiError, Body, Params};
use super::principal::Principal;
use super::AdminState;
use crate::app::admin::waitlist::csv_page;
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

/// Query of `GET /v1/events/{event}/waitlist/signups`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    after: Option<u64>,
    limit: Option<usize>,
    format: Option<String>,
}

/// `GET /v1/events/{event}/waitlist/signups`
pub async fn export(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Path(event): Path<String>,
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
    if let Some(next) = page.next {
        h.insert("doorman-next", HeaderValue::from(next));
    }
    Ok(response)
}
