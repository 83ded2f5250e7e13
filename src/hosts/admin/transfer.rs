//! Bulk import and export of blacklist entries.
//!
//! `POST /v1/blacklist/import` takes CSV (`text/csv`, a header row naming the columns) or NDJSON
//! (`application/x-ndjson`, one JSON object a line). The body is read as a stream, line by line,
//! never whole; rows are written in batches of [`BATCH`] (one disk commit or one Redis round
//! trip each), and the answer reports every rejected line. Columns and fields: `account`,
//! `email`, `email_hash` (exactly one), or `kind` + `value` as exported; `organizer`, `reason`,
//! `expires_in` or `expires_at`; `added_by` and `added_at` are accepted and ignored, so an export
//! imports again.
//!
//! `GET /v1/blacklist/export?format=csv|ndjson&organizer=` answers the entries in the same shape.

use axum::body::Body as AxumBody;
use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, Params};
use super::principal::Principal;
use super::AdminState;
use crate::app::admin::{entry_json, EntryRequest, NewEntry};
use crate::app::audit::record_item;
use crate::core::blacklist::audit::{AuditAction, AuditRecord};
use crate::core::blacklist::entry::Entry;
use crate::core::blacklist::{entry_key, ENTRY_PREFIX};
use crate::ports::store::{SetItem, Store};

/// Rows written per store batch.
pub const BATCH: usize = 1000;
/// Longest line accepted, in bytes.
pub const MAX_LINE: usize = 8 * 1024;
/// Rejected lines reported in full (the count is always complete).
pub const MAX_REPORTED: usize = 1000;
/// Largest import accepted, in bytes; beyond it the import stops with 413 (what came before stays).
pub const MAX_IMPORT_BYTES: u64 = 1 << 30;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Ndjson,
}

/// One import row, before validation.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    account: Option<String>,
    email: Option<String>,
    email_hash: Option<String>,
    kind: Option<String>,
    value: Option<String>,
    organizer: Option<String>,
    reason: Option<String>,
    expires_in: Option<String>,
    expires_at: Option<String>,
    #[allow(dead_code)]
    added_by: Option<String>,
    #[allow(dead_code)]
    added_at: Option<String>,
}

impl Row {
    fn into_request(self) -> Result<EntryRequest, String> {
        let (mut account, mut email_hash) = (self.account, self.email_hash);
        match (self.kind.as_deref(), self.value) {
            (None, None) => {}
            (Some("account"), Some(v)) if account.is_none() => account = Some(v),
            (Some("email_hash"), Some(v)) if email_hash.is_none() => email_hash = Some(v),
            _ => return Err("kind must be account or email_hash, with a value, and no other identity".into()),
        }
        Ok(EntryRequest {
            account,
            email: self.email,
            email_hash,
            organizer: self.organizer,
            reason: self.reason,
            expires_in: self.expires_in,
            expires_at: self.expires_at,
        })
    }
}

const CSV_COLUMNS: &[&str] = &[
    "account",
    "email",
    "email_hash",
    "kind",
    "value",
    "organizer",
    "reason",
    "expires_in",
    "expires_at",
    "added_by",
    "added_at",
];

fn csv_record(line: &str) -> Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
    match reader.records().next() {
        Some(Ok(r)) => Ok(r.iter().map(str::to_owned).collect()),
        Some(Err(e)) => Err(format!("not a CSV line: {e}")),
        None => Ok(Vec::new()),
    }
}

fn csv_row(columns: &[String], line: &str) -> Result<Row, String> {
    let fields = csv_record(line)?;
    if fields.len() != columns.len() {
        return Err(format!("{} fields where the header has {}", fields.len(), columns.len()));
    }
    let mut row = Row::default();
    for (col, val) in columns.iter().zip(fields) {
        if val.is_empty() {
            continue;
        }
        let slot = match col.as_str() {
            "account" => &mut row.account,
            "email" => &mut row.email,
            "email_hash" => &mut row.email_hash,
            "kind" => &mut row.kind,
            "value" => &mut row.value,
            "organizer" => &mut row.organizer,
            "reason" => &mut row.reason,
            "expires_in" => &mut row.expires_in,
            "expires_at" => &mut row.expires_at,
            _ => continue, // added_by, added_at
        };
        *slot = Some(val);
    }
    Ok(row)
}

/// State of one import.
struct Import<'a> {
    state: &'a AdminState,
    who: &'a Principal,
    format: Format,
    columns: Option<Vec<String>>,
    batch: Vec<SetItem>,
    added: usize,
    rejected: usize,
    errors: Vec<serde_json::Value>,
    line_no: usize,
    /// The last line whose entry (if any) is durably stored.
    committed_through: usize,
}

impl Import<'_> {
    fn reject(&mut self, message: String) {
        self.rejected += 1;
        if self.errors.len() < MAX_REPORTED {
            self.errors.push(json!({ "line": self.line_no, "error": message }));
        }
    }

    fn line(&mut self, raw: &[u8]) {
        self.line_no += 1;
        let Ok(line) = std::str::from_utf8(raw) else { return self.reject("not UTF-8".into()) };
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            return;
        }
        if self.format == Format::Csv && self.columns.is_none() {
            match csv_record(line) {
                Ok(cols) if !cols.is_empty() && cols.iter().all(|c| CSV_COLUMNS.contains(&c.trim())) => {
                    self.columns = Some(cols.into_iter().map(|c| c.trim().to_owned()).collect());
                }
                _ => self.reject(format!(
                    "the first line must name the columns, from: {}",
                    CSV_COLUMNS.join(", ")
                )),
            }
            return;
        }
        let row = match self.format {
            Format::Ndjson => serde_json::from_str::<Row>(line).map_err(|e| format!("not a JSON entry: {e}")),
            Format::Csv => csv_row(self.columns.as_deref().unwrap_or_default(), line),
        };
        let request = match row.and_then(Row::into_request) {
            Ok(r) => r,
            Err(e) => return self.reject(e),
        };
        let now_ms = self.state.admin.ports.clock.unix_ms();
        match self.state.admin.new_entry(self.who, &request, now_ms / 1000) {
            Ok(NewEntry { identity, scope, entry, ttl }) => {
                let value = serde_json::to_vec(&entry).expect("an entry serializes");
                self.batch.push(SetItem { key: entry_key(&identity, &scope), value, ttl });
                let record = AuditRecord {
                    at_ms: now_ms,
                    scope: scope.as_str().into(),
                    action: AuditAction::Add,
                    actor: self.who.label(),
                    kind: identity.kind().into(),
                    value: identity.value().into(),
                    event: None,
                    route: None,
                };
                self.batch.push(record_item(&self.state.admin.ports, &record));
            }
            Err(e) => self.reject(e.to_string()),
        }
    }

    async fn flush(&mut self) -> Result<(), ApiError> {
        if self.batch.is_empty() {
            self.committed_through = self.line_no;
            return Ok(());
        }
        let entries = self.batch.len() / 2;
        if let Err(e) = self.state.admin.ports.store.set_many(&self.batch).await {
            tracing::warn!(error = %e, added = self.added, "import stopped: store failed");
            return Err(ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the store failed after {} entries were added; lines after {} were not imported",
                    self.added, self.committed_through
                ),
            ));
        }
        self.added += entries;
        self.committed_through = self.line_no;
        self.batch.clear();
        Ok(())
    }
}

/// `POST /v1/blacklist/import`
pub async fn import(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    body: AxumBody,
) -> Result<Response, ApiError> {
    if state.admin.blacklist.is_none() {
        return Err(ApiError(StatusCode::CONFLICT, "the policy has no [blacklist] section".into()));
    }
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
    let mut import = Import {
        state: &state,
        who: &who,
        format,
        columns: None,
        batch: Vec::new(),
        added: 0,
        rejected: 0,
        errors: Vec::new(),
        line_no: 0,
        committed_through: 0,
    };
    let mut received: u64 = 0;
    let mut pending: Vec<u8> = Vec::new();
    let mut overlong = false;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::bad(format!("the upload broke off: {e}")))?;
        let Ok(chunk) = frame.into_data() else { continue };
        received += chunk.len() as u64;
        if received > MAX_IMPORT_BYTES {
            import.flush().await?;
            return Err(ApiError(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "imports are limited to {MAX_IMPORT_BYTES} bytes: {} entries were added, through line {}",
                    import.added, import.committed_through
                ),
            ));
        }
        let mut rest = &chunk[..];
        while let Some(nl) = rest.iter().position(|b| *b == b'\n') {
            if overlong || pending.len() + nl > MAX_LINE {
                overlong = false;
                import.line_no += 1;
                import.reject(format!("longer than {MAX_LINE} bytes"));
            } else {
                pending.extend_from_slice(&rest[..nl]);
                import.line(&pending);
            }
            pending.clear();
            rest = &rest[nl + 1..];
            if import.batch.len() >= 2 * BATCH {
                import.flush().await?;
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
        import.line_no += 1;
        import.reject(format!("longer than {MAX_LINE} bytes"));
    } else if !pending.is_empty() {
        import.line(&pending);
    }
    import.flush().await?;
    tracing::info!(added = import.added, rejected = import.rejected, by = who.label(), "blacklist: import");
    Ok(Json(json!({ "added": import.added, "rejected": import.rejected, "errors": import.errors }))
        .into_response())
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
    let scope = who.filter(q.organizer.as_deref())?;
    let mut out = String::new();
    if format == Format::Csv {
        out.push_str("kind,value,organizer,reason,expires_at,added_by,added_at\n");
    }
    let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    for item in state.admin.ports.store.scan_prefix(ENTRY_PREFIX, usize::MAX).await? {
        let Ok(entry) = serde_json::from_slice::<Entry>(&item.value) else { continue };
        if scope.as_ref().is_some_and(|s| *s != entry.scope()) {
            continue;
        }
        let json = entry_json(&entry);
        match format {
            Format::Ndjson => {
                out.push_str(&json.to_string());
                out.push('\n');
            }
            Format::Csv => {
                let field = |k: &str| json[k].as_str().unwrap_or("").to_owned();
                let _ = writer.write_record([
                    field("kind"),
                    field("value"),
                    field("organizer"),
                    field("reason"),
                    field("expires_at"),
                    field("added_by"),
                    field("added_at"),
                ]);
            }
        }
    }
    if format == Format::Csv {
        out.push_str(&String::from_utf8_lossy(&writer.into_inner().unwrap_or_default()));
    }
    let content_type = if format == Format::Csv { "text/csv; charset=utf-8" } else { "application/x-ndjson" };
    Ok(([(header::CONTENT_TYPE, content_type)], out).into_response())
}
