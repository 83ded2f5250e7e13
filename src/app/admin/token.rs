//! The operator's bearer token for the admin API, checked in constant time.
//!
//! Tokens are compared as SHA-256 digests with `subtle`, so neither content nor length leaks
//! through timing.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Shortest token accepted at start-up.
pub const MIN_TOKEN_LEN: usize = 16;

/// A configured bearer token (only its digest is kept).
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

/// Why a token cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Too short to resist guessing.
    #[error("the admin token must be at least {MIN_TOKEN_LEN} characters")]
    TooShort,
    /// Holds whitespace or control characters, which cannot travel in an Authorization header.
    #[error("the admin token must be visible ASCII without spaces")]
    BadCharacters,
}

impl AdminToken {
    /// Accepts `token` (surrounding whitespace, such as a file's final newline, is ignored).
    pub fn new(token: &str) -> Result<Self, TokenError> {
        let token = token.trim();
        if token.len() < MIN_TOKEN_LEN {
            return Err(TokenError::TooShort);
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(TokenError::BadCharacters);
        }
        Ok(Self { digest: Sha256::digest(token.as_bytes()).into() })
    }

    /// Whether an `Authorization` header value is `Bearer <this token>`.
    pub fn matches_header(&self, authorization: Option<&[u8]>) -> bool {
        authorization.and_then(strip_bearer).is_some_and(|given| self.matches(given))
    }

    /// Whether `given` is this token.
    pub fn matches(&self, given: &[u8]) -> bool {
        let digest: [u8; 32] = Sha256::digest(given).into();
        digest.ct_eq(&self.digest).into()
    }
}

/// The credentials of a `Bearer` `Authorization` value (the scheme in any case).
pub fn strip_bearer(v: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = v.split_at_checked(7)?;
    scheme.eq_ignore_ascii_case(b"bearer ").then_some(rest)
}

/// A random token for the demo: 32 hex digits drawn from `random`.
pub fn random_token(
    random: &dyn crate::ports::random::Random,
) -> Result<String, crate::ports::random::RandomUnavailable> {
    crate::ports::random::random_hex(random, 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_matches() {
        let t = AdminToken::new("correct-horse-battery\n").unwrap();
        assert!(t.matches_header(Some(b"Bearer correct-horse-battery")));
        assert!(t.matches_header(Some(b"bearer correct-horse-battery")));
        assert!(!t.matches_header(Some(b"Bearer correct-horse-batter")));
        assert!(!t.matches_header(Some(b"Basic correct-horse-battery")));
        assert!(!t.matches_header(Some(b"Bearer")));
        assert!(!t.matches_header(None));
    }

    #[test]
    fn weak_tokens_are_refused() {
        assert_eq!(AdminToken::new("short").unwrap_err(), TokenError::TooShort);
        assert_eq!(AdminToken::new("has a space in it!!").unwrap_err(), TokenError::BadCharacters);
        let token = random_token(&crate::ports::random::SystemRandom).unwrap();
        assert!(token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
        assert!(random_token(&crate::testkit::FailingRandom).is_err(), "a failed draw is no token");
    }
}
