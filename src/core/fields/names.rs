//! Field names as each framework family reads them, as dotted paths.
//!
//! A name sent as `customer[email]` is `customer.email` to PHP, Rack and `qs` (Express), and the
//! literal `customer[email]` to Django and Flask. Each family's own rules are written out below
//! (`docs/readings.md` cites the framework sources); [`name_readings`] reports the union for the
//! families the policy's [`Backend`] covers. Empty and numeric brackets (`email[]`,
//! `items[0][email]`) are transparent, as JSON arrays are.

use super::Backend;

/// Most bracket levels followed; deeper names keep their remainder as one segment.
const MAX_DEPTH: usize = 16;

/// Every dotted path a field sent as `name` is read under by the frameworks `backend` covers,
/// deduplicated, the name as sent first.
pub fn name_readings(name: &str, backend: Backend) -> Vec<String> {
    let mut out = vec![name.to_owned()];
    // The usual case: letters, digits, `_` and `-` read the same to every family.
    if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return out;
    }
    let mut push = |path: Option<String>| {
        if let Some(p) = path.filter(|p| !p.is_empty()) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    };
    if backend.covers(Backend::Php) {
        for p in php(name) {
            push(Some(p));
        }
    }
    if backend.covers(Backend::Rack) {
        push(rack(name, MAX_DEPTH).map(|segments| join(&segments)));
        // Rack's separators swallow spaces after them (`a=1& email=…`).
        push(rack(name.trim_start_matches(' '), MAX_DEPTH).map(|segments| join(&segments)));
    }
    if backend.covers(Backend::Express) {
        push(qs(name));
    }
    if backend.covers(Backend::Django) {
        // Django strips a multipart part's name (`"email "`), with Python's idea of whitespace.
        push(Some(name.trim_matches(python_space).to_owned()));
    }
    if backend.covers(Backend::Spring) {
        // `!email` is the default for `email` in Spring's data binding; dots are property paths.
        push(Some(name.trim_start_matches('!').to_owned()));
    }
    out
}

/// Whether Python's `str.strip()` strips `c`.
fn python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn join(segments: &[String]) -> String {
    segments.iter().filter(|s| !transparent(s)).cloned().collect::<Vec<_>>().join(".")
}

/// Empty and numeric keys stand for array positions, which paths do not name.
fn transparent(segment: &str) -> bool {
    segment.bytes().all(|b| b.is_ascii_digit())
}

/// PHP's `php_register_variable_ex`: leading spaces skipped, the name cut at a NUL; in the base
/// name (before the first `[`) `.` and ` ` become `_`; `[key]` groups nest, and text after a
/// `]` that is not another `[` is dropped; a `[` never closed becomes `_` with the rest of the
/// name kept (PHP 8 also turns later `.`, ` ` and `[` into `_`: both are reported).
fn php(name: &str) -> Vec<String> {
    let name = name.trim_start_matches(' ');
    let name = name.split('\0').next().unwrap_or_default();
    let base_end = name.find('[').unwrap_or(name.len());
    let base = name[..base_end].replace(['.', ' '], "_");
    if base.is_empty() {
        return Vec::new();
    }
    let mut rest = &name[base_end..];
    // Each level's key as sent, and with leading whitespace skipped: both are reported.
    let mut plain = vec![base.clone()];
    let mut trimmed = vec![base.clone()];
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            if plain.len() == 1 {
                // Never closed: the `[` is part of a plain name.
                let kept = format!("{base}_{inner}");
                let converted = format!("{base}_{}", inner.replace(['.', ' ', '['], "_"));
                return vec![kept, converted];
            }
            break;
        };
        if plain.len() > MAX_DEPTH {
            break;
        }
        let key = &inner[..close];
        plain.push(key.to_owned());
        trimmed.push(key.trim_start_matches([' ', '\t', '\r', '\n']).to_owned());
        rest = &inner[close + 1..];
    }
    let (a, b) = (join(&plain), join(&trimmed));
    if a == b {
        vec![a]
    } else {
        vec![a, b]
    }
}

/// Rack 2.2's `normalize_params`: leading `[` and `]` skipped, the key runs to the next bracket,
/// closing brackets after it skipped, and what follows nests (`a]b` is `a.b`, `[email` is
/// `email`); a name ending in a lone `[` is kept whole.
fn rack(name: &str, depth: usize) -> Option<Vec<String>> {
    let start = name.trim_start_matches(['[', ']']);
    let key_end = start.find(['[', ']']).unwrap_or(start.len());
    let key = &start[..key_end];
    if key.is_empty() {
        return None;
    }
    let after = start[key_end..].trim_start_matches(']');
    let mut out = vec![key.to_owned()];
    match after {
        "" | "[]" => {}
        "[" => return Some(vec![name.to_owned()]),
        _ if depth == 0 => out.push(after.to_owned()),
        _ => {
            let child = after.strip_prefix("[]").filter(|c| !c.is_empty()).unwrap_or(after);
            out.extend(rack(child, depth - 1).unwrap_or_default());
        }
    }
    Some(out)
}

/// `qs` (Express's `extended` parser): the parent is the text before the first `[...]` group,
/// then every bracket group without inner brackets, wherever it stands (`a[b]x[c]` is `a.b.c`),
/// at most five deep; `[email]` alone is `email`.
fn qs(name: &str) -> Option<String> {
    let first = bracket_group(name, 0)?;
    let mut segments = Vec::new();
    if first.0 > 0 {
        segments.push(name[..first.0].to_owned());
    }
    let mut at = first.0;
    let mut depth = 0;
    while let Some((open, close)) = bracket_group(name, at) {
        if depth == 5 {
            segments.push(name[open..].to_owned());
            break;
        }
        segments.push(name[open + 1..close].to_owned());
        at = close + 1;
        depth += 1;
    }
    Some(join(&segments))
}

/// The next `[...]` with no bracket inside, at or after `from`: its `[` and `]` positions.
fn bracket_group(name: &str, from: usize) -> Option<(usize, usize)> {
    let bytes = name.as_bytes();
    let mut open = None;
    for (i, &b) in bytes.iter().enumerate().skip(from) {
        match b {
            b'[' => open = Some(i),
            b']' => {
                if let Some(o) = open {
                    return Some((o, i));
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(backend: Backend, sent: &str, path: &str) -> bool {
        name_readings(sent, backend).iter().any(|n| n == path)
    }

    #[test]
    fn every_family_reads_its_own_way() {
        for (backend, sent, path) in [
            (Backend::Php, " email", "email"),
            (Backend::Php, "email\0junk", "email"),
            (Backend::Php, "customer[email]", "customer.email"),
            (Backend::Php, "customer[email]junk", "customer.email"),
            (Backend::Php, "customer.email", "customer_email"),
            (Backend::Php, "customer email", "customer_email"),
            (Backend::Php, "customer[email", "customer_email"),
            (Backend::Php, "shop[session", "shop_session"),
            (Backend::Php, "items[0][email]", "items.email"),
            (Backend::Php, "email[]", "email"),
            (Backend::Rack, "email]", "email"),
            (Backend::Rack, "[email", "email"),
            (Backend::Rack, "]email", "email"),
            (Backend::Rack, "[]email", "email"),
            (Backend::Rack, "[[email", "email"),
            (Backend::Rack, "[email]", "email"),
            (Backend::Rack, "customer[email]", "customer.email"),
            (Backend::Rack, "customer]email", "customer.email"),
            (Backend::Rack, "customer[][email]", "customer.email"),
            (Backend::Rack, " email", "email"),
            (Backend::Rack, "email[", "email["),
            (Backend::Express, "customer[email]", "customer.email"),
            (Backend::Express, "customer[email]junk", "customer.email"),
            (Backend::Express, "customer[x]y[email]", "customer.x.email"),
            (Backend::Express, "[email]", "email"),
            (Backend::Express, "email[]", "email"),
            (Backend::Django, "email ", "email"),
            (Backend::Django, "\u{1f}email\u{a0}", "email"),
            (Backend::Flask, "customer.email", "customer.email"),
            (Backend::Spring, "!email", "email"),
        ] {
            assert!(
                reads(backend, sent, path),
                "{backend:?} reads {sent:?} as {path:?}: {:?}",
                name_readings(sent, backend)
            );
            assert!(reads(Backend::Any, sent, path), "any covers {backend:?}'s reading of {sent:?}");
        }
    }

    #[test]
    fn families_do_not_read_what_they_do_not_read() {
        assert!(!reads(Backend::Flask, "customer[email]", "customer.email"));
        assert!(!reads(Backend::Django, "email]", "email"));
        assert!(!reads(Backend::Express, "email]", "email"));
        assert_eq!(name_readings("email", Backend::Any), ["email"]);
        assert!(!reads(Backend::Any, "xemail", "email") && !reads(Backend::Any, "email_x", "email"));
    }

    #[test]
    fn hostile_names_stay_bounded() {
        let deep = "a".to_owned() + &"[b]".repeat(10_000);
        let readings = name_readings(&deep, Backend::Any);
        assert!(readings.len() < 10 && readings.iter().all(|r| r.len() <= deep.len()));
        assert!(name_readings(&"[".repeat(10_000), Backend::Any).len() <= 3);
        assert!(name_readings(&"]".repeat(10_000), Backend::Any).len() <= 3);
    }
}
