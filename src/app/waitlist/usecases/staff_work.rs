//! What staff do with an event's list: read it a page at a time (with a search), note
//! something about a signup, mark its customer contacted, send its mail again. Notes and
//! "contacted" are kept apart from the signup's record ([`Annotation`]), written under the
//! event's offer lock, so a staff edit never undoes a customer's change or another staff edit.

use super::super::compose::{self, MailKind};
use super::super::Waitlist;
use super::*;
use crate::core::waitlist::form::checked_note;
use crate::core::waitlist::{keys, Annotation, Offer, Signup, Status, WaitlistSettings};
use crate::ports::store::{Store, StoreError};

/// Line numbers looked at per page of the staff list at most (a search reads this far before it
/// answers "more").
pub const STAFF_SCAN: u64 = 2000;

/// One signup as the staff list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    /// Its line number.
    pub number: u64,
    /// The signup.
    pub signup: Signup,
    /// Its place, when waiting in line.
    pub place: Option<u64>,
    /// Its latest offer.
    pub offer: Option<Offer>,
    /// What staff noted.
    pub annotation: Annotation,
}

/// What a staff action came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffDone {
    /// Done, to this signup.
    Done(Box<Signup>),
    /// No such signup at this event.
    NotFound,
    /// The note is too long or holds control characters.
    BadNote,
    /// Nothing to send for a signup in this state (cancelled, or its offer ended it).
    NothingToSend,
}

impl<S: Store + Clone> Waitlist<S> {
    /// Up to `want` signups of `event` after line number `after` whose name, address, phone or
    /// note holds `query` (any letter case; all when empty), reading at most [`STAFF_SCAN`]
    /// line numbers; answers them and where the next page starts (`None` at the end).
    pub async fn staff_rows(
        &self,
        event: &str,
        after: u64,
        query: &str,
        want: usize,
    ) -> Result<(Vec<StaffRow>, Option<u64>), StoreError> {
        let store = &self.ports.store;
        let top = counter_value(&store.get(&keys::line_counter(event)).await?);
        let query = query.trim().to_lowercase();
        let mut rows = Vec::new();
        let mut from = after + 1;
        let mut next_place: Option<u64> = None;
        let end = top.min(after.saturating_add(STAFF_SCAN));
        while from <= end && rows.len() < want {
            let to = end.min(from + 199);
            let entry_keys: Vec<String> = (from..=to).map(|n| keys::line_entry(event, n)).collect();
            let ids = store.get_many(&entry_keys).await?;
            let held: Vec<(u64, String)> =
                (from..=to).zip(ids).filter_map(|(n, id)| Some((n, String::from_utf8(id?).ok()?))).collect();
            let mut wanted: Vec<String> = Vec::with_capacity(2 * held.len());
            for (_, id) in &held {
                wanted.push(keys::signup(event, id));
                wanted.push(keys::annotation(event, id));
            }
            let got = store.get_many(&wanted).await?;
            for (((number, _), pair), names) in held.iter().zip(got.chunks(2)).zip(wanted.chunks(2)) {
                let Some(signup) = self.ports.open::<Signup>(&names[0], pair[0].clone())? else { continue };
                let annotation: Annotation = self.ports.open(&names[1], pair[1].clone())?.unwrap_or_default();
                let place = match (signup.status, signup.seq) {
                    (Status::Confirmed, Some(seq)) => {
                        let p = match next_place {
                            Some(p) => p,
                            None => self.place(event, seq).await?,
                        };
                        next_place = Some(p + 1);
                        Some(p)
                    }
                    _ => None,
                };
                if !query.is_empty() && !matches_query(&signup, &annotation, &query) {
                    continue;
                }
                let offer = match signup.offer {
                    Some(n) => self.offer_record(event, n).await?,
                    None => None,
                };
                rows.push(StaffRow { number: *number, signup, place, offer, annotation });
                if rows.len() == want {
                    let next = Some(*number).filter(|n| *n < top);
                    return Ok((rows, next));
                }
            }
            from = to + 1;
        }
        Ok((rows, Some(end).filter(|e| *e < top)))
    }

    /// Changes staff's note on `event`'s signup `id` (an empty one removes it).
    pub async fn set_note(&self, event: &str, id: &str, text: &str) -> Result<StaffDone, StoreError> {
        let Ok(note) = checked_note(text) else { return Ok(StaffDone::BadNote) };
        self.annotate(event, id, |a| a.note = Some(note.unwrap_or_default())).await
    }

    /// Marks the customer of `event`'s signup `id` contacted now.
    pub async fn mark_contacted(&self, event: &str, id: &str) -> Result<StaffDone, StoreError> {
        let now = self.now();
        self.annotate(event, id, |a| a.contacted = Some(now)).await
    }

    async fn annotate(
        &self,
        event: &str,
        id: &str,
        change: impl FnOnce(&mut Annotation),
    ) -> Result<StaffDone, StoreError> {
        let Some(signup) = self.signup_record(event, id).await? else { return Ok(StaffDone::NotFound) };
        let write = async {
            let key = keys::annotation(event, id);
            let mut annotation: Annotation =
                self.ports.open(&key, self.ports.store.get(&key).await?)?.unwrap_or_default();
            change(&mut annotation);
            self.ports.store.set(&key, &self.ports.seal(&key, &annotation)?, None).await
        };
        match self.under_lock(event, write).await? {
            Some(written) => written.map(|()| StaffDone::Done(Box::new(signup))),
            None => Err(StoreError::Unavailable("the event's list is busy; try again".into())),
        }
    }

    /// Sends `event`'s signup `id` its mail again: a pending one a fresh confirmation link, a
    /// waiting one "you are on the list" with its place and manage link.
    pub async fn resend(&self, event: &str, id: &str) -> Result<StaffDone, StoreError> {
        let Some(signup) = self.signup_record(event, id).await? else { return Ok(StaffDone::NotFound) };
        let (kind, place) = match (signup.status, signup.seq) {
            (Status::Pending, _) if signup.is_active(self.now()) => (MailKind::Confirm, None),
            (Status::Confirmed, Some(seq)) => (MailKind::Confirmed, Some(self.place(event, seq).await?)),
            _ => return Ok(StaffDone::NothingToSend),
        };
        let settings = self.settings(event).await?.unwrap_or_else(|| WaitlistSettings::new(event));
        let numbers = self.reserve_mail(event).await?;
        if let Ok(mail) = compose::mail(self, kind, &signup, &settings, place, numbers.outbox) {
            self.ports.store.set_many(&self.queue_mail(numbers, mail, kind.as_str(), &signup)?).await?;
            self.ports.events.mail_queued();
        }
        Ok(StaffDone::Done(Box::new(signup)))
    }
}

/// Whether `query` (lowercase) is in the signup's name, address, phone or note.
fn matches_query(signup: &Signup, annotation: &Annotation, query: &str) -> bool {
    let note = Annotation::note_of(Some(annotation), signup).unwrap_or_default();
    [signup.name.as_str(), signup.email.as_str(), signup.phone.as_deref().unwrap_or_default(), note.as_str()]
        .iter()
        .any(|field| field.to_lowercase().contains(query))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::waitlist::testing::site;
    use crate::testkit::block_on;

    #[test]
    fn staff_page_through_the_list_search_it_note_and_resend() {
        let site = site();
        let w = &site.waitlist;
        let ada = site.in_line("ada@example.com", None, 2);
        let bob = site.in_line("bob@example.com", None, 1);
        let cy = site.in_line("cy@example.com", None, 1);
        block_on(async {
            let (rows, next) = w.staff_rows("gala", 0, "", 2).await.unwrap();
            assert_eq!(rows.iter().map(|r| r.place).collect::<Vec<_>>(), [Some(1), Some(2)]);
            assert_eq!(next, Some(2));
            let (rows, next) = w.staff_rows("gala", 2, "", 2).await.unwrap();
            assert_eq!((rows[0].signup.id.as_str(), rows[0].place, next), (cy.id.as_str(), Some(3), None));
            assert_eq!(
                w.set_note("gala", &bob.id, "Wheelchair <b>access</b>").await.unwrap(),
                StaffDone::Done(Box::new(bob.clone()))
            );
            assert_eq!(w.set_note("gala", &bob.id, "bell\u{7}").await.unwrap(), StaffDone::BadNote);
            assert_eq!(w.set_note("gala", "nobody", "x").await.unwrap(), StaffDone::NotFound);
            w.mark_contacted("gala", &ada.id).await.unwrap();
            let (found, _) = w.staff_rows("gala", 0, "WHEELCHAIR", 50).await.unwrap();
            assert_eq!(found.len(), 1);
            assert_eq!(
                (found[0].signup.id.as_str(), found[0].place),
                (bob.id.as_str(), Some(2)),
                "its place, not 1"
            );
            let (found, _) = w.staff_rows("gala", 0, "ada@", 50).await.unwrap();
            assert!(found[0].annotation.contacted.is_some());
            let mails = site.mails();
            assert!(matches!(w.resend("gala", &cy.id).await.unwrap(), StaffDone::Done(_)));
            assert_eq!(site.mails(), mails + 1);
            site.waitlist.cancel(site.record(&cy)).await.unwrap();
            assert_eq!(w.resend("gala", &cy.id).await.unwrap(), StaffDone::NothingToSend);
            // The note was kept apart: a customer's change to the record does not undo it.
            assert_eq!(site.record(&bob).note, None);
        });
        // Signups, notes, the history and the outbox are sealed: no value shows an address
        // (no `@` in base64 or hex) or the note.
        for key in site.rig.store.keys() {
            let value = block_on(site.rig.store.get(&key)).unwrap().unwrap_or_default();
            let text = String::from_utf8_lossy(&value).to_lowercase();
            for personal in ["@example.com", "wheelchair"] {
                assert!(!text.contains(personal), "{personal} readable in {key}: {text}");
            }
        }
    }
}
