//! Cookies as the frameworks read them: which pairs a `Cookie` header holds, and every name and
//! value each pair may be read as (`docs/readings.md` cites the sources).
//!
//! Everyone splits on `;`; Rack before 2.1 also split on `,`, which Doorman still reads. Names
//! are trimmed; PHP turns `.` and ` ` into `_` and an unclosed `[` into `_` (`shop[session` is
//! `shop_session`); PHP before 7.4.11 also percent-decoded names, which Doorman still reads.
//! Values are trimmed, and read as sent, without surrounding quotes (the `cookie` module of
//! Express, Python), with Python's backslash and octal escapes undone inside quotes (`"\145yJ…"`
//! is `eyJ…` to Django and Flask), and percent-decoded (PHP, Rack, Express). Express's
//! `cookie-parser` also reads `j:` values as JSON (`j:"eyJ…"` is `eyJ…`) and signed `s:` values
//! as what comes before their signature (`s:eyJ….sig` is `eyJ…` to a shop that signs its session
//! cookie; Doorman does not check the signature, the token inside is checked anyway). Reading
//! more than one framework does costs nothing but candidates: a pair is only ever checked,
//! never trusted.

use http::HeaderMap;
use percent_encoding::percent_decode_str;

use super::{name_readings, Backend};

/// One cookie pair of a request with every reading of its name and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieReading {
    /// The names it may be read under, the trimmed name as sent first.
    pub names: Vec<String>,
    /// The values it may be read as, the trimmed value as sent first.
    pub values: Vec<String>,
}

/// Most cookie pairs read from one request; beyond it the rest are not looked at by Doorman,
/// and the caller's caps decide (PHP reads at most `max_input_vars`, 1000, too).
const MAX_PAIRS: usize = 1024;

/// Every cookie pair in `headers`' `Cookie` fields, as the frameworks `backend` covers split
/// and read them, in order; a pair sent twice is reported twice (callers cap how many of a
/// name they look at).
pub fn read_cookies(headers: &HeaderMap, backend: Backend) -> Vec<CookieReading> {
    let mut out: Vec<CookieReading> = Vec::with_capacity(4);
    let comma = backend.covers(Backend::Rack);
    for header in headers.get_all(http::header::COOKIE) {
        let text = String::from_utf8_lossy(header.as_bytes());
        for pair in text.split(';') {
            // Rack also splits at `,`: the pairs inside this one, besides it.
            let inner = pair.split(',').filter(|_| comma && pair.contains(','));
            for pair in std::iter::once(pair).chain(inner) {
                if out.len() >= MAX_PAIRS {
                    return out;
                }
                let Some((name, value)) = pair.split_once('=') else { continue };
                let (names, values) = (names(name.trim(), backend), values(value.trim(), backend));
                out.push(CookieReading { names, values });
            }
        }
    }
    out
}

fn names(name: &str, backend: Backend) -> Vec<String> {
    let mut out = vec![name.to_owned()];
    if backend.covers(Backend::Php) || backend.covers(Backend::Rack) {
        let decoded = form_decode(name);
        let mut readings = vec![decoded.clone()];
        if backend.covers(Backend::Php) {
            readings.extend(name_readings(&decoded, Backend::Php));
            readings.extend(name_readings(name, Backend::Php));
        }
        for r in readings {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

fn values(value: &str, backend: Backend) -> Vec<String> {
    let unquoted = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
    let readings = [
        Some(value.to_owned()),
        unquoted.map(str::to_owned),
        unquoted.and_then(python_unescape),
        Some(form_decode(value)),
        unquoted.map(form_decode),
    ];
    let mut out: Vec<String> = Vec::with_capacity(readings.len());
    for v in readings.into_iter().flatten() {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    if backend.covers(Backend::Express) {
        let parsed: Vec<String> = out
            .iter()
            .filter(|v| v.starts_with("j:") || v.starts_with("s:"))
            .flat_map(|v| cookie_parser(v))
            .collect();
        for p in parsed {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// What Express's `cookie-parser` makes of a decoded value: a signed `s:value.signature` is
/// `value` (in `req.signedCookies`), and a `j:` value that is a JSON string is that string.
fn cookie_parser(value: &str) -> Vec<String> {
    let unsigned = value.strip_prefix("s:").and_then(|v| v.rsplit_once('.')).map(|(v, _signature)| v);
    let mut out = Vec::with_capacity(2);
    for v in std::iter::once(value).chain(unsigned) {
        if v != value {
            out.push(v.to_owned());
        }
        if let Some(Ok(json)) = v.strip_prefix("j:").map(serde_json::from_str::<String>) {
            out.push(json);
        }
    }
    out
}

/// Percent-decoding with `+` as a space, invalid UTF-8 replaced.
fn form_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Python's `http.cookies._unquote` on the inside of a quoted value: `\ooo` (octal, at most
/// `\377`) is that character, `\x` is `x`. `None` when there is no backslash.
fn python_unescape(inner: &str) -> Option<String> {
    if !inner.contains('\\') {
        return None;
    }
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some((before, after)) = rest.split_once('\\') {
        out.push_str(before);
        let octal = after.get(..3).filter(|d| {
            let d = d.as_bytes();
            (b'0'..=b'3').contains(&d[0]) && d[1..].iter().all(|b| (b'0'..=b'7').contains(b))
        });
        match (octal, after.chars().next()) {
            (Some(digits), _) => {
                out.extend(u32::from_str_radix(digits, 8).ok().and_then(char::from_u32));
                rest = &after[3..];
            }
            (None, Some(c)) => {
                out.push(c);
                rest = &after[c.len_utf8()..];
            }
            (None, None) => {
                out.push('\\'); // a backslash at the very end stays
                rest = "";
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn read(header: &str, backend: Backend) -> Vec<CookieReading> {
        let mut h = HeaderMap::new();
        h.insert("cookie", HeaderValue::from_str(header).unwrap());
        read_cookies(&h, backend)
    }

    /// Whether some pair is read with this name and this value.
    fn has(header: &str, backend: Backend, name: &str, value: &str) -> bool {
        read(header, backend)
            .iter()
            .any(|c| c.names.iter().any(|n| n == name) && c.values.iter().any(|v| v == value))
    }

    #[test]
    fn pairs_are_read_as_each_framework_reads_them() {
        for (backend, header, name, value) in [
            (Backend::Any, "a=1; shop_session=tok", "shop_session", "tok"),
            (Backend::Rack, "a=1, shop_session=tok", "shop_session", "tok"),
            (Backend::Php, "shop[session=tok", "shop_session", "tok"),
            (Backend::Php, "shop.session=tok", "shop_session", "tok"),
            (Backend::Php, "shop%5Fsession=tok", "shop_session", "tok"),
            (Backend::Rack, "shop%5Fsession=tok", "shop_session", "tok"),
            (Backend::Django, "shop_session=\"\\145yJ\"", "shop_session", "eyJ"),
            (Backend::Flask, "shop_session=\"e\\yJ\"", "shop_session", "eyJ"),
            (Backend::Express, "shop_session=\"eyJ\"", "shop_session", "eyJ"),
            (Backend::Express, "shop_session=ey%4A", "shop_session", "eyJ"),
            (Backend::Php, "email=m%40x.org", "email", "m@x.org"),
            (Backend::Express, "shop_session=j:\"eyJ\"", "shop_session", "eyJ"),
            (Backend::Express, "shop_session=j%3A%22%5Cu0065yJ%22", "shop_session", "eyJ"),
            (Backend::Express, "shop_session=s%3AeyJ.a.b.c2lnbmF0dXJl", "shop_session", "eyJ.a.b"),
            (Backend::Express, "shop_session=s:j:\"eyJ\".c2ln", "shop_session", "eyJ"),
        ] {
            assert!(has(header, backend, name, value), "{backend:?}: {header} → {:?}", read(header, backend));
            assert!(has(header, Backend::Any, name, value), "any covers {backend:?}: {header}");
        }
        assert!(!has("a=1, shop_session=tok", Backend::Django, "shop_session", "tok"));
        assert!(!has("shop[session=tok", Backend::Flask, "shop_session", "tok"));
        assert!(!has("shop_session=j:\"eyJ\"", Backend::Django, "shop_session", "eyJ"));
        for odd in ["j:", "j:{\"a\":1}", "j:\"unclosed", "s:", "s:nodot", "s:.", "j:j:\"x\""] {
            let header = format!("c={odd}");
            let values = &read(&header, Backend::Express)[0].values;
            assert!(values.iter().all(|v| v.len() <= odd.len()), "{odd}: {values:?}");
        }
    }

    #[test]
    fn hostile_headers_stay_bounded() {
        let many = "a=1;".repeat(5000);
        assert_eq!(read(&many, Backend::Any).len(), MAX_PAIRS, "every pair counts, up to the cap");
        let distinct: String = (0..5000).map(|i| format!("c{i}=1;")).collect();
        assert_eq!(read(&distinct, Backend::Any).len(), MAX_PAIRS);
        assert!(read("novalue; =; ;;", Backend::Any).iter().all(|c| c.names[0].is_empty()));
        assert_eq!(python_unescape("\\"), Some("\\".into()));
        assert_eq!(python_unescape("a\\7"), Some("a7".into()));
        assert_eq!(python_unescape("\\145\\\"\\351\\é"), Some("e\"\u{e9}é".into()));
    }
}
