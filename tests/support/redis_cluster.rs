//! A real Redis Cluster on loopback: three primaries and three replicas, six `redis-server`
//! processes, each stopped (by PID) on drop.
//!
//! Admin work goes through `redis-cli`, as in `support::redis`: `--cluster create` joins the
//! nodes, `CLUSTER INFO` / `CLUSTER NODES` tell when the cluster serves every slot. Killing a
//! primary makes its replica take over within about 2.5 s (node timeout 1 s, measured with
//! Redis 7.0); `wait_ok` waits for that.
//!
//! Every method blocks the calling thread while it polls (at most 30 s). From an async test on a
//! current-thread runtime, call the waiting ones through `tokio::task::spawn_blocking` if a
//! client on that runtime must make progress meanwhile.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Nodes in the cluster: `PRIMARIES` primaries, each with one replica.
const NODES: usize = 6;
const PRIMARIES: usize = 3;
/// Hash slots a healthy cluster serves.
const SLOTS: u32 = 16_384;
/// Redis listens for the cluster bus on the client port + 10000.
const BUS_OFFSET: u16 = 10_000;
/// Client ports are taken from 10000..22000, so bus ports fall in 20000..32000: both below
/// Linux's ephemeral range (32768 and up), where outgoing connections could hold them.
const PORT_LOW: u16 = 10_000;
const PORT_SPAN: u16 = 12_000;
/// How long a node may be unreachable before it is failed over: 1 s makes failover take ~2.5 s
/// while leaving room for a busy test machine.
const NODE_TIMEOUT_MS: &str = "1000";
/// How long any wait of this helper may take before it panics.
const WAIT: Duration = Duration::from_secs(30);

/// One `redis-server` of the cluster, with its own folder (for `nodes.conf`, the log and the
/// RDB file a replica receives: replicas must not share it).
struct Node {
    port: u16,
    dir: PathBuf,
    child: Mutex<Option<Child>>,
}

impl Drop for Node {
    /// Also covers a panic in `RedisCluster::start` before the cluster value exists.
    fn drop(&mut self) {
        self.kill();
    }
}

impl Node {
    fn is_live(&self) -> bool {
        self.child.lock().unwrap().is_some()
    }

    fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }
}

/// A node as one line of `CLUSTER NODES` describes it.
#[derive(Debug, Clone)]
pub struct NodeView {
    /// The node's client port.
    pub port: u16,
    /// Whether it is a primary (`master` flag).
    pub primary: bool,
    /// Whether the cluster has marked it failed (`fail` flag; `fail?` is only suspected).
    pub failed: bool,
    /// The slot ranges it serves, inclusive (empty for replicas).
    pub slots: Vec<(u16, u16)>,
}

/// A running Redis Cluster of three primaries and three replicas on free loopback ports.
pub struct RedisCluster {
    nodes: Vec<Node>,
    _dir: tempfile::TempDir,
}

impl RedisCluster {
    /// Starts six nodes, joins them into a cluster (one replica per primary), and waits until
    /// every node reports `cluster_state:ok` and every replica has synced with its primary.
    /// Panics with install advice when `redis-server` is missing (`.ci/run` installs it).
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let nodes = (0..NODES).map(|i| spawn_node(&dir.path().join(format!("node{i}")))).collect();
        let cluster = Self { nodes, _dir: dir };

        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        create.args(cluster.nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)));
        create.args(["--cluster-replicas", &(NODES / PRIMARIES - 1).to_string(), "--cluster-yes"]);
        let out = create.output().expect("redis-cli (installed with redis-server)");
        assert!(
            out.status.success(),
            "redis-cli --cluster create: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );

        cluster.wait_ok();
        cluster.wait_replicas_synced();
        cluster
    }

    /// `redis://127.0.0.1:PORT/` for each live primary, by port: the seed nodes for a client.
    pub fn urls(&self) -> Vec<String> {
        self.primary_ports().into_iter().map(|port| format!("redis://127.0.0.1:{port}/")).collect()
    }

    /// `redis://127.0.0.1:PORT/` for each live node, primaries and replicas.
    pub fn all_urls(&self) -> Vec<String> {
        self.live_ports().into_iter().map(|port| format!("redis://127.0.0.1:{port}/")).collect()
    }

    /// The client ports of the live primaries that serve slots, in order.
    pub fn primary_ports(&self) -> Vec<u16> {
        let live = self.live_ports();
        let mut ports: Vec<u16> = self
            .topology()
            .into_iter()
            .filter(|n| n.primary && !n.failed && !n.slots.is_empty() && live.contains(&n.port))
            .map(|n| n.port)
            .collect();
        ports.sort_unstable();
        ports
    }

    /// The client ports of the nodes still running, in order.
    pub fn live_ports(&self) -> Vec<u16> {
        self.nodes.iter().filter(|n| n.is_live()).map(|n| n.port).collect()
    }

    /// The cluster as the first live node sees it (`CLUSTER NODES`).
    pub fn topology(&self) -> Vec<NodeView> {
        parse_cluster_nodes(&self.cli(&["CLUSTER", "NODES"]))
    }

    /// The hash slot of `key` (`CLUSTER KEYSLOT`, so hash tags count as Redis counts them).
    pub fn keyslot(&self, key: &str) -> u16 {
        let answer = self.cli(&["CLUSTER", "KEYSLOT", key]);
        answer.parse().unwrap_or_else(|_| panic!("CLUSTER KEYSLOT {key}: {answer}"))
    }

    /// The client port of the live primary that serves `key`'s slot.
    pub fn primary_port_of(&self, key: &str) -> u16 {
        let slot = self.keyslot(key);
        let live = self.live_ports();
        let topology = self.topology();
        topology
            .iter()
            .find(|n| n.primary && !n.failed && live.contains(&n.port) && serves(n, slot))
            .map(|n| n.port)
            .unwrap_or_else(|| panic!("no live primary serves slot {slot} ({key}): {topology:?}"))
    }

    /// Kills (SIGKILL: a crash, as far as clients can tell) the primary serving `key`'s slot and
    /// answers its port. Returns at once: call [`Self::wait_ok`] to wait until its replica has
    /// taken over.
    pub fn kill_primary_of(&self, key: &str) -> u16 {
        let port = self.primary_port_of(key);
        self.wait_replicated(port);
        self.kill_node(port);
        port
    }

    /// Waits until the replicas of the primary on `port` have every write it took so far
    /// (replication is asynchronous: a primary killed right after a write may take it along).
    pub fn wait_replicated(&self, port: u16) {
        let deadline = Instant::now() + WAIT;
        loop {
            let info = self.try_cli_at(port, &["INFO", "replication"]).unwrap_or_default();
            // `master_repl_offset:N`, and a `slaveK:ip=…,port=…,state=online,offset=M,lag=…` per replica.
            let primary =
                info.lines().find_map(|l| l.trim().strip_prefix("master_repl_offset:")?.parse::<u64>().ok());
            let replicas: Vec<u64> = info
                .lines()
                .filter(|l| l.starts_with("slave") && l.contains("state=online"))
                .filter_map(|l| l.trim().split(',').find_map(|kv| kv.strip_prefix("offset=")?.parse().ok()))
                .collect();
            if let Some(primary) = primary {
                if !replicas.is_empty() && replicas.iter().all(|r| *r >= primary) {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "the replicas of {port} did not catch up:\n{info}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the node listening on `port` (a no-op if it is already dead).
    pub fn kill_node(&self, port: u16) {
        self.node(port).kill();
    }

    /// Waits until every live node reports `cluster_state:ok` and sees all 16384 slots served
    /// by live primaries: after a primary is killed, until a replica has been promoted and
    /// everybody knows it. Panics after 30 s.
    pub fn wait_ok(&self) {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.not_ok_reason() {
                None => return,
                Some(reason) if Instant::now() >= deadline => {
                    panic!("Redis Cluster not ok within {WAIT:?}: {reason}")
                }
                Some(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Runs one command through `redis-cli -c` (following MOVED/ASK redirects) on the first live
    /// node and answers what it printed. A server error is printed too (`ERR …`): redis-cli
    /// exits 0 on those, so check the text.
    pub fn cli(&self, args: &[&str]) -> String {
        let port = *self.live_ports().first().expect("every node of the cluster was killed");
        let out = run_cli(port, true, args).expect("redis-cli (installed with redis-server)");
        assert!(out.status.success(), "redis-cli {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Runs one command through `redis-cli` on the node at `port`, without following redirects.
    pub fn cli_at(&self, port: u16, args: &[&str]) -> String {
        self.try_cli_at(port, args)
            .unwrap_or_else(|| panic!("redis-cli -p {port} {args:?} failed (is the node alive?)"))
    }

    fn try_cli_at(&self, port: u16, args: &[&str]) -> Option<String> {
        let out = run_cli(port, false, args).ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    fn node(&self, port: u16) -> &Node {
        self.nodes.iter().find(|n| n.port == port).unwrap_or_else(|| panic!("no node on port {port}"))
    }

    /// Why the cluster is not (yet) healthy, or `None` when it is.
    fn not_ok_reason(&self) -> Option<String> {
        let live = self.live_ports();
        for &port in &live {
            let Some(info) = self.try_cli_at(port, &["CLUSTER", "INFO"]) else {
                return Some(format!("node {port} does not answer"));
            };
            if !info.lines().any(|l| l.trim() == "cluster_state:ok") {
                return Some(format!("node {port}: {}", info.lines().next().unwrap_or("")));
            }
            let Some(nodes) = self.try_cli_at(port, &["CLUSTER", "NODES"]) else {
                return Some(format!("node {port} does not answer"));
            };
            let served: u32 = parse_cluster_nodes(&nodes)
                .iter()
                .filter(|n| n.primary && !n.failed && live.contains(&n.port))
                .flat_map(|n| &n.slots)
                .map(|&(first, last)| u32::from(last) - u32::from(first) + 1)
                .sum();
            if served != SLOTS {
                return Some(format!("node {port} sees {served} of {SLOTS} slots on live primaries"));
            }
        }
        None
    }

    /// Waits until every replica reports `master_link_status:up`, so that data written from now
    /// on reaches it (and survives a failover, give or take replication lag).
    fn wait_replicas_synced(&self) {
        let deadline = Instant::now() + WAIT;
        for node in self.nodes.iter().filter(|n| n.is_live()) {
            loop {
                let info = self.try_cli_at(node.port, &["INFO", "replication"]).unwrap_or_default();
                let is_replica = info.lines().any(|l| l.trim() == "role:slave");
                if !is_replica || info.lines().any(|l| l.trim() == "master_link_status:up") {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "replica {} did not sync within {WAIT:?}:\n{}",
                    node.port,
                    node.log_tail()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &self.nodes {
            node.kill();
        }
    }
}

/// Starts one cluster-enabled `redis-server` in `dir` on a free port pair and waits for its PING;
/// on a port lost to a race, tries the next one.
fn spawn_node(dir: &Path) -> Node {
    std::fs::create_dir_all(dir).unwrap();
    for _ in 0..5 {
        let port = free_port_pair();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--protected-mode", "yes"])
            .args(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"])
            .args(["--cluster-node-timeout", NODE_TIMEOUT_MS])
            // A replica may be promoted however long it has been cut off from its primary (tests
            // kill primaries right after start), and syncs at once instead of after 5 s.
            .args(["--cluster-replica-validity-factor", "0", "--repl-diskless-sync-delay", "0"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .arg("--logfile")
            .arg(dir.join("redis.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run redis-server ({e}): install it (apt-get install redis-server) or run .ci/run"
                )
            });
        let node = Node { port, dir: dir.to_owned(), child: Mutex::new(Some(child)) };
        if wait_ready(&node) {
            return node;
        }
        node.kill();
    }
    panic!("redis-server in {} did not start on any of 5 ports", dir.display());
}

/// Waits up to 10 s for the node to answer PING; `false` when the process exited (usually: the
/// port was taken meanwhile).
fn wait_ready(node: &Node) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let exited = node.child.lock().unwrap().as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
        if exited {
            return false;
        }
        if run_cli(node.port, false, &["PING"]).is_ok_and(|o| o.stdout.starts_with(b"PONG")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("redis-server on {} did not answer PING within 10 s:\n{}", node.port, node.log_tail());
}

/// A client port whose cluster bus port (+10000) is free too. Ports are handed out round-robin
/// from a per-process starting point, so parallel tests in one process never get the same one.
fn free_port_pair() -> u16 {
    static START: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = *START.get_or_init(|| std::process::id().wrapping_mul(7919));
    for _ in 0..PORT_SPAN {
        let offset = start.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)) % u32::from(PORT_SPAN);
        let port = PORT_LOW + u16::try_from(offset).unwrap();
        let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
        if free(port) && free(port + BUS_OFFSET) {
            return port;
        }
    }
    panic!("no free port pair (port, port + {BUS_OFFSET}) in {PORT_LOW}..{}", PORT_LOW + PORT_SPAN);
}

/// Runs `redis-cli -h 127.0.0.1 -p PORT [-c] ARGS…`.
fn run_cli(port: u16, follow_redirects: bool, args: &[&str]) -> std::io::Result<std::process::Output> {
    let mut cli = Command::new("redis-cli");
    cli.args(["-h", "127.0.0.1", "-p", &port.to_string()]);
    if follow_redirects {
        cli.arg("-c");
    }
    cli.args(args).stdin(Stdio::null()).output()
}

/// Whether `node` serves `slot`.
fn serves(node: &NodeView, slot: u16) -> bool {
    node.slots.iter().any(|&(first, last)| (first..=last).contains(&slot))
}

/// Parses `CLUSTER NODES`: `<id> <ip:port@bus[,hostname]> <flags> <primary> <ping> <pong>
/// <epoch> <link> <slot>…`, where a slot is `N`, `A-B`, or `[N->-id]` / `[N-<-id]` for one
/// being migrated (skipped: still served by its owner).
fn parse_cluster_nodes(text: &str) -> Vec<NodeView> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                return None;
            }
            let host_port = fields[1].split(['@', ',']).next()?;
            let port = host_port.rsplit_once(':')?.1.parse().ok()?;
            let flags: Vec<&str> = fields[2].split(',').collect();
            let slots = fields[8..]
                .iter()
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| match s.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => s.parse().ok().map(|n| (n, n)),
                })
                .collect();
            Some(NodeView {
                port,
                primary: flags.contains(&"master"),
                failed: flags.contains(&"fail"),
                slots,
            })
        })
        .collect()
}
