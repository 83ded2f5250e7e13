//! How long signups keep their personal data: an organizer's retention days after the event
//! starts, or after a cancellation, whichever comes first. Then the signup is anonymised: its
//! address, name, phone number, account and note are erased, and its status, tickets, times
//! and line number stay, so places, exports and offers still add up.

use super::{Signup, Status};

/// Days personal data is kept where the organizer set none.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
/// The days an organizer may set.
pub const RETENTION_DAYS_RANGE: (u32, u32) = (1, 3650);

/// Whether `signup` is due to be anonymised at `now`, with `days` of retention after the event
/// starting at `starts` (if known) or after its cancellation.
pub fn due(signup: &Signup, starts: Option<u64>, days: u32, now: u64) -> bool {
    if signup.anonymised.is_some() {
        return false;
    }
    let keep = u64::from(days) * 86_400;
    let after_event = starts.is_some_and(|at| now >= at.saturating_add(keep));
    let cancelled = signup.status == Status::Cancelled;
    let after_cancel = cancelled && signup.cancelled.is_some_and(|at| now >= at.saturating_add(keep));
    after_event || after_cancel
}

/// Whether everything of an event starting at `starts` is past retention at `now`.
pub fn event_done(starts: Option<u64>, days: u32, now: u64) -> bool {
    starts.is_some_and(|at| now >= at.saturating_add(u64::from(days) * 86_400))
}

/// Erases `signup`'s personal data at `now`.
pub fn anonymise(signup: &mut Signup, now: u64) {
    signup.email.clear();
    signup.name.clear();
    signup.phone = None;
    signup.account = None;
    signup.note = None;
    signup.anonymised = Some(now);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::waitlist::Lang;

    fn signup(status: Status, cancelled: Option<u64>) -> Signup {
        Signup {
            id: "x".into(),
            event: "gala".into(),
            email: "ada@example.com".into(),
            name: "Ada".into(),
            phone: Some("+3161234".into()),
            tickets: 2,
            lang: Lang::En,
            account: Some("acct-1".into()),
            status,
            created: 1_000,
            expires: 2_000,
            confirmed: Some(1_100),
            cancelled,
            seq: Some(3),
            box_office: false,
            box_office_address: false,
            note: Some("VIP".into()),
            offer: None,
            anonymised: None,
            informed: false,
        }
    }

    #[test]
    fn signups_are_due_days_after_the_event_or_their_cancellation_and_only_once() {
        let day = 86_400;
        let waiting = signup(Status::Confirmed, None);
        assert!(!due(&waiting, None, 30, 10_000 * day), "no date, not cancelled: kept");
        assert!(!due(&waiting, Some(100 * day), 30, 130 * day - 1));
        assert!(due(&waiting, Some(100 * day), 30, 130 * day));
        let cancelled = signup(Status::Cancelled, Some(10 * day));
        assert!(!due(&cancelled, Some(100 * day), 30, 40 * day - 1));
        assert!(due(&cancelled, Some(100 * day), 30, 40 * day), "before the event, after its cancellation");
        assert!(due(&cancelled, None, 30, 40 * day));
        let mut gone = cancelled.clone();
        anonymise(&mut gone, 40 * day);
        assert!(!due(&gone, Some(100 * day), 30, 1_000 * day), "once");
        assert_eq!(
            (gone.email.as_str(), gone.name.as_str(), &gone.phone, &gone.account, &gone.note),
            ("", "", &None, &None, &None)
        );
        assert_eq!(
            (gone.status, gone.seq, gone.tickets, gone.anonymised),
            (Status::Cancelled, Some(3), 2, Some(40 * day))
        );
        assert!(
            event_done(Some(day), 1, 2 * day)
                && !event_done(Some(day), 1, 2 * day - 1)
                && !event_done(None, 1, u64::MAX)
        );
    }
}
