//! Signing up: checked fields in, a pending signup and its confirmation mail out (or the
//! normal answer with nothing stored, for the blacklisted and the rate-limited).

use std::time::Duration;

use super::super::compose::{self, MailKind};
use super::super::{Unavailable, Waitlist};
use super::*;
use crate::app::blacklist::Blacklist;
use crate::core::waitlist::form::CheckedSignup;
use crate::core::waitlist::link;
use crate::core::waitlist::{keys, Lang, Signup, Status, WaitlistSettings};
use crate::ports::store::{Store, StoreError};

/// A signup as the form sent it, checked.
#[derive(Debug, Clone)]
pub struct SignupRequest {
    /// The event.
    pub event: String,
    /// The checked fields.
    pub fields: CheckedSignup,
    /// The page's language.
    pub lang: Lang,
    /// The signed-in customer, if any.
    pub account: Option<String>,
    /// Made by box-office staff.
    pub box_office: bool,
}

/// What a signup attempt came to. Customers see the same "check your mail" whether a signup
/// was stored, already existed, or was quietly dropped (blacklisted, honeypot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignupOutcome {
    /// "Check your mail".
    CheckMail,
    /// The event takes no signups.
    Closed,
    /// Too many attempts for this address.
    Limited,
    /// The address is one mail cannot be composed for.
    BadAddress,
    /// Staff signed a customer up with the box-office address: confirmed at once, at `place`.
    Placed {
        /// The signup.
        signup: Box<Signup>,
        /// Its place.
        place: u64,
    },
    /// Staff: the customer is on the list already (a reminder went to their address).
    AlreadyListed,
    /// Staff's signup confirmed at once found the list at its cap; nothing was stored.
    Full,
}

impl<S: Store + Clone> Waitlist<S> {
    /// Signs `request` up for the event whose `settings` the caller has read: pending until
    /// confirmed, its confirmation mail queued with it. Staff signups with the box-office
    /// address are confirmed at once (the address is the organizer's own), and staff's signups
    /// are not rate limited per address.
    pub async fn signup(
        &self,
        request: SignupRequest,
        settings: &WaitlistSettings,
        blacklist: Option<&Blacklist<S>>,
    ) -> Result<SignupOutcome, Unavailable> {
        let event = request.event.as_str();
        if !settings.takes_signups() {
            return Ok(SignupOutcome::Closed);
        }
        // Drawn first: a failed draw leaves nothing behind (no claim, no counted attempt).
        let id = self.random_id()?;
        let f = &request.fields;
        let box_office_phone = f.phone.as_deref().filter(|_| f.box_office_address);
        let address = self.identity_hash(event, &f.canonical_email, box_office_phone);
        let mailbox = self.mailbox_hash(&f.email, &f.canonical_email);
        if !request.box_office
            && !self.within("mailbox", &mailbox, self.config.per_address_per_hour, 3600).await?
        {
            return Ok(SignupOutcome::Limited);
        }
        // The blacklist knows customers' addresses, not the organizer's box-office one.
        if let Some(b) = blacklist.filter(|_| !f.box_office_address) {
            let listed = b.is_listed(event, Some(&request.fields.email), request.account.as_deref()).await;
            match listed {
                // Blacklisted: the normal answer, nothing stored, no mail.
                Some(true) => return Ok(SignupOutcome::CheckMail),
                Some(false) => {}
                None => return Err(StoreError::Unavailable("blacklist lookup failed".into()).into()),
            }
        }
        let store = &self.ports.store;
        let now = self.now();
        let pending_for = settings.confirm_within_secs;
        let claim_key = keys::address_claim(event, &address);
        let mut claimed = store.claim(&claim_key, Some(Duration::from_secs(pending_for))).await?;
        if !claimed {
            match self.existing(event, &address, now).await? {
                Some(existing) => {
                    self.remind(existing, settings).await?;
                    return Ok(if request.box_office {
                        SignupOutcome::AlreadyListed
                    } else {
                        SignupOutcome::CheckMail
                    });
                }
                None => {
                    // A marker without a live signup (an expired one where keys do not expire,
                    // or a writer that failed halfway): free it and try once more.
                    store.delete(&claim_key).await?;
                    store.delete(&keys::address_signup(event, &address)).await?;
                    claimed = store.claim(&claim_key, Some(Duration::from_secs(pending_for))).await?;
                    if !claimed {
                        return Ok(SignupOutcome::CheckMail);
                    }
                }
            }
        }
        let f = request.fields;
        let signup = Signup {
            id,
            event: event.to_owned(),
            email: f.email,
            name: f.name,
            phone: f.phone,
            tickets: f.tickets,
            lang: request.lang,
            account: request.account,
            status: Status::Pending,
            created: now,
            expires: now + pending_for,
            confirmed: None,
            cancelled: None,
            seq: None,
            box_office: request.box_office,
            box_office_address: f.box_office_address,
            note: f.note,
            offer: None,
            anonymised: None,
            informed: f.informed,
        };
        if signup.box_office_address {
            return Ok(match self.confirm_pending(signup, settings, None).await? {
                ConfirmOutcome::Confirmed { signup, place, .. } => {
                    SignupOutcome::Placed { signup: Box::new(signup), place }
                }
                other => {
                    store.delete(&claim_key).await?;
                    match other {
                        ConfirmOutcome::Full { .. } => SignupOutcome::Full,
                        _ => SignupOutcome::Closed,
                    }
                }
            });
        }
        // A number that gets no message (a refused address) is skipped by the sender.
        let numbers = self.reserve_mail(event).await?;
        let Ok(mail) = compose::mail(self, MailKind::Confirm, &signup, settings, None, numbers.outbox) else {
            store.delete(&claim_key).await?;
            return Ok(SignupOutcome::BadAddress);
        };
        let ttl = Some(Duration::from_secs(pending_for + PENDING_GRACE));
        let mut items = vec![
            self.signup_item(&signup, ttl)?,
            item(keys::address_signup(event, &address), signup.id.clone().into_bytes(), ttl),
        ];
        if let Some(account) = &signup.account {
            let h = self.account_hash(account);
            let n = store.increment(&keys::account_count(&h), 1, None).await?.max(1) as u64;
            items.push(item(
                keys::account_item(&h, n),
                link::signup_body(event, &signup.id).into_bytes(),
                None,
            ));
        }
        items.extend(self.queue_mail(numbers, mail, MailKind::Confirm.as_str(), &signup)?);
        store.set_many(&items).await?;
        self.ports.events.mail_queued();
        Ok(SignupOutcome::CheckMail)
    }

    /// The live signup holding an address's marker, if any.
    pub(in crate::app::waitlist) async fn existing(
        &self,
        event: &str,
        address: &str,
        now: u64,
    ) -> Result<Option<Signup>, StoreError> {
        let Some(id) = self.ports.store.get(&keys::address_signup(event, address)).await? else {
            return Ok(None);
        };
        let id = String::from_utf8_lossy(&id).into_owned();
        Ok(self.signup_record(event, &id).await?.filter(|s| s.is_active(now)))
    }

    /// A second signup for an address that has one: a fresh confirmation link while pending, a
    /// note with the manage link once confirmed. The page says the same as for a new signup.
    pub(in crate::app::waitlist) async fn remind(
        &self,
        existing: Signup,
        settings: &WaitlistSettings,
    ) -> Result<(), StoreError> {
        let kind = match existing.status {
            Status::Pending => MailKind::Confirm,
            _ => MailKind::Already,
        };
        let place = match existing.seq {
            Some(seq) if existing.status == Status::Confirmed => {
                Some(self.place(&existing.event, seq).await?)
            }
            _ => None,
        };
        let numbers = self.reserve_mail(&existing.event).await?;
        if let Ok(mail) = compose::mail(self, kind, &existing, settings, place, numbers.outbox) {
            self.ports.store.set_many(&self.queue_mail(numbers, mail, kind.as_str(), &existing)?).await?;
            self.ports.events.mail_queued();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::app::waitlist::WaitlistConfig;
    use crate::core::waitlist::link::Signer;

    use crate::testkit::{block_on, FailingRandom};

    #[test]
    fn a_failed_draw_stores_no_signup_and_counts_no_attempt() {
        let site = crate::app::waitlist::testing::site();
        let mut ports = site.rig.ports();
        ports.random = Arc::new(FailingRandom);
        let config = WaitlistConfig::new("https://shop.example", "Shop <waitlist@shop.example>");
        let waitlist =
            Waitlist::new(config, Signer::new(&[7u8; 32]).unwrap(), Default::default(), None, ports);
        block_on(async {
            let before = site.rig.store.keys();
            let settings = waitlist.settings("gala").await.unwrap().unwrap();
            let request = crate::app::waitlist::testing::signup_request("ada@example.com", None);
            let outcome = waitlist.signup(request, &settings, None).await;
            assert!(matches!(outcome, Err(Unavailable::Randomness(_))), "{outcome:?}");
            assert_eq!(site.rig.store.keys(), before, "no claim, no signup, no mail, no attempt counted");
        });
    }
}
