//! The embedded durable store: one redb file, each write committed to disk before it returns.
//!
//! Values are stored as an 8-byte big-endian expiry (milliseconds since the Unix epoch, 0 for
//! none) followed by the payload. Expired entries are invisible to reads at once; a second
//! table (`due`) lists every key with an expiry by its expiry, and the writer thread sweeps what
//! is due every [`SWEEP_EVERY`] (at most [`SWEEP_BATCH`] keys a transaction, so writes never
//! wait long behind it), so expired rows leave the file and their pages are reused: audit
//! records past their retention and unconfirmed signups free their space. A file written before
//! the `due` table existed gets it built once, when it is opened.
//!
//! Reads run inline (they are memory-speed). Writes go to one writer thread that commits them in
//! groups: every write waiting when a commit starts (up to [`GROUP_LIMIT`]) is applied in order
//! in one transaction with one `fsync`, and each caller is answered only after that commit.
//! Concurrent writers share the cost of the disk flush instead of queueing behind one flush each.

use std::path::Path;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::ports::store::{add_member, Entry, ScanPage, SetItem, Store, StoreError};

const TABLE: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
/// Every key with an expiry, by `(expiry, key)`: what the sweeper removes once due.
const DUE: TableDefinition<(u64, &str), ()> = TableDefinition::new("due");
/// The file's own facts (`due-index`: the `due` table is complete).
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Most writes committed together.
pub const GROUP_LIMIT: usize = 512;
/// How often the writer thread sweeps expired rows.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// Most expired rows removed in one transaction; a full batch is followed by another at once.
pub const SWEEP_BATCH: usize = 10_000;

type Answer = Result<Box<dyn std::any::Any + Send>, StoreError>;

/// The tables a write works on: the values, and the `due` index kept in step with their expiry.
pub struct Tables<'t> {
    kv: redb::Table<'t, &'static str, &'static [u8]>,
    due: redb::Table<'t, (u64, &'static str), ()>,
}

/// The expiry in a stored value's head (0: none, or malformed).
fn expiry_in(raw: &[u8]) -> u64 {
    raw.first_chunk::<8>().map(|h| u64::from_be_bytes(*h)).unwrap_or(0)
}

impl Tables<'_> {
    /// The stored value (head and payload) under `key`, expired or not.
    fn raw(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.kv.get(key).map_err(failed)?.map(|v| v.value().to_vec()))
    }

    /// Stores `raw` (head and payload) under `key`, keeping `due` in step.
    fn put(&mut self, key: &str, raw: &[u8]) -> Result<(), StoreError> {
        let expiry = expiry_in(raw);
        let old = self.kv.insert(key, raw).map_err(failed)?.map(|v| expiry_in(v.value()));
        if let Some(old) = old.filter(|e| *e != 0 && *e != expiry) {
            self.due.remove((old, key)).map_err(failed)?;
        }
        if expiry != 0 {
            self.due.insert((expiry, key), ()).map_err(failed)?;
        }
        Ok(())
    }

    /// Removes `key`; answers what was stored (head and payload).
    fn remove(&mut self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let old = self.kv.remove(key).map_err(failed)?.map(|v| v.value().to_vec());
        if let Some(e) = old.as_deref().map(expiry_in).filter(|e| *e != 0) {
            self.due.remove((e, key)).map_err(failed)?;
        }
        Ok(old)
    }
}

/// One write waiting for the writer thread: its work, and where its answer goes.
struct Job {
    work: Box<dyn FnOnce(&mut Tables<'_>) -> Answer + Send>,
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
/// once, then answers each (with the commit's error if it failed); sweeps expired rows every
/// `sweep_every`. Ends when the last handle of the store is dropped.
fn write_groups(db: Arc<Database>, jobs: std::sync::mpsc::Receiver<Job>, sweep_every: Duration) {
    let mut next_sweep = Instant::now() + sweep_every;
    loop {
        let first = match jobs.recv_timeout(next_sweep.saturating_duration_since(Instant::now())) {
            Ok(job) => Some(job),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if let Some(first) = first {
            commit_group(&db, first, &jobs);
        }
        if Instant::now() >= next_sweep {
            next_sweep = match sweep(&db, now_ms(), SWEEP_BATCH) {
                // More is due: go on right after the writes that wait.
                Ok(n) if n == SWEEP_BATCH => Instant::now(),
                Ok(_) => Instant::now() + sweep_every,
                Err(e) => {
                    tracing::warn!(error = %e, "embedded store: sweeping expired rows failed");
                    Instant::now() + sweep_every
                }
            };
        }
    }
}

/// Removes up to `batch` rows whose expiry is at or before `now`, in one transaction; answers
/// how many.
fn sweep(db: &Database, now: u64, batch: usize) -> Result<usize, StoreError> {
    let tx = db.begin_write().map_err(failed)?;
    let swept = {
        let mut t =
            Tables { kv: tx.open_table(TABLE).map_err(failed)?, due: tx.open_table(DUE).map_err(failed)? };
        let mut due: Vec<(u64, String)> = Vec::new();
        for item in t.due.range((0, "")..(now.saturating_add(1), "")).map_err(failed)?.take(batch) {
            let (k, _) = item.map_err(failed)?;
            let (expiry, key) = k.value();
            due.push((expiry, key.to_owned()));
        }
        for (expiry, key) in &due {
            t.due.remove((*expiry, key.as_str())).map_err(failed)?;
            // Written again since with another expiry (its own `due` row) or none: it stays.
            if t.raw(key)?.is_some_and(|raw| expiry_in(&raw) == *expiry) {
                t.kv.remove(key.as_str()).map_err(failed)?;
            }
        }
        due.len()
    };
    tx.commit().map_err(failed)?;
    Ok(swept)
}

/// Free room in a file worth a compaction at open: at least this much, and a quarter of it.
pub const COMPACT_ABOVE: u64 = 1 << 20;

/// Compacts the file at open, before anything reads it, when much of it is free room (after bulk
/// loads and sweeps; the room is reused while running, but only compaction gives it back to the
/// disk). A failed compaction is logged; the file stays as it was.
fn compact_if_worthwhile(db: &mut Database, path: &Path) {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let used = match db.begin_write().and_then(|tx| {
        let stats = tx.stats();
        tx.abort()?;
        Ok(stats)
    }) {
        Ok(Ok(stats)) => stats.allocated_pages() * stats.page_size() as u64,
        _ => return,
    };
    let free = size.saturating_sub(used);
    if free < COMPACT_ABOVE || free < size / 4 {
        return;
    }
    let started = Instant::now();
    // Each pass moves what it can towards the file's start; a pass that moved nothing is the last.
    let mut passes = Ok(0);
    for _ in 0..16 {
        match db.compact() {
            Ok(true) => passes = passes.map(|n| n + 1),
            Ok(false) => break,
            Err(e) => {
                passes = Err(e);
                break;
            }
        }
    }
    match passes {
        Ok(passes) => tracing::info!(
            passes,
            file = %path.display(),
            before = size,
            after = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            took_ms = started.elapsed().as_millis() as u64,
            "embedded store compacted"
        ),
        Err(e) => tracing::warn!(file = %path.display(), error = %e, "embedded store: compaction failed"),
    }
}

/// Builds the `due` table of a file written before it existed (once; `META` remembers).
fn index_expiries(db: &Database) -> Result<(), StoreError> {
    let tx = db.begin_write().map_err(failed)?;
    {
        let mut meta = tx.open_table(META).map_err(failed)?;
        if meta.get("due-index").map_err(failed)?.is_none() {
            let kv = tx.open_table(TABLE).map_err(failed)?;
            let mut due = tx.open_table(DUE).map_err(failed)?;
            for item in kv.iter().map_err(failed)? {
                let (k, v) = item.map_err(failed)?;
                let expiry = expiry_in(v.value());
                if expiry != 0 {
                    due.insert((expiry, k.value()), ()).map_err(failed)?;
                }
            }
            meta.insert("due-index", 1).map_err(failed)?;
        }
    }
    tx.commit().map_err(failed)
}

/// Applies `first` and every job waiting behind it (up to [`GROUP_LIMIT`]) in one transaction.
fn commit_group(db: &Database, first: Job, jobs: &std::sync::mpsc::Receiver<Job>) {
    {
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
                let mut tables = Tables {
                    kv: tx.open_table(TABLE).map_err(failed)?,
                    due: tx.open_table(DUE).map_err(failed)?,
                };
                for job in group.drain(..) {
                    // A job's own failure (a counter that is not one) is its answer alone; it
                    // checks before it writes, so it leaves nothing half-written.
                    answers.push((job.work)(&mut tables));
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
        Self::open_sweeping(path, namespace, SWEEP_EVERY)
    }

    /// [`EmbeddedStore::open`], sweeping expired rows every `sweep_every` (tests sweep often).
    pub fn open_sweeping(path: &Path, namespace: &str, sweep_every: Duration) -> Result<Self, StoreError> {
        let mut db = Database::create(path)
            .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
        compact_if_worthwhile(&mut db, path);
        let db = Arc::new(db);
        // Creates the tables, so reads never miss them.
        let tx = db.begin_write().map_err(failed)?;
        tx.open_table(TABLE).map_err(failed)?;
        tx.open_table(DUE).map_err(failed)?;
        tx.commit().map_err(failed)?;
        index_expiries(&db)?;
        let (sender, jobs) = std::sync::mpsc::channel();
        let for_writer = db.clone();
        let thread = std::thread::Builder::new()
            .name("doorman-store-writer".into())
            .spawn(move || write_groups(for_writer, jobs, sweep_every))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the store's writer: {e}")))?;
        let writer = Arc::new(Writer { jobs: Some(sender), thread: Some(thread) });
        Ok(Self { db, prefix: format!("{namespace}:").into(), writer })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Tables<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let work =
            Box::new(move |t: &mut Tables<'_>| f(t).map(|v| Box::new(v) as Box<dyn std::any::Any + Send>));
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
        self.write(move |t| t.put(&key, &value)).await
    }

    async fn set_many(&self, items: &[SetItem]) -> Result<(), StoreError> {
        let items: Vec<(String, Vec<u8>)> =
            items.iter().map(|i| (self.key(&i.key), encode(expiry_of(i.ttl), &i.value))).collect();
        self.write(move |t| {
            for (k, v) in &items {
                t.put(k, v)?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        self.write(move |t| keys.iter().try_for_each(|k| t.remove(k).map(drop))).await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let key = self.key(key);
        self.write(move |t| Ok(t.remove(&key)?.is_some_and(|v| live(&v, now_ms()).is_some()))).await
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

    async fn replace_if(&self, key: &str, expected: &[u8], new: &[u8]) -> Result<bool, StoreError> {
        let (key, expected, new) = (self.key(key), expected.to_vec(), new.to_vec());
        self.write(move |t| {
            let Some(raw) = t.raw(&key)? else { return Ok(false) };
            match live_parts(&raw, now_ms()) {
                Some((expiry, payload)) if payload == expected.as_slice() => {
                    t.put(&key, &encode(expiry, &new))?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn claim(&self, key: &str, ttl: Option<Duration>) -> Result<bool, StoreError> {
        let key = self.key(key);
        self.write(move |t| {
            let taken = t.raw(&key)?.is_some_and(|v| live(&v, now_ms()).is_some());
            if !taken {
                // A counter at 1, as a first increment leaves it.
                t.put(&key, &encode(expiry_of(ttl), b"1"))?;
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
        self.write(move |t| step_counter(t, &key, by, ttl)).await
    }

    async fn increment_many(&self, steps: &[(String, i64)]) -> Result<Vec<i64>, StoreError> {
        let steps: Vec<(String, i64)> = steps.iter().map(|(key, by)| (self.key(key), *by)).collect();
        self.write(move |t| {
            // Every step is worked out before anything is written: a job of a commit group that
            // fails must leave nothing behind (a key named twice counts both steps).
            let now = now_ms();
            let mut counters: Vec<(&str, u64, i64)> = Vec::new();
            let mut answers = Vec::with_capacity(steps.len());
            for (key, by) in &steps {
                let place = match counters.iter().position(|(k, ..)| k == key) {
                    Some(place) => place,
                    None => {
                        let (current, expiry) = current_counter(&t.raw(key)?, key, None, now)?;
                        counters.push((key, expiry, current));
                        counters.len() - 1
                    }
                };
                let counter = &mut counters[place].2;
                *counter =
                    counter.checked_add(*by).ok_or_else(|| StoreError::Failed(format!("{key} overflows")))?;
                answers.push(*counter);
            }
            for (key, expiry, value) in counters {
                t.put(key, &encode(expiry, value.to_string().as_bytes()))?;
            }
            Ok(answers)
        })
        .await
    }

    async fn add_members(&self, adds: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let adds: Vec<(String, Vec<u8>)> = adds.iter().map(|(key, m)| (self.key(key), m.clone())).collect();
        self.write(move |t| {
            // Worked out before anything is written, as increment_many is (a key may repeat).
            let now = now_ms();
            let mut values: Vec<(&str, Vec<u8>)> = Vec::new();
            for (key, member) in &adds {
                let place = match values.iter().position(|(k, _)| k == key) {
                    Some(place) => place,
                    None => {
                        let raw = t.raw(key)?;
                        let current = raw.as_deref().and_then(|r| live(r, now)).unwrap_or_default();
                        values.push((key, current.to_vec()));
                        values.len() - 1
                    }
                };
                add_member(&mut values[place].1, member);
            }
            for (key, value) in values {
                t.put(key, &encode(0, &value))?;
            }
            Ok(())
        })
        .await
    }

    async fn scan_page(&self, prefix: &str, cursor: &str, count: usize) -> Result<ScanPage, StoreError> {
        // Key order; the cursor is the last key looked at (without the namespace).
        let start = self.key(prefix);
        let after = self.key(cursor);
        let now = now_ms();
        self.read(|t| {
            let range = if cursor.is_empty() {
                t.range::<&str>(start.as_str()..)
            } else {
                t.range::<&str>((std::ops::Bound::Excluded(after.as_str()), std::ops::Bound::Unbounded))
            };
            let mut entries = Vec::new();
            let mut last: Option<String> = None;
            for (looked, item) in range.map_err(failed)?.enumerate() {
                let (k, v) = item.map_err(failed)?;
                let Some(rest) = k.value().strip_prefix(&*self.prefix).filter(|r| r.starts_with(prefix))
                else {
                    break;
                };
                if looked == count.max(1) {
                    // More follow: the next page starts after the last key looked at.
                    return Ok(ScanPage { entries, next: last });
                }
                if let Some(payload) = live(v.value(), now) {
                    entries.push(Entry { key: rest.to_owned(), value: payload.to_vec() });
                }
                last = Some(rest.to_owned());
            }
            Ok(ScanPage { entries, next: None })
        })
    }
}

/// Adds `by` to the counter under the namespaced `key` in the write transaction `t`; a counter
/// it creates gets `ttl`.
fn step_counter(t: &mut Tables<'_>, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, StoreError> {
    let (current, expiry) = current_counter(&t.raw(key)?, key, ttl, now_ms())?;
    let next = current.checked_add(by).ok_or_else(|| StoreError::Failed(format!("{key} overflows")))?;
    t.put(key, &encode(expiry, next.to_string().as_bytes()))?;
    Ok(next)
}

/// The counter stored (raw) under the namespaced `key` at `now`, and its expiry; a missing or
/// expired one counts as 0, to be created with `ttl`.
fn current_counter(
    stored: &Option<Vec<u8>>,
    key: &str,
    ttl: Option<Duration>,
    now: u64,
) -> Result<(i64, u64), StoreError> {
    match stored.as_deref().and_then(|v| live_parts(v, now)) {
        Some((expiry, payload)) => Ok((
            read_counter(payload).ok_or_else(|| StoreError::Failed(format!("{key} is not a counter")))?,
            expiry,
        )),
        None => Ok((0, expiry_of(ttl))),
    }
}

#[cfg(test)]
mod tests {
    use redb::ReadableTableMetadata;

    use super::*;

    fn rows(store: &EmbeddedStore) -> (usize, usize) {
        let tx = store.db.begin_read().unwrap();
        let kv = tx.open_table(TABLE).unwrap().len().unwrap() as usize;
        let due = tx.open_table(DUE).unwrap().len().unwrap() as usize;
        (kv, due)
    }

    #[tokio::test]
    async fn expired_rows_are_swept_and_live_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            EmbeddedStore::open_sweeping(&dir.path().join("s.redb"), "t", Duration::from_secs(3600)).unwrap();
        let short = Some(Duration::from_millis(1));
        for i in 0..50 {
            store.set(&format!("gone:{i}"), b"x", short).await.unwrap();
        }
        store.increment("rate", 1, short).await.unwrap();
        store.claim("claim", short).await.unwrap();
        store.set("kept", b"x", None).await.unwrap();
        store.set("later", b"x", Some(Duration::from_secs(3600))).await.unwrap();
        // Written with an expiry, then again without: the old `due` row must not remove it.
        store.set("renewed", b"x", short).await.unwrap();
        store.set("renewed", b"y", None).await.unwrap();
        // Written again with a later expiry.
        store.set("extended", b"x", short).await.unwrap();
        store.set("extended", b"y", Some(Duration::from_secs(3600))).await.unwrap();
        store.set("deleted", b"x", short).await.unwrap();
        store.delete("deleted").await.unwrap();
        assert_eq!(rows(&store), (56, 54), "every row with an expiry is due once");
        std::thread::sleep(Duration::from_millis(5));
        let swept = sweep(&store.db, now_ms(), 20).unwrap();
        assert_eq!(swept, 20, "a batch at most");
        while sweep(&store.db, now_ms(), 20).unwrap() > 0 {}
        assert_eq!(rows(&store), (4, 2), "kept, later, renewed, extended; later's and extended's due rows");
        for key in ["kept", "later", "renewed", "extended"] {
            assert!(store.get(key).await.unwrap().is_some(), "{key}");
        }
        assert_eq!(store.get("renewed").await.unwrap().as_deref(), Some(&b"y"[..]));
    }

    #[tokio::test]
    async fn several_counter_steps_are_one_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(&dir.path().join("c.redb"), "t").unwrap();
        store.set("text", b"not a number", None).await.unwrap();
        let steps = [("a".to_owned(), 2), ("a".to_owned(), 3), ("text".to_owned(), 1)];
        assert!(matches!(store.increment_many(&steps).await, Err(StoreError::Failed(_))));
        assert_eq!(store.get("a").await.unwrap(), None, "a failing step leaves the others unwritten");
        assert_eq!(store.increment_many(&steps[..2]).await.unwrap(), [2, 5], "a key named twice counts both");
        assert_eq!(store.get("a").await.unwrap().as_deref(), Some(&b"5"[..]));
        // Deleting many drops their due rows too.
        store.set("short", b"x", Some(Duration::from_secs(60))).await.unwrap();
        store.delete_many(&["short".into(), "a".into()]).await.unwrap();
        assert_eq!(rows(&store), (1, 0), "only `text` is left, nothing is due");
    }

    #[tokio::test]
    async fn a_file_without_the_due_table_gets_it_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.redb");
        {
            // A file as earlier versions wrote it: values only.
            let db = Database::create(&path).unwrap();
            let tx = db.begin_write().unwrap();
            {
                let mut kv = tx.open_table(TABLE).unwrap();
                kv.insert("t:gone", encode(now_ms() - 1000, b"x").as_slice()).unwrap();
                kv.insert("t:kept", encode(0, b"x").as_slice()).unwrap();
            }
            tx.commit().unwrap();
        }
        let store = EmbeddedStore::open_sweeping(&path, "t", Duration::from_secs(3600)).unwrap();
        assert_eq!(rows(&store), (2, 1));
        assert_eq!(sweep(&store.db, now_ms(), 100).unwrap(), 1);
        assert_eq!(rows(&store), (1, 0));
        assert!(store.get("kept").await.unwrap().is_some());
    }
}
