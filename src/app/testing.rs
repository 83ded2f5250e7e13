//! Test helpers for the tier's unit tests: an executor for futures that never wait on I/O, and
//! [`Tasks`] whose sleeps end at once (recorded) and whose spawned work runs on demand.

use std::future::Future;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::ports::tasks::{Sleep, Task, Tasks};

/// Polls `f` to completion; for futures that are ready without outside wake-ups.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// Sleeps end at once; spawned tasks wait for [`InstantTasks::run_spawned`].
#[derive(Default)]
pub struct InstantTasks {
    slept: Mutex<Vec<Duration>>,
    spawned: Mutex<Vec<Task>>,
}

impl InstantTasks {
    /// The sleeps asked for so far.
    pub fn slept(&self) -> Vec<Duration> {
        self.slept.lock().unwrap().clone()
    }

    /// Runs the spawned tasks to completion, one after the other; answers how many ran.
    pub async fn run_spawned(&self) -> usize {
        let tasks: Vec<Task> = std::mem::take(&mut *self.spawned.lock().unwrap());
        let n = tasks.len();
        for task in tasks {
            task.await;
        }
        n
    }
}

impl Tasks for InstantTasks {
    fn sleep(&self, d: Duration) -> Sleep {
        self.slept.lock().unwrap().push(d);
        Box::pin(async {})
    }

    fn spawn(&self, task: Task) {
        self.spawned.lock().unwrap().push(task);
    }
}

/// Randomness that always fails: what every token, id and nonce must survive without
/// becoming predictable.
#[derive(Debug, Clone, Copy, Default)]
pub struct FailingRandom;

impl crate::ports::random::Random for FailingRandom {
    fn fill(&self, _: &mut [u8]) -> Result<(), crate::ports::random::RandomUnavailable> {
        Err(crate::ports::random::RandomUnavailable)
    }
}
