//! A blacklist entry: who, where, why, by whom, since when, until when.
//!
//! Stored compactly: the key already says who and where (`bl:{a:<id>}:<scope>`), so the value
//! holds only `<added_at>\t<expires_at or nothing>\t<added_by>\t<reason>` (about 30 bytes where
//! the JSON of earlier versions took 200). Values in that JSON still read back.

use serde::{Deserialize, Serialize};

use super::Scope;

/// An entry (times are Unix seconds); [`Entry::to_stored`] and [`Entry::from_stored`] are its
/// stored form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// `account` or `email_hash`.
    pub kind: String,
    /// The account id or the e-mail hash.
    pub value: String,
    /// `*` for the whole platform, else the organizer slug.
    pub scope: String,
    /// Why the entry was made (free text from the organizer).
    #[serde(default)]
    pub reason: String,
    /// Who made it (`operator` or `organizer:<slug>`).
    pub added_by: String,
    /// When, in Unix seconds.
    pub added_at: u64,
    /// When it stops applying, in Unix seconds; `None` for never.
    #[serde(default)]
    pub expires_at: Option<u64>,
}

impl Entry {
    /// The stored value: what the key does not already say.
    pub fn to_stored(&self) -> Vec<u8> {
        let expires = self.expires_at.map(|t| t.to_string()).unwrap_or_default();
        format!("{}\t{expires}\t{}\t{}", self.added_at, self.added_by, self.reason).into_bytes()
    }

    /// The entry stored under `key` as `value` (the compact form, or the JSON of earlier
    /// versions); `None` when either is not an entry's.
    pub fn from_stored(key: &str, value: &[u8]) -> Option<Self> {
        if value.first() == Some(&b'{') {
            return serde_json::from_slice(value).ok();
        }
        let (identity, scope) = super::parse_entry_key(key)?;
        let mut fields = std::str::from_utf8(value).ok()?.splitn(4, '\t');
        let added_at = fields.next()?.parse().ok()?;
        let expires_at = match fields.next()? {
            "" => None,
            at => Some(at.parse().ok()?),
        };
        let added_by = fields.next()?.to_owned();
        let reason = fields.next()?.to_owned();
        Some(Self {
            kind: identity.kind().into(),
            value: identity.value().into(),
            scope: scope.as_str().into(),
            reason,
            added_by,
            added_at,
            expires_at,
        })
    }

    /// The scope the entry applies to.
    pub fn scope(&self) -> Scope {
        if self.scope == "*" {
            Scope::Platform
        } else {
            Scope::Organizer(self.scope.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::blacklist::{entry_key, Identity};

    fn entry(identity: &Identity, scope: &Scope, reason: &str, expires_at: Option<u64>) -> Entry {
        Entry {
            kind: identity.kind().into(),
            value: identity.value().into(),
            scope: scope.as_str().into(),
            reason: reason.into(),
            added_by: "organizer:harbour-hall".into(),
            added_at: 1_700_000_000,
            expires_at,
        }
    }

    #[test]
    fn entries_read_back_from_key_and_compact_value() {
        let hash = Identity::EmailHash("ab".repeat(32));
        for (identity, scope, reason, expires) in [
            (hash.clone(), Scope::Platform, "chargebacks", None),
            (
                Identity::Account("eve".into()),
                Scope::Organizer("harbour-hall".into()),
                "",
                Some(1_800_000_000),
            ),
            // Account ids may hold what the key and the value use as separators.
            (Identity::Account("x}:y{a:b}:*".into()), Scope::Platform, "tab\there, and \"quotes\"", None),
        ] {
            let e = entry(&identity, &scope, reason, expires);
            let stored = e.to_stored();
            assert!(stored.len() < 60, "{} bytes", stored.len());
            assert_eq!(Entry::from_stored(&entry_key(&identity, &scope), &stored), Some(e));
        }
        // Values of earlier versions (JSON) still read.
        let old = entry(&hash, &Scope::Platform, "old", None);
        let json = serde_json::to_vec(&old).unwrap();
        assert_eq!(Entry::from_stored(&entry_key(&hash, &Scope::Platform), &json), Some(old));
        // What is not an entry is not one.
        for (key, value) in [
            ("bl:{a:eve}:*", &b"soon\t\toperator\t"[..]),
            ("bl:{a:eve}:*", b"1\tnever\toperator\t"),
            ("bl:{a:eve}:*", b"1\t\toperator"),
            ("bl:{x:eve}:*", b"1\t\toperator\t"),
            ("bl:{a:eve}:Not A Slug", b"1\t\toperator\t"),
            ("ev:e1", b"1\t\toperator\t"),
            ("bl:{a:eve}:*", b"{not json"),
        ] {
            assert_eq!(Entry::from_stored(key, value), None, "{key} {value:?}");
        }
    }
}
