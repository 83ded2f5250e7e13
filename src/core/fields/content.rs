//! Which reader a body needs, from its `Content-Type` and `Content-Encoding`.

use http::HeaderMap;

use super::Unreadable;

/// How a body is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyKind {
    /// No body at all.
    Empty,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `application/json`, `application/*+json`.
    Json,
    /// `multipart/form-data` with its boundary.
    Multipart {
        /// The boundary parameter.
        boundary: String,
    },
    /// A content type the backend never takes fields from (but for frameworks that parse any
    /// body as JSON): `text/plain`, which browsers send for `fetch` with a string body and for
    /// forms with `enctype="text/plain"`, unless the policy reads it otherwise, and the types
    /// the policy declares `ignore`.
    Ignored,
    /// Any other content type (its essence): refused, unless the backend reads such bodies as
    /// JSON anyway and this one looks like JSON.
    Other(String),
}

/// Content types beyond the built-in ones, from the policy: each is read as form, JSON or
/// multipart, or declared as never holding fields the backend reads (`ignore`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentTypes {
    extra: Vec<(String, ExtraReader)>,
}

/// How an extra content type is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraReader {
    /// As a form.
    Form,
    /// As JSON.
    Json,
    /// Never holds fields the backend reads.
    Ignore,
}

impl ContentTypes {
    /// Declares `essence` (e.g. `text/json`) to be read as `reader` (`form`, `json` or
    /// `ignore`); `None` if the reader is unknown or the essence is not `type/subtype`.
    pub fn add(&mut self, essence: &str, reader: &str) -> Option<()> {
        let reader = match reader {
            "form" => ExtraReader::Form,
            "json" => ExtraReader::Json,
            "ignore" => ExtraReader::Ignore,
            _ => return None,
        };
        let essence = essence.trim().to_ascii_lowercase();
        let (ty, sub) = essence.split_once('/')?;
        let token = |s: &str| {
            !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
        };
        (token(ty) && token(sub)).then(|| self.extra.push((essence, reader)))
    }

    fn get(&self, essence: &str) -> Option<ExtraReader> {
        self.extra.iter().find(|(e, _)| e == essence).map(|(_, r)| *r)
    }
}

impl BodyKind {
    /// The reader for a body of `len` bytes with `headers`, or why it cannot be read.
    pub fn of(headers: &HeaderMap, len: usize, extra: &ContentTypes) -> Result<Self, Unreadable> {
        for encoding in headers.get_all(http::header::CONTENT_ENCODING) {
            let text = String::from_utf8_lossy(encoding.as_bytes());
            if text.split(',').any(|e| !e.trim().eq_ignore_ascii_case("identity")) {
                return Err(Unreadable::ContentEncoding(text.trim().chars().take(40).collect()));
            }
        }
        let mut types = headers.get_all(http::header::CONTENT_TYPE).iter();
        let (Some(ct), None) = (types.next(), types.next()) else {
            // No content type: fine without a body; a body some frameworks would sniff is not.
            return if len == 0 && headers.get(http::header::CONTENT_TYPE).is_none() {
                Ok(Self::Empty)
            } else {
                Err(Unreadable::ContentType("several or none".into()))
            };
        };
        let ct = ct.to_str().map_err(|_| Unreadable::NotUtf8("content type"))?;
        let mime: mime::Mime = ct.parse().map_err(|_| Unreadable::ContentType(clip(ct)))?;
        let essence = mime.essence_str().to_ascii_lowercase();
        if let Some(charset) = mime.get_param(mime::CHARSET) {
            if !matches!(charset.as_str().to_ascii_lowercase().as_str(), "utf-8" | "utf8") {
                return Err(Unreadable::Charset(clip(charset.as_str())));
            }
        }
        let kind = match essence.as_str() {
            "application/x-www-form-urlencoded" => Self::Form,
            "application/json" => Self::Json,
            e if e.starts_with("application/") && e.ends_with("+json") => Self::Json,
            "text/plain" if extra.get("text/plain").is_none() => Self::Ignored,
            "multipart/form-data" => {
                let boundary = mime.get_param(mime::BOUNDARY).map(|b| b.as_str().to_owned());
                match boundary {
                    Some(b) if (1..=70).contains(&b.len()) && every_parser_finds(ct, &mime, &b) => {
                        Self::Multipart { boundary: b }
                    }
                    Some(b) if (1..=70).contains(&b.len()) => {
                        return Err(Unreadable::Multipart("parsers disagree on the boundary".into()))
                    }
                    _ => return Err(Unreadable::Multipart("no usable boundary".into())),
                }
            }
            other => match extra.get(other) {
                Some(ExtraReader::Form) => Self::Form,
                Some(ExtraReader::Json) => Self::Json,
                Some(ExtraReader::Ignore) => Self::Ignored,
                None => Self::Other(clip(other)),
            },
        };
        Ok(kind)
    }
}

/// Whether every parser finds `boundary` in the `Content-Type` `header`: exactly one parameter
/// named `boundary` (in any letter case), and every `boundary=` anywhere in the text (PHP's
/// search and Rack's pattern find the first, in parameter names or values alike) followed by
/// that same value. Browsers' own boundaries (`----WebKitFormBoundary…`,
/// `----geckoformboundary…`) hold the word but no `=` after it.
fn every_parser_finds(header: &str, mime: &mime::Mime, boundary: &str) -> bool {
    if mime.params().filter(|(name, _)| name.as_str().eq_ignore_ascii_case("boundary")).count() != 1 {
        return false;
    }
    let lower = header.to_ascii_lowercase();
    lower.match_indices("boundary").all(|(at, _)| {
        let rest = header[at + "boundary".len()..].trim_start_matches([' ', '\t']);
        let Some(value) = rest.strip_prefix('=') else { return true };
        let value = value.trim_start_matches([' ', '\t']);
        let read = match value.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next().unwrap_or_default(),
            None => value.split([';', ',', '"', ' ']).next().unwrap_or_default(),
        };
        read == boundary
    })
}

fn clip(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(60).collect()
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn kind(ct: Option<&str>, encoding: Option<&str>, len: usize) -> Result<BodyKind, Unreadable> {
        let mut h = HeaderMap::new();
        if let Some(ct) = ct {
            h.insert("content-type", HeaderValue::from_str(ct).unwrap());
        }
        if let Some(e) = encoding {
            h.insert("content-encoding", HeaderValue::from_str(e).unwrap());
        }
        let mut extra = ContentTypes::default();
        extra.add("text/json", "json").unwrap();
        extra.add("Text/Plain", "ignore").unwrap();
        BodyKind::of(&h, len, &extra)
    }

    #[test]
    fn readable_types() {
        assert_eq!(kind(None, None, 0), Ok(BodyKind::Empty));
        assert_eq!(kind(Some("application/x-www-form-urlencoded"), None, 9), Ok(BodyKind::Form));
        assert_eq!(
            kind(Some("Application/X-WWW-Form-Urlencoded; Charset=\"UTF-8\""), None, 9),
            Ok(BodyKind::Form)
        );
        assert_eq!(kind(Some("application/json; charset=utf8"), Some("identity"), 9), Ok(BodyKind::Json));
        assert_eq!(kind(Some("application/vnd.shop+json"), None, 9), Ok(BodyKind::Json));
        assert_eq!(kind(Some("text/json"), None, 9), Ok(BodyKind::Json), "declared in the policy");
        assert_eq!(kind(Some("text/plain"), None, 9), Ok(BodyKind::Ignored), "declared in the policy");
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("text/plain;charset=UTF-8"));
        assert_eq!(
            BodyKind::of(&h, 9, &ContentTypes::default()),
            Ok(BodyKind::Ignored),
            "fetch's string bodies"
        );
        let mut form = ContentTypes::default();
        form.add("text/plain", "form").unwrap();
        assert_eq!(BodyKind::of(&h, 9, &form), Ok(BodyKind::Form), "a policy reading text/plain as a form");
        assert_eq!(
            kind(Some("multipart/form-data; boundary=\"a;b\""), None, 9),
            Ok(BodyKind::Multipart { boundary: "a;b".into() })
        );
        // What browsers send: the word "boundary" inside the boundary, in any letter case.
        for (header, boundary) in [
            (
                "multipart/form-data; boundary=----WebKitFormBoundaryx8LXqsG7jWPWQ3nB",
                "----WebKitFormBoundaryx8LXqsG7jWPWQ3nB",
            ),
            (
                "multipart/form-data; boundary=----geckoformboundary2a1f2c6e0cfb2ab9d6c5bd0f",
                "----geckoformboundary2a1f2c6e0cfb2ab9d6c5bd0f",
            ),
            (
                "multipart/form-data; boundary=---------------------------boundary123",
                "---------------------------boundary123",
            ),
            ("multipart/form-data;boundary=\"BOUNDARY\"", "BOUNDARY"),
        ] {
            assert_eq!(
                kind(Some(header), None, 9),
                Ok(BodyKind::Multipart { boundary: boundary.into() }),
                "{header}"
            );
        }
    }

    #[test]
    fn unreadable_types_are_refused() {
        assert!(matches!(kind(None, None, 5), Err(Unreadable::ContentType(_))), "a body without a type");
        assert_eq!(kind(Some("text/html"), None, 5), Ok(BodyKind::Other("text/html".into())));
        assert_eq!(kind(Some("application/xml"), None, 5), Ok(BodyKind::Other("application/xml".into())));
        assert!(matches!(kind(Some("garbage"), None, 5), Err(Unreadable::ContentType(_))));
        assert!(matches!(
            kind(Some("application/json; charset=utf-16"), None, 5),
            Err(Unreadable::Charset(_))
        ));
        assert!(matches!(
            kind(Some("application/x-www-form-urlencoded; charset=iso-8859-1"), None, 5),
            Err(Unreadable::Charset(_))
        ));
        assert!(matches!(
            kind(Some("application/json"), Some("gzip"), 5),
            Err(Unreadable::ContentEncoding(_))
        ));
        assert!(matches!(
            kind(Some("application/json"), Some("identity, br"), 5),
            Err(Unreadable::ContentEncoding(_))
        ));
        assert!(matches!(kind(Some("multipart/form-data"), None, 5), Err(Unreadable::Multipart(_))));
        for two in [
            "multipart/form-data; boundary=AAA; boundary=BBB",
            "multipart/form-data; boundary=AAA; BOUNDARY=BBB",
            "multipart/form-data; boundary=AAA; x=\"boundary=BBB\"",
            "multipart/form-data; x=\"y; boundary=BBB\"; boundary=AAA",
            "multipart/form-data; xboundary=BBB; boundary=AAA",
        ] {
            assert!(matches!(kind(Some(two), None, 5), Err(Unreadable::Multipart(_))), "{two}");
        }
        let mut h = HeaderMap::new();
        h.append("content-type", HeaderValue::from_static("application/json"));
        h.append("content-type", HeaderValue::from_static("text/plain"));
        assert!(BodyKind::of(&h, 2, &ContentTypes::default()).is_err(), "two content types");
    }

    #[test]
    fn extra_types_are_checked() {
        let mut extra = ContentTypes::default();
        assert!(extra.add("text/json", "xml").is_none());
        assert!(extra.add("json", "json").is_none());
        assert!(extra.add("text/ json", "json").is_none());
    }
}
