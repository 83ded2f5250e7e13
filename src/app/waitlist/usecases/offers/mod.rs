//! Offers of freed seats: the backend's report of freed seats (automatic mode: in line order),
//! staff's offer to one signup (either mode), and how an offer ends: taken, declined, expired or
//! withdrawn; a declined or expired offer passes its seats on in automatic mode.
//!
//! Everything that decides who gets seats runs under the event's offer lock (a claim with a
//! lease, [`LOCK_LEASE`]), so two reports at the same moment never offer the same seats twice.
//! Each decision is one `set_many`: the offers, their signups, the seats kept for the head of
//! the line, where the next report starts reading, and the offer mails. A crash before it loses
//! nothing (nothing was decided); after it, the offers and their mails are there together. The
//! line's counters (places, caps) follow in one `increment_many`.

mod ending;
mod messages;
mod release;
mod staff;
#[cfg(test)]
mod tests;

use std::time::Duration;

use serde::Serialize;

use super::super::compose;
use super::super::{Unavailable, Waitlist};
use super::*;
use crate::app::blacklist::Blacklist;
use crate::app::outbox;
use crate::core::waitlist::link::{Kind, TokenError};
use crate::core::waitlist::offer::{
    self, check_link, code_body, link_from_template, parse_code_body, Chooser, Offer, OfferOrigin,
    OfferStatus, Verdict, MAX_OFFER_TEXT, MAX_SEATS,
};
use crate::core::waitlist::{keys, line, Mode, Signup, Status, WaitlistSettings};
use crate::ports::store::{SetItem, Store, StoreError};

/// How long the offer lock holds if its holder dies.
pub const LOCK_LEASE: Duration = Duration::from_secs(60);
/// How long a report waits for another one's lock before it answers "busy".
pub const LOCK_WAIT: Duration = Duration::from_secs(10);
/// How often native hosts end the offers whose time ran out ([`Waitlist::expire_offers`]).
pub const EXPIRY_SWEEP_EVERY: Duration = Duration::from_secs(60);
/// Line numbers read at once while choosing.
const PAGE: u64 = 256;
/// Offers the expiry sweep reads at once per event.
const SWEEP_REACH: u64 = 64;

/// One offer a report made (or, in a dry run, would make).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct OfferNotice {
    /// The offer's number (none in a dry run).
    pub offer: Option<u64>,
    /// The signup.
    pub signup: String,
    /// Its line number.
    pub line_number: u64,
    /// Tickets offered (all of the signup's).
    pub tickets: u32,
    /// The customer's name.
    pub name: String,
    /// The customer's address.
    pub email: String,
    /// Until when the offer holds (Unix seconds).
    pub expires: u64,
}

/// What a report of freed seats came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct Release {
    /// The event.
    pub event: String,
    /// Seats reported now.
    pub seats: u32,
    /// Seats kept from earlier reports for the head of the line, counted in.
    pub held_before: u32,
    /// The offers, in line order.
    pub offers: Vec<OfferNotice>,
    /// Seats kept for the head of the line, which wants more (strict): they go with the next
    /// report or ending offer.
    pub seats_held: u32,
    /// Seats nobody waiting can take: the backend's to sell.
    pub seats_returned: u32,
    /// Confirmed signups passed over because the blacklist lists them.
    pub skipped_blacklisted: u32,
    /// Nothing was stored or sent.
    pub dry_run: bool,
}

/// Why a report or a staff offer was refused, with nothing stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfferRefused {
    /// The seat count is not 1 to [`MAX_SEATS`].
    #[error("seats must be 1 to {MAX_SEATS}")]
    Seats,
    /// The event's waitlist is in manual mode: staff make offers.
    #[error("the event's waitlist is in manual mode: staff make offers, none are made automatically")]
    Manual,
    /// The event's waitlist is deactivated.
    #[error("the event's waitlist is deactivated: no offers until it is active again")]
    Inactive,
    /// No such signup, or no such offer.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The signup cannot receive an offer now (not confirmed and waiting).
    #[error("the signup is {0}: only a confirmed signup waiting in line can receive an offer")]
    NotWaiting(&'static str),
    /// The offer has ended already.
    #[error("the offer has ended already ({0})")]
    Ended(&'static str),
    /// A link or text that is not acceptable.
    #[error("{0}")]
    Input(String),
    /// Another report holds the event's lock for longer than a report waits.
    #[error("another offer decision for this event is under way; try again")]
    Busy,
}

/// How an offer is to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The backend reports the booking.
    Taken,
    /// The customer declines.
    Declined,
    /// Its time ran out.
    Expired,
    /// Staff withdraw it; the signup goes back to its place.
    Withdrawn,
}

impl Ending {
    fn status(self) -> OfferStatus {
        match self {
            Self::Taken => OfferStatus::Taken,
            Self::Declined => OfferStatus::Declined,
            Self::Expired => OfferStatus::Expired,
            Self::Withdrawn => OfferStatus::Withdrawn,
        }
    }
}

/// An offer after it ended, and the offers its seats went on to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// The offer, ended.
    pub offer: Offer,
    /// The offers its seats passed on to (automatic mode, declined or expired).
    pub passed_on: Vec<OfferNotice>,
}

/// A staff offer to one signup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffOffer {
    /// The link the customer books with (a reservation's payment link, an allocation's action
    /// link); without one, the event's link template.
    pub link: Option<String>,
    /// Staff's own text for the mail.
    pub text: Option<String>,
    /// Hours it holds, instead of the event's.
    pub hours: Option<u32>,
}

/// One signup chosen, before it is written.
pub(super) struct Chosen {
    signup: Signup,
    seq: u64,
}

/// What a walk of the line decided.
pub(super) struct Choice {
    chosen: Vec<Chosen>,
    held: u32,
    returned: u32,
    skipped: u32,
    head: u64,
}

pub(super) fn number_in(raw: &Option<Vec<u8>>) -> u64 {
    counter_value(raw)
}

impl<S: Store + Clone> Waitlist<S> {
    /// Runs `work` under the event's offer lock, then frees it; `None` (and `work` never
    /// started) when another holder keeps it past [`LOCK_WAIT`].
    pub(in crate::app::waitlist) async fn under_lock<T>(
        &self,
        event: &str,
        work: impl std::future::Future<Output = T>,
    ) -> Result<Option<T>, StoreError> {
        if !self.lock(event).await? {
            return Ok(None);
        }
        let done = work.await;
        self.unlock(event).await;
        Ok(Some(done))
    }

    /// Takes the event's offer lock, waiting up to [`LOCK_WAIT`] for another holder.
    async fn lock(&self, event: &str) -> Result<bool, StoreError> {
        let key = keys::offer_lock(event);
        let tries = LOCK_WAIT.as_millis() / 25;
        for _ in 0..tries {
            if self.ports.store.claim(&key, Some(LOCK_LEASE)).await? {
                return Ok(true);
            }
            self.ports.tasks.sleep(Duration::from_millis(25)).await;
        }
        Ok(false)
    }

    pub(super) async fn unlock(&self, event: &str) {
        if let Err(e) = self.ports.store.delete(&keys::offer_lock(event)).await {
            tracing::warn!(event, error = %e, "waitlist: the offer lock could not be freed; it lapses on its own");
        }
    }

    /// An offer's signed code, valid until the offer's deadline.
    pub fn offer_code(&self, offer: &Offer) -> String {
        self.signer.seal(Kind::Offer, &code_body(&offer.event, offer.number), offer.expires)
    }

    /// The offer an offer code names, as stored (`Err` for a code that is not ours or
    /// expired; an unknown offer reads as expired).
    pub async fn offer_of_code(&self, code: &str) -> Result<Result<Offer, TokenError>, StoreError> {
        let body = match self.signer.open(Kind::Offer, code, self.now()) {
            Ok(b) => b,
            Err(e) => return Ok(Err(e)),
        };
        let Some((event, number)) = parse_code_body(body) else { return Ok(Err(TokenError::Malformed)) };
        Ok(self.offer_record(event, number).await?.ok_or(TokenError::Expired))
    }

    /// Offer `number` of `event`.
    pub async fn offer_record(&self, event: &str, number: u64) -> Result<Option<Offer>, StoreError> {
        Ok(decode(self.ports.store.get(&keys::offer(event, number)).await?))
    }

    /// Puts `event` on the list of events the expiry sweep visits, before its first offer is
    /// written (reports and staff offers; native hosts, whose stores can add members). An offer
    /// passed on at the edge is for an event an earlier offer put there.
    pub async fn track_offers(&self, event: &str) -> Result<(), StoreError> {
        if self.offers_tracked.lock().is_ok_and(|set| set.contains(event)) {
            return Ok(());
        }
        self.ports.store.add_members(&[(keys::OFFER_EVENTS.to_owned(), keys::event_member(event))]).await?;
        if let Ok(mut set) = self.offers_tracked.lock() {
            set.insert(event.to_owned());
        }
        Ok(())
    }
}

/// Why a decline link did nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclineProblem {
    /// The link is not ours, or expired (the offer with it).
    Link(TokenError),
    /// The offer has ended already (declined before, taken, withdrawn, expired).
    Ended(Box<Offer>),
}
