//! Request bodies for the application tier: a hyper body as the tier's [`BodyStream`] (its
//! failures named as the client's), and a lingering drain for requests answered before their
//! body was read, so the client receives the answer instead of a reset connection.

use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderMap};
use http_body_util::BodyExt;

use crate::ports::body::BodyStream;
use crate::ports::events::ClientFaultKind;

/// How long an early-answered request's body is read and thrown away at most.
pub const LINGER_TIME: Duration = Duration::from_secs(5);
/// How many bytes of an early-answered request's body are read and thrown away at most.
pub const LINGER_BYTES: u64 = 16 << 20;

/// A hyper body read by the application tier.
pub struct HyperBody<'a, B> {
    body: &'a mut B,
    declared: Option<u64>,
}

impl<'a, B> HyperBody<'a, B> {
    /// Reads `body`, whose head is `headers` (for the declared `Content-Length`).
    pub fn new(body: &'a mut B, headers: &HeaderMap) -> Self {
        let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        Self { body, declared }
    }
}

impl<B> BodyStream for HyperBody<'_, B>
where
    B: hyper::body::Body<Data = Bytes> + Unpin + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    async fn next_chunk(&mut self) -> Option<Result<Bytes, ClientFaultKind>> {
        loop {
            match self.body.frame().await? {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => return Some(Ok(data)),
                    Err(_trailers) => continue,
                },
                Err(e) => {
                    let e: Box<dyn std::error::Error + Send + Sync> = e.into();
                    return Some(Err(ClientFaultKind::of_body_error(&*e)));
                }
            }
        }
    }

    fn declared_len(&self) -> Option<u64> {
        self.declared
    }
}

/// Reads and discards what is left of `body` in the background, for at most [`LINGER_TIME`]
/// and [`LINGER_BYTES`], then lets it go (closing the connection if the body is unfinished).
pub(super) fn linger<B>(mut body: B)
where
    B: hyper::body::Body<Data = Bytes> + Unpin + Send + 'static,
{
    if body.is_end_stream() {
        return;
    }
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + LINGER_TIME;
        let mut read = 0u64;
        while read <= LINGER_BYTES {
            match tokio::time::timeout_at(deadline, body.frame()).await {
                Ok(Some(Ok(frame))) => read += frame.data_ref().map_or(0, |d| d.len() as u64),
                _ => break,
            }
        }
    });
}
