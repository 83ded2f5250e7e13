//! The embedded durable store: one redb file, each write committed to disk before it returns.
//!
//! Values are stored as an 8-byte big-endian expiry (milliseconds since the Unix epoch, 0 for
//! none) followed by the payload. Expired entries are invisible to reads and removed by the next
//! write to their key. Reads run inline (they are memory-speed). Writes go to one writer thread
//! that commits them in groups: every write waiting when a commit starts (up to
//! [`GROUP_LIMIT`]) is applied in order in one transaction with one `fsync`, and each caller is
//! answered only after that commit. Concurrent writers share the cost of the disk flush instead
//! of queueing behind one flush each.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::ports::store::{Entry, SetItem, Store, StoreError};

const TABLE: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");

/// Most writes committed together.
pub const GROUP_LIMIT: usize = 512;

type Table<'t> = redb::Table<'t, &'static str, &'static [u8]>;
type Answer = Result<Box<dyn std::any::Any + Send>, StoreError>;

/// One write waiting for the writer thread: its work, and where its answer goes.
struct Job {
    work: Box<dyn FnOnce(&mut Table<'_>) -> Answer + Send>,
    reply: tokio::sync::oneshot::Sender<Answer>,
}

/// The embedded store. Cloning shares the open file and its writer thread.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    prefix: Arc<str>,
    writer: Arc<Writer>,
}

/// The writer thread and the way to it. Dropping the last store handle ends the thread and
/// waits for it, so the file is closed (and can be opened again) once the store is gone.
struct Writer {
    jobs: Option<std::sync::mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The writer thread: takes every job waiting, applies them in order in one transaction, commits
/// once, then answers each (with the commit's error if it failed). Ends when the last handle of
/// the store is dropped.
fn write_groups(db: Arc<Database>, jobs: std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < GROUP_LIMIT {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let mut answers = Vec::with_capacity(group.len());
        let mut replies = Vec::with_capacity(group.len());
        let committed = (|| -> Result<(), StoreError> {
            let tx = db.begin_write().map_err(failed)?;
            {
                let mut table = tx.open_table(TABLE).map_err(failed)?;
                for job in group.drain(..) {
                    // A job's own failure (a counter that is not one) is its answer alone; it
                    // checks before it writes, so it leaves nothing half-written.
                    answers.push((job.work)(&mut table));
                    replies.push(job.reply);
                }
            }
            tx.commit().map_err(failed)
        })();
        match committed {
            Ok(()) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                let jobs_left = group.into_iter().map(|j| j.reply);
                for reply in replies.into_iter().chain(jobs_left) {
                    let _ = reply.send(Err(StoreError::Failed(format!("commit: {e}"))));
                }
            }
        }
    }
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError::Failed(e.to_string())
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn expiry_of(ttl: Option<Duration>) -> u64 {
    ttl.map(|t| now_ms().saturating_add(t.as_millis().max(1) as u64)).unwrap_or(0)
}

/// A stored value's expiry and payload, or `None` when it has expired (or is malformed).
fn live_parts(raw: &[u8], now: u64) -> Option<(u64, &[u8])> {
    let (head, payload) = raw.split_first_chunk::<8>()?;
    let expiry = u64::from_be_bytes(*head);
    (expiry == 0 || expiry > now).then_some((expiry, payload))
}

/// A stored value's payload, or `None` when it has expired (or is malformed).
fn live(raw: &[u8], now: u64) -> Option<&[u8]> {
    live_parts(raw, now).map(|(_, payload)| payload)
}

/// A counter's value: decimal text, as Redis keeps it (and as `get` shows it); files written
/// before counters were text hold 8 little-endian bytes.
fn read_counter(payload: &[u8]) -> Option<i64> {
    match std::str::from_utf8(payload).ok().and_then(|t| t.parse().ok()) {
        Some(n) => Some(n),
        None => <[u8; 8]>::try_from(payload).ok().map(i64::from_le_bytes),
    }
}

fn encode(expiry: u64, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + payload.len());
    v.extend_from_slice(&expiry.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

impl EmbeddedStore {
    /// Opens (or creates) the store file at `path`; keys are prefixed with `namespace:`.
    pub fn open(path: &Path, namespace: &str) -> Result<Self, StoreError> {
        let db = Arc::new(
            Database::create(path)
                .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?,
        );
        // Creates the table, so reads never miss it.
        let tx = db.begin_write().map_err(failed)?;
        tx.open_table(TABLE).map_err(failed)?;
        tx.commit().map_err(failed)?;
        let (sender, jobs) = std::sync::mpsc::channel();
        let for_writer = db.clone();
        let thread = std::thread::Builder::new()
            .name("doorman-store-writer".into())
            .spawn(move || write_groups(for_writer, jobs))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the store's writer: {e}")))?;
        let writer = Arc::new(Writer { jobs: Some(sender), thread: Some(thread) });
        Ok(Self { db, prefix: format!("{namespace}:").into(), writer })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Table<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let work =
            Box::new(move |t: &mut Table<'_>| f(t).map(|v| Box::new(v) as Box<dyn std::any::Any + Send>));
        self.writer
            .jobs
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("the store's writer has stopped".into()))?
            .send(Job { work, reply })
            .map_err(|_| StoreError::Unavailable("the store's writer has stopped".into()))?;
        let answer =
            answer.await.map_err(|_| StoreError::Unavailable("the store's writer has stopped".into()))??;
        answer
            .downcast::<T>()
            .map(|v| *v)
            .map_err(|_| StoreError::Failed("write answer of the wrong type".into()))
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&redb::ReadOnlyTable<&str, &[u8]>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self.db.begin_read().map_err(failed)?;
        let table = tx.open_table(TABLE).map_err(failed)?;
        f(&table)
    }
}

impl Store for EmbeddedStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|_| Ok(()))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = self.key(key);
        let now = now_ms();
        self.read(|t| {
            Ok(t.get(key.as_str()).map_err(failed)?.and_then(|v| live(v.value(), now).map(<[u8]>::to_vec)))
        })
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        let (key, value) = (self.key(key), encode(expiry_of(ttl), value));
        self.write(move |t| t.insert(key.as_str(), value.as_slice()).map(drop).map_err(failed)).await
    }

    async fn set_many(&self, items: &[SetItem]) -> Result<(), StoreError> {
        let items: Vec<(String, Vec<u8>)> =
            items.iter().map(|i| (self.key(&i.key), encode(expiry_of(i.ttl), &i.value))).collect();
        self.write(move |t| {
            for (k, v) in &items {
                t.insert(k.as_str(), v.as_slice()).map_err(failed)?;
            }
            Ok(())
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let key = self.key(key);
        self.write(move |t| {
            let old = t.remove(key.as_str()).map_err(failed)?;
            Ok(old.is_some_and(|v| live(v.value(), now_ms()).is_some()))
        })
        .await
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let now = now_ms();
        self.read(|t| {
            keys.iter()
                .map(|k| {
                    let k = self.key(k);
                    Ok(t.get(k.as_str())
                        .map_err(failed)?
                        .and_then(|v| live(v.value(), now).map(<[u8]>::to_vec)))
                })
                .collect()
        })
    }

    async fn claim(&self, key: &str, ttl: Option<Duration>) -> Result<bool, StoreError> {
        let key = self.key(key);
        self.write(move |t| {
            let taken =
                t.get(key.as_str()).map_err(failed)?.is_some_and(|v| live(v.value(), now_ms()).is_some());
            if !taken {
                // A counter at 1, as a first increment leaves it.
                t.insert(key.as_str(), encode(expiry_of(ttl), b"1").as_slice()).map_err(failed)?;
            }
            Ok(!taken)
        })
        .await
    }

    async fn exists_many(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        let now = now_ms();
        self.read(|t| {
            keys.iter()
                .map(|k| {
                    let k = self.key(k);
                    Ok(t.get(k.as_str()).map_err(failed)?.is_some_and(|v| live(v.value(), now).is_some()))
                })
                .collect()
        })
    }

    async fn increment(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, StoreError> {
        let key = self.key(key);
        self.write(move |t| {
            let now = now_ms();
            let stored = t.get(key.as_str()).map_err(failed)?;
            let (current, expiry) = match stored.as_ref().and_then(|v| live_parts(v.value(), now)) {
                Some((expiry, payload)) => (
                    read_counter(payload)
                        .ok_or_else(|| StoreError::Failed(format!("{key} is not a counter")))?,
                    expiry,
                ),
                None => (0, expiry_of(ttl)),
            };
            drop(stored);
            let next =
                current.checked_add(by).ok_or_else(|| StoreError::Failed(format!("{key} overflows")))?;
            t.insert(key.as_str(), encode(expiry, next.to_string().as_bytes()).as_slice()).map_err(failed)?;
            Ok(next)
        })
        .await
    }

    async fn scan_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let start = self.key(prefix);
        let now = now_ms();
        self.read(|t| {
            let mut out = Vec::new();
            for item in t.range(start.as_str()..).map_err(failed)? {
                let (k, v) = item.map_err(failed)?;
                let Some(rest) = k.value().strip_prefix(&*self.prefix) else { break };
                if !rest.starts_with(prefix) || out.len() >= limit {
                    break;
                }
                if let Some(payload) = live(v.value(), now) {
                    out.push(Entry { key: rest.to_owned(), value: payload.to_vec() });
                }
            }
            Ok(out)
        })
    }
}
