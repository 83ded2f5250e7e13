//! Real ticket shops built on real web frameworks (`tests/shops/`), each a child process on a free
//! loopback port, stopped (by PID) on drop: PHP's built-in server, Sinatra on Rack and WEBrick,
//! Express, Flask on Werkzeug's server and Django's runserver, all from Debian's packages
//! (installed by `.ci/run`). Every shop keeps one contract: `GET /health` answers `ok`,
//! `GET /events/{event}` is the browser page (`tests/shops/event.html`), and
//! `POST /events/{event}/checkout` takes an order, answers it as JSON
//! (`{"order", "event", "account", "email", "tickets"}`) and appends it as one line to its orders
//! file. The account is the `sub` of an HS256 JWT in the `shop_session` cookie, signed with the
//! session key the shop was started with.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A framework a real shop of the test bed is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    Php,
    Rack,
    Express,
    Flask,
    Django,
}

impl Framework {
    pub const ALL: [Framework; 5] =
        [Framework::Php, Framework::Rack, Framework::Express, Framework::Flask, Framework::Django];

    /// The shop's folder name under `tests/shops/`.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Php => "php",
            Framework::Rack => "rack",
            Framework::Express => "express",
            Framework::Flask => "flask",
            Framework::Django => "django",
        }
    }

    /// The command that serves the shop from its folder, as its hoster would run it.
    fn command(self, port: u16) -> Command {
        let (listen, port) = (format!("127.0.0.1:{port}"), port.to_string());
        let (program, args): (&str, Vec<&str>) = match self {
            // PHP's compiled-in defaults (no php.ini): $_REQUEST is GET, POST and cookies.
            Framework::Php => ("php", vec!["-n", "-d", "variables_order=EGPCS", "-S", &listen, "index.php"]),
            Framework::Rack => (
                "rackup",
                vec!["-s", "webrick", "-o", "127.0.0.1", "-p", &port, "-E", "production", "config.ru"],
            ),
            Framework::Express => ("node", vec!["app.js"]),
            Framework::Flask => ("/usr/bin/python3", vec!["app.py"]),
            Framework::Django => ("/usr/bin/python3", vec!["shop.py"]),
        };
        let mut cmd = Command::new(program);
        cmd.args(args);
        match self {
            // Debian's node-* packages live outside node's own search path.
            Framework::Express => {
                cmd.env("NODE_PATH", "/usr/share/nodejs").env("NODE_ENV", "production");
            }
            // Debian's python3 with Debian's packages, whatever python an environment set up.
            Framework::Flask | Framework::Django => {
                cmd.env_remove("PYTHONPATH").env_remove("PYTHONHOME").env("PYTHONDONTWRITEBYTECODE", "1");
            }
            Framework::Php | Framework::Rack => {}
        }
        cmd
    }

    /// The Debian packages the shop runs on (what `.ci/run` installs).
    fn packages(self) -> &'static str {
        match self {
            Framework::Php => "php8.2-cli",
            Framework::Rack => "ruby ruby-rack ruby-sinatra ruby-webrick",
            Framework::Express => "node-express node-busboy node-cookie-parser (with a nodejs)",
            Framework::Flask => "python3-flask",
            Framework::Django => "python3-django",
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One running shop; stopped on drop.
pub struct Shop {
    framework: Framework,
    addr: SocketAddr,
    child: Child,
    dir: tempfile::TempDir,
}

impl Shop {
    /// Starts the shop on a free loopback port with this session key, and waits (30 s at most)
    /// until `GET /health` answers; panics with the shop's output when it does not.
    pub fn start(framework: Framework, session_key: &str) -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/shops").join(framework.name());
        let child = framework
            .command(port)
            .current_dir(&folder)
            .env("PORT", port.to_string())
            .env("SESSION_KEY", session_key)
            .env("ORDERS_FILE", dir.path().join("orders.jsonl"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.path().join("stdout.log")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start the {} shop ({e}): install {} (apt-get) or run .ci/run",
                    framework.name(),
                    framework.packages()
                )
            });
        let mut shop = Shop { framework, addr: ([127, 0, 0, 1], port).into(), child, dir };
        shop.wait_ready();
        shop
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the {} shop exited ({status}) before answering:\n{}",
                    self.framework.name(),
                    self.log()
                );
            }
            if self.healthy() {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "the {} shop on {} did not answer GET /health within 30 s:\n{}",
                    self.framework.name(),
                    self.addr,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn healthy(&self) -> bool {
        let Ok(mut s) = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)) else { return false };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let request = format!("GET /health HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.addr);
        let mut answer = Vec::new();
        if s.write_all(request.as_bytes()).is_err() || s.read_to_end(&mut answer).is_err() {
            return false;
        }
        let answer = String::from_utf8_lossy(&answer);
        let mut words = answer.split_whitespace();
        words.next().is_some_and(|v| v.starts_with("HTTP/1."))
            && words.next() == Some("200")
            && answer.ends_with("\r\n\r\nok")
    }

    pub fn framework(&self) -> Framework {
        self.framework
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn orders_file(&self) -> PathBuf {
        self.dir.path().join("orders.jsonl")
    }

    /// The orders the shop took so far, oldest first.
    pub fn orders(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.orders_file()).unwrap_or_default();
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("order line {line:?} is not JSON: {e}"))
            })
            .collect()
    }

    /// What the shop printed so far (its stdout, then its stderr): for a failing test's message.
    pub fn log(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("{}{}", read("stdout.log"), read("stderr.log"))
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
