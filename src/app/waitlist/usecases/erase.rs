//! A customer's data, on request: everything Doorman holds about a signup, as a customer may
//! download it (never staff's notes), and erasing it (by the customer through the manage link or
//! "my signups", or by staff), where the event's organizer switches self-service on.
//!
//! Erasing gives the place up first (a cancellation, or a decline of an open offer, so the
//! places behind move up and the seats pass on), then erases as the retention pass does: staff's
//! note, the recipients in the message history, then the signup itself with
//! [`Store::replace_if`] (two erasures at once: one erases, the other finds it erased). The
//! customer is told by a mail that is kept in the outbox only (not in the history, which would
//! name the address again), and the audit log records the erasure by line number.

use std::collections::HashSet;

use serde::Serialize;

use super::super::compose::{self, MailKind};
use super::super::history::MessageRecord;
use super::super::{Unavailable, Waitlist};
use super::offers::Ending;
use crate::app::admin::organizers::organizer_record;
use crate::app::blacklist::Blacklist;
use crate::app::outbox::{self, Settled, State};
use crate::core::blacklist::audit::AuditAction;
use crate::core::blacklist::event_key;
use crate::core::waitlist::{keys, retention, Signup, Status};
use crate::ports::store::{Store, StoreError};

/// Who asked for an erasure (for the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eraser {
    /// The customer, through a link of theirs or "my signups".
    Customer,
    /// Staff or an admin, by their audit label (`box-office:harbour`, `operator`).
    Staff(String),
}

/// What an erasure came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EraseOutcome {
    /// Erased now; the signup as it was (for the answer's wording).
    Erased {
        /// The signup before its data was erased.
        signup: Box<Signup>,
    },
    /// Erased before (again, or by a second request at the same moment).
    Already,
    /// No such signup.
    NotFound,
}

/// One signup in a customer's download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct SignupData {
    /// The event.
    pub event: String,
    /// The event's title.
    pub title: String,
    /// Where it stands (`pending`, `confirmed`, `offered`, `booked`, …).
    pub status: &'static str,
    /// Tickets asked for.
    pub tickets: u32,
    /// The address given.
    pub email: String,
    /// The name given.
    pub name: String,
    /// The phone number given.
    pub phone: Option<String>,
    /// The language of pages and mails.
    pub language: &'static str,
    /// Signed up by box-office staff.
    pub box_office: bool,
    /// Place in line, while waiting.
    pub place: Option<u64>,
    /// When it was made, confirmed, cancelled (RFC 3339).
    pub created: String,
    /// When it was confirmed.
    pub confirmed: Option<String>,
    /// When it was cancelled.
    pub cancelled: Option<String>,
    /// Wants news beyond what the signup needs: "keep me informed" ticked at signup, or chosen
    /// later from the manage link (a later "stop the news" wins).
    pub informed: bool,
    /// The messages sent about it: which, on which channel, to whom, when, and their fate.
    pub messages: Vec<MessageData>,
}

/// One message in a customer's download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct MessageData {
    /// Which message (`confirm`, `confirmed`, `offer`, …).
    pub template: String,
    /// `email` or `sms`.
    pub channel: crate::app::waitlist::history::Channel,
    /// The address or number it went to.
    pub to: String,
    /// When it was queued (RFC 3339).
    pub queued: String,
    /// `queued`, `sent`, `delivered` or `failed`.
    pub status: &'static str,
}

fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .to_string()
}

impl<S: Store + Clone> Waitlist<S> {
    /// Whether the organizer of `event` lets customers download and erase their data.
    pub async fn self_service(&self, event: &str) -> Result<bool, StoreError> {
        Ok(self.organizer_of(event).await?.is_some_and(|o| o.self_service))
    }

    /// The record of `event`'s organizer, when the event is mapped to one.
    pub(in crate::app::waitlist) async fn organizer_of(
        &self,
        event: &str,
    ) -> Result<Option<crate::app::admin::OrganizerRecord>, StoreError> {
        let Some(org) = self.ports.store.get(&event_key(event)).await? else { return Ok(None) };
        organizer_record(&self.ports.store, &String::from_utf8_lossy(&org)).await
    }

    /// What Doorman holds about `signup` (staff's notes left out): the record and the messages
    /// about it. `None` once its data is erased.
    pub async fn signup_data(&self, signup: &Signup) -> Result<Option<SignupData>, StoreError> {
        if signup.anonymised.is_some() {
            return Ok(None);
        }
        let event = &signup.event;
        let title = self.settings(event).await?.map_or_else(|| event.clone(), |s| s.title);
        let place = match (signup.status, signup.seq) {
            (Status::Confirmed, Some(seq)) => Some(self.place(event, seq).await?),
            _ => None,
        };
        let messages = self.messages_about(event, &signup.id).await?;
        let informed = self.wants_news(signup).await?;
        Ok(Some(SignupData {
            event: event.clone(),
            title,
            status: signup.status.as_str(),
            tickets: signup.tickets,
            email: signup.email.clone(),
            name: signup.name.clone(),
            phone: signup.phone.clone(),
            language: signup.lang.code(),
            box_office: signup.box_office,
            place,
            created: rfc3339(signup.created),
            confirmed: signup.confirmed.map(rfc3339),
            cancelled: signup.cancelled.map(rfc3339),
            informed,
            messages,
        }))
    }

    /// The messages of `event`'s history about signup `id`, with their fate.
    async fn messages_about(&self, event: &str, id: &str) -> Result<Vec<MessageData>, StoreError> {
        let store = &self.ports.store;
        let top = super::counter_value(&store.get(&keys::message_counter(event)).await?);
        let mut found = Vec::new();
        let mut from = 1;
        while from <= top {
            let to = top.min(from + 99);
            let mut wanted = Vec::new();
            for n in from..=to {
                wanted.push(keys::message(event, n));
                wanted.push(keys::message_fate(event, n));
            }
            let got = store.get_many(&wanted).await?;
            for (pair, names) in got.chunks(2).zip(wanted.chunks(2)) {
                let Some(record) = self.ports.open::<MessageRecord>(&names[0], pair[0].clone())? else {
                    continue;
                };
                if record.signup != id || record.to.is_empty() {
                    continue;
                }
                let fate = pair[1].as_deref().and_then(|v| serde_json::from_slice::<Settled>(v).ok());
                let status = match fate.map(|f| (f.state, f.delivered)) {
                    Some((State::Sent, true)) => "delivered",
                    Some((State::Sent, false)) => "sent",
                    Some((State::Failed, _)) => "failed",
                    _ => "queued",
                };
                found.push(MessageData {
                    template: record.template,
                    channel: record.channel,
                    to: record.to,
                    queued: rfc3339(record.queued),
                    status,
                });
            }
            from = to + 1;
        }
        Ok(found)
    }

    /// Erases signup `id` of `event` for `by`: its place given up, its data erased, the
    /// customer told, the audit log written.
    pub async fn erase(
        &self,
        event: &str,
        id: &str,
        by: Eraser,
        blacklist: Option<&Blacklist<S>>,
    ) -> Result<EraseOutcome, Unavailable> {
        let Some(before) = self.signup_record(event, id).await? else { return Ok(EraseOutcome::NotFound) };
        if before.anonymised.is_some() {
            return Ok(EraseOutcome::Already);
        }
        // The place first: those behind move up, an open offer's seats pass on.
        match (before.status, before.offer) {
            (Status::Pending | Status::Confirmed, _) => {
                self.cancel(before.clone()).await?;
            }
            (Status::Offered, Some(n)) => {
                if let Err(refused) = self.end_offer(event, n, Ending::Declined, blacklist).await? {
                    tracing::info!(event, offer = n, ?refused, "erasure: the open offer was not declined");
                }
            }
            _ => {}
        }
        let store = &self.ports.store;
        let note = [keys::annotation(event, id)];
        if self.under_lock(event, store.delete_many(&note)).await?.transpose()?.is_none() {
            return Err(StoreError::Unavailable("the event's list is busy; try again".into()).into());
        }
        let top = super::counter_value(&store.get(&keys::message_counter(event)).await?);
        let ids: HashSet<String> = [id.to_owned()].into();
        self.forget_recipients(event, top, &ids, false).await?;
        let key = keys::signup(event, id);
        for _ in 0..5 {
            let Some(raw) = store.get(&key).await? else { return Ok(EraseOutcome::NotFound) };
            let Some(mut signup) = self.ports.open::<Signup>(&key, Some(raw.clone()))? else {
                return Ok(EraseOutcome::NotFound);
            };
            if signup.anonymised.is_some() {
                return Ok(EraseOutcome::Already);
            }
            retention::anonymise(&mut signup, self.now());
            let value = self.ports.seal(&key, &signup)?;
            if store.replace_if(&key, &raw, &value).await? {
                self.tell_erased(&before).await?;
                self.audit_erasure(&before, &by).await;
                return Ok(EraseOutcome::Erased { signup: Box::new(before) });
            }
        }
        Err(StoreError::Unavailable("the signup keeps changing; try again".into()).into())
    }

    /// Queues the mail that tells the customer their data is erased: in the outbox only.
    async fn tell_erased(&self, before: &Signup) -> Result<(), StoreError> {
        if before.box_office_address {
            return Ok(()); // the box office's own address: nobody to tell
        }
        let settings = self
            .settings(&before.event)
            .await?
            .unwrap_or_else(|| crate::core::waitlist::WaitlistSettings::new(&before.event));
        let number = outbox::reserve(&self.ports.store).await?;
        let Ok(mail) = compose::mail(self, MailKind::Erased, before, &settings, None, number) else {
            return Ok(()); // an address mail cannot go to: the erasure stands
        };
        let queued = outbox::queue_item(&self.ports, number, mail, self.ports.clock.unix_ms())?;
        self.ports.store.set_many(&[queued]).await?;
        self.ports.events.mail_queued();
        Ok(())
    }

    /// Puts the erasure into the organizer's audit log, by line number.
    async fn audit_erasure(&self, before: &Signup, by: &Eraser) {
        let event = &before.event;
        let (actor, who) = match by {
            Eraser::Customer => ("customer".to_owned(), "by the customer"),
            Eraser::Staff(label) => (label.clone(), "by staff"),
        };
        let number = before.seq.map_or_else(|| "a pending signup".to_owned(), |n| format!("line number {n}"));
        self.audit_event(event, AuditAction::EraseSignup, actor, format!("{number} erased {who}")).await;
        tracing::info!(event, line = before.seq, "a signup's data erased on request");
    }
}
