//! A request body for tests.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::ports::body::BodyStream;
use crate::ports::events::ClientFaultKind;

/// A body of chunks that are ready at once (or a client's failure), optionally waiting forever
/// after them (a client that stalls).
#[derive(Debug, Default)]
pub struct TestBody {
    chunks: VecDeque<Result<Bytes, ClientFaultKind>>,
    declared: Option<u64>,
    stall: bool,
}

impl TestBody {
    /// `bytes` in one chunk, with its length declared.
    pub fn whole(bytes: impl AsRef<[u8]>) -> Self {
        let bytes = Bytes::copy_from_slice(bytes.as_ref());
        Self { declared: Some(bytes.len() as u64), chunks: VecDeque::from([Ok(bytes)]), stall: false }
    }

    /// `parts` as separate chunks, no length declared.
    pub fn chunks(parts: &[&[u8]]) -> Self {
        Self { chunks: parts.iter().map(|p| Ok(Bytes::copy_from_slice(p))).collect(), ..Self::default() }
    }

    /// Declares `len` as the body's length (`Content-Length`), whatever it holds.
    pub fn declaring(mut self, len: u64) -> Self {
        self.declared = Some(len);
        self
    }

    /// Fails with the client's `fault` after the chunks so far.
    pub fn failing(mut self, fault: ClientFaultKind) -> Self {
        self.chunks.push_back(Err(fault));
        self
    }

    /// Waits forever after the chunks so far.
    pub fn stalling(mut self) -> Self {
        self.stall = true;
        self
    }
}

impl BodyStream for TestBody {
    async fn next_chunk(&mut self) -> Option<Result<Bytes, ClientFaultKind>> {
        match self.chunks.pop_front() {
            Some(c) => Some(c),
            None if self.stall => std::future::pending().await,
            None => None,
        }
    }

    fn declared_len(&self) -> Option<u64> {
        self.declared
    }
}
