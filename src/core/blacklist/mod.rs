//! The blacklist's rules: who a checkout belongs to, which store keys say "blocked", and what a
//! blocked customer gets (a quiet redirect back to the event page).
//!
//! Pure: the host buffers the checkout body, calls [`extract::identities`], looks the keys up in
//! the store, and hands the answer to [`decide::decide`].

pub mod audit;
pub mod decide;
pub mod entry;
pub mod extract;
mod policy;
pub mod session;

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
    use unicode_normalization::UnicodeNormalization;
    let folded: String = capture.nfkc().collect::<String>().trim().to_lowercase();
    is_slug(&folded).then_some(folded)
}

/// Whether `s` is an acceptable account id: 1 to 256 characters, no control characters.
pub fn is_account_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 256 && !s.chars().any(char::is_control) && s.trim() == s
}

/// The store key of an entry. All scopes of one identity share a Redis Cluster hash slot.
pub fn entry_key(identity: &Identity, scope: &Scope) -> String {
    let kind = match identity {
        Identity::Account(_) => 'a',
        Identity::EmailHash(_) => 'e',
        Identity::AccountHash(_) => 'h',
    };
    format!("bl:{{{kind}:{}}}:{}", identity.value(), scope.as_str())
}

/// Reads an [`entry_key`] back: the identity and the scope.
pub fn parse_entry_key(key: &str) -> Option<(Identity, Scope)> {
    // The scope (`*` or a slug) never holds `}:`; an account id may.
    let (inner, scope) = key.strip_prefix("bl:{")?.rsplit_once("}:")?;
    let identity = match inner.split_at_checked(2)? {
        ("a:", id) => Identity::Account(id.into()),
        ("e:", hash) => Identity::EmailHash(hash.into()),
        ("h:", hash) => Identity::AccountHash(hash.into()),
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
