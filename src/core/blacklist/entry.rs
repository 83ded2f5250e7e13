//! A blacklist entry as stored: who, where, why, by whom, since when, until when.

use serde::{Deserialize, Serialize};

use super::Scope;

/// The stored form of an entry (JSON in the store; times are Unix seconds).
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
    /// The scope the entry applies to.
    pub fn scope(&self) -> Scope {
        if self.scope == "*" {
            Scope::Platform
        } else {
            Scope::Organizer(self.scope.clone())
        }
    }
}
