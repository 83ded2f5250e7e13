//! The Redis store: shared state for several Doorman instances.
//!
//! One multiplexed connection per store handle, re-established by itself when Redis comes back
//! (`ConnectionManager`); `StoreFactory` gives each runtime (each proxy worker, the admin
//! thread) a handle of its own, so a process holds one connection per runtime. Every key is `namespace:key`; features put a `{hash tag}` into their
//! keys where several keys must share a Redis Cluster slot. Each operation is one round trip
//! (pipelines where it takes several commands).
//!
//! A write Redis acknowledged survives a Redis restart only with `appendonly yes` and
//! `appendfsync always`; [`RedisStore::durability`] reads what the server is set to, and Doorman
//! reports it in the log and `/readyz`.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, ErrorKind, RedisError};

use crate::ports::store::{Entry, GotAndExists, ScanPage, SetItem, Store, StoreError};

/// The Redis store. Cloning shares the connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
}

fn error(e: RedisError) -> StoreError {
    if e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(e.kind(), ErrorKind::Io)
    {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Failed(e.to_string())
    }
}

/// Escapes Redis glob characters so a prefix matches only itself.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl RedisStore {
    /// Prepares a connection to `url`; it is opened lazily and re-opened after failures, so a
    /// Redis that is down at start-up is not fatal.
    ///
    /// Call it inside a tokio runtime: the connection belongs to that runtime.
    pub fn connect(url: &str, namespace: &str) -> Result<Self, StoreError> {
        Self::from_client(&Self::client(url)?, namespace)
    }

    /// A client for `url` (checks the URL; opens nothing).
    pub fn client(url: &str) -> Result<redis::Client, StoreError> {
        redis::Client::open(url).map_err(|e| StoreError::Failed(format!("redis url: {e}")))
    }

    /// A store over `client`'s server; the connection is opened lazily, in the current runtime.
    pub fn from_client(client: &redis::Client, namespace: &str) -> Result<Self, StoreError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(2));
        let conn = client.get_connection_manager_lazy(config).map_err(error)?;
        Ok(Self { conn, prefix: format!("{namespace}:") })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// What the server's persistence settings promise about acknowledged writes (`CONFIG GET`;
    /// a server that refuses `CONFIG` is `unknown`, not an error).
    pub async fn durability(&self) -> Result<super::Durability, StoreError> {
        let mut c = self.conn.clone();
        let mut setting = async |name: &str| -> Result<Result<String, String>, StoreError> {
            match redis::cmd("CONFIG").arg("GET").arg(name).query_async::<Vec<String>>(&mut c).await {
                Ok(pair) => Ok(Ok(pair.get(1).cloned().unwrap_or_default())),
                Err(e) if matches!(error(e.clone()), StoreError::Unavailable(_)) => Err(error(e)),
                Err(e) => Ok(Err(e.to_string())),
            }
        };
        let (aof, fsync, save) =
            (setting("appendonly").await?, setting("appendfsync").await?, setting("save").await?);
        Ok(match (aof, fsync, save) {
            (Ok(aof), Ok(fsync), Ok(save)) => super::Durability::of_redis(&aof, &fsync, &save),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => super::Durability::unknown(&e),
        })
    }
}

impl Store for RedisStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        redis::cmd("PING").query_async::<String>(&mut c).await.map(drop).map_err(error)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut c = self.conn.clone();
        c.get(self.key(key)).await.map_err(error)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value);
        if let Some(ttl) = ttl {
            cmd.arg("PX").arg(ttl.as_millis().max(1) as u64);
        }
        cmd.query_async::<()>(&mut c).await.map_err(error)
    }

    async fn set_many(&self, items: &[SetItem]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for i in items {
            let cmd = pipe.cmd("SET").arg(self.key(&i.key)).arg(&i.value);
            if let Some(ttl) = i.ttl {
                cmd.arg("PX").arg(ttl.as_millis().max(1) as u64);
            }
            cmd.ignore();
        }
        let mut c = self.conn.clone();
        pipe.query_async::<()>(&mut c).await.map_err(error)
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let mut c = self.conn.clone();
        let n: u64 = c.del(self.key(key)).await.map_err(error)?;
        Ok(n > 0)
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // One GET per key in a pipeline rather than MGET: the keys need not share a cluster slot.
        let mut pipe = redis::pipe();
        for k in keys {
            pipe.get(self.key(k));
        }
        let mut c = self.conn.clone();
        pipe.query_async(&mut c).await.map_err(error)
    }

    async fn claim(&self, key: &str, ttl: Option<Duration>) -> Result<bool, StoreError> {
        // The value is "1", as the first INCRBY of a counter leaves it: the edge claims by
        // incrementing and sees this claim as taken.
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg("1").arg("NX");
        if let Some(ttl) = ttl {
            cmd.arg("PX").arg(ttl.as_millis().max(1) as u64);
        }
        let mut c = self.conn.clone();
        let set: Option<String> = cmd.query_async(&mut c).await.map_err(error)?;
        Ok(set.is_some())
    }

    async fn exists_many(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for k in keys {
            pipe.exists(self.key(k));
        }
        let mut c = self.conn.clone();
        pipe.query_async(&mut c).await.map_err(error)
    }

    async fn get_and_exists(&self, get: &[String], exists: &[String]) -> Result<GotAndExists, StoreError> {
        // One pipeline, one round trip: the GETs, then the EXISTSes.
        let mut pipe = redis::pipe();
        for k in get {
            pipe.get(self.key(k));
        }
        for k in exists {
            pipe.exists(self.key(k));
        }
        let mut c = self.conn.clone();
        let values: Vec<redis::Value> = pipe.query_async(&mut c).await.map_err(error)?;
        let (gets, hits) = values.split_at(get.len().min(values.len()));
        let gets = gets
            .iter()
            .map(|v| {
                redis::from_redis_value_ref::<Option<Vec<u8>>>(v)
                    .map_err(|e| StoreError::Failed(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let hits = hits
            .iter()
            .map(|v| redis::from_redis_value_ref::<bool>(v).map_err(|e| StoreError::Failed(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        if gets.len() != get.len() || hits.len() != exists.len() {
            return Err(StoreError::Failed("a pipeline answered the wrong number of replies".into()));
        }
        Ok((gets, hits))
    }

    async fn increment(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, StoreError> {
        let key = self.key(key);
        let mut pipe = redis::pipe();
        pipe.atomic().incr(&key, by);
        if let Some(ttl) = ttl {
            // NX: only a counter this call created gets the expiry (Redis 7).
            pipe.cmd("PEXPIRE").arg(&key).arg(ttl.as_millis().max(1) as u64).arg("NX").ignore();
        }
        let mut c = self.conn.clone();
        let (n,): (i64,) = pipe.query_async(&mut c).await.map_err(error)?;
        Ok(n)
    }

    async fn scan_page(&self, prefix: &str, cursor: &str, count: usize) -> Result<ScanPage, StoreError> {
        // One SCAN step (the cursor is Redis's own), then one MGET of the keys it found.
        let from: u64 = match cursor {
            "" => 0,
            c => c.parse().map_err(|_| StoreError::Failed("not a scan cursor of this store".into()))?,
        };
        let mut c = self.conn.clone();
        let pattern = format!("{}*", glob_escape(&self.key(prefix)));
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(from)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(count.max(1))
            .query_async(&mut c)
            .await
            .map_err(error)?;
        let values: Vec<Option<Vec<u8>>> = if keys.is_empty() {
            Vec::new()
        } else {
            let mut pipe = redis::pipe();
            keys.iter().for_each(|k| {
                pipe.get(k);
            });
            pipe.query_async(&mut c).await.map_err(error)?
        };
        let entries = keys
            .into_iter()
            .zip(values)
            .filter_map(|(k, v)| Some(Entry { key: k[self.prefix.len()..].to_owned(), value: v? }))
            .collect();
        Ok(ScanPage { entries, next: (next != 0).then(|| next.to_string()) })
    }
}
