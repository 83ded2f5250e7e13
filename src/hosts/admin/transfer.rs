//! Bulk import and export of blacklist entries over HTTP: the upload read as a stream and cut
//! into lines here, the rows checked and batched by `app::admin` (see its `transfer` module).
//!
//! `POST /v1/blacklist/import` takes CSV (`text/csv`) or NDJSON (`application/x-ndjson`);
//! `GET /v1/blacklist/export?format=csv|ndjson&organizer=` answers the entries in the same shape.

use axum::body::Body as AxumBody;
use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::BodyExt;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{
    ApiError, BadRequest, CommonErrors, ErrorBody, Forbidden, NoBlacklist, Params, Unauthorized,
};
use super::principal::Principal;
use super::AdminState;
pub use crate::app::admin::transfer::{
    Format, Import, ImportReport, ImportStop, BATCH, MAX_IMPORT_BYTES, MAX_LINE, MAX_REPORTED,
};

/// Import blacklist entries (CSV or NDJSON)
///
/// Adds many entries. The body is `text/csv` (a first line naming the columns, then one entry a
/// line) or `application/x-ndjson` (also `application/jsonl`, `application/jsonlines`; one JSON
/// object a line); each line follows `ImportRow` and is at most 8 KiB. The body is streamed line
/// by line, not held whole; the JSON 64 KiB limit does not apply. CSV fields may be quoted but
/// may not span lines. Good lines are written in batches of 1000, each entry with its audit
/// record; bad lines are rejected one by one and reported. For an organizer token every line is
/// scoped to its own organizer, and a line naming another organizer is rejected (not the
/// request).
///
/// Imports larger than 1 GiB stop with 413; what came before the cut-off stays added.
#[utoipa::path(
    post, path = "/v1/blacklist/import", operation_id = "importBlacklist", tag = "transfer",
    request_body(
        description = "One entry a line, each an `ImportRow`.",
        content(
            (String = "text/csv", example = json!("email,organizer,reason,expires_in\nmallory@example.com,harbour-hall,\"chargebacks, twice\",30d\n")),
            (String = "application/x-ndjson", example = json!("{\"account\": \"eve-42\", \"reason\": \"fraud\"}\n{\"email\": \"mallory@example.com\", \"organizer\": \"harbour-hall\", \"expires_at\": \"2027-01-31T00:00:00Z\"}\n")),
            (String = "application/jsonl"),
            (String = "application/jsonlines"),
        )
    ),
    responses(
        (status = 200, description = "The import ran to the end; see `rejected` and `errors` for lines that were not imported.",
            body = ImportReport),
        (status = 400, description = "The upload broke off.", body = ErrorBody,
            example = json!({"error": "the upload broke off: connection reset"})),
        (status = 401, response = Unauthorized),
        (status = 409, response = NoBlacklist),
        (status = 413, description = "The import exceeded 1 GiB; entries before the cut-off stay added (the message says how many, and through which line).",
            body = ErrorBody),
        (status = 415, description = "The `Content-Type` is neither CSV nor NDJSON.", body = ErrorBody,
            example = json!({"error": "send text/csv or application/x-ndjson"})),
        (status = 503, description = "The store failed. Batches written before the failure stay written: the message says how many entries were added.",
            body = ErrorBody,
            example = json!({"error": "the store failed after 2000 entries were added; lines after 2004 were not imported"})),
    )
)]
pub async fn import(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    body: AxumBody,
) -> Result<Response, ApiError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(format) = Format::of_upload(ct) else {
        return Err(ApiError(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send text/csv or application/x-ndjson".into(),
        ));
    };
    let stopped = |stop| match stop {
        ImportStop::TooLarge(m) => ApiError(StatusCode::PAYLOAD_TOO_LARGE, m),
        ImportStop::NotWritten(m) => ApiError(StatusCode::SERVICE_UNAVAILABLE, m),
    };
    let mut import = Import::new(&state.admin, &who, format)?;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::bad(format!("the upload broke off: {e}")))?;
        if let Ok(chunk) = frame.into_data() {
            import.feed(&chunk).await.map_err(stopped)?;
        }
    }
    let report = import.finish().await.map_err(stopped)?;
    tracing::info!(added = report.added, rejected = report.rejected, by = who.label(), "blacklist: import");
    Ok(Json(report).into_response())
}

/// Query of `GET /v1/blacklist/export`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `csv` (default) or `ndjson`.
    #[param(pattern = "^(csv|ndjson)$", default = "csv")]
    format: Option<String>,
    /// Only this organizer's entries (1 to 64 of `a-z`, `0-9`, `-`, `_`; an empty value is
    /// refused). Without it the operator gets every scope, platform-wide and all organizers',
    /// and an organizer token its own organizer. An organizer token naming another organizer
    /// gets 403.
    #[param(pattern = "^[a-z0-9_-]{1,64}$", example = "harbour-hall")]
    organizer: Option<String>,
}

/// Export blacklist entries (CSV or NDJSON)
///
/// Every live entry in the caller's reach (the operator: every scope unless it names an
/// organizer; an organizer token: its own organizer). The format is chosen by the `format`
/// parameter, not by `Accept`. CSV has the header
/// `kind,value,organizer,reason,expires_at,added_by,added_at` (empty cells for a platform-wide
/// `organizer` and a missing `expires_at`); NDJSON has one `Entry` object a line. Either imports
/// again with `POST /v1/blacklist/import`. The answer streams a store page at a time (never built
/// whole); an entry may appear twice on Redis while its keyspace is resized (importing the
/// export again is still exact). A store failure midway cuts the transfer short rather than
/// ending it as if complete.
#[utoipa::path(
    get, path = "/v1/blacklist/export", operation_id = "exportBlacklist", tag = "transfer",
    params(ExportQuery),
    responses(
        (status = 200, description = "The entries.", content(
            (String = "text/csv; charset=utf-8", example = json!("kind,value,organizer,reason,expires_at,added_by,added_at\naccount,eve-42,,fraud,,operator,2026-05-01T12:00:00Z\n")),
            (String = "application/x-ndjson", example = json!("{\"added_at\":\"2026-05-01T12:00:00Z\",\"added_by\":\"operator\",\"expires_at\":null,\"kind\":\"account\",\"organizer\":null,\"reason\":\"fraud\",\"value\":\"eve-42\"}\n")),
        )),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        CommonErrors,
    )
)]
pub async fn export(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    Params(q): Params<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = match q.format.as_deref() {
        None | Some("csv") => Format::Csv,
        Some("ndjson") => Format::Ndjson,
        Some(other) => return Err(ApiError::bad(format!("format: `{other}` is neither csv nor ndjson"))),
    };
    let export = state.admin.export(&who, q.organizer.as_deref(), format)?;
    // Streamed a store page at a time: the next page is read once the last chunk is sent. A
    // store failure midway ends the body unfinished (the client sees the transfer cut short,
    // never a shorter list that looks complete).
    let chunks = futures_util::stream::unfold(export, |mut export| async move {
        match export.next_chunk().await? {
            Ok(chunk) => Some((Ok::<_, std::io::Error>(bytes::Bytes::from(chunk)), export)),
            Err(e) => {
                tracing::warn!(error = %e, "blacklist export cut short: the store failed");
                Some((Err(std::io::Error::other("the store failed")), export))
            }
        }
    });
    let content_type = if format == Format::Csv { "text/csv; charset=utf-8" } else { "application/x-ndjson" };
    Ok(([(header::CONTENT_TYPE, content_type)], axum::body::Body::from_stream(chunks)).into_response())
}
