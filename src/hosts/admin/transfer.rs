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

use super::error::{ApiError, Params};
use super::principal::Principal;
use super::AdminState;
pub use crate::app::admin::transfer::{Format, Import, BATCH, MAX_LINE, MAX_REPORTED};

/// Largest import accepted, in bytes; beyond it the import stops with 413 (what came before stays).
pub const MAX_IMPORT_BYTES: u64 = 1 << 30;

fn stopped(message: String) -> ApiError {
    ApiError(StatusCode::SERVICE_UNAVAILABLE, message)
}

/// `POST /v1/blacklist/import`
pub async fn import(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    body: AxumBody,
) -> Result<Response, ApiError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = match ct.split(';').next().unwrap_or("").trim() {
        "text/csv" => Format::Csv,
        "application/x-ndjson" | "application/jsonl" | "application/jsonlines" => Format::Ndjson,
        _ => {
            return Err(ApiError(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send text/csv or application/x-ndjson".into(),
            ))
        }
    };
    let mut import = Import::new(&state.admin, &who, format)?;
    let mut received: u64 = 0;
    let mut pending: Vec<u8> = Vec::new();
    let mut overlong = false;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::bad(format!("the upload broke off: {e}")))?;
        let Ok(chunk) = frame.into_data() else { continue };
        received += chunk.len() as u64;
        if received > MAX_IMPORT_BYTES {
            import.flush().await.map_err(stopped)?;
            return Err(ApiError(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "imports are limited to {MAX_IMPORT_BYTES} bytes: {} entries were added, through line {}",
                    import.progress().0,
                    import.progress().1
                ),
            ));
        }
        let mut rest = &chunk[..];
        while let Some(nl) = rest.iter().position(|b| *b == b'\n') {
            if overlong || pending.len() + nl > MAX_LINE {
                overlong = false;
                import.overlong();
            } else {
                pending.extend_from_slice(&rest[..nl]);
                import.line(&pending);
            }
            pending.clear();
            rest = &rest[nl + 1..];
            if import.batch_full() {
                import.flush().await.map_err(stopped)?;
            }
        }
        if !overlong {
            pending.extend_from_slice(rest);
            if pending.len() > MAX_LINE {
                overlong = true;
                pending.clear();
            }
        }
    }
    if overlong {
        import.overlong();
    } else if !pending.is_empty() {
        import.line(&pending);
    }
    import.flush().await.map_err(stopped)?;
    let report = import.report();
    tracing::info!(added = %report["added"], rejected = %report["rejected"], by = who.label(), "blacklist: import");
    Ok(Json(report).into_response())
}

/// Query of `GET /v1/blacklist/export`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    format: Option<String>,
    organizer: Option<String>,
}

/// `GET /v1/blacklist/export`
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
