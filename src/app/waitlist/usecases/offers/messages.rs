//! Who hears of offers, and their messages: the customer's offer mail, an SMS where the event
//! and the operator switched them on and the signup left a number, a copy of the mail for each
//! staff address where the event asks for copies, and, for a round of automatic offers, one
//! notice to each staff address. Every message is queued in the write that makes the offers.

use super::*;
use crate::app::outbox::Message;
use crate::app::waitlist::compose::ComposeError;
use crate::app::waitlist::history::MailNumbers;
use crate::core::waitlist::sms::international;

/// Who hears of a round of offers.
pub(super) struct Recipients {
    /// Each chosen signup's number for an SMS, if it gets one.
    phones: Vec<Option<String>>,
    /// Staff copies of each offer mail.
    copies: usize,
    /// Notices to staff of the round.
    notices: usize,
}

impl Recipients {
    /// How many messages the round queues (numbers to reserve).
    pub(super) fn messages(&self) -> u64 {
        let per_offer: usize = self.phones.iter().map(|p| 1 + usize::from(p.is_some()) + self.copies).sum();
        (per_offer + self.notices) as u64
    }
}

/// Hands out consecutive message numbers from a reserved block.
struct Numbers(MailNumbers);

impl Numbers {
    fn take(&mut self) -> MailNumbers {
        let taken = self.0;
        self.0 = MailNumbers { outbox: outbox::Reserved(taken.outbox.0 + 1), history: taken.history + 1 };
        taken
    }
}

impl<S: Store + Clone> Waitlist<S> {
    /// Who hears of offers of `origin` to `chosen` under `settings`.
    pub(super) fn recipients(
        &self,
        settings: &WaitlistSettings,
        origin: OfferOrigin,
        chosen: &[Chosen],
    ) -> Recipients {
        let sms = self.config.sms.as_ref().filter(|_| settings.sms);
        let phones = chosen
            .iter()
            .map(|c| {
                let sms = sms?;
                international(c.signup.phone.as_deref()?, sms.country_code.as_deref())
            })
            .collect();
        let staff = settings.staff_addresses.len();
        Recipients {
            phones,
            copies: if settings.staff_copies { staff } else { 0 },
            notices: if origin == OfferOrigin::Automatic { staff } else { 0 },
        }
    }

    /// Adds the messages of `offers` (each with its signup, in `chosen`'s order) to `items`,
    /// numbered from `first`; answers how many were queued. One that cannot be composed is left
    /// out with a warning (its reserved numbers are skipped by the outbox).
    pub(super) fn offer_messages(
        &self,
        settings: &WaitlistSettings,
        recipients: &Recipients,
        offers: &[(Offer, Signup)],
        first: MailNumbers,
        items: &mut Vec<SetItem>,
    ) -> Result<usize, StoreError> {
        let mut numbers = Numbers(first);
        let mut queued = 0;
        let mut queue = |items: &mut Vec<SetItem>,
                         n: MailNumbers,
                         composed: Result<Message, ComposeError>,
                         template: &'static str,
                         event: &str,
                         signup: Option<&Signup>|
         -> Result<(), StoreError> {
            match composed {
                Ok(message) => {
                    items.extend(self.queue_message(n, message, template, event, signup)?);
                    queued += 1;
                }
                Err(e) => tracing::warn!(event, template, error = %e, "waitlist: offer message not composed"),
            }
            Ok(())
        };
        for ((offer, signup), phone) in offers.iter().zip(&recipients.phones) {
            let event = offer.event.as_str();
            let n = numbers.take();
            let mail = compose::offer_mail(self, signup, offer, settings, n.outbox, None);
            queue(items, n, mail.map(Message::from), "offer", event, Some(signup))?;
            if let Some(phone) = phone {
                let n = numbers.take();
                let sms = compose::offer_sms(self, signup, offer, settings, phone.clone(), n.outbox);
                queue(items, n, sms.map(Message::from), "offer", event, Some(signup))?;
            }
            for staff in settings.staff_addresses.iter().take(recipients.copies) {
                let n = numbers.take();
                let copy = compose::offer_mail(self, signup, offer, settings, n.outbox, Some(staff));
                queue(items, n, copy.map(Message::from), "offer-copy", event, Some(signup))?;
            }
        }
        if let Some((first_offer, _)) = offers.first().filter(|_| recipients.notices > 0) {
            let event = first_offer.event.as_str();
            let round: Vec<(&Offer, &Signup)> = offers.iter().map(|(o, s)| (o, s)).collect();
            for staff in settings.staff_addresses.iter().take(recipients.notices) {
                let n = numbers.take();
                let notice = compose::staff_notice(self, event, settings, &round, staff, n.outbox);
                queue(items, n, notice.map(Message::from), "staff-offers", event, None)?;
            }
        }
        Ok(queued)
    }
}
