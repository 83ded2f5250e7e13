//! A real Spin (`spin up`), when the environment variable `SPIN_CHECK_BINARY` names its binary: the
//! conformance cases then run against it as a fourth runtime (`edge/spin-check.sh` sets it up).
//! It is started as the README tells an operator: the repository's `spin.toml`, its
//! `spin-runtime.toml` with the Redis URL filled in, every setting a `SPIN_VARIABLE_*`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The placeholder line of the repository's `spin-runtime.toml` an operator replaces.
const PLACEHOLDER: &str = "url = \"redis://127.0.0.1:6379/0\"";

/// The Spin binary to test against, if one is named.
pub fn binary() -> Option<PathBuf> {
    std::env::var_os("SPIN_CHECK_BINARY").filter(|s| !s.is_empty()).map(PathBuf::from)
}

/// One `spin up` of the repository's application.
pub struct SpinApp {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SpinApp {
    /// Starts `spin` on a free loopback port with the component's `variables`, its key-value
    /// store on `redis_url`; waits until it listens.
    pub fn start(spin: &Path, redis_url: &str, variables: &[(&str, &str)]) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        let config = std::fs::read_to_string(root.join("spin-runtime.toml")).unwrap();
        assert!(config.contains(PLACEHOLDER), "spin-runtime.toml's placeholder line changed");
        let config_path = dir.path().join("spin-runtime.toml");
        std::fs::write(&config_path, config.replace(PLACEHOLDER, &format!("url = \"{redis_url}\""))).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::File::create(dir.path().join("spin.log")).unwrap();
        let mut command = Command::new(spin);
        command
            .arg("up")
            .arg("--from")
            .arg(root.join("spin.toml"))
            .arg("--runtime-config-file")
            .arg(&config_path)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (name, value) in variables {
            command.env(format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()), value);
        }
        let child = command.spawn().expect("spin starts");
        let app = Self { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "spin up did not listen:\n{}", app.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        app
    }

    /// The address of `path` on this app.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Spin's own output and the component's standard error so far.
    pub fn log(&self) -> String {
        let own = std::fs::read_to_string(self.dir.path().join("spin.log")).unwrap_or_default();
        let component = std::fs::read_to_string(self.dir.path().join("state/logs/doorman_stderr.txt"))
            .unwrap_or_default();
        format!("{own}\n--- component stderr ---\n{component}")
    }
}

impl Drop for SpinApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Clean checkouts through `spin up` beside native Doorman, one at a time on the same Redis and
/// backend: printed figures (latency, Redis commands per checkout), not a timed assertion; and a
/// blacklisted customer turned back by both, the entry added through native Doorman's admin API.
#[tokio::test]
async fn clean_checkouts_through_spin_beside_native_doorman() {
    use doorman::core::blacklist::index::{BUILT, BUILT_KEY};
    use doorman::ports::store::Store;

    use crate::support::backend::Backend;
    use crate::support::client::{body, send};
    use crate::support::doorman::{policy, Doorman, HASH_KEY};
    use crate::support::redis::RedisServer;

    let Some(spin) = binary() else {
        return eprintln!("skipped: SPIN_CHECK_BINARY names no spin binary (edge/spin-check.sh sets it)");
    };
    let redis = RedisServer::start();
    let backend = Backend::start();
    let text = policy(
        &backend.url(),
        "",
        &format!(
            "[store]\nurl = \"{}\"\n[blacklist]\nemail_fields = [\"email\"]\n\
             [[blacklist.checkout]]\nroute = \"POST /echo/{{event}}/checkout\"\nredirect = \"/echo/{{event}}\"\n",
            redis.url()
        ),
    );
    let native = Doorman::start(&text);
    let store = doorman::adapters::store::RedisStore::connect(&redis.url(), "doorman").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.get(BUILT_KEY).await.unwrap().as_deref() != Some(BUILT) {
        assert!(Instant::now() < deadline, "native Doorman did not set the store up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, _) = native.admin("POST", "/v1/blacklist", r#"{"email": "mallory@example.com"}"#).await;
    assert_eq!(status, 201);
    let app = SpinApp::start(
        &spin,
        &redis.url(),
        &[("policy", &text), ("backend_url", backend.url().trim_end_matches('/')), ("hash_key", HASH_KEY)],
    );
    let checkout = |url: String, email: &str| {
        let req = http::Request::post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body(format!("email={email}")))
            .unwrap();
        send(req)
    };
    for (name, url) in [("spin", app.url("/echo/e1/checkout")), ("native", native.url("/echo/e1/checkout"))] {
        let (blocked, _) = checkout(url.clone(), "mallory%40example.com").await;
        assert_eq!(blocked.status(), 303, "{name} turned mallory back:\n{}", app.log());
        let (clean, _) = checkout(url, "ada%40example.com").await;
        assert_eq!(clean.status(), 200, "{name} forwarded ada");
    }

    let commands = || redis.cli(&["INFO", "commandstats"]);
    let count = |stats: &str| -> u64 {
        stats.lines().filter_map(|l| l.split_once("calls=")?.1.split(',').next()?.parse::<u64>().ok()).sum()
    };
    const N: usize = 400;
    let mut figures = Vec::new();
    for (name, url) in
        [("spin up", app.url("/echo/e1/checkout")), ("native", native.url("/echo/e1/checkout"))]
    {
        for _ in 0..40 {
            checkout(url.clone(), "ada%40example.com").await;
        }
        let before = count(&commands());
        let mut took = Vec::with_capacity(N);
        for _ in 0..N {
            let started = Instant::now();
            let (answer, _) = checkout(url.clone(), "ada%40example.com").await;
            took.push(started.elapsed());
            assert_eq!(answer.status(), 200);
        }
        // Background writes after the answers (timing samples) settle first.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let per = (count(&commands()) - before) as f64 / N as f64;
        took.sort();
        let (p50, p99) = (took[N / 2], took[N * 99 / 100]);
        figures.push((name, p50, p99, per));
    }
    println!("clean checkouts, {N} each, one at a time, new connection each:");
    for (name, p50, p99, per) in &figures {
        println!(
            "  {name:8} p50 {:>7.0} µs  p99 {:>7.0} µs  Redis commands per checkout {per:.1}",
            p50.as_micros(),
            p99.as_micros()
        );
    }
    let (spin, native) = (&figures[0], &figures[1]);
    println!(
        "  spin / native: p50 {:.2}×, p99 {:.2}×",
        spin.1.as_secs_f64() / native.1.as_secs_f64(),
        spin.2.as_secs_f64() / native.2.as_secs_f64()
    );
}
