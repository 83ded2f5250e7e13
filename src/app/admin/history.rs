//! An event's message history through the admin API: every mail and SMS of the event, to whom, which
//! template, when queued, and its fate. Addresses are personal data: reading a page is in the
//! audit log (which numbers, never the addresses), as an export is.

use serde::Serialize;

use super::waitlist::rfc3339;
use super::{Access, Admin, AdminError, Principal};
use crate::app::outbox::{Settled, State};
use crate::app::waitlist::history::{Channel, MessageRecord};
use crate::core::blacklist::audit::AuditAction;
use crate::core::waitlist::keys;
use crate::ports::store::Store;

/// Most messages in one page of the history.
pub const MAX_MESSAGES_PAGE: usize = 500;

/// One message, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = WaitlistMessage))]
pub struct MessageView {
    /// Its number in the event's history.
    pub number: u64,
    /// The channel.
    pub channel: Channel,
    /// The recipient.
    pub to: String,
    /// `confirm`, `confirmed`, `already`, `offer` (mail or SMS), `offer-copy` (staff's copy) or
    /// `staff-offers` (staff told of automatic offers).
    pub template: String,
    /// The signup it is about (empty for a notice to staff about several).
    pub signup: String,
    /// When it was queued (RFC 3339).
    #[cfg_attr(feature = "native", schema(format = DateTime))]
    pub queued: String,
    /// `queued` (waiting, or being retried), `sent` (the mail server or SMS gateway took it),
    /// `delivered` (the SMS provider says it reached the phone) or `failed` (given up).
    #[cfg_attr(feature = "native", schema(value_type = String, pattern = "^(queued|sent|delivered|failed)$"))]
    pub status: &'static str,
    /// When it was sent or given up (RFC 3339).
    pub settled: Option<String>,
    /// Attempts it took, once settled.
    pub attempts: Option<u32>,
    /// Why it failed.
    pub error: Option<String>,
}

/// One page of an event's history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = WaitlistMessages))]
pub struct MessagesPage {
    /// The messages.
    pub messages: Vec<MessageView>,
    /// Pass as `after` for the next page; null at the end.
    pub next: Option<u64>,
}

impl<S: Store> Admin<S> {
    /// Up to `limit` messages of `event` after number `after`, oldest first, with their fate.
    pub async fn messages(
        &self,
        who: &Principal,
        event: &str,
        after: u64,
        limit: usize,
    ) -> Result<MessagesPage, AdminError> {
        let scope = self.require_event(who, event, Access::Read).await?;
        let store = &self.ports.store;
        let limit = limit.clamp(1, MAX_MESSAGES_PAGE);
        let top = super::counter(store, &keys::message_counter(event)).await?;
        let numbers: Vec<u64> = (after.saturating_add(1)..=top).take(limit).collect();
        let mut wanted = Vec::with_capacity(2 * numbers.len());
        for n in &numbers {
            wanted.push(keys::message(event, *n));
            wanted.push(keys::message_fate(event, *n));
        }
        let got = store.get_many(&wanted).await?;
        let mut messages = Vec::with_capacity(numbers.len());
        for (pair, names) in got.chunks(2).zip(wanted.chunks(2)) {
            let Some(record) = self.ports.open::<MessageRecord>(&names[0], pair[0].clone())? else {
                continue; // a number whose writer failed: no message
            };
            let fate = pair[1].as_deref().and_then(|v| serde_json::from_slice::<Settled>(v).ok());
            let status = match fate.as_ref().map(|f| (f.state, f.delivered)) {
                Some((State::Sent, true)) => "delivered",
                Some((State::Sent, false)) => "sent",
                Some((State::Failed, _)) => "failed",
                _ => "queued",
            };
            messages.push(MessageView {
                number: record.number,
                channel: record.channel,
                to: record.to,
                template: record.template,
                signup: record.signup,
                queued: rfc3339(record.queued),
                status,
                settled: fate.as_ref().map(|f| rfc3339(f.at / 1000)),
                attempts: fate.as_ref().map(|f| f.attempts),
                error: fate.and_then(|f| f.error),
            });
        }
        if let (Some(first), Some(last)) = (messages.first(), messages.last()) {
            let detail = format!(
                "message history, {} messages, numbers {} to {}",
                messages.len(),
                first.number,
                last.number
            );
            self.record_detail(who, AuditAction::ExportWaitlist, ("event", event), &scope, Some(detail))
                .await;
        }
        let next = numbers.last().copied().filter(|l| *l < top);
        Ok(MessagesPage { messages, next })
    }
}
