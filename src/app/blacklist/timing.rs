//! Timing cover for blocked checkouts: a blocked customer's answer should take as long as a
//! forwarded checkout's would.
//!
//! Each checkout route keeps the last [`SAMPLES`] durations of forwarded checkouts that the
//! backend completed (2xx or 3xx), measured from the moment the whole body had arrived to the
//! backend's response head, so a client's slow upload cannot shift them. A blocked checkout is
//! answered once a duration drawn at random from those samples has passed since its body
//! arrived (the host's [`crate::ports::tasks::Tasks::sleep`] is precise below a millisecond).
//! Before the first sample, the route uses the samples saved by an earlier run (see
//! [`RouteTiming::saved`]) or the policy's `blocked_delay`.

use std::sync::Mutex;
use std::time::Duration;

use crate::ports::random::Random;

/// Samples kept per route.
pub const SAMPLES: usize = 64;
/// Forwarded checkouts between two saves of a route's samples.
pub const SAVE_EVERY: u32 = 16;
/// How long saved samples are kept.
pub const SAVED_FOR: Duration = Duration::from_secs(30 * 86_400);

/// Recent forwarded-checkout durations of one route.
#[derive(Default)]
pub struct RouteTiming {
    ring: Mutex<Ring>,
}

#[derive(Default)]
struct Ring {
    samples: Vec<Duration>,
    next: usize,
    since_save: u32,
}

impl RouteTiming {
    /// Records a forwarded checkout's duration; answers the samples to save when it is time.
    pub fn record(&self, d: Duration) -> Option<Vec<u8>> {
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        ring.push(d);
        ring.since_save += 1;
        if ring.since_save >= SAVE_EVERY || ring.samples.len() == 1 {
            ring.since_save = 0;
            return Some(encode(&ring.samples));
        }
        None
    }

    /// Takes samples saved by an earlier run, unless this run has its own already.
    pub fn restore(&self, saved: &[u8]) {
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if ring.samples.is_empty() {
            decode(saved).into_iter().for_each(|d| ring.push(d));
        }
    }

    /// The samples in their saved form.
    pub fn snapshot(&self) -> Vec<u8> {
        encode(&self.ring.lock().unwrap_or_else(|p| p.into_inner()).samples)
    }

    /// Whether the route has no samples yet.
    #[cfg(test)]
    pub fn is_cold(&self) -> bool {
        self.ring.lock().unwrap_or_else(|p| p.into_inner()).samples.is_empty()
    }

    /// How long a blocked checkout should take in all: a random recent sample, or `fallback`
    /// (also when no draw can be made: the cover is no secret, and the newest sample would
    /// repeat itself).
    pub fn cover(&self, fallback: Duration, random: &dyn Random) -> Duration {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if ring.samples.is_empty() {
            return fallback;
        }
        match random.next_u64() {
            Ok(draw) => ring.samples[(draw % ring.samples.len() as u64) as usize],
            Err(_) => fallback,
        }
    }

    /// The store key under which a route's samples are saved.
    pub fn saved(route: &str) -> String {
        // Braces would make a Redis Cluster hash tag of the capture name.
        format!("tm:{}", route.replace(['{', '}'], "_"))
    }
}

impl Ring {
    fn push(&mut self, d: Duration) {
        if self.samples.len() < SAMPLES {
            self.samples.push(d);
        } else {
            let i = self.next;
            self.samples[i] = d;
        }
        self.next = (self.next + 1) % SAMPLES;
    }
}

/// Samples as text: microseconds, comma-separated.
fn encode(samples: &[Duration]) -> Vec<u8> {
    let text: Vec<String> = samples.iter().map(|d| d.as_micros().to_string()).collect();
    text.join(",").into_bytes()
}

/// The samples in `saved`, at most [`SAMPLES`], each at most a minute; garbage is skipped.
fn decode(saved: &[u8]) -> Vec<Duration> {
    String::from_utf8_lossy(saved)
        .split(',')
        .filter_map(|s| s.trim().parse::<u64>().ok())
        .filter(|&us| us <= 60_000_000)
        .take(SAMPLES)
        .map(Duration::from_micros)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::random::SystemRandom;

    #[test]
    fn covers_come_from_recent_samples() {
        let t = RouteTiming::default();
        assert_eq!(t.cover(Duration::from_millis(7), &SystemRandom), Duration::from_millis(7));
        for ms in 100..(100 + 2 * SAMPLES as u64) {
            t.record(Duration::from_millis(ms));
        }
        for _ in 0..200 {
            let c = t.cover(Duration::ZERO, &SystemRandom);
            assert!(c >= Duration::from_millis(100 + SAMPLES as u64), "old samples are forgotten: {c:?}");
        }
    }

    #[test]
    fn samples_survive_a_restart_through_their_saved_form() {
        let t = RouteTiming::default();
        let first = t.record(Duration::from_micros(480)).expect("the first sample is saved at once");
        let mut saved = first;
        for _ in 1..SAVE_EVERY {
            if let Some(s) = t.record(Duration::from_micros(520)) {
                saved = s;
            }
        }
        let restarted = RouteTiming::default();
        assert!(restarted.is_cold());
        restarted.restore(&saved);
        let c = restarted.cover(Duration::from_secs(9), &SystemRandom);
        assert!(c == Duration::from_micros(480) || c == Duration::from_micros(520), "{c:?}");
        restarted.restore(b"1,2,3");
        assert!(
            restarted.cover(Duration::ZERO, &SystemRandom) >= Duration::from_micros(480),
            "own samples win"
        );
        let garbage = RouteTiming::default();
        garbage.restore(b"x,,-1,99999999999,7");
        assert_eq!(garbage.cover(Duration::ZERO, &SystemRandom), Duration::from_micros(7));
        assert_eq!(RouteTiming::saved("POST /e/{event}/checkout"), "tm:POST /e/_event_/checkout");
    }
}
