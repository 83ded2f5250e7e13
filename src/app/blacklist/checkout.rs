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
        if self.policy.match_timing && self.lifecycle.keeps_state() {
            self.restore_timing().await;
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
                return Step::Forward { body: bytes, ticket: Ticket { route, body_done } }
            }
            CheckoutDecision::Block { location, json } => (location, json),
        };

        // Phase "answer": audited, shaped like the backend's own answers, covered in time.
        let kinds: Vec<&str> = ids.iter().map(|i| i.kind()).collect();
        tracing::info!(%event, identities = ?kinds, "blacklist: checkout quietly turned back");
        self.audit.push(&self.ports, self.block_records(&found, &ids, &event, route));
        if self.policy.match_timing {
            if !self.lifecycle.keeps_state() {
                self.restore_timing().await;
            }
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
        self.record_timing(ticket.route, head_at.saturating_sub(ticket.body_done));
        // A one-request instance ends with this answer: nothing would use the shapes.
        if self.lifecycle.keeps_state() {
            self.learned[ticket.route].learn(status, headers);
        }
    }
}
