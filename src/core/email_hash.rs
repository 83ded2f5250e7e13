//! Keyed hashes of canonical e-mail addresses: what the blacklist stores instead of addresses.
//!
//! The default is HMAC-SHA256 with a secret key, so a leaked blacklist cannot be reversed by
//! hashing a list of known addresses. Plain SHA-256 is available for backends that must compute
//! the same hashes without sharing a key; it is weaker, and documented as such.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Shortest HMAC key accepted, in bytes.
pub const MIN_KEY_LEN: usize = 32;

/// How addresses are hashed.
#[derive(Clone)]
pub enum EmailHasher {
    /// HMAC-SHA256 with a secret key (default).
    Hmac(Hmac<Sha256>),
    /// Plain SHA-256 of the canonical address.
    PlainSha256,
}

impl std::fmt::Debug for EmailHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Hmac(_) => "EmailHasher::Hmac(..)",
            Self::PlainSha256 => "EmailHasher::PlainSha256",
        })
    }
}

/// Why a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the e-mail hash key must be at least {MIN_KEY_LEN} bytes")]
pub struct WeakKey;

impl EmailHasher {
    /// An HMAC-SHA256 hasher; `key` must be at least [`MIN_KEY_LEN`] bytes.
    pub fn hmac(key: &[u8]) -> Result<Self, WeakKey> {
        if key.len() < MIN_KEY_LEN {
            return Err(WeakKey);
        }
        Ok(Self::Hmac(Hmac::new_from_slice(key).map_err(|_| WeakKey)?))
    }

    /// The hash of a canonical address, as 64 lowercase hex digits.
    pub fn hash_hex(&self, canonical: &str) -> String {
        let digest: [u8; 32] = match self {
            Self::Hmac(mac) => {
                let mut mac = mac.clone();
                mac.update(canonical.as_bytes());
                mac.finalize().into_bytes().into()
            }
            Self::PlainSha256 => Sha256::digest(canonical.as_bytes()).into(),
        };
        base16ct::lower::encode_string(&digest)
    }

    /// The hash of an account id, as 64 lowercase hex digits: the same keyed hash over
    /// `account`, a NUL and the id, so no account id hashes like an address (canonical addresses
    /// hold no control characters).
    pub fn account_hex(&self, account: &str) -> String {
        self.hash_hex(&format!("account\0{account}"))
    }
}

/// Whether `s` looks like a hash this module produces (64 lowercase hex digits).
pub fn is_hash_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_sha256_matches_the_published_vector() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            EmailHasher::PlainSha256.hash_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hmac_matches_rfc_4231_and_depends_on_the_key() {
        // RFC 4231, test case 6: a 131-byte key of 0xaa.
        let rfc = EmailHasher::hmac(&[0xaa; 131]).unwrap();
        assert_eq!(
            rfc.hash_hex("Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        let a = EmailHasher::hmac(&[7u8; 32]).unwrap();
        let b = EmailHasher::hmac(&[8u8; 32]).unwrap();
        let h = a.hash_hex("ada@example.com");
        assert!(is_hash_hex(&h));
        assert_eq!(h, a.hash_hex("ada@example.com"), "stable");
        assert_ne!(h, b.hash_hex("ada@example.com"), "another key, another hash");
        assert_ne!(h, EmailHasher::PlainSha256.hash_hex("ada@example.com"));
        assert_eq!(EmailHasher::hmac(&[1u8; 31]).unwrap_err(), WeakKey);
    }
}
