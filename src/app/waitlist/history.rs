//! Every message of an event, kept in its history: to whom, on which channel, which template,
//! when it was queued, and its fate (queued, sent, failed, delivered where an SMS provider says
//! so) as the outbox's sender notes it. A
//! message and its history record are written in the same `set_many`; the sender writes the
//! fate beside the record when it settles the message ([`crate::app::outbox::Item::note`]), so
//! the history outlives the outbox's settled items. The mails of a signup still pending are kept
//! as long as it is (its link's life and a day): a signup never confirmed leaves no history.

use serde::{Deserialize, Serialize};

#[cfg(doc)]
use super::compose::MailKind;
use super::Waitlist;
use crate::app::outbox::{self, Message, Reserved};
use crate::core::waitlist::{keys, Signup, Status};
use crate::ports::mail::Mail;
use crate::ports::store::{SetItem, Store, StoreError};

/// How a message reaches its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// E-mail, through the outbox.
    Email,
    /// A text message, through the outbox and the operator's SMS webhook.
    Sms,
}

/// One message of an event's history, as stored. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// Its number in the event's history.
    pub number: u64,
    /// Its number in the outbox.
    pub outbox: u64,
    /// The channel.
    pub channel: Channel,
    /// The recipient's address.
    pub to: String,
    /// Which message: `confirm`, `confirmed`, `already`, `offer` (to the customer, by mail or
    /// SMS), `offer-copy` (a staff copy), `staff-offers` (staff told of automatic offers).
    pub template: String,
    /// The signup it is about (empty for a notice to staff about several).
    pub signup: String,
    /// When it was queued.
    pub queued: u64,
}

/// The numbers one mail of an event is queued under: the outbox's and the history's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailNumbers {
    /// In the outbox (also makes its `Message-ID`).
    pub outbox: Reserved,
    /// In the event's history.
    pub history: u64,
}

impl<S: Store + Clone> Waitlist<S> {
    /// The numbers of one mail of `event` (outbox and history), in one round trip.
    pub(in crate::app::waitlist) async fn reserve_mail(
        &self,
        event: &str,
    ) -> Result<MailNumbers, StoreError> {
        Ok(self.reserve_mail_with(event, None).await?.0)
    }

    /// The numbers of one mail of `event`, and `also` counted in the same round trip (the line
    /// number a confirmation takes with its mail): answers `also`'s new value.
    pub(in crate::app::waitlist) async fn reserve_mail_with(
        &self,
        event: &str,
        also: Option<(String, i64)>,
    ) -> Result<(MailNumbers, Option<i64>), StoreError> {
        let mut steps = vec![outbox::reserve_step(1), (keys::message_counter(event), 1)];
        steps.extend(also);
        let taken = self.ports.store.increment_many(&steps).await?;
        let numbers =
            MailNumbers { outbox: outbox::reserved_from(taken[0], 1), history: taken[1].max(1) as u64 };
        Ok((numbers, taken.get(2).copied()))
    }

    /// The writes that queue `mail` about `signup` (`template`: [`MailKind::as_str`], or
    /// `offer`) and note it in its event's history: put
    /// them into the same `set_many` as the change the mail tells about.
    pub(in crate::app::waitlist) fn queue_mail(
        &self,
        numbers: MailNumbers,
        mail: Mail,
        template: &'static str,
        signup: &Signup,
    ) -> Result<[SetItem; 2], StoreError> {
        self.queue_message(numbers, mail.into(), template, &signup.event, Some(signup))
    }

    /// The writes that queue `message` of `event` (about `signup`, if about one) and note it in
    /// the event's history, on the message's channel.
    pub(in crate::app::waitlist) fn queue_message(
        &self,
        numbers: MailNumbers,
        message: Message,
        template: &str,
        event: &str,
        signup: Option<&Signup>,
    ) -> Result<[SetItem; 2], StoreError> {
        let channel = match message {
            Message::Mail(_) => Channel::Email,
            Message::Sms(_) => Channel::Sms,
        };
        let record = MessageRecord {
            number: numbers.history,
            outbox: numbers.outbox.0,
            channel,
            to: message.to().to_owned(),
            template: template.to_owned(),
            signup: signup.map(|s| s.id.clone()).unwrap_or_default(),
            queued: self.now(),
        };
        // A pending signup's mails go with it if it is never confirmed (an anonymous flood of
        // signups leaves nothing behind); the others are kept.
        let keep = signup
            .filter(|s| s.status == Status::Pending)
            .map(|s| s.expires.saturating_sub(self.now()) + super::usecases::PENDING_GRACE);
        let now_ms = self.ports.clock.unix_ms();
        let note = outbox::Note {
            key: keys::message_fate(event, numbers.history),
            until: keep.map(|secs| now_ms + secs * 1000),
        };
        let queued = outbox::queue_noted(&self.ports, numbers.outbox, message, now_ms, Some(note))?;
        let key = keys::message(event, numbers.history);
        let value = self.ports.seal(&key, &record)?;
        let ttl = keep.map(std::time::Duration::from_secs);
        Ok([queued, SetItem { key, value, ttl }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::outbox::{Sender, Settled, State};
    use crate::app::waitlist::testing::site;
    use crate::core::waitlist::WaitlistSettings;
    use crate::ports::mail::MailError;
    use crate::testkit::{block_on, TestMailer};

    fn history(site: &crate::app::waitlist::testing::Site) -> Vec<(MessageRecord, Option<Settled>)> {
        let (store, ports) = (&site.rig.store, site.rig.ports());
        (1..)
            .map_while(|n| {
                let key = keys::message("gala", n);
                let record = ports.open(&key, block_on(store.get(&key)).unwrap()).unwrap()?;
                let fate = block_on(store.get(&keys::message_fate("gala", n))).unwrap();
                Some((record, fate.map(|f| serde_json::from_slice(&f).unwrap())))
            })
            .collect()
    }

    #[test]
    fn every_mail_is_in_its_events_history_with_the_fate_the_sender_notes() {
        let site = site();
        let ada = site.join("ada@example.com", None);
        site.join("bob@bounce.example", None);
        let h = history(&site);
        let templates: Vec<(&str, &str)> =
            h.iter().map(|(r, _)| (r.template.as_str(), r.to.as_str())).collect();
        assert_eq!(templates, [("confirm", "ada@example.com"), ("confirm", "bob@bounce.example")]);
        assert_eq!(h[0].0.signup, ada.id);
        assert!(h.iter().all(|(_, fate)| fate.is_none()), "queued: no fate yet");

        let mailer = TestMailer::default();
        mailer.fail_next([MailError::Transient("later".into())]);
        let sender = Sender::new(&site.rig.ports());
        block_on(sender.drain(&mailer)).unwrap();
        let h = history(&site);
        assert_eq!(h[0].1, None, "a retry is no fate: still queued");
        assert_eq!(h[1].1.as_ref().map(|f| f.state), Some(State::Sent));
        mailer.fail_next([MailError::Permanent("no such user".into())]);
        site.rig.clock.advance(std::time::Duration::from_secs(3600));
        block_on(sender.drain(&mailer)).unwrap();
        let fate = history(&site)[0].1.clone().expect("settled");
        assert_eq!((fate.state, fate.attempts), (State::Failed, 2));
        assert!(fate.error.unwrap().contains("no such user"));
    }

    #[test]
    fn a_signup_never_confirmed_leaves_no_history_and_a_confirmed_ones_mail_stays() {
        let site = site();
        site.join("ghost@example.com", None);
        site.in_line("ada@example.com", None, 1);
        let templates = |site: &crate::app::waitlist::testing::Site| -> Vec<String> {
            history(site).into_iter().map(|(r, _)| format!("{} {}", r.template, r.to)).collect()
        };
        assert_eq!(templates(&site).len(), 3, "two confirmation links and one \"you are on the list\"");
        let gone =
            WaitlistSettings::new("gala").confirm_within_secs + super::super::usecases::PENDING_GRACE + 1;
        site.rig.clock.advance(std::time::Duration::from_secs(gone));
        let ports = site.rig.ports();
        let left: Vec<String> = (1..=3)
            .filter_map(|n| {
                let key = keys::message("gala", n);
                ports.open::<MessageRecord>(&key, block_on(site.rig.store.get(&key)).unwrap()).unwrap()
            })
            .map(|r| format!("{} {}", r.template, r.to))
            .collect();
        assert_eq!(left, ["confirmed ada@example.com"]);
    }
}
