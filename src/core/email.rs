//! E-mail canonicalization: one spelling per mailbox, so a blacklisted guest cannot slip through
//! by writing their address differently.
//!
//! Steps, in order: drop invisible characters (format characters, Unicode category Cf, such as
//! U+200B, U+FEFF, U+200E and the soft hyphen, and every other default-ignorable code point:
//! they do not show, mail systems and people skip them, and the shop stores them along), trim
//! surrounding whitespace, Unicode NFKC normalization (full-width and other compatibility forms
//! fold to their plain letters), lowercase, the domain in its ASCII
//! (IDNA/punycode) form, then the optional provider rules
//! the policy turns on: drop `+tags` from the local part, and ignore dots in Gmail local parts
//! (`googlemail.com` counts as `gmail.com`).
//!
//! Input that cannot be a deliverable address is refused rather than guessed at: control
//! characters (CR/LF included), inner whitespace, quoted local parts, no or several `@`, more
//! than 254 bytes.

use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};

/// Characters that are never part of an unquoted local part (RFC 5322 specials but `.` and `@`).
const SPECIALS: [char; 9] = ['"', '<', '>', '(', ')', '[', ']', ',', ';'];

/// Longest canonical address accepted (RFC 5321 path limit).
pub const MAX_LEN: usize = 254;

/// Optional provider rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CanonicalRules {
    /// `ada+tickets@example.com` counts as `ada@example.com`.
    pub strip_plus_tags: bool,
    /// `a.d.a@gmail.com` counts as `ada@gmail.com`; `googlemail.com` as `gmail.com`.
    pub gmail_dots: bool,
}

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing but whitespace.
    #[error("the address is empty")]
    Empty,
    /// Longer than [`MAX_LEN`] bytes.
    #[error("the address is longer than {MAX_LEN} bytes")]
    TooLong,
    /// Control characters or inner whitespace (header injection, pasted garbage).
    #[error("the address holds control characters or spaces")]
    BadCharacters,
    /// No `@` at all: not meant as an address.
    #[error("the text holds no `@`")]
    NoAt,
    /// Not exactly one `@` with text on both sides, a quoted local part, or a domain that is
    /// not a valid (internationalized) domain name.
    #[error("the address is not of the form local@domain")]
    Shape,
}

/// The canonical form of `raw` under `rules`.
pub fn canonicalize(raw: &str, rules: CanonicalRules) -> Result<String, EmailError> {
    if raw.len() > 8 * MAX_LEN {
        return Err(EmailError::TooLong); // bound the work before looking at characters
    }
    let visible = without_invisible(raw);
    let trimmed = visible.trim();
    if trimmed.is_empty() {
        return Err(EmailError::Empty);
    }
    if trimmed.len() > 4 * MAX_LEN {
        return Err(EmailError::TooLong); // bound the work before normalizing
    }
    let nfkc = icu_normalizer::ComposingNormalizerBorrowed::new_nfkc().normalize(trimmed);
    let normalized: String = without_invisible(&nfkc).to_lowercase();
    if normalized.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(EmailError::BadCharacters);
    }
    let (local, domain) = normalized.split_once('@').ok_or(EmailError::NoAt)?;
    // RFC 5322's specials have no place in an unquoted local part: `<a@b>`, `a@b,` and the like
    // are what mail programs read as an address with a display form or a list around it.
    if local.is_empty() || domain.is_empty() || domain.contains('@') || local.contains(SPECIALS) {
        return Err(EmailError::Shape);
    }
    let mut local = local.to_owned();
    let domain = domain.trim_end_matches('.');
    if domain.is_empty() || domain.starts_with('.') || domain.contains("..") {
        return Err(EmailError::Shape);
    }
    // One spelling per domain: `bücher.example` and `xn--bcher-kva.example` are one mailbox's.
    let mut domain = if domain.is_ascii() && !domain.contains("xn--") {
        domain.to_owned()
    } else {
        idna::domain_to_ascii(domain).map_err(|_| EmailError::Shape)?.trim_end_matches('.').to_owned()
    };
    // A host name: letters, digits and hyphens in dot-separated labels (no domain literals).
    let host_name = domain
        .split('.')
        .all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if !host_name {
        return Err(EmailError::Shape);
    }
    if rules.strip_plus_tags {
        if let Some(at) = local.find('+') {
            local.truncate(at);
        }
    }
    if rules.gmail_dots && (domain == "gmail.com" || domain == "googlemail.com") {
        local.retain(|c| c != '.');
        domain = "gmail.com".into();
    }
    if local.is_empty() {
        return Err(EmailError::Shape);
    }
    let canonical = format!("{local}@{domain}");
    if canonical.len() > MAX_LEN {
        return Err(EmailError::TooLong);
    }
    Ok(canonical)
}

/// `text` without format characters (Cf) and default-ignorable code points; borrowed when it
/// holds none (the usual case: ASCII never does).
/// Whether `text` holds invisible characters (format characters, default-ignorable code
/// points): an address to send to must not, though it hashes as if it did not.
pub fn has_invisible(text: &str) -> bool {
    matches!(without_invisible(text), std::borrow::Cow::Owned(_))
}

fn without_invisible(text: &str) -> std::borrow::Cow<'_, str> {
    let invisible = |c: char| {
        !c.is_ascii()
            && (CodePointMapData::<GeneralCategory>::new().get(c) == GeneralCategory::Format
                || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c))
    };
    if text.chars().any(invisible) {
        std::borrow::Cow::Owned(text.chars().filter(|&c| !invisible(c)).collect())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internationalized_domains_have_one_spelling() {
        let a = canonicalize("ada@bücher.example", PLAIN).unwrap();
        assert_eq!(a, "ada@xn--bcher-kva.example");
        assert_eq!(canonicalize("Ada@XN--BCHER-KVA.example", PLAIN).unwrap(), a);
        assert_eq!(canonicalize("ada@BÜCHER.example", PLAIN).unwrap(), a);
        assert_eq!(canonicalize("ada@bücher.example。", PLAIN).unwrap(), a, "an ideographic full stop");
        assert_eq!(canonicalize("ada@example.com。", PLAIN).unwrap(), "ada@example.com");
        assert_eq!(canonicalize("ada@xn--zz-.example", PLAIN), Err(EmailError::Shape), "invalid punycode");
        assert_eq!(canonicalize("no-at-sign", PLAIN), Err(EmailError::NoAt));
    }

    const PLAIN: CanonicalRules = CanonicalRules { strip_plus_tags: false, gmail_dots: false };
    const ALL: CanonicalRules = CanonicalRules { strip_plus_tags: true, gmail_dots: true };

    #[test]
    fn spellings_of_one_mailbox_agree() {
        for raw in
            ["Ada@Example.com", "  ada@example.com\t", "ＡＤＡ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ada@example.com."]
        {
            assert_eq!(canonicalize(raw, PLAIN).unwrap(), "ada@example.com", "{raw:?}");
        }
        assert_eq!(canonicalize("Ada+Tickets@example.com", PLAIN).unwrap(), "ada+tickets@example.com");
        assert_eq!(canonicalize("Ada+Tickets@example.com", ALL).unwrap(), "ada@example.com");
        assert_eq!(canonicalize("a.d.a+x@GoogleMail.com", ALL).unwrap(), "ada@gmail.com");
        assert_eq!(
            canonicalize("a.d.a@example.com", ALL).unwrap(),
            "a.d.a@example.com",
            "dots matter elsewhere"
        );
        assert_eq!(canonicalize("ÉLODIE@exemple.fr", PLAIN).unwrap(), "élodie@exemple.fr");
        // NFKC composes: e + combining acute equals é.
        assert_eq!(canonicalize("e\u{301}lodie@exemple.fr", PLAIN).unwrap(), "élodie@exemple.fr");
    }

    #[test]
    fn invisible_characters_are_not_part_of_the_address() {
        for raw in [
            "\u{200b}ada@example.com",
            "\u{feff}ada@example.com",
            "\u{200e}ada@example.com\u{200f}",
            "a\u{200d}da@exa\u{ad}mple.com",
            "ada\u{2060}@example.com",
            "\u{180e}ada@example.com",
            "ada@example\u{fe0f}.com",
            "\u{e0041}ada@example.com",
            "\u{3164}ada@example.com",
            " \u{200b} ada@example.com",
        ] {
            assert_eq!(canonicalize(raw, PLAIN).unwrap(), "ada@example.com", "{raw:?}");
        }
        assert_eq!(canonicalize("\u{200b}\u{feff}", PLAIN), Err(EmailError::Empty));
    }

    #[test]
    fn hostile_and_malformed_input_is_refused() {
        assert_eq!(canonicalize("   ", PLAIN), Err(EmailError::Empty));
        for raw in
            ["ada@example.com\r\nBcc: x@y.z", "ada\0@example.com", "a da@example.com", "ada@exa mple.com"]
        {
            assert_eq!(canonicalize(raw, PLAIN), Err(EmailError::BadCharacters), "{raw:?}");
        }
        for raw in [
            "<ada@example.com>",
            "Ada<ada@example.com>",
            "ada@example.com,",
            "ada@example.com;",
            "ada@example.com%",
            "ada@example.com>",
            "ada@[127.0.0.1]",
            "ada@exa_mple.com",
            "(c)ada@example.com",
            "@example.com",
            "ada@",
            "a@b@c.com",
            "\"ada\"@example.com",
            "ada@.com",
            "ada@a..b",
            "+x@example.com",
        ] {
            assert_eq!(canonicalize(raw, ALL), Err(EmailError::Shape), "{raw:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(canonicalize(&long, PLAIN), Err(EmailError::TooLong));
        assert_eq!(canonicalize(&"x".repeat(100_000), PLAIN), Err(EmailError::TooLong));
    }
}
