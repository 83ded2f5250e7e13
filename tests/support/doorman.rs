//! The real `doorman` binary, started with a policy file in a temporary folder.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The admin token every test instance uses.
pub const TOKEN: &str = "test-admin-token-0123456789";
/// The e-mail hash key every test instance uses.
pub const HASH_KEY: &str = "test-hash-key-0123456789abcdef0123456789abcdef";

/// A running `doorman serve`. Killed on drop if still running.
pub struct Doorman {
    pub child: Child,
    pub public: SocketAddr,
    pub admin: SocketAddr,
    pub dir: tempfile::TempDir,
}

/// A policy with free ports, the given backend, and extra TOML appended per section.
pub fn policy(backend: &str, server_extra: &str, rest: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\nworkers = 1\nshutdown_grace = \"5s\"\n{server_extra}\n\
         [backend]\nurl = \"{backend}\"\n{rest}\n"
    )
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_doorman"))
}

impl Doorman {
    /// Starts `doorman serve` with `policy_text` and waits until it prints its addresses.
    pub fn start(policy_text: &str) -> Self {
        Self::start_with_env(policy_text, &[])
    }

    pub fn start_with_env(policy_text: &str, env: &[(&str, &str)]) -> Self {
        Self::start_full(policy_text, env, None)
    }

    /// Like [`Doorman::start_with_env`], with the data folder given (to share it between runs)
    /// and stderr kept in `stderr.log` for [`Doorman::log`].
    pub fn start_full(policy_text: &str, env: &[(&str, &str)], data_dir: Option<&Path>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, policy_text).unwrap();
        let mut cmd = Command::new(binary());
        let data = data_dir.map(Path::to_path_buf).unwrap_or_else(|| dir.path().join("data"));
        let stderr = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        cmd.arg("serve")
            .arg("--policy")
            .arg(&path)
            .arg("--data-dir")
            .arg(data)
            .env("DOORMAN_ADMIN_TOKEN", TOKEN)
            .env("DOORMAN_HASH_KEY", HASH_KEY)
            .env("DOORMAN_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("doorman binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let (public, admin) = parse_ready_line(&line).unwrap_or_else(|| {
            let _ = child.kill();
            let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
            panic!("doorman did not start; first line: {line:?}; status {:?}; stderr:\n{log}", child.wait())
        });
        Self { child, public, admin, dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.public)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin)
    }

    /// Calls the admin API with `token`: the status, and the JSON answer (`null` if none).
    pub async fn admin_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        json: &str,
    ) -> (u16, serde_json::Value) {
        let req = http::Request::builder()
            .method(method)
            .uri(self.admin_url(path))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(super::client::body(json.to_owned()))
            .unwrap();
        let (resp, bytes) = super::client::send(req).await;
        (resp.status().as_u16(), serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    /// Calls the admin API with the operator token.
    pub async fn admin(&self, method: &str, path: &str, json: &str) -> (u16, serde_json::Value) {
        self.admin_as(TOKEN, method, path, json).await
    }

    /// The Prometheus text of the operations listener.
    pub async fn metrics(&self) -> String {
        let req = http::Request::get(self.admin_url("/metrics"))
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(super::client::body(""))
            .unwrap();
        String::from_utf8_lossy(&super::client::send(req).await.1).into_owned()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit, up to `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "doorman did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Peak resident memory (VmHWM) of the process, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        read_status_kib(self.child.id(), "VmHWM:")
    }

    /// Current resident memory (VmRSS), in KiB.
    pub fn rss_kib(&self) -> u64 {
        read_status_kib(self.child.id(), "VmRSS:")
    }

    /// Everything the process wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}

fn read_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// `doorman: listening on http://A (admin http://B)`
fn parse_ready_line(line: &str) -> Option<(SocketAddr, SocketAddr)> {
    let rest = line.trim().strip_prefix("doorman: listening on ")?;
    let rest = rest.strip_prefix("http://").or_else(|| rest.strip_prefix("https://"))?;
    let (public, rest) = rest.split_once(" (admin http://")?;
    Some((public.parse().ok()?, rest.strip_suffix(')')?.parse().ok()?))
}

impl Drop for Doorman {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
