//! Edge benchmark: Doorman's WebAssembly component under the release wasmtime host of the
//! tests (`tests/edge/host.rs`, included, not copied), beside the native tower layer, in one run
//! on one Redis and one loopback backend.
//!
//! Measures the component's size, instantiation (new `Store` + `instantiate_async`, pooling
//! allocator), and whole requests in-process, each on a fresh instance: a forwarded `GET /small`,
//! a blocked checkout (`match_timing = false`, so no timing cover) and a forwarded checkout,
//! through
//! - the component with wasmtime-wasi-http's default outgoing handler (a TCP connection per
//!   request),
//! - the component with the host's pooled `send_request` hook (hyper-util keep-alive pool),
//! - the native layer (`DoormanLayer::blacklist(..).build()` around `ForwardService`).
//!
//! Latency is from the request to its whole answer collected (what a client waits for); for the
//! component the instantiation is included, and "done" adds what the instance does after it
//! answers (the audit record of a block).
//!
//! ```sh
//! cargo bench --bench edge -- --redis redis://127.0.0.1:6379/ [--backend http://127.0.0.1:PORT]
//! ```
//! Without `--backend` it starts its own backend (this binary with `--serve-backend`), without
//! `--redis` its own `redis-server`, both on free ports, stopped by PID at the end.
//! `bench/edge.sh` builds everything, pins the processes and writes the report.

#[allow(dead_code)]
#[path = "../tests/edge/host.rs"]
mod host;

#[path = "support/stats.rs"]
mod stats;

use stats::percentile_us;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use doorman::adapters::store::RedisStore;
use doorman::core::blacklist::{entry_key, Identity, Scope};
use doorman::core::email_hash::EmailHasher;
use doorman::core::forwarding::ClientFacts;
use doorman::core::policy::Policy;
use doorman::hosts::layer::{Doorman as Layered, DoormanLayer};
use doorman::hosts::metrics::Metrics;
use doorman::hosts::proxy::forward::{ForwardService, Forwarder};
use doorman::ports::store::Store;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tower::ServiceExt;

use host::{EdgeHost, Outgoing};

const HASH_KEY: &str = "bench-hash-key-0123456789abcdef0123456789abcdef";
const NAMESPACE: &str = "bench";
/// The backend's page: 1 KB of HTML.
fn small() -> &'static [u8] {
    static PAGE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    PAGE.get_or_init(|| {
        let mut page = b"<!doctype html><html><head><title>Events</title></head><body><ul>".to_vec();
        while page.len() < 1000 {
            page.extend_from_slice(b"<li><a href=\"/events/e1\">Spring gala</a></li>");
        }
        page.extend_from_slice(b"</ul></body></html>\n");
        page
    })
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn num(name: &str, default: usize) -> usize {
    arg(name).map_or(default, |v| v.parse().unwrap_or_else(|_| panic!("{name} N")))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn policy_text(backend: &str, redis: &str) -> String {
    format!(
        "[backend]\nurl = \"{backend}\"\n\
         [store]\nurl = \"{redis}\"\nnamespace = \"{NAMESPACE}\"\n\
         [blacklist]\nemail_fields = [\"email\"]\nmatch_timing = false\n\
         [[blacklist.checkout]]\nroute = \"POST /events/{{event}}/checkout\"\nredirect = \"/events/{{event}}\"\n"
    )
}

// === the backend: a minimal hyper server (its own process, see `--serve-backend`) ===

/// TCP connections the backend accepted (`GET /connections` tells).
static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

async fn backend_answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let get = req.method() == http::Method::GET;
    let path = req.uri().path().to_owned();
    // Read the whole body, as a shop does before it answers a checkout.
    let _ = req.into_body().collect().await;
    let response = if get && path == "/small" {
        Response::builder().header("content-type", "text/html").body(Full::new(Bytes::from_static(small())))
    } else if get && path == "/connections" {
        Response::builder().body(Full::new(Bytes::from(CONNECTIONS.load(Ordering::Relaxed).to_string())))
    } else {
        Response::builder()
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(b"{\"order\":\"accepted\"}")))
    };
    Ok(response.unwrap())
}

fn serve_backend(port: u16) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("backend port");
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            CONNECTIONS.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(backend_answer))
                    .await;
            });
        }
    });
}

/// A child process this benchmark started, stopped by its PID when dropped.
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_port(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {addr} after 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// === what is measured ===

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    Page,
    Blocked,
    Ordered,
    /// A checkout of an event id that is no slug: refused (400) once the policy is read, before
    /// any store or backend I/O.
    Refused,
    /// Any request to a component without its `policy` variable: a neutral 500 before anything
    /// is read.
    Unset,
}

impl Workload {
    const ALL: [Workload; 3] = [Workload::Page, Workload::Blocked, Workload::Ordered];

    fn name(self) -> &'static str {
        match self {
            Self::Page => "forwarded GET /small",
            Self::Blocked => "blocked checkout",
            Self::Ordered => "forwarded checkout",
            Self::Refused => "checkout refused before any I/O (event id no slug: 400)",
            Self::Unset => "answered before the policy is read (no `policy` variable: 500)",
        }
    }

    fn request(self) -> Request<Bytes> {
        let form = |email: &str, event: &str| {
            Request::post(format!("http://shop.example/events/{event}/checkout"))
                .header("host", "shop.example")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Bytes::from(format!("email={email}&quantity=1")))
                .unwrap()
        };
        match self {
            Self::Page => Request::get("http://shop.example/small")
                .header("host", "shop.example")
                .body(Bytes::new())
                .unwrap(),
            Self::Blocked => form("mallory%40example.com", "e1"),
            Self::Ordered => form("ada%40example.com", "e1"),
            Self::Refused => form("ada%40example.com", "bad!id"),
            Self::Unset => Self::Page.request(),
        }
    }

    fn check(self, response: &Response<Bytes>) {
        let ok = match self {
            Self::Page => response.status() == StatusCode::OK && response.body().as_ref() == small(),
            Self::Blocked => {
                response.status() == StatusCode::SEE_OTHER && response.headers()["location"] == "/events/e1"
            }
            Self::Ordered => response.status() == StatusCode::OK,
            Self::Refused => response.status() == StatusCode::BAD_REQUEST,
            Self::Unset => response.status() == StatusCode::INTERNAL_SERVER_ERROR,
        };
        assert!(ok, "{}: unexpected answer {} {:?}", self.name(), response.status(), response.body());
    }
}

enum Target {
    Native(Layered<ForwardService, RedisStore>),
    Component(&'static str, EdgeHost),
}

impl Target {
    fn into_host(self) -> EdgeHost {
        match self {
            Self::Component(_, host) => host,
            Self::Native(_) => panic!("not a component"),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Native(_) => "native layer",
            Self::Component(name, _) => name,
        }
    }

    /// One request: the time to its whole answer, and to the end of all its work.
    async fn once(&self, workload: Workload) -> (Duration, Duration) {
        let req = workload.request();
        let started = Instant::now();
        let (response, answered) = match self {
            Self::Native(service) => {
                let Ok(response) = service.clone().oneshot(req.map(|b| Either::Right(Full::new(b)))).await;
                let (parts, body) = response.into_parts();
                let bytes = body.collect().await.expect("the native answer's body").to_bytes();
                (Response::from_parts(parts, bytes), started.elapsed())
            }
            Self::Component(_, host) => {
                let (response, rest) = host.answer(req).await.expect("the component answers");
                let answered = started.elapsed();
                rest.finish().await.expect("the instance finishes");
                (response, answered)
            }
        };
        let done = started.elapsed();
        workload.check(&response);
        (answered, done)
    }
}

struct Row {
    target: &'static str,
    workload: Workload,
    answered: Vec<Duration>,
    done: Vec<Duration>,
    commands: u64,
    connections: u64,
}

/// What the backend and Redis were asked, so far.
struct Counters {
    redis: redis::aio::MultiplexedConnection,
    client: Client<HttpConnector, Full<Bytes>>,
    backend: String,
}

impl Counters {
    /// (Redis commands, backend connections) so far; the query itself is one Redis command
    /// (subtracted) and reuses one kept-alive backend connection.
    async fn now(&mut self) -> (u64, u64) {
        let commands = redis_commands(&mut self.redis).await;
        let req =
            Request::get(format!("{}/connections", self.backend)).body(Full::new(Bytes::new())).unwrap();
        let body = self.client.request(req).await.unwrap().into_body().collect().await.unwrap().to_bytes();
        (commands, String::from_utf8_lossy(&body).parse().unwrap())
    }

    async fn since(&mut self, (commands, connections): (u64, u64)) -> (u64, u64) {
        let (c, n) = self.now().await;
        ((c - commands).saturating_sub(1), n - connections)
    }
}

async fn redis_commands(redis: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO").arg("stats").query_async(redis).await.unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--serve-backend") {
        let port = arg("--port").map_or_else(free_port, |p| p.parse().expect("--port N"));
        return serve_backend(port);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let samples = num("--samples", 2000);
    let warmup = num("--warmup", 200);
    let rounds = num("--rounds", 4).max(1);

    // Redis and the backend: given, or started here (and stopped by PID on drop).
    let mut started = Vec::new();
    let mut dirs = Vec::new();
    let redis_url = match arg("--redis") {
        Some(url) => url,
        None => {
            let port = free_port();
            let dir = tempfile::tempdir().unwrap();
            let child = Command::new("redis-server")
                .args([
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    &port.to_string(),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .arg("--dir")
                .arg(dir.path())
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server (apt-get install redis-server), or pass --redis URL");
            started.push(Started(child));
            wait_port(([127, 0, 0, 1], port).into());
            dirs.push(dir);
            format!("redis://127.0.0.1:{port}/")
        }
    };
    let backend_url = match arg("--backend") {
        Some(url) => url,
        None => {
            let port = free_port();
            let child = Command::new(std::env::current_exe().unwrap())
                .args(["--serve-backend", "--port", &port.to_string()])
                .spawn()
                .expect("the backend process");
            started.push(Started(child));
            wait_port(([127, 0, 0, 1], port).into());
            format!("http://127.0.0.1:{port}")
        }
    };

    let size = std::fs::metadata(host::component_path()).expect("the component is built").len();
    let text = policy_text(&backend_url, &redis_url);
    let compiled = host::compiled_policy(&text);
    let variables = [("policy", compiled.as_str()), ("hash_key", HASH_KEY)];
    let t = Instant::now();
    let per_request = EdgeHost::new(&redis_url, &variables).await;
    let first_host = t.elapsed();
    let mut pooled = EdgeHost::new(&redis_url, &variables).await;
    pooled.outgoing = Outgoing::pooled();

    // The blacklisted customer, written as native Doorman writes entries.
    let store = RedisStore::connect(&redis_url, NAMESPACE).unwrap();
    let hasher = EmailHasher::hmac(HASH_KEY.as_bytes()).unwrap();
    let mallory = Identity::EmailHash(hasher.hash_hex("mallory@example.com"));
    store.set(&entry_key(&mallory, &Scope::Platform), b"{}", None).await.unwrap();
    // What `doorman serve` does to a store it starts on.
    doorman::app::blacklist::index::build(&store).await.unwrap();

    // The native layer around the native forwarder, on the same Redis and backend.
    let policy = Policy::from_toml_str("bench", &text, std::iter::empty()).unwrap();
    let layer = DoormanLayer::blacklist(policy.blacklist.clone().unwrap(), hasher, store.clone()).build();
    let forwarder = Arc::new(Forwarder::new(&policy, Metrics::new(), None));
    let facts = Arc::new(ClientFacts::new([127, 0, 0, 1].into(), "http", &policy.forwarding));
    let native = tower::Layer::layer(&layer, ForwardService::new(forwarder, facts));

    let targets = [
        Target::Native(native),
        Target::Component("component, default outgoing handler", per_request),
        Target::Component("component, pooled send_request", pooled),
    ];
    let deadline = Duration::from_secs(5);

    // Floors: instantiation alone, a Redis round trip, the backend straight over a pooled client.
    let edge = match &targets[1] {
        Target::Component(_, host) => host,
        Target::Native(_) => unreachable!(),
    };
    let mut instantiate = Vec::with_capacity(samples);
    for i in 0..warmup + samples {
        let t = Instant::now();
        edge.instantiate().await.expect("the component instantiates");
        if i >= warmup {
            instantiate.push(t.elapsed());
        }
    }
    instantiate.sort();
    let mut redis_conn =
        redis::Client::open(redis_url.as_str()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let mut ping = Vec::with_capacity(samples);
    for i in 0..warmup + samples {
        let t = Instant::now();
        let _: String = redis::cmd("PING").query_async(&mut redis_conn).await.unwrap();
        if i >= warmup {
            ping.push(t.elapsed());
        }
    }
    ping.sort();
    let direct: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut backend = Vec::with_capacity(samples);
    for i in 0..warmup + samples {
        let t = Instant::now();
        let req = Request::get(format!("{backend_url}/small")).body(Full::new(Bytes::new())).unwrap();
        let response = direct.request(req).await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.as_ref(), small());
        if i >= warmup {
            backend.push(t.elapsed());
        }
    }
    backend.sort();
    let mut counters = Counters { redis: redis_conn, client: direct, backend: backend_url.clone() };
    // The compiled policy read natively, for comparison with the component, which reads it per
    // request.
    let mut parse = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        let policy = Policy::from_compiled_str("bench", &compiled, std::iter::empty()).unwrap();
        parse.push(t.elapsed());
        drop(policy);
    }
    parse.sort();

    // The rows: every target × workload, warmed up, then `rounds` rounds in rotated order.
    let mut rows: Vec<Row> = Vec::new();
    for target in &targets {
        for workload in Workload::ALL {
            for _ in 0..warmup {
                tokio::time::timeout(deadline, target.once(workload)).await.expect("an answer within 5 s");
            }
            rows.push(Row {
                target: target.name(),
                workload,
                answered: Vec::new(),
                done: Vec::new(),
                commands: 0,
                connections: 0,
            });
        }
    }
    let per_round = samples.div_ceil(rounds);
    let cells = rows.len();
    for round in 0..rounds {
        for k in 0..cells {
            let index = (k + round * 2) % cells;
            let target = &targets[index / Workload::ALL.len()];
            let workload = Workload::ALL[index % Workload::ALL.len()];
            let before = counters.now().await;
            for _ in 0..per_round {
                let (answered, done) = tokio::time::timeout(deadline, target.once(workload))
                    .await
                    .expect("an answer within 5 s");
                rows[index].answered.push(answered);
                rows[index].done.push(done);
            }
            // Background writes of the native layer land a little later; they are counted in
            // whichever row runs next, which is why this figure is per-row approximate.
            let (commands, connections) = counters.since(before).await;
            rows[index].commands += commands;
            rows[index].connections += connections;
        }
    }

    // Where the component's time goes: two requests that stop early, on the pooled host.
    let unset = EdgeHost::new(&redis_url, &[]).await;
    let attribution = [
        (Workload::Unset, Target::Component("component", unset)),
        (Workload::Refused, Target::Component("component", targets.into_iter().nth(2).unwrap().into_host())),
    ];
    let mut early = Vec::new();
    for (workload, target) in &attribution {
        for _ in 0..warmup {
            tokio::time::timeout(deadline, target.once(*workload)).await.expect("an answer within 5 s");
        }
        let before = counters.now().await;
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            times.push(tokio::time::timeout(deadline, target.once(*workload)).await.expect("an answer").0);
        }
        let (commands, connections) = counters.since(before).await;
        assert_eq!((commands, connections), (0, 0), "{}: no I/O", workload.name());
        times.sort();
        early.push((workload.name(), percentile_us(&times, 0.5), percentile_us(&times, 0.99)));
    }

    println!("| what | figure |");
    println!("|---|---:|");
    println!(
        "| component file (`target/wasm32-wasip2/edge/doorman_edge.wasm`) | **{size} bytes ({:.2} MiB)** |",
        size as f64 / 1048576.0
    );
    println!("| compile + link, once per process (cranelift) | {:.0} ms |", first_host.as_secs_f64() * 1e3);
    let latency_row = |what: &str, samples: &[Duration]| {
        println!(
            "| {what}, p50 / p99 | {:.1} / {:.1} µs |",
            percentile_us(samples, 0.5),
            percentile_us(samples, 0.99)
        );
    };
    latency_row("**instantiate**: new `Store` + `instantiate_async`, pooling allocator", &instantiate);
    latency_row("Redis `PING` round trip", &ping);
    latency_row("backend `GET /small` straight over a pooled hyper client", &backend);
    latency_row("the compiled policy read and validated natively (`Policy::from_compiled_str`)", &parse);
    println!();
    println!(
        "| request | target | p50 µs | p99 µs | p99 until the instance is done µs | p50 vs native | p99 vs native | Redis commands / request | backend connections / request |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for workload in Workload::ALL {
        let mut native = (0.0, 0.0);
        for row in rows.iter_mut().filter(|r| r.workload == workload) {
            row.answered.sort();
            row.done.sort();
            let (p50, p99) = (percentile_us(&row.answered, 0.5), percentile_us(&row.answered, 0.99));
            if row.target == "native layer" {
                native = (p50, p99);
            }
            println!(
                "| {} | {} | {p50:.1} | {p99:.1} | {:.1} | {:.2}× | {:.2}× | {:.1} | {:.2} |",
                workload.name(),
                row.target,
                percentile_us(&row.done, 0.99),
                p50 / native.0,
                p99 / native.1,
                row.commands as f64 / row.answered.len() as f64,
                row.connections as f64 / row.answered.len() as f64,
            );
        }
    }
    println!();
    println!(
        "{} measured requests per row after {warmup} of warm-up, in {rounds} rounds (rotated order), \
         sequential, one client; every request on a fresh instance.",
        per_round * rounds
    );
    println!();
    println!("Requests that stop early, through the component (pooled host), same run:");
    println!();
    println!("| request | p50 µs | p99 µs |");
    println!("|---|---:|---:|");
    for (name, p50, p99) in early {
        println!("| {name} | {p50:.1} | {p99:.1} |");
    }
    drop(started);
    drop(dirs);
}
