//! Reports of freed seats: who gets them, in line order under the event's fit rule, and the one
//! write that stores the offers with their mails.

use super::*;
use crate::app::waitlist::history::MailNumbers;

impl<S: Store + Clone> Waitlist<S> {
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
        match self.under_lock(event, self.release_locked(event, seats, &settings, blacklist)).await? {
            Some(release) => Ok(Ok(release?)),
            None => Ok(Err(OfferRefused::Busy)),
        }
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

    pub(super) fn notices(
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
    pub(super) async fn held(&self, event: &str) -> Result<u32, StoreError> {
        let raw = self.ports.store.get(&keys::seat_pool(event)).await?;
        Ok(u32::try_from(number_in(&raw)).unwrap_or(u32::MAX).min(MAX_SEATS))
    }

    /// Walks the line from its head and decides who gets `seats`.
    pub(super) async fn choose(
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
            for (((seq, _), raw), key) in held.iter().zip(records).zip(&signup_keys) {
                if *seq != expected {
                    // A number taken by a confirmation still being written (or whose writer
                    // failed): the head stays before it, so it is read again next time.
                    waiting_seen = true;
                }
                expected = seq + 1;
                let waiting = self.ports.open::<Signup>(key, raw)?.filter(|s| s.status == Status::Confirmed);
                let Some(signup) = waiting else {
                    if !waiting_seen {
                        choice.head = seq + 1;
                    }
                    continue;
                };
                if chooser.done() {
                    break 'walk;
                }
                // Passed over anyway (first fit): no blacklist lookup. Would get seats or would
                // hold up the line (strict): a listed customer does neither.
                if chooser.verdict(signup.tickets) != Verdict::Pass && self.listed(&signup, blacklist).await?
                {
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
    pub(super) async fn listed(
        &self,
        signup: &Signup,
        blacklist: Option<&Blacklist<S>>,
    ) -> Result<bool, StoreError> {
        let Some(b) = blacklist else { return Ok(false) };
        let email = Some(signup.email.as_str()).filter(|_| !signup.box_office_address);
        match b.is_listed(&signup.event, email, signup.account.as_deref()).await {
            Some(listed) => Ok(listed),
            None => Err(StoreError::Unavailable("blacklist lookup failed".into())),
        }
    }

    /// Stores the offers of `choice` with their mails, the seats held and the line's new head,
    /// in one write; then counts the offered signups out of the line. Answers the offer numbers.
    pub(super) async fn make_offers(
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
    /// answers their numbers and how many messages were queued.
    pub(super) async fn offer_items(
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
        let recipients = self.recipients(settings, origin, chosen);
        let m = recipients.messages();
        // The offers' numbers and their messages' (outbox and history) in one round trip.
        let steps = [
            (keys::offer_counter(event), k),
            outbox::reserve_step(m),
            (keys::message_counter(event), m as i64),
        ];
        let taken = store.increment_many(&steps).await?;
        let last = taken[0].max(k) as u64;
        let first_message = MailNumbers {
            outbox: outbox::reserved_from(taken[1], m),
            history: (taken[2].max(m as i64) as u64) + 1 - m,
        };
        let now = self.now();
        let hours = staff.hours.unwrap_or(settings.offer_hours);
        let expires = now + u64::from(hours) * 3600;
        let mut made = Vec::with_capacity(chosen.len());
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
            items.push(item(keys::offer(event, number), encode(&offer)?, None));
            items.push(self.signup_item(&signup, None)?);
            made.push((offer, signup));
        }
        let queued = self.offer_messages(settings, &recipients, &made, first_message, items)?;
        let numbers = made.iter().map(|(offer, _)| offer.number).collect();
        Ok((numbers, queued))
    }

    /// Counts offered signups out of the line: those behind move up, the caps count them no more.
    pub(super) async fn count_out_of_line(&self, event: &str, chosen: &[Chosen]) -> Result<(), StoreError> {
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
}
