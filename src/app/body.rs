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
    use super::*;
    use crate::testkit::{block_on, InstantTasks, TestBody};

    #[test]
    fn bodies_are_read_whole_within_their_limit() {
        let tasks = InstantTasks::default();
        let mut body = TestBody::chunks(&[b"email=", b"a%40b.c"]);
        let read = block_on(read_bounded(&mut body, 64, Duration::from_secs(1), &tasks));
        assert_eq!(read.unwrap(), "email=a%40b.c");
        let mut big = TestBody::chunks(&[b"0123456789", b"0123456789"]);
        let read = block_on(read_bounded(&mut big, 15, Duration::from_secs(1), &tasks));
        assert_eq!(read, Err(ClientFaultKind::TooLarge));
        let mut broken = TestBody::chunks(&[b"x"]).failing(ClientFaultKind::CutShort);
        let read = block_on(read_bounded(&mut broken, 15, Duration::from_secs(1), &tasks));
        assert_eq!(read, Err(ClientFaultKind::CutShort));
        let declared = TestBody::default().declaring(16);
        assert!(declared_too_large(&declared, 15) && !declared_too_large(&declared, 16));
    }

    #[test]
    fn a_stalled_body_is_the_clients_fault_once_the_deadline_passes() {
        let tasks = InstantTasks::default();
        let mut body = TestBody::chunks(&[b"email="]).stalling();
        let read = block_on(read_bounded(&mut body, 64, Duration::from_secs(10), &tasks));
        assert_eq!(read, Err(ClientFaultKind::TooSlow));
        assert_eq!(tasks.slept(), vec![Duration::from_secs(10)]);
    }
}
