//! Tasks for tests: sleeps that end at once (recorded), spawned work run on demand, and an
//! executor for futures that never wait on I/O.

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
