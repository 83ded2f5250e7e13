//! Buffering a checkout body: bounded in size and time, its failures named as the client's
//! ([`ClientFaultKind`]), and a lingering drain for requests answered before their body was
//! read, so the client receives the answer instead of a reset connection.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

use crate::hosts::metrics::ClientFaultKind;

/// How long an early-answered request's body is read and thrown away at most.
pub const LINGER_TIME: Duration = Duration::from_secs(5);
/// How many bytes of an early-answered request's body are read and thrown away at most.
pub const LINGER_BYTES: u64 = 16 << 20;

/// Reads all of `body`, at most `limit` bytes, until `deadline`.
pub(super) async fn read_bounded<B>(
    body: &mut B,
    limit: usize,
    deadline: Instant,
) -> Result<Bytes, ClientFaultKind>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut buf = BytesMut::new();
    loop {
        let frame = match tokio::time::timeout_at(deadline.into(), body.frame()).await {
            Err(_) => return Err(ClientFaultKind::TooSlow),
            Ok(None) => return Ok(buf.freeze()),
            Ok(Some(Err(e))) => {
                let e: Box<dyn std::error::Error + Send + Sync> = e.into();
                return Err(ClientFaultKind::of_body_error(&*e));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ClientFaultKind::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
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
