//! A real `redis-server` on a free loopback port, stopped (by PID) on drop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    pub addr: SocketAddr,
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// Every acknowledged write on disk (append-only file, `appendfsync always`).
    durable: bool,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl RedisServer {
    /// Starts a server on a free port. Panics with install advice when `redis-server` is missing:
    /// `.ci/run` installs it, so a missing binary is a setup error, not a reason to skip.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// Starts a server that writes every acknowledged write to disk before answering (AOF,
    /// `appendfsync always`), so a [`Self::kill`] and [`Self::restart`] lose none of them.
    #[allow(dead_code)] // used by some test binaries only
    pub fn start_durable() -> Self {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> Self {
        let port = free_port();
        let mut server = Self {
            addr: ([127, 0, 0, 1], port).into(),
            child: None,
            dir: tempfile::tempdir().unwrap(),
            durable,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.addr.port().to_string()])
            .args(["--save", "", "--protected-mode", "yes"])
            .args(if self.durable {
                ["--appendonly", "yes", "--appendfsync", "always"]
            } else {
                ["--appendonly", "no", "--appendfsync", "everysec"]
            })
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run redis-server ({e}): install it (apt-get install redis-server) or run .ci/run"
                )
            });
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut s) = TcpStream::connect(self.addr) {
                let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 16];
                if s.write_all(b"PING\r\n").is_ok()
                    && s.read(&mut buf).is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on {} did not answer PING within 10 s", self.addr);
    }

    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// Kills the server (a crash, as far as clients can tell).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl RedisServer {
    /// Runs one command through `redis-cli` and answers what it printed.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.addr.port().to_string()])
            .args(args)
            .output()
            .expect("redis-cli (installed with redis-server)");
        assert!(out.status.success(), "redis-cli {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Sends `commands` (each a list of arguments) through `redis-cli --pipe`: millions of
    /// writes in seconds, as Redis's own mass-insertion tool does it.
    pub fn pipe(&self, commands: impl Iterator<Item = Vec<String>>) {
        let mut protocol = Vec::new();
        for args in commands {
            protocol.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
            for a in args {
                protocol.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
            }
        }
        let mut cli = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.addr.port().to_string(), "--pipe"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("redis-cli (installed with redis-server)");
        cli.stdin.take().unwrap().write_all(&protocol).unwrap();
        let out = cli.wait_with_output().unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && report.contains("errors: 0"), "redis-cli --pipe: {report}");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
