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

/// Through `spin up` as an operator runs it: an entry added through native Doorman's admin API
/// turns a checkout back at Spin, a clean checkout is forwarded, and it costs Spin's store its
/// `PING` and one `GET` before the answer (printed with the commands after it). Latency is
/// `bench/spin.sh`'s (release builds, wrk), not this test's.
#[tokio::test]
async fn through_spin_a_native_entry_blocks_and_a_clean_checkout_costs_one_read() {
    use doorman::core::blacklist::index::{BUILT, BUILT_KEY};
    use doorman::ports::store::Store;

    use crate::host::compiled_policy;
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
            "[store]\nurl = \"{}\"\n[blacklist]\nemail_fields = [\"email\"]\nmatch_timing = false\n\
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
        &[
            ("policy", &compiled_policy(&text)),
            ("backend_url", backend.url().trim_end_matches('/')),
            ("hash_key", HASH_KEY),
        ],
    );
    let checkout = |email: &str| {
        let req = http::Request::post(app.url("/echo/e1/checkout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body(format!("email={email}")))
            .unwrap();
        send(req)
    };
    let (blocked, _) = checkout("mallory%40example.com").await;
    assert_eq!(blocked.status(), 303, "mallory turned back:\n{}", app.log());
    assert_eq!(blocked.headers()["location"], "/echo/e1");

    let stats = || redis.cli(&["INFO", "commandstats"]);
    let calls = |stats: &str, command: &str| -> u64 {
        stats
            .lines()
            .find(|l| l.starts_with(&format!("cmdstat_{command}:")))
            .and_then(|l| l.split_once("calls=")?.1.split(',').next()?.parse().ok())
            .unwrap_or(0)
    };
    const N: u64 = 50;
    let before = stats();
    for _ in 0..N {
        let (clean, _) = checkout("ada%40example.com").await;
        assert_eq!(clean.status(), 200, "ada forwarded");
    }
    let after = stats();
    let per = |command: &str| (calls(&after, command) - calls(&before, command)) as f64 / N as f64;
    println!(
        "per clean checkout through spin up: PING {:.1}, GET {:.1}, EXISTS {:.1}, SET {:.1}",
        per("ping"),
        per("get"),
        per("exists"),
        per("set")
    );
    assert_eq!(per("exists"), 0.0, "no entry key asked for: the index answered");
    assert!(per("get") <= 2.0, "the index bucket, and the saved answer shapes after the answer");
}
