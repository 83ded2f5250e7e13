//! Bulk import and export of blacklist entries: the rows, their checks and their batches.
//!
//! Imports are CSV (a header row naming the columns) or NDJSON (one JSON object a line), fed
//! line by line by the host (which reads the upload as a stream, never whole). Rows are written in
//! batches of [`BATCH`] entries (one disk commit or one Redis round trip each), with their audit
//! records, and the report names every rejected line. Columns and fields: `account`, `email`,
//! `email_hash` (exactly one), or `kind` + `value` as exported; `organizer`, `reason`,
//! `expires_in` or `expires_at`; `added_by` and `added_at` are accepted and ignored, so an export
//! imports again.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::entries::{entry_json, visible_entries, EntryRequest, NewEntry, ADMIN_PAGE};
use super::{Admin, AdminError, Principal};
use crate::core::blacklist::audit::{AuditAction, AuditRecord};
use crate::core::blacklist::{entry_key, parse_entry_key, Scope, ENTRY_PREFIX};
use crate::ports::store::{SetItem, Store};

/// Entries written per store batch.
pub const BATCH: usize = 1000;
/// Longest line accepted, in bytes.
pub const MAX_LINE: usize = 8 * 1024;
/// Rejected lines reported in full (the count is always complete).
pub const MAX_REPORTED: usize = 1000;
/// Largest import accepted, in bytes; beyond it the import stops (what came before stays).
pub const MAX_IMPORT_BYTES: u64 = 1 << 30;

/// The shape of an import or export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header row.
    Csv,
    /// One JSON object a line.
    Ndjson,
}

impl Format {
    /// The format of an upload with this `Content-Type`: `text/csv`, or NDJSON as
    /// `application/x-ndjson`, `application/jsonl` or `application/jsonlines`.
    pub fn of_upload(content_type: &str) -> Option<Self> {
        match content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase().as_str() {
            "text/csv" => Some(Self::Csv),
            "application/x-ndjson" | "application/jsonl" | "application/jsonlines" => Some(Self::Ndjson),
            _ => None,
        }
    }
}

/// Why an import stopped before its end; the message says how far it got (what came before
/// stays added).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportStop {
    /// The upload passed [`MAX_IMPORT_BYTES`].
    TooLarge(String),
    /// A batch could not be written (the store failed, or entries are moving to a new layout).
    NotWritten(String),
}

/// One line of an import, before validation: an NDJSON object with these fields (unknown
/// fields reject the line), or a CSV row under a header naming some of these columns (empty
/// cells count as absent). Give exactly one of `account`, `email`, `email_hash`, `account_hash`,
/// or `kind` + `value` as exported; then `organizer`, `reason`, `expires_in` or `expires_at`,
/// validated as for `POST /v1/blacklist`. `added_by` and `added_at` are accepted and ignored,
/// so an export imports again.
#[derive(Default, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = ImportRow))]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// A customer's account id.
    account: Option<String>,
    /// An account-id hash (where the policy keeps account ids hashed).
    #[cfg_attr(feature = "native", schema(pattern = "^[0-9a-f]{64}$"))]
    account_hash: Option<String>,
    /// An e-mail address: hashed on arrival, never stored or echoed.
    email: Option<String>,
    /// An e-mail hash.
    #[cfg_attr(feature = "native", schema(pattern = "^[0-9a-f]{64}$"))]
    email_hash: Option<String>,
    /// With `value`: the exported form of the identity (`account`, `email_hash` or
    /// `account_hash`).
    kind: Option<String>,
    /// With `kind`: the identity.
    value: Option<String>,
    /// The organizer slug.
    #[cfg_attr(feature = "native", schema(pattern = "^[a-z0-9_-]{1,64}$"))]
    organizer: Option<String>,
    /// Why (at most 500 bytes).
    #[cfg_attr(feature = "native", schema(max_length = 500))]
    reason: Option<String>,
    /// A duration such as `90d`.
    expires_in: Option<String>,
    /// An RFC 3339 time in UTC.
    #[cfg_attr(feature = "native", schema(format = DateTime))]
    expires_at: Option<String>,
    /// Ignored.
    #[allow(dead_code)]
    added_by: Option<String>,
    /// Ignored.
    #[allow(dead_code)]
    added_at: Option<String>,
}

/// A rejected line of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct ImportError {
    /// The line number, counting from 1 (a CSV header is line 1; blank lines count).
    #[cfg_attr(feature = "native", schema(minimum = 1))]
    pub line: usize,
    /// Why the line was rejected. Addresses are not echoed.
    pub error: String,
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(example = json!({
    "added": 3, "rejected": 2, "errors": [
        {"line": 4, "error": "email: the address is not of the form local@domain"},
        {"line": 9, "error": "expires_in: `soon`: expected number at 0"}
    ]
})))]
pub struct ImportReport {
    /// Entries written (an entry that existed is replaced and counted).
    pub added: usize,
    /// Lines rejected (always the full count).
    pub rejected: usize,
    /// The rejected lines, in order; the first 1000 are reported.
    #[cfg_attr(feature = "native", schema(max_items = 1000))]
    pub errors: Vec<ImportError>,
}

impl Row {
    fn into_request(self) -> Result<EntryRequest, String> {
        let (mut account, mut email_hash, mut account_hash) =
            (self.account, self.email_hash, self.account_hash);
        match (self.kind.as_deref(), self.value) {
            (None, None) => {}
            (Some("account"), Some(v)) if account.is_none() => account = Some(v),
            (Some("email_hash"), Some(v)) if email_hash.is_none() => email_hash = Some(v),
            (Some("account_hash"), Some(v)) if account_hash.is_none() => account_hash = Some(v),
            _ => {
                return Err(
                    "kind must be account, email_hash or account_hash, with a value, and no other identity"
                        .into(),
                )
            }
        }
        Ok(EntryRequest {
            account,
            account_hash,
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
    "account_hash",
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

/// What is wrong with an NDJSON line, without the line's text: `serde_json` quotes the values it
/// could not take, and a report must not carry addresses or account ids back.
fn json_problem(e: serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => "not valid JSON",
        Category::Data if e.to_string().starts_with("unknown field") => {
            return format!(
                "not a JSON entry: an unknown field (at column {}); the fields are: {}",
                e.column(),
                CSV_COLUMNS.join(", ")
            );
        }
        Category::Data => "a field of the wrong type (every field is a string)",
    };
    format!("not a JSON entry: {what}, at column {}", e.column())
}

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
        // An export's neutralised formula cell (`'=…`) reads back as it was.
        let val = super::cells::plain_cell(&val).to_owned();
        let slot = match col.as_str() {
            "account" => &mut row.account,
            "account_hash" => &mut row.account_hash,
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

/// One import in progress.
pub struct Import<'a, S> {
    admin: &'a Admin<S>,
    who: &'a Principal,
    format: Format,
    columns: Option<Vec<String>>,
    batch: Vec<SetItem>,
    /// The audit records of the entries in `batch`.
    records: Vec<AuditRecord>,
    added: usize,
    rejected: usize,
    errors: Vec<ImportError>,
    line_no: usize,
    /// The last line whose entry (if any) is durably stored.
    committed_through: usize,
    /// Upload bytes taken so far, and the most accepted.
    received: u64,
    max_bytes: u64,
    /// The start of a line whose end has not arrived yet.
    pending: Vec<u8>,
    /// The line being received is already too long (the rest of it is skipped).
    overlong: bool,
}

impl<'a, S: Store> Import<'a, S> {
    /// A new import of `format` by `who`.
    pub fn new(admin: &'a Admin<S>, who: &'a Principal, format: Format) -> Result<Self, AdminError> {
        admin.blacklist()?;
        Ok(Self {
            admin,
            who,
            format,
            columns: None,
            batch: Vec::new(),
            records: Vec::new(),
            added: 0,
            rejected: 0,
            errors: Vec::new(),
            line_no: 0,
            committed_through: 0,
            received: 0,
            max_bytes: MAX_IMPORT_BYTES,
            pending: Vec::new(),
            overlong: false,
        })
    }

    /// Takes the next piece of the upload: cut into lines (a line over [`MAX_LINE`] is
    /// rejected, not held), written a batch of [`BATCH`] at a time.
    pub async fn feed(&mut self, chunk: &[u8]) -> Result<(), ImportStop> {
        self.received += chunk.len() as u64;
        if self.received > self.max_bytes {
            self.flush().await.map_err(ImportStop::NotWritten)?;
            let (added, through) = self.progress();
            return Err(ImportStop::TooLarge(format!(
                "imports are limited to {} bytes: {added} entries were added, through line {through}",
                self.max_bytes
            )));
        }
        let mut rest = chunk;
        while let Some(nl) = rest.iter().position(|b| *b == b'\n') {
            if self.overlong || self.pending.len() + nl > MAX_LINE {
                self.overlong = false;
                self.overlong();
            } else {
                let mut line = std::mem::take(&mut self.pending);
                line.extend_from_slice(&rest[..nl]);
                self.line(&line);
                line.clear();
                self.pending = line;
            }
            rest = &rest[nl + 1..];
            if self.batch_full() {
                self.flush().await.map_err(ImportStop::NotWritten)?;
            }
        }
        if !self.overlong {
            self.pending.extend_from_slice(rest);
            if self.pending.len() > MAX_LINE {
                self.overlong = true;
                self.pending.clear();
            }
        }
        Ok(())
    }

    /// The end of the upload: its last line (without a final newline), the last batch, and the
    /// report.
    pub async fn finish(mut self) -> Result<ImportReport, ImportStop> {
        if self.overlong {
            self.overlong();
        } else if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.line(&line);
        }
        self.flush().await.map_err(ImportStop::NotWritten)?;
        Ok(self.report())
    }

    /// Counts a rejected line (and reports it, up to [`MAX_REPORTED`]).
    fn reject(&mut self, message: String) {
        self.rejected += 1;
        if self.errors.len() < MAX_REPORTED {
            self.errors.push(ImportError { line: self.line_no, error: message });
        }
    }

    /// Takes one line (without its `\n`).
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
            Format::Ndjson => serde_json::from_str::<Row>(line).map_err(json_problem),
            Format::Csv => csv_row(self.columns.as_deref().unwrap_or_default(), line),
        };
        let request = match row.and_then(Row::into_request) {
            Ok(r) => r,
            Err(e) => return self.reject(e),
        };
        let now_ms = self.admin.ports.clock.unix_ms();
        match self.admin.new_entry(self.who, &request, now_ms / 1000) {
            Ok(NewEntry { identity, scope, entry, ttl }) => {
                let value = entry.to_stored();
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
                    detail: None,
                };
                self.records.push(record);
            }
            Err(e) => self.reject(e.to_string()),
        }
    }

    /// Takes a line that was too long (it counts, and is rejected).
    fn overlong(&mut self) {
        self.line_no += 1;
        self.reject(format!("longer than {MAX_LINE} bytes"));
    }

    /// Whether a batch is full and should be written now.
    fn batch_full(&self) -> bool {
        self.batch.len() >= BATCH
    }

    /// Entries durably added so far, and the last line they cover.
    fn progress(&self) -> (usize, usize) {
        (self.added, self.committed_through)
    }

    /// The report: added, rejected, and the rejected lines.
    fn report(&self) -> ImportReport {
        ImportReport { added: self.added, rejected: self.rejected, errors: self.errors.clone() }
    }

    /// Writes the pending batch; on failure the message says how far the import got.
    async fn flush(&mut self) -> Result<(), String> {
        if self.batch.is_empty() {
            self.committed_through = self.line_no;
            return Ok(());
        }
        let entries = self.batch.len();
        if self.admin.entries_writable().is_err() {
            return Err(format!(
                "the blacklist's entries are being moved to this version's key layout; try again in a \
                 minute (lines after {} were not imported)",
                self.committed_through
            ));
        }
        let written = async {
            let mut items = std::mem::take(&mut self.batch);
            // The index first: an entry is never in the store without its identity's member.
            let identities: Vec<_> =
                items.iter().filter_map(|item| parse_entry_key(&item.key)).map(|(id, _)| id).collect();
            self.admin.ports.store.add_members(&crate::app::blacklist::index::members(&identities)).await?;
            items.extend(crate::app::audit::items(&self.admin.ports, &self.records).await?);
            self.admin.ports.store.set_many(&items).await
        };
        if let Err(e) = written.await {
            tracing::warn!(error = %e, added = self.added, "import stopped: store failed");
            return Err(format!(
                "the store failed after {} entries were added; lines after {} were not imported",
                self.added, self.committed_through
            ));
        }
        self.added += entries;
        self.committed_through = self.line_no;
        self.records.clear();
        Ok(())
    }
}

/// The CSV export's header row.
const CSV_HEADER: &str = "kind,value,organizer,reason,expires_at,added_by,added_at\n";

/// An export in progress: the host asks for one chunk at a time and sends it before asking for
/// the next, so the whole list is never in memory and every chunk is one bounded store page.
pub struct Export<S> {
    admin: Arc<Admin<S>>,
    scope: Option<Scope>,
    format: Format,
    /// The store's cursor; `None` once the last page was read.
    cursor: Option<String>,
}

impl<S: Store> Export<S> {
    /// The next chunk of the export (possibly empty while the scan goes on), or `None` when done.
    pub async fn next_chunk(&mut self) -> Option<Result<String, AdminError>> {
        let cursor = self.cursor.take()?;
        let mut out = String::new();
        // The first page starts from the empty cursor; no later one does.
        if cursor.is_empty() && self.format == Format::Csv {
            out.push_str(CSV_HEADER);
        }
        let page = match self.admin.ports.store.scan_page(ENTRY_PREFIX, &cursor, ADMIN_PAGE).await {
            Ok(page) => page,
            Err(e) => return Some(Err(e.into())),
        };
        let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        for entry in visible_entries(&page.entries, self.scope.as_ref()) {
            let view = entry_json(&entry);
            match self.format {
                Format::Ndjson => {
                    out.push_str(&serde_json::to_string(&view).expect("an entry serializes"));
                    out.push('\n');
                }
                Format::Csv => {
                    // Cells a spreadsheet would run get a leading `'`; import takes it off again.
                    let field = |v: Option<&str>| super::cells::neutral_cell(v.unwrap_or("")).into_owned();
                    let _ = writer.write_record([
                        field(Some(&view.kind)),
                        field(Some(&view.value)),
                        field(view.organizer.as_deref()),
                        field(Some(&view.reason)),
                        field(view.expires_at.as_deref()),
                        field(Some(&view.added_by)),
                        field(Some(&view.added_at)),
                    ]);
                }
            }
        }
        if self.format == Format::Csv {
            out.push_str(&String::from_utf8_lossy(&writer.into_inner().unwrap_or_default()));
        }
        self.cursor = page.next;
        Some(Ok(out))
    }
}

impl<S: Store> Admin<S> {
    /// Starts an export of every entry `who` may see (one organizer's, or all for the
    /// operator), as `format`; the caller takes it a chunk at a time ([`Export::next_chunk`]).
    pub fn export(
        self: &Arc<Self>,
        who: &Principal,
        organizer: Option<&str>,
        format: Format,
    ) -> Result<Export<S>, AdminError> {
        let scope = who.filter(organizer)?;
        Ok(Export { admin: self.clone(), scope, format, cursor: Some(String::new()) })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::app::admin::BlacklistAdmin;
    use crate::app::Ports;
    use crate::core::email_hash::EmailHasher;
    use crate::testkit::{block_on, InstantTasks, MemoryStore};

    fn admin(store: &MemoryStore) -> Admin<MemoryStore> {
        let blacklist = BlacklistAdmin {
            hasher: EmailHasher::PlainSha256,
            rules: Default::default(),
            hash_accounts: false,
        };
        Admin::new(Ports::new(store.clone(), Arc::new(InstantTasks::default())), Some(blacklist))
    }

    #[test]
    fn uploads_are_cut_into_lines_wherever_the_pieces_end() {
        block_on(async {
            let store = MemoryStore::default();
            let admin = admin(&store);
            let mut import = Import::new(&admin, &Principal::Operator, Format::Ndjson).unwrap();
            let long = format!("{{\"account\": \"{}\"}}", "x".repeat(MAX_LINE));
            for piece in [
                "{\"account\": \"a1\"}\n{\"acc".as_bytes(),
                b"ount\": \"a2\"}\r\n",
                &long.as_bytes()[..MAX_LINE / 2],
                &long.as_bytes()[MAX_LINE / 2..],
                b"\n\n{\"colour\": 1}\n",
                b"{\"account\": \"a3\"}",
            ] {
                import.feed(piece).await.unwrap();
            }
            let report = import.finish().await.unwrap();
            assert_eq!((report.added, report.rejected), (3, 2), "{:?}", report.errors);
            let lines: Vec<usize> = report.errors.iter().map(|e| e.line).collect();
            assert_eq!(lines, [3, 5], "the long line and the unknown field, by their line numbers");
            assert!(report.errors[0].error.contains("longer than"));
            let page = admin.list_entries(&Principal::Operator, None, None, None).await.unwrap();
            let mut values: Vec<String> = page.entries.iter().map(|e| e.value.clone()).collect();
            values.sort();
            assert_eq!(values, ["a1", "a2", "a3"]);
        });
    }

    #[test]
    fn an_upload_over_the_limit_stops_and_keeps_what_came_before() {
        block_on(async {
            let store = MemoryStore::default();
            let admin = admin(&store);
            let mut import = Import::new(&admin, &Principal::Operator, Format::Csv).unwrap();
            import.max_bytes = 30;
            import.feed(b"account\nb1\nb2\n").await.unwrap();
            let stop = import.feed(b"b3\nb4\nb5\nb6\nb7\nb8\nb9\n").await.unwrap_err();
            assert_eq!(
                stop,
                ImportStop::TooLarge(
                    "imports are limited to 30 bytes: 2 entries were added, through line 3".into()
                )
            );
            store.set_down(true);
            let mut import = Import::new(&admin, &Principal::Operator, Format::Csv).unwrap();
            import.feed(b"account\nc1\n").await.unwrap();
            let stop = import.finish().await.unwrap_err();
            assert!(
                matches!(stop, ImportStop::NotWritten(ref m) if m.contains("0 entries were added")),
                "{stop:?}"
            );
        });
    }

    #[test]
    fn upload_formats_follow_the_content_type() {
        assert_eq!(Format::of_upload("text/csv; charset=utf-8"), Some(Format::Csv));
        assert_eq!(Format::of_upload("Application/JSONL"), Some(Format::Ndjson));
        assert_eq!(Format::of_upload("application/json"), None);
        assert_eq!(Format::of_upload(""), None);
    }
}
