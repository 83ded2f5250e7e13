//! The durable outbox: messages (mail, and text messages where an SMS gateway is set up) are
//! written to the store together with what they tell about (a signup and its confirmation mail
//! in one `set_many`), before the customer is answered; a sender drains it later, with retries
//! and back-off.
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
use crate::ports::sms::Sms;
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

/// A message of the outbox, by channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// An e-mail, sent through the [`crate::ports::mail::Mailer`].
    Mail(Mail),
    /// A text message, sent through the [`crate::ports::sms::SmsGateway`].
    Sms(Sms),
}

impl From<Mail> for Message {
    fn from(mail: Mail) -> Self {
        Self::Mail(mail)
    }
}

impl From<Sms> for Message {
    fn from(sms: Sms) -> Self {
        Self::Sms(sms)
    }
}

impl Message {
    /// The recipient: an address or a phone number.
    pub fn to(&self) -> &str {
        match self {
            Self::Mail(m) => &m.to,
            Self::Sms(s) => &s.to,
        }
    }
}

/// One message of the outbox. Stored with the message under its channel's name (`"mail": {…}` or
/// `"sms": {…}`) beside the other fields, so items queued before SMS existed read as mail.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Stored<Mail>")]
pub struct Item {
    /// The message.
    pub message: Message,
    /// Where it stands.
    pub state: State,
    /// Attempts made.
    pub attempts: u32,
    /// Not before this time (Unix ms).
    pub next_at: u64,
    /// The last error, if any.
    pub error: Option<String>,
    /// When it was queued (Unix ms; 0 for messages queued before this was kept).
    pub queued_at: u64,
    /// Where the sender notes the message's fate once it is settled (a [`Settled`]), if
    /// anywhere: the waitlist's message history.
    pub note: Option<String>,
    /// Until when (Unix ms) the note is kept, if not for good (it goes with what it notes).
    pub note_until: Option<u64>,
}

/// An [`Item`] as stored. (Plain fields rather than a flattened enum: serde's `flatten` buffers
/// every field and would cost the edge component tens of kilobytes.)
#[derive(Serialize, Deserialize)]
#[serde(bound(deserialize = "M: Deserialize<'de>"))]
struct Stored<M> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mail: Option<M>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sms: Option<Sms>,
    state: State,
    attempts: u32,
    next_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default)]
    queued_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note_until: Option<u64>,
}

impl TryFrom<Stored<Mail>> for Item {
    type Error = &'static str;

    fn try_from(s: Stored<Mail>) -> Result<Self, Self::Error> {
        let message = match (s.mail, s.sms) {
            (Some(mail), None) => Message::Mail(mail),
            (None, Some(sms)) => Message::Sms(sms),
            _ => return Err("an outbox item holds one mail or one SMS"),
        };
        let Stored { state, attempts, next_at, error, queued_at, note, note_until, .. } = s;
        Ok(Self { message, state, attempts, next_at, error, queued_at, note, note_until })
    }
}

impl Serialize for Item {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        let (mail, sms) = match &self.message {
            Message::Mail(m) => (Some(m), None),
            Message::Sms(s) => (None, Some(s.clone())),
        };
        Stored {
            mail,
            sms,
            state: self.state,
            attempts: self.attempts,
            next_at: self.next_at,
            error: self.error.clone(),
            queued_at: self.queued_at,
            note: self.note.clone(),
            note_until: self.note_until,
        }
        .serialize(serializer)
    }
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
    /// The gateway reported it reached the recipient's phone (SMS providers that say so).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delivered: bool,
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

/// The write that queues `message` under `number` at `now` (Unix ms): put it into the same
/// `set_many` as the state it belongs to.
pub fn queue_item(number: Reserved, message: impl Into<Message>, now: u64) -> SetItem {
    queue_noted(number, message, now, None)
}

/// [`queue_item`] for a message whose fate the sender notes as `note` says once it is settled.
pub fn queue_noted(number: Reserved, message: impl Into<Message>, now: u64, note: Option<Note>) -> SetItem {
    let (note, note_until) = note.map_or((None, None), |n| (Some(n.key), n.until));
    let item = Item {
        message: message.into(),
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
