//! Retention: signups keep their personal data for the organizer's retention days after the
//! event starts, or after a cancellation ([`crate::core::waitlist::retention`]); a pass (a native
//! node runs one an hour) anonymises what is due, on every store.
//!
//! A pass visits every event with waitlist settings ([`keys::WAITLIST_EVENTS`]) and walks its
//! line (every confirmed signup has a number; pending ones expire on their own within their
//! link's life and a day). For the signups due it erases, in this order, so that a pass cut
//! short is finished by the next: staff's notes (under the event's lock, which staff edits
//! take too), the recipients in the event's message history, then the signups themselves,
//! each replaced only if unchanged since it was read (a customer's change meanwhile is never
//! undone; the signup is taken up again next pass). Places, statuses, tickets, offers and line
//! numbers stay, so the line and exports still add up. An event whose retention is over for
//! good is marked with the counters it had, and is walked again only when they grew.

use std::collections::HashSet;

use super::super::Waitlist;
use super::counter_value;
use crate::app::waitlist::history::MessageRecord;
use crate::core::waitlist::retention::{self, DEFAULT_RETENTION_DAYS};
use crate::core::waitlist::{keys, Signup};
use crate::ports::store::{Store, StoreError};

/// Line numbers (and messages) read at once.
const PAGE: u64 = 200;

/// What a retention pass erased.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Events looked at.
    pub events: u64,
    /// Signups anonymised.
    pub signups: u64,
    /// Messages whose recipient was erased.
    pub messages: u64,
}

impl<S: Store + Clone> Waitlist<S> {
    /// One retention pass over every event with a waitlist.
    pub async fn forget_due(&self) -> Result<Forgotten, StoreError> {
        self.list_events_set_up_before_the_index().await?;
        let listed = self.ports.store.get(keys::WAITLIST_EVENTS).await?.unwrap_or_default();
        let events: Vec<String> = keys::event_members(&listed).map(str::to_owned).collect();
        let mut done = Forgotten::default();
        for event in events {
            let (signups, messages) = self.forget_event(&event).await?;
            done.events += 1;
            done.signups += signups;
            done.messages += messages;
            if signups + messages > 0 {
                tracing::info!(event, signups, messages, "retention: personal data erased");
            }
        }
        Ok(done)
    }

    /// Lists the events whose settings were written before [`keys::WAITLIST_EVENTS`] existed:
    /// once per store, by one walk over the waitlist's keys.
    async fn list_events_set_up_before_the_index(&self) -> Result<(), StoreError> {
        let store = &self.ports.store;
        if store.get(keys::WAITLIST_EVENTS_LISTED).await?.is_some() {
            return Ok(());
        }
        let mut cursor = String::new();
        loop {
            let page = store.scan_page("wl:{", &cursor, 500).await?;
            let found: Vec<(String, Vec<u8>)> = page
                .entries
                .iter()
                .filter_map(|e| e.key.strip_prefix("wl:{")?.strip_suffix("}:settings"))
                .map(|event| (keys::WAITLIST_EVENTS.to_owned(), keys::event_member(event)))
                .collect();
            store.add_members(&found).await?;
            match page.next {
                Some(next) => cursor = next,
                None => break,
            }
        }
        store.set(keys::WAITLIST_EVENTS_LISTED, b"1", None).await
    }

    /// The retention days of `event`'s organizer (the default without one).
    async fn retention_days(&self, event: &str) -> Result<u32, StoreError> {
        Ok(self.organizer_of(event).await?.map_or(DEFAULT_RETENTION_DAYS, |o| o.retention_days()))
    }

    /// Anonymises what is due at `event`: answers the signups and messages erased.
    async fn forget_event(&self, event: &str) -> Result<(u64, u64), StoreError> {
        let store = &self.ports.store;
        let Some(settings) = self.settings(event).await? else { return Ok((0, 0)) };
        let (starts, days, now) = (settings.starts_at(), self.retention_days(event).await?, self.now());
        let counters = [keys::line_counter(event), keys::message_counter(event)];
        let tops = store.get_many(&counters).await?;
        let (line_top, message_top) = (counter_value(&tops[0]), counter_value(&tops[1]));
        let mark = format!("{line_top}.{message_top}");
        let event_done = retention::event_done(starts, days, now);
        if event_done && store.get(&keys::forgotten(event)).await?.as_deref() == Some(mark.as_bytes()) {
            return Ok((0, 0));
        }
        // The signups due, with their stored bytes (replaced only if still those).
        let mut due: Vec<(String, Vec<u8>, Signup)> = Vec::new();
        let mut from = 1;
        while from <= line_top {
            let to = line_top.min(from + PAGE - 1);
            let entry_keys: Vec<String> = (from..=to).map(|n| keys::line_entry(event, n)).collect();
            let ids: Vec<String> = store
                .get_many(&entry_keys)
                .await?
                .into_iter()
                .flatten()
                .filter_map(|v| String::from_utf8(v).ok())
                .collect();
            let signup_keys: Vec<String> = ids.iter().map(|id| keys::signup(event, id)).collect();
            for (raw, key) in store.get_many(&signup_keys).await?.into_iter().zip(signup_keys) {
                let Some(raw) = raw else { continue };
                let Some(signup) = self.ports.open::<Signup>(&key, Some(raw.clone()))? else { continue };
                if retention::due(&signup, starts, days, now) {
                    due.push((key, raw, signup));
                }
            }
            from = to + 1;
        }
        let ids: HashSet<String> = due.iter().map(|(_, _, s)| s.id.clone()).collect();
        // Staff's notes, under the lock staff edits take (busy: the next pass does it all).
        if !ids.is_empty() {
            let notes: Vec<String> = ids.iter().map(|id| keys::annotation(event, id)).collect();
            if self.under_lock(event, store.delete_many(&notes)).await?.transpose()?.is_none() {
                return Ok((0, 0));
            }
        }
        let messages = self.forget_recipients(event, message_top, &ids, event_done).await?;
        let mut signups = 0;
        let mut left = false;
        for (key, raw, mut signup) in due {
            retention::anonymise(&mut signup, now);
            let value = self.ports.seal(&key, &signup)?;
            if store.replace_if(&key, &raw, &value).await? {
                signups += 1;
            } else {
                left = true; // changed meanwhile: taken up again next pass
            }
        }
        if event_done && !left {
            store.set(&keys::forgotten(event), mark.as_bytes(), None).await?;
        }
        Ok((signups, messages))
    }

    /// Erases the recipient of `event`'s messages about the signups `ids` (all of them, staff
    /// notices included, once the event's retention is over): answers how many.
    pub(super) async fn forget_recipients(
        &self,
        event: &str,
        top: u64,
        ids: &HashSet<String>,
        all: bool,
    ) -> Result<u64, StoreError> {
        if ids.is_empty() && !all {
            return Ok(0);
        }
        let store = &self.ports.store;
        let mut erased = 0;
        let mut from = 1;
        while from <= top {
            let to = top.min(from + PAGE - 1);
            let message_keys: Vec<String> = (from..=to).map(|n| keys::message(event, n)).collect();
            for (raw, key) in store.get_many(&message_keys).await?.into_iter().zip(message_keys) {
                let Some(raw) = raw else { continue };
                let Some(mut record) = self.ports.open::<MessageRecord>(&key, Some(raw.clone()))? else {
                    continue;
                };
                if record.to.is_empty() || !(all || ids.contains(&record.signup)) {
                    continue;
                }
                record.to.clear();
                let value = self.ports.seal(&key, &record)?;
                if store.replace_if(&key, &raw, &value).await? {
                    erased += 1;
                }
            }
            from = to + 1;
        }
        Ok(erased)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::app::waitlist::testing::{site, Site};
    use crate::core::blacklist::event_key;
    use crate::core::waitlist::Status;
    use crate::ports::clock::Clock;
    use crate::testkit::block_on;

    const DAY: u64 = 86_400;

    fn pass(site: &Site) -> Forgotten {
        block_on(site.waitlist.forget_due()).unwrap()
    }

    fn history(site: &Site) -> Vec<(String, String)> {
        let ports = site.rig.ports();
        (1..)
            .map_while(|n| {
                let key = keys::message("gala", n);
                let raw = block_on(site.rig.store.get(&key)).unwrap()?;
                let record: MessageRecord = ports.open(&key, Some(raw)).unwrap().unwrap();
                Some((record.signup, record.to))
            })
            .collect()
    }

    fn places(site: &Site) -> Vec<(String, Option<u64>, Status)> {
        let (rows, _) = block_on(site.waitlist.staff_rows("gala", 0, "", 50)).unwrap();
        rows.into_iter().map(|r| (r.signup.id, r.place, r.signup.status)).collect()
    }

    #[test]
    fn signups_are_anonymised_days_after_their_cancellation_and_after_the_event_and_the_line_adds_up() {
        let site = site();
        let now = site.rig.clock.unix_ms() / 1000;
        let starts = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(now + 20 * DAY));
        site.update(|s| s.starts = Some(starts.to_string()));
        let ada = site.in_line_with("ada@example.com", Some("acct-ada"), 2, Some("+31612345678"));
        let bob = site.in_line("bob@example.com", None, 1);
        let cy = site.in_line("cy@example.com", None, 1);
        block_on(site.waitlist.set_note("gala", &bob.id, "wheelchair")).unwrap();
        block_on(site.waitlist.cancel(site.record(&bob))).unwrap();
        assert_eq!(pass(&site).signups, 0, "nothing is due yet");

        // The default 30 days after Bob's cancellation, before the event: his data alone goes.
        site.rig.clock.advance(Duration::from_secs(30 * DAY - 1));
        assert_eq!(pass(&site).signups, 0, "a second early");
        site.rig.clock.advance(Duration::from_secs(1));
        let done = pass(&site);
        assert_eq!(
            (done.signups, done.messages),
            (1, 1),
            "Bob's record, his \"you are on the list\" mail (the link's went with the pending signup)"
        );
        let gone = site.record(&bob);
        assert_eq!((gone.email.as_str(), gone.name.as_str(), gone.note.as_ref()), ("", "", None));
        assert_eq!((gone.status, gone.seq, gone.tickets), (Status::Cancelled, bob.seq, 1));
        assert!(gone.anonymised.is_some());
        let note = block_on(site.rig.store.get(&keys::annotation("gala", &bob.id))).unwrap();
        assert_eq!(note, None, "staff's note went with it");
        for (signup, to) in history(&site) {
            assert_eq!(to.is_empty(), signup == bob.id, "only Bob's mails lose their recipient");
        }
        assert_eq!(site.record(&ada).email, "ada@example.com");
        let expected = vec![
            (ada.id.clone(), Some(1), Status::Confirmed),
            (bob.id.clone(), None, Status::Cancelled),
            (cy.id.clone(), Some(2), Status::Confirmed),
        ];
        assert_eq!(places(&site), expected, "places still add up");
        assert_eq!(pass(&site), Forgotten { events: 1, signups: 0, messages: 0 }, "once");

        // 30 days after the event: everyone's, and every recipient in the history.
        site.rig.clock.advance(Duration::from_secs(20 * DAY));
        let done = pass(&site);
        assert_eq!(done.signups, 2);
        assert!(history(&site).iter().all(|(_, to)| to.is_empty()));
        let ada_now = site.record(&ada);
        assert_eq!((ada_now.phone.as_ref(), ada_now.account.as_ref()), (None, None));
        assert_eq!(places(&site), expected, "places still add up");
        assert!(
            block_on(site.waitlist.mine("acct-ada")).unwrap().is_empty(),
            "an anonymised signup is on nobody's list"
        );
        assert_eq!(pass(&site), Forgotten { events: 1, signups: 0, messages: 0 }, "and the event is skipped");
        assert!(block_on(site.rig.store.get(&keys::forgotten("gala"))).unwrap().is_some());
    }

    #[test]
    fn the_organizers_days_apply_and_a_signup_changed_meanwhile_waits_for_the_next_pass() {
        let site = site();
        let now = site.rig.clock.unix_ms() / 1000;
        let starts = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(now + DAY));
        site.update(|s| s.starts = Some(starts.to_string()));
        let org = serde_json::json!({
            "id": "harbour", "name": "Harbour", "created_at_ms": 0, "token_digest": "00", "retention_days": 2
        });
        block_on(site.rig.store.set("org:harbour", org.to_string().as_bytes(), None)).unwrap();
        block_on(site.rig.store.set(&event_key("gala"), b"harbour", None)).unwrap();
        let ada = site.in_line("ada@example.com", None, 1);
        site.rig.clock.advance(Duration::from_secs(3 * DAY - 1));
        assert_eq!(pass(&site).signups, 0);
        site.rig.clock.advance(Duration::from_secs(1));
        // Staff hold the event's lock: the pass leaves the event to the next one, untouched.
        assert!(block_on(site.rig.store.claim(&keys::offer_lock("gala"), None)).unwrap());
        assert_eq!(pass(&site).signups, 0);
        assert_eq!(site.record(&ada).email, "ada@example.com");
        block_on(site.rig.store.delete(&keys::offer_lock("gala"))).unwrap();
        assert_eq!(pass(&site).signups, 1, "the organizer's two days after the event");
        assert_eq!(site.record(&ada).email, "");
    }
}
