//! One table of actions for every request: the tier looks at what it has an action for (a
//! checkout, a waitlist page) and lets everything else through untouched.

use std::net::IpAddr;

use http::request::Parts;
use http::{HeaderMap, Method, StatusCode};

use super::blacklist::{Blacklist, Classified, Step, Ticket};
use super::waitlist::button::{Button, PageRewriter};
use super::waitlist::http::Route;
use super::waitlist::Waitlist;
use crate::app::context::RequestContext;
use crate::core::error_page::error_response;
use crate::core::policy::ForwardingPolicy;
use crate::ports::body::BodyStream;
use crate::ports::store::Store;

/// What the tier does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A request that may complete a purchase: the blacklist decides.
    Checkout(Classified),
    /// A page of the waitlist: answered by Doorman, never forwarded.
    Waitlist(Route),
}

/// Doorman's application: the features a policy turns on, behind one route table.
pub struct App<S> {
    blacklist: Option<Blacklist<S>>,
    waitlist: Option<Waitlist<S>>,
    forwarding: ForwardingPolicy,
}

impl<S: Store + Clone> App<S> {
    /// An application with the features given (none: everything passes). Only
    /// [`crate::app::assemble()`] calls this.
    pub(super) fn new(
        blacklist: Option<Blacklist<S>>,
        waitlist: Option<Waitlist<S>>,
        forwarding: ForwardingPolicy,
    ) -> Self {
        Self { blacklist, waitlist, forwarding }
    }

    /// The context of a request whose connection comes from `peer` (`None`: the host cannot
    /// tell), the client decided by the policy's forwarding rules. Hosts call it for every
    /// request they [`Self::run`].
    pub fn context(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> RequestContext {
        RequestContext::new(peer, &self.forwarding, headers)
    }

    /// The action for a request, or `None` to pass it on untouched (no allocation then).
    pub fn classify(&self, method: &Method, path: &str) -> Option<Action> {
        if let Some(route) = self.waitlist.as_ref().and_then(|w| w.route(method, path)) {
            return Some(Action::Waitlist(route));
        }
        let blacklist = self.blacklist.as_ref()?;
        blacklist.classify(method, path).map(Action::Checkout)
    }

    /// Runs `action` on the request up to what the host must do next.
    pub async fn run<B: BodyStream>(
        &self,
        action: Action,
        context: &RequestContext,
        head: &Parts,
        body: &mut B,
    ) -> Step {
        match action {
            Action::Checkout(c) => match &self.blacklist {
                Some(b) => b.checkout(c, head, body).await,
                // Only the blacklist makes checkout actions; without one there is nothing to run.
                None => {
                    Step::Answer { response: error_response(StatusCode::INTERNAL_SERVER_ERROR), linger: true }
                }
            },
            Action::Waitlist(route) => match &self.waitlist {
                // `linger`: a refused form may leave body bytes unread.
                Some(w) => Step::Answer {
                    response: w.serve(route, context, head, body, self.blacklist.as_ref()).await,
                    linger: true,
                },
                None => {
                    Step::Answer { response: error_response(StatusCode::INTERNAL_SERVER_ERROR), linger: true }
                }
            },
        }
    }

    /// The event of a request for a backend event page that may get the waitlist button
    /// (route matching only; no store access).
    pub fn event_page(&self, method: &Method, path: &str) -> Option<String> {
        self.waitlist.as_ref()?.event_page(method, path)
    }

    /// The waitlist button for `event`'s page, when its waitlist takes signups.
    pub async fn button(&self, event: &str, request: &HeaderMap) -> Option<Button> {
        self.waitlist.as_ref()?.button(event, request).await
    }

    /// The streaming rewriter that puts `button` into the page.
    pub fn page_rewriter(&self, button: Button) -> Option<PageRewriter> {
        self.waitlist.as_ref()?.rewriter(button)
    }

    /// Reports the backend's answer to a request forwarded after [`Step::Forward`].
    pub fn forwarded(&self, ticket: Ticket, status: StatusCode, headers: &HeaderMap) {
        if let Some(b) = &self.blacklist {
            b.forwarded(ticket, status, headers);
        }
    }

    /// Reports the backend's answer later than it came: its head arrived at `head_at`, a
    /// monotonic reading of the app's clock (hosts that report only after answering).
    pub fn forwarded_at(
        &self,
        ticket: Ticket,
        status: StatusCode,
        headers: &HeaderMap,
        head_at: std::time::Duration,
    ) {
        if let Some(b) = &self.blacklist {
            b.forwarded_at(ticket, status, headers, head_at);
        }
    }

    /// Writes what waits to be written (audit records): when a host stops, or after each answer
    /// on a host without background tasks.
    pub async fn flush(&self) {
        if let Some(b) = &self.blacklist {
            b.flush_audit().await;
        }
    }
}
