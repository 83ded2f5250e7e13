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

use base64::Engine;
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

/// The number of the message stored under `key`, if it is an item's key.
pub fn item_number(key: &str) -> Option<u64> {
    let digits = key.strip_prefix("mail:")?;
    (digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok())?
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

/// One message of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The message.
    pub message: Message,
    /// Where it stands.
    pub state: State,
    /// Attempts made.
    pub attempts: u32,
    /// Not before this time (Unix ms).
    pub next_at: u64,
    /// The last error, if any (the recipient's address taken out).
    pub error: Option<String>,
    /// When it was queued (Unix ms; 0 for messages queued before this was kept).
    pub queued_at: u64,
    /// Where the sender notes the message's fate once it is settled (a [`Settled`]), if
    /// anywhere: the waitlist's message history.
    pub note: Option<String>,
    /// Until when (Unix ms) the note is kept, if not for good (it goes with what it notes).
    pub note_until: Option<u64>,
}

/// An [`Item`] as stored: the message sealed with the data keys (`"sealed"`, base64, bound to
/// the item's key) beside its destination and state in clear, which a sender's pass reads
/// without opening it. Items queued before sealing hold the message in clear under its
/// channel's name (`"mail": {…}` or `"sms": {…}`) and still read. (Plain fields rather than a
/// flattened enum: serde's `flatten` buffers every field and would cost the edge component tens
/// of kilobytes.)
#[derive(Serialize, Deserialize)]
pub(crate) struct Stored {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sealed: Option<String>,
    /// The destination a refusal pauses ([`Item::destination`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mail: Option<Mail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sms: Option<Sms>,
    pub(crate) state: State,
    next_at: u64,
    attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default)]
    queued_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note_until: Option<u64>,
}

/// The sealed part of an item: its message under its channel's name.
#[derive(Serialize, Deserialize)]
struct Sealed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mail: Option<Mail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sms: Option<Sms>,
}

impl Sealed {
    fn message(self) -> Result<Message, StoreError> {
        match (self.mail, self.sms) {
            (Some(mail), None) => Ok(Message::Mail(mail)),
            (None, Some(sms)) => Ok(Message::Sms(sms)),
            _ => Err(StoreError::Failed("an outbox item holds one mail or one SMS".into())),
        }
    }
}

impl Item {
    /// Where a refusal pauses it: the mail's recipient domain, or the SMS gateway.
    pub fn destination(&self) -> String {
        match &self.message {
            Message::Mail(m) => sender::domain(&m.to),
            Message::Sms(_) => sender::SMS_DESTINATION.to_owned(),
        }
    }

    /// The item as stored under message number `n`, its message sealed with `ports`' keys.
    pub fn to_stored<S>(&self, ports: &crate::app::Ports<S>, n: u64) -> Result<Vec<u8>, StoreError> {
        let key = item_key(n);
        let (mail, sms) = match &self.message {
            Message::Mail(m) => (Some(m.clone()), None),
            Message::Sms(s) => (None, Some(s.clone())),
        };
        let sealed = ports.seal(&key, &Sealed { mail, sms })?;
        let stored = Stored {
            sealed: Some(base64::engine::general_purpose::STANDARD_NO_PAD.encode(sealed)),
            dest: Some(self.destination()),
            mail: None,
            sms: None,
            state: self.state,
            attempts: self.attempts,
            next_at: self.next_at,
            error: self.error.clone(),
            queued_at: self.queued_at,
            note: self.note.clone(),
            note_until: self.note_until,
        };
        serde_json::to_vec(&stored).map_err(|e| StoreError::Failed(format!("encoding: {e}")))
    }

    /// The data key the message stored in `raw` is sealed with; `None` when it is held in clear
    /// (queued before messages were sealed) or is no item.
    pub fn sealed_with(raw: &[u8]) -> Option<crate::core::sealing::KeyId> {
        let stored = serde_json::from_slice::<Stored>(raw).ok()?;
        let sealed = base64::engine::general_purpose::STANDARD_NO_PAD.decode(stored.sealed?).ok()?;
        crate::core::sealing::sealed_with(&sealed)
    }

    /// Message `n` of the outbox from its stored bytes: `None` when there is none or it is
    /// malformed; an error when its message does not open.
    pub fn from_stored<S>(
        ports: &crate::app::Ports<S>,
        n: u64,
        raw: Option<Vec<u8>>,
    ) -> Result<Option<Self>, StoreError> {
        let Some(stored) = raw.and_then(|v| serde_json::from_slice::<Stored>(&v).ok()) else {
            return Ok(None);
        };
        let message = match stored.sealed {
            Some(text) => {
                let key = item_key(n);
                let Ok(sealed) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(text) else {
                    return Err(StoreError::Failed(format!("{key}: a sealed message that is not base64")));
                };
                let sealed: Option<Sealed> = ports.open(&key, Some(sealed))?;
                sealed
                    .ok_or_else(|| StoreError::Failed(format!("{key}: a sealed message that is no message")))?
                    .message()?
            }
            None => match (Sealed { mail: stored.mail, sms: stored.sms }).message() {
                Ok(message) => message,
                Err(_) => return Ok(None),
            },
        };
        let Stored { state, attempts, next_at, error, queued_at, note, note_until, .. } = stored;
        Ok(Some(Self { message, state, attempts, next_at, error, queued_at, note, note_until }))
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

/// The write that queues `message` under `number` at `now` (Unix ms), sealed with `ports`'
/// keys: put it into the same `set_many` as the state it belongs to.
pub fn queue_item<S>(
    ports: &crate::app::Ports<S>,
    number: Reserved,
    message: impl Into<Message>,
    now: u64,
) -> Result<SetItem, StoreError> {
    queue_noted(ports, number, message, now, None)
}

/// [`queue_item`] for a message whose fate the sender notes as `note` says once it is settled.
pub fn queue_noted<S>(
    ports: &crate::app::Ports<S>,
    number: Reserved,
    message: impl Into<Message>,
    now: u64,
    note: Option<Note>,
) -> Result<SetItem, StoreError> {
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
    Ok(SetItem { key: item_key(number.0), value: item.to_stored(ports, number.0)?, ttl: None })
}
