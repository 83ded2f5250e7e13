//! Events for tests: what the tier reported, in order.

use std::sync::Mutex;

use crate::ports::events::{CheckoutOutcome, ClientFaultKind, Events};

/// One reported event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    /// [`Events::checkout`].
    Checkout(CheckoutOutcome),
    /// [`Events::client_error`].
    ClientError(ClientFaultKind),
    /// [`Events::unmapped_event`].
    UnmappedEvent,
    /// [`Events::audit_dropped`].
    AuditDropped,
    /// [`Events::mail_queued`].
    MailQueued,
}

/// Keeps every event the tier reports.
#[derive(Debug, Default)]
pub struct RecordedEvents {
    seen: Mutex<Vec<Reported>>,
}

impl RecordedEvents {
    /// Everything reported so far, and forgets it.
    pub fn take(&self) -> Vec<Reported> {
        std::mem::take(&mut *self.seen.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn push(&self, event: Reported) {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).push(event);
    }
}

impl Events for RecordedEvents {
    fn checkout(&self, outcome: CheckoutOutcome) {
        self.push(Reported::Checkout(outcome));
    }
    fn client_error(&self, kind: ClientFaultKind) {
        self.push(Reported::ClientError(kind));
    }
    fn unmapped_event(&self) {
        self.push(Reported::UnmappedEvent);
    }
    fn audit_dropped(&self) {
        self.push(Reported::AuditDropped);
    }
    fn mail_queued(&self) {
        self.push(Reported::MailQueued);
    }
}
