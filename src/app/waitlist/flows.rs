//! The waitlist's use cases over the store. Each answers an outcome for the page to show; none
//! scans a list: a place in line is one `get_many` of at most 24 counters.
//!
//! Writes that belong together go in one `set_many` (a signup, its address marker, its mail).
//! Claims decide races: one signup per address (`addr`), one numbered confirmation per signup
//! (`confirming`, with a lease so a crashed confirmation can be retried), one counted
//! cancellation (`cancelling`).

use std::time::Duration;

use super::compose::{self, MailKind};
use super::{Unavailable, Waitlist};
use crate::app::blacklist::Blacklist;
use crate::app::outbox;
use crate::core::waitlist::form::CheckedSignup;
use crate::core::waitlist::link::{self, Kind, TokenError};
use crate::core::waitlist::{keys, line, Lang, Signup, Status, WaitlistSettings};
use crate::ports::store::{SetItem, Store, StoreError};

/// How long a confirmation holds its claim; a confirmation that died can be retried after it.
const CONFIRM_LEASE: Duration = Duration::from_secs(60);
/// Pending signups stay readable this long past their link's expiry (for a clear "expired").
const PENDING_GRACE: u64 = 24 * 3600;
/// How long a manage link lives.
pub const MANAGE_FOR: u64 = 400 * 24 * 3600;
/// Signups shown on "my signups" (the newest).
pub const MINE_LIMIT: u64 = 50;

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

/// What a cancellation came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// Cancelled now (or before: cancelling twice is harmless).
    Cancelled {
        /// The signup.
        signup: Box<Signup>,
    },
    /// No such signup (or not the caller's).
    NotFound,
}

fn decode<T: serde::de::DeserializeOwned>(raw: Option<Vec<u8>>) -> Option<T> {
    raw.and_then(|v| serde_json::from_slice(&v).ok())
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Failed(format!("encoding: {e}")))
}

fn item(key: String, value: Vec<u8>, ttl: Option<Duration>) -> SetItem {
    SetItem { key, value, ttl }
}

fn counter_value(raw: &Option<Vec<u8>>) -> u64 {
    raw.as_deref()
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0) as u64
}

/// The place in line of number `seq` at `event` in `store`: one read of at most 24 counters.
pub async fn place_of(store: &impl Store, event: &str, seq: u64) -> Result<u64, StoreError> {
    let nodes: Vec<String> =
        line::nodes_to_read(seq.saturating_sub(1)).into_iter().map(|n| keys::left_node(event, n)).collect();
    let left: u64 = store.get_many(&nodes).await?.iter().map(counter_value).sum();
    Ok(line::place(seq, left))
}

impl<S: Store + Clone> Waitlist<S> {
    /// The event's settings (`None`: never set up).
    pub async fn settings(&self, event: &str) -> Result<Option<WaitlistSettings>, StoreError> {
        Ok(decode(self.ports.store.get(&keys::settings(event)).await?))
    }

    /// A signup's record.
    pub async fn signup_record(&self, event: &str, id: &str) -> Result<Option<Signup>, StoreError> {
        Ok(decode(self.ports.store.get(&keys::signup(event, id)).await?))
    }

    fn address_hash(&self, event: &str, canonical: &str) -> String {
        self.signer.digest("address", &format!("{event}\n{canonical}"))
    }

    /// What makes a signup one of a kind at `event`: the canonical address, or for signups
    /// with the box-office address (which many share) the phone number's digits.
    fn identity_hash(&self, event: &str, canonical: &str, box_office_phone: Option<&str>) -> String {
        match box_office_phone {
            Some(phone) => {
                let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
                self.signer.digest("box-office-phone", &format!("{event}\n{digits}"))
            }
            None => self.address_hash(event, canonical),
        }
    }

    /// The identity hash of a stored signup (its fields were checked when it was made).
    fn address_of(&self, signup: &Signup) -> String {
        let canonical = crate::core::email::canonicalize(&signup.email, self.rules).unwrap_or_default();
        let phone = signup.phone.as_deref().filter(|_| signup.box_office_address);
        self.identity_hash(&signup.event, &canonical, phone)
    }

    fn account_hash(&self, account: &str) -> String {
        self.signer.digest("account", account)
    }

    /// A fixed-window limit: whether `who` is still within `limit` per `window` seconds.
    async fn within(&self, what: &str, who: &str, limit: u32, window: u64) -> Result<bool, StoreError> {
        let slot = self.now() / window;
        let n = self
            .ports
            .store
            .increment(&keys::rate(what, who, slot), 1, Some(Duration::from_secs(window)))
            .await?;
        Ok(n <= i64::from(limit))
    }

    /// Whether a client address may post another form now.
    pub async fn client_within_limit(&self, client: &str) -> Result<bool, StoreError> {
        self.within("ip", client, self.config.per_client_per_10_minutes, 600).await
    }

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
        if !request.box_office
            && !self.within("mail", &address, self.config.per_address_per_hour, 3600).await?
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
        let number = outbox::reserve(store).await?;
        let Ok(mail) = compose::mail(self, MailKind::Confirm, &signup, settings, None, number) else {
            store.delete(&claim_key).await?;
            return Ok(SignupOutcome::BadAddress);
        };
        let ttl = Some(Duration::from_secs(pending_for + PENDING_GRACE));
        let mut items = vec![
            item(keys::signup(event, &signup.id), encode(&signup)?, ttl),
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
        items.push(outbox::queue_item(number, mail));
        store.set_many(&items).await?;
        self.ports.events.mail_queued();
        Ok(SignupOutcome::CheckMail)
    }

    /// The live signup holding an address's marker, if any.
    async fn existing(&self, event: &str, address: &str, now: u64) -> Result<Option<Signup>, StoreError> {
        let Some(id) = self.ports.store.get(&keys::address_signup(event, address)).await? else {
            return Ok(None);
        };
        let id = String::from_utf8_lossy(&id).into_owned();
        Ok(self.signup_record(event, &id).await?.filter(|s| s.is_active(now)))
    }

    /// A second signup for an address that has one: a fresh confirmation link while pending, a
    /// note with the manage link once confirmed. The page says the same as for a new signup.
    async fn remind(&self, existing: Signup, settings: &WaitlistSettings) -> Result<(), StoreError> {
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
        let number = outbox::reserve(&self.ports.store).await?;
        if let Ok(mail) = compose::mail(self, kind, &existing, settings, place, number) {
            self.ports.store.set_many(&[outbox::queue_item(number, mail)]).await?;
            self.ports.events.mail_queued();
        }
        Ok(())
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
    async fn signup_of(&self, kind: Kind, token: &str) -> Result<Result<Signup, TokenError>, StoreError> {
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
    async fn confirm_pending(
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
        let seq = store.increment(&keys::line_counter(&event), 1, None).await?.max(1) as u64;
        signup.status = Status::Confirmed;
        signup.seq = Some(seq);
        signup.confirmed = Some(self.now());
        let address = self.address_of(&signup);
        let place = self.place(&event, seq).await?;
        let mut items = vec![
            item(keys::signup(&event, &signup.id), encode(&signup)?, None),
            item(keys::line_entry(&event, seq), signup.id.clone().into_bytes(), None),
            item(keys::address_claim(&event, &address), b"1".to_vec(), None),
            item(keys::address_signup(&event, &address), signup.id.clone().into_bytes(), None),
        ];
        if let Some(tag) = link {
            let keep = Duration::from_secs(signup.expires.saturating_sub(self.now()) + PENDING_GRACE);
            items.push(item(keys::link_used(&event, tag), b"1".to_vec(), Some(keep)));
        }
        let number = outbox::reserve(store).await?;
        let mail = compose::mail(self, MailKind::Confirmed, &signup, settings, Some(place), number);
        let queued = mail.is_ok();
        if let Ok(mail) = mail {
            items.push(outbox::queue_item(number, mail));
        }
        store.set_many(&items).await?;
        if queued {
            self.ports.events.mail_queued();
        }
        Ok(ConfirmOutcome::Confirmed { signup, place, title })
    }

    /// Counts a confirmation against the event's caps; `false` (and nothing counted) when full.
    async fn reserve_capacity(
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

    /// The place in line of number `seq` at `event`: one read of at most 24 counters.
    pub async fn place(&self, event: &str, seq: u64) -> Result<u64, StoreError> {
        let nodes: Vec<String> = line::nodes_to_read(seq.saturating_sub(1))
            .into_iter()
            .map(|n| keys::left_node(event, n))
            .collect();
        let left: u64 = self.ports.store.get_many(&nodes).await?.iter().map(counter_value).sum();
        Ok(line::place(seq, left))
    }

    /// The signup a manage link shows, with its place when in line.
    pub async fn view(&self, token: &str) -> Result<Result<(Signup, Option<u64>), TokenError>, StoreError> {
        let signup = match self.signup_of(Kind::Manage, token).await? {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let place = match (signup.status, signup.seq) {
            (Status::Confirmed, Some(seq)) => Some(self.place(&signup.event, seq).await?),
            _ => None,
        };
        Ok(Ok((signup, place)))
    }

    /// Cancels the signup a manage link points to.
    pub async fn cancel_by_link(&self, token: &str) -> Result<CancelOutcome, StoreError> {
        match self.signup_of(Kind::Manage, token).await? {
            Ok(s) => self.cancel(s).await,
            Err(_) => Ok(CancelOutcome::NotFound),
        }
    }

    /// Cancels `event`'s signup `id` for the signed-in `account`, if it is theirs.
    pub async fn cancel_for_account(
        &self,
        account: &str,
        event: &str,
        id: &str,
    ) -> Result<CancelOutcome, StoreError> {
        match self.signup_record(event, id).await? {
            Some(s) if s.account.as_deref() == Some(account) => self.cancel(s).await,
            _ => Ok(CancelOutcome::NotFound),
        }
    }

    /// Cancels a whole signup; places behind it move up. Twice is harmless.
    pub async fn cancel(&self, mut signup: Signup) -> Result<CancelOutcome, StoreError> {
        let store = &self.ports.store;
        let event = signup.event.clone();
        if signup.status == Status::Cancelled {
            return Ok(CancelOutcome::Cancelled { signup: Box::new(signup) });
        }
        let was = signup.status;
        if !store.claim(&keys::cancel_claim(&event, &signup.id), None).await? {
            signup.status = Status::Cancelled;
            return Ok(CancelOutcome::Cancelled { signup: Box::new(signup) });
        }
        signup.status = Status::Cancelled;
        signup.cancelled = Some(self.now());
        store.set(&keys::signup(&event, &signup.id), &encode(&signup)?, None).await?;
        let address = self.address_of(&signup);
        store.delete(&keys::address_signup(&event, &address)).await?;
        store.delete(&keys::address_claim(&event, &address)).await?;
        if let (Status::Confirmed, Some(seq)) = (was, signup.seq) {
            for node in line::nodes_to_bump(seq) {
                store.increment(&keys::left_node(&event, node), 1, None).await?;
            }
            store.increment(&keys::signups_count(&event), -1, None).await?;
            store.increment(&keys::tickets_count(&event), -i64::from(signup.tickets), None).await?;
        }
        Ok(CancelOutcome::Cancelled { signup: Box::new(signup) })
    }

    /// The signed-in customer's signups, newest first, with their places.
    pub async fn mine(&self, account: &str) -> Result<Vec<(Signup, Option<u64>)>, StoreError> {
        let store = &self.ports.store;
        let h = self.account_hash(account);
        let n = store.increment(&keys::account_count(&h), 0, None).await?.max(0) as u64;
        let first = n.saturating_sub(MINE_LIMIT - 1).max(1);
        let item_keys: Vec<String> = (first..=n).rev().map(|i| keys::account_item(&h, i)).collect();
        let refs: Vec<(String, String)> = store
            .get_many(&item_keys)
            .await?
            .into_iter()
            .flatten()
            .filter_map(|v| {
                let text = String::from_utf8(v).ok()?;
                link::parse_signup_body(&text).map(|(e, i)| (e.to_owned(), i.to_owned()))
            })
            .collect();
        let signup_keys: Vec<String> = refs.iter().map(|(e, i)| keys::signup(e, i)).collect();
        let now = self.now();
        let mut out = Vec::new();
        for raw in store.get_many(&signup_keys).await? {
            let Some(s) = decode::<Signup>(raw) else { continue };
            if s.account.as_deref() != Some(account) || (s.status == Status::Pending && !s.is_active(now)) {
                continue;
            }
            let place = match (s.status, s.seq) {
                (Status::Confirmed, Some(seq)) => Some(self.place(&s.event, seq).await?),
                _ => None,
            };
            out.push((s, place));
        }
        Ok(out)
    }

    /// The signed-in customer's account in `headers`, if the session cookie holds a valid token
    /// within its times (`exp`, `nbf`) for one account.
    pub fn account(&self, headers: &http::HeaderMap) -> Option<String> {
        self.session.as_ref()?.signed_in_account(headers, self.now())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::app::waitlist::WaitlistConfig;
    use crate::app::Ports;
    use crate::core::waitlist::link::Signer;
    use crate::testkit::MemoryStore;
    use crate::testkit::{block_on, FailingRandom, InstantTasks};

    #[test]
    fn a_failed_draw_stores_no_signup_and_counts_no_attempt() {
        block_on(async {
            let store = MemoryStore::default();
            let mut ports = Ports::new(store.clone(), Arc::new(InstantTasks::default()));
            ports.random = Arc::new(FailingRandom);
            let config = WaitlistConfig::new("https://shop.example", "Shop <waitlist@shop.example>");
            let signer = Signer::new(&[7u8; 32]).unwrap();
            let waitlist = Waitlist::new(config, signer, Default::default(), None, ports);
            let mut settings = WaitlistSettings::new("gala");
            (settings.active, settings.sold_out) = (true, true);
            let fields = CheckedSignup {
                email: "ada@example.com".into(),
                canonical_email: "ada@example.com".into(),
                name: "Ada".into(),
                phone: None,
                tickets: 2,
                note: None,
                box_office_address: false,
            };
            let request = SignupRequest {
                event: "gala".into(),
                fields,
                lang: Lang::En,
                account: None,
                box_office: false,
            };
            let outcome = waitlist.signup(request, &settings, None).await;
            assert!(matches!(outcome, Err(Unavailable::Randomness(_))), "{outcome:?}");
            assert!(store.scan_prefix("", 100).await.unwrap().is_empty(), "no claim, no signup, no mail");
        });
    }
}
