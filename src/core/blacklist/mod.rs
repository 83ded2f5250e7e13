//! The blacklist's rules: who a checkout belongs to, which store keys say "blocked", and what a
//! blocked customer gets (a quiet redirect back to the event page).
//!
//! Pure: the host buffers the checkout body, calls [`extract::identities`], looks the keys up in
//! the store, and hands the answer to [`decide::decide`].

pub mod audit;
pub mod customer;
pub mod decide;
pub mod entry;
pub mod extract;
pub mod index;
mod policy;
pub mod session;
pub mod signatures;

pub use policy::{
    BlacklistPolicy, CheckoutReading, CheckoutRoute, HashMode, JsonAnswer, StoreFailureMode, Template,
    TemplateError,
};

/// Who is checking out, as the blacklist knows them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identity {
    /// A logged-in customer's account id.
    Account(String),
    /// The keyed hash (hex) of a guest's canonical e-mail address.
    EmailHash(String),
    /// The keyed hash (hex) of an account id, where the policy keeps account ids hashed
    /// (`blacklist.account_ids = "hashed"`).
    AccountHash(String),
}

impl Identity {
    /// `account` or `email_hash`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Account(_) => "account",
            Self::EmailHash(_) => "email_hash",
            Self::AccountHash(_) => "account_hash",
        }
    }

    /// The account id or the hash.
    pub fn value(&self) -> &str {
        match self {
            Self::Account(v) | Self::EmailHash(v) | Self::AccountHash(v) => v,
        }
    }
}

/// Where an entry applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Every organizer's events.
    Platform,
    /// One organizer's events (a slug such as `harbour-hall`).
    Organizer(String),
}

impl Scope {
    /// `*` for the platform, else the organizer slug.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Platform => "*",
            Self::Organizer(o) => o,
        }
    }
}

/// Whether `s` is a valid organizer or event slug: 1 to 64 of `a-z`, `0-9`, `-`, `_`.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The event id a backend's lookup would most likely find for a decoded path capture: Unicode
/// NFKC (full-width letters fold, as accent- and width-insensitive collations compare them),
/// surrounding whitespace trimmed (as padded comparisons ignore it), lowercase. `None` when the
/// result is not a slug.
pub fn event_slug(capture: &str) -> Option<String> {
    let folded: String =
        icu_normalizer::ComposingNormalizerBorrowed::new_nfkc().normalize(capture).trim().to_lowercase();
    is_slug(&folded).then_some(folded)
}

/// Longest account id accepted, in bytes.
pub const MAX_ACCOUNT_ID: usize = 256;

/// Whether `s` is an acceptable account id: 1 to [`MAX_ACCOUNT_ID`] bytes, no control characters.
pub fn is_account_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_ACCOUNT_ID && !s.chars().any(char::is_control) && s.trim() == s
}

/// The store key of an entry. All scopes of one identity share a Redis Cluster hash slot.
///
/// Hashes are written in base64url (43 characters), not in the 64 hex digits the API shows:
/// on Redis the shorter key lands in a smaller allocation (about 32 bytes less per entry). Keys
/// of versions before that ([`legacy_entry_key`]) are moved by [`crate::app::blacklist::layout`].
pub fn entry_key(identity: &Identity, scope: &Scope) -> String {
    let kind = kind_char(identity);
    let value = match identity {
        Identity::Account(id) => id.clone(),
        Identity::EmailHash(hex) | Identity::AccountHash(hex) => {
            compact_hash(hex).unwrap_or_else(|| hex.clone())
        }
    };
    format!("bl:{{{kind}:{value}}}:{}", scope.as_str())
}

/// The key a hash identity's entry had before hashes were written in base64url (the hex the
/// API shows); `None` for account ids, whose keys did not change.
pub fn legacy_entry_key(identity: &Identity, scope: &Scope) -> Option<String> {
    match identity {
        Identity::Account(_) => None,
        Identity::EmailHash(hex) | Identity::AccountHash(hex) => {
            Some(format!("bl:{{{}:{hex}}}:{}", kind_char(identity), scope.as_str()))
        }
    }
}

/// Whether `key` is an entry key in the layout before [`entry_key`]'s (a hash in hex).
pub fn is_legacy_entry_key(key: &str) -> bool {
    // A hash that is not 64 lowercase hex digits has one key in both layouts: not an old one.
    parse_entry_key(key).is_some_and(|(identity, scope)| {
        legacy_entry_key(&identity, &scope).as_deref() == Some(key) && entry_key(&identity, &scope) != key
    })
}

/// The marker saying every entry key of the store is in [`entry_key`]'s layout (written once the
/// entries of earlier versions are moved).
pub const LAYOUT_KEY: &str = "meta:blacklist-layout";

/// [`LAYOUT_KEY`]'s value for the current layout.
pub const LAYOUT: &[u8] = b"2";

fn kind_char(identity: &Identity) -> char {
    match identity {
        Identity::Account(_) => 'a',
        Identity::EmailHash(_) => 'e',
        Identity::AccountHash(_) => 'h',
    }
}

/// A hash's 64 lowercase hex digits as 43 base64url characters; `None` when `hex` is not such a
/// hash.
fn compact_hash(hex: &str) -> Option<String> {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    match base16ct::lower::decode(hex, &mut bytes) {
        Ok(decoded) if decoded.len() == 32 => {
            Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
        }
        _ => None,
    }
}

/// A key's hash back in hex: the 43 base64url characters of [`compact_hash`], or the hex of the
/// earlier layout as it is.
fn hash_hex(in_key: &str) -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    match base64::engine::general_purpose::URL_SAFE_NO_PAD.decode_slice(in_key, &mut bytes) {
        Ok(32) if in_key.len() == 43 => base16ct::lower::encode_string(&bytes),
        _ => in_key.to_owned(),
    }
}

/// Reads an [`entry_key`] (or a [`legacy_entry_key`]) back: the identity, hashes in hex, and the
/// scope.
pub fn parse_entry_key(key: &str) -> Option<(Identity, Scope)> {
    // The scope (`*` or a slug) never holds `}:`; an account id may.
    let (inner, scope) = key.strip_prefix("bl:{")?.rsplit_once("}:")?;
    let identity = match inner.split_at_checked(2)? {
        ("a:", id) => Identity::Account(id.into()),
        ("e:", hash) => Identity::EmailHash(hash_hex(hash)),
        ("h:", hash) => Identity::AccountHash(hash_hex(hash)),
        _ => return None,
    };
    let scope = match scope {
        "*" => Scope::Platform,
        slug if is_slug(slug) => Scope::Organizer(slug.into()),
        _ => return None,
    };
    Some((identity, scope))
}

/// Prefix of every entry key.
pub const ENTRY_PREFIX: &str = "bl:";

/// The store key mapping an event to its organizer.
pub fn event_key(event: &str) -> String {
    format!("ev:{event}")
}

/// Prefix of every event key.
pub const EVENT_PREFIX: &str = "ev:";

/// The marker saying `event` is mapped to `organizer` (so "does any event map to this
/// organizer?" is one bounded prefix scan).
pub fn organizer_event_key(organizer: &str, event: &str) -> String {
    format!("{}{event}", organizer_events_prefix(organizer))
}

/// The counter of events mapped to `organizer` (so "does any event map to this organizer?" is
/// one read).
pub fn organizer_events_count_key(organizer: &str) -> String {
    format!("evn:{organizer}")
}

/// Prefix of the markers of every event mapped to `organizer`.
pub fn organizer_events_prefix(organizer: &str) -> String {
    format!("evo:{organizer}:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_identities_and_scopes_apart() {
        let a = Identity::Account("alice".into());
        let e = Identity::EmailHash("ab".repeat(32));
        assert_eq!(entry_key(&a, &Scope::Platform), "bl:{a:alice}:*");
        assert_eq!(entry_key(&a, &Scope::Organizer("harbour-hall".into())), "bl:{a:alice}:harbour-hall");
        assert_ne!(
            entry_key(&a, &Scope::Platform),
            entry_key(&Identity::EmailHash("alice".into()), &Scope::Platform)
        );
        assert!(entry_key(&e, &Scope::Platform).starts_with(ENTRY_PREFIX));
    }

    #[test]
    fn hashes_are_keyed_in_base64url_and_read_back_in_hex() {
        // SHA-256("abc"): the key holds the same 32 bytes in 43 characters instead of 64.
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        for identity in [Identity::EmailHash(hex.into()), Identity::AccountHash(hex.into())] {
            for scope in [Scope::Platform, Scope::Organizer("harbour-hall".into())] {
                let key = entry_key(&identity, &scope);
                let kind = if matches!(identity, Identity::EmailHash(_)) { 'e' } else { 'h' };
                assert_eq!(
                    key,
                    format!("bl:{{{kind}:ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0}}:{}", scope.as_str())
                );
                assert_eq!(parse_entry_key(&key), Some((identity.clone(), scope.clone())));
                let legacy = legacy_entry_key(&identity, &scope).unwrap();
                assert_eq!(legacy, format!("bl:{{{kind}:{hex}}}:{}", scope.as_str()));
                assert_eq!(
                    parse_entry_key(&legacy),
                    Some((identity.clone(), scope.clone())),
                    "old keys still read"
                );
                assert!(is_legacy_entry_key(&legacy) && !is_legacy_entry_key(&key));
            }
        }
        let account = Identity::Account("ada".into());
        assert_eq!(legacy_entry_key(&account, &Scope::Platform), None, "account keys did not change");
        assert!(!is_legacy_entry_key(&entry_key(&account, &Scope::Platform)));
        // An account id that looks like a hash is still an account id.
        assert!(!is_legacy_entry_key(&format!("bl:{{a:{hex}}}:*")));
        // Not hashes: kept as they are, never mistaken for one.
        for odd in ["ab", &hex.to_uppercase(), &"g".repeat(64)] {
            let key = entry_key(&Identity::EmailHash(odd.to_string()), &Scope::Platform);
            assert_eq!(key, format!("bl:{{e:{odd}}}:*"));
            assert!(!is_legacy_entry_key(&key), "one key in both layouts: nothing to move");
        }
    }

    #[test]
    fn event_ids_fold_to_the_slug_a_lenient_database_finds() {
        for capture in
            ["spring-concert", "Spring-Concert", "ｓpring-concert", " spring-concert\t", "SPRING-CONCERT"]
        {
            assert_eq!(event_slug(capture).as_deref(), Some("spring-concert"), "{capture:?}");
        }
        for capture in ["spring concert", "spring-concert/", "x/../y", "", "a.b"] {
            assert_eq!(event_slug(capture), None, "{capture:?}");
        }
    }

    #[test]
    fn slugs_and_account_ids() {
        assert!(is_slug("harbour-hall") && is_slug("a_1"));
        assert!(!is_slug("") && !is_slug("Harbour") && !is_slug("a:b") && !is_slug(&"a".repeat(65)));
        assert!(is_account_id("alice") && is_account_id("user 42") && is_account_id("ünï"));
        assert!(
            !is_account_id("")
                && !is_account_id(" alice")
                && !is_account_id("a\nb")
                && !is_account_id(&"a".repeat(257))
        );
    }
}
