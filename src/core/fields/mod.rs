//! Named text fields of a request, read the way the backend's web framework reads them
//! ([`Backend`]; `docs/readings.md` cites each framework's source): the query string, the
//! cookies, and a buffered body that is `application/x-www-form-urlencoded`, JSON,
//! `multipart/form-data` or, where frameworks parse any body as JSON, JSON under another type.
//!
//! The rule (see `ARCHITECTURE.md`): a body is either read completely or refused with an
//! [`Unreadable`] reason; nothing half-read is passed on as "no fields". Where frameworks
//! disagree on how to read something (`;` as a form separator, `a[b]` names), every reading of
//! the families the policy's backend covers is reported (all of them for `any`, the default), so
//! a guard sees each value some backend might take.
//!
//! Field names come out as dotted paths: JSON object keys joined with `.` (arrays are
//! transparent), and form names as each framework nests them (`customer[email]` is
//! `customer.email` to PHP, Rack and Express; [`name_readings`]).

mod content;
mod cookies;
mod form;
mod json;
mod multipart;
mod names;

pub use content::{BodyKind, ContentTypes};
pub use cookies::{read_cookies, CookieReading};
pub use names::name_readings;

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

/// The web framework family a backend is built on, which decides how it reads a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// Not known: every family's reading counts (the default).
    #[default]
    Any,
    /// PHP (`$_GET`, `$_POST`, `$_COOKIE`, `$_REQUEST`, `php://input`).
    Php,
    /// Rack and what runs on it (Rails, Sinatra).
    Rack,
    /// Express (body-parser with `qs`, busboy or multer, the `cookie` module).
    Express,
    /// Django.
    Django,
    /// Flask and Werkzeug.
    Flask,
    /// Spring MVC's data binding.
    Spring,
}

impl Backend {
    /// Every family by its policy name.
    pub const NAMES: [(&'static str, Backend); 7] = [
        ("any", Backend::Any),
        ("php", Backend::Php),
        ("rack", Backend::Rack),
        ("express", Backend::Express),
        ("django", Backend::Django),
        ("flask", Backend::Flask),
        ("spring", Backend::Spring),
    ];

    /// The family a policy names (`any`, `php`, `rack`, `express`, `django`, `flask`, `spring`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
    }

    /// Whether `family`'s readings count for this backend.
    pub fn covers(self, family: Backend) -> bool {
        self == Backend::Any || self == family
    }

    /// Whether shops on it commonly parse a body as JSON whatever its `Content-Type` says:
    /// PHP's `json_decode(file_get_contents('php://input'))`, Rack's `JSON.parse(request.body.read)`,
    /// Django's `json.loads(request.body)`, Flask's `get_json(force=True)`.
    pub fn reads_json_whatever_the_type(self) -> bool {
        [Backend::Php, Backend::Rack, Backend::Django, Backend::Flask].into_iter().any(|f| self.covers(f))
    }

    /// Whether cookies are request fields too: PHP's `$_REQUEST` holds them under PHP's
    /// compiled-in `request_order`.
    pub fn reads_cookies_as_fields(self) -> bool {
        self.covers(Backend::Php)
    }
}

/// Calls `found(path, value)` for every named text value of a body of `kind`, as `backend`
/// reads it.
pub fn read_body(
    kind: &BodyKind,
    body: &[u8],
    backend: Backend,
    found: &mut dyn FnMut(&str, Cow<'_, str>),
) -> Result<(), Unreadable> {
    let json_anyway = backend.reads_json_whatever_the_type() && json::looks_like_json(body);
    match kind {
        BodyKind::Json => return json::read(body, found),
        BodyKind::Multipart { boundary } => return multipart::read(body, boundary, backend, found),
        BodyKind::Form => form::read(body, "form body", backend, found)?,
        BodyKind::Other(essence) if !json_anyway => return Err(Unreadable::ContentType(essence.clone())),
        BodyKind::Empty | BodyKind::Ignored | BodyKind::Other(_) => {}
    }
    if json_anyway {
        // What a backend parsing the body as JSON reads: if it is not JSON that parses
        // completely, some parser (comments in Ruby's, `NaN` in Python's) might still read it.
        json::read(json::without_bom(body), found)?;
    }
    Ok(())
}

/// Calls `found(path, value)` for every field of a query string (form rules).
pub fn read_query(
    query: &str,
    backend: Backend,
    found: &mut dyn FnMut(&str, Cow<'_, str>),
) -> Result<(), Unreadable> {
    form::read(query.as_bytes(), "query string", backend, found)
}

/// Whether a field found at `path` is the wanted dotted path `wanted`.
pub fn same_path(path: &str, wanted: &str, case_sensitive: bool) -> bool {
    if case_sensitive {
        path == wanted
    } else {
        path.eq_ignore_ascii_case(wanted)
    }
}
