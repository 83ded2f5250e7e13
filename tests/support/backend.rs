//! A real HTTP backend on a free loopback port (hyper, its own thread and runtime), with routes
//! that exercise a proxy: echo, streaming both ways, slow heads, upgrades, broken bodies, any
//! status (`/status/{code}/...`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

type BoxBody = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

/// Shared state the tests can observe and steer.
#[derive(Default)]
pub struct State {
    /// TCP connections accepted so far.
    pub connections: AtomicU64,
    /// Bytes of request body received so far by `/upload`.
    pub uploaded: AtomicU64,
    /// Released by the test to let `/gated-download` send its second chunk.
    pub gate: Notify,
    /// Requests received so far.
    pub requests: AtomicU64,
}

pub struct Backend {
    pub addr: SocketAddr,
    pub state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    scheme: &'static str,
}

impl Backend {
    pub fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap())
    }

    pub fn start_on(addr: SocketAddr) -> Self {
        Self::start_with(addr, None)
    }

    /// The same backend speaking HTTPS with `fixtures/tls/localhost.{crt,key}` (signed by
    /// `fixtures/tls/ca.crt`, valid for `localhost` and `127.0.0.1`).
    pub fn start_tls() -> Self {
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tls");
        let certs: Vec<_> = CertificateDer::pem_file_iter(format!("{dir}/localhost.crt"))
            .unwrap()
            .map(|c| c.unwrap())
            .collect();
        let key = PrivateKeyDer::from_pem_file(format!("{dir}/localhost.key")).unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let mut backend = Self::start_with("127.0.0.1:0".parse().unwrap(), Some(acceptor));
        backend.scheme = "https";
        backend
    }

    fn start_with(addr: SocketAddr, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = std::net::TcpListener::bind(addr).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        let thread = std::thread::spawn(move || {
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    tokio::select! {
                        Ok((stream, _)) = listener.accept() => {
                            st.connections.fetch_add(1, Ordering::SeqCst);
                            let (st, tls) = (st.clone(), tls.clone());
                            tokio::spawn(async move {
                                match tls {
                                    None => serve_connection(stream, st).await,
                                    Some(tls) => {
                                        if let Ok(stream) = tls.accept(stream).await {
                                            serve_connection(stream, st).await;
                                        }
                                    }
                                }
                            });
                        }
                        _ = &mut stopped => break,
                    }
                }
            });
        });
        Self { addr, state, stop: Some(stop), thread: Some(thread), scheme: "http" }
    }

    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }
}

async fn serve_connection<I>(io: I, st: Arc<State>)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let svc = service_fn(move |req| route(req, st.clone()));
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), svc)
        .with_upgrades()
        .await;
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The chunks of `/page/…`.
pub const PAGE_CHUNKS: [&str; 3] = [
    "<html><body><h1>Gala</h1><div id=\"tic",
    "kets\"><p>Sold out</p></div>",
    "<footer>&copy; shop</footer></body></html>",
];

/// The (pretend) gzip bytes of `/gzpage/…`.
pub const GZ_PAGE: &[u8] = b"\x1f\x8b\x08\x00not really a gzip stream";

fn full(status: StatusCode, body: impl Into<Bytes>) -> Response<BoxBody> {
    let mut r = Response::new(Full::new(body.into()).map_err(|never: Infallible| match never {}).boxed());
    *r.status_mut() = status;
    r
}

fn query_u64(req: &Request<Incoming>, key: &str) -> Option<u64> {
    req.uri().query()?.split('&').find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

fn stream_of(chunks: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>) -> BoxBody {
    super::ChannelBody(chunks).boxed()
}

async fn route(req: Request<Incoming>, st: Arc<State>) -> Result<Response<BoxBody>, Infallible> {
    st.requests.fetch_add(1, Ordering::SeqCst);
    let path = req.uri().path().to_owned();
    if path.starts_with("/slow/") {
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    Ok(match path.as_str() {
        p if p.starts_with("/echo") || p.starts_with("/slow/") => {
            let method = req.method().to_string();
            let uri = req.uri().to_string();
            let version = format!("{:?}", req.version());
            let headers: Vec<(String, String)> = req
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let json = serde_json::json!({
                "method": method, "uri": uri, "version": version, "headers": headers,
                "body_len": body.len(), "body": String::from_utf8_lossy(&body),
            });
            let mut r = full(StatusCode::OK, json.to_string());
            r.headers_mut().insert("content-type", "application/json".parse().unwrap());
            r
        }
        p if p.starts_with("/page/") => {
            // An event page in three chunks, split inside the element a waitlist button goes
            // into; it reports the Accept-Encoding it was asked with.
            let seen = req.headers().get("accept-encoding").map(|v| v.to_str().unwrap_or("").to_owned());
            let (tx, rx) = tokio::sync::mpsc::channel(4);
            for chunk in PAGE_CHUNKS {
                tx.try_send(Ok(Bytes::from_static(chunk.as_bytes()))).unwrap();
            }
            let mut r = full_stream(rx);
            let h = r.headers_mut();
            h.insert("content-type", "text/html; charset=utf-8".parse().unwrap());
            h.insert("content-length", PAGE_CHUNKS.concat().len().to_string().parse().unwrap());
            h.insert("etag", "\"page-1\"".parse().unwrap());
            h.insert("x-seen-accept-encoding", seen.unwrap_or_else(|| "none".into()).parse().unwrap());
            r
        }
        p if p.starts_with("/gzpage/") => {
            // A backend that compresses whatever it is asked.
            let mut r = full(StatusCode::OK, GZ_PAGE);
            r.headers_mut().insert("content-type", "text/html".parse().unwrap());
            r.headers_mut().insert("content-encoding", "gzip".parse().unwrap());
            r
        }
        p if p.starts_with("/status/") => {
            // `/status/{code}/...`: answers at once with that status (a shop refusing or failing
            // an order), after reading the whole request body.
            let code = p.split('/').nth(2).and_then(|c| c.parse::<u16>().ok());
            let status = code.and_then(|c| StatusCode::from_u16(c).ok()).unwrap_or(StatusCode::BAD_REQUEST);
            let _ = req.into_body().collect().await;
            full(status, format!("status {}", status.as_u16()))
        }
        p if p.starts_with("/redirecting/") => {
            // A shop whose checkout answers with a redirect and a few fields of its own.
            let mut r = full(StatusCode::FOUND, "");
            let h = r.headers_mut();
            h.insert("location", "/orders/1".parse().unwrap());
            h.insert("x-runtime", "0.0123".parse().unwrap());
            h.insert("server", "ShopEngine/2".parse().unwrap());
            h.insert("x-frame-options", "DENY".parse().unwrap());
            h.insert("content-type", "text/html; charset=utf-8".parse().unwrap());
            h.insert("set-cookie", "cart=; Max-Age=0".parse().unwrap());
            r
        }
        "/upload" => {
            let mut body = req.into_body();
            let mut total = 0u64;
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(f) => {
                        if let Some(d) = f.data_ref() {
                            total += d.len() as u64;
                            st.uploaded.fetch_add(d.len() as u64, Ordering::SeqCst);
                        }
                    }
                    Err(_) => return Ok(full(StatusCode::BAD_REQUEST, "body broke")),
                }
            }
            full(StatusCode::OK, format!("received {total}"))
        }
        "/download" => {
            let size = query_u64(&req, "size").unwrap_or(1 << 20);
            let (tx, rx) = tokio::sync::mpsc::channel(4);
            tokio::spawn(async move {
                let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
                let mut left = size;
                while left > 0 {
                    let n = left.min(chunk.len() as u64) as usize;
                    if tx.send(Ok(chunk.slice(..n))).await.is_err() {
                        return;
                    }
                    left -= n as u64;
                }
            });
            full_stream(rx)
        }
        "/gated-download" => {
            let (tx, rx) = tokio::sync::mpsc::channel(4);
            tokio::spawn(async move {
                let _ = tx.send(Ok(Bytes::from_static(b"first-chunk;"))).await;
                st.gate.notified().await;
                let _ = tx.send(Ok(Bytes::from_static(b"second-chunk"))).await;
            });
            full_stream(rx)
        }
        "/break-mid-body" => {
            let (tx, rx) = tokio::sync::mpsc::channel(4);
            tokio::spawn(async move {
                let _ = tx.send(Ok(Bytes::from_static(b"partial"))).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = tx.send(Err(std::io::Error::other("backend broke"))).await;
            });
            let mut r = full_stream(rx);
            r.headers_mut().insert("content-length", "1000".parse().unwrap());
            r
        }
        "/slow-head" => {
            let ms = query_u64(&req, "ms").unwrap_or(1000);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            full(StatusCode::OK, "late")
        }
        "/hop" => {
            let mut r = full(StatusCode::OK, "hop");
            let h = r.headers_mut();
            h.insert("connection", "x-hop-secret, keep-alive".parse().unwrap());
            h.insert("x-hop-secret", "1".parse().unwrap());
            h.insert("keep-alive", "timeout=5".parse().unwrap());
            h.insert("x-kept", "yes".parse().unwrap());
            r
        }
        "/ws" => {
            let mut req = req;
            if !req.headers().contains_key("upgrade") {
                return Ok(full(StatusCode::BAD_REQUEST, "expected an upgrade"));
            }
            let on_upgrade = hyper::upgrade::on(&mut req);
            tokio::spawn(async move {
                if let Ok(upgraded) = on_upgrade.await {
                    let mut io = TokioIo::new(upgraded);
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = io.read(&mut buf).await {
                        if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                }
            });
            let mut r = full(StatusCode::SWITCHING_PROTOCOLS, Bytes::new());
            r.headers_mut().insert("upgrade", "websocket".parse().unwrap());
            r.headers_mut().insert("connection", "upgrade".parse().unwrap());
            r
        }
        _ => full(StatusCode::NOT_FOUND, "no such route"),
    })
}

fn full_stream(rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>) -> Response<BoxBody> {
    Response::new(stream_of(rx))
}

/// Keeps the executor type used by the h2 client in one place.
pub fn executor() -> TokioExecutor {
    TokioExecutor::new()
}

/// One scripted answer of a [`ScriptBackend`]: raw bytes, then whether to close the connection.
pub type Answer = (&'static [u8], bool);

/// A raw TCP backend that answers every request head it reads with the next answer of its
/// script (counted over all connections), keeping connections open unless the answer says
/// close: for backends that break HTTP, close kept-alive connections, or frame answers in ways
/// hyper's server never would.
pub struct ScriptBackend {
    pub addr: SocketAddr,
    /// TCP connections accepted so far.
    pub connections: Arc<AtomicU64>,
}

impl ScriptBackend {
    pub fn start(script: Vec<Answer>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicU64::new(0));
        let next = Arc::new(AtomicU64::new(0));
        let (script, counted) = (Arc::new(script), connections.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { break };
                counted.fetch_add(1, Ordering::SeqCst);
                let (script, next) = (script.clone(), next.clone());
                std::thread::spawn(move || {
                    use std::io::{Read, Write};
                    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                    let mut pending = Vec::new();
                    let mut buf = [0u8; 4096];
                    loop {
                        // One request head (the scripts only serve bodiless requests).
                        while !pending.windows(4).any(|w| w == b"\r\n\r\n") {
                            match s.read(&mut buf) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => pending.extend_from_slice(&buf[..n]),
                            }
                        }
                        let end = pending.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                        pending.drain(..end);
                        let i = next.fetch_add(1, Ordering::SeqCst) as usize;
                        let (answer, close) = script[i % script.len()];
                        if s.write_all(answer).is_err() || close {
                            return;
                        }
                    }
                });
            }
        });
        Self { addr, connections }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }
}
