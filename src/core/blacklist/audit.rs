//! The audit log: every change to the blacklist and every blocked checkout, per organizer.
//!
//! Records are stored under `audit:<scope>:<time, 13 digits of ms>:<nonce>`, so one organizer's
//! records are one key range, in time order. They hold identities only as account ids or
//! e-mail hashes.

use serde::{Deserialize, Serialize};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// An entry was added.
    Add,
    /// An entry was removed.
    Remove,
    /// A checkout was quietly turned back.
    Block,
    /// An event was mapped to an organizer (`kind` is `event`, `value` the event).
    MapEvent,
    /// An organizer was created (`kind` is `organizer`).
    CreateOrganizer,
    /// An organizer's token was replaced (`kind` is `organizer`).
    RotateToken,
    /// An organizer's box-office token was issued or replaced (`kind` is `organizer`).
    RotateBoxOfficeToken,
    /// An organizer's record changed: name or box-office address (`kind` is `organizer`).
    ChangeOrganizer,
    /// An organizer was deleted, its tokens with it (`kind` is `organizer`).
    DeleteOrganizer,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When, in Unix milliseconds.
    pub at_ms: u64,
    /// `*` for the platform, else the organizer slug.
    pub scope: String,
    /// What happened.
    pub action: AuditAction,
    /// Who did it: `operator`, `organizer:<slug>`, or `checkout` for blocked attempts.
    pub actor: String,
    /// `account` or `email_hash`; `event` or `organizer` for those changes.
    pub kind: String,
    /// The account id or e-mail hash (or event, or organizer).
    pub value: String,
    /// The event of a blocked checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The checkout route of a blocked checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
}

/// Prefix of every audit key.
pub const AUDIT_PREFIX: &str = "audit:";

/// The key prefix of one scope's records.
pub fn scope_prefix(scope: &str) -> String {
    format!("{AUDIT_PREFIX}{scope}:")
}

/// The store key of a record; `nonce` keeps records of the same millisecond apart.
pub fn audit_key(record: &AuditRecord, nonce: u64) -> String {
    format!("{}{:013}:{nonce:016x}", scope_prefix(&record.scope), record.at_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_time_within_a_scope() {
        let r = |at_ms| AuditRecord {
            at_ms,
            scope: "hh".into(),
            action: AuditAction::Block,
            actor: "checkout".into(),
            kind: "account".into(),
            value: "eve".into(),
            event: None,
            route: None,
        };
        assert!(audit_key(&r(999), 5) < audit_key(&r(1000), 1));
        assert!(audit_key(&r(5), 0).starts_with("audit:hh:0000000000005:"));
    }
}
