//! The reverse-proxy server: worker threads, listeners, connections, graceful shutdown.
//!
//! Each worker is a thread with its own single-threaded tokio runtime, its own `SO_REUSEPORT`
//! listener on the public address and its own backend connection pool, like nginx's workers:
//! no cross-thread wake-ups or shared pool locks on the forwarding path. The kernel spreads new
//! connections over the workers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::Request;
use http_body_util::Either;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::forward::{ForwardService, Forwarder, RequestBody, ResponseBody};
use super::internal::CatchPanic;
use super::request_id;
use crate::adapters::store::AnyStore;
use crate::core::forwarding::ClientFacts;
use crate::core::policy::Policy;
use crate::hosts::layer::{Doorman, DoormanLayer};
use crate::hosts::metrics::Metrics;

/// Binds `workers` listening sockets on `addr`, all on the same port (`SO_REUSEPORT`). With port
/// 0 the first socket picks the port and the others join it.
pub fn bind(addr: SocketAddr, workers: usize) -> std::io::Result<Vec<std::net::TcpListener>> {
    let mut listeners = Vec::with_capacity(workers);
    let mut addr = addr;
    for _ in 0..workers.max(1) {
        let socket = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        socket.listen(1024)?;
        let listener: std::net::TcpListener = socket.into();
        addr = listener.local_addr()?;
        listeners.push(listener);
    }
    Ok(listeners)
}

/// What every worker needs.
#[derive(Clone)]
pub struct WorkerContext {
    /// The validated policy.
    pub policy: Arc<Policy>,
    /// Shared metrics.
    pub metrics: Metrics,
    /// Makes the Doorman layer every connection's service is wrapped in; called once per
    /// worker, inside its runtime (store connections belong to a runtime).
    pub make_layer:
        Arc<dyn Fn() -> Result<DoormanLayer<AnyStore>, crate::ports::store::StoreError> + Send + Sync>,
    /// TLS on the public listener, if the policy names a certificate.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// TLS towards an `https://` backend.
    pub backend_tls: Option<super::tls::BackendConnector>,
}

/// Starts one worker thread per listener; each stops accepting when `stop` turns true and
/// finishes in-flight requests for up to `server.shutdown_grace`.
pub fn spawn_workers(
    listeners: Vec<std::net::TcpListener>,
    ctx: WorkerContext,
    stop: watch::Receiver<bool>,
) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
    listeners
        .into_iter()
        .enumerate()
        .map(|(i, listener)| {
            let (ctx, stop) = (ctx.clone(), stop.clone());
            std::thread::Builder::new().name(format!("doorman-worker-{i}")).spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime can be built");
                runtime.block_on(worker(listener, ctx, stop));
            })
        })
        .collect()
}

async fn worker(listener: std::net::TcpListener, ctx: WorkerContext, stop: watch::Receiver<bool>) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => return tracing::error!(error = %e, "cannot register listener"),
    };
    let forwarder = Arc::new(Forwarder::new(&ctx.policy, ctx.metrics.clone(), ctx.backend_tls.clone()));
    let layer = match (ctx.make_layer)() {
        Ok(layer) => layer,
        Err(e) => return tracing::error!(error = %e, "worker cannot reach the store"),
    };
    let protocols = Arc::new(Protocols::new(&ctx.policy));
    // Every connection task holds a sender; when all are dropped, every connection has ended.
    let (in_flight, mut all_done) = tokio::sync::mpsc::channel::<()>(1);
    let mut stop_accepting = stop.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let proto = if ctx.tls.is_some() { "https" } else { "http" };
                    let facts = Arc::new(ClientFacts::new(peer.ip(), proto, &ctx.policy.forwarding));
                    let service = connection_service(&ctx, &layer, forwarder.clone(), facts);
                    let (protocols, stop, guard) = (protocols.clone(), stop.clone(), in_flight.clone());
                    let (tls, handshake_timeout) = (ctx.tls.clone(), ctx.policy.server.header_read_timeout);
                    tokio::spawn(async move {
                        let served = match tls {
                            None => protocols.serve(TokioIo::new(stream), service, stop).await,
                            Some(tls) => match tokio::time::timeout(handshake_timeout, tls.accept(stream)).await {
                                Ok(Ok(stream)) => protocols.serve(TokioIo::new(stream), service, stop).await,
                                Ok(Err(e)) => Err(e.into()),
                                Err(_) => Err("TLS handshake timed out".into()),
                            },
                        };
                        if let Err(e) = served {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                        drop(guard);
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = stopped(&mut stop_accepting) => break,
        }
    }
    drop(listener);
    drop(in_flight);
    let grace = ctx.policy.server.shutdown_grace;
    if tokio::time::timeout(grace, all_done.recv()).await.is_err() {
        tracing::warn!(?grace, "shutdown grace elapsed with requests still in flight; closing them");
    }
    // What the requests left to write (audit records of blocked checkouts) is written before
    // the worker's runtime ends.
    if tokio::time::timeout(grace.max(Duration::from_secs(5)), layer.app().flush()).await.is_err() {
        tracing::warn!("audit records still unwritten at shutdown");
    }
}

/// The HTTP versions served to clients: HTTP/1.1 with keep-alive and upgrades, plus HTTP/2
/// (h2c) unless the policy turns it off.
enum Protocols {
    Auto(auto::Builder<TokioExecutor>),
    Http1(hyper::server::conn::http1::Builder),
}

impl Protocols {
    fn new(policy: &Policy) -> Self {
        let s = &policy.server;
        if !s.http2 {
            let mut h1 = hyper::server::conn::http1::Builder::new();
            h1.timer(TokioTimer::new())
                .header_read_timeout(s.header_read_timeout)
                .max_buf_size(s.max_header_bytes)
                .keep_alive(true);
            return Self::Http1(h1);
        }
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(s.header_read_timeout)
            .max_buf_size(s.max_header_bytes)
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(s.max_header_bytes as u32)
            .keep_alive_interval(Some(Duration::from_secs(30)));
        Self::Auto(builder)
    }

    /// Serves one connection until it ends; when `stop` turns true, the connection finishes its
    /// current request and closes.
    async fn serve<I, S>(
        &self,
        io: TokioIo<I>,
        service: S,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
        S: hyper::service::Service<
                Request<Incoming>,
                Response = http::Response<super::forward::ResponseBody>,
            > + Clone
            + Send
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        macro_rules! drive {
            ($conn:expr) => {{
                let mut conn = std::pin::pin!($conn);
                tokio::select! {
                    r = conn.as_mut() => r.map_err(Into::into),
                    () = stopped(&mut stop) => {
                        conn.as_mut().graceful_shutdown();
                        conn.await.map_err(Into::into)
                    }
                }
            }};
        }
        match self {
            Self::Auto(b) => drive!(b.serve_connection_with_upgrades(io, service)),
            Self::Http1(b) => drive!(b.serve_connection(io, service).with_upgrades()),
        }
    }
}

/// Resolves when `stop` turns true (or its sender is gone), holding no borrow of the channel.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The service for one connection: request id, then the Doorman layer, then forwarding.
fn connection_service(
    ctx: &WorkerContext,
    layer: &DoormanLayer<AnyStore>,
    forwarder: Arc<Forwarder>,
    facts: Arc<ClientFacts>,
) -> ConnectionService {
    let peer = facts.ip;
    ConnectionService {
        inner: layer.layer_for_peer(ForwardService::new(forwarder, facts), peer),
        request_id_header: ctx.policy.forwarding.request_id_header.clone(),
        metrics: ctx.metrics.clone(),
    }
}

/// Entry point of every request on a connection (phase "accept": give it an id, hand it on).
#[derive(Clone)]
struct ConnectionService {
    inner: Doorman<ForwardService, AnyStore>,
    request_id_header: http::HeaderName,
    metrics: crate::hosts::metrics::Metrics,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = http::Response<ResponseBody>;
    type Error = std::convert::Infallible;
    type Future = request_id::EchoId<
        CatchPanic<tower::util::Oneshot<Doorman<ForwardService, AnyStore>, Request<RequestBody>>>,
    >;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let mut req = req.map(Either::Left);
        let id = request_id::ensure(
            req.headers_mut(),
            &self.request_id_header,
            &crate::ports::random::SystemRandom,
        );
        // Every answer carries the id, whether the backend or Doorman itself made it; a panic
        // while handling the request is Doorman's fault and answered 500, not a dropped connection.
        request_id::EchoId::new(
            CatchPanic::new(tower::ServiceExt::oneshot(self.inner.clone(), req), self.metrics.clone()),
            self.request_id_header.clone(),
            id,
        )
    }
}
