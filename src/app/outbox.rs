//! The durable outbox: mail is written to the store together with what it tells about (a signup
//! and its confirmation mail in one `set_many`), before the customer is answered; a sender
//! drains it later, with retries and back-off.
//!
//! Layout: the counter `mail:seq` numbers messages; `mail:{n}` holds message `n` as an [`Item`];
//! `mail:head` is the first number not yet settled. A sender claims `mail:lease:{n}` before
//! sending and re-reads the item after the claim, so several senders (nodes) never send one
//! message twice while they run. A lease taken for a successful send is left to expire, which
//! keeps a slower sender that read the item before it was settled from sending it again.
//! What remains: a sender that dies after the transport took a message but before it was marked
//! sent sends it again once the lease expires; the message keeps its `Message-ID`.
//!
//! Numbers whose message never arrived (a writer that failed between taking the number and
//! writing) are skipped once a sender has seen them missing for [`GAP_GRACE_MS`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ports::clock::Clock;
use crate::ports::mail::{Mail, MailError, Mailer};
use crate::ports::store::{SetItem, Store, StoreError};

/// Messages sent at most per drain.
pub const BATCH: u32 = 64;
/// Numbers looked at per drain, from the head: messages waiting out their back-off at the head
/// hold up the head, not the messages behind them, as long as those are within this reach.
pub const REACH: u64 = 512;
/// How long a missing number is waited for before it is skipped.
pub const GAP_GRACE_MS: u64 = 60_000;
/// How long a sender holds a message.
pub const LEASE: Duration = Duration::from_secs(120);
/// Attempts before a message is given up (with the default back-off, 30 s doubling to 1 h:
/// about a day).
pub const MAX_ATTEMPTS: u32 = 30;
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
}

/// A message's number, reserved before it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserved(pub u64);

/// Takes the next message number.
pub async fn reserve(store: &impl Store) -> Result<Reserved, StoreError> {
    let n = store.increment(COUNTER, 1, None).await?;
    Ok(Reserved(n.max(1) as u64))
}

/// The write that queues `mail` under `number`: put it into the same `set_many` as the state it
/// belongs to.
pub fn queue_item(number: Reserved, mail: Mail) -> SetItem {
    let item = Item { mail, state: State::Queued, attempts: 0, next_at: 0, error: None };
    SetItem { key: item_key(number.0), value: serde_json::to_vec(&item).unwrap_or_default(), ttl: None }
}

/// What one drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    /// Messages the transport took.
    pub sent: u32,
    /// Messages that failed for now and wait for another attempt.
    pub retried: u32,
    /// Messages given up.
    pub failed: u32,
    /// Messages still waiting after this drain (queued, leased elsewhere or not due).
    pub waiting: u32,
}

/// Drains the outbox through a [`Mailer`]. One per process; cheap to call often.
pub struct Sender<S> {
    store: S,
    clock: std::sync::Arc<dyn Clock>,
    /// Missing numbers, with when this sender first saw them missing.
    gaps: Mutex<HashMap<u64, u64>>,
    /// The first retry's delay, in ms.
    retry_ms: u64,
}

/// The delay before attempt `attempts + 1`: `first` doubling, at most an hour.
fn backoff_ms(first: u64, attempts: u32) -> u64 {
    (first << attempts.saturating_sub(1).min(16)).clamp(1, 3_600_000)
}

impl<S: Store> Sender<S> {
    /// A sender over `store`.
    pub fn new(store: S, clock: std::sync::Arc<dyn Clock>) -> Self {
        Self { store, clock, gaps: Mutex::default(), retry_ms: 30_000 }
    }

    /// Retries a message the transport refused for now after `first` (default 30 s), doubling
    /// up to an hour.
    pub fn retry_after(mut self, first: Duration) -> Self {
        self.retry_ms = (first.as_millis() as u64).max(1);
        self
    }

    async fn counter(&self, key: &str) -> Result<u64, StoreError> {
        Ok(self.store.increment(key, 0, None).await?.max(0) as u64)
    }

    /// Sends what is due, in number order, up to [`BATCH`] messages within [`REACH`] of the
    /// head; moves the head past what is settled.
    pub async fn drain(&self, mailer: &dyn Mailer) -> Result<Drained, StoreError> {
        let mut report = Drained::default();
        let top = self.counter(COUNTER).await?;
        let head = match self.store.get(HEAD).await? {
            Some(v) => std::str::from_utf8(&v).ok().and_then(|s| s.parse().ok()).unwrap_or(1u64),
            None => 1,
        }
        .max(1);
        if head > top {
            return Ok(report);
        }
        let last = top.min(head + REACH - 1);
        let keys: Vec<String> = (head..=last).map(item_key).collect();
        let items = self.store.get_many(&keys).await?;
        let now = self.clock.unix_ms();
        let mut settled_through = head - 1;
        let mut contiguous = true;
        for (n, raw) in (head..=last).zip(items) {
            let done = match raw.and_then(|v| serde_json::from_slice::<Item>(&v).ok()) {
                None => self.gap_expired(n, now),
                Some(item) if item.state != State::Queued => true,
                Some(item) if item.next_at > now => false,
                Some(_) if report.sent + report.retried + report.failed >= BATCH => false,
                Some(_) => self.attempt(n, mailer, &mut report).await?,
            };
            if !done {
                report.waiting += 1;
            }
            contiguous &= done;
            if contiguous {
                settled_through = n;
            }
        }
        if settled_through >= head {
            self.store.set(HEAD, (settled_through + 1).to_string().as_bytes(), None).await?;
            self.gaps.lock().unwrap_or_else(|e| e.into_inner()).retain(|n, _| *n > settled_through);
        }
        Ok(report)
    }

    fn gap_expired(&self, n: u64, now: u64) -> bool {
        let mut gaps = self.gaps.lock().unwrap_or_else(|e| e.into_inner());
        let first_seen = *gaps.entry(n).or_insert(now);
        now.saturating_sub(first_seen) >= GAP_GRACE_MS
    }

    /// One attempt at message `n`; answers whether it is settled.
    async fn attempt(&self, n: u64, mailer: &dyn Mailer, report: &mut Drained) -> Result<bool, StoreError> {
        if !self.store.claim(&lease_key(n), Some(LEASE)).await? {
            return Ok(false); // another sender has it
        }
        // Re-read under the lease: another sender may have settled it since our read.
        let Some(mut item) =
            self.store.get(&item_key(n)).await?.and_then(|v| serde_json::from_slice::<Item>(&v).ok())
        else {
            return Ok(false);
        };
        if item.state != State::Queued {
            return Ok(true);
        }
        item.attempts += 1;
        let outcome = mailer.send(&item.mail).await;
        let now = self.clock.unix_ms();
        let settled = match outcome {
            Ok(()) => {
                item.state = State::Sent;
                item.error = None;
                report.sent += 1;
                true
            }
            Err(MailError::Transient(e)) if item.attempts < MAX_ATTEMPTS => {
                tracing::warn!(message = n, attempts = item.attempts, error = %e, "outbox: will retry");
                item.next_at = now + backoff_ms(self.retry_ms, item.attempts);
                item.error = Some(e);
                report.retried += 1;
                false
            }
            Err(e) => {
                tracing::error!(message = n, attempts = item.attempts, error = %e, "outbox: message given up");
                item.state = State::Failed;
                item.error = Some(e.to_string());
                report.failed += 1;
                true
            }
        };
        let ttl = settled.then_some(KEEP_SETTLED);
        let value = serde_json::to_vec(&item).map_err(|e| StoreError::Failed(e.to_string()))?;
        self.store.set(&item_key(n), &value, ttl).await?;
        if !settled {
            // Free it for the next attempt; its `next_at` keeps everyone off until then.
            self.store.delete(&lease_key(n)).await?;
        }
        Ok(settled)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::testkit::{block_on, TestMailer, TestRig};

    fn mail(id: &str) -> Mail {
        Mail {
            id: id.into(),
            from: "w@shop.example".into(),
            to: "ada@example.com".into(),
            message: "Hi".into(),
        }
    }

    /// Queues `mail` as the tier does: a reserved number, then the item.
    fn queue(rig: &TestRig, m: Mail) -> u64 {
        block_on(async {
            let n = reserve(&rig.store).await.unwrap();
            rig.store.set_many(&[queue_item(n, m)]).await.unwrap();
            n.0
        })
    }

    #[test]
    fn a_refused_message_waits_its_back_off_and_is_sent_once() {
        let rig = TestRig::default();
        let sender = Sender::new(rig.store.clone(), rig.clock.clone()).retry_after(Duration::from_secs(30));
        let mailer = TestMailer::default();
        queue(&rig, mail("m1"));
        mailer.fail_next([MailError::Transient("down".into()), MailError::Transient("down".into())]);
        let d = block_on(sender.drain(&mailer)).unwrap();
        assert_eq!((d.sent, d.retried, d.waiting), (0, 1, 1));
        rig.clock.advance(Duration::from_secs(29));
        assert_eq!(block_on(sender.drain(&mailer)).unwrap().retried, 0, "not due before 30 s");
        rig.clock.advance(Duration::from_secs(1));
        assert_eq!(block_on(sender.drain(&mailer)).unwrap().retried, 1, "due, refused again");
        rig.clock.advance(Duration::from_secs(59));
        assert_eq!(block_on(sender.drain(&mailer)).unwrap().sent, 0, "the second wait doubles");
        rig.clock.advance(Duration::from_secs(1));
        assert_eq!(block_on(sender.drain(&mailer)).unwrap().sent, 1);
        rig.clock.advance(Duration::from_secs(3600));
        assert_eq!(block_on(sender.drain(&mailer)).unwrap(), Drained::default(), "settled: nothing more");
        assert_eq!(mailer.sent_ids(), ["m1"]);
    }

    #[test]
    fn permanent_failures_give_up_and_gaps_are_skipped_after_their_grace() {
        let rig = TestRig::default();
        let sender = Sender::new(rig.store.clone(), rig.clock.clone());
        let mailer = TestMailer::default();
        queue(&rig, mail("m1"));
        let gap = block_on(reserve(&rig.store)).unwrap(); // a writer that never wrote its message
        queue(&rig, mail("m3"));
        mailer.fail_next([MailError::Permanent("no such mailbox".into())]);
        let d = block_on(sender.drain(&mailer)).unwrap();
        assert_eq!((d.sent, d.failed, d.waiting), (1, 1, 1), "m1 given up, m3 sent, the gap waits");
        assert_eq!(mailer.sent_ids(), ["m3"]);
        let head = || block_on(rig.store.get(HEAD)).unwrap().map(|v| String::from_utf8(v).unwrap());
        assert_eq!(head(), Some(gap.0.to_string()), "the head stops at the gap");
        rig.clock.advance(Duration::from_millis(GAP_GRACE_MS));
        assert_eq!(block_on(sender.drain(&mailer)).unwrap().waiting, 0);
        assert_eq!(head(), Some((gap.0 + 2).to_string()), "past the gap and m3 once its grace is over");
    }

    #[test]
    fn two_senders_never_send_one_message_twice() {
        let rig = TestRig::default();
        let (a, b) = (
            Sender::new(rig.store.clone(), rig.clock.clone()),
            Sender::new(rig.store.clone(), rig.clock.clone()),
        );
        let mailer = Arc::new(TestMailer::default());
        for i in 0..5 {
            queue(&rig, mail(&format!("m{i}")));
        }
        block_on(async {
            let (x, y) = futures_util::future::join(a.drain(&*mailer), b.drain(&*mailer)).await;
            assert_eq!(x.unwrap().sent + y.unwrap().sent, 5);
        });
        let mut ids = mailer.sent_ids();
        ids.sort();
        assert_eq!(ids, ["m0", "m1", "m2", "m3", "m4"]);
    }

    #[test]
    fn backoff_doubles_to_an_hour() {
        assert_eq!(backoff_ms(30_000, 1), 30_000);
        assert_eq!(backoff_ms(30_000, 2), 60_000);
        assert_eq!(backoff_ms(30_000, 8), 3_600_000);
        assert_eq!(backoff_ms(30_000, 30), 3_600_000);
        assert_eq!(backoff_ms(1_000, 3), 4_000);
    }
}
