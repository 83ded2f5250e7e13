//! The tasks port at the edge: sleeps on `wasi:clocks` through `wstd` (nanosecond deadlines),
//! and background work deferred until the answer has been sent. Key-value calls are blocking
//! host calls, so work running beside the answer would hold it up; [`run_deferred`] runs it
//! after [`crate::incoming::respond`], before `handle` returns.

use std::cell::RefCell;
use std::time::Duration;

use doorman::ports::tasks::{Sleep, Task, Tasks};

thread_local! {
    static DEFERRED: RefCell<Vec<Task>> = const { RefCell::new(Vec::new()) };
}

/// Sleeps on the current `wstd` reactor; background work waits for [`run_deferred`].
pub struct WstdTasks;

impl Tasks for WstdTasks {
    fn sleep(&self, d: Duration) -> Sleep {
        Box::pin(async move {
            wstd::task::sleep(wstd::time::Duration::from(d)).await;
        })
    }

    fn spawn(&self, task: Task) {
        DEFERRED.with(|d| d.borrow_mut().push(task));
    }
}

/// Runs the deferred work, including work it defers in turn.
pub async fn run_deferred() {
    loop {
        let tasks = DEFERRED.with(|d| std::mem::take(&mut *d.borrow_mut()));
        if tasks.is_empty() {
            return;
        }
        for task in tasks {
            task.await;
        }
    }
}
