//! Offers of freed seats through the admin API: the backend's report of freed seats (and its
//! dry run), staff's offer to one signup, an offer taken or withdrawn, and the event's offers.
//! Reports and offers change the list: admin tokens of the event's organizer, or the operator;
//! box-office tokens read the offers only. Every change is in the organizer's audit log, with
//! offer numbers and counts, never a customer's name or address.

use serde::Serialize;

use super::{Access, Admin, AdminError, Principal};
use crate::app::waitlist::usecases::{Ending, OfferNotice, OfferRefused, Release, StaffOffer};
use crate::app::waitlist::{Unavailable, Waitlist};
use crate::core::blacklist::audit::AuditAction;
use crate::core::waitlist::keys;
use crate::core::waitlist::offer::{Offer, OfferOrigin, OfferStatus};
use crate::ports::store::Store;

/// Most offers in one page of the list.
pub const MAX_OFFERS_PAGE: usize = 500;

/// One offer, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = WaitlistOffer))]
pub struct OfferView {
    /// Its number within the event.
    pub number: u64,
    /// The signup it is for.
    pub signup: String,
    /// The signup's line number.
    pub line_number: u64,
    /// Tickets offered.
    pub tickets: u32,
    /// Where it stands.
    pub status: OfferStatus,
    /// Who made it.
    pub origin: OfferOrigin,
    /// When it was made, until when it holds, when it ended (RFC 3339).
    #[cfg_attr(feature = "native", schema(format = DateTime))]
    pub made: String,
    /// See [`OfferView::made`].
    pub expires: String,
    /// See [`OfferView::made`].
    pub ended: Option<String>,
    /// The link the customer books with.
    pub link: Option<String>,
}

impl From<Offer> for OfferView {
    fn from(o: Offer) -> Self {
        Self {
            number: o.number,
            signup: o.signup,
            line_number: o.seq,
            tickets: o.tickets,
            status: o.status,
            origin: o.origin,
            made: super::waitlist::rfc3339(o.made),
            expires: super::waitlist::rfc3339(o.expires),
            ended: o.ended.map(super::waitlist::rfc3339),
            link: o.link,
        }
    }
}

/// One page of an event's offers, in the order they were made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = WaitlistOffers))]
pub struct OffersPage {
    /// The offers.
    pub offers: Vec<OfferView>,
    /// Pass as `after` for the next page; null at the end.
    pub next: Option<u64>,
}

/// An offer after it was reported taken or withdrawn, and where its seats went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = WaitlistOfferEnded))]
pub struct EndedView {
    /// The offer, ended.
    pub offer: OfferView,
    /// The offers its seats went on to (none when taken or withdrawn).
    pub passed_on: Vec<OfferNotice>,
}

impl From<OfferRefused> for AdminError {
    fn from(r: OfferRefused) -> Self {
        let m = r.to_string();
        match r {
            OfferRefused::Seats | OfferRefused::Input(_) => Self::BadInput(m),
            OfferRefused::NotFound(_) => Self::NotFound(m),
            OfferRefused::Manual
            | OfferRefused::Inactive
            | OfferRefused::NotWaiting(_)
            | OfferRefused::Ended(_) => Self::Conflict(m),
            OfferRefused::Busy => Self::Busy(m),
        }
    }
}

impl From<Unavailable> for AdminError {
    fn from(u: Unavailable) -> Self {
        match u {
            Unavailable::Store(e) => Self::Unavailable(e),
            Unavailable::Randomness(e) => Self::NoRandomness(e),
        }
    }
}

fn numbers(offers: &[OfferNotice]) -> String {
    match (offers.first().and_then(|o| o.offer), offers.last().and_then(|o| o.offer)) {
        (Some(a), Some(b)) if a == b => format!("offer {a}"),
        (Some(a), Some(b)) => format!("offers {a} to {b}"),
        _ => "no offers".into(),
    }
}

impl<S: Store + Clone> Admin<S> {
    /// The waitlist the admin's offers and erasures run in.
    pub(super) fn waitlist(&self) -> Result<&Waitlist<S>, AdminError> {
        self.app
            .as_ref()
            .and_then(|a| a.waitlist())
            .ok_or_else(|| AdminError::Conflict("the policy has no waitlist".into()))
    }

    /// The blacklist whose customers offers pass over.
    pub(super) fn listed_customers(&self) -> Option<&crate::app::blacklist::Blacklist<S>> {
        self.app.as_ref().and_then(|a| a.blacklist())
    }

    /// Reports `seats` freed at `event` (automatic mode): the offers made, in line order; a
    /// dry run answers the same and changes nothing (for the warning before a booking is freed).
    pub async fn release_seats(
        &self,
        who: &Principal,
        event: &str,
        seats: i64,
        dry_run: bool,
    ) -> Result<Release, AdminError> {
        let scope = self.require_event(who, event, Access::Change).await?;
        let release = self.waitlist()?.release(event, seats, dry_run, self.listed_customers()).await??;
        if !dry_run {
            let detail = format!(
                "{} seats reported, {} held before: {}, {} held, {} returned, {} passed over",
                release.seats,
                release.held_before,
                numbers(&release.offers),
                release.seats_held,
                release.seats_returned,
                release.skipped_blacklisted
            );
            self.record_detail(who, AuditAction::ReleaseSeats, ("event", event), &scope, Some(detail)).await;
            tracing::info!(who = %who.label(), event, seats = release.seats, offers = release.offers.len(), "freed seats offered");
        }
        Ok(release)
    }

    /// Staff offer `event`'s signup `signup` its seats with their own link, text and hours.
    pub async fn make_offer(
        &self,
        who: &Principal,
        event: &str,
        signup: &str,
        offer: StaffOffer,
    ) -> Result<OfferNotice, AdminError> {
        let scope = self.require_event(who, event, Access::Change).await?;
        let notice = self.waitlist()?.offer_to(event, signup, offer).await??;
        let detail = numbers(std::slice::from_ref(&notice));
        self.record_detail(who, AuditAction::MakeOffer, ("event", event), &scope, Some(detail)).await;
        Ok(notice)
    }

    /// Reports offer `number` of `event` taken (the backend booked it) or withdrawn (staff).
    pub async fn end_offer(
        &self,
        who: &Principal,
        event: &str,
        number: u64,
        how: Ending,
    ) -> Result<EndedView, AdminError> {
        if !matches!(how, Ending::Taken | Ending::Withdrawn) {
            return Err(AdminError::bad("only taken and withdrawn are reported through the API"));
        }
        let scope = self.require_event(who, event, Access::Change).await?;
        let ended = self.waitlist()?.end_offer(event, number, how, self.listed_customers()).await??;
        let detail = format!("offer {number} {}", ended.offer.status.as_str());
        self.record_detail(who, AuditAction::EndOffer, ("event", event), &scope, Some(detail)).await;
        Ok(EndedView { offer: ended.offer.into(), passed_on: ended.passed_on })
    }

    /// Anonymises the signups whose retention is over at every event (none without a
    /// waitlist): the retention pass.
    pub async fn forget_due(
        &self,
    ) -> Result<crate::app::waitlist::usecases::retention::Forgotten, AdminError> {
        match self.app.as_ref().and_then(|a| a.waitlist()) {
            Some(w) => Ok(w.forget_due().await?),
            None => Ok(Default::default()),
        }
    }

    /// Ends the offers whose time ran out at every event (none without a waitlist); answers
    /// how many ended.
    pub async fn expire_offers(&self) -> Result<usize, AdminError> {
        match self.app.as_ref().and_then(|a| a.waitlist()) {
            Some(w) => Ok(w.expire_offers(self.listed_customers()).await?),
            None => Ok(0),
        }
    }

    /// Up to `limit` offers of `event` after number `after`, in the order they were made.
    pub async fn offers(
        &self,
        who: &Principal,
        event: &str,
        after: u64,
        limit: usize,
    ) -> Result<OffersPage, AdminError> {
        self.require_event(who, event, Access::Read).await?;
        let store = &self.ports.store;
        let limit = limit.clamp(1, MAX_OFFERS_PAGE);
        let top = super::counter(store, &keys::offer_counter(event)).await?;
        let numbers: Vec<u64> = (after.saturating_add(1)..=top).take(limit).collect();
        let offer_keys: Vec<String> = numbers.iter().map(|n| keys::offer(event, *n)).collect();
        let offers = store
            .get_many(&offer_keys)
            .await?
            .into_iter()
            .filter_map(|raw| serde_json::from_slice::<Offer>(&raw?).ok())
            .map(OfferView::from)
            .collect();
        let next = numbers.last().copied().filter(|l| *l < top);
        Ok(OffersPage { offers, next })
    }
}
