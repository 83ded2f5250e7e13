//! Named text fields of a request, read the way common web frameworks read them: the query
//! string, and a buffered body that is `application/x-www-form-urlencoded`, JSON or
//! `multipart/form-data`.
//!
//! The rule (see `ARCHITECTURE.md`): a body is either read completely or refused with an
//! [`Unreadable`] reason; nothing half-read is passed on as "no fields". Where frameworks
//! disagree on how to read something (`;` as a form separator, `a[b]` names), every reading is
//! reported, so a guard sees each value some backend might take.
//!
//! Field names come out as dotted paths: JSON object keys joined with `.` (arrays are
//! transparent), and form names with `a[b][]` brackets turned into `a.b`.

mod content;
mod form;
mod json;
mod multipart;

pub use content::{BodyKind, ContentTypes};

use std::borrow::Cow;

/// Why a body (or query) cannot be read the way the backend would read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    /// A body with a content type Doorman does not read (or none).
    #[error("content type `{0}` is not read")]
    ContentType(String),
    /// A `charset` other than UTF-8.
    #[error("charset `{0}` is not read")]
    Charset(String),
    /// A `Content-Encoding` (gzip, …) Doorman does not decode.
    #[error("content encoding `{0}` is not decoded")]
    ContentEncoding(String),
    /// Not UTF-8 where text is expected.
    #[error("the {0} is not UTF-8")]
    NotUtf8(&'static str),
    /// Not RFC 8259 JSON, or nested deeper than the parser reads.
    #[error("not JSON that parses completely: {0}")]
    Json(String),
    /// A multipart body that does not parse completely.
    #[error("a multipart body that does not parse completely: {0}")]
    Multipart(String),
    /// More fields than the limit.
    #[error("more than {0} fields")]
    TooManyFields(usize),
}

/// Most fields read from one body or query; beyond it the request is refused.
pub const MAX_FIELDS: usize = 1024;

/// Calls `found(path, value)` for every named text value of a body of `kind`.
pub fn read_body(
    kind: &BodyKind,
    body: &[u8],
    found: &mut dyn FnMut(&str, Cow<'_, str>),
) -> Result<(), Unreadable> {
    match kind {
        BodyKind::Empty | BodyKind::Ignored => Ok(()),
        BodyKind::Form => form::read(body, "form body", found),
        BodyKind::Json => json::read(body, found),
        BodyKind::Multipart { boundary } => multipart::read(body, boundary, found),
    }
}

/// Calls `found(path, value)` for every field of a query string (form rules).
pub fn read_query(query: &str, found: &mut dyn FnMut(&str, Cow<'_, str>)) -> Result<(), Unreadable> {
    form::read(query.as_bytes(), "query string", found)
}

/// Whether a field found at `path` is the wanted dotted path `wanted`.
pub fn same_path(path: &str, wanted: &str, case_sensitive: bool) -> bool {
    if case_sensitive {
        path == wanted
    } else {
        path.eq_ignore_ascii_case(wanted)
    }
}
