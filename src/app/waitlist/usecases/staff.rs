//! Staff sessions: what a staff cookie's value opens (the pages that sign staff in and out are
//! `web::staff`). Box-office staff sign in with the organizer's box-office token, the
//! organizer's admins with their admin token; both then work the same pages, each recorded in
//! the audit log as who they are.
//!
//! The cookie holds the organizer and a fingerprint of the token it was opened with; every staff
//! request reads the organizer's record, so issuing a new token ends every session of the old one
//! at once. The token itself is never stored or sent back.

use super::super::Waitlist;
use crate::app::admin::organizers::organizer_record;
use crate::app::admin::Principal;
use crate::core::blacklist::event_key;
use crate::core::waitlist::link::{self, Kind, StaffRole};
use crate::ports::store::{Store, StoreError};

/// The staff session cookie.
pub const STAFF_COOKIE: &str = "doorman_staff";

/// How long a staff session lasts: a working day.
pub const STAFF_FOR: u64 = 10 * 3600;

/// A signed-in member of an organizer's box-office staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    /// The organizer.
    pub organizer: String,
    /// The organizer's display name.
    pub name: String,
    /// The organizer's general box-office address, if set up.
    pub box_office_address: Option<String>,
    /// Who signed in: the box office or an admin.
    pub role: StaffRole,
}

impl StaffSession {
    /// The message that says who is signed in (`$organizer` for the organizer's name).
    pub fn signed_in_message(&self) -> &'static str {
        match self.role {
            StaffRole::BoxOffice => "staff-signed-in",
            StaffRole::Admin => "staff-signed-in-admin",
        }
    }

    /// Who the session acts as, in permission checks and the audit log.
    pub fn principal(&self) -> Principal {
        match self.role {
            StaffRole::BoxOffice => Principal::BoxOffice(self.organizer.clone()),
            StaffRole::Admin => Principal::Organizer(self.organizer.clone()),
        }
    }
}

impl<S: Store + Clone> Waitlist<S> {
    /// The staff session a cookie's `value` holds: signed by us, not expired, and opened with
    /// the organizer's current token of its role.
    pub async fn staff_session_of(&self, value: &str) -> Result<Option<StaffSession>, StoreError> {
        let Ok(body) = self.signer.open(Kind::Staff, value, self.now()) else { return Ok(None) };
        let Some((organizer, fingerprint, role)) = link::parse_staff_body(body) else { return Ok(None) };
        let Some(org) = organizer_record(&self.ports.store, organizer).await? else { return Ok(None) };
        let current = match role {
            StaffRole::BoxOffice => org.box_office_fingerprint(),
            StaffRole::Admin => Some(org.admin_fingerprint()),
        };
        if current != Some(fingerprint) {
            return Ok(None); // a newer token was issued since
        }
        Ok(Some(StaffSession {
            organizer: org.id,
            name: org.name,
            box_office_address: org.box_office_address,
            role,
        }))
    }

    /// The staff session of `value`, if it belongs to the organizer `event` is mapped to.
    pub async fn staff_session_for(
        &self,
        value: &str,
        event: &str,
    ) -> Result<Option<StaffSession>, StoreError> {
        let Some(session) = self.staff_session_of(value).await? else { return Ok(None) };
        let organizer = self.ports.store.get(&event_key(event)).await?;
        Ok((organizer.as_deref() == Some(session.organizer.as_bytes())).then_some(session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::admin::organizers::NewOrganizer;
    use crate::app::admin::{Admin, Principal};
    use crate::app::waitlist::testing::site;

    #[test]
    fn a_staff_cookie_opens_a_session_only_with_the_current_token_and_the_events_organizer() {
        crate::testkit::block_on(async {
            let site = site();
            let admin = Admin::new(site.rig.ports(), None);
            let op = Principal::Operator;
            admin
                .create_organizer(&op, &NewOrganizer { id: "harbour".into(), name: "Harbour Hall".into() })
                .await
                .unwrap();
            admin.map_event(&op, "gala", "harbour").await.unwrap();
            admin.rotate_box_office_token(&op, "harbour").await.unwrap();
            let org = organizer_record(&site.rig.store, "harbour").await.unwrap().unwrap();
            let fingerprint = org.box_office_fingerprint().unwrap().to_owned();
            let sealed = |fingerprint: &str| {
                site.waitlist.signer.seal(
                    Kind::Staff,
                    &link::staff_body("harbour", fingerprint, StaffRole::BoxOffice),
                    site.waitlist.now() + 60,
                )
            };
            let value = sealed(&fingerprint);
            assert_eq!(site.waitlist.staff_session_of(&value).await.unwrap().unwrap().name, "Harbour Hall");
            assert!(site.waitlist.staff_session_for(&value, "gala").await.unwrap().is_some());
            assert!(
                site.waitlist.staff_session_for(&value, "jazz").await.unwrap().is_none(),
                "not its event"
            );
            assert!(
                site.waitlist.staff_session_of(&sealed("0123456789abcdef")).await.unwrap().is_none(),
                "an old token"
            );
            assert!(site.waitlist.staff_session_of("garbage").await.unwrap().is_none());
        });
    }
}
