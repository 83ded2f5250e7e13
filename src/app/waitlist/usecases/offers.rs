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
struct Chosen {
    signup: Signup,
    seq: u64,
}

/// What a walk of the line decided.
struct Choice {
    chosen: Vec<Chosen>,
    held: u32,
    returned: u32,
    skipped: u32,
    head: u64,
}

fn number_in(raw: &Option<Vec<u8>>) -> u64 {
    counter_value(raw)
}

impl<S: Store + Clone> Waitlist<S> {
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

    async fn unlock(&self, event: &str) {
        if let Err(e) = self.ports.store.delete(&keys::offer_lock(event)).await {
            tracing::warn!(event, error = %e, "waitlist: the offer lock could not be freed; it lapses on its own");
        }
    }

    /// Reports `seats` freed at `event`: in automatic mode they go to the longest waiting
    /// confirmed signups under the event's fit rule, blacklisted customers skipped. A dry run
    /// answers the same without storing or sending anything.
    pub async fn release(
        &self,
        event: &str,
        seats: i64,
        dry_run: bool,
        blacklist: Option<&Blacklist<S>>,
    ) -> Result<Result<Release, OfferRefused>, Unavailable> {
        let Ok(seats) = u32::try_from(seats) else { return Ok(Err(OfferRefused::Seats)) };
        if seats == 0 || seats > MAX_SEATS {
            return Ok(Err(OfferRefused::Seats));
        }
        let settings = self.settings(event).await?.unwrap_or_else(|| WaitlistSettings::new(event));
        if settings.mode != Mode::Automatic {
            return Ok(Err(OfferRefused::Manual));
        }
        if !settings.active {
            return Ok(Err(OfferRefused::Inactive));
        }
        if dry_run {
            let held = self.held(event).await?;
            let choice = self.choose(event, &settings, held + seats, blacklist).await?;
            return Ok(Ok(self.release_answer(event, seats, held, &choice, &settings, None, true)));
        }
        self.track_offers(event).await?;
        if !self.lock(event).await? {
            return Ok(Err(OfferRefused::Busy));
        }
        let result = self.release_locked(event, seats, &settings, blacklist).await;
        self.unlock(event).await;
        Ok(Ok(result?))
    }

    async fn release_locked(
        &self,
        event: &str,
        seats: u32,
        settings: &WaitlistSettings,
        blacklist: Option<&Blacklist<S>>,
    ) -> Result<Release, Unavailable> {
        let held = self.held(event).await?;
        let choice = self.choose(event, settings, held + seats, blacklist).await?;
        let numbers = self.make_offers(event, settings, &choice).await?;
        Ok(self.release_answer(event, seats, held, &choice, settings, Some(&numbers), false))
    }

    #[allow(clippy::too_many_arguments)]
    fn release_answer(
        &self,
        event: &str,
        seats: u32,
        held_before: u32,
        choice: &Choice,
        settings: &WaitlistSettings,
        numbers: Option<&[u64]>,
        dry_run: bool,
    ) -> Release {
        Release {
            event: event.to_owned(),
            seats,
            held_before,
            offers: self.notices(choice, settings, numbers),
            seats_held: choice.held,
            seats_returned: choice.returned,
            skipped_blacklisted: choice.skipped,
            dry_run,
        }
    }

    fn notices(
        &self,
        choice: &Choice,
        settings: &WaitlistSettings,
        numbers: Option<&[u64]>,
    ) -> Vec<OfferNotice> {
        let expires = self.now() + settings.offer_secs();
        choice
            .chosen
            .iter()
            .enumerate()
            .map(|(i, c)| OfferNotice {
                offer: numbers.and_then(|n| n.get(i).copied()),
                signup: c.signup.id.clone(),
                line_number: c.seq,
                tickets: c.signup.tickets,
                name: c.signup.name.clone(),
                email: c.signup.email.clone(),
                expires,
            })
            .collect()
    }

    /// Seats kept for the head of the line by earlier reports.
    async fn held(&self, event: &str) -> Result<u32, StoreError> {
        let raw = self.ports.store.get(&keys::seat_pool(event)).await?;
        Ok(u32::try_from(number_in(&raw)).unwrap_or(u32::MAX).min(MAX_SEATS))
    }

    /// Walks the line from its head and decides who gets `seats`.
    async fn choose(
        &self,
        event: &str,
        settings: &WaitlistSettings,
        seats: u32,
        blacklist: Option<&Blacklist<S>>,
    ) -> Result<Choice, Unavailable> {
        let store = &self.ports.store;
        let got = store.get_many(&[keys::line_head(event), keys::line_counter(event)]).await?;
        let start = number_in(&got[0]).max(1);
        let top = number_in(&got[1]);
        let mut chooser = Chooser::new(seats, settings.fit);
        let mut choice = Choice { chosen: Vec::new(), held: 0, returned: 0, skipped: 0, head: start };
        let mut waiting_seen = false;
        let mut stopped = false;
        let mut from = start;
        'walk: while from <= top && !chooser.done() {
            let to = (from + PAGE - 1).min(top);
            let entry_keys: Vec<String> = (from..=to).map(|n| keys::line_entry(event, n)).collect();
            let ids = store.get_many(&entry_keys).await?;
            let held: Vec<(u64, String)> =
                (from..=to).zip(ids).filter_map(|(n, id)| Some((n, String::from_utf8(id?).ok()?))).collect();
            let signup_keys: Vec<String> = held.iter().map(|(_, id)| keys::signup(event, id)).collect();
            let records = store.get_many(&signup_keys).await?;
            let mut expected = from;
            for ((seq, _), raw) in held.iter().zip(records) {
                if *seq != expected {
                    // A number taken by a confirmation still being written (or whose writer
                    // failed): the head stays before it, so it is read again next time.
                    waiting_seen = true;
                }
                expected = seq + 1;
                let waiting = decode::<Signup>(raw).filter(|s| s.status == Status::Confirmed);
                let Some(signup) = waiting else {
                    if !waiting_seen {
                        choice.head = seq + 1;
                    }
                    continue;
                };
                if chooser.done() {
                    break 'walk;
                }
                if self.listed(&signup, blacklist).await? {
                    choice.skipped += 1;
                    waiting_seen = true;
                    continue;
                }
                match chooser.consider(signup.tickets) {
                    Verdict::Offer => {
                        if !waiting_seen {
                            choice.head = seq + 1;
                        }
                        choice.chosen.push(Chosen { signup, seq: *seq });
                    }
                    Verdict::Pass => waiting_seen = true,
                    Verdict::Stop => {
                        stopped = true;
                        break 'walk;
                    }
                }
            }
            if expected <= to {
                waiting_seen = true; // numbers at the end of the page not written yet
            }
            if !waiting_seen {
                choice.head = choice.head.max(to + 1);
            }
            from = to + 1;
        }
        // Strict: seats left over when the head waits are kept for it; otherwise nobody on the
        // list can take them.
        if stopped {
            choice.held = chooser.left();
        } else {
            choice.returned = chooser.left();
        }
        Ok(choice)
    }

    /// Whether the blacklist lists `signup`'s customer at its event (never the box office's
    /// own address); a failed lookup fails the decision.
    async fn listed(&self, signup: &Signup, blacklist: Option<&Blacklist<S>>) -> Result<bool, StoreError> {
        let Some(b) = blacklist else { return Ok(false) };
        let email = Some(signup.email.as_str()).filter(|_| !signup.box_office_address);
        match b.is_listed(&signup.event, email, signup.account.as_deref()).await {
            Some(listed) => Ok(listed),
            None => Err(StoreError::Unavailable("blacklist lookup failed".into())),
        }
    }

    /// Stores the offers of `choice` with their mails, the seats held and the line's new head,
    /// in one write; then counts the offered signups out of the line. Answers the offer numbers.
    async fn make_offers(
        &self,
        event: &str,
        settings: &WaitlistSettings,
        choice: &Choice,
    ) -> Result<Vec<u64>, Unavailable> {
        let store = &self.ports.store;
        let mut items = vec![
            item(keys::seat_pool(event), choice.held.to_string().into_bytes(), None),
            item(keys::line_head(event), choice.head.to_string().into_bytes(), None),
        ];
        let (numbers, queued) = self
            .offer_items(
                event,
                settings,
                &choice.chosen,
                OfferOrigin::Automatic,
                &StaffOffer::default(),
                &mut items,
            )
            .await?;
        store.set_many(&items).await?;
        self.count_out_of_line(event, &choice.chosen).await?;
        for _ in 0..queued {
            self.ports.events.mail_queued();
        }
        Ok(numbers)
    }

    /// Adds the writes of offers to `chosen` (offer records, signups, mails) to `items`;
    /// answers their numbers and how many mails were queued.
    async fn offer_items(
        &self,
        event: &str,
        settings: &WaitlistSettings,
        chosen: &[Chosen],
        origin: OfferOrigin,
        staff: &StaffOffer,
        items: &mut Vec<SetItem>,
    ) -> Result<(Vec<u64>, usize), Unavailable> {
        if chosen.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let store = &self.ports.store;
        let k = chosen.len() as i64;
        let last = store.increment(&keys::offer_counter(event), k, None).await?.max(k) as u64;
        let first_mail = outbox::reserve_many(store, chosen.len() as u64).await?;
        let now = self.now();
        let hours = staff.hours.unwrap_or(settings.offer_hours);
        let expires = now + u64::from(hours) * 3600;
        let mut numbers = Vec::with_capacity(chosen.len());
        let mut queued = 0;
        for (i, c) in chosen.iter().enumerate() {
            let number = last + 1 - k as u64 + i as u64;
            let mut offer = Offer {
                number,
                event: event.to_owned(),
                signup: c.signup.id.clone(),
                seq: c.seq,
                tickets: c.signup.tickets,
                status: OfferStatus::Open,
                origin,
                made: now,
                expires,
                ended: None,
                link: staff.link.clone(),
                text: staff.text.clone(),
            };
            if offer.link.is_none() {
                offer.link = settings
                    .offer_link
                    .as_ref()
                    .map(|t| link_from_template(t, &self.config.public_url, event, &self.offer_code(&offer)));
            }
            let mut signup = c.signup.clone();
            signup.status = Status::Offered;
            signup.offer = Some(number);
            let mail_number = outbox::Reserved(first_mail.0 + i as u64);
            match compose::offer_mail(self, &signup, &offer, settings, mail_number) {
                Ok(mail) => {
                    items.push(outbox::queue_item(mail_number, mail, self.ports.clock.unix_ms()));
                    queued += 1;
                }
                Err(e) => {
                    tracing::warn!(event, offer = number, error = %e, "waitlist: offer mail not composed")
                }
            }
            items.push(item(keys::offer(event, number), encode(&offer)?, None));
            items.push(item(keys::signup(event, &signup.id), encode(&signup)?, None));
            numbers.push(number);
        }
        Ok((numbers, queued))
    }

    /// Counts offered signups out of the line: those behind move up, the caps count them no more.
    async fn count_out_of_line(&self, event: &str, chosen: &[Chosen]) -> Result<(), StoreError> {
        if chosen.is_empty() {
            return Ok(());
        }
        let mut steps: Vec<(String, i64)> = Vec::new();
        for c in chosen {
            steps.extend(line::nodes_to_bump(c.seq).into_iter().map(|n| (keys::left_node(event, n), 1)));
        }
        let tickets: i64 = chosen.iter().map(|c| i64::from(c.signup.tickets)).sum();
        steps.push((keys::signups_count(event), -(chosen.len() as i64)));
        steps.push((keys::tickets_count(event), -tickets));
        self.ports.store.increment_many(&steps).await.map(|_| ())
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

    /// Staff offer `event`'s signup `id` its seats, with their own link and text (either mode).
    pub async fn offer_to(
        &self,
        event: &str,
        id: &str,
        staff: StaffOffer,
    ) -> Result<Result<OfferNotice, OfferRefused>, Unavailable> {
        if let Some(link) = &staff.link {
            if let Err(e) = check_link(link, false) {
                return Ok(Err(OfferRefused::Input(e)));
            }
        }
        if let Some(text) = &staff.text {
            if text.chars().count() > MAX_OFFER_TEXT || text.chars().any(|c| c.is_control() && c != '\n') {
                return Ok(Err(OfferRefused::Input(format!(
                    "text: at most {MAX_OFFER_TEXT} characters, no control characters"
                ))));
            }
        }
        let (lo, hi) = offer::OFFER_HOURS_RANGE;
        if staff.hours.is_some_and(|h| !(lo..=hi).contains(&h)) {
            return Ok(Err(OfferRefused::Input(format!("hours must be {lo} to {hi}"))));
        }
        let settings = self.settings(event).await?.unwrap_or_else(|| WaitlistSettings::new(event));
        if staff.link.is_none() && settings.offer_link.is_none() {
            return Ok(Err(OfferRefused::Input(
                "link: give the link the customer books with, or set the event's offer_link".into(),
            )));
        }
        self.track_offers(event).await?;
        if !self.lock(event).await? {
            return Ok(Err(OfferRefused::Busy));
        }
        let result = self.offer_to_locked(event, id, &settings, &staff).await;
        self.unlock(event).await;
        result
    }

    async fn offer_to_locked(
        &self,
        event: &str,
        id: &str,
        settings: &WaitlistSettings,
        staff: &StaffOffer,
    ) -> Result<Result<OfferNotice, OfferRefused>, Unavailable> {
        let Some(signup) = self.signup_record(event, id).await? else {
            return Ok(Err(OfferRefused::NotFound("signup")));
        };
        let seq = match (signup.status, signup.seq) {
            (Status::Confirmed, Some(seq)) => seq,
            (status, _) => return Ok(Err(OfferRefused::NotWaiting(status.as_str()))),
        };
        let chosen = vec![Chosen { signup, seq }];
        let mut items = Vec::new();
        let (numbers, queued) =
            self.offer_items(event, settings, &chosen, OfferOrigin::Staff, staff, &mut items).await?;
        self.ports.store.set_many(&items).await?;
        self.count_out_of_line(event, &chosen).await?;
        for _ in 0..queued {
            self.ports.events.mail_queued();
        }
        let choice = Choice { chosen, held: 0, returned: 0, skipped: 0, head: 0 };
        let mut notices = self.notices(
            &choice,
            &WaitlistSettings {
                offer_hours: staff.hours.unwrap_or(settings.offer_hours),
                ..settings.clone()
            },
            Some(&numbers),
        );
        Ok(Ok(notices.remove(0)))
    }

    /// Ends offer `number` of `event` as `how` says. A declined or expired offer ends its
    /// signup (its address may sign up again) and, in automatic mode, its seats go on to the
    /// next in line at once; a withdrawn one puts its signup back in its place; a taken one
    /// books it. Ending an offer that has ended answers how it ended, changing nothing.
    pub async fn end_offer(
        &self,
        event: &str,
        number: u64,
        how: Ending,
        blacklist: Option<&Blacklist<S>>,
    ) -> Result<Result<Ended, OfferRefused>, Unavailable> {
        if !self.lock(event).await? {
            return Ok(Err(OfferRefused::Busy));
        }
        let result = self.end_offer_locked(event, number, how, blacklist).await;
        self.unlock(event).await;
        result
    }

    async fn end_offer_locked(
        &self,
        event: &str,
        number: u64,
        how: Ending,
        blacklist: Option<&Blacklist<S>>,
    ) -> Result<Result<Ended, OfferRefused>, Unavailable> {
        let store = &self.ports.store;
        let Some(mut offer) = self.offer_record(event, number).await? else {
            return Ok(Err(OfferRefused::NotFound("offer")));
        };
        if offer.status != OfferStatus::Open {
            return Ok(Err(OfferRefused::Ended(offer.status.as_str())));
        }
        let Some(mut signup) = self.signup_record(event, &offer.signup).await? else {
            return Ok(Err(OfferRefused::NotFound("signup")));
        };
        let now = self.now();
        offer.status = how.status();
        offer.ended = Some(now);
        let settings = self.settings(event).await?.unwrap_or_else(|| WaitlistSettings::new(event));
        let mut items = vec![item(keys::offer(event, number), encode(&offer)?, None)];
        let mut steps: Vec<(String, i64)> = Vec::new();
        let address = self.address_of(&signup);
        signup.status = match how {
            Ending::Taken => Status::Booked,
            Ending::Declined => Status::Declined,
            Ending::Expired => Status::Lapsed,
            Ending::Withdrawn => Status::Confirmed,
        };
        if how == Ending::Withdrawn {
            // Back in its place: counted into the line again, and the next report reads from it.
            steps.extend(line::nodes_to_bump(offer.seq).into_iter().map(|n| (keys::left_node(event, n), -1)));
            steps.push((keys::signups_count(event), 1));
            steps.push((keys::tickets_count(event), i64::from(signup.tickets)));
            let head = number_in(&store.get(&keys::line_head(event)).await?).max(1);
            items.push(item(keys::line_head(event), head.min(offer.seq).to_string().into_bytes(), None));
        }
        items.push(item(keys::signup(event, &signup.id), encode(&signup)?, None));
        store.set_many(&items).await?;
        if !steps.is_empty() {
            store.increment_many(&steps).await?;
        }
        if signup.status.is_final() {
            // The address may sign up again.
            store
                .delete_many(&[keys::address_signup(event, &address), keys::address_claim(event, &address)])
                .await?;
        }
        let passes_on = matches!(how, Ending::Declined | Ending::Expired)
            && settings.mode == Mode::Automatic
            && settings.active;
        let passed_on = if passes_on {
            let held = self.held(event).await?;
            let choice = self.choose(event, &settings, held + offer.tickets, blacklist).await?;
            let numbers = self.make_offers(event, &settings, &choice).await?;
            self.notices(&choice, &settings, Some(&numbers))
        } else {
            Vec::new()
        };
        Ok(Ok(Ended { offer, passed_on }))
    }

    /// The customer declines the offer their code names.
    pub async fn decline_by_code(
        &self,
        code: &str,
        blacklist: Option<&Blacklist<S>>,
    ) -> Result<Result<Ended, DeclineProblem>, Unavailable> {
        let offer = match self.offer_of_code(code).await? {
            Ok(o) => o,
            Err(e) => return Ok(Err(DeclineProblem::Link(e))),
        };
        match self.end_offer(&offer.event, offer.number, Ending::Declined, blacklist).await? {
            Ok(ended) => Ok(Ok(ended)),
            Err(OfferRefused::Ended(_)) => Ok(Err(DeclineProblem::Ended(Box::new(offer)))),
            Err(OfferRefused::Busy) => {
                Err(StoreError::Unavailable("the event's offers are busy".into()).into())
            }
            Err(_) => Ok(Err(DeclineProblem::Link(TokenError::Expired))),
        }
    }

    /// Ends every offer whose time ran out, at every event with offers (their seats passed on
    /// in automatic mode); answers how many ended. Native hosts run it every minute; an event
    /// whose lock is held is visited on the next pass.
    pub async fn expire_offers(&self, blacklist: Option<&Blacklist<S>>) -> Result<usize, Unavailable> {
        let store = &self.ports.store;
        let events: Vec<String> = match store.get(keys::OFFER_EVENTS).await? {
            Some(v) => keys::event_members(&v).map(str::to_owned).collect(),
            None => return Ok(0),
        };
        let mut ended = 0;
        for event in events {
            if !store.claim(&keys::offer_lock(&event), Some(LOCK_LEASE)).await? {
                continue;
            }
            let result = self.expire_event(&event, blacklist).await;
            self.unlock(&event).await;
            ended += result?;
        }
        Ok(ended)
    }

    async fn expire_event(
        &self,
        event: &str,
        blacklist: Option<&Blacklist<S>>,
    ) -> Result<usize, Unavailable> {
        let store = &self.ports.store;
        let got = store.get_many(&[keys::open_offers_from(event), keys::offer_counter(event)]).await?;
        let from = number_in(&got[0]).max(1);
        let top = number_in(&got[1]);
        if from > top {
            return Ok(0);
        }
        let to = top.min(from + SWEEP_REACH - 1);
        let offer_keys: Vec<String> = (from..=to).map(|n| keys::offer(event, n)).collect();
        let offers: Vec<Option<Offer>> = store.get_many(&offer_keys).await?.into_iter().map(decode).collect();
        let now = self.now();
        let mut ended = 0;
        let mut still_open_from = None;
        for (n, offer) in (from..=to).zip(offers) {
            match offer {
                Some(o) if o.status == OfferStatus::Open && now >= o.expires => {
                    let expired = self.end_offer_locked(event, n, Ending::Expired, blacklist).await?;
                    ended += usize::from(expired.is_ok());
                }
                Some(o) if o.status == OfferStatus::Open => {
                    still_open_from.get_or_insert(n);
                }
                // Ended, or a number whose writer failed (taken under this lock, never written).
                _ => {}
            }
        }
        let next = still_open_from.unwrap_or(to + 1);
        if next != from {
            store.set(&keys::open_offers_from(event), next.to_string().as_bytes(), None).await?;
        }
        Ok(ended)
    }

    /// Puts `event` on the list of events the expiry sweep visits, before its first offer is
    /// written (reports and staff offers; native hosts, whose stores can add members). An offer
    /// passed on at the edge is for an event an earlier offer put there.
    pub async fn track_offers(&self, event: &str) -> Result<(), StoreError> {
        self.ports.store.add_members(&[(keys::OFFER_EVENTS.to_owned(), keys::event_member(event))]).await
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::app::blacklist::test_blacklist;
    use crate::app::waitlist::testing::site;
    use crate::app::Lifecycle;
    use crate::core::blacklist::{entry_key, Identity, Scope};
    use crate::core::email_hash::EmailHasher;
    use crate::core::waitlist::Fit;
    use crate::testkit::block_on;

    fn ids(release: &Release) -> Vec<&str> {
        release.offers.iter().map(|o| o.signup.as_str()).collect()
    }

    #[test]
    fn freed_seats_go_to_the_longest_waiting_and_a_strict_head_waits_for_enough() {
        let site = site();
        site.automatic(Fit::Strict);
        let w = &site.waitlist;
        let (ada, bob, cy, dan) = (
            site.in_line("ada@example.com", None, 2),
            site.in_line("bob@example.com", None, 3),
            site.in_line("cy@example.com", None, 1),
            site.in_line("dan@example.com", None, 1),
        );
        block_on(async {
            let mails = site.mails();
            let dry = w.release("gala", 3, true, None).await.unwrap().unwrap();
            assert_eq!((ids(&dry), dry.seats_held, dry.dry_run), (vec![ada.id.as_str()], 1, true));
            assert_eq!(dry.offers[0].offer, None);
            assert_eq!(site.record(&ada).status, Status::Confirmed, "a dry run stores nothing");
            assert_eq!(site.mails(), mails, "and sends nothing");

            let first = w.release("gala", 3, false, None).await.unwrap().unwrap();
            assert_eq!(ids(&first), [ada.id.as_str()], "bob wants 3, one seat is left: he waits");
            assert_eq!((first.seats_held, first.seats_returned), (1, 0));
            assert_eq!(first.offers[0].offer, Some(1));
            assert_eq!(site.mails(), mails + 1, "the offer mail is queued with the offer");
            let ada_now = site.record(&ada);
            assert_eq!((ada_now.status, ada_now.offer), (Status::Offered, Some(1)));
            assert_eq!(w.place("gala", bob.seq.unwrap()).await.unwrap(), 1, "bob moved up");

            let second = w.release("gala", 2, false, None).await.unwrap().unwrap();
            assert_eq!(second.held_before, 1);
            assert_eq!(ids(&second), [bob.id.as_str()], "the held seat and two more: bob's three");
            let third = w.release("gala", 5, false, None).await.unwrap().unwrap();
            assert_eq!(ids(&third), [cy.id.as_str(), dan.id.as_str()]);
            assert_eq!((third.seats_held, third.seats_returned), (0, 3), "nobody left for three seats");
            let offers: Vec<u64> = third.offers.iter().filter_map(|o| o.offer).collect();
            assert_eq!(offers, [3, 4], "numbered in order");
        });
    }

    #[test]
    fn first_fit_goes_past_a_head_that_does_not_fit_and_keeps_its_place() {
        let site = site();
        site.automatic(Fit::FirstFit);
        let (ada, bob, cy) = (
            site.in_line("ada@example.com", None, 4),
            site.in_line("bob@example.com", None, 1),
            site.in_line("cy@example.com", None, 2),
        );
        block_on(async {
            let r = site.waitlist.release("gala", 3, false, None).await.unwrap().unwrap();
            assert_eq!(ids(&r), [bob.id.as_str(), cy.id.as_str()]);
            assert_eq!(site.record(&ada).status, Status::Confirmed);
            assert_eq!(site.waitlist.place("gala", ada.seq.unwrap()).await.unwrap(), 1);
            let r = site.waitlist.release("gala", 4, false, None).await.unwrap().unwrap();
            assert_eq!(ids(&r), [ada.id.as_str()], "the head is read again, not skipped for good");
        });
    }

    #[test]
    fn bad_reports_are_refused_with_nothing_stored() {
        let site = site();
        let w = &site.waitlist;
        site.in_line("ada@example.com", None, 1);
        block_on(async {
            assert_eq!(w.release("gala", 1, false, None).await.unwrap(), Err(OfferRefused::Manual));
            site.automatic(Fit::Strict);
            let before = site.rig.store.keys();
            for seats in [0, -1, i64::from(MAX_SEATS) + 1, i64::MAX, i64::MIN] {
                assert_eq!(
                    w.release("gala", seats, false, None).await.unwrap(),
                    Err(OfferRefused::Seats),
                    "{seats}"
                );
            }
            assert_eq!(site.rig.store.keys(), before);
            site.update(|s| s.active = false);
            assert_eq!(w.release("gala", 1, false, None).await.unwrap(), Err(OfferRefused::Inactive));
            let r = w.release("nobody-here", 1, false, None).await.unwrap();
            assert_eq!(r, Err(OfferRefused::Manual), "an event never set up is manual");
        });
    }

    #[test]
    fn a_declined_offer_ends_the_signup_and_passes_its_seats_on_at_once() {
        let site = site();
        site.automatic(Fit::Strict);
        let w = &site.waitlist;
        let (ada, bob) = (site.in_line("ada@example.com", None, 2), site.in_line("bob@example.com", None, 2));
        block_on(async {
            w.release("gala", 2, false, None).await.unwrap().unwrap();
            let offer = w.offer_record("gala", 1).await.unwrap().unwrap();
            assert!(offer
                .link
                .as_deref()
                .unwrap()
                .starts_with("https://shop.example/events/gala/claim?offer="));
            let code = w.offer_code(&offer);
            let ended = w.decline_by_code(&code, None).await.unwrap().unwrap();
            assert_eq!(ended.offer.status, OfferStatus::Declined);
            assert_eq!(
                ended.passed_on.iter().map(|o| o.signup.as_str()).collect::<Vec<_>>(),
                [bob.id.as_str()]
            );
            assert_eq!(site.record(&ada).status, Status::Declined);
            assert_eq!(site.record(&bob).status, Status::Offered);
            let again = w.decline_by_code(&code, None).await.unwrap();
            assert!(matches!(again, Err(DeclineProblem::Ended(_))), "declining twice: {again:?}");
            let forged = format!("{}x", code);
            assert!(matches!(w.decline_by_code(&forged, None).await.unwrap(), Err(DeclineProblem::Link(_))));
            let other = w.signer.seal(Kind::Offer, &code_body("other", 1), offer.expires);
            assert!(matches!(w.decline_by_code(&other, None).await.unwrap(), Err(DeclineProblem::Link(_))));
            // Ada may sign up again: her address is free.
            site.in_line("ada@example.com", None, 1);
        });
    }

    #[test]
    fn an_offer_expires_on_the_clock_and_passes_on_and_a_withdrawn_one_puts_the_signup_back() {
        let site = site();
        site.automatic(Fit::Strict);
        site.update(|s| s.offer_hours = 2);
        let w = &site.waitlist;
        let (ada, bob, cy) = (
            site.in_line("ada@example.com", None, 1),
            site.in_line("bob@example.com", None, 1),
            site.in_line("cy@example.com", None, 1),
        );
        block_on(async {
            w.release("gala", 1, false, None).await.unwrap().unwrap();
            site.rig.clock.advance(Duration::from_secs(2 * 3600 - 1));
            assert_eq!(w.expire_offers(None).await.unwrap(), 0, "not yet");
            site.rig.clock.advance(Duration::from_secs(1));
            assert_eq!(w.expire_offers(None).await.unwrap(), 1);
            assert_eq!(site.record(&ada).status, Status::Lapsed);
            assert_eq!(site.record(&bob).status, Status::Offered, "passed on to bob");
            assert_eq!(w.expire_offers(None).await.unwrap(), 0, "bob's offer has its own two hours");

            let withdrawn = w.end_offer("gala", 2, Ending::Withdrawn, None).await.unwrap().unwrap();
            assert!(withdrawn.passed_on.is_empty(), "withdrawn seats are staff's again");
            assert_eq!(site.record(&bob).status, Status::Confirmed);
            assert_eq!(w.place("gala", bob.seq.unwrap()).await.unwrap(), 1, "back in his place");
            assert_eq!(w.place("gala", cy.seq.unwrap()).await.unwrap(), 2);
            let r = w.release("gala", 1, false, None).await.unwrap().unwrap();
            assert_eq!(ids(&r), [bob.id.as_str()], "the next report reads from his place again");
            let taken = w.end_offer("gala", 3, Ending::Taken, None).await.unwrap().unwrap();
            assert_eq!(taken.offer.status, OfferStatus::Taken);
            assert_eq!(site.record(&bob).status, Status::Booked);
            assert_eq!(
                w.end_offer("gala", 3, Ending::Withdrawn, None).await.unwrap(),
                Err(OfferRefused::Ended("taken"))
            );
            assert_eq!(
                w.end_offer("gala", 99, Ending::Taken, None).await.unwrap(),
                Err(OfferRefused::NotFound("offer"))
            );
        });
    }

    #[test]
    fn blacklisted_customers_are_passed_over_without_a_word() {
        let site = site();
        site.automatic(Fit::Strict);
        let blacklist = test_blacklist(site.rig.store.clone(), EmailHasher::PlainSha256, Lifecycle::Resident);
        let (eve, bob) =
            (site.in_line("eve@example.com", Some("eve"), 1), site.in_line("bob@example.com", None, 1));
        block_on(async {
            // Listed after she confirmed.
            let key = entry_key(&Identity::Account("eve".into()), &Scope::Platform);
            site.rig.store.set(&key, b"{}", None).await.unwrap();
            let mails = site.mails();
            let r = site.waitlist.release("gala", 1, false, Some(&blacklist)).await.unwrap().unwrap();
            assert_eq!((ids(&r), r.skipped_blacklisted), (vec![bob.id.as_str()], 1));
            assert_eq!(site.record(&eve).status, Status::Confirmed, "untouched, and told nothing");
            assert_eq!(site.mails(), mails + 1, "one mail: bob's offer");
        });
    }

    #[test]
    fn staff_offer_one_signup_with_their_own_link_and_text_in_either_mode() {
        let site = site();
        let w = &site.waitlist;
        let (ada, bob) = (site.in_line("ada@example.com", None, 2), site.in_line("bob@example.com", None, 2));
        block_on(async {
            let none = w.offer_to("gala", &bob.id, StaffOffer::default()).await.unwrap();
            assert!(matches!(none, Err(OfferRefused::Input(_))), "no link and no template: {none:?}");
            let staff = StaffOffer {
                link: Some("https://pay.example/r/77".into()),
                text: Some("Row 5, seats 1 and 2.".into()),
                hours: Some(3),
            };
            let n = w.offer_to("gala", &bob.id, staff.clone()).await.unwrap().unwrap();
            assert_eq!((n.signup.as_str(), n.offer), (bob.id.as_str(), Some(1)));
            let offer = w.offer_record("gala", 1).await.unwrap().unwrap();
            assert_eq!((offer.origin, offer.expires - offer.made), (OfferOrigin::Staff, 3 * 3600));
            assert_eq!(w.place("gala", ada.seq.unwrap()).await.unwrap(), 1);
            let twice = w.offer_to("gala", &bob.id, staff.clone()).await.unwrap();
            assert_eq!(twice, Err(OfferRefused::NotWaiting("offered")));
            for bad in [
                StaffOffer { link: Some("javascript:alert(1)".into()), ..staff.clone() },
                StaffOffer { text: Some("\u{7}".into()), ..staff.clone() },
                StaffOffer { hours: Some(0), ..staff.clone() },
            ] {
                assert!(matches!(
                    w.offer_to("gala", &ada.id, bad).await.unwrap(),
                    Err(OfferRefused::Input(_))
                ));
            }
            assert_eq!(
                w.offer_to("gala", "nobody", staff).await.unwrap(),
                Err(OfferRefused::NotFound("signup"))
            );
        });
    }
}
