//! The audit log: every change to the blacklist and every blocked checkout, per organizer, and
//! the waitlist's settings changes, exports of personal data and box-office signups.
//!
//! Records go into numbered logs, read newest first a page at a time with nothing but `get`,
//! `get_many` and counters (so every store, `wasi:keyvalue` included, can write them and no read
//! scans): each scope's log holds its records (`audit:{s:<scope>}:<n>`, numbered by the counter
//! `audit:{s:<scope>}:seq`), and the log of all scopes holds, under its own numbers
//! (`audit:{all}:<n>`), where each record is (`<scope> <n>`). A scope's keys share one hash
//! tag, so one scope's batch is one Redis Cluster slot. Records hold identities only as account
//! ids or e-mail hashes.

use serde::{Deserialize, Serialize};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
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
    /// An event's waitlist settings changed (`kind` is `event`; `detail` names the fields).
    ChangeWaitlist,
    /// A page of an event's waitlist was exported, personal data and all (`kind` is `event`;
    /// `detail` says which line numbers).
    ExportWaitlist,
    /// Box-office staff signed a customer up (`kind` is `event`; `detail` says what came of
    /// it; who the customer is stays out of the log).
    StaffSignup,
    /// Freed seats were reported (`kind` is `event`; `detail` says how many and which offers
    /// came of them, by number).
    ReleaseSeats,
    /// Staff offered seats to one signup (`kind` is `event`; `detail` names the offer).
    MakeOffer,
    /// Staff acted on a signup from the staff list: a note, "contacted", a mail sent again, a
    /// cancellation, an offer (`kind` is `event`; `detail` says which and the line number).
    StaffAction,
    /// An offer was reported taken or withdrawn by staff (`kind` is `event`; `detail` names
    /// the offer and how it ended, and the offers its seats went on to).
    EndOffer,
    /// An address was attached to an account (`kind` is `account` or `account_hash`; `detail`
    /// names the address's hash, and the account it was moved from).
    AttachAddress,
    /// An address was detached from an account (as [`AuditAction::AttachAddress`]).
    DetachAddress,
    /// A pass sealed every record with personal data again with the current data key (`kind`
    /// is `data_key`, `value` its id; `detail` names the keys retired, or why none was).
    ResealData,
    /// A signup's data was erased on request (`kind` is `event`; `detail` names the line
    /// number and whether the customer or staff asked).
    EraseSignup,
    /// A message was sent to a staff address as a test (`kind` is `event`; `detail` names the
    /// template, the language and its number in the history).
    TestMessage,
    /// A message to an event's whole list was scheduled (`kind` is `event`; `detail` names its
    /// number, audience, purpose and time).
    ScheduleMessage,
    /// A message to an event's whole list was cancelled (`kind` is `event`; `detail` names its
    /// number).
    CancelMessage,
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
    /// What changed or was read, without personal data (the waitlist's records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl AuditRecord {
    /// A record of `actor` doing `action` to `value` (a `kind`) at `at_ms` in `scope`, with no
    /// event, route or detail (set those fields where they apply).
    pub fn change(
        at_ms: u64,
        scope: &str,
        action: AuditAction,
        actor: String,
        (kind, value): (&str, &str),
    ) -> Self {
        Self {
            at_ms,
            scope: scope.to_owned(),
            action,
            actor,
            kind: kind.to_owned(),
            value: value.to_owned(),
            event: None,
            route: None,
            detail: None,
        }
    }
}

/// Prefix of every audit key.
pub const AUDIT_PREFIX: &str = "audit:";

/// One numbered log of audit records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Log {
    /// One scope's records (`*` for the platform, else the organizer slug).
    Scope(String),
    /// Every scope's records, as places in the scopes' logs.
    All,
}

impl Log {
    fn base(&self) -> String {
        match self {
            Self::Scope(scope) => format!("{AUDIT_PREFIX}{{s:{scope}}}"),
            Self::All => format!("{AUDIT_PREFIX}{{all}}"),
        }
    }

    /// The counter holding the log's last number.
    pub fn seq_key(&self) -> String {
        format!("{}:seq", self.base())
    }

    /// The key of the log's record (or, in [`Log::All`], place) number `n`.
    pub fn key(&self, n: u64) -> String {
        format!("{}:{n}", self.base())
    }
}

/// What the log of all scopes stores for a record: where it is.
pub fn place(scope: &str, n: u64) -> String {
    format!("{scope} {n}")
}

/// Reads back a [`place`].
pub fn parse_place(value: &[u8]) -> Option<(String, u64)> {
    let (scope, n) = std::str::from_utf8(value).ok()?.split_once(' ')?;
    Some((scope.to_owned(), n.parse().ok()?))
}

/// The numbers of one page of a log read newest first: below `before` (the newest when `None`,
/// given the log's last number `last`), at most `limit` of them, highest first.
pub fn page_numbers(before: Option<u64>, last: u64, limit: usize) -> Vec<u64> {
    let top = before.unwrap_or(last.saturating_add(1)).min(last.saturating_add(1));
    let low = top.saturating_sub(limit as u64).max(1);
    (low..top).rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_keep_scopes_apart_under_their_hash_tags() {
        assert_eq!(Log::Scope("hh".into()).key(7), "audit:{s:hh}:7");
        assert_eq!(Log::Scope("*".into()).seq_key(), "audit:{s:*}:seq");
        // An organizer called `all` is still a scope of its own.
        assert_ne!(Log::Scope("all".into()).key(1), Log::All.key(1));
        assert_eq!(parse_place(place("hh", 12).as_bytes()), Some(("hh".into(), 12)));
        assert_eq!(parse_place(b"hh"), None);
        assert_eq!(parse_place(b"hh x"), None);
    }

    #[test]
    fn pages_go_from_the_newest_down_to_the_first() {
        assert_eq!(page_numbers(None, 5, 2), vec![5, 4]);
        assert_eq!(page_numbers(Some(4), 5, 2), vec![3, 2]);
        assert_eq!(page_numbers(Some(2), 5, 2), vec![1]);
        assert!(page_numbers(Some(1), 5, 2).is_empty());
        assert!(page_numbers(None, 0, 10).is_empty());
        // A cursor past the end reads from the newest.
        assert_eq!(page_numbers(Some(99), 3, 10), vec![3, 2, 1]);
    }
}
