//! The records that hold personal data, sealed and opened with the data keys
//! ([`crate::core::sealing`]): signups, staff's notes on them, the message history's records and
//! the outbox's messages. Every other record (counters, claims, offers, settings, the audit log)
//! holds none and is stored as it is.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::core::sealing::{DataKeys, KeyId, NONCE_LEN};
use crate::ports::random::Random;
use crate::ports::store::{Store, StoreError};

/// The data keys as the tier uses them. Without keys it seals nothing: writing a record with
/// personal data fails (the waitlist answers 503), so nothing is ever stored in clear.
#[derive(Debug, Clone, Default)]
pub struct Vault {
    keys: Option<Arc<DataKeys>>,
}

impl Vault {
    /// A vault sealing with `keys`.
    pub fn new(keys: DataKeys) -> Self {
        Self { keys: Some(Arc::new(keys)) }
    }

    /// The id of the key that seals, if there are keys.
    pub fn current(&self) -> Option<KeyId> {
        self.keys.as_ref().map(|k| k.current())
    }

    /// Every key's id, the sealing one first.
    pub fn ids(&self) -> Vec<KeyId> {
        self.keys.as_ref().map(|k| k.ids()).unwrap_or_default()
    }

    /// `plain`, to be stored under `store_key`, sealed with a fresh nonce from `random`.
    pub fn seal(&self, random: &dyn Random, store_key: &str, plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        let keys = self.keys.as_ref().ok_or_else(|| {
            StoreError::Failed(
                "no data key: personal data is never stored in clear (set DOORMAN_DATA_KEY)".into(),
            )
        })?;
        let mut nonce = [0u8; NONCE_LEN];
        random.fill(&mut nonce).map_err(|e| StoreError::Failed(format!("sealing {store_key}: {e}")))?;
        Ok(keys.seal(store_key, plain, nonce))
    }

    /// `value` as JSON, sealed for `store_key`.
    pub fn seal_json<T: Serialize>(
        &self,
        random: &dyn Random,
        store_key: &str,
        value: &T,
    ) -> Result<Vec<u8>, StoreError> {
        let json = serde_json::to_vec(value).map_err(|e| StoreError::Failed(format!("encoding: {e}")))?;
        self.seal(random, store_key, &json)
    }

    /// What `value`, read from `store_key`, holds (as it is if it was stored before sealing
    /// existed). A value that does not open is an error: a wrong key, or a damaged record.
    pub fn open(&self, store_key: &str, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        match &self.keys {
            Some(keys) => keys
                .open(store_key, value)
                .map(|v| v.into_owned())
                .map_err(|e| StoreError::Failed(format!("{store_key}: {e}"))),
            None => match crate::core::sealing::sealed_with(value) {
                Some(id) => Err(StoreError::Failed(format!(
                    "{store_key}: sealed with data key {id}, and no data key is set"
                ))),
                None => Ok(value.to_vec()),
            },
        }
    }

    /// The record under `store_key` read from `raw`: `None` when there is none or it is not the
    /// record asked for (malformed JSON, as an unsealed record may be); an error when it does
    /// not open.
    pub fn open_json<T: DeserializeOwned>(
        &self,
        store_key: &str,
        raw: Option<Vec<u8>>,
    ) -> Result<Option<T>, StoreError> {
        let Some(raw) = raw else { return Ok(None) };
        let plain = self.open(store_key, &raw)?;
        Ok(serde_json::from_slice(&plain).ok())
    }
}

/// The store key listing every data key that has sealed records in the store (8 hex digits
/// each, added by [`register`]).
pub const REGISTERED_KEYS: &str = "meta:data-keys";

/// Why a node must not start with its data keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeysProblem {
    /// The waitlist has no data keys.
    #[error("no data key: the waitlist seals names, addresses and phone numbers and needs one")]
    Missing,
    /// The store holds records sealed with keys this node does not have.
    #[error(
        "the store holds personal data sealed with data key {}, which this node's data keys ({}) do \
         not include: a wrong key, or an old key dropped before `doorman data reseal` finished. Nothing \
         was written. Put the missing key back after the current one",
        .missing.iter().map(KeyId::hex).collect::<Vec<_>>().join(", "),
        .ours.iter().map(KeyId::hex).collect::<Vec<_>>().join(", ")
    )]
    Unknown {
        /// The keys the store needs that this node lacks.
        missing: Vec<KeyId>,
        /// This node's keys.
        ours: Vec<KeyId>,
    },
}

/// The data keys the store says have sealed records.
pub async fn registered(store: &impl Store) -> Result<Vec<KeyId>, StoreError> {
    let value = store.get(REGISTERED_KEYS).await?.unwrap_or_default();
    Ok(value.chunks_exact(8).filter_map(|m| KeyId::from_hex(std::str::from_utf8(m).ok()?)).collect())
}

/// Checks, before a node seals anything, that its keys open everything the store holds, then
/// registers its sealing key: a node started with a wrong key refuses to start rather than mix
/// records sealed with two unrelated keys.
pub async fn check_and_register(
    store: &impl Store,
    vault: &Vault,
) -> Result<Result<(), KeysProblem>, StoreError> {
    let Some(current) = vault.current() else { return Ok(Err(KeysProblem::Missing)) };
    let ours = vault.ids();
    let missing: Vec<KeyId> = registered(store).await?.into_iter().filter(|k| !ours.contains(k)).collect();
    if !missing.is_empty() {
        return Ok(Err(KeysProblem::Unknown { missing, ours }));
    }
    store.add_members(&[(REGISTERED_KEYS.to_owned(), current.hex().into_bytes())]).await?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{FailingRandom, SeededRandom};

    const KEY: &str = "a-data-key-of-at-least-32-characters-0001";

    #[test]
    fn records_round_trip_and_without_keys_nothing_is_sealed_and_sealed_records_do_not_read() {
        let vault = Vault::new(DataKeys::parse(KEY).unwrap());
        let random = SeededRandom::new(1);
        let sealed = vault.seal_json(&random, "wl:{gala}:s:x", &serde_json::json!({"name": "Ada"})).unwrap();
        let back: Option<serde_json::Value> = vault.open_json("wl:{gala}:s:x", Some(sealed.clone())).unwrap();
        assert_eq!(back.unwrap()["name"], "Ada");
        assert!(vault.open_json::<serde_json::Value>("wl:{gala}:s:y", Some(sealed.clone())).is_err());
        assert_eq!(vault.open_json::<serde_json::Value>("k", None).unwrap(), None);
        assert_eq!(vault.open_json::<serde_json::Value>("k", Some(b"not json".to_vec())).unwrap(), None);
        assert!(vault.seal(&FailingRandom, "k", b"x").is_err(), "no nonce, no write");

        let none = Vault::default();
        let refused = none.seal(&random, "k", b"{}").unwrap_err();
        assert!(refused.to_string().contains("DOORMAN_DATA_KEY"), "{refused}");
        assert!(none.open("wl:{gala}:s:x", &sealed).is_err());
        assert_eq!(none.open("k", b"{}").unwrap(), b"{}");
        assert_eq!((none.current(), none.ids()), (None, vec![]));
    }

    #[test]
    fn a_node_starts_only_with_keys_that_open_what_the_store_holds() {
        use crate::testkit::{block_on, MemoryStore};
        let store = MemoryStore::default();
        let old = Vault::new(DataKeys::parse(KEY).unwrap());
        assert_eq!(
            block_on(check_and_register(&store, &old)).unwrap(),
            Ok(()),
            "a fresh store takes any key"
        );
        assert_eq!(block_on(check_and_register(&store, &old)).unwrap(), Ok(()), "and again");
        assert_eq!(block_on(registered(&store)).unwrap(), vec![old.current().unwrap()]);

        let other = "another-data-key-of-at-least-32-characters";
        let wrong = Vault::new(DataKeys::parse(other).unwrap());
        let refused = block_on(check_and_register(&store, &wrong)).unwrap().unwrap_err();
        assert!(refused.to_string().contains(&old.current().unwrap().hex()), "{refused}");
        assert_eq!(block_on(registered(&store)).unwrap().len(), 1, "a refused key is not registered");

        let rotated = Vault::new(DataKeys::parse(&format!("{other} {KEY}")).unwrap());
        assert_eq!(
            block_on(check_and_register(&store, &rotated)).unwrap(),
            Ok(()),
            "the old key kept after the new"
        );
        assert_eq!(
            block_on(registered(&store)).unwrap(),
            vec![old.current().unwrap(), rotated.current().unwrap()]
        );
        assert!(
            block_on(check_and_register(&store, &wrong)).unwrap().is_err(),
            "the old key's records remain"
        );
        assert_eq!(
            block_on(check_and_register(&store, &Vault::default())).unwrap(),
            Err(KeysProblem::Missing)
        );
    }
}
