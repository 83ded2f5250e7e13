//! Cancelling a whole signup, by its manage link or from "my signups"; those behind move up.

use super::super::Waitlist;
use crate::core::waitlist::link::Kind;
use crate::core::waitlist::{keys, line, Signup, Status};
use crate::ports::store::{Store, StoreError};

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

impl<S: Store + Clone> Waitlist<S> {
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
        match signup.status {
            Status::Cancelled => return Ok(CancelOutcome::Cancelled { signup: Box::new(signup) }),
            Status::Pending | Status::Confirmed => {}
            // An open offer is declined through its own page; an ended signup has nothing left.
            Status::Offered | Status::Booked | Status::Declined | Status::Lapsed => {
                return Ok(CancelOutcome::NotFound)
            }
        }
        let was = signup.status;
        if !store.claim(&keys::cancel_claim(&event, &signup.id), None).await? {
            signup.status = Status::Cancelled;
            return Ok(CancelOutcome::Cancelled { signup: Box::new(signup) });
        }
        signup.status = Status::Cancelled;
        signup.cancelled = Some(self.now());
        store.set_many(&[self.signup_item(&signup, None)?]).await?;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::waitlist::testing::site;
    use crate::app::waitlist::ConfirmOutcome;

    #[test]
    fn cancelling_moves_those_behind_up_and_twice_is_harmless() {
        crate::testkit::block_on(async {
            let site = site();
            let mut line = Vec::new();
            for (email, account) in
                [("ada@example.com", Some("cust-1")), ("bob@example.com", None), ("cy@example.com", None)]
            {
                let s = site.join(email, account);
                let outcome = site.waitlist.confirm(&site.waitlist.confirm_token(&s)).await.unwrap();
                assert!(matches!(outcome, ConfirmOutcome::Confirmed { .. }));
                line.push(site.waitlist.signup_record("gala", &s.id).await.unwrap().unwrap());
            }
            let waitlist = &site.waitlist;
            let place = |s: &Signup| {
                let token = waitlist.manage_token(s);
                async move { waitlist.view(&token).await.unwrap().unwrap().1 }
            };
            assert_eq!((place(&line[1]).await, place(&line[2]).await), (Some(2), Some(3)));
            let ada = site.waitlist.manage_token(&line[0]);
            assert!(matches!(
                site.waitlist.cancel_by_link(&ada).await.unwrap(),
                CancelOutcome::Cancelled { .. }
            ));
            assert_eq!(
                (place(&line[1]).await, place(&line[2]).await),
                (Some(1), Some(2)),
                "those behind moved up"
            );
            assert!(matches!(
                site.waitlist.cancel_by_link(&ada).await.unwrap(),
                CancelOutcome::Cancelled { .. }
            ));
            assert_eq!(place(&line[2]).await, Some(2), "cancelling twice counts once");
            let not_his = site.waitlist.cancel_for_account("cust-1", "gala", &line[1].id).await.unwrap();
            assert_eq!(not_his, CancelOutcome::NotFound, "another's signup");
            assert_eq!(site.waitlist.cancel_by_link("forged").await.unwrap(), CancelOutcome::NotFound);
        });
    }
}
