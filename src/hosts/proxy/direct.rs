//! The same-task backend exchange: bodiless `GET` and `HEAD` requests, the bulk of a shop's
//! traffic, are written to a pooled backend connection and their answers read back by the client
//! connection's own task.
//!
//! hyper's client runs every backend connection as a task of its own and hands requests,
//! response heads and body chunks across channels; on small pages those hand-offs cost more than
//! the forwarding itself (BENCHMARKS.md). Here the task that serves the client writes the request
//! head, reads the response head, and its response body reads straight from the backend socket.
//! Framing (RFC 9112) lives in [`crate::core::http1`]; requests with a body, and upgrades, keep
//! going through hyper's client ([`super::pool`]).
//!
//! A connection goes back to the pool only when its response body has been read to the end with
//! nothing left over and the backend allowed keep-alive. A response cut short, or dropped by a
//! client that went away, closes the connection: the next request never sees stale bytes.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::{Method, Request, Response};
use hyper::body::{Body, Frame, SizeHint};
use tokio::net::TcpStream;

use super::pool::PoolError;
use crate::core::http1::{self, BodyFraming, Chunk, ChunkedDecoder, ResponseHead};

/// Bytes asked of the socket per read while waiting for a response head.
const HEAD_READ: usize = 16 * 1024;
/// Bytes asked of the socket per read of a body. Large reads matter: reading a 100 KB body in
/// 16 KB steps wakes the backend for every step and cost a third of the throughput.
const BODY_READ: usize = 64 * 1024;

/// One keep-alive connection to the backend with its read buffer.
pub struct BackendConn {
    stream: TcpStream,
    buf: BytesMut,
    head: Vec<u8>,
}

struct Idle {
    conn: BackendConn,
    parked_at: Instant,
}

/// A worker's pool of backend connections for the same-task exchange.
pub struct DirectPool {
    authority: String,
    connect_timeout: Duration,
    idle_timeout: Duration,
    max_idle: usize,
    idle: Mutex<Vec<Idle>>,
}

impl DirectPool {
    /// An empty pool for `authority` (`host:port`).
    pub fn new(
        authority: String,
        connect_timeout: Duration,
        idle_timeout: Duration,
        max_idle: usize,
    ) -> Self {
        Self { authority, connect_timeout, idle_timeout, max_idle, idle: Mutex::new(Vec::new()) }
    }

    /// Whether this exchange takes `req`: a `GET` or `HEAD` with no body that asks for no upgrade.
    pub fn takes<B: Body>(req: &Request<B>, upgrade: bool) -> bool {
        !upgrade
            && (req.method() == Method::GET || req.method() == Method::HEAD)
            && req.body().is_end_stream()
    }

    /// Sends the head of `req` (its body is empty) and answers the response head; the body
    /// reads on from the same connection.
    pub async fn send<B>(self: &Arc<Self>, req: Request<B>) -> Result<Response<DirectBody>, PoolError> {
        let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let (mut conn, reused) = match self.checkout() {
            Some(conn) => (conn, true),
            None => (self.connect().await?, false),
        };
        http1::encode_request_head(req.method(), path, req.headers(), &mut conn.head);
        let head = match conn.exchange(req.method()).await {
            Ok(head) => head,
            // The backend closed an idle connection before it saw the request. GET and HEAD
            // are safe to send again, once, on a fresh connection.
            Err(Exchange::Stale(_)) if reused => {
                let mut fresh = self.connect().await?;
                std::mem::swap(&mut fresh.head, &mut conn.head);
                conn = fresh;
                conn.exchange(req.method()).await.map_err(Exchange::into_pool_error)?
            }
            Err(e) => return Err(e.into_pool_error()),
        };
        // Let the other connections of this worker read their answers before this one writes
        // to its client: writes to clients then come in bursts, which halves the context
        // switches per request on a busy worker (measured: +30 % throughput on small pages).
        tokio::task::yield_now().await;
        let ResponseHead { status, headers, framing, reusable } = head;
        let state = match framing {
            BodyFraming::Empty => {
                self.release(conn, reusable);
                BodyState::Done
            }
            BodyFraming::Length(left) => BodyState::Length { conn, left, reusable },
            BodyFraming::Chunked => BodyState::Chunked { conn, decoder: ChunkedDecoder::new(), reusable },
            BodyFraming::UntilClose => BodyState::UntilClose { conn },
        };
        let mut response = Response::new(DirectBody { state, pool: self.clone() });
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }

    /// Closes connections idle for longer than the idle timeout.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.retain(|e| now.duration_since(e.parked_at) <= self.idle_timeout);
    }

    /// How often [`Self::sweep`] is worth calling.
    pub fn sweep_interval(&self) -> Duration {
        (self.idle_timeout / 2).clamp(Duration::from_millis(100), Duration::from_secs(10))
    }

    fn checkout(&self) -> Option<BackendConn> {
        let now = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(entry) = idle.pop() {
            if now.duration_since(entry.parked_at) <= self.idle_timeout {
                return Some(entry.conn);
            }
        }
        None
    }

    /// Parks `conn` for the next request when it is clean and keep-alive; closes it otherwise.
    fn release(&self, conn: BackendConn, reusable: bool) {
        if !reusable || !conn.buf.is_empty() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.max_idle {
            idle.push(Idle { conn, parked_at: Instant::now() });
        }
    }

    async fn connect(&self) -> Result<BackendConn, PoolError> {
        let failed = |reason: String| PoolError::Connect { authority: self.authority.clone(), reason };
        let stream =
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(&self.authority)).await {
                Err(_) => return Err(failed(format!("timed out after {:?}", self.connect_timeout))),
                Ok(Err(e)) => return Err(failed(e.to_string())),
                Ok(Ok(stream)) => stream,
            };
        let _ = stream.set_nodelay(true);
        Ok(BackendConn { stream, buf: BytesMut::with_capacity(HEAD_READ), head: Vec::with_capacity(1024) })
    }
}

/// How an exchange failed.
enum Exchange {
    /// The connection failed before any byte of a response arrived.
    Stale(io::Error),
    /// It failed later, or the response is not valid HTTP/1.1.
    Failed(PoolError),
}

impl Exchange {
    fn into_pool_error(self) -> PoolError {
        match self {
            Self::Stale(e) => PoolError::Io(e),
            Self::Failed(e) => e,
        }
    }
}

impl BackendConn {
    /// Writes the encoded request head and reads until a whole response head has arrived.
    async fn exchange(&mut self, method: &Method) -> Result<ResponseHead, Exchange> {
        let mut written = 0;
        while written < self.head.len() {
            self.stream.writable().await.map_err(Exchange::Stale)?;
            match self.stream.try_write(&self.head[written..]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(Exchange::Stale(e)),
            }
        }
        self.buf.clear();
        loop {
            self.buf.reserve(HEAD_READ);
            self.stream.readable().await.map_err(|e| self.failed(e))?;
            match self.stream.try_read_buf(&mut self.buf) {
                Ok(0) if self.buf.is_empty() => {
                    return Err(Exchange::Stale(io::ErrorKind::UnexpectedEof.into()))
                }
                Ok(0) => return Err(Exchange::Failed(PoolError::Io(io::ErrorKind::UnexpectedEof.into()))),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(self.failed(e)),
            }
            match http1::parse_response_head(&mut self.buf, method) {
                Ok(Some(head)) => return Ok(head),
                Ok(None) => {}
                Err(e) => return Err(Exchange::Failed(PoolError::Framing(e))),
            }
        }
    }

    fn failed(&self, e: io::Error) -> Exchange {
        if self.buf.is_empty() {
            Exchange::Stale(e)
        } else {
            Exchange::Failed(PoolError::Io(e))
        }
    }

    /// Reads more of the response into the buffer; `Ok(0)` is the end of the stream.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        self.buf.reserve(BODY_READ);
        loop {
            ready!(self.stream.poll_read_ready(cx))?;
            match self.stream.try_read_buf(&mut self.buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }
}

enum BodyState {
    /// Nothing more to read (and the connection is released or closed).
    Done,
    Length {
        conn: BackendConn,
        left: u64,
        reusable: bool,
    },
    Chunked {
        conn: BackendConn,
        decoder: ChunkedDecoder,
        reusable: bool,
    },
    UntilClose {
        conn: BackendConn,
    },
}

/// A response body read straight from the backend connection by whoever polls it.
pub struct DirectBody {
    state: BodyState,
    pool: Arc<DirectPool>,
}

fn cut_short() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "backend closed the connection mid-body")
}

impl Body for DirectBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                BodyState::Done => return Poll::Ready(None),
                BodyState::Length { conn, left, reusable } => {
                    if conn.buf.is_empty() {
                        match ready!(conn.poll_fill(cx)) {
                            Ok(0) => return this.fail(cut_short()),
                            Ok(_) => {}
                            Err(e) => return this.fail(e),
                        }
                    }
                    let n = (conn.buf.len() as u64).min(*left) as usize;
                    let data = conn.buf.split_to(n).freeze();
                    *left -= n as u64;
                    if *left == 0 {
                        let reusable = *reusable;
                        this.finish(reusable);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                BodyState::Chunked { conn, decoder, reusable } => match decoder.decode(&mut conn.buf) {
                    Ok(Chunk::Data(data)) => return Poll::Ready(Some(Ok(Frame::data(data)))),
                    Ok(Chunk::End(trailers)) => {
                        let reusable = *reusable;
                        this.finish(reusable);
                        return Poll::Ready(trailers.map(|t| Ok(Frame::trailers(t))));
                    }
                    Ok(Chunk::NeedMore) => match ready!(conn.poll_fill(cx)) {
                        Ok(0) => return this.fail(cut_short()),
                        Ok(_) => {}
                        Err(e) => return this.fail(e),
                    },
                    Err(e) => return this.fail(io::Error::new(io::ErrorKind::InvalidData, e)),
                },
                BodyState::UntilClose { conn } => {
                    if conn.buf.is_empty() {
                        match ready!(conn.poll_fill(cx)) {
                            Ok(0) => {
                                this.state = BodyState::Done;
                                return Poll::Ready(None);
                            }
                            Ok(_) => {}
                            Err(e) => return this.fail(e),
                        }
                    }
                    let data = conn.buf.split().freeze();
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, BodyState::Done)
    }

    fn size_hint(&self) -> SizeHint {
        match &self.state {
            BodyState::Done => SizeHint::with_exact(0),
            BodyState::Length { left, .. } => SizeHint::with_exact(*left),
            _ => SizeHint::default(),
        }
    }
}

impl DirectBody {
    /// The body was read to its end: the connection goes back to the pool if it may.
    fn finish(&mut self, reusable: bool) {
        match std::mem::replace(&mut self.state, BodyState::Done) {
            BodyState::Length { conn, .. } | BodyState::Chunked { conn, .. } => {
                self.pool.release(conn, reusable)
            }
            BodyState::UntilClose { .. } | BodyState::Done => {}
        }
    }

    /// The body cannot be completed: the connection is closed, the error goes to the client
    /// connection (which hyper then closes, so the client sees a cut-short answer).
    fn fail(&mut self, e: io::Error) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        self.state = BodyState::Done;
        Poll::Ready(Some(Err(e)))
    }
}
