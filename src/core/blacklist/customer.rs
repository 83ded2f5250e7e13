//! One customer, several addresses: the backend attaches the hashes of a customer's addresses
//! to their account, so that an entry by account also turns back guest checkouts (and waitlist
//! signups) with any attached address.
//!
//! Keys: `ca:{e:<hash>}` names the account an address is attached to (an address belongs to at
//! most one account; a checkout's lookup reads it in its first round trip); `cx:{<account>}`
//! lists an account's addresses (32 bytes each, for listing and for detaching them all), and
//! `cl:{<account>}` is the claim that serializes changes to one account's list.

use super::Identity;

/// The key naming the account the address with hash `email_hash` (64 hex digits) is attached to.
pub fn attachment_key(email_hash: &str) -> String {
    format!("ca:{{e:{}}}", compact(email_hash))
}

/// The key listing the addresses attached to `account`.
pub fn addresses_key(account: &Identity) -> String {
    format!("cx:{{{}}}", account_part(account))
}

/// The claim that serializes changes to `account`'s addresses.
pub fn account_lock_key(account: &Identity) -> String {
    format!("cl:{{{}}}", account_part(account))
}

/// How an account is written in an attachment's value: `a:<id>` or `h:<hex>`.
pub fn account_value(account: &Identity) -> String {
    match account {
        Identity::Account(id) => format!("a:{id}"),
        Identity::AccountHash(hex) => format!("h:{hex}"),
        Identity::EmailHash(hex) => format!("e:{hex}"),
    }
}

/// The account an attachment's value names; `None` for anything else.
pub fn parse_account_value(value: &[u8]) -> Option<Identity> {
    let text = std::str::from_utf8(value).ok()?;
    match text.split_at_checked(2)? {
        ("a:", id) if super::is_account_id(id) => Some(Identity::Account(id.to_owned())),
        ("h:", hex) if is_hex_hash(hex) => Some(Identity::AccountHash(hex.to_owned())),
        _ => None,
    }
}

/// An address hash as a member of an account's list: its 32 bytes; `None` for anything but 64
/// hex digits.
pub fn member(email_hash: &str) -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    match base16ct::lower::decode(email_hash, &mut bytes) {
        Ok(decoded) if decoded.len() == 32 => Some(bytes),
        _ => None,
    }
}

/// The address hashes of an account's list (64 hex digits each).
pub fn members(list: &[u8]) -> Vec<String> {
    list.chunks_exact(32).map(base16ct::lower::encode_string).collect()
}

/// Most addresses one account may have attached.
pub const MAX_ADDRESSES: usize = 100;

fn account_part(account: &Identity) -> String {
    match account {
        Identity::Account(id) => format!("a:{id}"),
        Identity::AccountHash(hex) => format!("h:{}", compact(hex)),
        Identity::EmailHash(hex) => format!("e:{}", compact(hex)),
    }
}

fn compact(hex: &str) -> String {
    use base64::Engine;
    member(hex).map_or_else(|| hex.to_owned(), |b| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

fn is_hex_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "1b6554a0f7b3c4d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8";

    #[test]
    fn keys_and_values_read_back() {
        assert_eq!(attachment_key(HASH), "ca:{e:G2VUoPezxNLh8Km4x9bl9KOywdDp-Ke2xdTj8qGwydg}");
        let eve = Identity::Account("eve-42".into());
        assert_eq!(addresses_key(&eve), "cx:{a:eve-42}");
        assert_eq!(account_lock_key(&eve), "cl:{a:eve-42}");
        assert_eq!(parse_account_value(account_value(&eve).as_bytes()), Some(eve));
        let hashed = Identity::AccountHash(HASH.into());
        assert_eq!(parse_account_value(account_value(&hashed).as_bytes()), Some(hashed));
        for bad in ["", "a:", "a: padded", "h:abc", "x:eve", "e:"] {
            assert_eq!(parse_account_value(bad.as_bytes()), None, "{bad}");
        }
        let list: Vec<u8> = [member(HASH).unwrap(), [7u8; 32]].concat();
        assert_eq!(members(&list)[0], HASH);
        assert_eq!(members(&list).len(), 2);
        assert_eq!(member("ABC"), None);
    }
}
