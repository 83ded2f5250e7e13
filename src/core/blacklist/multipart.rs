//! Text fields of a buffered `multipart/form-data` body (RFC 7578), for identity extraction.
//!
//! Written by hand because the well-kept multipart crates are streaming and async, and the core
//! is neither: this parser only needs field names and values from a body already in memory.
//! File parts (with a `filename`) are skipped. Malformed input yields the fields found before
//! the damage, never a panic; the number of parts and the size of part headers are bounded.

/// Most parts looked at.
pub const MAX_PARTS: usize = 256;
/// Largest header block of one part.
pub const MAX_PART_HEAD: usize = 4096;

/// The boundary parameter of a `multipart/form-data` content type, if valid (1–70 characters).
pub fn boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    if !parts.next()?.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    for param in parts {
        let (k, v) = param.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("boundary") {
            let v = v.trim();
            let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
            return (!v.is_empty() && v.len() <= 70 && v.bytes().all(|b| b.is_ascii_graphic() || b == b' '))
                .then(|| v.to_owned());
        }
    }
    None
}

/// The `(name, value)` pairs of the text fields in `body`, in order.
pub fn fields(body: &[u8], boundary: &str) -> Vec<(String, Vec<u8>)> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut out = Vec::new();
    // The first delimiter may be preceded by a preamble; later ones by CRLF.
    let Some(start) = find(body, delimiter) else { return out };
    let mut rest = &body[start + delimiter.len()..];
    for _ in 0..MAX_PARTS {
        if rest.starts_with(b"--") {
            break; // the closing delimiter
        }
        let Some(after_crlf) = rest.strip_prefix(b"\r\n") else { break };
        let Some(head_end) = find(&after_crlf[..after_crlf.len().min(MAX_PART_HEAD + 4)], b"\r\n\r\n") else {
            break;
        };
        let head = &after_crlf[..head_end];
        let content = &after_crlf[head_end + 4..];
        let mut closing = b"\r\n".to_vec();
        closing.extend_from_slice(delimiter);
        let Some(end) = find(content, &closing) else { break };
        if let Some(name) = field_name(head) {
            out.push((name, content[..end].to_vec()));
        }
        rest = &content[end + closing.len()..];
    }
    out
}

/// The `name` of a part whose `Content-Disposition` is `form-data` without a `filename`.
fn field_name(head: &[u8]) -> Option<String> {
    let head = std::str::from_utf8(head).ok()?;
    let disposition = head.split("\r\n").find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case("content-disposition").then_some(v.trim())
    })?;
    let mut params = disposition.split(';');
    if !params.next()?.trim().eq_ignore_ascii_case("form-data") {
        return None;
    }
    let mut name = None;
    for p in params {
        let (k, v) = p.split_once('=')?;
        let v = v.trim();
        let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
        match k.trim().to_ascii_lowercase().as_str() {
            "filename" | "filename*" => return None,
            "name" => name = Some(v.to_owned()),
            _ => {}
        }
    }
    name
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nada@example.com\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG--XyZ-not\r\n\
--XyZ\r\ncontent-disposition: form-data; name=quantity\r\n\r\n2\r\n--XyZ--\r\nepilogue";

    #[test]
    fn text_fields_are_found_and_files_skipped() {
        assert_eq!(boundary("multipart/form-data; boundary=XyZ").as_deref(), Some("XyZ"));
        assert_eq!(boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"").as_deref(), Some("a b"));
        let f = fields(BODY, "XyZ");
        assert_eq!(
            f,
            [("email".to_owned(), b"ada@example.com".to_vec()), ("quantity".to_owned(), b"2".to_vec())]
        );
    }

    #[test]
    fn hostile_and_broken_bodies_give_what_was_intact() {
        assert_eq!(boundary("multipart/mixed; boundary=x"), None);
        assert_eq!(boundary("multipart/form-data"), None);
        assert_eq!(boundary(&format!("multipart/form-data; boundary={}", "b".repeat(71))), None);
        assert!(fields(b"", "XyZ").is_empty());
        assert!(fields(b"--XyZ", "XyZ").is_empty());
        let truncated = &BODY[..60];
        assert!(fields(truncated, "XyZ").is_empty());
        let huge_head = format!("--b\r\nX: {}\r\n\r\nv\r\n--b--", "h".repeat(10_000));
        assert!(fields(huge_head.as_bytes(), "b").is_empty());
        let many: String = (0..1000)
            .map(|i| format!("--b\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nv\r\n"))
            .collect();
        assert_eq!(fields(format!("{many}--b--").as_bytes(), "b").len(), MAX_PARTS);
    }
}
