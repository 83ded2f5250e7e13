//! The randomness port: nonces for record keys, draws for the timing cover.

/// Where random bytes come from. Hosts use [`SystemRandom`]; tests may fix the draws.
pub trait Random: Send + Sync + 'static {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);

    /// A random `u64`.
    fn next_u64(&self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b)
    }
}

/// The operating system's randomness (`getrandom`; on `wasm32-wasip2`, `wasi:random`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRandom;

impl Random for SystemRandom {
    fn fill(&self, buf: &mut [u8]) {
        // Without randomness the nonce or draw is merely predictable (zeros), never unsafe:
        // nothing secret is made from it.
        let _ = getrandom::fill(buf);
    }
}
