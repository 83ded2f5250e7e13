//! The [`Tasks`] port on tokio: precise sleeps for the timing cover, background work on the
//! current runtime.

use std::time::{Duration, Instant};

use crate::ports::tasks::{Sleep, Task, Tasks};

/// Sleeps and spawns on the tokio runtime the caller runs on.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTasks;

impl Tasks for TokioTasks {
    fn sleep(&self, d: Duration) -> Sleep {
        Box::pin(wait_until(Instant::now() + d))
    }

    fn spawn(&self, task: Task) {
        tokio::spawn(task);
    }
}

/// Waits until `deadline`, to within a few microseconds: the timer wheel ticks in whole
/// milliseconds, so the last stretch yields to other tasks until the deadline has passed.
async fn wait_until(deadline: Instant) {
    const TICK: Duration = Duration::from_millis(2);
    if let Some(early) = deadline.checked_sub(TICK) {
        if early > Instant::now() {
            tokio::time::sleep_until(early.into()).await;
        }
    }
    while Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Never early (the timing cover must not answer before the backend would); how late is a
    /// matter of load, so the bound here only catches a wait that never ends.
    #[tokio::test]
    async fn waits_never_end_early() {
        for us in [150u64, 700, 2300] {
            let start = Instant::now();
            TokioTasks.sleep(Duration::from_micros(us)).await;
            let took = start.elapsed();
            assert!(took >= Duration::from_micros(us), "{us} µs: woke early after {took:?}");
            assert!(took < Duration::from_secs(1), "{us} µs: took {took:?}");
        }
    }
}
