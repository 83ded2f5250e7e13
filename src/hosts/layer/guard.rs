//! The blacklist guard: what the layer needs to decide a checkout (policy, hasher, store), and
//! the per-route state it learns while running (timing samples, the backend's answer headers).

use std::sync::{Arc, Mutex, OnceLock};

use http::{HeaderName, HeaderValue, Method};
use tokio::sync::mpsc;

use super::timing::RouteTiming;
use crate::adapters::store::AnyStore;
use crate::core::blacklist::audit::{AuditAction, AuditRecord};
use crate::core::blacklist::decide::{lookup_keys, Lookup};
use crate::core::blacklist::session::SessionVerifier;
use crate::core::blacklist::{event_key, event_slug, is_slug, BlacklistPolicy, Identity};
use crate::core::email_hash::EmailHasher;
use crate::hosts::metrics::Metrics;
use crate::ports::store::Store;

/// Blocked-checkout audit records waiting to be written; beyond this they are dropped (and
/// counted), so a flood of blocked attempts cannot grow memory or the store's write load.
pub const AUDIT_QUEUE: usize = 4096;
/// Most audit records written in one batch (one commit or round trip).
pub const AUDIT_BATCH: usize = 128;

/// Everything a checkout decision needs. One per worker; shared by its connections.
pub struct BlacklistGuard {
    pub(super) policy: BlacklistPolicy,
    pub(super) hasher: EmailHasher,
    pub(super) session: Option<SessionVerifier>,
    pub(super) store: AnyStore,
    pub(super) metrics: Metrics,
    /// Per checkout route: forwarded-checkout durations, for timing cover.
    pub(super) timing: Vec<RouteTiming>,
    /// Per checkout route: header fields of the backend's last answers (redirect, JSON).
    pub(super) learned: Vec<LearnedHeaders>,
    audit: OnceLock<mpsc::Sender<AuditRecord>>,
    restored: OnceLock<()>,
}

/// What blocked answers copy from the backend's own answers on a route.
#[derive(Default)]
pub struct LearnedHeaders {
    /// From the last forwarded redirect (3xx).
    pub redirect: Mutex<Learned>,
    /// From the last forwarded JSON answer.
    pub json: Mutex<Learned>,
}

/// One learned answer shape.
#[derive(Default, Clone)]
pub struct Learned {
    /// Its status, for redirects: 301, 302 or 303 (never 307 or 308, which would make the
    /// browser post the order again to the event page).
    pub status: Option<http::StatusCode>,
    /// Its site-wide header fields ([`super::checkout`] keeps an allow-list).
    pub fields: Vec<(HeaderName, HeaderValue)>,
}

/// A classified checkout: which route, and the event as the backend's handler reads it.
pub(super) struct Classified {
    pub route: usize,
    /// The percent-decoded capture.
    pub event: String,
    /// The event's slug for store lookups ([`event_slug`]), when it is one.
    pub slug: Option<String>,
    /// Why the checkout cannot be read as the backend reads it, if it cannot.
    pub unreadable: Option<&'static str>,
}

impl BlacklistGuard {
    /// A guard over `store`.
    pub fn new(
        policy: BlacklistPolicy,
        hasher: EmailHasher,
        session: Option<SessionVerifier>,
        store: AnyStore,
        metrics: Metrics,
    ) -> Arc<Self> {
        let timing = policy.checkout.iter().map(|_| RouteTiming::default()).collect();
        let learned = policy.checkout.iter().map(|_| LearnedHeaders::default()).collect();
        Arc::new(Self {
            policy,
            hasher,
            session,
            store,
            metrics,
            timing,
            learned,
            audit: OnceLock::new(),
            restored: OnceLock::new(),
        })
    }

    /// The checkout route and event a request may complete, if it may be a checkout.
    pub(super) fn classify(&self, method: &Method, path: &str) -> Option<Classified> {
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

    /// Asks the store whether any of `identities` is blacklisted for the event `slug`:
    /// platform-wide entries, and the entries of the event's organizer.
    pub(super) async fn lookup(&self, slug: Option<&str>, identities: &[Identity]) -> Found {
        let mut found = Found { lookup: Lookup::Answered(false), organizer: None, matched: Vec::new() };
        if identities.is_empty() {
            return found;
        }
        found.organizer = match slug {
            None => None,
            Some(slug) => match self.store.get(&event_key(slug)).await {
                Ok(org) => org.and_then(|o| String::from_utf8(o).ok()).filter(|o| is_slug(o)),
                Err(e) => {
                    tracing::warn!(error = %e, "blacklist: store unavailable for a checkout");
                    found.lookup = Lookup::Failed;
                    return found;
                }
            },
        };
        if found.organizer.is_none() {
            // Organizer entries cannot apply here: the operator should map the event.
            self.metrics.unmapped_event();
        }
        let keys = lookup_keys(identities, found.organizer.as_deref());
        let per_identity = keys.len() / identities.len();
        match self.store.exists_many(&keys).await {
            Ok(hits) => {
                // Per identity the keys are [platform, organizer?]: an organizer's own entry wins,
                // so its audit record goes to that organizer, and platform matches stay the
                // operator's.
                found.matched = identities
                    .iter()
                    .zip(hits.chunks(per_identity))
                    .filter_map(|(id, h)| match (h.first(), h.get(1)) {
                        (_, Some(true)) => {
                            Some((id.clone(), found.organizer.clone().unwrap_or_else(|| "*".into())))
                        }
                        (Some(true), _) => Some((id.clone(), "*".to_owned())),
                        _ => None,
                    })
                    .collect();
                found.lookup = Lookup::Answered(!found.matched.is_empty());
            }
            Err(e) => {
                tracing::warn!(error = %e, "blacklist: store unavailable for a checkout");
                found.lookup = Lookup::Failed;
            }
        }
        found
    }

    /// Queues the audit records of a blocked checkout, without delaying the answer. A single
    /// writer task per worker writes them in batches; past [`AUDIT_QUEUE`] waiting records,
    /// new ones are dropped and counted.
    pub(super) fn audit_block(&self, found: &Found, identities: &[Identity], event: &str, route: usize) {
        // Fail-closed blocks do not know which identity matched: all are recorded.
        let who: Vec<(Identity, String)> = if found.matched.is_empty() {
            identities.iter().map(|id| (id.clone(), "*".to_owned())).collect()
        } else {
            found.matched.clone()
        };
        let queue = self.audit.get_or_init(|| spawn_audit_writer(self.store.clone()));
        for (id, scope) in who {
            let record = AuditRecord {
                at_ms: crate::hosts::audit::now_ms(),
                scope,
                action: AuditAction::Block,
                actor: "checkout".into(),
                kind: id.kind().into(),
                value: id.value().into(),
                event: Some(event.to_owned()),
                route: Some(self.policy.checkout[route].route.to_string()),
            };
            if queue.try_send(record).is_err() {
                self.metrics.audit_dropped();
                tracing::warn!("audit queue full: a blocked checkout's record was dropped");
            }
        }
    }

    /// Loads the timing samples an earlier run saved, once per worker.
    pub(super) async fn restore_timing(&self) {
        if self.restored.get().is_some() {
            return;
        }
        for (route, timing) in self.policy.checkout.iter().zip(&self.timing) {
            if let Ok(Some(saved)) = self.store.get(&RouteTiming::saved(&route.route.to_string())).await {
                timing.restore(&saved);
            }
        }
        let _ = self.restored.set(());
    }

    /// Records a forwarded checkout's duration and, now and then, saves the samples.
    pub(super) fn record_timing(&self, route: usize, took: std::time::Duration) {
        if let Some(saved) = self.timing[route].record(took) {
            let store = self.store.clone();
            let key = RouteTiming::saved(&self.policy.checkout[route].route.to_string());
            tokio::spawn(async move {
                let ttl = std::time::Duration::from_secs(30 * 86_400);
                if let Err(e) = store.set(&key, &saved, Some(ttl)).await {
                    tracing::debug!(error = %e, "timing samples not saved");
                }
            });
        }
    }
}

fn spawn_audit_writer(store: AnyStore) -> mpsc::Sender<AuditRecord> {
    let (tx, mut rx) = mpsc::channel::<AuditRecord>(AUDIT_QUEUE);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(AUDIT_BATCH);
        while rx.recv_many(&mut batch, AUDIT_BATCH).await > 0 {
            if let Err(e) = crate::hosts::audit::write_many(&store, &batch).await {
                tracing::warn!(error = %e, records = batch.len(), "audit log write failed for blocked checkouts");
            }
            batch.clear();
        }
    });
    tx
}

/// What the store said about a checkout.
pub(super) struct Found {
    /// The answer, or that there was none.
    pub lookup: Lookup,
    /// The event's organizer, if mapped.
    pub organizer: Option<String>,
    /// The identities that matched an entry, with the scope of the entry (`*` or the organizer).
    pub matched: Vec<(Identity, String)>,
}
