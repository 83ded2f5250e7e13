//! The waitlist's use cases over the ports, one file each: [`signup`], [`confirm`], [`cancel`],
//! [`view`] (the place in line, a link's signup, my signups) and [`staff`] (box-office
//! sessions). Each answers an outcome for a page to show; none scans a list: a place in line is
//! one `get_many` of at most 24 counters.
//!
//! Writes that belong together go in one `set_many` (a signup, its address marker, its mail).
//! Claims decide races: one signup per address (`addr`), one numbered confirmation per signup
//! (`confirming`, with a lease so a crashed confirmation can be retried), one counted
//! cancellation (`cancelling`).

pub mod broadcast;
mod cancel;
mod confirm;
pub mod erase;
mod news;
pub mod offers;
pub mod preview;
pub mod retention;
mod signup;
pub mod staff;
pub mod staff_work;
mod view;

use std::net::IpAddr;
use std::time::Duration;

pub use self::cancel::CancelOutcome;
pub use self::confirm::ConfirmOutcome;
pub use self::offers::{DeclineProblem, Ended, Ending, OfferNotice, OfferRefused, Release, StaffOffer};
pub use self::signup::{SignupOutcome, SignupRequest};
pub use self::view::place_of;
use super::Waitlist;
use crate::core::waitlist::link::{self, Kind, TokenError};
use crate::core::waitlist::{keys, limits, Signup, WaitlistSettings};
use crate::ports::store::{SetItem, Store, StoreError};

/// Pending signups stay readable this long past their link's expiry (for a clear "expired").
pub(in crate::app::waitlist) const PENDING_GRACE: u64 = 24 * 3600;

/// How long a manage link lives.
pub const MANAGE_FOR: u64 = 400 * 24 * 3600;

/// Signups shown on "my signups" (the newest).
pub const MINE_LIMIT: u64 = 50;

pub(in crate::app::waitlist) fn decode<T: serde::de::DeserializeOwned>(raw: Option<Vec<u8>>) -> Option<T> {
    raw.and_then(|v| serde_json::from_slice(&v).ok())
}

pub(in crate::app::waitlist) fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Failed(format!("encoding: {e}")))
}

pub(in crate::app::waitlist) fn item(key: String, value: Vec<u8>, ttl: Option<Duration>) -> SetItem {
    SetItem { key, value, ttl }
}

pub(in crate::app::waitlist) fn counter_value(raw: &Option<Vec<u8>>) -> u64 {
    raw.as_deref()
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0) as u64
}

impl<S: Store + Clone> Waitlist<S> {
    /// Puts `action` at `event` by `actor` (an audit label) into the event's organizer's audit
    /// log (the platform's for an event no organizer owns), with `detail` (never personal
    /// data). A failed write is logged; the action stands.
    pub(in crate::app::waitlist) async fn audit_event(
        &self,
        event: &str,
        action: crate::core::blacklist::audit::AuditAction,
        actor: String,
        detail: String,
    ) {
        use crate::core::blacklist::audit::AuditRecord;
        let organizer = match self.ports.store.get(&crate::core::blacklist::event_key(event)).await {
            Ok(Some(o)) => String::from_utf8_lossy(&o).into_owned(),
            _ => "*".to_owned(),
        };
        let record = AuditRecord {
            event: Some(event.to_owned()),
            detail: Some(detail),
            ..AuditRecord::change(self.ports.clock.unix_ms(), &organizer, action, actor, ("event", event))
        };
        if let Err(e) = crate::app::audit::write(&self.ports, &record).await {
            tracing::error!(error = %e, ?action, "audit log write failed");
        }
    }
}

impl<S: Store + Clone> Waitlist<S> {
    /// The event's settings (`None`: never set up).
    pub async fn settings(&self, event: &str) -> Result<Option<WaitlistSettings>, StoreError> {
        Ok(decode(self.ports.store.get(&keys::settings(event)).await?))
    }

    /// A signup's record.
    pub async fn signup_record(&self, event: &str, id: &str) -> Result<Option<Signup>, StoreError> {
        let key = keys::signup(event, id);
        self.ports.open(&key, self.ports.store.get(&key).await?)
    }

    /// The write that stores `signup`, sealed (it holds personal data).
    pub(in crate::app::waitlist) fn signup_item(
        &self,
        signup: &Signup,
        ttl: Option<Duration>,
    ) -> Result<SetItem, StoreError> {
        let key = keys::signup(&signup.event, &signup.id);
        let value = self.ports.seal(&key, signup)?;
        Ok(item(key, value, ttl))
    }

    pub(in crate::app::waitlist) fn address_hash(&self, event: &str, canonical: &str) -> String {
        self.signer.digest("address", &format!("{event}\n{canonical}"))
    }

    /// What makes a signup one of a kind at `event`: the canonical address, or for signups
    /// with the box-office address (which many share) the phone number's digits.
    pub(in crate::app::waitlist) fn identity_hash(
        &self,
        event: &str,
        canonical: &str,
        box_office_phone: Option<&str>,
    ) -> String {
        match box_office_phone {
            Some(phone) => {
                let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
                self.signer.digest("box-office-phone", &format!("{event}\n{digits}"))
            }
            None => self.address_hash(event, canonical),
        }
    }

    /// The identity hash of a stored signup (its fields were checked when it was made).
    pub(in crate::app::waitlist) fn address_of(&self, signup: &Signup) -> String {
        let canonical = crate::core::email::canonicalize(&signup.email, self.rules).unwrap_or_default();
        let phone = signup.phone.as_deref().filter(|_| signup.box_office_address);
        self.identity_hash(&signup.event, &canonical, phone)
    }

    pub(in crate::app::waitlist) fn account_hash(&self, account: &str) -> String {
        self.signer.digest("account", account)
    }

    /// A fixed-window limit: whether `who` is still within `limit` per `window` seconds.
    pub(in crate::app::waitlist) async fn within(
        &self,
        what: &str,
        who: &str,
        limit: u32,
        window: u64,
    ) -> Result<bool, StoreError> {
        let slot = self.now() / window;
        let n = self
            .ports
            .store
            .increment(&keys::rate(what, who, slot), 1, Some(Duration::from_secs(window)))
            .await?;
        Ok(n <= i64::from(limit))
    }

    /// Whether a client may post another form now: its browser session (the CSRF cookie's
    /// nonce) within its limit, and its network (when the host gives an address) within the
    /// limit of all clients there ([`crate::core::waitlist::limits`]).
    pub async fn posts_within_limits(
        &self,
        session: &str,
        client: Option<IpAddr>,
    ) -> Result<bool, StoreError> {
        if !self.within("session", session, self.config.per_client_per_10_minutes, 600).await? {
            return Ok(false);
        }
        match client {
            Some(ip) => {
                self.within("net", &limits::network(ip), self.config.per_network_per_10_minutes, 600).await
            }
            None => Ok(true),
        }
    }

    /// The keyed hash of the mailbox an address reaches, for the per-mailbox limit (no event in
    /// it: one mailbox over all events).
    pub(in crate::app::waitlist) fn mailbox_hash(&self, email: &str, canonical: &str) -> String {
        let mailbox = limits::mailbox(email).unwrap_or_else(|| canonical.to_owned());
        self.signer.digest("mailbox", &mailbox)
    }

    /// The confirmation link for a signup.
    pub fn confirm_token(&self, signup: &Signup) -> String {
        self.signer.seal(Kind::Confirm, &link::signup_body(&signup.event, &signup.id), signup.expires)
    }

    /// The manage link for a signup.
    pub fn manage_token(&self, signup: &Signup) -> String {
        self.signer.seal(Kind::Manage, &link::signup_body(&signup.event, &signup.id), self.now() + MANAGE_FOR)
    }

    /// The signup a link of `kind` points to.
    pub(in crate::app::waitlist) async fn signup_of(
        &self,
        kind: Kind,
        token: &str,
    ) -> Result<Result<Signup, TokenError>, StoreError> {
        let body = match self.signer.open(kind, token, self.now()) {
            Ok(b) => b,
            Err(e) => return Ok(Err(e)),
        };
        let Some((event, id)) = link::parse_signup_body(body) else { return Ok(Err(TokenError::Malformed)) };
        Ok(self.signup_record(event, id).await?.ok_or(TokenError::Expired))
    }

    /// The event a (possibly expired) link names, for "sign up again".
    pub fn event_of_token(token: &str) -> Option<String> {
        let body = token.rsplit_once('.')?.0.rsplit_once('.')?.0;
        link::parse_signup_body(body).map(|(e, _)| e.to_owned())
    }

    /// The signed-in customer's account in `headers`, if the session cookie holds a valid token
    /// within its times (`exp`, `nbf`) for one account.
    pub fn account(&self, headers: &http::HeaderMap) -> Option<String> {
        self.session.as_ref()?.signed_in_account(headers, self.now())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::app::waitlist::testing::site;

    #[test]
    fn a_rate_window_counts_within_its_slot_and_a_new_slot_starts_over() {
        crate::testkit::block_on(async {
            let site = site();
            let w = &site.waitlist;
            for _ in 0..3 {
                assert!(w.within("t", "who", 3, 600).await.unwrap());
            }
            assert!(!w.within("t", "who", 3, 600).await.unwrap(), "the fourth in the window");
            assert!(w.within("t", "someone else", 3, 600).await.unwrap());
            site.rig.clock.advance(Duration::from_secs(600));
            assert!(w.within("t", "who", 3, 600).await.unwrap(), "a new window");
        });
    }

    #[test]
    fn links_name_their_signup_and_kinds_do_not_stand_in_for_each_other() {
        crate::testkit::block_on(async {
            let site = site();
            let ada = site.join("ada@example.com", None);
            let confirm = site.waitlist.confirm_token(&ada);
            let manage = site.waitlist.manage_token(&ada);
            assert_eq!(
                Waitlist::<crate::testkit::MemoryStore>::event_of_token(&confirm).as_deref(),
                Some("gala")
            );
            assert_eq!(site.waitlist.signup_of(Kind::Confirm, &confirm).await.unwrap().unwrap().id, ada.id);
            assert_eq!(
                site.waitlist.signup_of(Kind::Manage, &confirm).await.unwrap(),
                Err(TokenError::Forged)
            );
            assert_eq!(site.waitlist.signup_of(Kind::Manage, &manage).await.unwrap().unwrap().id, ada.id);
            let a = site.waitlist.identity_hash("gala", "ada@example.com", None);
            let b = site.waitlist.identity_hash("gala", "ada@example.com", Some("+31 6 1234"));
            assert_ne!(a, b, "the box office's signups are one of a kind by phone");
            assert_ne!(a, site.waitlist.identity_hash("jazz", "ada@example.com", None), "per event");
        });
    }
}
