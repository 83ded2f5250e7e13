//! The identity index: which identities have an entry in any scope, kept in a fixed set of
//! store values so that a host without memory between requests (the edge component) answers a
//! clean checkout with one read per identity, and knows from that read that it looks at a store
//! native Doorman set up.
//!
//! Every identity has a *place*: one of [`BUCKETS`] values (key `bx:` and three hex digits) and
//! an 8-byte *member* (the first bytes of the SHA-256 of the identity's platform entry key). A
//! bucket's value is its members side by side. Native Doorman creates every bucket when it sets
//! up a store (`doorman serve`, [`crate::app::blacklist::index::build`]), adds an identity's member
//! before it writes the identity's entry, and ends the build by adding [`READY`] to each
//! bucket. So in a store set up by Doorman a bucket is never missing: a missing one means the
//! host reads a different or empty store, and a bucket without [`READY`] one still being built;
//! both are store failures ([`IndexFault`]), never "not listed".
//!
//! A member means "maybe listed": the full lookup decides (scopes, the event's organizer). A
//! removed entry leaves its member (that identity's checkouts take the full lookup), so the
//! index never says "not listed" for a listed identity.

use sha2::{Digest, Sha256};

use super::{entry_key, Identity, Scope};

/// Number of buckets: about 2,400 members (19 KB) per bucket at ten million entries.
pub const BUCKETS: u16 = 4096;

/// Prefix of every bucket key.
pub const INDEX_PREFIX: &str = "bx:";

/// Width of a member, in bytes.
pub const MEMBER_BYTES: usize = 8;

/// The member that says a bucket holds every identity the store had when the index was built
/// (and the version of this format: a new format gets a new marker and a new build).
pub const READY: [u8; MEMBER_BYTES] = *b"DOORMAN1";

/// The marker saying the index of this store was built (written after [`READY`] went to every
/// bucket).
pub const BUILT_KEY: &str = "meta:blacklist-index";

/// [`BUILT_KEY`]'s value for this format.
pub const BUILT: &[u8] = b"1";

/// Where an identity sits in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The bucket's store key.
    pub key: String,
    /// The identity's member.
    pub member: [u8; MEMBER_BYTES],
}

/// The place of `identity`.
pub fn place(identity: &Identity) -> Place {
    let digest = Sha256::digest(entry_key(identity, &Scope::Platform).as_bytes());
    let mut member = [0u8; MEMBER_BYTES];
    member.copy_from_slice(&digest[..MEMBER_BYTES]);
    let bucket = u16::from_be_bytes([digest[MEMBER_BYTES], digest[MEMBER_BYTES + 1]]) % BUCKETS;
    Place { key: bucket_key(bucket), member }
}

/// The store key of bucket `n` (below [`BUCKETS`]).
pub fn bucket_key(n: u16) -> String {
    format!("{INDEX_PREFIX}{n:03x}")
}

/// Why a bucket cannot answer: the store is not one native Doorman set up, or not yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IndexFault {
    /// No bucket: a different or empty store (for Spin: no runtime config, or a wrong label).
    #[error(
        "the key-value store holds no blacklist index: it is not the store `doorman serve` set up \
         (check the key-value store label and the runtime config's Redis URL and namespace)"
    )]
    Missing,
    /// A bucket without [`READY`]: `doorman serve` is still building the index.
    #[error("the blacklist index is still being built by `doorman serve`")]
    Building,
    /// A value that is not a whole number of members.
    #[error("the blacklist index bucket is damaged (its length is not a multiple of {MEMBER_BYTES})")]
    Damaged,
}

/// What a bucket's stored value says about `member`: whether it may be listed.
pub fn may_be_listed(bucket: Option<&[u8]>, member: &[u8; MEMBER_BYTES]) -> Result<bool, IndexFault> {
    let value = bucket.ok_or(IndexFault::Missing)?;
    if value.len() % MEMBER_BYTES != 0 {
        return Err(IndexFault::Damaged);
    }
    let mut ready = false;
    let mut found = false;
    for m in value.chunks_exact(MEMBER_BYTES) {
        ready |= m == READY;
        found |= m == member;
    }
    if ready {
        Ok(found)
    } else {
        Err(IndexFault::Building)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_spread_over_the_buckets_and_differ_by_kind() {
        let account = place(&Identity::Account("eve".into()));
        let hashed = place(&Identity::AccountHash("eve".into()));
        assert_ne!(account, hashed);
        assert_eq!(account, place(&Identity::Account("eve".into())), "stable");
        assert!(account.key.starts_with(INDEX_PREFIX) && account.key.len() == 6, "{}", account.key);
        let mut used = std::collections::HashSet::new();
        for n in 0..20_000 {
            used.insert(place(&Identity::Account(format!("customer-{n}"))).key);
        }
        assert!(used.len() > 3_900, "4096 buckets, {} used by 20,000 ids", used.len());
        assert_eq!(bucket_key(BUCKETS - 1), "bx:fff");
    }

    #[test]
    fn a_bucket_answers_only_when_it_is_there_and_ready() {
        let eve = place(&Identity::Account("eve".into())).member;
        let other = place(&Identity::Account("ada".into())).member;
        assert_eq!(may_be_listed(None, &eve), Err(IndexFault::Missing));
        assert_eq!(may_be_listed(Some(&eve), &eve), Err(IndexFault::Building));
        assert_eq!(may_be_listed(Some(&[1, 2, 3]), &eve), Err(IndexFault::Damaged));
        let mut value = READY.to_vec();
        assert_eq!(may_be_listed(Some(&value), &eve), Ok(false));
        value.extend_from_slice(&other);
        assert_eq!(may_be_listed(Some(&value), &eve), Ok(false));
        value.extend_from_slice(&eve);
        assert_eq!(may_be_listed(Some(&value), &eve), Ok(true));
        // Only whole members count: eve's bytes across two members do not.
        let mut shifted = READY.to_vec();
        shifted.extend_from_slice(&[0, 0, 0, 0]);
        shifted.extend_from_slice(&eve);
        shifted.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(may_be_listed(Some(&shifted), &eve), Ok(false));
    }
}
