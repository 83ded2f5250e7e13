//! Reading a request body whole, within a size limit and a deadline, for the flows that must
//! read a body before deciding (checkouts now, waitlist forms next). Failures are the client's.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::future::{select, Either};

use crate::ports::body::BodyStream;
use crate::ports::events::ClientFaultKind;
use crate::ports::tasks::Tasks;

/// Whether the declared length is over `limit`: answer 413 before reading anything.
pub fn declared_too_large(body: &impl BodyStream, limit: usize) -> bool {
    body.declared_len().is_some_and(|n| n > limit as u64)
}

/// Reads all of `body`, at most `limit` bytes, within `within`.
pub async fn read_bounded<B: BodyStream>(
    body: &mut B,
    limit: usize,
    within: Duration,
    tasks: &dyn Tasks,
) -> Result<Bytes, ClientFaultKind> {
    let reading = async {
        let mut buf = BytesMut::new();
        while let Some(chunk) = body.next_chunk().await {
            let chunk = chunk?;
            if buf.len() + chunk.len() > limit {
                return Err(ClientFaultKind::TooLarge);
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    };
    let reading = std::pin::pin!(reading);
    match select(reading, tasks.sleep(within)).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => Err(ClientFaultKind::TooSlow),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::testkit::{block_on, InstantTasks};

    /// A body of ready chunks; `stall` makes it wait forever after them.
    pub struct Chunks {
        pub chunks: VecDeque<Result<Bytes, ClientFaultKind>>,
        pub declared: Option<u64>,
        pub stall: bool,
    }

    impl Chunks {
        pub fn of(parts: &[&[u8]]) -> Self {
            let chunks = parts.iter().map(|p| Ok(Bytes::copy_from_slice(p))).collect();
            Self { chunks, declared: None, stall: false }
        }
    }

    impl BodyStream for Chunks {
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

    #[test]
    fn bodies_are_read_whole_within_their_limit() {
        let tasks = InstantTasks::default();
        let mut body = Chunks::of(&[b"email=", b"a%40b.c"]);
        let read = block_on(read_bounded(&mut body, 64, Duration::from_secs(1), &tasks));
        assert_eq!(read.unwrap(), "email=a%40b.c");
        let mut big = Chunks::of(&[b"0123456789", b"0123456789"]);
        let read = block_on(read_bounded(&mut big, 15, Duration::from_secs(1), &tasks));
        assert_eq!(read, Err(ClientFaultKind::TooLarge));
        let mut broken = Chunks::of(&[b"x"]);
        broken.chunks.push_back(Err(ClientFaultKind::CutShort));
        let read = block_on(read_bounded(&mut broken, 15, Duration::from_secs(1), &tasks));
        assert_eq!(read, Err(ClientFaultKind::CutShort));
        let declared = Chunks { declared: Some(16), ..Chunks::of(&[]) };
        assert!(declared_too_large(&declared, 15) && !declared_too_large(&declared, 16));
    }

    #[test]
    fn a_stalled_body_is_the_clients_fault_once_the_deadline_passes() {
        let tasks = InstantTasks::default();
        let mut body = Chunks { stall: true, ..Chunks::of(&[b"email="]) };
        let read = block_on(read_bounded(&mut body, 64, Duration::from_secs(10), &tasks));
        assert_eq!(read, Err(ClientFaultKind::TooSlow));
        assert_eq!(tasks.slept(), vec![Duration::from_secs(10)]);
    }
}
