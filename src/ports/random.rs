//! The randomness port: secrets (organizer and box-office tokens), ids (waitlist signups),
//! nonces (CSRF) and draws (the timing cover).
//!
//! A draw that cannot be made is an error, never zeros: a token made of a failed draw would be
//! guessable. Callers that make something secret or unique fail with it (the admin API and the
//! waitlist answer 503 and store nothing); only the timing cover, which is not secret, falls back.

/// The system's randomness failed (`getrandom`; on `wasm32-wasip2`, `wasi:random`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system's randomness failed")]
pub struct RandomUnavailable;

/// Where random bytes come from. Hosts use [`SystemRandom`]; tests may fix the draws or fail them.
pub trait Random: Send + Sync + 'static {
    /// Fills `buf` with random bytes, or fails without a usable value.
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomUnavailable>;

    /// A random `u64`.
    fn next_u64(&self) -> Result<u64, RandomUnavailable> {
        let mut b = [0u8; 8];
        self.fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
}

/// The operating system's randomness (`getrandom`; on `wasm32-wasip2`, `wasi:random`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRandom;

impl Random for SystemRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomUnavailable> {
        getrandom::fill(buf).map_err(|_| RandomUnavailable)
    }
}

/// Lowercase hex of `len` random bytes (tokens).
pub fn random_hex(random: &dyn Random, len: usize) -> Result<String, RandomUnavailable> {
    let mut bytes = vec![0u8; len];
    random.fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
