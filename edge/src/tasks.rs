//! The tasks port on `wstd`'s reactor: sleeps on `wasi:clocks` (nanosecond deadlines), and
//! background work as tasks of the same reactor, which `handle` runs to the end before it
//! returns (after the answer has been sent).

use std::time::Duration;

use doorman::ports::tasks::{Sleep, Task, Tasks};

/// Sleeps and spawns on the current `wstd` reactor.
pub struct WstdTasks;

impl Tasks for WstdTasks {
    fn sleep(&self, d: Duration) -> Sleep {
        Box::pin(async move {
            wstd::task::sleep(wstd::time::Duration::from(d)).await;
        })
    }

    fn spawn(&self, task: Task) {
        wstd::runtime::spawn(task).detach();
    }
}
