//! The tier's one answer type: what a host does next with a request the tier has an action for.

use bytes::Bytes;
use http::{Response, StatusCode};

use crate::app::route::Ticket;
use crate::app::waitlist::button::PageRewriter;
use crate::core::error_page::error_response;

/// What the host does next with a request the tier looked at.
#[derive(Debug)]
pub enum Step {
    /// Forward the request with exactly these body bytes, then report the backend's answer
    /// with [`crate::app::App::forwarded`] and `ticket` (a checkout, a claim).
    Forward {
        /// The whole body, as received.
        body: Bytes,
        /// What the tier needs back with the answer.
        ticket: Ticket,
    },
    /// Forward the request with its body untouched, after [`PageRewriter::prepare_request`];
    /// when [`PageRewriter::takes_answer`] accepts the backend's answer head, send its body
    /// through `rewriter` (an event page that gets the waitlist button).
    Rewrite {
        /// Puts the button into the page as it streams (boxed: the rewriter's state is large,
        /// the other steps small).
        rewriter: Box<PageRewriter>,
    },
    /// Forward the request as it is: the tier has nothing to change (an event page without a
    /// button).
    Pass,
    /// Do not forward: send this answer.
    Answer {
        /// The answer.
        response: Response<Bytes>,
        /// The body was not read to its end: read and discard the rest for a bounded time
        /// before closing, so the client receives the answer instead of a reset connection.
        linger: bool,
    },
}

impl Step {
    /// Send `response`.
    pub(crate) fn answer(response: Response<Bytes>, linger: bool) -> Self {
        Self::Answer { response, linger }
    }

    /// Send the neutral error page of `status`.
    pub(crate) fn refuse(status: StatusCode, linger: bool) -> Self {
        Self::answer(error_response(status), linger)
    }
}
