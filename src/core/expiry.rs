//! Expiry for keys written where the store cannot expire them: `wasi:keyvalue` has no expiry,
//! so the edge component writes, beside each key it gives a lifetime, a *companion* key
//! (`xp:` and the key) holding when the key expires, and native Doorman's sweeper deletes
//! both once that moment has passed ([`crate::app::sweep`]).
//!
//! The rules that keep a companion from deleting what it does not describe:
//! - the edge writes a key's companion before the key (a value with a lifetime), or right after
//!   creating it (a counter or a claim, whose first writer alone gives it a lifetime); it removes
//!   the companion before it writes the key without a lifetime, and with the key;
//! - native Doorman's Redis adapter removes a key's companion whenever it sets or deletes the key
//!   (Redis expires what native Doorman writes);
//! - the sweeper deletes the key, then the companion. A companion whose key is gone is deleted
//!   too (it describes nothing).
//!
//! A companion shares its key's Redis Cluster hash slot when the key has a hash tag (its first
//! `{…}` is the key's).

/// Prefix of every companion key.
pub const PREFIX: &str = "xp:";

/// Whether the edge may write `key`, so that a companion of it may exist: everything but the
/// blacklist's entries, its identity index and companions themselves, which only native
/// Doorman writes (its Redis adapter then skips looking for companions).
pub fn edge_may_write(key: &str) -> bool {
    use crate::core::blacklist::{index::INDEX_PREFIX, ENTRY_PREFIX};
    ![ENTRY_PREFIX, INDEX_PREFIX, PREFIX].iter().any(|p| key.starts_with(p))
}

/// The companion of `key`.
pub fn companion(key: &str) -> String {
    format!("{PREFIX}{key}")
}

/// The key a companion describes, if `companion` is one.
pub fn described(companion: &str) -> Option<&str> {
    companion.strip_prefix(PREFIX).filter(|k| !k.is_empty())
}

/// A companion's value: the key's expiry in Unix milliseconds, as decimal text.
pub fn encode(expires_at_ms: u64) -> Vec<u8> {
    expires_at_ms.to_string().into_bytes()
}

/// A companion's expiry, when its value is one.
pub fn decode(value: &[u8]) -> Option<u64> {
    std::str::from_utf8(value).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companions_name_their_key_and_its_expiry() {
        assert_eq!(companion("wl:{gala}:s:abc"), "xp:wl:{gala}:s:abc");
        assert_eq!(described("xp:wl:{gala}:s:abc"), Some("wl:{gala}:s:abc"));
        assert_eq!((described("xp:"), described("wl:x")), (None, None));
        assert_eq!(decode(&encode(1_800_000_000_123)), Some(1_800_000_000_123));
        assert_eq!((decode(b"soon"), decode(b"-1"), decode(b"")), (None, None, None));
        assert!(edge_may_write("wl:{gala}:s:abc") && edge_may_write("tm:POST /x"));
        assert!(!edge_may_write("bl:{a:eve}:*") && !edge_may_write("bx:0a1") && !edge_may_write("xp:rl:a"));
    }
}
