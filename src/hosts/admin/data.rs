//! The data keys over HTTP (operator token only); the rules are `app::admin::data`'s and
//! `app::vault`'s.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /v1/data/keys` | | 200 `{sealing, keys, registered}` (key ids) |
//! | `POST /v1/data/reseal` | `{cursor?}` | 200 one page of the re-sealing pass |

use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::{ApiError, BadRequest, Body, CommonErrors, ErrorBody, OperatorOnly, PayloadTooLarge};
use super::principal::Principal;
use super::AdminState;
use crate::app::admin::{DataKeysView, ResealRequest};
use crate::app::vault::Resealed;

/// The data keys
///
/// The ids (8 hex digits, derived from the keys) of the keys this node seals and opens
/// personal data with, and of the keys the store lists as having sealed records. A key may be
/// dropped from every node's `DOORMAN_DATA_KEY` once the store lists it no more. Operator token
/// only.
#[utoipa::path(
    get, path = "/v1/data/keys", operation_id = "dataKeys", tag = "data",
    responses(
        (status = 200, description = "The keys, by id.", body = DataKeysView),
        (status = 403, response = OperatorOnly),
        CommonErrors,
    )
)]
pub async fn keys(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
) -> Result<Response, ApiError> {
    Ok(Json(state.admin.data_keys(&who).await?).into_response())
}

/// Re-seal personal data with the current key
///
/// One page of a pass over every record with personal data (signups, staff's notes, the
/// message history, the outbox): each sealed with an older key (or stored before sealing) is
/// sealed again with the current key, unless it changed since it was read. Call it with the
/// `next` of each answer until `next` is null; the last page names the keys the store no longer
/// lists (`retired`), when no record was left sealed with another key. Run it after every node
/// seals with the new key (the new key first in `DOORMAN_DATA_KEY`). Operator token only; the
/// end of a pass is written to the audit log.
#[utoipa::path(
    post, path = "/v1/data/reseal", operation_id = "resealData", tag = "data",
    request_body = ResealRequest,
    responses(
        (status = 200, description = "One page of the pass.", body = Resealed),
        (status = 400, response = BadRequest),
        (status = 403, response = OperatorOnly),
        (status = 409, description = "This node has no data keys (the policy has no waitlist).", body = ErrorBody,
            example = json!({"error": "this node has no data keys (the policy has no waitlist)"})),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn reseal(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    body: Result<Body<ResealRequest>, ApiError>,
) -> Result<Response, ApiError> {
    who.require_operator()?;
    let Body(req) = body?;
    Ok(Json(state.admin.reseal(&who, &req).await?).into_response())
}
