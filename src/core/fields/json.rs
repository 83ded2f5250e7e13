//! JSON bodies: every string and number, with the dotted path of object keys leading to it.
//!
//! The text must be RFC 8259 JSON that `serde_json` parses completely (valid UTF-8, no lone
//! surrogates, no `NaN`, no trailing text, at most 128 levels deep); anything else is refused.
//! Duplicate keys are all reported, because backends disagree on which one wins.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{Unreadable, MAX_FIELDS};

/// Calls `found` for every string or number leaf of `body`.
pub(super) fn read(body: &[u8], found: &mut dyn FnMut(&str, Cow<'_, str>)) -> Result<(), Unreadable> {
    let mut walker = Walker { path: String::new(), found, count: 0 };
    let mut de = serde_json::Deserializer::from_slice(body);
    (&mut walker).deserialize(&mut de).map_err(|e| Unreadable::Json(e.to_string()))?;
    de.end().map_err(|e| Unreadable::Json(e.to_string()))?;
    if walker.count > MAX_FIELDS {
        return Err(Unreadable::TooManyFields(MAX_FIELDS));
    }
    Ok(())
}

/// Whether a parser reading any body as JSON would take `body` for JSON: after a byte order
/// mark and whitespace it starts an object or an array, or a comment (Ruby's parser skips them).
pub(super) fn looks_like_json(body: &[u8]) -> bool {
    let start = without_bom(body).iter().find(|b| !b" \t\r\n".contains(b));
    matches!(start, Some(b'{' | b'[' | b'/'))
}

/// `body` without a UTF-8 byte order mark (Python's `json.loads` skips one on bytes).
pub(super) fn without_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body)
}

/// Walks a JSON document without building it, reporting leaves with their path.
struct Walker<'f> {
    path: String,
    found: &'f mut dyn FnMut(&str, Cow<'_, str>),
    count: usize,
}

impl Walker<'_> {
    fn leaf<E: de::Error>(&mut self, value: Cow<'_, str>) -> Result<(), E> {
        self.count += 1;
        if self.count > MAX_FIELDS {
            return Err(E::custom("too many values"));
        }
        (self.found)(&self.path, value);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for &mut Walker<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut Walker<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.leaf(Cow::Owned(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.leaf(Cow::Owned(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        // `42.0` reads as 42 in loosely typed backends.
        self.leaf(Cow::Owned(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.leaf(Cow::Borrowed(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(&mut *self)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let len = self.path.len();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if len > 0 {
                self.path.push('.');
            }
            self.path.push_str(&key);
            let result = map.next_value_seed(&mut *self);
            self.path.truncate(len);
            result?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(text: &str) -> Result<Vec<(String, String)>, Unreadable> {
        let mut out = Vec::new();
        read(text.as_bytes(), &mut |k, v| out.push((k.to_owned(), v.into_owned())))?;
        Ok(out)
    }

    #[test]
    fn paths_numbers_arrays_and_duplicates() {
        let found = leaves(r#"{"account": 42, "customer": {"email": "a@x.org"}, "ok": true, "n": null,
            "list": [{"email": "b@x.org"}, "c"], "email": "d", "email": "e", "f": 42.0, "esc\u0061pe": "\u00e9"}"#)
        .unwrap();
        let want: Vec<(String, String)> = [
            ("account", "42"),
            ("customer.email", "a@x.org"),
            ("list.email", "b@x.org"),
            ("list", "c"),
            ("email", "d"),
            ("email", "e"),
            ("f", "42"),
            ("escape", "é"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(found, want);
        assert_eq!(leaves(r#"["x", 1]"#).unwrap().len(), 2);
    }

    #[test]
    fn anything_not_parsed_completely_is_refused() {
        for bad in [
            r#"{"email": "a@x.org""#,
            r#"{"email": "a@x.org"} trailing"#,
            r#"{"email": NaN}"#,
            r#"{"email": "\ud800"}"#,
            "\u{feff}{}",
            "{'email': 'a@x.org'}",
            r#"{"email": "a@x.org",}"#,
            "",
        ] {
            assert!(matches!(leaves(bad), Err(Unreadable::Json(_))), "{bad:?}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(matches!(leaves(&deep), Err(Unreadable::Json(_))), "past the depth limit");
        assert!(matches!(read(b"{\"a\": \"\xff\"}", &mut |_, _| {}), Err(Unreadable::Json(_))), "not UTF-8");
        let many = format!("[{}1]", "1,".repeat(MAX_FIELDS + 1));
        assert!(leaves(&many).is_err(), "too many values");
    }
}
