//! The Redis store: shared state for several Doorman instances, on one Redis server or a Redis
//! Cluster.
//!
//! One server: one multiplexed connection per store handle, re-established by itself when Redis
//! comes back (`ConnectionManager`). A cluster: one cluster connection per store handle (opened at
//! first use), which follows `MOVED` and `ASK`, refreshes its slot map after a failover and
//! retries within a few seconds. `StoreFactory` gives each runtime (each proxy worker, the admin
//! thread) a handle of its own, so a process holds one connection per runtime.
//!
//! Every key is `namespace:key`; features put a `{hash tag}` into their keys where several keys
//! must share a cluster slot. Each operation is one round trip (pipelines where it takes several
//! commands); on a cluster a pipeline goes to each slot it touches, those pipelines at once.
//! `set_many` is all or nothing on one server (`MULTI`) and within each slot on a cluster.
//!
//! A write Redis acknowledged survives a Redis restart only with `appendonly yes` and
//! `appendfsync always`; [`RedisStore::durability`] reads what the server is set to, and Doorman
//! reports it in the log and `/readyz`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo, Slot};
use redis::{AsyncCommands, Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, Value};
use tokio::sync::OnceCell;

use crate::core::expiry;
use crate::ports::store::{Entry, GotAndExists, ScanPage, SetItem, Store, StoreError};

/// The Redis store. Cloning shares the connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: Conn,
    prefix: String,
}

/// How a store handle reaches Redis.
#[derive(Clone)]
enum Conn {
    /// One server, through a connection manager.
    Server(ConnectionManager),
    /// A cluster: the client, and its connection once opened.
    Cluster(Arc<(ClusterClient, OnceCell<ClusterConnection>)>),
}

/// A connection ready for one operation (cheap to clone, like both kinds it wraps).
#[derive(Clone)]
enum Link {
    Server(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Link {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Server(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Server(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Server(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

fn error(e: RedisError) -> StoreError {
    if e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_cluster_error()
        || matches!(e.kind(), ErrorKind::Io)
    {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Failed(e.to_string())
    }
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError::Failed(e.to_string())
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

/// The script behind [`Store::increment`]: the step and, for a counter this call creates, its
/// expiry, in one atomic step on one key (so also on a cluster, mid-failover).
const INCREMENT: &str = r"
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if ARGV[2] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[2], 'NX') end
return n
";

/// The script behind [`Store::replace_if`]: ARGV[2] in place of ARGV[1] under KEYS[1], its
/// expiry kept (`KEEPTTL`, Redis 6), only while ARGV[1] is still there.
const REPLACE_IF: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
";

/// Adds ARGV[1] to the run of members under KEYS[1] unless it is there at a member boundary
/// (`string.find` is a plain memory search; a hit across two members is skipped).
const ADD_MEMBER: &str = r"
local v = redis.call('GET', KEYS[1])
local m = ARGV[1]
if not v then redis.call('SET', KEYS[1], m) return 1 end
local at = 1
while true do
  local i = string.find(v, m, at, true)
  if not i then break end
  if (i - 1) % #m == 0 then return 0 end
  at = i + 1
end
redis.call('APPEND', KEYS[1], m)
return 1
";

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
        Ok(Self { conn: Conn::Server(conn), prefix: format!("{namespace}:") })
    }

    /// A client for the cluster that `urls` (any of its nodes) belong to: each command within a
    /// second, and within three seconds in all, retries and redirections included (a failover
    /// takes about two), so a checkout never waits on the store for long.
    pub fn cluster_client(urls: &[String]) -> Result<ClusterClient, StoreError> {
        ClusterClient::builder(urls.iter().map(String::as_str))
            .connection_timeout(Duration::from_millis(500))
            .response_timeout(Duration::from_secs(1))
            .overall_response_timeout(Some(Duration::from_secs(3)))
            .retries(6)
            .min_retry_wait(50)
            .max_retry_wait(500)
            .build()
            .map_err(|e| StoreError::Failed(format!("redis cluster urls: {e}")))
    }

    /// A store over `client`'s cluster; the connection is opened at first use, in the runtime
    /// using it, and again after a failed attempt.
    pub fn from_cluster_client(client: &ClusterClient, namespace: &str) -> Self {
        let conn = Conn::Cluster(Arc::new((client.clone(), OnceCell::new())));
        Self { conn, prefix: format!("{namespace}:") }
    }

    /// Whether the store is a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self.conn, Conn::Cluster(_))
    }

    /// A connection for one operation.
    async fn link(&self) -> Result<Link, StoreError> {
        match &self.conn {
            Conn::Server(c) => Ok(Link::Server(c.clone())),
            Conn::Cluster(cluster) => {
                let (client, cell) = &**cluster;
                let conn = cell.get_or_try_init(|| client.get_async_connection()).await.map_err(error)?;
                Ok(Link::Cluster(conn.clone()))
            }
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Sends `commands` (each with the key it touches) as one pipeline, or on a cluster as one
    /// pipeline per slot, all at once; answers the replies in the commands' order. `atomic`
    /// wraps each pipeline in `MULTI`/`EXEC`.
    async fn pipeline(&self, commands: Vec<(String, Cmd)>, atomic: bool) -> Result<Vec<Value>, StoreError> {
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        let link = self.link().await?;
        let Link::Cluster(_) = link else {
            let mut pipe = redis::pipe();
            if atomic {
                pipe.atomic();
            }
            let count = commands.len();
            commands.into_iter().for_each(|(_, cmd)| {
                pipe.add_command(cmd);
            });
            let values: Vec<Value> = pipe.query_async(&mut link.clone()).await.map_err(error)?;
            return check_count(values, count);
        };
        let mut by_slot: HashMap<Slot, (Pipeline, Vec<usize>)> = HashMap::new();
        let count = commands.len();
        for (i, (key, cmd)) in commands.into_iter().enumerate() {
            let (pipe, places) = by_slot.entry(Slot::for_key(key.as_bytes())).or_insert_with(|| {
                let mut pipe = redis::pipe();
                if atomic {
                    pipe.atomic();
                }
                (pipe, Vec::new())
            });
            pipe.add_command(cmd);
            places.push(i);
        }
        let sent = by_slot.into_values().map(|(pipe, places)| {
            let mut link = link.clone();
            async move {
                let values: Vec<Value> = pipe.query_async(&mut link).await.map_err(error)?;
                Ok::<_, StoreError>((check_count(values, places.len())?, places))
            }
        });
        let mut replies = vec![Value::Nil; count];
        for (values, places) in futures_util::future::try_join_all(sent).await? {
            for (value, i) in values.into_iter().zip(places) {
                replies[i] = value;
            }
        }
        Ok(replies)
    }

    /// The addresses (`host:port`) of the cluster's primaries, sorted; `None` on one server.
    async fn primaries(&self, link: &mut Link) -> Result<Option<Vec<String>>, StoreError> {
        let Link::Cluster(c) = link else { return Ok(None) };
        let routing =
            RoutingInfo::MultiNode((redis::cluster_routing::MultipleNodeRoutingInfo::AllMasters, None));
        let answer = c.route_command(redis::cmd("PING"), routing).await.map_err(error)?;
        let mut nodes: Vec<String> = match answer {
            Value::Map(pairs) => {
                pairs.into_iter().filter_map(|(k, _)| redis::from_redis_value::<String>(k).ok()).collect()
            }
            other => return Err(failed(format!("the cluster named its primaries as {other:?}"))),
        };
        nodes.sort();
        Ok(Some(nodes))
    }

    /// What the server's persistence settings promise about acknowledged writes (`CONFIG GET`;
    /// on a cluster, of one primary; a server that refuses `CONFIG` is `unknown`, not an error).
    pub async fn durability(&self) -> Result<super::Durability, StoreError> {
        let link = self.link().await?;
        let setting = async |name: &str| -> Result<Result<String, String>, StoreError> {
            let mut cmd = redis::cmd("CONFIG");
            cmd.arg("GET").arg(name);
            let answer = match link.clone() {
                Link::Server(mut c) => cmd.query_async::<Vec<String>>(&mut c).await,
                Link::Cluster(mut c) => {
                    let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::RandomPrimary);
                    c.route_command(cmd, routing)
                        .await
                        .and_then(|v| v.extract_error())
                        .and_then(|v| redis::from_redis_value(v).map_err(RedisError::from))
                }
            };
            match answer {
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

/// The replies of a pipeline, checked to be one a command.
fn check_count(values: Vec<Value>, count: usize) -> Result<Vec<Value>, StoreError> {
    if values.len() != count {
        return Err(failed("a pipeline answered the wrong number of replies"));
    }
    Ok(values)
}

fn parse<T: redis::FromRedisValue>(value: &Value) -> Result<T, StoreError> {
    redis::from_redis_value_ref::<T>(value).map_err(failed)
}

impl Store for RedisStore {
    async fn ping(&self) -> Result<(), StoreError> {
        // On a cluster, PING goes to every primary.
        let mut c = self.link().await?;
        redis::cmd("PING").query_async::<Value>(&mut c).await.map(drop).map_err(error)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut c = self.link().await?;
        c.get(self.key(key)).await.map_err(error)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        if !expiry::edge_may_write(key) {
            let mut c = self.link().await?;
            return set_cmd(self.key(key), value, ttl).query_async::<()>(&mut c).await.map_err(error);
        }
        // Redis expires what is written here: a companion the edge left goes first.
        let companion = keyed("DEL", self.key(&expiry::companion(key)));
        let full = self.key(key);
        let set = (full.clone(), set_cmd(full, value, ttl));
        self.pipeline(vec![companion, set], true).await.map(drop)
    }

    async fn set_many(&self, items: &[SetItem]) -> Result<(), StoreError> {
        let mut commands = Vec::with_capacity(items.len() * 2);
        for i in items {
            if expiry::edge_may_write(&i.key) {
                commands.push(keyed("DEL", self.key(&expiry::companion(&i.key))));
            }
            let key = self.key(&i.key);
            commands.push((key.clone(), set_cmd(key, &i.value, i.ttl)));
        }
        self.pipeline(commands, true).await.map(drop)
    }

    async fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        // One DEL per key (and per companion the edge may have left), in one MULTI pipeline
        // (per slot on a cluster), as set_many writes.
        let mut commands = Vec::with_capacity(keys.len() * 2);
        for k in keys {
            commands.push(keyed("DEL", self.key(k)));
            if expiry::edge_may_write(k) {
                commands.push(keyed("DEL", self.key(&expiry::companion(k))));
            }
        }
        self.pipeline(commands, true).await.map(drop)
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let mut commands = vec![keyed("DEL", self.key(key))];
        if expiry::edge_may_write(key) {
            commands.push(keyed("DEL", self.key(&expiry::companion(key))));
        }
        let replies = self.pipeline(commands, true).await?;
        Ok(parse::<u64>(&replies[0])? > 0)
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.get_many_full(&keys.iter().map(|k| self.key(k)).collect::<Vec<_>>()).await
    }

    async fn claim(&self, key: &str, ttl: Option<Duration>) -> Result<bool, StoreError> {
        // The value is "1", as the first INCRBY of a counter leaves it: the edge claims by
        // incrementing and sees this claim as taken.
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg("1").arg("NX");
        if let Some(ttl) = ttl {
            cmd.arg("PX").arg(ttl.as_millis().max(1) as u64);
        }
        let mut c = self.link().await?;
        let set: Option<String> = cmd.query_async(&mut c).await.map_err(error)?;
        Ok(set.is_some())
    }

    async fn exists_many(&self, keys: &[String]) -> Result<Vec<bool>, StoreError> {
        let commands = keys.iter().map(|k| keyed("EXISTS", self.key(k))).collect();
        self.pipeline(commands, false).await?.iter().map(parse).collect()
    }

    async fn get_and_exists(&self, get: &[String], exists: &[String]) -> Result<GotAndExists, StoreError> {
        // One pipeline, one round trip: the GETs, then the EXISTSes.
        let commands = get
            .iter()
            .map(|k| keyed("GET", self.key(k)))
            .chain(exists.iter().map(|k| keyed("EXISTS", self.key(k))))
            .collect();
        let values = self.pipeline(commands, false).await?;
        let (gets, hits) = values.split_at(get.len());
        Ok((
            gets.iter().map(parse).collect::<Result<_, _>>()?,
            hits.iter().map(parse).collect::<Result<_, _>>()?,
        ))
    }

    async fn increment(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, StoreError> {
        // With a ttl, only a counter this call created gets the expiry (PEXPIRE NX, Redis 7).
        let ttl_ms = ttl.map_or(0, |t| t.as_millis().max(1) as u64);
        let mut c = self.link().await?;
        redis::Script::new(INCREMENT)
            .key(self.key(key))
            .arg(by)
            .arg(ttl_ms)
            .invoke_async(&mut c)
            .await
            .map_err(error)
    }

    async fn replace_if(&self, key: &str, expected: &[u8], new: &[u8]) -> Result<bool, StoreError> {
        let mut c = self.link().await?;
        let replaced: i64 = redis::Script::new(REPLACE_IF)
            .key(self.key(key))
            .arg(expected)
            .arg(new)
            .invoke_async(&mut c)
            .await
            .map_err(error)?;
        Ok(replaced == 1)
    }

    async fn increment_many(&self, steps: &[(String, i64)]) -> Result<Vec<i64>, StoreError> {
        // INCRBY is atomic by itself; one pipeline (per slot on a cluster), one round trip.
        let commands = steps
            .iter()
            .map(|(key, by)| {
                let (key, mut cmd) = keyed("INCRBY", self.key(key));
                cmd.arg(*by);
                (key, cmd)
            })
            .collect();
        self.pipeline(commands, false).await?.iter().map(parse).collect()
    }

    async fn add_members(&self, adds: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        // One script call per member, in one pipeline (per slot on a cluster): by its digest
        // (`EVALSHA`), and where a server does not know the script yet (or anything else
        // failed), once more with its text, which also teaches it the script. Adding a member
        // twice adds it once, so the retry is safe.
        static DIGEST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let digest = DIGEST.get_or_init(|| redis::Script::new(ADD_MEMBER).get_hash().to_owned());
        let calls = |verb: &str, script: &str| {
            adds.iter()
                .map(|(key, member)| {
                    let key = self.key(key);
                    let mut cmd = redis::cmd(verb);
                    cmd.arg(script).arg(1).arg(&key).arg(member.as_slice());
                    (key, cmd)
                })
                .collect()
        };
        match self.pipeline(calls("EVALSHA", digest), false).await {
            Ok(_) => Ok(()),
            Err(_) => self.pipeline(calls("EVAL", ADD_MEMBER), false).await.map(drop),
        }
    }

    async fn scan_page(&self, prefix: &str, cursor: &str, count: usize) -> Result<ScanPage, StoreError> {
        // One SCAN step (the cursor is Redis's own), then one GET of each key it found. On a
        // cluster each primary is scanned in turn (by address, in sorted order); the cursor
        // names the node and its own cursor.
        let mut link = self.link().await?;
        let pattern = format!("{}*", glob_escape(&self.key(prefix)));
        let bad_cursor = || failed("not a scan cursor of this store");
        let primaries = self.primaries(&mut link).await?;
        let (node, from) = match (&primaries, cursor) {
            (_, "") => (primaries.as_ref().and_then(|p| p.first().cloned()), 0),
            (None, c) => (None, c.parse().map_err(|_| bad_cursor())?),
            (Some(_), c) => {
                let (node, from) = c.rsplit_once('/').ok_or_else(bad_cursor)?;
                (Some(node.to_owned()), from.parse().map_err(|_| bad_cursor())?)
            }
        };
        let mut scan = redis::cmd("SCAN");
        scan.arg(from).arg("MATCH").arg(&pattern).arg("COUNT").arg(count.max(1));
        let (next, keys): (u64, Vec<String>) = match (&mut link, &node) {
            (Link::Cluster(c), Some(node)) => {
                let (host, port) = node.rsplit_once(':').ok_or_else(bad_cursor)?;
                let port = port.parse().map_err(|_| bad_cursor())?;
                let routing =
                    RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress { host: host.into(), port });
                let answer =
                    c.route_command(scan, routing).await.and_then(|v| v.extract_error()).map_err(error)?;
                redis::from_redis_value(answer).map_err(failed)?
            }
            (Link::Cluster(_), None) => (0, Vec::new()),
            (link, _) => scan.query_async(link).await.map_err(error)?,
        };
        let values = self.get_many_full(&keys).await?;
        let entries = keys
            .into_iter()
            .zip(values)
            .filter_map(|(k, v)| Some(Entry { key: k[self.prefix.len()..].to_owned(), value: v? }))
            .collect();
        let next = match (primaries, node) {
            (None, _) => (next != 0).then(|| next.to_string()),
            (Some(_), Some(node)) if next != 0 => Some(format!("{node}/{next}")),
            // This node is done: the next primary in address order, from its start.
            (Some(nodes), Some(node)) => nodes.into_iter().find(|n| *n > node).map(|n| format!("{n}/0")),
            (Some(_), None) => None,
        };
        Ok(ScanPage { entries, next })
    }
}

impl RedisStore {
    /// The values of keys given with their namespace, as [`Store::get_many`].
    async fn get_many_full(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let commands = keys.iter().map(|k| keyed("GET", k.clone())).collect();
        self.pipeline(commands, false).await?.iter().map(parse).collect()
    }
}

/// `SET key value [PX ttl]`.
fn set_cmd(key: String, value: &[u8], ttl: Option<Duration>) -> Cmd {
    let mut cmd = redis::cmd("SET");
    cmd.arg(key).arg(value);
    if let Some(ttl) = ttl {
        cmd.arg("PX").arg(ttl.as_millis().max(1) as u64);
    }
    cmd
}

/// A one-key command, with the key it touches (for [`RedisStore::pipeline`]).
fn keyed(name: &str, key: String) -> (String, Cmd) {
    let mut cmd = redis::cmd(name);
    cmd.arg(&key);
    (key, cmd)
}
