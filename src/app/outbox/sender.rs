//! The sender: drains the outbox through a [`Mailer`] (and an [`SmsGateway`] for text messages),
//! one pass at a time.
//!
//! A pass walks the line from the head, then the slots of messages set aside that are due
//! ([`super::later`]), and sends what is due [`CONCURRENCY`] messages at a time (one per
//! recipient domain at a time), up to [`BATCH`] a pass. A message that cannot go now never holds up the others: one waiting out
//! its back-off, held by another sender's lease (perhaps a sender that died mid-send) or whose
//! number was reserved but not yet written is set aside for later and the head moves past it.
//! Once a recipient domain refused a message for now, this sender sets the other messages to
//! that domain aside until that message's next attempt without trying them (as mail servers
//! treat a destination that refuses), so a domain that keeps refusing costs one attempt per
//! back-off, not one per message; a message older than [`MAX_AGE`] still gets its own last
//! attempt, and is given up if that fails too. Text messages all go to one gateway, so they
//! count as one destination (`sms`): a gateway refusing for now pauses them all, and a node
//! without a gateway leaves them to one that has it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use super::Message;
use super::{
    item_key, later, lease_key, Item, Settled, State, BATCH, COUNTER, HEAD, KEEP_SETTLED, LEASE, MAX_AGE,
    MAX_ATTEMPTS, REACH,
};
use crate::app::Ports;
use crate::ports::clock::Clock;
use crate::ports::mail::{MailError, Mailer};
use crate::ports::sms::{Receipt, SmsGateway};
use crate::ports::store::{SetItem, Store, StoreError};

/// How long a number reserved but not yet written holds the head before it is set aside
/// (writers take the number just before writing; this covers a slow write).
pub const GAP_WAIT_MS: u64 = 2_000;
/// How long a number set aside as missing is waited for before it is skipped.
pub const GAP_GRACE_MS: u64 = 60_000;
/// Messages sent at once within a pass (each over its own connection to the mail server).
pub const CONCURRENCY: usize = 4;
/// Windows of [`REACH`] numbers one pass may walk when everything in them is done.
const WINDOWS_PER_PASS: u32 = 64;
/// Windows of slots one pass may walk when everything in them is done: enough to catch up
/// over [`later::LOOKBACK_SLOTS`] in one pass.
const SLOT_WINDOWS_PER_PASS: u64 = later::LOOKBACK_SLOTS / later::SLOTS_PER_DRAIN + 2;

/// What one drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    /// Messages the transport took.
    pub sent: u32,
    /// Messages that failed for now (or were not tried, their domain having refused another)
    /// and wait for another attempt.
    pub retried: u32,
    /// Messages given up.
    pub failed: u32,
    /// Messages still waiting after this drain (set aside, held by a lease, not yet due, their
    /// domain refusing, or beyond this pass's batch).
    pub waiting: u32,
}

impl Drained {
    fn attempts(&self) -> u32 {
        self.sent + self.retried + self.failed
    }
}

/// What became of one message in a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Sent, given up, or settled before.
    Settled,
    /// In a slot for later: the line (or its slot) may move past it.
    SetAside,
    /// Due but not taken up in this pass, or a number in its short wait: holds its place.
    Held,
    /// Due: to be attempted with the pass's other due messages, [`CONCURRENCY`] at a time,
    /// while the pass's batch lasts.
    Due,
}

/// What one attempt came to, applied to its pass once every attempt of the window is done.
struct Attempted {
    fate: Fate,
    /// How the report counts it, if it was tried.
    tried: Option<Tried>,
    /// When to look at it again, when set aside.
    aside_at: Option<u64>,
}

/// How an attempt is counted.
#[derive(Clone, Copy)]
enum Tried {
    Sent,
    Retried,
    Failed,
}

/// One pass's state.
struct Pass {
    now: u64,
    report: Drained,
    /// Messages to set aside at the end of the pass, `(slot key, number)`.
    aside: Vec<(String, Vec<u8>)>,
    /// Slot members found done in this pass, remembered once what was set aside is written.
    done: Vec<(u64, u64)>,
    /// Messages found due and not yet attempted (counted against the batch), with their
    /// recipient's domain and whether they are older than [`MAX_AGE`].
    due: HashMap<u64, (String, bool)>,
}

impl Pass {
    fn set_aside(&mut self, n: u64, at: u64) -> Fate {
        self.aside.push((later::slot_key(later::slot_for(at)), n.to_be_bytes().to_vec()));
        Fate::SetAside
    }
}

/// Drains the outbox through a [`Mailer`]. One per process; cheap to call often.
pub struct Sender<S> {
    store: S,
    clock: Arc<dyn Clock>,
    /// The ports messages are opened and re-sealed with (their data keys and randomness).
    ports: Ports<S>,
    /// Missing numbers in the line, with when this sender first saw them missing.
    gaps: Mutex<HashMap<u64, u64>>,
    /// `(slot, number)` pairs this sender saw done, so a slot read again while it settles
    /// costs no reads of its messages.
    done: Mutex<HashSet<(u64, u64)>>,
    /// Domains that refused a message for now, with when that message is due again.
    refused: Mutex<HashMap<String, u64>>,
    /// The first retry's delay, in ms.
    retry_ms: u64,
    /// Where text messages go, if this node has a gateway.
    sms: Option<Arc<dyn SmsGateway>>,
}

/// The delay before attempt `attempts + 1`: `first` doubling, at most an hour.
fn backoff_ms(first: u64, attempts: u32) -> u64 {
    (first << attempts.saturating_sub(1).min(16)).clamp(1, 3_600_000)
}

/// The domain of an envelope address, lowercased (`""` without an `@`).
pub(super) fn domain(address: &str) -> String {
    address.rsplit_once('@').map(|(_, d)| d.trim_end_matches('>').to_ascii_lowercase()).unwrap_or_default()
}

/// `error` with `recipient` (an address or a number, as any case) taken out: errors are kept
/// and logged in clear, and a mail server's answer often repeats the address.
fn without_recipient(error: &str, recipient: &str) -> String {
    let recipient = recipient.trim().to_ascii_lowercase();
    if recipient.is_empty() {
        return error.to_owned();
    }
    let lower = error.to_ascii_lowercase();
    let mut out = String::with_capacity(error.len());
    let mut from = 0;
    while let Some(at) = lower[from..].find(&recipient) {
        out.push_str(&error[from..from + at]);
        out.push_str("<recipient>");
        from += at + recipient.len();
    }
    out.push_str(&error[from..]);
    out
}

/// The destination text messages count as: the one gateway.
pub(super) const SMS_DESTINATION: &str = "sms";

/// What a pass needs to know of a message to decide on it: read without its text, which a
/// pass skips over in the dozens of messages it looks at for each it sends.
#[derive(serde::Deserialize)]
struct Glance {
    state: State,
    next_at: u64,
    #[serde(default)]
    queued_at: u64,
    /// Where a sealed message goes ([`Item::destination`]).
    dest: Option<String>,
    /// The recipient of a message queued before messages were sealed.
    mail: Option<Recipient>,
}

impl Glance {
    /// The destination a refusal pauses: the mail's recipient domain, or the SMS gateway.
    fn destination(&self) -> String {
        match (&self.dest, &self.mail) {
            (Some(dest), _) => dest.clone(),
            (None, Some(m)) => domain(&m.to),
            (None, None) => SMS_DESTINATION.to_owned(),
        }
    }
}

/// The envelope recipient of a message.
#[derive(serde::Deserialize)]
struct Recipient {
    to: String,
}

/// Whether a message queued at `queued_at` (0: not known) is past [`MAX_AGE`] at `now`.
fn too_old(queued_at: u64, now: u64) -> bool {
    queued_at > 0 && now.saturating_sub(queued_at) >= MAX_AGE.as_millis() as u64
}

fn glance(raw: Option<Vec<u8>>) -> Option<Glance> {
    raw.and_then(|v| serde_json::from_slice::<Glance>(&v).ok())
}

impl<S: Store + Clone> Sender<S> {
    /// A sender over `ports`' store and clock, opening messages with their data keys.
    pub fn new(ports: &Ports<S>) -> Self {
        Self {
            store: ports.store.clone(),
            clock: ports.clock.clone(),
            ports: ports.clone(),
            gaps: Mutex::default(),
            done: Mutex::default(),
            refused: Mutex::default(),
            retry_ms: 30_000,
            sms: None,
        }
    }

    /// Sends text messages through `gateway` (without one, they wait for a node that has it).
    pub fn sms_gateway(mut self, gateway: Arc<dyn SmsGateway>) -> Self {
        self.sms = Some(gateway);
        self
    }

    /// Retries a message the transport refused for now after `first` (default 30 s), doubling
    /// up to an hour.
    pub fn retry_after(mut self, first: std::time::Duration) -> Self {
        self.retry_ms = (first.as_millis() as u64).max(1);
        self
    }

    /// One pass: sends what is due, up to [`BATCH`] messages, first from the line, then from
    /// the slots set aside; moves the head and the slots' cursor past what is done.
    pub async fn drain(&self, mailer: &dyn Mailer) -> Result<Drained, StoreError> {
        let mut pass = Pass {
            now: self.clock.unix_ms(),
            report: Drained::default(),
            aside: Vec::new(),
            done: Vec::new(),
            due: HashMap::new(),
        };
        self.drain_line(mailer, &mut pass).await?;
        self.drain_later(mailer, &mut pass).await?;
        Ok(pass.report)
    }

    async fn counter(&self, key: &str) -> Result<u64, StoreError> {
        Ok(self.store.increment(key, 0, None).await?.max(0) as u64)
    }

    /// The line from the head, a window of [`REACH`] numbers at a time.
    async fn drain_line(&self, mailer: &dyn Mailer, pass: &mut Pass) -> Result<(), StoreError> {
        let top = self.counter(COUNTER).await?;
        let saved = self.store.get(HEAD).await?;
        let mut head =
            saved.as_deref().and_then(|v| std::str::from_utf8(v).ok()).and_then(|s| s.parse().ok());
        let first = head.unwrap_or(1u64).max(1);
        let mut next = first;
        let mut contiguous = true;
        for _ in 0..WINDOWS_PER_PASS {
            if next > top || pass.report.attempts() >= BATCH {
                break;
            }
            let last = top.min(next + REACH - 1);
            let numbers: Vec<u64> = (next..=last).collect();
            for (n, fate) in self.decide(&numbers, Self::gap, mailer, pass).await? {
                contiguous &= fate != Fate::Held;
                if contiguous {
                    head = Some(n + 1);
                }
            }
            next = last + 1;
        }
        // What was set aside is in its slot before the head moves past it.
        self.flush_aside(pass).await?;
        if let Some(head) = head.filter(|h| *h > first) {
            self.store.set(HEAD, head.to_string().as_bytes(), None).await?;
            self.gaps.lock().unwrap_or_else(|e| e.into_inner()).retain(|n, _| *n >= head);
        }
        Ok(())
    }

    /// Reads messages `numbers`, decides on each (`missing` for a number with no message), sends
    /// the due ones and counts those left waiting; answers each number's fate, in order.
    async fn decide(
        &self,
        numbers: &[u64],
        missing: impl Fn(&Self, u64, &mut Pass) -> Fate,
        mailer: &dyn Mailer,
        pass: &mut Pass,
    ) -> Result<Vec<(u64, Fate)>, StoreError> {
        let keys: Vec<String> = numbers.iter().map(|n| item_key(*n)).collect();
        let items = self.store.get_many(&keys).await?;
        let mut fates = Vec::with_capacity(items.len());
        for (&n, raw) in numbers.iter().zip(items) {
            let fate = match glance(raw) {
                None => missing(self, n, pass),
                Some(item) => self.take_up(n, &item, pass),
            };
            fates.push((n, fate));
        }
        self.attempt_due(&mut fates, mailer, pass).await?;
        pass.report.waiting += fates.iter().filter(|(_, fate)| *fate != Fate::Settled).count() as u32;
        Ok(fates)
    }

    /// A number set aside as missing that is still missing when its grace is over: skipped.
    fn never_written(&self, n: u64, _pass: &mut Pass) -> Fate {
        tracing::warn!(message = n, "outbox: a message number was never written; skipped");
        Fate::Settled
    }

    /// A number with no message yet: held for [`GAP_WAIT_MS`], then set aside for
    /// [`GAP_GRACE_MS`] (a slow writer's message is still sent then; one never written is
    /// skipped).
    fn gap(&self, n: u64, pass: &mut Pass) -> Fate {
        let mut gaps = self.gaps.lock().unwrap_or_else(|e| e.into_inner());
        let first_seen = *gaps.entry(n).or_insert(pass.now);
        if pass.now.saturating_sub(first_seen) < GAP_WAIT_MS {
            return Fate::Held;
        }
        drop(gaps);
        pass.set_aside(n, pass.now + GAP_GRACE_MS)
    }

    /// The slots set aside that are due, from the cursor.
    async fn drain_later(&self, mailer: &dyn Mailer, pass: &mut Pass) -> Result<(), StoreError> {
        let now = pass.now;
        let from = later::cursor(&self.store, now).await?;
        let current = later::current_slot(now);
        let mut retire_to = from;
        let mut next = from;
        let mut contiguous = true;
        // The slots retired in this pass that had messages (the others have no key to delete).
        let mut emptied = Vec::new();
        for _ in 0..SLOT_WINDOWS_PER_PASS {
            if next > current {
                break;
            }
            let last = current.min(next + later::SLOTS_PER_DRAIN - 1);
            let keys: Vec<String> = (next..=last).map(later::slot_key).collect();
            let slots = self.store.get_many(&keys).await?;
            for (s, value) in (next..=last).zip(slots) {
                let had_messages = value.is_some();
                let done = match value {
                    Some(value) => self.drain_slot(s, &value, mailer, pass).await?,
                    None => true,
                };
                contiguous &= done && later::settled(s, now);
                if contiguous {
                    retire_to = s + 1;
                    if had_messages {
                        emptied.push(s);
                    }
                }
            }
            next = last + 1;
        }
        self.flush_aside(pass).await?;
        if !emptied.is_empty() || retire_to >= from + later::RETIRE_EMPTY_EVERY {
            later::retire(&self.store, retire_to, &emptied).await?;
            self.done.lock().unwrap_or_else(|e| e.into_inner()).retain(|(s, _)| *s >= retire_to);
        }
        Ok(())
    }

    /// The messages of slot `s`; answers whether each is settled or set aside again.
    async fn drain_slot(
        &self,
        s: u64,
        value: &[u8],
        mailer: &dyn Mailer,
        pass: &mut Pass,
    ) -> Result<bool, StoreError> {
        let pending: Vec<u64> = {
            let done = self.done.lock().unwrap_or_else(|e| e.into_inner());
            later::numbers(value).filter(|n| !done.contains(&(s, *n))).collect()
        };
        let mut all_done = true;
        for chunk in pending.chunks(REACH as usize) {
            for (n, fate) in self.decide(chunk, Self::never_written, mailer, pass).await? {
                if fate == Fate::Held {
                    all_done = false;
                } else {
                    pass.done.push((s, n));
                }
            }
        }
        Ok(all_done)
    }

    /// Writes what the pass set aside into its slots; then the slot members found done are
    /// remembered (never before: a member remembered as done is not read again).
    async fn flush_aside(&self, pass: &mut Pass) -> Result<(), StoreError> {
        if !pass.aside.is_empty() {
            let aside = std::mem::take(&mut pass.aside);
            self.store.add_members(&aside).await?;
        }
        self.done.lock().unwrap_or_else(|e| e.into_inner()).extend(pass.done.drain(..));
        Ok(())
    }

    /// What to do with a message found in the line or a slot: [`Fate::Due`] when it is to be
    /// attempted now.
    fn take_up(&self, n: u64, item: &Glance, pass: &mut Pass) -> Fate {
        if item.state != State::Queued {
            return Fate::Settled;
        }
        if item.next_at > pass.now {
            return pass.set_aside(n, item.next_at);
        }
        // Whether its domain refuses mail for now is asked just before it would be sent
        // (`attempt_due`), when the pass's earlier attempts have had their answers.
        pass.due.insert(n, (item.destination(), too_old(item.queued_at, pass.now)));
        Fate::Due
    }

    /// Attempts every [`Fate::Due`] message of `fates`, in groups of up to [`CONCURRENCY`] at
    /// once with one message per recipient domain in a group, so that a domain refusing mail is
    /// tried once: its other messages are set aside once it has refused.
    async fn attempt_due(
        &self,
        fates: &mut [(u64, Fate)],
        mailer: &dyn Mailer,
        pass: &mut Pass,
    ) -> Result<(), StoreError> {
        let mut waiting: VecDeque<usize> = (0..fates.len()).filter(|i| fates[*i].1 == Fate::Due).collect();
        while !waiting.is_empty() {
            let (mut group, mut domains, mut next_round) = (Vec::new(), HashSet::new(), VecDeque::new());
            let budget = BATCH.saturating_sub(pass.report.attempts()) as usize;
            while let Some(i) = waiting.pop_front() {
                let n = fates[i].0;
                let (to, too_old) = pass.due.get(&n).cloned().unwrap_or_default();
                if let Some(until) = self.refusing_until(&to, pass.now).filter(|_| !too_old) {
                    pass.due.remove(&n);
                    fates[i].1 = pass.set_aside(n, until);
                } else if budget == 0 {
                    // Beyond this pass's batch: the next pass takes it up.
                    pass.due.remove(&n);
                    fates[i].1 = Fate::Held;
                } else if group.len() < CONCURRENCY.min(budget) && domains.insert(to) {
                    group.push(i);
                } else {
                    next_round.push_back(i);
                }
            }
            waiting = next_round;
            let attempts = group.iter().map(|i| self.attempt(fates[*i].0, mailer, pass.now));
            let results = futures_util::future::join_all(attempts).await;
            for (i, result) in group.iter().zip(results) {
                let n = fates[*i].0;
                pass.due.remove(&n);
                let attempted = result?;
                match attempted.tried {
                    Some(Tried::Sent) => pass.report.sent += 1,
                    Some(Tried::Retried) => pass.report.retried += 1,
                    Some(Tried::Failed) => pass.report.failed += 1,
                    None => {}
                }
                fates[*i].1 = match attempted.aside_at {
                    Some(at) => pass.set_aside(n, at),
                    None => attempted.fate,
                };
            }
        }
        Ok(())
    }

    /// Until when `domain` is left alone, having refused a message for now.
    fn refusing_until(&self, domain: &str, now: u64) -> Option<u64> {
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        refused.get(domain).copied().filter(|until| *until > now)
    }

    /// Notes what `domain` answered: refusing until `until`, or (`None`) taking mail. Domains
    /// whose pause is over are forgotten, so the map holds only the ones refusing now.
    fn domain_answered(&self, domain: String, until: Option<u64>) {
        let now = self.clock.unix_ms();
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        refused.retain(|_, pause_until| *pause_until > now);
        match until {
            Some(until) => refused.insert(domain, until),
            None => refused.remove(&domain),
        };
    }

    /// One attempt at message `n` in a pass that started at `now`.
    async fn attempt(&self, n: u64, mailer: &dyn Mailer, now: u64) -> Result<Attempted, StoreError> {
        let settled = Attempted { fate: Fate::Settled, tried: None, aside_at: None };
        if !self.store.claim(&lease_key(n), Some(LEASE)).await? {
            // Another sender has it, or had it and died: look again once its lease is over.
            let aside_at = Some(now + LEASE.as_millis() as u64);
            return Ok(Attempted { fate: Fate::SetAside, tried: None, aside_at });
        }
        // Re-read under the lease: another sender may have settled it since our read.
        let mut item = match Item::from_stored(&self.ports, n, self.store.get(&item_key(n)).await?) {
            Ok(Some(item)) => item,
            Ok(None) => return Ok(settled),
            Err(e) => {
                // A wrong data key, or a damaged item: it waits, and the operator is told.
                tracing::error!(message = n, error = %e, "outbox: a message that does not open");
                let aside_at = Some(now + LEASE.as_millis() as u64);
                return Ok(Attempted { fate: Fate::SetAside, tried: None, aside_at });
            }
        };
        if item.state != State::Queued {
            return Ok(settled);
        }
        item.attempts += 1;
        let outcome = match &item.message {
            Message::Mail(mail) => mailer.send(mail).await.map(|()| Receipt::Accepted),
            Message::Sms(sms) => match &self.sms {
                Some(gateway) => gateway.send(sms).await,
                None => Err(MailError::Transient("no SMS gateway on this node".into())),
            },
        };
        let now = self.clock.unix_ms();
        let too_old = too_old(item.queued_at, now);
        let to = item.destination();
        let delivered = matches!(outcome, Ok(Receipt::Delivered));
        let recipient = item.message.to().to_owned();
        let outcome = outcome.map_err(|e| e.map_text(|text| without_recipient(&text, &recipient)));
        let attempted = match outcome {
            Ok(_) => {
                self.domain_answered(to, None);
                item.state = State::Sent;
                item.error = None;
                Attempted { fate: Fate::Settled, tried: Some(Tried::Sent), aside_at: None }
            }
            Err(MailError::Transient(e)) if item.attempts < MAX_ATTEMPTS && !too_old => {
                tracing::warn!(message = n, attempts = item.attempts, error = %e, "outbox: will retry");
                item.next_at = now + backoff_ms(self.retry_ms, item.attempts);
                self.domain_answered(to, Some(item.next_at));
                item.error = Some(e);
                Attempted { fate: Fate::SetAside, tried: Some(Tried::Retried), aside_at: Some(item.next_at) }
            }
            Err(e) => {
                tracing::error!(message = n, attempts = item.attempts, error = %e, "outbox: message given up");
                item.state = State::Failed;
                item.error = Some(e.to_string());
                Attempted { fate: Fate::Settled, tried: Some(Tried::Failed), aside_at: None }
            }
        };
        let settled = attempted.fate == Fate::Settled;
        let value = item.to_stored(&self.ports, n)?;
        let mut writes = vec![SetItem { key: item_key(n), value, ttl: settled.then_some(KEEP_SETTLED) }];
        // A note kept for a while (its message's history record goes with a pending signup)
        // is written with what is left of that while, and not at all once it is over.
        let note_ttl =
            item.note_until.map(|until| std::time::Duration::from_millis(until.saturating_sub(now)));
        let note_kept = note_ttl.is_none_or(|ttl| !ttl.is_zero());
        if let Some(note) = item.note.clone().filter(|_| settled && note_kept) {
            let fate = Settled {
                state: item.state,
                at: now,
                attempts: item.attempts,
                error: item.error.clone(),
                delivered,
            };
            let value = serde_json::to_vec(&fate).map_err(|e| StoreError::Failed(e.to_string()))?;
            writes.push(SetItem { key: note, value, ttl: note_ttl });
        }
        self.store.set_many(&writes).await?;
        if !settled {
            // Free it for the next attempt; its `next_at` keeps everyone off until then. A lease
            // taken for a settled message is left to expire (see the module's documentation).
            self.store.delete(&lease_key(n)).await?;
        }
        Ok(attempted)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{queue_item, reserve};
    use super::*;
    use crate::ports::mail::Mail;
    use crate::testkit::{block_on, TestMailer, TestRig};

    fn mail(id: &str, to: &str) -> Mail {
        Mail { id: id.into(), from: "w@shop.example".into(), to: to.into(), message: "Hi".into() }
    }

    /// Queues `mail` as the tier does: a reserved number, then the item.
    fn queue(rig: &TestRig, m: Mail) -> u64 {
        block_on(async {
            let n = reserve(&rig.store).await.unwrap();
            rig.store
                .set_many(&[queue_item(&rig.ports(), n, m, rig.clock.unix_ms()).unwrap()])
                .await
                .unwrap();
            n.0
        })
    }

    fn head(rig: &TestRig) -> Option<u64> {
        block_on(rig.store.get(HEAD)).unwrap().map(|v| String::from_utf8(v).unwrap().parse().unwrap())
    }

    fn sender(rig: &TestRig) -> Sender<crate::testkit::MemoryStore> {
        Sender::new(&rig.ports()).retry_after(Duration::from_secs(30))
    }

    #[test]
    fn a_refused_message_waits_its_back_off_and_is_sent_once() {
        let rig = TestRig::default();
        let sender = sender(&rig);
        let mailer = TestMailer::default();
        queue(&rig, mail("m1", "ada@example.com"));
        mailer.fail_next([MailError::Transient("down".into()), MailError::Transient("down".into())]);
        let d = block_on(sender.drain(&mailer)).unwrap();
        assert_eq!((d.sent, d.retried, d.waiting), (0, 1, 1));
        assert_eq!(head(&rig), Some(2), "set aside: the line moved past it");
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
        let slots = block_on(rig.store.scan_prefix("mail:later:0", 100)).unwrap();
        assert!(slots.is_empty(), "every slot retired: {slots:?}");
    }

    #[test]
    fn a_domain_that_keeps_refusing_holds_up_no_one_and_costs_one_attempt_per_back_off() {
        let rig = TestRig::default();
        let sender = sender(&rig);
        let mailer = TestMailer::default();
        mailer.refuse_domain("down.example");
        for i in 0..1500 {
            queue(&rig, mail(&format!("d{i}"), &format!("c{i}@down.example")));
        }
        for i in 0..10 {
            queue(&rig, mail(&format!("ok{i}"), &format!("c{i}@up.example")));
        }
        let d = block_on(sender.drain(&mailer)).unwrap();
        assert_eq!(d.sent, 10, "everyone else's mail leaves in the same pass: {d:?}");
        assert_eq!(mailer.calls(), 11, "one attempt at the refusing domain, ten sends");
        assert_eq!(head(&rig), Some(1511), "the head is past all of them");
        // More mail for the domain in the next passes waits with the rest, untried.
        for i in 0..5 {
            queue(&rig, mail(&format!("d-more{i}"), &format!("more{i}@down.example")));
        }
        rig.clock.advance(Duration::from_secs(1));
        let d = block_on(sender.drain(&mailer)).unwrap();
        assert_eq!((d.retried, d.waiting, mailer.calls()), (0, 5, 11), "{d:?}");
        // Every back-off: one real attempt at the domain; the others wait with it.
        rig.clock.advance(Duration::from_secs(30));
        let d = block_on(sender.drain(&mailer)).unwrap();
        assert_eq!((d.sent, mailer.calls()), (0, 12), "{d:?}");
        // The domain takes mail again: all of it goes, once each, within a back-off.
        mailer.accept_domain("down.example");
        rig.clock.advance(Duration::from_secs(60));
        let mut sent = 0;
        for _ in 0..100 {
            sent += block_on(sender.drain(&mailer)).unwrap().sent;
        }
        assert_eq!(sent, 1505);
        let mut ids = mailer.sent_ids();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 1515, "each once");
    }

    #[test]
    fn a_message_held_by_a_dead_senders_lease_holds_up_no_one() {
        let rig = TestRig::default();
        let sender = sender(&rig);
        let mailer = TestMailer::default();
        let held = queue(&rig, mail("held", "ada@example.com"));
        for i in 0..5 {
            queue(&rig, mail(&format!("m{i}"), "bob@example.com"));
        }
        // A sender took it, sent it perhaps, and died before writing what happened.
        assert!(block_on(rig.store.claim(&lease_key(held), Some(LEASE))).unwrap());
        let d = block_on(sender.drain(&mailer)).unwrap();
        assert_eq!((d.sent, d.waiting), (5, 1));
        assert_eq!(head(&rig), Some(7));
        rig.clock.advance(LEASE - Duration::from_secs(1));
        assert_eq!(block_on(sender.drain(&mailer)).unwrap().sent, 0, "its lease still holds");
        rig.clock.advance(Duration::from_secs(1));
        assert_eq!(block_on(sender.drain(&mailer)).unwrap().sent, 1, "sent once the lease is over");
        assert_eq!(mailer.sent_ids().last().map(String::as_str), Some("held"));
    }

    #[test]
    fn a_number_written_late_is_still_sent_and_one_never_written_is_skipped() {
        let rig = TestRig::default();
        let sender = sender(&rig);
        let mailer = TestMailer::default();
        let late = block_on(reserve(&rig.store)).unwrap();
        let never = block_on(reserve(&rig.store)).unwrap();
        queue(&rig, mail("m3", "cy@example.com"));
        let d = block_on(sender.drain(&mailer)).unwrap();
        assert_eq!((d.sent, d.waiting), (1, 2), "m3 goes; the two numbers wait");
        assert_eq!(head(&rig), None, "a number just taken holds the head a moment");
        rig.clock.advance(Duration::from_millis(GAP_WAIT_MS));
        block_on(sender.drain(&mailer)).unwrap();
        assert_eq!(head(&rig), Some(4), "then it is set aside");
        // The slow writer writes its message after all.
        block_on(rig.store.set_many(&[
            queue_item(&rig.ports(), late, mail("late", "dan@example.com"), rig.clock.unix_ms()).unwrap(),
        ]))
        .unwrap();
        rig.clock.advance(Duration::from_millis(GAP_GRACE_MS));
        assert_eq!(block_on(sender.drain(&mailer)).unwrap().sent, 1);
        assert_eq!(mailer.sent_ids(), ["m3", "late"]);
        rig.clock.advance(Duration::from_millis(later::SETTLE_MS + later::SLOT_MS));
        assert_eq!(block_on(sender.drain(&mailer)).unwrap(), Drained::default());
        assert!(block_on(rig.store.get(&item_key(never.0))).unwrap().is_none());
        let slots = block_on(rig.store.scan_prefix("mail:later:0", 100)).unwrap();
        assert!(slots.is_empty(), "the never-written number was skipped: {slots:?}");
    }

    #[test]
    fn a_sender_whose_clock_is_behind_still_gets_its_messages_sent() {
        let rig = TestRig::default();
        let ahead = sender(&rig);
        let slow_clock = Arc::new(crate::testkit::ManualClock::at(rig.clock.unix_ms() - 10_000));
        let mut slow = rig.ports();
        slow.clock = slow_clock;
        let behind = Sender::new(&slow).retry_after(Duration::from_secs(5));
        let mailer = TestMailer::default();
        queue(&rig, mail("m1", "ada@down.example"));
        // The sender whose clock is right has read every slot up to its now.
        assert_eq!(block_on(ahead.drain(&mailer)).unwrap().sent, 1, "m1 went");
        queue(&rig, mail("m2", "bob@down.example"));
        // The one 10 s behind is refused and sets m2 aside 5 s on: a slot the other has read.
        mailer.refuse_domain("down.example");
        assert_eq!(block_on(behind.drain(&mailer)).unwrap().retried, 1);
        mailer.accept_domain("down.example");
        assert_eq!(block_on(ahead.drain(&mailer)).unwrap().sent, 1, "the slot was not retired yet");
        assert_eq!(mailer.sent_ids(), ["m1", "m2"]);
    }

    #[test]
    fn text_messages_go_through_the_gateway_and_wait_for_a_node_that_has_one() {
        use crate::ports::sms::Sms;
        use crate::testkit::TestSmsGateway;
        let rig = TestRig::default();
        let mailer = TestMailer::default();
        let sms = |id: &str| Sms { id: id.into(), to: "+31612345678".into(), text: "Seats!".into() };
        for (i, m) in [sms("s1"), sms("s2")].into_iter().enumerate() {
            let n = block_on(reserve(&rig.store)).unwrap();
            block_on(rig.store.set_many(&[queue_item(&rig.ports(), n, m, rig.clock.unix_ms()).unwrap()]))
                .unwrap();
            queue(&rig, mail(&format!("m{i}"), "ada@example.com"));
        }
        // A node without a gateway sends the mail and leaves the texts waiting.
        let d = block_on(sender(&rig).drain(&mailer)).unwrap();
        assert_eq!((d.sent, d.retried, d.waiting), (2, 1, 2), "one try at the missing gateway: {d:?}");
        let gateway = Arc::new(TestSmsGateway::default());
        let with_gateway = sender(&rig).sms_gateway(gateway.clone());
        // The gateway refuses for now: the other text waits with it, untried.
        gateway.fail_next([MailError::Transient("503".into())]);
        rig.clock.advance(Duration::from_secs(60));
        let d = block_on(with_gateway.drain(&mailer)).unwrap();
        assert_eq!((d.sent, d.retried, d.waiting), (0, 1, 2), "{d:?}");
        rig.clock.advance(Duration::from_secs(60));
        let d = block_on(with_gateway.drain(&mailer)).unwrap();
        assert_eq!(d.sent, 2, "{d:?}");
        let ids: Vec<String> = gateway.sent().into_iter().map(|s| s.id).collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&"s1".to_owned()) && ids.contains(&"s2".to_owned()));
        assert_eq!(mailer.sent_ids(), ["m0", "m1"], "mail never went to the gateway");
    }

    #[test]
    fn permanent_failures_give_up() {
        let rig = TestRig::default();
        let sender = sender(&rig);
        let mailer = TestMailer::default();
        queue(&rig, mail("m1", "ada@example.com"));
        queue(&rig, mail("m2", "bob@example.com"));
        // The server's answer repeats the address, as many do: it is kept without it.
        mailer.fail_next([MailError::Permanent("550 <ADA@example.com>: no such mailbox".into())]);
        let d = block_on(sender.drain(&mailer)).unwrap();
        assert_eq!((d.sent, d.failed, d.waiting), (1, 1, 0));
        assert_eq!(mailer.sent_ids(), ["m2"]);
        assert_eq!(head(&rig), Some(3));
        let item =
            Item::from_stored(&rig.ports(), 1, block_on(rig.store.get(&item_key(1))).unwrap()).unwrap();
        assert_eq!(
            item.unwrap().error.as_deref(),
            Some("permanent mail failure: 550 <<recipient>>: no such mailbox")
        );
        assert_eq!(without_recipient("to +491701234567 failed", "+491701234567"), "to <recipient> failed");
        assert_eq!(without_recipient("ünïcode Ada@x.y ü", "ada@x.y"), "ünïcode <recipient> ü");
        assert_eq!(without_recipient("nothing", ""), "nothing");
    }

    #[test]
    fn two_senders_never_send_one_message_twice() {
        let rig = TestRig::default();
        let (a, b) = (sender(&rig), sender(&rig));
        let mailer = Arc::new(TestMailer::default());
        for i in 0..5 {
            queue(&rig, mail(&format!("m{i}"), "ada@example.com"));
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
    fn backoff_doubles_to_an_hour_and_domains_are_read_from_the_envelope() {
        assert_eq!(backoff_ms(30_000, 1), 30_000);
        assert_eq!(backoff_ms(30_000, 2), 60_000);
        assert_eq!(backoff_ms(30_000, 8), 3_600_000);
        assert_eq!(backoff_ms(30_000, 30), 3_600_000);
        assert_eq!(backoff_ms(1_000, 3), 4_000);
        assert_eq!(domain("Ada@Example.COM"), "example.com");
        assert_eq!(domain("a@b@c.example"), "c.example");
        assert_eq!(domain("nobody"), "");
    }
}
