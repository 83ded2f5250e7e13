//! The forwarding service: sends a request to the ticketing backend and streams the answer back.
//!
//! Phases, in order: rewrite the head (hop-by-hop fields, forwarding headers, `Host`, URI),
//! send over the worker's pooled keep-alive client with a deadline for the response head,
//! clean the response head, and splice the two connections together after a `101`.
//! Bodies stream both ways and are never buffered here.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::uri::Authority;
use http::{Request, Response, StatusCode};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use super::error::{error_page, ForwardError, Origin};
use super::pool::{spawn_sweeper, BackendPool};
use super::tls::BackendConnector;
use crate::core::forwarding::{self, ClientFacts};
use crate::core::policy::{HostRewrite, Policy};
use crate::hosts::metrics::{ClientFaultKind, Metrics};

/// Request bodies on the way to the backend: streamed from the client, or already buffered by a
/// layer that had to read them (checkout routes).
pub type RequestBody = Either<Incoming, Full<Bytes>>;
/// Response bodies on the way to the client: streamed from the backend, or made by Doorman.
pub type ResponseBody = Either<Incoming, crate::hosts::layer::MadeBody>;

/// What every connection of one worker shares: the pooled client and the rules.
pub struct Forwarder {
    pool: Arc<BackendPool>,
    authority: Authority,
    host: HostRewrite,
    response_timeout: std::time::Duration,
    request_id_header: http::HeaderName,
    metrics: Metrics,
}

impl Forwarder {
    /// A forwarder with its own connection pool (one per worker thread). Call it inside the
    /// worker's runtime: it starts the pool's idle sweeper there.
    pub fn new(policy: &Policy, metrics: Metrics, tls: Option<BackendConnector>) -> Self {
        let b = &policy.backend;
        let pool = Arc::new(BackendPool::new(
            b.authority.clone(),
            tls,
            b.connect_timeout,
            b.pool_idle_timeout,
            b.pool_max_idle,
        ));
        spawn_sweeper(&pool);
        Self {
            pool,
            authority: policy.backend.authority.parse().expect("validated by the policy"),
            host: policy.backend.host.clone(),
            response_timeout: policy.backend.response_timeout,
            request_id_header: policy.forwarding.request_id_header.clone(),
            metrics,
        }
    }

    /// Forwards one request from `client` and answers the backend's response, or a neutral
    /// error page when the backend fails.
    pub async fn forward(
        &self,
        mut req: Request<RequestBody>,
        client: &ClientFacts,
    ) -> Response<ResponseBody> {
        let started = Instant::now();
        // Counts the request as the client's fault if it goes away (the connection closes, an
        // HTTP/2 stream is reset) before the answer: hyper then drops this future.
        let mut in_flight = InFlight { metrics: &self.metrics, answered: false };
        let request_id = req.headers().get(&self.request_id_header).cloned();
        let upgrade = forwarding::is_upgrade(req.headers());
        let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
        let (mut head, body) = req.into_parts();
        forwarding::rewrite_request_head(&mut head, client, upgrade, &self.host, self.authority.as_str());
        let req = Request::from_parts(head, body);

        let result = match tokio::time::timeout(self.response_timeout, self.pool.send(req)).await {
            Err(_) => Err(ForwardError::Timeout),
            Ok(Err(e)) => Err(ForwardError::from(e)),
            Ok(Ok(response)) if response.status() == StatusCode::SWITCHING_PROTOCOLS && !upgrade => {
                Err(ForwardError::UnaskedUpgrade)
            }
            Ok(Ok(response)) => Ok(response),
        };
        let response = match result {
            Ok(mut response) => {
                let switching = response.status() == StatusCode::SWITCHING_PROTOCOLS;
                if let (true, Some(client_upgrade)) = (switching, client_upgrade) {
                    splice(client_upgrade, hyper::upgrade::on(&mut response));
                }
                forwarding::strip_hop_by_hop(response.headers_mut(), switching && upgrade);
                response.map(Either::Left)
            }
            Err(e) => {
                match (e.origin(), e.backend_kind()) {
                    (Origin::Client, _) | (_, None) => {
                        tracing::debug!(request_id = ?request_id, error = %e, "request body failed on the client's side");
                        if let ForwardError::Client(kind) = e {
                            self.metrics.client_error(kind);
                        }
                    }
                    (_, Some(kind)) => {
                        tracing::warn!(request_id = ?request_id, error = %e, cause = ?std::error::Error::source(&e), "forward failed");
                        self.metrics.backend_error(kind);
                    }
                }
                error_page(e.status())
            }
        };
        self.metrics.response(response.status(), started.elapsed());
        in_flight.answered = true;
        response
    }
}

/// A forward in progress; dropped unanswered, it counts as the client gone.
struct InFlight<'a> {
    metrics: &'a Metrics,
    answered: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.metrics.client_error(ClientFaultKind::Gone);
        }
    }
}

/// After a `101`, copies bytes both ways between client and backend until either side closes.
fn splice(client: hyper::upgrade::OnUpgrade, backend: hyper::upgrade::OnUpgrade) {
    tokio::spawn(async move {
        match tokio::try_join!(client, backend) {
            Ok((c, b)) => {
                let (mut c, mut b) = (TokioIo::new(c), TokioIo::new(b));
                if let Err(e) = tokio::io::copy_bidirectional(&mut c, &mut b).await {
                    tracing::debug!(error = %e, "upgraded connection ended");
                }
            }
            Err(e) => tracing::debug!(error = %e, "upgrade failed"),
        }
    });
}

/// The forwarder as a tower service for one connection (it knows the client's facts).
#[derive(Clone)]
pub struct ForwardService {
    forwarder: Arc<Forwarder>,
    client: Arc<ClientFacts>,
}

impl ForwardService {
    /// The service for one client connection.
    pub fn new(forwarder: Arc<Forwarder>, client: Arc<ClientFacts>) -> Self {
        Self { forwarder, client }
    }
}

impl tower::Service<Request<RequestBody>> for ForwardService {
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<RequestBody>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.forwarder.forward(req, &this.client).await) })
    }
}
