//! A clock the test moves.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::ports::clock::Clock;

/// Wall-clock and monotonic time that stand still until [`ManualClock::advance`].
#[derive(Debug, Default)]
pub struct ManualClock {
    unix_ms: AtomicU64,
    monotonic_us: AtomicU64,
}

impl ManualClock {
    /// A clock at `unix_ms` (Unix milliseconds), its monotonic reading at zero.
    pub fn at(unix_ms: u64) -> Self {
        Self { unix_ms: AtomicU64::new(unix_ms), monotonic_us: AtomicU64::new(0) }
    }

    /// Moves both readings forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.unix_ms.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
        self.monotonic_us.fetch_add(by.as_micros() as u64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn unix_ms(&self) -> u64 {
        self.unix_ms.load(Ordering::SeqCst)
    }

    fn monotonic(&self) -> Duration {
        Duration::from_micros(self.monotonic_us.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_moves_only_when_told() {
        let clock = ManualClock::at(1_000);
        assert_eq!((clock.unix_ms(), clock.monotonic()), (1_000, Duration::ZERO));
        clock.advance(Duration::from_millis(1_500));
        assert_eq!((clock.unix_ms(), clock.monotonic()), (2_500, Duration::from_millis(1_500)));
    }
}
