//! The blacklist's checkout flow, for every runtime: classify, buffer, identify (or refuse),
//! look up, decide, then forward unchanged or answer the quiet redirect, audited, no sooner and
//! no different than the backend's own answer would be.
//!
//! [`Blacklist::checkout`] runs the phases up to the decision and answers a
//! [`crate::app::Step`]: forward these bytes, or send this answer. A host that forwarded reports the backend's answer with
//! [`Blacklist::forwarded`], which is how the timing cover and the answer shapes are learned.

mod answer;
mod checkout;
pub mod index;
pub mod layout;
mod lookup;
pub mod timing;

use std::sync::{Arc, OnceLock};

use http::Method;

pub use self::answer::{is_site_wide, Learned, LearnedHeaders};
pub use self::checkout::Ticket;
pub use self::lookup::Found;
use self::timing::RouteTiming;
use crate::app::audit::AuditQueue;
use crate::app::{Lifecycle, Ports};
use crate::core::blacklist::session::SessionVerifier;
use crate::core::blacklist::{event_slug, BlacklistPolicy};
use crate::core::email_hash::EmailHasher;
use crate::ports::store::Store;

/// Everything a checkout decision needs, and what the flow learns while running. One per
/// store handle (one per proxy worker); shared by its connections.
pub struct Blacklist<S> {
    policy: BlacklistPolicy,
    hasher: EmailHasher,
    session: Option<SessionVerifier>,
    ports: Ports<S>,
    /// Per checkout route: forwarded-checkout durations, for the timing cover.
    timing: Vec<RouteTiming>,
    /// Per checkout route: the shapes of the backend's own answers.
    learned: Vec<LearnedHeaders>,
    audit: Arc<AuditQueue>,
    restored: OnceLock<()>,
    /// Whether what a request learns is kept for the next (see [`Lifecycle`]).
    lifecycle: Lifecycle,
    /// The organizer each event was last found mapped to: the lookup asks for that organizer's
    /// entries in the same round trip as the mapping, and again only when the mapping changed.
    pub(crate) organizer_guess: lookup::OrganizerGuess,
    /// Whether the store is known to hold no entry keys of earlier versions.
    layout: layout::KeyLayout,
}

/// A request that may complete a purchase: which checkout route, and its event as the
/// backend's handler reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// Index of the route in the policy.
    pub route: usize,
    /// The percent-decoded capture.
    pub event: String,
    /// The event's slug for store lookups ([`event_slug`]), when it is one.
    pub slug: Option<String>,
    /// Why the checkout cannot be read as the backend reads it, if it cannot.
    pub unreadable: Option<&'static str>,
}

impl<S: Store + Clone> Blacklist<S> {
    /// The blacklist of `policy`, reaching the world through `ports`, living as `lifecycle`
    /// says ([`crate::app::assemble()`] makes it).
    pub(crate) fn new(
        policy: BlacklistPolicy,
        hasher: EmailHasher,
        session: Option<SessionVerifier>,
        ports: Ports<S>,
        lifecycle: Lifecycle,
    ) -> Self {
        let timing = policy.checkout.iter().map(|_| RouteTiming::default()).collect();
        let learned = policy.checkout.iter().map(|_| LearnedHeaders::default()).collect();
        Self {
            policy,
            hasher,
            session,
            ports,
            timing,
            learned,
            audit: Arc::default(),
            restored: OnceLock::new(),
            lifecycle,
            organizer_guess: lookup::OrganizerGuess::default(),
            layout: layout::KeyLayout::default(),
        }
    }

    /// The checkout route and event a request may complete, if it may be a checkout. Plain
    /// paths that match no route cost no allocation.
    pub fn classify(&self, method: &Method, path: &str) -> Option<Classified> {
        let rules = self.policy.reading.routes;
        self.policy.checkout.iter().enumerate().find_map(|(route, r)| {
            let captures = r.route.matches(method, path, rules)?;
            let event = captures.get("event")?.to_owned();
            let slug = event_slug(&event);
            let unreadable = if captures.is_ambiguous() {
                Some("ambiguous_path")
            } else if slug.is_none() && !self.policy.reading.any_event_ids {
                Some("event_id")
            } else {
                None
            };
            Some(Classified { route, event, slug, unreadable })
        })
    }

    /// Writes every queued audit record now (a host stopping, or one without background
    /// tasks once its answer is sent).
    pub async fn flush_audit(&self) {
        self.audit.flush(&self.ports).await;
    }

    /// Loads what other nodes, edge instances and earlier runs saved, once: the timing samples
    /// (when blocks are timed) and the shapes of the backend's answers, in one round trip.
    async fn restore_learned(&self) {
        if self.restored.get().is_some() {
            return;
        }
        let timed = self.policy.match_timing;
        let mut keys = Vec::new();
        for route in &self.policy.checkout {
            let route = route.route.to_string();
            if timed {
                keys.push(RouteTiming::saved(&route));
            }
            keys.push(answer::saved_shapes(&route));
        }
        if let Ok(saved) = self.ports.store.get_many(&keys).await {
            let mut saved = saved.into_iter();
            for (timing, learned) in self.timing.iter().zip(&self.learned) {
                if timed {
                    if let Some(samples) = saved.next().flatten() {
                        timing.restore(&samples);
                    }
                }
                if let Some(shapes) = saved.next().flatten() {
                    learned.restore(&shapes);
                }
            }
        }
        let _ = self.restored.set(());
    }

    /// Learns the shapes of the backend's answer to a forwarded checkout and saves them for the
    /// other nodes and edge instances when they changed (an instance: whatever it learned), in
    /// the background.
    fn learn_shapes(&self, route: usize, status: http::StatusCode, headers: &http::HeaderMap) {
        let learned = &self.learned[route];
        if !learned.learn(status, headers) {
            return;
        }
        let store = self.ports.store.clone();
        let key = answer::saved_shapes(&self.policy.checkout[route].route.to_string());
        let shapes = learned.snapshot();
        // An instance learns from nothing: it writes only what differs from what is saved.
        let compare = !self.lifecycle.keeps_state();
        self.ports.tasks.spawn(Box::pin(async move {
            if compare && store.get(&key).await.ok().flatten().as_deref() == Some(shapes.as_slice()) {
                return;
            }
            if let Err(e) = store.set(&key, &shapes, Some(timing::SAVED_FOR)).await {
                tracing::debug!(error = %e, "answer shapes not saved");
            }
        }));
    }

    /// Records a forwarded checkout's duration; now and then (one-request instances: every
    /// time, merged into what is saved) the route's samples are saved, in the background. A
    /// sample lost to a concurrent writer only thins the ring.
    fn record_timing(&self, route: usize, took: std::time::Duration) {
        let keeps_state = self.lifecycle.keeps_state();
        let saved = if keeps_state { self.timing[route].record(took) } else { None };
        if keeps_state && saved.is_none() {
            return;
        }
        let store = self.ports.store.clone();
        let key = RouteTiming::saved(&self.policy.checkout[route].route.to_string());
        self.ports.tasks.spawn(Box::pin(async move {
            let samples = match saved {
                Some(samples) => samples,
                None => {
                    let ring = RouteTiming::default();
                    if let Ok(Some(earlier)) = store.get(&key).await {
                        ring.restore(&earlier);
                    }
                    ring.record(took);
                    ring.snapshot()
                }
            };
            if let Err(e) = store.set(&key, &samples, Some(timing::SAVED_FOR)).await {
                tracing::debug!(error = %e, "timing samples not saved");
            }
        }));
    }
}

/// A blacklist of the tier's unit tests on `store` (reading `email` fields, addresses hashed
/// with `hasher`), living as `lifecycle` says.
#[cfg(test)]
pub(crate) fn test_blacklist<S: Store + Clone>(
    store: S,
    hasher: EmailHasher,
    lifecycle: Lifecycle,
) -> Blacklist<S> {
    let policy = test_policy("email_fields = [\"email\"]", "").blacklist.unwrap();
    let ports = Ports::new(store, Arc::new(crate::testkit::InstantTasks::default()));
    Blacklist::new(policy, hasher, None, ports, lifecycle)
}

/// The policy of the tier's unit tests: checkouts at `POST /events/{event}/checkout`, turned
/// back to the event page, addresses hashed with plain SHA-256; `blacklist` adds settings to
/// `[blacklist]`, `rest` more sections.
#[cfg(test)]
pub(crate) fn test_policy(blacklist: &str, rest: &str) -> crate::core::policy::Policy {
    let text = format!(
        "[backend]\nurl = \"http://127.0.0.1:9\"\n[blacklist]\nhash = \"sha256\"\n{blacklist}\n\
         [[blacklist.checkout]]\nroute = \"POST /events/{{event}}/checkout\"\nredirect = \"/events/{{event}}\"\n{rest}"
    );
    crate::core::policy::Policy::from_toml_str("t.toml", &text, []).unwrap()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::{HeaderMap, Request, StatusCode};

    use super::*;
    use crate::app::Step;
    use crate::testkit::{block_on, MemoryStore, TestBody, TestRig};

    fn blacklist(rig: &TestRig, lifecycle: Lifecycle) -> Blacklist<MemoryStore> {
        let policy = test_policy("match_timing = true", "").blacklist.unwrap();
        Blacklist::new(policy, EmailHasher::PlainSha256, None, rig.ports(), lifecycle)
    }

    /// A forwarded checkout the backend answered after `took`.
    fn forwarded(b: &Blacklist<MemoryStore>, rig: &TestRig, took: Duration) {
        let (head, ()) = Request::post("/events/gala/checkout")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(())
            .unwrap()
            .into_parts();
        let classified = b.classify(&Method::POST, "/events/gala/checkout").unwrap();
        let Step::Forward { ticket: crate::app::route::Ticket::Checkout(ticket), .. } =
            block_on(b.checkout(classified, &head, &mut TestBody::whole("n=1")))
        else {
            panic!("forwarded")
        };
        rig.clock.advance(took);
        b.forwarded(ticket, StatusCode::OK, &HeaderMap::new());
    }

    #[test]
    fn paths_are_classified_with_their_event_or_why_they_cannot_be_read() {
        let rig = TestRig::default();
        let b = blacklist(&rig, Lifecycle::Resident);
        let c = b.classify(&Method::POST, "/events/Spring%20Gala/checkout").unwrap();
        assert_eq!(
            (c.event.as_str(), c.slug.as_deref(), c.unreadable),
            ("Spring Gala", None, Some("event_id"))
        );
        let c = b.classify(&Method::POST, "/events/gala/checkout").unwrap();
        assert_eq!((c.slug.as_deref(), c.unreadable), (Some("gala"), None));
        let c = b.classify(&Method::POST, "/events/a%2F..%2Fb/checkout").unwrap();
        assert_eq!(c.unreadable, Some("ambiguous_path"));
        assert_eq!(b.classify(&Method::GET, "/events/gala/checkout"), None);
    }

    #[test]
    fn timing_samples_are_saved_now_and_then_by_a_process_and_every_time_by_an_instance() {
        let rig = TestRig::default();
        let key = timing::RouteTiming::saved("POST /events/{event}/checkout");
        // A one-request instance merges its one sample into what is saved, after its answer.
        for took in [40, 60] {
            let instance = blacklist(&rig, Lifecycle::OneRequest);
            forwarded(&instance, &rig, Duration::from_millis(took));
            assert_eq!(block_on(rig.tasks.run_spawned()), 1);
        }
        let saved = block_on(rig.store.get(&key)).unwrap().expect("saved");
        assert_eq!(String::from_utf8(saved).unwrap(), "40000,60000");
        // A resident process restores them once and saves its ring now and then, not per checkout.
        let process = blacklist(&rig, Lifecycle::Resident);
        forwarded(&process, &rig, Duration::from_millis(50));
        assert_eq!(block_on(rig.tasks.run_spawned()), 0, "nothing saved after one checkout");
        assert!(process.timing[0].snapshot().starts_with(b"40000,60000,50000"), "restored, then recorded");
    }
}
