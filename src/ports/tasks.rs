//! The tasks port: waiting (the timing cover, read deadlines) and work that outlives a request
//! (audit writes, saving timing samples).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed, sendable future of nothing.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A boxed, sendable sleep.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// How the host waits and runs background work.
pub trait Tasks: Send + Sync + 'static {
    /// Resolves once `d` has passed, precisely: a blocked checkout's answer must not come
    /// measurably sooner or later than the cover says, also below a millisecond.
    fn sleep(&self, d: Duration) -> Sleep;

    /// Runs `task` apart from the request that made it. A host without background tasks (the
    /// WebAssembly component) runs it after the answer has been sent.
    fn spawn(&self, task: Task);
}
