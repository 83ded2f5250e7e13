//! How offers end: taken, declined (the customer's link), expired (the sweep) or withdrawn;
//! declined and expired seats pass on in automatic mode.

use super::*;

impl<S: Store + Clone> Waitlist<S> {
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
        let ended = self.under_lock(event, self.end_offer_locked(event, number, how, blacklist)).await?;
        ended.unwrap_or(Ok(Err(OfferRefused::Busy)))
    }

    pub(super) async fn end_offer_locked(
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
        items.push(self.signup_item(&signup, None)?);
        let passes_on = matches!(how, Ending::Declined | Ending::Expired)
            && settings.mode == Mode::Automatic
            && settings.active;
        if passes_on {
            // The seats are held in the same write that ends the offer: if passing them on
            // fails or the node dies now, the next report or ending hands them out.
            let held = self.held(event).await? + offer.tickets;
            items.push(item(keys::seat_pool(event), held.to_string().into_bytes(), None));
        }
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
        let passed_on = if passes_on {
            let held = self.held(event).await?;
            let choice = self.choose(event, &settings, held, blacklist).await?;
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
}
