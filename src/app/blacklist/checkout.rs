//! One checkout, phase by phase: refuse what cannot be read, buffer the body (bounded in size
//! and time), read the customer's identities the way the backend will (or refuse), look them up,
//! decide, then hand the host the bytes to forward or the quiet answer, audited and covered.

use std::time::Duration;

use http::request::Parts;
use http::{HeaderMap, StatusCode};

use super::answer::{json_answer, redirect};
use super::{Blacklist, Classified};
use crate::app::body::{declared_too_large, read_bounded};
use crate::app::step::Step;
use crate::core::blacklist::decide::{decide, CheckoutDecision, Lookup};
use crate::core::blacklist::extract::{identities, wants_json, CheckoutParts};
use crate::ports::body::BodyStream;
use crate::ports::events::{CheckoutOutcome, ClientFaultKind};
use crate::ports::store::Store;

/// A forwarded checkout's route and the moment its body was complete.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    pub(super) route: usize,
    pub(super) body_done: Duration,
}

impl<S: Store + Clone> Blacklist<S> {
    /// Runs a classified checkout up to the decision.
    pub async fn checkout<B: BodyStream>(&self, classified: Classified, head: &Parts, body: &mut B) -> Step {
        let Classified { route, event, slug, unreadable } = classified;
        let events = &self.ports.events;
        if let Some(reason) = unreadable {
            events.checkout(CheckoutOutcome::Refused);
            tracing::info!(
                reason,
                "blacklist: checkout refused, its path cannot be read as the backend reads it"
            );
            return Step::refuse(StatusCode::BAD_REQUEST, true);
        }
        let limit = self.policy.max_body_bytes;
        if declared_too_large(body, limit) {
            events.client_error(ClientFaultKind::TooLarge);
            return Step::refuse(StatusCode::PAYLOAD_TOO_LARGE, true);
        }
        if self.lifecycle.keeps_state() {
            self.restore_learned().await;
        }

        // Phase "buffer": the whole body, within the size limit and the read deadline.
        let within = self.policy.reading.body_read_timeout;
        let bytes = match read_bounded(body, limit, within, &*self.ports.tasks).await {
            Ok(bytes) => bytes,
            Err(fault) => {
                tracing::debug!(?fault, "checkout body could not be read");
                events.client_error(fault);
                return Step::refuse(fault.status(), fault == ClientFaultKind::TooLarge);
            }
        };
        // Timing is measured from here, so a client's own upload speed cannot shift it.
        let body_done = self.ports.clock.monotonic();

        // Phase "identify": read as the backend reads, or refuse.
        let request = CheckoutParts { headers: &head.headers, query: head.uri.query(), body: &bytes };
        let ids = match identities(&self.policy, request, &self.hasher, self.session.as_ref()) {
            Ok(ids) => ids,
            Err(refusal) => {
                events.checkout(CheckoutOutcome::Refused);
                tracing::info!(%event, reason = refusal.kind(), "blacklist: checkout refused, it cannot be read as the backend reads it");
                return Step::refuse(StatusCode::BAD_REQUEST, false);
            }
        };

        // Phases "look up" and "decide".
        let found = self.lookup(slug.as_deref(), &ids).await;
        let decision = decide(&self.policy.checkout[route], &event, found.lookup, self.policy.on_store_error);
        events.checkout(match (&decision, found.lookup) {
            (_, Lookup::Failed) => CheckoutOutcome::StoreError,
            (CheckoutDecision::Block { .. }, _) => CheckoutOutcome::Blocked,
            (CheckoutDecision::Forward, _) => CheckoutOutcome::Forwarded,
        });
        let (location, json) = match decision {
            CheckoutDecision::Forward => {
                return Step::Forward {
                    body: bytes,
                    ticket: crate::app::route::Ticket::Checkout(Ticket { route, body_done }),
                }
            }
            CheckoutDecision::Block { location, json } => (location, json),
        };

        // Phase "answer": audited, shaped like the backend's own answers, covered in time.
        let kinds: Vec<&str> = ids.iter().map(|i| i.kind()).collect();
        tracing::info!(%event, identities = ?kinds, "blacklist: checkout quietly turned back");
        self.audit.push(&self.ports, self.block_records(&found, &ids, &event, route));
        if !self.lifecycle.keeps_state() {
            self.restore_learned().await;
        }
        if self.policy.match_timing {
            let cover = self.timing[route].cover(self.policy.blocked_delay, &*self.ports.random);
            let waited = self.ports.clock.monotonic().saturating_sub(body_done);
            if let Some(rest) = cover.checked_sub(waited).filter(|d| !d.is_zero()) {
                self.ports.tasks.sleep(rest).await;
            }
        }
        let as_json = wants_json(&head.headers, self.policy.json_answer);
        let response = if as_json { json_answer(json) } else { redirect(&location) };
        Step::answer(self.learned[route].shape(response, as_json, &self.policy.blocked_headers), false)
    }

    /// Learns from the backend's answer to a forwarded checkout: how long the backend takes to
    /// complete one (2xx, 3xx only), and the shapes of its redirects and JSON answers.
    pub fn forwarded(&self, ticket: Ticket, status: StatusCode, headers: &HeaderMap) {
        self.forwarded_at(ticket, status, headers, self.ports.clock.monotonic());
    }

    /// [`Blacklist::forwarded`] for a host that reports later: `head_at` is the
    /// [`crate::ports::clock::Clock::monotonic`] reading when the backend's response head came.
    pub fn forwarded_at(&self, ticket: Ticket, status: StatusCode, headers: &HeaderMap, head_at: Duration) {
        if !(status.is_success() || status.is_redirection()) {
            return;
        }
        // The samples serve the timing cover alone: without it they are not kept.
        if self.policy.match_timing {
            self.record_timing(ticket.route, head_at.saturating_sub(ticket.body_done));
        }
        self.learn_shapes(ticket.route, status, headers);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http::{Method, Request};

    use super::*;
    use crate::app::{Lifecycle, Ports};
    use crate::core::blacklist::{entry_key, Identity, Scope};
    use crate::core::email::canonicalize;
    use crate::core::email_hash::EmailHasher;
    use crate::testkit::{
        block_on, InstantTasks, ManualClock, MemoryStore, RecordedEvents, Reported, TestBody,
    };

    struct Bed {
        store: MemoryStore,
        clock: Arc<ManualClock>,
        tasks: Arc<InstantTasks>,
        events: Arc<RecordedEvents>,
        blacklist: Blacklist<MemoryStore>,
    }

    fn bed(extra: &str) -> Bed {
        let policy = super::super::test_policy(extra, "");
        let clock = Arc::new(ManualClock::at(1_800_000_000_000));
        let store = MemoryStore::new(clock.clone());
        let (tasks, events) = (Arc::new(InstantTasks::default()), Arc::new(RecordedEvents::default()));
        let mut ports = Ports::new(store.clone(), tasks.clone()).with_events(events.clone());
        ports.clock = clock.clone();
        let blacklist = Blacklist::new(
            policy.blacklist.unwrap(),
            EmailHasher::PlainSha256,
            None,
            ports,
            Lifecycle::Resident,
        );
        // The event belongs to an organizer (an unmapped one is reported as such).
        block_on(store.set(&crate::core::blacklist::event_key("gala"), b"harbour", None)).unwrap();
        Bed { store, clock, tasks, events, blacklist }
    }

    impl Bed {
        fn block(&self, email: &str) {
            let canonical = canonicalize(email, Default::default()).unwrap();
            let id = Identity::EmailHash(EmailHasher::PlainSha256.hash_hex(&canonical));
            block_on(self.store.set(&entry_key(&id, &Scope::Platform), b"{}", None)).unwrap();
        }

        fn checkout(&self, path: &str, body: TestBody) -> Step {
            let (head, ()) = Request::post(path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(())
                .unwrap()
                .into_parts();
            let classified = self.blacklist.classify(&Method::POST, path).expect("a checkout route");
            let mut body = body;
            block_on(self.blacklist.checkout(classified, &head, &mut body))
        }
    }

    #[test]
    fn the_blacklisted_are_turned_back_and_everyone_else_forwarded_byte_for_byte() {
        let bed = bed("");
        bed.block("mallory@example.com");
        let step = bed.checkout("/events/gala/checkout", TestBody::whole("email=Mallory%40Example.com&n=1"));
        let Step::Answer { response, linger } = step else { panic!("{step:?}") };
        assert_eq!((response.status(), linger), (StatusCode::SEE_OTHER, false));
        assert_eq!(response.headers()["location"], "/events/gala");
        let body = "email=carol%40example.com&n=1";
        let Step::Forward { body: forwarded, .. } =
            bed.checkout("/events/gala/checkout", TestBody::whole(body))
        else {
            panic!("carol is forwarded")
        };
        assert_eq!(forwarded, body.as_bytes());
        assert_eq!(
            bed.events.take(),
            [Reported::Checkout(CheckoutOutcome::Blocked), Reported::Checkout(CheckoutOutcome::Forwarded)]
        );
        // Once the background work has run: Mallory's block is audited, Carol's forward is not.
        let audit = || bed.store.keys().into_iter().filter(|k| k.starts_with("audit:")).count();
        let before = audit();
        block_on(bed.tasks.run_spawned());
        let records: Vec<String> = bed
            .store
            .keys()
            .into_iter()
            .filter(|k| k.starts_with("audit:"))
            .filter_map(|k| block_on(bed.store.get(&k)).unwrap())
            .map(|v| String::from_utf8(v).unwrap())
            .filter(|v| v.contains("\"action\":\"block\""))
            .collect();
        assert_eq!(before, 0, "audited in the background, not before the answer");
        let mallory = EmailHasher::PlainSha256.hash_hex("mallory@example.com");
        assert_eq!(records.len(), 1, "one block record, Mallory's: {records:?}");
        assert!(records[0].contains(&mallory));
    }

    #[test]
    fn what_cannot_be_read_is_refused_before_any_lookup() {
        let bed = bed("max_body_bytes = 1024");
        bed.store.set_down(true); // a lookup would fail: none may happen
        let too_many: String = (0..9).map(|i| format!("email=c{i}%40d.org&")).collect();
        for (path, body, status) in [
            ("/events/a%2F..%2Fb/checkout", TestBody::whole("email=x%40y.org"), StatusCode::BAD_REQUEST),
            (
                "/events/gala/checkout",
                TestBody::whole("x".repeat(10)).declaring(1025),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            ("/events/gala/checkout", TestBody::chunks(&[b"email="]).stalling(), StatusCode::REQUEST_TIMEOUT),
            ("/events/gala/checkout", TestBody::whole(too_many), StatusCode::BAD_REQUEST),
        ] {
            let step = bed.checkout(path, body);
            assert!(
                matches!(&step, Step::Answer { response, .. } if response.status() == status),
                "{path}: {step:?}"
            );
        }
        let reported = bed.events.take();
        assert!(
            !reported.iter().any(|r| matches!(r, Reported::Checkout(CheckoutOutcome::StoreError))),
            "{reported:?}"
        );
    }

    #[test]
    fn a_store_that_fails_decides_by_the_policy() {
        for (mode, forwarded) in [("on_store_error = \"open\"", true), ("on_store_error = \"closed\"", false)]
        {
            let bed = bed(mode);
            bed.store.set_down(true);
            let step = bed.checkout("/events/gala/checkout", TestBody::whole("email=carol%40example.com"));
            assert_eq!(matches!(step, Step::Forward { .. }), forwarded, "{mode}: {step:?}");
            assert_eq!(bed.events.take(), [Reported::Checkout(CheckoutOutcome::StoreError)], "{mode}");
        }
    }

    #[test]
    fn a_blocked_answer_takes_as_long_as_forwarded_checkouts_took() {
        let bed = bed("match_timing = true\nblocked_delay = \"0s\"");
        bed.block("mallory@example.com");
        // Forwarded checkouts that the backend answered after 80 ms each.
        for _ in 0..5 {
            let Step::Forward { ticket: crate::app::route::Ticket::Checkout(ticket), .. } =
                bed.checkout("/events/gala/checkout", TestBody::whole("email=c%40d.org"))
            else {
                panic!("forwarded")
            };
            bed.clock.advance(Duration::from_millis(80));
            bed.blacklist.forwarded(ticket, StatusCode::SEE_OTHER, &HeaderMap::new());
        }
        let step = bed.checkout("/events/gala/checkout", TestBody::whole("email=mallory%40example.com"));
        assert!(matches!(step, Step::Answer { .. }));
        assert_eq!(
            bed.tasks.slept().last(),
            Some(&Duration::from_millis(80)),
            "the cover: one of the samples"
        );
        // A backend failure teaches nothing about how long a purchase takes.
        let Step::Forward { ticket: crate::app::route::Ticket::Checkout(ticket), .. } =
            bed.checkout("/events/gala/checkout", TestBody::whole("email=c%40d.org"))
        else {
            panic!("forwarded")
        };
        bed.clock.advance(Duration::from_secs(30));
        bed.blacklist.forwarded(ticket, StatusCode::BAD_GATEWAY, &HeaderMap::new());
        bed.checkout("/events/gala/checkout", TestBody::whole("email=mallory%40example.com"));
        assert_eq!(bed.tasks.slept().last(), Some(&Duration::from_millis(80)));
    }
}
