//! The events port: what the application tier reports for metrics. Every method has a no-op
//! default, and `()` reports nothing, so a tower layer needs no metrics system.

use http::StatusCode;

/// What a client did wrong, as counted in `doorman_client_errors_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientFaultKind {
    /// The body's framing was malformed (a bad chunk size, say).
    Framing,
    /// The client stopped sending before the body was complete.
    CutShort,
    /// The body did not arrive in time.
    TooSlow,
    /// The body was larger than allowed.
    TooLarge,
    /// The client went away (closed the connection or reset the stream) before its answer.
    Gone,
}

impl ClientFaultKind {
    /// The status a client gets for its own fault, while no answer has started.
    pub fn status(self) -> StatusCode {
        match self {
            Self::Framing | Self::CutShort | Self::Gone => StatusCode::BAD_REQUEST,
            Self::TooSlow => StatusCode::REQUEST_TIMEOUT,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// The metrics label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Framing => "framing",
            Self::CutShort => "cut_short",
            Self::TooSlow => "too_slow",
            Self::TooLarge => "too_large",
            Self::Gone => "gone",
        }
    }
}

/// How a checkout ended, as counted in `doorman_checkouts_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutOutcome {
    /// Not blacklisted: forwarded.
    Forwarded,
    /// Blacklisted: quietly sent back to the event page.
    Blocked,
    /// The store could not be asked; the policy's failure mode decided.
    StoreError,
    /// Not readable the way the backend reads it (or over a cap): refused with 400.
    Refused,
}

impl CheckoutOutcome {
    /// The metrics label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Forwarded => "forwarded",
            Self::Blocked => "blocked",
            Self::StoreError => "store_error",
            Self::Refused => "refused",
        }
    }
}

/// Receives the application tier's countable events.
pub trait Events: Send + Sync + 'static {
    /// A checkout ended with `outcome`.
    fn checkout(&self, _outcome: CheckoutOutcome) {}
    /// A request failed through the client's fault.
    fn client_error(&self, _kind: ClientFaultKind) {}
    /// A checkout's event is mapped to no organizer, so organizer entries could not apply.
    fn unmapped_event(&self) {}
    /// An audit record was not written: the queue was full, or the store kept failing.
    fn audit_dropped(&self) {}
    /// A waitlist mail was queued in the outbox (with the change it belongs to).
    fn mail_queued(&self) {}
}

/// Reports nothing.
impl Events for () {}
