//! Staff's offer to one signup of their choosing, with their own link and text (either mode).

use super::*;

impl<S: Store + Clone> Waitlist<S> {
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
        let offered = self.under_lock(event, self.offer_to_locked(event, id, &settings, &staff)).await?;
        offered.unwrap_or(Ok(Err(OfferRefused::Busy)))
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
}
