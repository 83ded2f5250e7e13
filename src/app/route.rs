//! One table of actions for every request: the tier looks at what it has an action for (a
//! checkout, a waitlist page, an event page that may get the waitlist button) and lets
//! everything else through untouched.

use std::net::IpAddr;

use http::request::Parts;
use http::{HeaderMap, Method, StatusCode};

use super::blacklist::{self, Blacklist, Classified};
use super::step::Step;
use super::waitlist::web::Route;
use super::waitlist::Waitlist;
use crate::app::context::RequestContext;
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
    /// A backend event page that may get the waitlist button (this event's). Hosts that cannot
    /// rewrite a streaming answer forward it untouched instead of running it.
    EventPage(String),
    /// The backend's claim route, where an offer's link lands: its code is checked first.
    Claim(crate::core::waitlist::claim::ClaimTarget),
}

/// What the tier needs back with the backend's answer to a request it let through
/// ([`Step::Forward`]).
#[derive(Debug)]
pub enum Ticket {
    /// A checkout: its timing and answer shape teach the blacklist's cover.
    Checkout(blacklist::Ticket),
    /// A claim of offer `number` of `event`: the backend's success answer marks it taken.
    Claim {
        /// The event.
        event: String,
        /// The offer.
        number: u64,
    },
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

    /// The waitlist, when the policy has one (the admin API's offers run its use cases).
    pub fn waitlist(&self) -> Option<&Waitlist<S>> {
        self.waitlist.as_ref()
    }

    /// The blacklist, when the policy has one (offers pass over the customers it lists).
    pub fn blacklist(&self) -> Option<&Blacklist<S>> {
        self.blacklist.as_ref()
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
        if let Some(target) = self.waitlist.as_ref().and_then(|w| w.claim_target(path)) {
            return Some(Action::Claim(target));
        }
        if let Some(checkout) = self.blacklist.as_ref().and_then(|b| b.classify(method, path)) {
            return Some(Action::Checkout(checkout));
        }
        self.waitlist.as_ref()?.event_page(method, path).map(Action::EventPage)
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
                None => Step::refuse(StatusCode::INTERNAL_SERVER_ERROR, true),
            },
            Action::Waitlist(route) => match &self.waitlist {
                // `linger`: a refused form may leave body bytes unread.
                Some(w) => {
                    Step::answer(w.serve(route, context, head, body, self.blacklist.as_ref()).await, true)
                }
                None => Step::refuse(StatusCode::INTERNAL_SERVER_ERROR, true),
            },
            // The button when the event's waitlist takes signups (one store read); a store that
            // fails means no button: the page is the backend's, as without Doorman.
            Action::Claim(target) => match &self.waitlist {
                Some(w) => w.claim(target, head, body).await,
                None => Step::refuse(StatusCode::INTERNAL_SERVER_ERROR, true),
            },
            Action::EventPage(event) => {
                let Some(w) = &self.waitlist else { return Step::Pass };
                match w.button(&event, &head.headers).await.and_then(|b| w.rewriter(b)) {
                    Some(rewriter) => Step::Rewrite { rewriter: Box::new(rewriter) },
                    None => Step::Pass,
                }
            }
        }
    }

    /// Reports the backend's answer to a request forwarded after [`Step::Forward`].
    pub fn forwarded(&self, ticket: Ticket, status: StatusCode, headers: &HeaderMap) {
        match ticket {
            Ticket::Checkout(t) => {
                if let Some(b) = &self.blacklist {
                    b.forwarded(t, status, headers);
                }
            }
            Ticket::Claim { event, number } => self.claimed(event, number, status),
        }
    }

    /// The backend answered a claim: a success marks the offer taken, in the background.
    fn claimed(&self, event: String, number: u64, status: StatusCode) {
        if let Some(w) = &self.waitlist {
            w.claimed(event, number, status);
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
        match ticket {
            Ticket::Checkout(t) => {
                if let Some(b) = &self.blacklist {
                    b.forwarded_at(t, status, headers, head_at);
                }
            }
            Ticket::Claim { event, number } => self.claimed(event, number, status),
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

#[cfg(test)]
mod tests {
    use http::{HeaderMap, Method, Request, StatusCode};

    use super::*;
    use crate::app::{assemble, AppSpec, Lifecycle};
    use crate::core::email_hash::EmailHasher;
    use crate::core::waitlist::link::Signer;
    use crate::core::waitlist::{keys, WaitlistSettings};
    use crate::ports::store::Store;
    use crate::testkit::{block_on, MemoryStore, TestBody, TestRig};

    const WAITLIST: &str =
        "[waitlist]\npublic_url = \"https://shop.example\"\nfrom = \"Shop <waitlist@shop.example>\"\n\
        [waitlist.button]\nroute = \"GET /events/{event}\"\nselector = \"#tickets\"\n";

    fn app(rig: &TestRig) -> App<MemoryStore> {
        let policy = crate::app::blacklist::test_policy("", WAITLIST);
        let spec = AppSpec::from_policy(
            &policy,
            Some(EmailHasher::PlainSha256),
            None,
            Some(Signer::new(&[7u8; 32]).unwrap()),
            Some(crate::testkit::test_vault()),
        )
        .unwrap();
        assemble(&spec, rig.ports(), Lifecycle::Resident)
    }

    fn run(app: &App<MemoryStore>, method: Method, path: &str, body: &str) -> Step {
        let (head, ()) = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(())
            .unwrap()
            .into_parts();
        let action = app.classify(&method, path).expect("an action");
        let context = app.context(Some([192, 0, 2, 1].into()), &head.headers);
        block_on(app.run(action, &context, &head, &mut TestBody::whole(body)))
    }

    #[test]
    fn every_request_the_tier_has_an_action_for_gets_its_step() {
        let rig = TestRig::default();
        let app = app(&rig);
        assert_eq!(app.classify(&Method::GET, "/events/gala/tickets"), None, "others pass, untouched");
        assert!(
            matches!(app.classify(&Method::GET, "/events/gala"), Some(Action::EventPage(e)) if e == "gala")
        );
        // An event page without an open waitlist passes; with one, it is rewritten.
        assert!(matches!(run(&app, Method::GET, "/events/gala", ""), Step::Pass));
        let mut open = WaitlistSettings::new("gala");
        (open.sold_out, open.active) = (true, true);
        block_on(rig.store.set(&keys::settings("gala"), &serde_json::to_vec(&open).unwrap(), None)).unwrap();
        assert!(matches!(run(&app, Method::GET, "/events/gala", ""), Step::Rewrite { .. }));
        // A checkout is forwarded with its bytes; a waitlist page is answered.
        let Step::Forward { body, ticket } =
            run(&app, Method::POST, "/events/gala/checkout", "email=c%40d.org")
        else {
            panic!("forwarded")
        };
        assert_eq!(body, "email=c%40d.org");
        app.forwarded(ticket, StatusCode::SEE_OTHER, &HeaderMap::new());
        let Step::Answer { response, .. } = run(&app, Method::GET, "/waitlist/gala", "") else {
            panic!("answered")
        };
        assert_eq!(response.status(), StatusCode::OK);
        block_on(app.flush());
    }

    #[test]
    fn a_failing_store_means_no_button_not_an_error() {
        let rig = TestRig::default();
        let app = app(&rig);
        rig.store.set_down(true);
        assert!(matches!(run(&app, Method::GET, "/events/gala", ""), Step::Pass));
    }
}
