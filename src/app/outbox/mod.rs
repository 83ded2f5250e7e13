//! The durable outbox: mail is written to the store together with what it tells about (a signup
//! and its confirmation mail in one `set_many`), before the customer is answered; a sender
//! drains it later, with retries and back-off.
//!
//! Layout: the counter `mail:seq` numbers messages; `mail:{n}` holds message `n` as an [`Item`];
//! `mail:head` is the first number of the line not yet settled or set aside. A message that
//! cannot go now (waiting out its back-off, held by a lease, or a number not yet written) is set
//! aside in a slot of `mail:later:…` ([`later`]) and the head moves past it, so nothing waits
//! behind it. A sender claims `mail:lease:{n}` before sending and re-reads the item after the
//! claim, so several senders (nodes) never send one message twice while they run. A lease taken
//! for a successful send is left to expire, which keeps a slower sender that read the item before
//! it was settled from sending it again. What remains: a sender that dies after the transport
//! took a message but before it was marked sent sends it again once the lease expires; the
//! message keeps its `Message-ID`.
//!
//! Numbers whose message never arrived (a writer that failed between taking the number and
//! writing) are skipped once they were set aside for [`GAP_GRACE_MS`].

pub mod later;
mod sender;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ports::mail::Mail;
use crate::ports::store::{SetItem, Store, StoreError};

pub use sender::{Drained, Sender, GAP_GRACE_MS, GAP_WAIT_MS};

/// Messages sent at most per drain.
pub const BATCH: u32 = 64;
/// Numbers of the line read at once (one `get_many`).
pub const REACH: u64 = 128;
/// How long a sender holds a message.
pub const LEASE: Duration = Duration::from_secs(120);
/// Attempts before a message is given up (with the default back-off, 30 s doubling to 1 h:
/// about a day).
pub const MAX_ATTEMPTS: u32 = 30;
/// Age after which a message that fails again is given up, however few its attempts (those set
/// aside while their domain refused mail were not tried each time).
pub const MAX_AGE: Duration = Duration::from_secs(24 * 3600);
/// How long settled messages stay readable (for operators), then expire.
pub const KEEP_SETTLED: Duration = Duration::from_secs(7 * 24 * 3600);

const COUNTER: &str = "mail:seq";
const HEAD: &str = "mail:head";

fn item_key(n: u64) -> String {
    format!("mail:{n:012}")
}

fn lease_key(n: u64) -> String {
    format!("mail:lease:{n:012}")
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Waiting to be sent (again).
    Queued,
    /// Taken by the transport.
    Sent,
    /// Given up.
    Failed,
}

/// One message of the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The message.
    pub mail: Mail,
    /// Where it stands.
    pub state: State,
    /// Attempts made.
    pub attempts: u32,
    /// Not before this time (Unix ms).
    pub next_at: u64,
    /// The last error, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it was queued (Unix ms; 0 for messages queued before this was kept).
    #[serde(default)]
    pub queued_at: u64,
    /// Where the sender notes the message's fate once it is settled (a [`Settled`]), if
    /// anywhere: the waitlist's message history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Until when (Unix ms) the note is kept, if not for good (it goes with what it notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_until: Option<u64>,
}

/// Where the sender notes a message's fate, and until when the note is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The key.
    pub key: String,
    /// Until when (Unix ms), if not for good.
    pub until: Option<u64>,
}

/// A settled message's fate, as the sender notes it under its item's [`Item::note`] key (kept
/// after the item itself expires).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settled {
    /// `sent` or `failed`.
    pub state: State,
    /// When (Unix ms).
    pub at: u64,
    /// Attempts made.
    pub attempts: u32,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A message's number, reserved before it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserved(pub u64);

/// Takes the next message number.
pub async fn reserve(store: &impl Store) -> Result<Reserved, StoreError> {
    let n = store.increment(COUNTER, 1, None).await?;
    Ok(Reserved(n.max(1) as u64))
}

/// The counter step that takes `k` consecutive message numbers, for an `increment_many` that
/// takes other numbers in the same round trip; [`reserved_from`] reads its result.
pub fn reserve_step(k: u64) -> (String, i64) {
    (COUNTER.to_owned(), k.max(1) as i64)
}

/// The first of the `k` numbers a [`reserve_step`] took, from the counter's new value `last`.
pub fn reserved_from(last: i64, k: u64) -> Reserved {
    let k = k.max(1);
    Reserved((last.max(k as i64) as u64) + 1 - k)
}

/// The write that queues `mail` under `number` at `now` (Unix ms): put it into the same
/// `set_many` as the state it belongs to.
pub fn queue_item(number: Reserved, mail: Mail, now: u64) -> SetItem {
    queue_noted(number, mail, now, None)
}

/// [`queue_item`] for a message whose fate the sender notes as `note` says once it is settled.
pub fn queue_noted(number: Reserved, mail: Mail, now: u64, note: Option<Note>) -> SetItem {
    let (note, note_until) = note.map_or((None, None), |n| (Some(n.key), n.until));
    let item = Item {
        mail,
        state: State::Queued,
        attempts: 0,
        next_at: 0,
        error: None,
        queued_at: now,
        note,
        note_until,
    };
    SetItem { key: item_key(number.0), value: serde_json::to_vec(&item).unwrap_or_default(), ttl: None }
}
