//! Cancelling a whole signup, by its manage link or from "my signups"; those behind move up.

use super::super::Waitlist;
use super::*;
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
}
