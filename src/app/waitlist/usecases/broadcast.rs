//! Messages to a whole list: staff write one ([`crate::core::waitlist::broadcast`]), and a pass
//! (native nodes run one every few seconds) queues it in the durable outbox once it is due, one
//! mail per recipient, each noted in the event's history as `message:{number}` with its fate.
//!
//! Sent once, across restarts and nodes: a node takes the message's lease, fixes its audience
//! (the line up to its last number then), and walks the line a page at a time. For each page it
//! first takes the page's outbox and history numbers and writes them into the message's record
//! (`replace_if`, so a node whose lease lapsed meanwhile stops there), then writes the page's
//! mails and history records in one `set_many`, then moves the record's cursor past the page. A
//! node that takes over after a crash finds the page in the record: if any of its history
//! records exists the page was written (a `set_many` is all or nothing, except across a Redis
//! Cluster's slots); if none does, it writes the page again under the same numbers.
//!
//! Cancelling is a claim of a marker (so every store, the edge's included, can write it): a
//! scheduled message is never sent, and one being sent stops before its next page.

use super::super::compose;
use super::super::history::MailNumbers;
use super::super::Waitlist;
use super::{counter_value, decode, encode};
use crate::app::outbox::{self, Message};
use crate::core::blacklist::audit::AuditAction;
use crate::core::waitlist::broadcast::{Broadcast, Draft, Page, Progress, Purpose, When, MAX_PER_EVENT};
use crate::core::waitlist::{keys, Lang, Signup, WaitlistSettings};
use crate::ports::store::{Store, StoreError};

/// Line numbers read at once while sending (and mails written in one `set_many`).
const PAGE: u64 = 200;
/// Pages one node sends of a message before it lets go for the next pass.
const PAGES_PER_PASS: u32 = 50;
/// How long a node holds a message while it sends it.
const LEASE: std::time::Duration = std::time::Duration::from_secs(120);

/// When `message` goes, as the audit log and the staff page say it: `now`, `at …`, `… before
/// the start`.
pub fn when_text(message: &Broadcast) -> String {
    match message.when() {
        When::Now => "now".to_owned(),
        When::At(at) => format!("at {}", compose::deadline_text(at)),
        When::BeforeStart(d) => {
            format!("{} before the start", humantime::format_duration(std::time::Duration::from_secs(d)))
        }
    }
}

/// Why a message to the list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BroadcastProblem {
    /// The draft is not a message that can be sent (the reason, naming the field).
    #[error("{0}")]
    Invalid(String),
    /// The event has as many messages to the list as it may.
    #[error("this event has {MAX_PER_EVENT} messages to the list, the most it may have")]
    TooMany,
    /// The event has no waitlist (its settings were never written).
    #[error("this event has no waitlist")]
    NoWaitlist,
    /// No such message.
    #[error("no message {0} to the list at this event")]
    NotFound(u64),
    /// Sent or missed already: too late to cancel.
    #[error("message {0} is {1}: too late to cancel")]
    Done(u64, &'static str),
    /// A preview's signup does not exist (or its data is erased).
    #[error("no signup `{0}` with data at this event")]
    NoSignup(String),
    /// The preview's language is not one the event offers.
    #[error("the event does not offer {0}")]
    Language(&'static str),
    /// A test's address is not one a mail can go to.
    #[error("to: not an e-mail address")]
    Address,
    /// The preview could not be composed.
    #[error("{0}")]
    Compose(String),
}

/// A message to the list with where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The message.
    pub message: Broadcast,
    /// Staff cancelled it.
    pub cancelled: bool,
    /// When it is (or was) due, with the event's start as it is now.
    pub due: Option<u64>,
}

impl Listed {
    /// `scheduled`, `waiting-for-start` (relative to a start not set), `sending`, `sent`,
    /// `missed` or `cancelled`.
    pub fn status(&self) -> &'static str {
        match (self.message.progress, self.cancelled) {
            (Progress::Sent, _) => "sent",
            (Progress::Missed, _) => "missed",
            (_, true) => "cancelled",
            (Progress::Sending, false) => "sending",
            (Progress::Scheduled, false) if self.due.is_none() => "waiting-for-start",
            (Progress::Scheduled, false) => "scheduled",
        }
    }
}

/// A draft as one recipient would receive it, and how many it would reach now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct BroadcastPreview {
    /// The language shown.
    pub lang: Lang,
    /// The subject.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// Signups it would reach if it went now.
    pub recipients: u64,
}

/// What one sending pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BroadcastsSent {
    /// Messages to the list finished in this pass (sent, or missed).
    pub finished: u64,
    /// Mails queued.
    pub mails: u64,
}

/// Where one message stands after a node looked at it.
enum Looked {
    /// Done for good (sent, missed, cancelled, or no such message).
    Done,
    /// Still to do (not due, held by another node, or more pages left).
    Open,
}

impl<S: Store + Clone> Waitlist<S> {
    /// Stores the message `draft` asks for at `event`, written by `by`: answers it.
    pub async fn schedule_broadcast(
        &self,
        event: &str,
        draft: &Draft,
        by: &str,
    ) -> Result<Result<Listed, BroadcastProblem>, StoreError> {
        let Some(settings) = self.settings(event).await? else {
            return Ok(Err(BroadcastProblem::NoWaitlist));
        };
        // Checked before a number is taken, so a refused draft leaves no gap.
        let mut message = match draft.check(&settings, self.now(), by) {
            Ok(m) => m,
            Err(reason) => return Ok(Err(BroadcastProblem::Invalid(reason))),
        };
        let store = &self.ports.store;
        let number = store.increment(&keys::broadcast_counter(event), 1, None).await?.max(1) as u64;
        if number > MAX_PER_EVENT {
            return Ok(Err(BroadcastProblem::TooMany));
        }
        message.number = number;
        store.set(&keys::broadcast(event, number), &encode(&message)?, None).await?;
        store.add_members(&[(keys::BROADCAST_EVENTS.to_owned(), keys::event_member(event))]).await?;
        let detail = format!(
            "message {number} to the list: {}, {}, {}",
            message.audience.as_str(),
            message.purpose.as_str(),
            when_text(&message)
        );
        self.audit_event(event, AuditAction::ScheduleMessage, by.to_owned(), detail).await;
        let due = message.due_at(settings.starts_at());
        Ok(Ok(Listed { message, cancelled: false, due }))
    }

    /// Every message to the list of `event`, in the order they were written.
    pub async fn broadcasts(&self, event: &str) -> Result<Vec<Listed>, StoreError> {
        let store = &self.ports.store;
        let top = counter_value(&store.get(&keys::broadcast_counter(event)).await?).min(MAX_PER_EVENT);
        let starts = self.settings(event).await?.and_then(|s| s.starts_at());
        let mut wanted = Vec::with_capacity(2 * top as usize);
        for n in 1..=top {
            wanted.push(keys::broadcast(event, n));
            wanted.push(keys::broadcast_cancelled(event, n));
        }
        let got = store.get_many(&wanted).await?;
        Ok(got
            .chunks(2)
            .filter_map(|pair| {
                let message: Broadcast = decode(pair[0].clone())?;
                let due = message.due_at(starts);
                Some(Listed { message, cancelled: pair[1].is_some(), due })
            })
            .collect())
    }

    /// Message to the list `n` of `event`.
    pub async fn broadcast(&self, event: &str, n: u64) -> Result<Option<Listed>, StoreError> {
        if n == 0 || n > MAX_PER_EVENT {
            return Ok(None);
        }
        let wanted = [keys::broadcast(event, n), keys::broadcast_cancelled(event, n)];
        let got = self.ports.store.get_many(&wanted).await?;
        let Some(message) = decode::<Broadcast>(got[0].clone()) else { return Ok(None) };
        let starts = self.settings(event).await?.and_then(|s| s.starts_at());
        let due = message.due_at(starts);
        Ok(Some(Listed { message, cancelled: got[1].is_some(), due }))
    }

    /// Cancels message to the list `n` of `event`: never sent if it was waiting, stopped before
    /// its next page if it was being sent. Cancelling twice answers it as cancelled.
    pub async fn cancel_broadcast(
        &self,
        event: &str,
        n: u64,
        by: &str,
    ) -> Result<Result<Listed, BroadcastProblem>, StoreError> {
        let Some(mut listed) = self.broadcast(event, n).await? else {
            return Ok(Err(BroadcastProblem::NotFound(n)));
        };
        if listed.message.is_done() {
            return Ok(Err(BroadcastProblem::Done(n, listed.status())));
        }
        if self.ports.store.claim(&keys::broadcast_cancelled(event, n), None).await? {
            let detail = format!("message {n} to the list cancelled ({})", listed.status());
            self.audit_event(event, AuditAction::CancelMessage, by.to_owned(), detail).await;
        }
        listed.cancelled = true;
        Ok(Ok(listed))
    }

    /// `draft` as a signup in `lang` would receive it (signup `id`'s data, or a sample's), and
    /// how many signups it would reach now.
    pub async fn preview_broadcast(
        &self,
        event: &str,
        draft: &Draft,
        lang: Lang,
        id: Option<&str>,
    ) -> Result<Result<BroadcastPreview, BroadcastProblem>, StoreError> {
        let settings = self.settings(event).await?.unwrap_or_else(|| WaitlistSettings::new(event));
        if !settings.languages.contains(&lang) {
            return Ok(Err(BroadcastProblem::Language(lang.code())));
        }
        let message = match draft.check(&settings, self.now(), "preview") {
            Ok(m) => m,
            Err(reason) => return Ok(Err(BroadcastProblem::Invalid(reason))),
        };
        let signup = match self.preview_signup(event, id, lang).await? {
            Ok(s) => s,
            Err(_) => return Ok(Err(BroadcastProblem::NoSignup(id.unwrap_or_default().to_owned()))),
        };
        let parts = match compose::broadcast_parts(self, &signup, &message, &settings) {
            Ok(p) => p,
            Err(e) => return Ok(Err(BroadcastProblem::Compose(e.to_string()))),
        };
        let (text, html) = match parts.render() {
            Ok(rendered) => rendered,
            Err(e) => return Ok(Err(BroadcastProblem::Compose(e.to_string()))),
        };
        let recipients = self.count_recipients(event, &message).await?;
        Ok(Ok(BroadcastPreview { lang, subject: parts.subject, text, html, recipients }))
    }

    /// Sends `draft` in `lang`, filled from a sample signup, to `to` as a test for `by`: queued
    /// in the outbox, noted in the history as `test:message`, and in the audit log. Answers its
    /// number in the history.
    pub async fn test_send_broadcast(
        &self,
        event: &str,
        draft: &Draft,
        lang: Lang,
        to: &str,
        by: &str,
    ) -> Result<Result<u64, BroadcastProblem>, StoreError> {
        if !super::preview::is_test_address(to) {
            return Ok(Err(BroadcastProblem::Address));
        }
        let settings = self.settings(event).await?.unwrap_or_else(|| WaitlistSettings::new(event));
        if !settings.languages.contains(&lang) {
            return Ok(Err(BroadcastProblem::Language(lang.code())));
        }
        let message = match draft.check(&settings, self.now(), "test") {
            Ok(m) => m,
            Err(reason) => return Ok(Err(BroadcastProblem::Invalid(reason))),
        };
        let mut signup = match self.preview_signup(event, None, lang).await? {
            Ok(s) => s,
            Err(p) => return Ok(Err(BroadcastProblem::Compose(p.to_string()))),
        };
        signup.email = to.to_owned();
        let parts = match compose::broadcast_parts(self, &signup, &message, &settings) {
            Ok(p) => p,
            Err(e) => return Ok(Err(BroadcastProblem::Compose(e.to_string()))),
        };
        Ok(self
            .queue_test(event, &signup, parts, "test:message", by)
            .await?
            .map_err(BroadcastProblem::Compose))
    }

    /// How many signups of `event` `message` reaches now.
    async fn count_recipients(&self, event: &str, message: &Broadcast) -> Result<u64, StoreError> {
        let top = counter_value(&self.ports.store.get(&keys::line_counter(event)).await?);
        let mut count = 0;
        let mut from = 1;
        while from <= top {
            let to = top.min(from + PAGE - 1);
            count += self.reached_in(event, from, to, message).await?.len() as u64;
            from = to + 1;
        }
        Ok(count)
    }

    /// The signups with line numbers `from..=to` that `message` reaches, in line order.
    async fn reached_in(
        &self,
        event: &str,
        from: u64,
        to: u64,
        message: &Broadcast,
    ) -> Result<Vec<Signup>, StoreError> {
        let store = &self.ports.store;
        let entry_keys: Vec<String> = (from..=to).map(|n| keys::line_entry(event, n)).collect();
        let signup_keys: Vec<String> = store
            .get_many(&entry_keys)
            .await?
            .into_iter()
            .flatten()
            .filter_map(|v| String::from_utf8(v).ok())
            .map(|id| keys::signup(event, &id))
            .collect();
        let mut signups = Vec::with_capacity(signup_keys.len());
        for (raw, key) in store.get_many(&signup_keys).await?.into_iter().zip(&signup_keys) {
            signups.extend(self.ports.open::<Signup>(key, raw)?);
        }
        if message.purpose == Purpose::News {
            self.apply_news_choices(&mut signups).await?;
        }
        signups.retain(|s| message.reaches(s));
        Ok(signups)
    }

    /// One sending pass: every message to the list that is due, at every event, queued (up to
    /// [`PAGES_PER_PASS`] pages of each; the next pass goes on).
    pub async fn send_broadcasts(&self) -> Result<BroadcastsSent, StoreError> {
        let store = &self.ports.store;
        let listed = store.get(keys::BROADCAST_EVENTS).await?.unwrap_or_default();
        let events: Vec<String> = keys::event_members(&listed).map(str::to_owned).collect();
        let mut done = BroadcastsSent::default();
        for event in events {
            let counters = [keys::broadcasts_from(&event), keys::broadcast_counter(&event)];
            let got = store.get_many(&counters).await?;
            let (from, top) = (counter_value(&got[0]).max(1), counter_value(&got[1]).min(MAX_PER_EVENT));
            if from > top {
                continue;
            }
            let Some(settings) = self.settings(&event).await? else { continue };
            let mut first_open = None;
            for n in from..=top {
                let (looked, mails, finished) = self.look_at(&event, n, &settings).await?;
                done.mails += mails;
                done.finished += u64::from(finished);
                if matches!(looked, Looked::Open) && first_open.is_none() {
                    first_open = Some(n);
                }
            }
            let next = first_open.unwrap_or(top + 1);
            if next > from {
                store.set(&keys::broadcasts_from(&event), next.to_string().as_bytes(), None).await?;
            }
        }
        Ok(done)
    }

    /// Looks at message `n` of `event`, and sends it if it is due and no other node does:
    /// answers where it stands, the mails queued and whether it finished now.
    async fn look_at(
        &self,
        event: &str,
        n: u64,
        settings: &WaitlistSettings,
    ) -> Result<(Looked, u64, bool), StoreError> {
        let store = &self.ports.store;
        let wanted = [keys::broadcast(event, n), keys::broadcast_cancelled(event, n)];
        let got = store.get_many(&wanted).await?;
        // A number without a record yet is being written (or its writer failed): never passed
        // over for good, or a message written just after this read would never go.
        let Some(message) = decode::<Broadcast>(got[0].clone()) else { return Ok((Looked::Open, 0, false)) };
        if message.is_done() || got[1].is_some() {
            return Ok((Looked::Done, 0, false));
        }
        let due = message.due_at(settings.starts_at()).is_some_and(|at| at <= self.now());
        if message.progress == Progress::Scheduled && !due {
            return Ok((Looked::Open, 0, false));
        }
        let lease = keys::broadcast_lease(event, n);
        if !store.claim(&lease, Some(LEASE)).await? {
            return Ok((Looked::Open, 0, false));
        }
        let worked = self.send_broadcast(event, n, settings).await;
        if let Err(e) = store.delete(&lease).await {
            tracing::warn!(event, message = n, error = %e, "the lease of a message to the list could not be freed; it lapses");
        }
        let (mails, finished) = worked?;
        let looked = if finished { Looked::Done } else { Looked::Open };
        if finished {
            tracing::info!(event, message = n, mails, "message to the list done");
        }
        Ok((looked, mails, finished))
    }

    /// Sends message `n` of `event` under its lease, page by page: answers the mails queued and
    /// whether it is done (sent, missed or cancelled). Each step reads the record again, the
    /// first under the lease just taken (what was read before it may be stale), and writes it
    /// with `replace_if`.
    async fn send_broadcast(
        &self,
        event: &str,
        n: u64,
        settings: &WaitlistSettings,
    ) -> Result<(u64, bool), StoreError> {
        let store = &self.ports.store;
        let key = keys::broadcast(event, n);
        let mut mails = 0;
        for _ in 0..PAGES_PER_PASS * 3 {
            let wanted = [key.clone(), keys::broadcast_cancelled(event, n)];
            let got = store.get_many(&wanted).await?;
            let Some(raw) = got[0].clone() else { return Ok((mails, true)) };
            let Some(mut message) = decode::<Broadcast>(Some(raw.clone())) else { return Ok((mails, true)) };
            if message.is_done() || got[1].is_some() {
                return Ok((mails, true));
            }
            let now = self.now();
            let starts = settings.starts_at();
            match (message.progress, message.page) {
                (Progress::Scheduled, _) => {
                    if starts.is_some_and(|s| now > s) {
                        message.progress = Progress::Missed;
                        message.finished = Some(now);
                        tracing::warn!(
                            event,
                            message = n,
                            "a message to the list came due after the event's start: not sent"
                        );
                    } else {
                        let top = store.get(&keys::line_counter(event)).await?;
                        message.progress = Progress::Sending;
                        message.until_seq = Some(counter_value(&top));
                    }
                }
                (Progress::Sending, Some(page)) => {
                    let written = self.page_written(event, &message, page, settings).await?;
                    mails += written;
                    message.cursor = page.to;
                    message.page = None;
                    message.queued += written;
                    message.skipped += page.count - written;
                }
                (Progress::Sending, None) => {
                    let until = message.until_seq.unwrap_or(0);
                    if message.cursor >= until {
                        message.progress = Progress::Sent;
                        message.finished = Some(now);
                    } else {
                        let to = until.min(message.cursor + PAGE);
                        let count =
                            self.reached_in(event, message.cursor + 1, to, &message).await?.len() as u64;
                        if count == 0 {
                            message.cursor = to;
                        } else {
                            let steps =
                                [outbox::reserve_step(count), (keys::message_counter(event), count as i64)];
                            let taken = store.increment_many(&steps).await?;
                            let outbox = outbox::reserved_from(taken[0], count).0;
                            let history = (taken[1].max(count as i64) as u64) + 1 - count;
                            message.page = Some(Page { to, outbox, history, count });
                        }
                    }
                }
                (Progress::Sent | Progress::Missed, _) => return Ok((mails, true)),
            }
            if !store.replace_if(&key, &raw, &encode(&message)?).await? {
                return Ok((mails, false)); // another node's change: it goes on
            }
            if message.is_done() {
                return Ok((mails, true));
            }
        }
        Ok((mails, false))
    }

    /// The mails of `page` of `message`: the number found written (any of its history records
    /// stored means the page's one write happened), else written now. Answers how many are
    /// in the outbox.
    async fn page_written(
        &self,
        event: &str,
        message: &Broadcast,
        page: Page,
        settings: &WaitlistSettings,
    ) -> Result<u64, StoreError> {
        let store = &self.ports.store;
        let history: Vec<String> =
            (page.history..page.history + page.count).map(|h| keys::message(event, h)).collect();
        let found = store.exists_many(&history).await?.into_iter().filter(|e| *e).count() as u64;
        if found > 0 {
            return Ok(found);
        }
        let recipients = self.reached_in(event, message.cursor + 1, page.to, message).await?;
        let template = message.template();
        let mut writes = Vec::with_capacity(2 * page.count as usize);
        let mut queued = 0;
        for (i, signup) in recipients.iter().take(page.count as usize).enumerate() {
            let i = i as u64;
            let numbers =
                MailNumbers { outbox: outbox::Reserved(page.outbox + i), history: page.history + i };
            let mail = compose::broadcast_parts(self, signup, message, settings)
                .and_then(|parts| compose::build(self, signup, parts, numbers.outbox));
            match mail {
                Ok(mail) => {
                    writes.extend(self.queue_message(
                        numbers,
                        Message::Mail(mail),
                        &template,
                        event,
                        Some(signup),
                    )?);
                    queued += 1;
                }
                Err(e) => {
                    tracing::warn!(event, message = message.number, error = %e, "a recipient's mail could not be composed; skipped")
                }
            }
        }
        store.set_many(&writes).await?;
        for _ in 0..queued {
            self.ports.events.mail_queued();
        }
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::app::waitlist::history::MessageRecord;
    use crate::app::waitlist::testing::{site, Site};
    use crate::core::waitlist::broadcast::{Audience, Text};
    use crate::testkit::{block_on, TestMailer};

    fn draft(purpose: Purpose) -> Draft {
        let mut texts = BTreeMap::new();
        texts.insert(
            Lang::En,
            Text { subject: "The waitlist closes".into(), body: "It closes a day before the show.".into() },
        );
        Draft { audience: Some(Audience::Waiting), purpose: Some(purpose), texts, ..Draft::default() }
    }

    /// The history's `message:{n}` records: (recipient, signup).
    fn sent(site: &Site, n: u64) -> Vec<(String, String)> {
        let ports = site.rig.ports();
        let template = format!("message:{n}");
        let mut found: Vec<(String, String)> = site
            .rig
            .store
            .keys()
            .iter()
            .filter(|k| k.starts_with("wl:{gala}:m:") && !k.ends_with(":fate"))
            .filter_map(|k| ports.open::<MessageRecord>(k, block_on(site.rig.store.get(k)).unwrap()).unwrap())
            .filter(|r| r.template == template)
            .map(|r| (r.to, r.signup))
            .collect();
        found.sort();
        found
    }

    fn pass(site: &Site) -> BroadcastsSent {
        block_on(site.waitlist.send_broadcasts()).unwrap()
    }

    #[test]
    fn a_message_now_reaches_each_waiting_signup_once_and_consent_and_language_limit_news() {
        let site = site();
        let ada = site.in_line("ada@example.com", None, 2);
        let bob = site.in_line("bob@example.com", None, 1);
        site.join("pending@example.com", None);
        let gone = site.in_line("gone@example.com", None, 1);
        block_on(site.waitlist.cancel(gone)).unwrap();
        let mails = site.mails();

        let service =
            block_on(site.waitlist.schedule_broadcast("gala", &draft(Purpose::Service), "test")).unwrap();
        assert_eq!(service.unwrap().status(), "scheduled");
        let done = pass(&site);
        assert_eq!((done.finished, done.mails), (1, 2));
        assert_eq!(
            sent(&site, 1),
            [("ada@example.com".into(), ada.id.clone()), ("bob@example.com".into(), bob.id.clone())]
        );
        assert_eq!(site.mails(), mails + 2);
        let mail = site.outbox().pop().unwrap();
        let Message::Mail(mail) = mail else { panic!("a mail") };
        let body = mail.message.replace("=\r\n", "");
        assert!(body.contains("Subject: The waitlist closes"), "{body}");
        assert!(body.contains("It closes a day before the show.") && body.contains("/waitlist/manage?t="));
        assert_eq!(pass(&site), BroadcastsSent::default(), "sent once");
        let listed = block_on(site.waitlist.broadcast("gala", 1)).unwrap().unwrap();
        assert_eq!((listed.status(), listed.message.queued), ("sent", 2));

        // News: only to those who ticked "keep me informed", and only in the languages asked.
        let mut record = site.record(&bob);
        record.informed = true;
        block_on(site.rig.store.set(
            &keys::signup("gala", &bob.id),
            &site.rig.ports().seal(&keys::signup("gala", &bob.id), &record).unwrap(),
            None,
        ))
        .unwrap();
        block_on(site.waitlist.schedule_broadcast("gala", &draft(Purpose::News), "test")).unwrap().unwrap();
        let german = Draft { languages: vec![Lang::De], ..draft(Purpose::Service) };
        block_on(site.waitlist.schedule_broadcast("gala", &german, "test")).unwrap().unwrap();
        assert_eq!(pass(&site).mails, 1);
        assert_eq!(sent(&site, 2), [("bob@example.com".into(), bob.id.clone())]);
        assert!(sent(&site, 3).is_empty(), "nobody signed up in German");
        let preview =
            block_on(site.waitlist.preview_broadcast("gala", &draft(Purpose::News), Lang::En, None))
                .unwrap()
                .unwrap();
        assert_eq!(preview.recipients, 1);
        assert!(
            preview.text.contains("Alex Sample") && preview.text.contains("kept informed"),
            "{}",
            preview.text
        );
    }

    #[test]
    fn a_message_before_the_start_waits_for_its_time_follows_the_start_and_never_goes_after_it() {
        let site = site();
        site.in_line("ada@example.com", None, 2);
        let starts = |site: &Site, at: u64| {
            site.update(|s| {
                s.starts = Some(
                    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_secs(at))
                        .to_string(),
                )
            })
        };
        let now = site.waitlist.now();
        starts(&site, now + 3 * 86_400);
        let day_before = Draft { before_start: Some("24h".into()), ..draft(Purpose::Service) };
        block_on(site.waitlist.schedule_broadcast("gala", &day_before, "test")).unwrap().unwrap();
        site.rig.clock.advance(Duration::from_secs(86_400));
        assert_eq!(pass(&site).mails, 0, "two days before: not yet");
        starts(&site, now + 4 * 86_400);
        site.rig.clock.advance(Duration::from_secs(86_400 + 60));
        assert_eq!(pass(&site).mails, 0, "the show moved a day later, and the message with it");
        site.rig.clock.advance(Duration::from_secs(86_400));
        assert_eq!(pass(&site).mails, 1);

        let at = humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + Duration::from_secs(now + 4 * 86_400 - 600),
        );
        let late = Draft { at: Some(at.to_string()), ..draft(Purpose::Service) };
        block_on(site.waitlist.schedule_broadcast("gala", &late, "test")).unwrap().unwrap();
        site.rig.clock.advance(Duration::from_secs(86_400)); // every node was down past the start
        assert_eq!(pass(&site), BroadcastsSent { finished: 1, mails: 0 });
        assert_eq!(block_on(site.waitlist.broadcast("gala", 2)).unwrap().unwrap().status(), "missed");
        let refused =
            block_on(site.waitlist.schedule_broadcast("gala", &draft(Purpose::Service), "test")).unwrap();
        assert!(matches!(refused, Err(BroadcastProblem::Invalid(r)) if r.contains("started")));
        assert_eq!(
            block_on(site.waitlist.broadcasts("gala")).unwrap().len(),
            2,
            "a refusal leaves no record"
        );
    }

    #[test]
    fn a_cancelled_message_is_never_sent_and_a_sent_one_cannot_be_cancelled() {
        let site = site();
        site.in_line("ada@example.com", None, 2);
        let at = humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + Duration::from_secs(site.waitlist.now() + 3600),
        );
        let later = Draft { at: Some(at.to_string()), ..draft(Purpose::Service) };
        block_on(site.waitlist.schedule_broadcast("gala", &later, "test")).unwrap().unwrap();
        let cancelled = block_on(site.waitlist.cancel_broadcast("gala", 1, "test")).unwrap().unwrap();
        assert_eq!(cancelled.status(), "cancelled");
        site.rig.clock.advance(Duration::from_secs(7200));
        assert_eq!(pass(&site).mails, 0);
        block_on(site.waitlist.schedule_broadcast("gala", &draft(Purpose::Service), "test"))
            .unwrap()
            .unwrap();
        assert_eq!(pass(&site).mails, 1);
        assert_eq!(
            block_on(site.waitlist.cancel_broadcast("gala", 2, "test")).unwrap(),
            Err(BroadcastProblem::Done(2, "sent"))
        );
        assert_eq!(
            block_on(site.waitlist.cancel_broadcast("gala", 9, "test")).unwrap(),
            Err(BroadcastProblem::NotFound(9))
        );
    }

    #[test]
    fn a_crash_at_any_point_of_sending_loses_no_recipient_and_sends_none_twice() {
        for calls in 0..60 {
            let site = site();
            let ids: Vec<String> =
                (0..3).map(|i| site.in_line(&format!("c{i}@example.com"), None, 1).id).collect();
            block_on(site.waitlist.schedule_broadcast("gala", &draft(Purpose::Service), "test"))
                .unwrap()
                .unwrap();
            site.rig.store.down_after(calls);
            let crashed = block_on(site.waitlist.send_broadcasts());
            site.rig.store.set_down(false);
            site.rig.store.down_after(usize::MAX);
            // What was queued before the crash goes out; then a lease left behind lapses and
            // the next pass finishes the message.
            let (mailer, sender) =
                (TestMailer::default(), crate::app::outbox::Sender::new(&site.rig.ports()));
            block_on(sender.drain(&mailer)).unwrap();
            site.rig.clock.advance(LEASE + Duration::from_secs(1));
            pass(&site);
            block_on(sender.drain(&mailer)).unwrap();
            let broadcasts = mailer.sent_ids().len() - 6; // each signup's two mails before
            assert_eq!(broadcasts, 3, "each recipient got it once, down after {calls} calls");
            let mut got: Vec<String> = sent(&site, 1).into_iter().map(|(_, signup)| signup).collect();
            got.sort();
            let mut want = ids.clone();
            want.sort();
            assert_eq!(got, want, "down after {calls} calls ({crashed:?})");
            let listed = block_on(site.waitlist.broadcast("gala", 1)).unwrap().unwrap();
            assert_eq!((listed.status(), listed.message.queued), ("sent", 3), "down after {calls} calls");
            let mails = site
                .outbox()
                .iter()
                .filter(
                    |m| matches!(m, Message::Mail(m) if m.message.contains("Subject: The waitlist closes")),
                )
                .count();
            assert_eq!(mails, 3, "one mail each in the outbox, down after {calls} calls");
        }
    }

    #[test]
    fn the_recipients_keep_their_line_a_page_at_a_time() {
        let site = site();
        site.update(|s| s.max_tickets = 50);
        for i in 0..(PAGE + 5) {
            site.in_line(&format!("c{i}@example.com"), None, 1);
        }
        block_on(site.waitlist.schedule_broadcast("gala", &draft(Purpose::Service), "test"))
            .unwrap()
            .unwrap();
        assert_eq!(pass(&site).mails, PAGE + 5);
        let listed = block_on(site.waitlist.broadcast("gala", 1)).unwrap().unwrap();
        assert_eq!(
            (listed.message.cursor, listed.message.queued, listed.message.page),
            (PAGE + 5, PAGE + 5, None)
        );
    }

    #[test]
    fn a_number_taken_before_its_record_is_written_is_not_passed_over() {
        let site = site();
        site.in_line("ada@example.com", None, 2);
        // A slow writer took number 1 and has not written it yet; number 2 is written and sent.
        block_on(site.rig.store.increment(&keys::broadcast_counter("gala"), 1, None)).unwrap();
        block_on(site.waitlist.schedule_broadcast("gala", &draft(Purpose::Service), "test"))
            .unwrap()
            .unwrap();
        assert_eq!(pass(&site).mails, 1);
        let settings = block_on(site.waitlist.settings("gala")).unwrap().unwrap();
        let slow = Broadcast {
            number: 1,
            ..draft(Purpose::Service).check(&settings, site.waitlist.now(), "slow").unwrap()
        };
        block_on(site.rig.store.set(&keys::broadcast("gala", 1), &encode(&slow).unwrap(), None)).unwrap();
        assert_eq!(pass(&site).mails, 1, "number 1 goes once written");
        assert_eq!(sent(&site, 1).len(), 1);
    }
}
