//! `multipart/form-data` bodies (RFC 7578), read with the `multer` crate.
//!
//! The body is already in memory, so multer's futures finish on their first poll; if one ever
//! did not, the body is refused rather than waited on. Every part whose content is UTF-8 is
//! reported, file parts too (frameworks disagree on whether `filename=""` makes a file), under
//! multer's name and under every other `name=` parameter of its `Content-Disposition` (parsers
//! disagree on which of two wins), each under every name the backend's framework reads it as.
//! A part Doorman could misread (no name or an empty one, RFC 2231 `name*=`, a transfer
//! encoding, a charset other than UTF-8, a `Content-ID`, a second header line naming
//! `Content-Disposition`) refuses the whole body, and so does anything multer cannot parse to
//! the end.

use std::borrow::Cow;

use bytes::Bytes;
use futures_util::FutureExt;

use super::{name_readings, Backend, Unreadable, MAX_FIELDS};

/// Most distinct names one part may be read under.
const MAX_NAMES: usize = 16;

/// Calls `found` for every text part of `body`.
pub(super) fn read(
    body: &[u8],
    boundary: &str,
    backend: Backend,
    found: &mut dyn FnMut(&str, Cow<'_, str>),
) -> Result<(), Unreadable> {
    let bytes = Bytes::copy_from_slice(body);
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let fail = |e: multer::Error| Unreadable::Multipart(e.to_string());
    let pending = || Unreadable::Multipart("the parser wanted more input".into());
    for parts in 0..=MAX_FIELDS {
        let Some(field) = multipart.next_field().now_or_never().ok_or_else(pending)?.map_err(fail)? else {
            return same_structure_for_every_parser(body, boundary, parts);
        };
        let disposition = field
            .headers()
            .get(http::header::CONTENT_DISPOSITION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase())
            .unwrap_or_default();
        if disposition.contains("name*") {
            return Err(Unreadable::Multipart("an RFC 2231 encoded name".into()));
        }
        if let Some(encoding) = field.headers().get("content-transfer-encoding") {
            let e = String::from_utf8_lossy(encoding.as_bytes()).trim().to_ascii_lowercase();
            if !matches!(e.as_str(), "7bit" | "8bit" | "binary") {
                return Err(Unreadable::Multipart("a part with a transfer encoding".into()));
            }
        }
        if let Some(charset) = field.content_type().and_then(|m| m.get_param(mime::CHARSET)) {
            if !matches!(charset.as_str().to_ascii_lowercase().as_str(), "utf-8" | "utf8") {
                return Err(Unreadable::Charset(charset.as_str().chars().take(40).collect()));
            }
        }
        // Rack names a part without a usable name after its file name or `Content-ID`.
        let name = field
            .name()
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| Unreadable::Multipart("a part without a name".into()))?;
        let mut names = vec![name];
        for n in names_in(&raw_disposition(&field)).iter().flat_map(|n| name_readings(n, backend)) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        if names.len() > MAX_NAMES {
            return Err(Unreadable::Multipart("a part with too many names".into()));
        }
        let is_file = field.file_name().is_some();
        let value = field.bytes().now_or_never().ok_or_else(pending)?.map_err(fail)?;
        match std::str::from_utf8(&value) {
            Ok(text) => names.iter().for_each(|n| found(n, Cow::Borrowed(text))),
            Err(_) if is_file => {} // binary uploads hold no identity
            Err(_) => return Err(Unreadable::NotUtf8("multipart field")),
        }
    }
    Err(Unreadable::TooManyFields(MAX_FIELDS))
}

/// Parsers that end a part at the boundary anywhere (Django, PHP), read on past the closing
/// delimiter (PHP), take the first of two `Content-Disposition` fields (busboy, PHP,
/// commons-fileupload) where multer takes the last, or find `Content-Disposition:` anywhere in
/// a header line (Rack's pattern matches `X-Content-Disposition:` too) would see other parts
/// than multer did: such a body must have exactly one delimiter per part plus the closing one,
/// nothing but whitespace after the close, and in each part's head exactly one line that
/// mentions `Content-Disposition`, that header itself, and no `Content-ID`.
fn same_structure_for_every_parser(body: &[u8], boundary: &str, parts: usize) -> Result<(), Unreadable> {
    let delimiter = format!("--{boundary}");
    let delimiters = memchr::memmem::find_iter(body, delimiter.as_bytes()).count();
    if delimiters != parts + 1 {
        return Err(Unreadable::Multipart("the boundary appears inside a part".into()));
    }
    let close = format!("--{boundary}--");
    let after = memchr::memmem::rfind(body, close.as_bytes()).map(|at| &body[at + close.len()..]);
    if !after.is_some_and(|rest| rest.iter().all(u8::is_ascii_whitespace)) {
        return Err(Unreadable::Multipart("text after the closing delimiter".into()));
    }
    let starts: Vec<usize> = memchr::memmem::find_iter(body, delimiter.as_bytes()).collect();
    for pair in starts.windows(2) {
        let part = &body[pair[0] + delimiter.len()..pair[1]];
        let head_end = memchr::memmem::find(part, b"\r\n\r\n").unwrap_or(part.len());
        let head = part[..head_end].to_ascii_lowercase();
        let mut dispositions = 0;
        for line in head.split(|&b| b == b'\n') {
            if memchr::memmem::find(line, b"content-id:").is_some() {
                return Err(Unreadable::Multipart("a part with a Content-ID".into()));
            }
            if memchr::memmem::find(line, b"content-disposition").is_some() {
                let header = line.trim_ascii_start().strip_prefix(b"content-disposition");
                if !header.is_some_and(|rest| rest.trim_ascii_start().starts_with(b":")) {
                    return Err(Unreadable::Multipart("a header line naming Content-Disposition".into()));
                }
                dispositions += 1;
            }
        }
        if dispositions != 1 {
            return Err(Unreadable::Multipart("a part with several Content-Disposition fields".into()));
        }
    }
    Ok(())
}

fn raw_disposition(field: &multer::Field<'_>) -> String {
    field
        .headers()
        .get(http::header::CONTENT_DISPOSITION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// The value of every `name` parameter in a `Content-Disposition`, in any letter case, quoted
/// (with `\` escapes) or bare. A safety net beside multer's reading, never instead of it.
fn names_in(disposition: &str) -> Vec<String> {
    let lower = disposition.to_ascii_lowercase();
    let bytes = disposition.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find("name").map(|i| i + from) {
        if out.len() > MAX_NAMES {
            break;
        }
        from = at + 4;
        let standalone = at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'*');
        let rest = disposition[from..].trim_start();
        let Some(value) = rest.strip_prefix('=').filter(|_| standalone) else { continue };
        let value = value.trim_start();
        if let Some(quoted) = value.strip_prefix('"') {
            let mut name = String::new();
            let mut chars = quoted.chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => name.extend(chars.next()),
                    c => name.push(c),
                }
            }
            out.push(name);
        } else {
            let bare = value.split(';').next().unwrap_or("").trim().trim_matches('"');
            out.push(bare.to_owned());
            // PHP also unquotes single quotes.
            if let Some(inner) = bare.strip_prefix('\'').and_then(|b| b.strip_suffix('\'')) {
                out.push(inner.to_owned());
            }
            // Rack reads an unquoted value as a token: up to the first separator character.
            let token = bare.split(|c: char| c.is_whitespace() || "()<>,;:\\\"/[]?=".contains(c)).next();
            out.extend(token.filter(|t| *t != bare).map(str::to_owned));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(body: &str) -> Result<Vec<(String, String)>, Unreadable> {
        let mut out = Vec::new();
        read(body.as_bytes(), "b", Backend::Any, &mut |k, v| out.push((k.to_owned(), v.into_owned())))?;
        Ok(out)
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.into(), v.into())
    }

    const EMAIL: &str = "--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nAda@Example.com\r\n";

    #[test]
    fn text_parts_are_read_and_files_skipped() {
        let body = format!(
            "preamble\r\n{EMAIL}--b\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\
             Content-Type: text/plain\r\n\r\nemail=x\r\n--b\r\ncontent-disposition: form-data; name=\"a;b\"\r\n\r\n\
             v\r\n--b\r\nContent-Disposition: form-data; name=\"pic\"; filename=\"p.png\"\r\n\r\nPNG~\r\n--b--\r\n"
        );
        let mut body = body.into_bytes();
        let at = body.windows(4).position(|w| w == b"PNG~").unwrap();
        body[at + 3] = 0xff; // a binary file part
        let mut found = Vec::new();
        read(&body, "b", Backend::Any, &mut |k, v| found.push(p(k, &v))).unwrap();
        assert_eq!(found, [p("email", "Ada@Example.com"), p("doc", "email=x"), p("a;b", "v")]);
    }

    #[test]
    fn every_name_parameter_is_a_reading() {
        for (disposition, names) in [
            ("form-data; name=\"real\"; name=\"email\"", &["real", "email"][..]),
            ("form-data; filename=\"\"; name=\"email\"", &["email"]),
            ("form-data; name=\"email\"; flag", &["email"]),
            ("form-data; xname=\"email\"; name=\"real\"", &["real"]),
            ("form-data; name=email; NAME=\"e\\\"x\"", &["email", "e\"x"]),
            ("form-data; name=\"a;name=email\"", &["a;name=email", "email"]),
            ("form-data; name='email'", &["'email'", "email"]),
        ] {
            let body = format!("--b\r\nContent-Disposition: {disposition}\r\n\r\nv\r\n--b--\r\n");
            let found: Vec<String> = parts(&body).unwrap().into_iter().map(|(k, _)| k).collect();
            assert_eq!(found, names, "{disposition}");
        }
    }

    #[test]
    fn many_parts_are_all_read() {
        let mut body = "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n".repeat(300);
        body.push_str(EMAIL);
        body.push_str("--b--\r\n");
        let found = parts(&body).unwrap();
        assert_eq!(found.len(), 301);
        assert_eq!(found.last(), Some(&p("email", "Ada@Example.com")));
    }

    #[test]
    fn what_could_be_misread_is_refused() {
        for (what, body) in [
            ("no closing delimiter", EMAIL.to_owned()),
            ("cut short", "--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@x.org".to_owned()),
            ("RFC 2231 name", "--b\r\nContent-Disposition: form-data; name*=UTF-8''email\r\n\r\na@x.org\r\n--b--\r\n".to_owned()),
            ("no name", "--b\r\nContent-Disposition: form-data\r\n\r\na@x.org\r\n--b--\r\n".to_owned()),
            ("base64", "--b\r\nContent-Disposition: form-data; name=\"email\"\r\nContent-Transfer-Encoding: base64\r\n\r\nYUB4Lm9yZw==\r\n--b--\r\n".to_owned()),
            ("latin-1", "--b\r\nContent-Disposition: form-data; name=\"email\"\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\na@x.org\r\n--b--\r\n".to_owned()),
            ("too many", "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n".repeat(MAX_FIELDS + 1) + "--b--\r\n"),
            ("empty", String::new()),
            ("boundary inside a part (Django, PHP)", "--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nm@x.org\r\n--b--\r\n".to_owned()),
            ("parts after the close (PHP)", format!("{EMAIL}--b--\r\n--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nm@x.org\r\n--b--\r\n")),
            ("text after the close", format!("{EMAIL}--b--\r\nemail=m@x.org")),
            ("two dispositions", "--b\r\nContent-Disposition: form-data; name=\"email\"\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nm@x.org\r\n--b--\r\n".to_owned()),
            // PHP appends a line that starts with white space or has no colon to the line
            // before: the name of a folded or continued disposition is PHP's last `name=`.
            ("a folded header line (PHP)", "--b\r\nContent-Disposition: form-data; name=\"note\"\r\n ; name=\"email\"\r\n\r\nm@x.org\r\n--b--\r\n".to_owned()),
            ("a tab-folded header line (PHP)", "--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\t; name=\"email\"\r\n\r\nm@x.org\r\n--b--\r\n".to_owned()),
            ("a header line without a colon (PHP)", "--b\r\nContent-Disposition: form-data; name=\"note\"\r\n; name=\"email\"\r\n\r\nm@x.org\r\n--b--\r\n".to_owned()),
            ("a header line that is a parameter (PHP)", "--b\r\nContent-Disposition: form-data; name=\"note\"\r\nname=\"email\"\r\n\r\nm@x.org\r\n--b--\r\n".to_owned()),
            ("a header name with a space (PHP)", "--b\r\nContent-Disposition: form-data; name=\"note\"\r\nX Y: z\r\n\r\nm@x.org\r\n--b--\r\n".to_owned()),
            ("a bare LF inside the head", "--b\r\nContent-Disposition: form-data; name=\"note\"\n; name=\"email\"\r\n\r\nm@x.org\r\n--b--\r\n".to_owned()),
            ("too many names", format!("--b\r\nContent-Disposition: form-data{}\r\n\r\nv\r\n--b--\r\n", (0..40).map(|i| format!("; name=n{i}")).collect::<String>())),
        ] {
            assert!(parts(&body).is_err(), "{what} was read: {:?}", parts(&body));
        }
        assert!(matches!(
            read(
                b"--b\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n\xff\r\n--b--\r\n",
                "b",
                Backend::Any,
                &mut |_, _| {}
            ),
            Err(Unreadable::NotUtf8(_))
        ));
    }
}
