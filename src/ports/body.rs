//! The body port: a request body as it arrives, chunk by chunk, with failures already named as
//! the client's (the host knows its transport's errors; the application tier does not).

use std::future::Future;

use bytes::Bytes;

use super::events::ClientFaultKind;

/// A request body being received.
pub trait BodyStream: Send {
    /// The next chunk of data; `None` at the end; an error when the client's body failed.
    fn next_chunk(&mut self) -> impl Future<Output = Option<Result<Bytes, ClientFaultKind>>> + Send;

    /// The length the client declared, if any (`Content-Length`), for an early 413.
    fn declared_len(&self) -> Option<u64>;
}
