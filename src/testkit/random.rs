//! Randomness for tests: reproducible, or failing.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::ports::random::{Random, RandomUnavailable};

/// A reproducible sequence of draws (splitmix64 from a seed): the same seed, the same bytes.
/// Not for anything secret.
#[derive(Debug)]
pub struct SeededRandom {
    state: AtomicU64,
}

impl SeededRandom {
    /// Draws that start from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: AtomicU64::new(seed) }
    }

    fn next(&self) -> u64 {
        let mut z =
            self.state.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::SeqCst).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl Random for SeededRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomUnavailable> {
        for chunk in buf.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// Randomness that always fails: what every token, id and nonce must survive without becoming
/// predictable.
#[derive(Debug, Clone, Copy, Default)]
pub struct FailingRandom;

impl Random for FailingRandom {
    fn fill(&self, _: &mut [u8]) -> Result<(), RandomUnavailable> {
        Err(RandomUnavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_draws_and_failures_give_none() {
        let (a, b) = (SeededRandom::new(7), SeededRandom::new(7));
        let (mut x, mut y) = ([0u8; 13], [0u8; 13]);
        a.fill(&mut x).unwrap();
        b.fill(&mut y).unwrap();
        assert_eq!(x, y);
        assert_ne!(x, [0u8; 13]);
        assert_ne!(a.next_u64().unwrap(), SeededRandom::new(8).next_u64().unwrap());
        assert_eq!(FailingRandom.next_u64(), Err(RandomUnavailable));
    }
}
