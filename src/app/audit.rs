//! The audit log through the store: records of every blacklist change and every blocked
//! checkout, kept [`RETENTION`], keyed by [`audit_key`] (scope, time, nonce).
//!
//! Blocked checkouts are recorded through an [`AuditQueue`], so a flood of blocked attempts
//! costs bounded memory and one store write per batch: records wait in the queue (at most
//! [`AUDIT_QUEUE`]), one background writer takes them in batches of [`AUDIT_BATCH`], and a batch
//! the store refuses is tried again [`WRITE_ATTEMPTS`] times before it is counted as dropped.
//! Hosts call [`AuditQueue::flush`] when they stop, so nothing queued is lost at shutdown.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::app::Ports;
use crate::core::blacklist::audit::{audit_key, AuditRecord};
use crate::ports::store::{SetItem, Store, StoreError};

/// How long audit records are kept.
pub const RETENTION: Duration = Duration::from_secs(400 * 86_400);
/// Records waiting to be written; beyond this new ones are dropped (and counted).
pub const AUDIT_QUEUE: usize = 4096;
/// Most records written in one batch (one commit or round trip).
pub const AUDIT_BATCH: usize = 128;
/// Tries of one batch before its records are counted as dropped.
pub const WRITE_ATTEMPTS: u32 = 3;

/// The store item of `record`, under a fresh nonce (for batches that carry other writes too).
pub fn record_item<S>(ports: &Ports<S>, record: &AuditRecord) -> SetItem {
    SetItem {
        key: audit_key(record, ports.random.next_u64()),
        value: serde_json::to_vec(record).expect("an audit record serializes"),
        ttl: Some(RETENTION),
    }
}

/// Stores `record`, durably before it returns.
pub async fn write<S: Store>(ports: &Ports<S>, record: &AuditRecord) -> Result<(), StoreError> {
    let item = record_item(ports, record);
    ports.store.set(&item.key, &item.value, item.ttl).await
}

/// Stores `records` in one batch (one commit or round trip), durably before it returns.
pub async fn write_many<S: Store>(ports: &Ports<S>, records: &[AuditRecord]) -> Result<(), StoreError> {
    let items: Vec<SetItem> = records.iter().map(|r| record_item(ports, r)).collect();
    ports.store.set_many(&items).await
}

/// Blocked-checkout records on their way to the store.
#[derive(Default)]
pub struct AuditQueue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    records: VecDeque<AuditRecord>,
    /// Whether a writer task has been started (it exits when the queue is empty).
    writing: bool,
    /// Batches taken from the queue and not yet written.
    in_flight: usize,
}

impl AuditQueue {
    /// Queues `records` without waiting for the store; starts a writer when none runs.
    pub fn push<S: Store + Clone>(self: &Arc<Self>, ports: &Ports<S>, records: Vec<AuditRecord>) {
        if records.is_empty() {
            return;
        }
        let start = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            for record in records {
                if state.records.len() >= AUDIT_QUEUE {
                    ports.events.audit_dropped();
                    tracing::warn!("audit queue full: a blocked checkout's record was dropped");
                } else {
                    state.records.push_back(record);
                }
            }
            !std::mem::replace(&mut state.writing, true)
        };
        if start {
            let queue = self.clone();
            let ports = ports.clone();
            ports.tasks.clone().spawn(Box::pin(async move { queue.write_queued(&ports, true).await }));
        }
    }

    /// How many records wait.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).records.len()
    }

    /// Whether nothing waits.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes what is queued now and waits for a running writer to finish its batch (a host
    /// stopping, or one without background tasks once its answer is sent). Hosts bound it in
    /// time.
    pub async fn flush<S: Store>(&self, ports: &Ports<S>) {
        self.write_queued(ports, false).await;
        while self.state.lock().unwrap_or_else(|p| p.into_inner()).in_flight > 0 {
            ports.tasks.sleep(Duration::from_millis(2)).await;
        }
    }

    /// Writes batches until the queue is empty; the `writer` task then marks itself stopped.
    async fn write_queued<S: Store>(&self, ports: &Ports<S>, writer: bool) {
        loop {
            let batch = self.take(writer);
            if batch.is_empty() {
                return;
            }
            self.write_batch(ports, &batch).await;
        }
    }

    /// Takes the next batch (counted in flight until [`Self::write_batch`] is done with it);
    /// the writer marks itself stopped when there is none.
    fn take(&self, writer: bool) -> Vec<AuditRecord> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let n = state.records.len().min(AUDIT_BATCH);
        if n == 0 && writer {
            state.writing = false;
        }
        if n > 0 {
            state.in_flight += 1;
        }
        state.records.drain(..n).collect()
    }

    async fn write_batch<S: Store>(&self, ports: &Ports<S>, batch: &[AuditRecord]) {
        self.try_write(ports, batch).await;
        self.state.lock().unwrap_or_else(|p| p.into_inner()).in_flight -= 1;
    }

    async fn try_write<S: Store>(&self, ports: &Ports<S>, batch: &[AuditRecord]) {
        for attempt in 1..=WRITE_ATTEMPTS {
            match write_many(ports, batch).await {
                Ok(()) => return,
                Err(e) if attempt < WRITE_ATTEMPTS => {
                    tracing::debug!(error = %e, attempt, "audit batch not written yet, trying again");
                    ports.tasks.sleep(Duration::from_millis(100 << attempt)).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, records = batch.len(), "audit log write failed for blocked checkouts");
                    batch.iter().for_each(|_| ports.events.audit_dropped());
                }
            }
        }
    }
}

#[cfg(all(test, feature = "native"))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::adapters::store::{EmbeddedStore, RedisStore};
    use crate::app::testing::InstantTasks;
    use crate::core::blacklist::audit::{scope_prefix, AuditAction};
    use crate::ports::events::Events;

    #[derive(Default)]
    struct Dropped(AtomicUsize);
    impl Events for Dropped {
        fn audit_dropped(&self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn record(n: u64) -> AuditRecord {
        AuditRecord {
            at_ms: 1_700_000_000_000 + n,
            scope: "*".into(),
            action: AuditAction::Block,
            actor: "checkout".into(),
            kind: "account".into(),
            value: format!("eve-{n}"),
            event: Some("e1".into()),
            route: None,
        }
    }

    fn fake_ports<S>(store: S) -> (Ports<S>, Arc<InstantTasks>, Arc<Dropped>) {
        let (tasks, dropped) = (Arc::new(InstantTasks::default()), Arc::new(Dropped::default()));
        let ports = Ports::new(store, tasks.clone()).with_events(dropped.clone());
        (ports, tasks, dropped)
    }

    #[tokio::test]
    async fn every_record_below_the_bound_is_written_and_the_overflow_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(&dir.path().join("a.redb"), "t").unwrap();
        let (ports, tasks, dropped) = fake_ports(store.clone());
        let queue = Arc::new(AuditQueue::default());
        queue.push(&ports, (0..AUDIT_QUEUE as u64 + 10).map(record).collect());
        assert_eq!(queue.len(), AUDIT_QUEUE);
        assert_eq!(dropped.0.load(Ordering::Relaxed), 10, "the overflow is counted, not hidden");
        queue.push(&ports, vec![record(9)]);
        assert_eq!(dropped.0.load(Ordering::Relaxed), 11);
        assert_eq!(tasks.run_spawned().await, 1, "one writer, however many pushes");
        assert!(queue.is_empty());
        let written = store.scan_prefix(&scope_prefix("*"), 10 * AUDIT_QUEUE).await.unwrap();
        assert_eq!(written.len(), AUDIT_QUEUE);
        queue.push(&ports, vec![record(1)]);
        assert_eq!(tasks.run_spawned().await, 1, "a stopped writer is started again");
    }

    #[tokio::test]
    async fn flush_writes_what_waits_and_a_failing_store_is_retried_then_counted() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(&dir.path().join("a.redb"), "t").unwrap();
        let (ports, _tasks, _) = fake_ports(store.clone());
        let queue = Arc::new(AuditQueue::default());
        queue.push(&ports, vec![record(1), record(2)]);
        // The writer task has not run (a host stopping before it got a turn): flush writes.
        queue.flush(&ports).await;
        assert_eq!(store.scan_prefix(&scope_prefix("*"), 10).await.unwrap().len(), 2);

        // A Redis nobody listens on: every attempt fails, each record is counted once.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let client = RedisStore::client(&format!("redis://127.0.0.1:{port}")).unwrap();
        let redis = RedisStore::from_client(&client, "t").unwrap();
        let (ports, tasks, dropped) = fake_ports(redis);
        let queue = Arc::new(AuditQueue::default());
        queue.push(&ports, vec![record(1), record(2), record(3)]);
        tasks.run_spawned().await;
        assert_eq!(dropped.0.load(Ordering::Relaxed), 3);
        let backoff: Vec<Duration> = tasks.slept();
        assert_eq!(backoff.len(), WRITE_ATTEMPTS as usize - 1, "tried {WRITE_ATTEMPTS} times: {backoff:?}");
    }
}
