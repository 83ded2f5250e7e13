//! The clock port: wall-clock time for records, monotonic time for durations and deadlines.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where "now" comes from. Tests drive a fake one; hosts use [`SystemClock`].
pub trait Clock: Send + Sync + 'static {
    /// Now, in Unix milliseconds (audit records, entry times).
    fn unix_ms(&self) -> u64;
    /// A monotonic reading since an arbitrary origin fixed for the process (durations, deadlines).
    fn monotonic(&self) -> Duration;
}

/// The system's clocks, through `std` (on `wasm32-wasip2` these are the `wasi:clocks`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_ms(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
    }

    fn monotonic(&self) -> Duration {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        ORIGIN.get_or_init(Instant::now).elapsed()
    }
}
