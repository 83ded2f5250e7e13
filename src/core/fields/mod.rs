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

/// The names a field sent as `name` may be read under: as sent, and as frameworks rewrite it
/// (leading spaces dropped by Rack and PHP, cut at a NUL by PHP, `.` and spaces made `_` by PHP,
/// a leading `!` dropped by Spring's field defaults), each also with bracket notation as a
/// dotted path (`customer[email]` → `customer.email`, `email[]` → `email`, `[email]` → `email`,
/// as Rails, PHP and `qs` nest parameters). Deduplicated; the name as sent comes first.
pub fn name_readings(name: &str) -> Vec<String> {
    let mut out = vec![name.to_owned()];
    let mut push = |n: String| {
        if !n.is_empty() && !out.contains(&n) {
            out.push(n);
        }
    };
    let trimmed = name.trim_start_matches([' ', '\t']);
    let cut = trimmed.split('\0').next().unwrap_or_default();
    let unbanged = cut.trim_start_matches('!');
    for n in [trimmed, cut, unbanged] {
        push(n.to_owned());
        if let Some(path) = bracket_path(n) {
            push(path);
        }
    }
    // PHP: in the part before the first `[`, `.` and ` ` become `_`.
    let base_end = unbanged.find('[').unwrap_or(unbanged.len());
    if unbanged[..base_end].contains(['.', ' ']) {
        push(format!("{}{}", unbanged[..base_end].replace(['.', ' '], "_"), &unbanged[base_end..]));
    }
    out
}

/// `a[b][c]` → `a.b.c`, `a[]` → `a`, `a[0][b]` → `a.b`, `[a]` → `a`, `a[b]junk` → `a.b`;
/// `None` when there are no brackets.
fn bracket_path(name: &str) -> Option<String> {
    let open = name.find('[')?;
    let mut path = name[..open].to_owned();
    let mut rest = &name[open..];
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else { break };
        let key = &inner[..close];
        if !key.is_empty() && !key.bytes().all(|b| b.is_ascii_digit()) {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
        }
        rest = &inner[close + 1..];
    }
    (!path.is_empty()).then_some(path)
}

/// Whether a field found at `path` is the wanted dotted path `wanted`.
pub fn same_path(path: &str, wanted: &str, case_sensitive: bool) -> bool {
    if case_sensitive {
        path == wanted
    } else {
        path.eq_ignore_ascii_case(wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_as_frameworks_rewrite_them() {
        let has = |sent: &str, read: &str| name_readings(sent).iter().any(|n| n == read);
        for (sent, read) in [
            ("email", "email"),
            (" email", "email"),
            ("email\0junk", "email"),
            ("!email", "email"),
            ("customer[email]", "customer.email"),
            ("customer[email]junk", "customer.email"),
            ("[email]", "email"),
            ("email[]", "email"),
            ("items[0][email]", "items.email"),
            ("customer.email", "customer_email"),
            ("customer email", "customer_email"),
            ("customer[email", "customer[email"),
        ] {
            assert!(has(sent, read), "{sent:?} is not read as {read:?}: {:?}", name_readings(sent));
        }
        assert_eq!(name_readings("email"), ["email"]);
        assert!(!has("xemail", "email") && !has("email_x", "email"));
    }
}
