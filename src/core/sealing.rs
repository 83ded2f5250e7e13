//! Personal data sealed at rest: the data keys, and the sealed form of a stored record.
//!
//! A record that holds personal data (a signup, staff's note on it, a message's recipient, an
//! outbox message) is stored sealed with XChaCha20-Poly1305 under the current data key, bound to
//! the store key it is written under (a sealed record moved to another key does not open):
//!
//! ```text
//! MAGIC (4 bytes) | key id (4) | nonce (24) | ciphertext and tag
//! ```
//!
//! Keys come as text: one or more keys of at least [`MIN_KEY_LEN`] characters, separated by
//! white space (a file of one key per line, or one environment variable). The first seals; every
//! key opens, so a key is rotated by putting the new one first and keeping the old one after it
//! until no record is sealed with it any more. A key's id is derived from the key itself, so a
//! sealed record names the key it needs without naming anything secret. Records written before
//! sealing existed (plain JSON) still read; they are sealed when next written or re-sealed.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What every sealed value starts with (a NUL, which no JSON record starts with).
pub const MAGIC: &[u8; 4] = b"\0pd1";
/// Bytes of a nonce.
pub const NONCE_LEN: usize = 24;
/// Shortest key accepted, in characters.
pub const MIN_KEY_LEN: usize = 32;
/// Most keys one deployment holds at once (the current one and older ones being rotated out).
pub const MAX_KEYS: usize = 8;
const HEADER_LEN: usize = MAGIC.len() + 4 + NONCE_LEN;

/// A data key's id: four bytes derived from the key, shown as 8 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 4]);

impl KeyId {
    /// The id as 8 lowercase hex digits.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The id written as [`KeyId::hex`] writes it.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut id = [0u8; 4];
        base16ct::lower::decode(text.as_bytes(), &mut id).ok().filter(|d| d.len() == 4)?;
        Some(Self(id))
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

/// Why data keys were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No key at all.
    #[error("no data key: give at least one key of {MIN_KEY_LEN} or more characters")]
    Missing,
    /// A key too short to be a key.
    #[error("data key {position} has {len} characters; keys have at least {MIN_KEY_LEN}")]
    TooShort {
        /// Its position (from 1).
        position: usize,
        /// Its length.
        len: usize,
    },
    /// The same key twice.
    #[error("data key {position} repeats an earlier key")]
    Repeated {
        /// Its position (from 1).
        position: usize,
    },
    /// More keys than a rotation needs.
    #[error("{0} data keys; at most {MAX_KEYS} are read")]
    TooMany(usize),
}

/// Why a sealed value did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Sealed with a key that is not among the data keys.
    #[error("sealed with data key {0}, which is not among the data keys")]
    UnknownKey(KeyId),
    /// The key is known, but the value was altered, cut short, or moved from another store key.
    #[error("a sealed value that does not open: altered, cut short, or moved from another key")]
    Damaged,
}

struct DataKey {
    id: KeyId,
    cipher: XChaCha20Poly1305,
}

/// The data keys: the first seals, every one opens.
pub struct DataKeys {
    keys: Vec<DataKey>,
}

impl std::fmt::Debug for DataKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeys").field("ids", &self.ids()).finish()
    }
}

impl DataKeys {
    /// The keys in `text` (separated by white space; the first seals).
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let texts: Vec<&str> = text.split_ascii_whitespace().collect();
        if texts.is_empty() {
            return Err(KeyError::Missing);
        }
        if texts.len() > MAX_KEYS {
            return Err(KeyError::TooMany(texts.len()));
        }
        let mut keys: Vec<DataKey> = Vec::with_capacity(texts.len());
        for (i, key) in texts.iter().enumerate() {
            let position = i + 1;
            let len = key.chars().count();
            if len < MIN_KEY_LEN {
                return Err(KeyError::TooShort { position, len });
            }
            let key = DataKey::derive(key.as_bytes());
            if keys.iter().any(|k| k.id == key.id) {
                return Err(KeyError::Repeated { position });
            }
            keys.push(key);
        }
        Ok(Self { keys })
    }

    /// The id of the key that seals.
    pub fn current(&self) -> KeyId {
        self.keys[0].id
    }

    /// Every key's id, the sealing one first.
    pub fn ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(|k| k.id).collect()
    }

    /// `plain` sealed under the current key with `nonce` (random, never used twice), bound to
    /// `store_key`.
    pub fn seal(&self, store_key: &str, plain: &[u8], nonce: [u8; NONCE_LEN]) -> Vec<u8> {
        let key = &self.keys[0];
        let sealed = key
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plain, aad: store_key.as_bytes() })
            .expect("XChaCha20-Poly1305 seals any record Doorman writes");
        let mut value = Vec::with_capacity(HEADER_LEN + sealed.len());
        value.extend_from_slice(MAGIC);
        value.extend_from_slice(&key.id.0);
        value.extend_from_slice(&nonce);
        value.extend_from_slice(&sealed);
        value
    }

    /// What `value`, stored under `store_key`, holds: opened if sealed, as it is if not (a record
    /// written before sealing existed).
    pub fn open<'v>(
        &self,
        store_key: &str,
        value: &'v [u8],
    ) -> Result<std::borrow::Cow<'v, [u8]>, OpenError> {
        let Some(id) = sealed_with(value) else { return Ok(std::borrow::Cow::Borrowed(value)) };
        let key = self.keys.iter().find(|k| k.id == id).ok_or(OpenError::UnknownKey(id))?;
        if value.len() < HEADER_LEN {
            return Err(OpenError::Damaged);
        }
        let nonce: [u8; NONCE_LEN] = value[8..HEADER_LEN].try_into().expect("24 bytes");
        key.cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: &value[HEADER_LEN..], aad: store_key.as_bytes() })
            .map(std::borrow::Cow::Owned)
            .map_err(|_| OpenError::Damaged)
    }
}

impl DataKey {
    fn derive(text: &[u8]) -> Self {
        let derived = |label: &[u8]| {
            let mut mac = Hmac::<Sha256>::new_from_slice(text).expect("HMAC takes any key length");
            mac.update(label);
            mac.finalize().into_bytes()
        };
        let id = derived(b"doorman data key id\0");
        let cipher_key = derived(b"doorman personal data v1\0");
        let cipher = XChaCha20Poly1305::new_from_slice(&cipher_key).expect("32 bytes");
        Self { id: KeyId([id[0], id[1], id[2], id[3]]), cipher }
    }
}

/// The key `value` is sealed with; `None` when it is not sealed.
pub fn sealed_with(value: &[u8]) -> Option<KeyId> {
    let rest = value.strip_prefix(MAGIC)?;
    Some(KeyId(rest.get(..4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "an-old-key-of-at-least-32-characters-aaaa";
    const B: &str = "the-new-key-of-at-least-32-characters-bbbb";

    fn nonce(n: u8) -> [u8; NONCE_LEN] {
        [n; NONCE_LEN]
    }

    #[test]
    fn a_sealed_record_hides_its_text_and_opens_only_under_its_own_store_key() {
        let keys = DataKeys::parse(A).unwrap();
        let plain = br#"{"email":"ada@example.com","name":"Ada Lovelace"}"#;
        let sealed = keys.seal("wl:{gala}:s:1", plain, nonce(1));
        assert!(sealed.starts_with(MAGIC) && sealed.len() == plain.len() + 48);
        assert!(!sealed.windows(3).any(|w| w == b"ada" || w == b"Ada"), "no readable text");
        assert_eq!(keys.open("wl:{gala}:s:1", &sealed).unwrap().as_ref(), plain);
        assert_eq!(keys.open("wl:{gala}:s:2", &sealed), Err(OpenError::Damaged), "moved to another key");
        assert_ne!(sealed, keys.seal("wl:{gala}:s:1", plain, nonce(2)), "a fresh nonce, a fresh value");
    }

    #[test]
    fn altered_or_cut_values_do_not_open_and_plain_records_read_as_they_are() {
        let keys = DataKeys::parse(A).unwrap();
        let sealed = keys.seal("k", b"{\"name\":\"Ada\"}", nonce(3));
        for at in [8, 20, 40, sealed.len() - 1] {
            let mut altered = sealed.clone();
            altered[at] ^= 1;
            assert_eq!(keys.open("k", &altered), Err(OpenError::Damaged), "byte {at} flipped");
        }
        assert_eq!(keys.open("k", &sealed[..40]), Err(OpenError::Damaged));
        assert_eq!(keys.open("k", &sealed[..10]), Err(OpenError::Damaged));
        assert_eq!(keys.open("k", b"{\"legacy\":1}").unwrap().as_ref(), b"{\"legacy\":1}");
        assert_eq!(keys.open("k", b"").unwrap().as_ref(), b"");
        assert_eq!(sealed_with(b"\0pd"), None);
    }

    #[test]
    fn rotation_seals_with_the_first_key_and_opens_with_any() {
        let old = DataKeys::parse(A).unwrap();
        let rotated = DataKeys::parse(&format!("{B}\n{A}\n")).unwrap();
        let by_old = old.seal("k", b"x", nonce(4));
        assert_eq!(rotated.open("k", &by_old).unwrap().as_ref(), b"x", "the old key still opens");
        let by_new = rotated.seal("k", b"y", nonce(5));
        assert_eq!(sealed_with(&by_new), Some(rotated.current()));
        assert_eq!(rotated.ids(), vec![DataKeys::parse(B).unwrap().current(), old.current()]);
        assert_eq!(old.open("k", &by_new), Err(OpenError::UnknownKey(rotated.current())));
        let wrong = DataKeys::parse("a-wrong-key-of-at-least-32-characters-cccc").unwrap();
        assert!(matches!(wrong.open("k", &by_old), Err(OpenError::UnknownKey(_))));
    }

    #[test]
    fn key_text_is_checked() {
        assert_eq!(DataKeys::parse("").unwrap_err(), KeyError::Missing);
        assert_eq!(DataKeys::parse(" \n\t").unwrap_err(), KeyError::Missing);
        assert_eq!(
            DataKeys::parse(&format!("{A} short")).unwrap_err(),
            KeyError::TooShort { position: 2, len: 5 }
        );
        assert_eq!(DataKeys::parse(&format!("{A}\r\n{A}")).unwrap_err(), KeyError::Repeated { position: 2 });
        let many = [A; 9].iter().enumerate().map(|(i, k)| format!("{k}{i}")).collect::<Vec<_>>().join(" ");
        assert_eq!(DataKeys::parse(&many).unwrap_err(), KeyError::TooMany(9));
        assert_eq!(
            DataKeys::parse(&format!("  {A}\n")).unwrap().current(),
            DataKeys::parse(A).unwrap().current()
        );
        let id = DataKeys::parse(A).unwrap().current();
        assert_eq!(KeyId::from_hex(&id.hex()), Some(id));
        assert_eq!((KeyId::from_hex("xyz"), KeyId::from_hex("0011223344")), (None, None));
        assert!(!format!("{:?}", DataKeys::parse(A).unwrap()).contains("an-old"), "Debug shows ids only");
    }
}
