//! A worker's pool of keep-alive HTTP/1.1 connections to the backend.
//!
//! Each worker thread owns one pool (no sharing between threads, so its lock is never
//! contended). Connections are taken newest first, so a few hot connections carry the load and
//! the rest age out. A connection goes back into the pool as soon as the response head has
//! arrived; it is handed out again only once hyper reports it ready, that is, once the previous
//! response body has been read to the end. A request that a pooled connection could not even
//! start (the backend had just closed it) is retried once on a fresh connection: it never reached
//! the backend, so the retry is safe for every method.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

use super::forward::RequestBody;
use super::tls::BackendConnector;

/// Why a request did not get a response head from the backend.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// No TCP connection could be opened in time.
    #[error("cannot connect to {authority}: {reason}")]
    Connect {
        /// The backend's `host:port`.
        authority: String,
        /// The OS error or "timed out".
        reason: String,
    },
    /// The HTTP exchange failed (bad status line, closed connection, body error).
    #[error("backend exchange failed: {0}")]
    Exchange(#[from] hyper::Error),
}

/// Largest response head (or chunked trailer section) taken from the backend; a larger one gets
/// the client a 502.
const MAX_RESPONSE_HEAD: usize = 64 * 1024;

struct Idle {
    sender: SendRequest<RequestBody>,
    parked_at: Instant,
}

/// Keep-alive connections to one backend.
pub struct BackendPool {
    authority: String,
    tls: Option<BackendConnector>,
    connect_timeout: Duration,
    idle_timeout: Duration,
    max_idle: usize,
    idle: Mutex<Vec<Idle>>,
}

impl BackendPool {
    /// An empty pool for `authority` (`host:port`).
    pub fn new(
        authority: String,
        tls: Option<BackendConnector>,
        connect_timeout: Duration,
        idle_timeout: Duration,
        max_idle: usize,
    ) -> Self {
        Self { authority, tls, connect_timeout, idle_timeout, max_idle, idle: Mutex::new(Vec::new()) }
    }

    /// Sends `req` and answers the response head; the body streams on.
    pub async fn send(&self, req: Request<RequestBody>) -> Result<Response<Incoming>, PoolError> {
        let mut req = req;
        loop {
            let (mut sender, reused) = match self.checkout() {
                Some(sender) => (sender, true),
                None => (self.connect().await?, false),
            };
            match sender.try_send_request(req).await {
                Ok(response) => {
                    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
                        self.checkin(sender);
                    }
                    return Ok(response);
                }
                Err(mut e) => match e.take_message() {
                    // Never written: a stale pooled connection. Try the next one, or a fresh one.
                    Some(unsent) if reused => req = unsent,
                    _ => return Err(PoolError::Exchange(e.into_error())),
                },
            }
        }
    }

    /// A ready pooled connection, dropping closed and expired ones on the way.
    fn checkout(&self) -> Option<SendRequest<RequestBody>> {
        let now = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let mut i = idle.len();
        while i > 0 {
            i -= 1;
            let entry = &idle[i];
            if entry.sender.is_closed() || now.duration_since(entry.parked_at) > self.idle_timeout {
                idle.swap_remove(i);
            } else if entry.sender.is_ready() {
                return Some(idle.swap_remove(i).sender);
            }
        }
        None
    }

    fn checkin(&self, sender: SendRequest<RequestBody>) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.max_idle {
            idle.push(Idle { sender, parked_at: Instant::now() });
        }
    }

    /// Closes connections idle for longer than the idle timeout; the worker calls this now and then.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.retain(|e| !e.sender.is_closed() && now.duration_since(e.parked_at) <= self.idle_timeout);
    }

    async fn connect(&self) -> Result<SendRequest<RequestBody>, PoolError> {
        let failed = |reason: String| PoolError::Connect { authority: self.authority.clone(), reason };
        let stream =
            match tokio::time::timeout(self.connect_timeout, tokio::net::TcpStream::connect(&self.authority))
                .await
            {
                Err(_) => return Err(failed(format!("timed out after {:?}", self.connect_timeout))),
                Ok(Err(e)) => return Err(failed(e.to_string())),
                Ok(Ok(stream)) => stream,
            };
        let _ = stream.set_nodelay(true);
        let Some(tls) = &self.tls else { return handshake(stream).await };
        // The TLS handshake counts towards the connect timeout.
        let server_name = tls.server_name.clone();
        match tokio::time::timeout(self.connect_timeout, tls.connector.connect(server_name, stream)).await {
            Err(_) => Err(failed(format!("TLS handshake timed out after {:?}", self.connect_timeout))),
            Ok(Err(e)) => Err(failed(format!("TLS handshake failed: {e}"))),
            Ok(Ok(stream)) => handshake(stream).await,
        }
    }
}

/// Starts HTTP/1.1 on a connected stream (plain TCP or TLS) and drives it in its own task.
async fn handshake<T>(stream: T) -> Result<SendRequest<RequestBody>, PoolError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, connection) =
        http1::Builder::new().max_header_size(MAX_RESPONSE_HEAD).handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.with_upgrades().await {
            tracing::debug!(error = %e, "backend connection ended with an error");
        }
    });
    sender.ready().await?;
    Ok(sender)
}

/// Sweeps `pool` every few seconds for as long as it exists.
pub fn spawn_sweeper(pool: &Arc<BackendPool>) {
    let weak = Arc::downgrade(pool);
    let every = (pool.idle_timeout / 2).clamp(Duration::from_millis(100), Duration::from_secs(10));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            match weak.upgrade() {
                Some(pool) => pool.sweep(),
                None => return,
            }
        }
    });
}
