//! `application/x-www-form-urlencoded` bodies and query strings.
//!
//! Read twice when the text holds a `;`: once split on `&` only (the WHATWG rule) and once on
//! `&` and `;` (Rack's query strings, older Python, some Java containers), and every pair of
//! both readings is reported, under every name the backend's framework reads it as
//! ([`super::name_readings`]).

use std::borrow::Cow;

use percent_encoding::percent_decode;

use super::{name_readings, Backend, Unreadable, MAX_FIELDS};

/// Calls `found` for every pair of `text` (a form body or query string, named `what`).
pub(super) fn read(
    text: &[u8],
    what: &'static str,
    backend: Backend,
    found: &mut dyn FnMut(&str, Cow<'_, str>),
) -> Result<(), Unreadable> {
    read_split(text, what, b"&", backend, found)?;
    if text.contains(&b';') {
        read_split(text, what, b"&;", backend, found)?;
    }
    Ok(())
}

fn read_split(
    text: &[u8],
    what: &'static str,
    separators: &[u8],
    backend: Backend,
    found: &mut dyn FnMut(&str, Cow<'_, str>),
) -> Result<(), Unreadable> {
    let mut count = 0;
    for pair in text.split(|b| separators.contains(b)).filter(|p| !p.is_empty()) {
        count += 1;
        if count > MAX_FIELDS {
            return Err(Unreadable::TooManyFields(MAX_FIELDS));
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        let name = decode(name, what)?;
        let value = decode(value, what)?;
        for reading in name_readings(&name, backend) {
            found(&reading, Cow::Borrowed(&value));
        }
    }
    Ok(())
}

/// `+` is a space, then percent-decoding; the result must be UTF-8.
fn decode(raw: &[u8], what: &'static str) -> Result<String, Unreadable> {
    let spaced: Cow<'_, [u8]> = if raw.contains(&b'+') {
        Cow::Owned(raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect())
    } else {
        Cow::Borrowed(raw)
    };
    let bytes: Vec<u8> = percent_decode(&spaced).collect();
    String::from_utf8(bytes).map_err(|_| Unreadable::NotUtf8(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Result<Vec<(String, String)>, Unreadable> {
        let mut out = Vec::new();
        read(text.as_bytes(), "form body", Backend::Any, &mut |k, v| {
            out.push((k.to_owned(), v.into_owned()))
        })?;
        Ok(out)
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.into(), v.into())
    }

    #[test]
    fn pairs_are_decoded() {
        assert_eq!(
            pairs("email=Ada%40Example.com&q=a+b&flag").unwrap(),
            [p("email", "Ada@Example.com"), p("q", "a b"), p("flag", "")]
        );
        assert_eq!(pairs("caf%C3%A9=%E2%9C%93&&").unwrap(), [p("café", "✓")]);
    }

    #[test]
    fn semicolons_give_a_second_reading() {
        let found = pairs("x=1;email=m%40x.org").unwrap();
        assert!(found.contains(&p("x", "1;email=m@x.org")));
        assert!(found.contains(&p("email", "m@x.org")));
    }

    #[test]
    fn bracket_names_are_paths_too() {
        let found =
            pairs("customer%5Bemail%5D=a%40x.org&email[]=b%40x.org&items[0][email]=c%40x.org").unwrap();
        assert!(found.contains(&p("customer.email", "a@x.org")));
        assert!(found.contains(&p("email", "b@x.org")));
        assert!(found.contains(&p("items.email", "c@x.org")));
    }

    #[test]
    fn bad_text_is_refused() {
        assert_eq!(pairs("email=%ff%fe"), Err(Unreadable::NotUtf8("form body")));
        assert_eq!(pairs("%c3=x"), Err(Unreadable::NotUtf8("form body")));
        assert_eq!(pairs(&"a=1&".repeat(MAX_FIELDS + 1)), Err(Unreadable::TooManyFields(MAX_FIELDS)));
        assert!(pairs("%=%zz&%%%").is_ok(), "stray percent signs stay as written, like browsers do");
    }
}
