//! The audit log through the store: records of every blacklist change and every blocked
//! checkout, kept [`RETENTION`], in numbered logs ([`Log`]): each record in its scope's log and
//! its place in the log of all scopes, so both read newest first a page at a time.
//!
//! Blocked checkouts are recorded through an [`AuditQueue`], so a flood of blocked attempts
//! costs bounded memory and one store write per batch: records wait in the queue (at most
//! [`AUDIT_QUEUE`]), one background writer takes them in batches of [`AUDIT_BATCH`], and a batch
//! the store refuses is tried again [`WRITE_ATTEMPTS`] times before it is counted as dropped.
//! Hosts call [`AuditQueue::flush`] when they stop, so nothing queued is lost at shutdown.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::app::Ports;
use crate::core::blacklist::audit::{page_numbers, parse_place, place, AuditRecord, Log};
use crate::ports::store::{SetItem, Store, StoreError};

/// How long audit records are kept.
pub const RETENTION: Duration = Duration::from_secs(400 * 86_400);
/// Records waiting to be written; beyond this new ones are dropped (and counted).
pub const AUDIT_QUEUE: usize = 4096;
/// Most records written in one batch (one commit or round trip).
pub const AUDIT_BATCH: usize = 128;
/// Tries of one batch before its records are counted as dropped.
pub const WRITE_ATTEMPTS: u32 = 3;

/// The store items of `records`, in their order: each record under the next number of its
/// scope's log, and its place under the next number of the log of all scopes. The numbers are
/// taken here (one counter step per scope in the batch, one for all scopes); a batch that is then
/// not written leaves gaps, which readers skip.
pub async fn items<S: Store>(ports: &Ports<S>, records: &[AuditRecord]) -> Result<Vec<SetItem>, StoreError> {
    let mut next: BTreeMap<&str, u64> = BTreeMap::new();
    for r in records {
        *next.entry(r.scope.as_str()).or_default() += 1;
    }
    // Every log's numbers in one step: each scope's log, then the log of all scopes.
    let logs: Vec<(Log, u64)> = next
        .iter()
        .map(|(scope, count)| (Log::Scope((*scope).to_owned()), *count))
        .chain(std::iter::once((Log::All, records.len() as u64)))
        .collect();
    let steps: Vec<(String, i64)> = logs.iter().map(|(log, count)| (log.seq_key(), *count as i64)).collect();
    let lasts = ports.store.increment_many(&steps).await?;
    if lasts.len() != logs.len() {
        return Err(StoreError::Failed(format!(
            "{} counters answered for {} steps",
            lasts.len(),
            logs.len()
        )));
    }
    let mut firsts = logs.iter().zip(lasts).map(|((log, count), last)| first_number(log, *count, last));
    let mut take =
        || firsts.next().unwrap_or_else(|| Err(StoreError::Failed("a log counter is missing".into())));
    for first in next.values_mut() {
        *first = take()?;
    }
    let first_of_all = take()?;
    let mut items = Vec::with_capacity(records.len() * 2);
    for (all, r) in (first_of_all..).zip(records) {
        let n = next.get_mut(r.scope.as_str()).expect("every scope has numbers");
        items.push(SetItem {
            key: Log::Scope(r.scope.clone()).key(*n),
            value: serde_json::to_vec(r).expect("an audit record serializes"),
            ttl: Some(RETENTION),
        });
        items.push(SetItem {
            key: Log::All.key(all),
            value: place(&r.scope, *n).into_bytes(),
            ttl: Some(RETENTION),
        });
        *n += 1;
    }
    Ok(items)
}

/// The first of the `count` numbers of `log` that ended at `last` (its counter after the step).
fn first_number(log: &Log, count: u64, last: i64) -> Result<u64, StoreError> {
    u64::try_from(last)
        .ok()
        .and_then(|last| last.checked_sub(count))
        .map(|before| before + 1)
        .ok_or_else(|| StoreError::Failed(format!("{} is not a log counter", log.seq_key())))
}

/// Stores `record`, durably before it returns.
pub async fn write<S: Store>(ports: &Ports<S>, record: &AuditRecord) -> Result<(), StoreError> {
    write_many(ports, std::slice::from_ref(record)).await
}

/// Stores `records` in one batch (one commit or round trip, after one for the counters), durably
/// before it returns.
pub async fn write_many<S: Store>(ports: &Ports<S>, records: &[AuditRecord]) -> Result<(), StoreError> {
    ports.store.set_many(&items(ports, records).await?).await
}

/// One page of a log, newest first: the records numbered below `before` (from the newest when
/// `None`), at most `limit` numbers read (one `get` of the counter, one `get_many` of the
/// records, and for [`Log::All`] one more of the places), and the cursor of the next page. A
/// page of nothing but gaps ends the log: records expire oldest first.
pub async fn page<S: Store>(
    ports: &Ports<S>,
    log: &Log,
    before: Option<u64>,
    limit: usize,
) -> Result<(Vec<AuditRecord>, Option<u64>), StoreError> {
    let last = match ports.store.get(&log.seq_key()).await? {
        None => 0,
        Some(v) => std::str::from_utf8(&v)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| StoreError::Failed(format!("{} is not a log counter", log.seq_key())))?,
    };
    let numbers = page_numbers(before, last, limit);
    let keys: Vec<String> = numbers.iter().map(|&n| log.key(n)).collect();
    let mut values = ports.store.get_many(&keys).await?;
    let all_gaps = values.iter().all(Option::is_none) && numbers.len() == limit;
    if *log == Log::All {
        // The log of all scopes holds places: read the records they name, in the same order.
        let places: Vec<String> = values
            .iter()
            .flatten()
            .filter_map(|v| parse_place(v))
            .map(|(scope, n)| Log::Scope(scope).key(n))
            .collect();
        values = ports.store.get_many(&places).await?;
    }
    let lowest = numbers.last().copied().unwrap_or(1);
    let records = values.into_iter().flatten().filter_map(|v| serde_json::from_slice(&v).ok()).collect();
    let next = (lowest > 1 && !all_gaps).then_some(lowest);
    Ok((records, next))
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::core::blacklist::audit::AuditAction;
    use crate::ports::events::Events;
    use crate::testkit::InstantTasks;
    use crate::testkit::MemoryStore;

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
            detail: None,
        }
    }

    fn fake_ports<S>(store: S) -> (Ports<S>, Arc<InstantTasks>, Arc<Dropped>) {
        let (tasks, dropped) = (Arc::new(InstantTasks::default()), Arc::new(Dropped::default()));
        let ports = Ports::new(store, tasks.clone()).with_events(dropped.clone());
        (ports, tasks, dropped)
    }

    /// Every record of `log`, paging `size` at a time, and how many pages it took.
    async fn read_all<S: Store>(ports: &Ports<S>, log: &Log, size: usize) -> (Vec<u64>, usize) {
        let (mut seen, mut pages, mut before) = (Vec::new(), 0, None);
        loop {
            let (records, next) = page(ports, log, before, size).await.unwrap();
            pages += 1;
            seen.extend(records.iter().map(|r| r.at_ms - 1_700_000_000_000));
            match next {
                Some(n) => before = Some(n),
                None => return (seen, pages),
            }
        }
    }

    #[test]
    fn logs_read_newest_first_a_page_at_a_time_per_scope_and_for_all() {
        crate::testkit::block_on(async {
            let store = MemoryStore::default();
            let (ports, _, _) = fake_ports(store.clone());
            let in_scope = |n: u64, scope: &str| AuditRecord { scope: scope.into(), ..record(n) };
            // Two batches, the scopes interleaved.
            let first: Vec<_> = (0..5).map(|n| in_scope(n, if n % 2 == 0 { "hh" } else { "*" })).collect();
            write_many(&ports, &first).await.unwrap();
            let second: Vec<_> = (5..9).map(|n| in_scope(n, if n % 2 == 0 { "hh" } else { "*" })).collect();
            write_many(&ports, &second).await.unwrap();
            write(&ports, &in_scope(9, "hh")).await.unwrap();

            assert_eq!(read_all(&ports, &Log::Scope("hh".into()), 2).await, (vec![9, 8, 6, 4, 2, 0], 3));
            assert_eq!(read_all(&ports, &Log::Scope("*".into()), 10).await, (vec![7, 5, 3, 1], 1));
            assert_eq!(read_all(&ports, &Log::All, 4).await, ((0..10).rev().collect(), 3));
            assert_eq!(read_all(&ports, &Log::Scope("none".into()), 4).await, (vec![], 1));
            // A cursor from a page carries on where it ended, also past records written since.
            let (_, next) = page(&ports, &Log::All, None, 3).await.unwrap();
            write(&ports, &in_scope(10, "hh")).await.unwrap();
            let (records, _) = page(&ports, &Log::All, next, 3).await.unwrap();
            assert_eq!(
                records.iter().map(|r| r.value.as_str()).collect::<Vec<_>>(),
                ["eve-6", "eve-5", "eve-4"]
            );
            // Expired records leave gaps: a page of nothing but gaps ends the log.
            let expired: Vec<_> = (0..4).map(|n| Log::Scope("hh".into()).key(n + 1)).collect();
            for key in &expired {
                store.delete(key).await.unwrap();
            }
            assert_eq!(read_all(&ports, &Log::Scope("hh".into()), 2).await, (vec![10, 9, 8], 3));
        })
    }

    #[test]
    fn every_record_below_the_bound_is_written_and_the_overflow_is_counted() {
        crate::testkit::block_on(async {
            let store = MemoryStore::default();
            let (ports, tasks, dropped) = fake_ports(store.clone());
            let queue = Arc::new(AuditQueue::default());
            queue.push(&ports, (0..AUDIT_QUEUE as u64 + 10).map(record).collect());
            assert_eq!(queue.len(), AUDIT_QUEUE);
            assert_eq!(dropped.0.load(Ordering::Relaxed), 10, "the overflow is counted, not hidden");
            queue.push(&ports, vec![record(9)]);
            assert_eq!(dropped.0.load(Ordering::Relaxed), 11);
            assert_eq!(tasks.run_spawned().await, 1, "one writer, however many pushes");
            assert!(queue.is_empty());
            let (written, _) = page(&ports, &Log::Scope("*".into()), None, 10 * AUDIT_QUEUE).await.unwrap();
            assert_eq!(written.len(), AUDIT_QUEUE);
            let (all, _) = page(&ports, &Log::All, None, 10 * AUDIT_QUEUE).await.unwrap();
            assert_eq!(all, written, "the log of all scopes finds the same records");
            queue.push(&ports, vec![record(1)]);
            assert_eq!(tasks.run_spawned().await, 1, "a stopped writer is started again");
        })
    }

    #[test]
    fn flush_writes_what_waits_and_a_failing_store_is_retried_then_counted() {
        crate::testkit::block_on(async {
            let store = MemoryStore::default();
            let (ports, _tasks, _) = fake_ports(store.clone());
            let queue = Arc::new(AuditQueue::default());
            queue.push(&ports, vec![record(1), record(2)]);
            // The writer task has not run (a host stopping before it got a turn): flush writes.
            queue.flush(&ports).await;
            assert_eq!(page(&ports, &Log::Scope("*".into()), None, 10).await.unwrap().0.len(), 2);

            // A store that is down: every attempt fails, each record is counted once.
            let down = MemoryStore::default();
            down.set_down(true);
            let (ports, tasks, dropped) = fake_ports(down);
            let queue = Arc::new(AuditQueue::default());
            queue.push(&ports, vec![record(1), record(2), record(3)]);
            tasks.run_spawned().await;
            assert_eq!(dropped.0.load(Ordering::Relaxed), 3);
            let backoff: Vec<Duration> = tasks.slept();
            assert_eq!(
                backoff.len(),
                WRITE_ATTEMPTS as usize - 1,
                "tried {WRITE_ATTEMPTS} times: {backoff:?}"
            );
        })
    }
}
