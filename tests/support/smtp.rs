//! A real SMTP server (aiosmtpd, from Debian's `python3-aiosmtpd`) on a free loopback port,
//! started from `smtp_server.py` and stopped (by PID) on drop. Every accepted message lands as
//! one file in its mail folder.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct SmtpServer {
    pub addr: SocketAddr,
    child: Child,
    dir: tempfile::TempDir,
}

/// TLS and authentication the server asks for.
#[derive(Default, Clone)]
pub struct SmtpOptions {
    /// Offer STARTTLS with the test CA's `localhost` certificate, and require it.
    pub starttls: bool,
    /// Require AUTH with this user and password.
    pub login: Option<(String, String)>,
    /// Refuse every recipient at this domain for now (450).
    pub refuse_domain: Option<String>,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl SmtpServer {
    /// Starts a server on `port` (a free one when `None`). Panics with install advice when
    /// aiosmtpd is missing: `.ci/run` installs it.
    pub fn start(port: Option<u16>, options: &SmtpOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = port.unwrap_or_else(free_port);
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");
        let tls = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tls");
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(script).arg("--port").arg(port.to_string()).arg("--maildir").arg(dir.path().join("mail"));
        if options.starttls {
            cmd.arg("--tls-cert")
                .arg(format!("{tls}/localhost.crt"))
                .arg("--tls-key")
                .arg(format!("{tls}/localhost.key"));
        }
        if let Some((user, password)) = &options.login {
            cmd.arg("--user").arg(user).arg("--password").arg(password);
        }
        if let Some(domain) = &options.refuse_domain {
            cmd.arg("--refuse-domain").arg(domain);
        }

        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap_or_else(|e| {
            panic!("cannot run /usr/bin/python3 ({e}): install python3-aiosmtpd (apt-get) or run .ci/run")
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        if line.trim() != "ready" {
            let _ = child.kill();
            panic!(
                "the SMTP server did not start ({:?}): install python3-aiosmtpd (apt-get) or run .ci/run",
                child.wait()
            );
        }
        Self { addr: ([127, 0, 0, 1], port).into(), child, dir }
    }

    /// The recipients refused so far (`refuse_domain`), one per refusal.
    #[allow(dead_code)] // used by some test binaries only
    pub fn refused(&self) -> Vec<String> {
        let path = self.dir.path().join("mail").join("refused.txt");
        std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).collect()
    }

    /// Stops the server mid-whatever (SIGSTOP): a client sending to it waits for an answer.
    #[allow(dead_code)] // used by some test binaries only
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server go on (SIGCONT).
    #[allow(dead_code)] // used by some test binaries only
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let status = Command::new("kill").arg(which).arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success(), "kill {which} {}", self.child.id());
    }

    /// The messages received so far, raw, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("mail")) else { return Vec::new() };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        paths.sort();
        paths.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
