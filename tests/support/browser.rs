//! A real headless Chromium, driven through ChromeDriver's WebDriver protocol (plain HTTP/JSON on
//! loopback). Both are Debian's packages, installed by `.ci/run`; the driver runs on a free
//! port and is stopped by PID on drop.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http::Request;
use serde_json::{json, Value};

use super::client::body;

/// The chromedriver process, stopped by PID when dropped (also when a test panics).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Browser {
    driver: Driver,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

async fn call(method: &str, url: &str, payload: Option<Value>) -> Value {
    let req = Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(body(payload.map(|p| p.to_string()).unwrap_or_default()))
        .unwrap();
    // Connection refused (the driver is still starting) reads as no answer.
    let Ok(resp) = super::client::client().request(req).await else { return Value::Null };
    let bytes =
        http_body_util::BodyExt::collect(resp.into_body()).await.map(|b| b.to_bytes()).unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

impl Browser {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Driver(
            Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot run chromedriver ({e}): install chromium and chromium-driver, or run .ci/run"
                    )
                }),
        );
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while call("GET", &format!("{base}/status"), None).await["value"]["ready"] != true {
            assert!(Instant::now() < deadline, "chromedriver did not get ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         format!("--user-data-dir={}", profile.path().display())]
            }
        }}});
        let created = call("POST", &format!("{base}/session"), Some(caps)).await;
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_owned();
        Self { driver, base, session, _profile: profile }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    pub async fn goto(&self, url: &str) {
        call("POST", &self.url("/url"), Some(json!({ "url": url }))).await;
    }

    pub async fn current_url(&self) -> String {
        call("GET", &self.url("/url"), None).await["value"].as_str().unwrap_or_default().to_owned()
    }

    /// Waits (up to 10 s) until the page's text satisfies `ready`, and answers it.
    pub async fn wait_for_text(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.page_text().await;
            if ready(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "waited 10 s for {what}; the page says: {text}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn script(&self, js: &str) -> Value {
        call("POST", &self.url("/execute/sync"), Some(json!({"script": js, "args": []}))).await["value"]
            .clone()
    }

    /// Marks the current page, so [`Browser::wait_for_new_page`] can tell when it was replaced.
    pub async fn mark_page(&self) {
        self.script("window.__doorman_test_mark = true; return true").await;
    }

    /// Waits (up to 10 s) until a new page has replaced the marked one and finished loading.
    pub async fn wait_for_new_page(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let js = "return window.__doorman_test_mark !== true && document.readyState === 'complete'";
        while self.script(js).await != Value::Bool(true) {
            assert!(Instant::now() < deadline, "no new page within 10 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn page_text(&self) -> String {
        let script = json!({"script": "return document.body.innerText", "args": []});
        call("POST", &self.url("/execute/sync"), Some(script)).await["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn element(&self, css: &str) -> String {
        // W3C WebDriver names the element reference with this fixed key.
        const KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
        let found =
            call("POST", &self.url("/element"), Some(json!({"using": "css selector", "value": css}))).await;
        found["value"][KEY]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css} on {}: {found}", self.url("")))
            .to_owned()
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        call("POST", &self.url(&format!("/element/{id}/clear")), Some(json!({}))).await;
        call("POST", &self.url(&format!("/element/{id}/value")), Some(json!({ "text": text }))).await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        call("POST", &self.url(&format!("/element/{id}/click")), Some(json!({}))).await;
    }
}

impl Browser {
    /// Ends the session (closing Chromium); the driver stops when `self` drops.
    pub async fn quit(self) {
        call("DELETE", &self.url(""), None).await;
    }
}

impl Drop for Browser {
    /// Closes Chromium even when a test panics: a blocking DELETE of the session, then the
    /// driver is stopped by its own drop.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let Some(addr) = self.base.strip_prefix("http://") else { return };
        if let Ok(mut s) = std::net::TcpStream::connect(addr) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let req = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.session
            );
            let _ = s.write_all(req.as_bytes());
            let _ = s.read(&mut [0u8; 1024]);
        }
    }
}
