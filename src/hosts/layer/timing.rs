//! Timing cover for blocked checkouts: a blocked customer's answer should not arrive measurably
//! sooner than a forwarded checkout's would.
//!
//! Each checkout route keeps the last [`SAMPLES`] durations of forwarded checkouts (from the
//! start of the checkout to the backend's response head). A blocked checkout is answered once a
//! duration drawn at random from those samples has passed since it started (or the policy's
//! `blocked_delay` while there are no samples yet).

use std::sync::Mutex;
use std::time::Duration;

/// Samples kept per route.
pub const SAMPLES: usize = 64;

/// Recent forwarded-checkout durations of one route.
#[derive(Default)]
pub struct RouteTiming {
    ring: Mutex<Ring>,
}

#[derive(Default)]
struct Ring {
    samples: Vec<Duration>,
    next: usize,
}

impl RouteTiming {
    /// Records a forwarded checkout's duration.
    pub fn record(&self, d: Duration) {
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if ring.samples.len() < SAMPLES {
            ring.samples.push(d);
        } else {
            let i = ring.next;
            ring.samples[i] = d;
        }
        ring.next = (ring.next + 1) % SAMPLES;
    }

    /// How long a blocked checkout should take in all: a random recent sample, or `fallback`.
    pub fn cover(&self, fallback: Duration) -> Duration {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if ring.samples.is_empty() {
            return fallback;
        }
        let mut r = [0u8; 8];
        let _ = getrandom::fill(&mut r);
        ring.samples[(u64::from_le_bytes(r) % ring.samples.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_come_from_recent_samples() {
        let t = RouteTiming::default();
        assert_eq!(t.cover(Duration::from_millis(7)), Duration::from_millis(7));
        for ms in 100..(100 + 2 * SAMPLES as u64) {
            t.record(Duration::from_millis(ms));
        }
        for _ in 0..200 {
            let c = t.cover(Duration::ZERO);
            assert!(c >= Duration::from_millis(100 + SAMPLES as u64), "old samples are forgotten: {c:?}");
        }
    }
}
