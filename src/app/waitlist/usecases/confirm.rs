//! Confirming a signup by its link: the place in line, within the event's caps, exactly once.

use std::time::Duration;

use super::super::compose::{self, MailKind};
use super::super::Waitlist;
use super::*;
use crate::core::waitlist::link::{Kind, TokenError};
use crate::core::waitlist::{keys, Signup, Status, WaitlistSettings};
use crate::ports::store::{Store, StoreError};

/// How long a confirmation holds its claim; a confirmation that died can be retried after it.
const CONFIRM_LEASE: Duration = Duration::from_secs(60);

/// What following a confirmation link came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmOutcome {
    /// In line at `place`.
    Confirmed {
        /// The signup.
        signup: Signup,
        /// Its place.
        place: u64,
        /// The event's title.
        title: String,
    },
    /// The link was used before; the signup is at `place`.
    AlreadyUsed {
        /// The signup.
        signup: Signup,
        /// Its place, if still in line.
        place: Option<u64>,
    },
    /// The link or the signup has expired.
    Expired {
        /// The event, to sign up again.
        event: String,
    },
    /// Not a link of ours.
    Invalid,
    /// The list is at its cap.
    Full {
        /// The event.
        event: String,
        /// The event's title.
        title: String,
    },
    /// The waitlist is deactivated (the signup stays pending).
    Closed {
        /// The event.
        event: String,
    },
    /// The signup was cancelled.
    Cancelled {
        /// The signup.
        signup: Signup,
    },
}

impl<S: Store + Clone> Waitlist<S> {
    /// The signup a confirmation link shows before it is followed.
    pub async fn preview(&self, token: &str) -> Result<Result<Signup, TokenError>, StoreError> {
        self.signup_of(Kind::Confirm, token).await
    }

    /// Follows a confirmation link: the signup gets the next number, the customer their place.
    pub async fn confirm(&self, token: &str) -> Result<ConfirmOutcome, StoreError> {
        let expired = || ConfirmOutcome::Expired { event: Self::event_of_token(token).unwrap_or_default() };
        let signup = match self.signup_of(Kind::Confirm, token).await? {
            Ok(s) => s,
            Err(TokenError::Expired) => return Ok(expired()),
            Err(_) => return Ok(ConfirmOutcome::Invalid),
        };
        let store = &self.ports.store;
        let event = signup.event.clone();
        let tag = token.rsplit_once('.').map(|(_, t)| t).unwrap_or_default();
        if store.get(&keys::link_used(&event, tag)).await?.is_some() {
            let place = match signup.seq {
                Some(seq) if signup.status == Status::Confirmed => Some(self.place(&event, seq).await?),
                _ => None,
            };
            return Ok(ConfirmOutcome::AlreadyUsed { signup, place });
        }
        if signup.status == Status::Cancelled {
            return Ok(ConfirmOutcome::Cancelled { signup });
        }
        if signup.status == Status::Pending && !signup.is_active(self.now()) {
            return Ok(expired());
        }
        let settings = self.settings(&event).await?.unwrap_or_else(|| WaitlistSettings::new(&event));
        let title = settings.title.clone();
        if signup.status == Status::Confirmed {
            let place = self.place(&event, signup.seq.unwrap_or(1)).await?;
            return Ok(ConfirmOutcome::Confirmed { signup, place, title });
        }
        self.confirm_pending(signup, &settings, Some(tag)).await
    }

    /// Confirms a pending signup of an event whose `settings` the caller has read: the next
    /// number in line, the caps counted, the "you are on the list" mail queued, all in one
    /// write; `link` is the MAC of the confirmation link followed, marked used in that write.
    pub(in crate::app::waitlist) async fn confirm_pending(
        &self,
        mut signup: Signup,
        settings: &WaitlistSettings,
        link: Option<&str>,
    ) -> Result<ConfirmOutcome, StoreError> {
        let store = &self.ports.store;
        let event = signup.event.clone();
        let title = settings.title.clone();
        if !settings.active {
            return Ok(ConfirmOutcome::Closed { event });
        }
        let claim = keys::confirm_claim(&event, &signup.id);
        if !store.claim(&claim, Some(CONFIRM_LEASE)).await? {
            // Confirming at this moment elsewhere (a double click): wait for it to land.
            for _ in 0..20 {
                self.ports.tasks.sleep(Duration::from_millis(50)).await;
                if let Some(s) = self.signup_record(&event, &signup.id).await? {
                    if let (Status::Confirmed, Some(seq)) = (s.status, s.seq) {
                        let place = self.place(&event, seq).await?;
                        return Ok(ConfirmOutcome::Confirmed { signup: s, place, title });
                    }
                }
            }
            return Err(StoreError::Unavailable("a confirmation of this signup is still under way".into()));
        }
        if !self.reserve_capacity(&event, settings, signup.tickets).await? {
            store.delete(&claim).await?;
            return Ok(ConfirmOutcome::Full { event, title });
        }
        // The line number and the numbers of the mail that tells it, in one round trip.
        let (numbers, seq) = self.reserve_mail_with(&event, Some((keys::line_counter(&event), 1))).await?;
        let seq = seq.unwrap_or(1).max(1) as u64;
        signup.status = Status::Confirmed;
        signup.seq = Some(seq);
        signup.confirmed = Some(self.now());
        let address = self.address_of(&signup);
        let place = self.place(&event, seq).await?;
        let mut items = vec![
            self.signup_item(&signup, None)?,
            item(keys::line_entry(&event, seq), signup.id.clone().into_bytes(), None),
            item(keys::address_claim(&event, &address), b"1".to_vec(), None),
            item(keys::address_signup(&event, &address), signup.id.clone().into_bytes(), None),
        ];
        if let Some(tag) = link {
            let keep = Duration::from_secs(signup.expires.saturating_sub(self.now()) + PENDING_GRACE);
            items.push(item(keys::link_used(&event, tag), b"1".to_vec(), Some(keep)));
        }
        let mail = compose::mail(self, MailKind::Confirmed, &signup, settings, Some(place), numbers.outbox);
        let queued = mail.is_ok();
        if let Ok(mail) = mail {
            items.extend(self.queue_mail(numbers, mail, MailKind::Confirmed.as_str(), &signup)?);
        }
        store.set_many(&items).await?;
        if queued {
            self.ports.events.mail_queued();
        }
        Ok(ConfirmOutcome::Confirmed { signup, place, title })
    }

    /// Counts a confirmation against the event's caps; `false` (and nothing counted) when full.
    pub(in crate::app::waitlist) async fn reserve_capacity(
        &self,
        event: &str,
        settings: &WaitlistSettings,
        tickets: u32,
    ) -> Result<bool, StoreError> {
        let store = &self.ports.store;
        let signups = store.increment(&keys::signups_count(event), 1, None).await?;
        let total = store.increment(&keys::tickets_count(event), i64::from(tickets), None).await?;
        let over = settings.max_signups.is_some_and(|m| signups > i64::from(m))
            || settings.max_tickets_total.is_some_and(|m| total > i64::from(m));
        if over {
            store.increment(&keys::signups_count(event), -1, None).await?;
            store.increment(&keys::tickets_count(event), -i64::from(tickets), None).await?;
        }
        Ok(!over)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::app::waitlist::testing::site;

    #[test]
    fn a_link_confirms_once_within_the_caps_until_it_expires() {
        crate::testkit::block_on(async {
            let site = site();
            site.update(|s| s.max_signups = Some(1));
            let ada = site.join("ada@example.com", None);
            let token = site.waitlist.confirm_token(&ada);
            assert!(matches!(
                site.waitlist.confirm(&token).await.unwrap(),
                ConfirmOutcome::Confirmed { place: 1, .. }
            ));
            let again = site.waitlist.confirm(&token).await.unwrap();
            assert!(matches!(again, ConfirmOutcome::AlreadyUsed { place: Some(1), .. }), "{again:?}");
            let bob = site.join("bob@example.com", None);
            let full = site.waitlist.confirm(&site.waitlist.confirm_token(&bob)).await.unwrap();
            assert!(matches!(full, ConfirmOutcome::Full { .. }), "the list is at its cap: {full:?}");
            site.update(|s| s.max_signups = None);
            let cy = site.join("cy@example.com", None);
            site.rig
                .clock
                .advance(Duration::from_secs(WaitlistSettings::new("gala").confirm_within_secs + 1));
            let late = site.waitlist.confirm(&site.waitlist.confirm_token(&cy)).await.unwrap();
            assert!(matches!(late, ConfirmOutcome::Expired { .. }), "{late:?}");
            assert!(matches!(site.waitlist.confirm("not-a-token").await.unwrap(), ConfirmOutcome::Invalid));
        });
    }
}
