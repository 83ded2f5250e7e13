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

/// What one page of a re-sealing pass did ([`reseal_page`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct Resealed {
    /// Records sealed again with the current key on this page (or sealed for the first time:
    /// records written before sealing existed).
    pub resealed: u64,
    /// Records on this page sealed with the current key already.
    pub current: u64,
    /// Records of the whole pass so far left sealed with another key: sealed with a key that is
    /// not among this node's (or damaged), or changed by a node still sealing with another key
    /// while they were re-sealed. While there are any, no key is retired.
    pub left: u64,
    /// Pass as `cursor` for the next page; null when the pass is done.
    pub next: Option<String>,
    /// On the last page: the keys the store lists no more (they may be dropped from every
    /// node's data keys now).
    pub retired: Vec<String>,
}

/// Stored records one page of a re-sealing pass looks at.
pub const RESEAL_PAGE: usize = 200;

/// The key families a re-sealing pass walks, in order: the waitlist's, then the outbox's.
const FAMILIES: [&str; 2] = ["wl:", "mail:"];

/// Where a pass stands: the family, what was left so far, and the store's own cursor
/// (`{family}.{left}.{cursor}`; `""` starts a pass).
fn parse_cursor(cursor: &str) -> Option<(usize, u64, String)> {
    if cursor.is_empty() {
        return Some((0, 0, String::new()));
    }
    let mut parts = cursor.splitn(3, '.');
    let family = parts.next()?.parse().ok().filter(|f| *f < FAMILIES.len())?;
    let left = parts.next()?.parse().ok()?;
    Some((family, left, parts.next()?.to_owned()))
}

/// Why a re-sealing page was not done.
#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    /// A cursor that no page handed out.
    #[error("not a cursor of a re-sealing pass")]
    BadCursor,
    /// This node has no data keys.
    #[error("no data key: nothing to seal with")]
    NoKey,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One page of a pass that seals every record with personal data again with the current key
/// (after a rotation, so the old key can be dropped). Each record is replaced only if it is
/// unchanged since it was read ([`Store::replace_if`]), so a change made meanwhile is never
/// overwritten. When the pass is done and nothing was left behind, the store lists the current
/// key alone. Run it once every node seals with the new key.
pub async fn reseal_page<S: Store>(
    ports: &crate::app::Ports<S>,
    cursor: &str,
) -> Result<Resealed, ResealError> {
    let (mut family, mut left, store_cursor) = parse_cursor(cursor).ok_or(ResealError::BadCursor)?;
    let current = ports.vault.current().ok_or(ResealError::NoKey)?;
    let page = ports.store.scan_page(FAMILIES[family], &store_cursor, RESEAL_PAGE).await?;
    let mut done = Resealed::default();
    for entry in page.entries {
        let outbox = crate::app::outbox::item_number(&entry.key);
        if outbox.is_none() && !crate::core::waitlist::keys::holds_personal_data(&entry.key) {
            continue;
        }
        match reseal_one(ports, &entry.key, outbox, entry.value, current).await? {
            Some(true) => done.resealed += 1,
            Some(false) => done.current += 1,
            None => left += 1,
        }
    }
    let next_store = page.next;
    let next = match next_store {
        Some(c) => Some((family, c)),
        None if family + 1 < FAMILIES.len() => {
            family += 1;
            Some((family, String::new()))
        }
        None => None,
    };
    done.left = left;
    done.next = next.map(|(f, c)| format!("{f}.{left}.{c}"));
    if done.next.is_none() && left == 0 {
        let before = registered(&ports.store).await?;
        ports.store.set(REGISTERED_KEYS, current.hex().as_bytes(), None).await?;
        done.retired = before.iter().filter(|k| **k != current).map(KeyId::hex).collect();
    }
    Ok(done)
}

/// Seals the record under `key` (message `outbox` of the outbox, if it is one) again with the
/// current key: `Some(true)` when it did, `Some(false)` when it was current already (or is gone
/// or no record), `None` when it stays sealed with another key.
async fn reseal_one<S: Store>(
    ports: &crate::app::Ports<S>,
    key: &str,
    outbox: Option<u64>,
    mut value: Vec<u8>,
    current: KeyId,
) -> Result<Option<bool>, StoreError> {
    use crate::app::outbox::Item;
    // A record changed between the read and the replace is read again: a few tries.
    for _ in 0..3 {
        let sealed_with = if outbox.is_some() {
            Item::sealed_with(&value)
        } else {
            crate::core::sealing::sealed_with(&value)
        };
        if sealed_with == Some(current) {
            return Ok(Some(false));
        }
        let new = match outbox {
            Some(n) => match Item::from_stored(ports, n, Some(value.clone())) {
                Ok(Some(item)) => item.to_stored(ports, n)?,
                Ok(None) => return Ok(Some(false)),
                Err(_) => return Ok(None),
            },
            None => match ports.vault.open(key, &value) {
                Ok(plain) => ports.vault.seal(&*ports.random, key, &plain)?,
                Err(_) => return Ok(None),
            },
        };
        if ports.store.replace_if(key, &value, &new).await? {
            return Ok(Some(true));
        }
        match ports.store.get(key).await? {
            Some(now) => value = now,
            None => return Ok(Some(false)),
        }
    }
    Ok(None)
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

    /// Every page of a pass, from the start; answers the pages' sum and the last page.
    fn whole_pass(ports: &crate::app::Ports<crate::testkit::MemoryStore>) -> (u64, Resealed) {
        let (mut resealed, mut cursor) = (0, String::new());
        loop {
            let page = crate::testkit::block_on(reseal_page(ports, &cursor)).unwrap();
            resealed += page.resealed;
            match page.next.clone() {
                Some(next) => cursor = next,
                None => return (resealed, page),
            }
        }
    }

    #[test]
    fn a_pass_reseals_every_record_with_the_new_key_and_then_retires_the_old_one() {
        use crate::core::sealing::sealed_with;
        use crate::core::waitlist::keys;
        use crate::testkit::{block_on, TestRig};
        let rig = TestRig::default();
        let new_key = "a-new-data-key-of-at-least-32-characters-2";
        let mut old = rig.ports();
        old.vault = Vault::new(DataKeys::parse(KEY).unwrap());
        let mut rotated = rig.ports();
        rotated.vault = Vault::new(DataKeys::parse(&format!("{new_key} {KEY}")).unwrap());
        block_on(check_and_register(&rig.store, &old.vault)).unwrap().unwrap();
        block_on(check_and_register(&rig.store, &rotated.vault)).unwrap().unwrap();

        // Signups sealed with the old key (many: several pages), one stored before sealing, a
        // settled outbox message with its expiry, a counter and an offer that are not sealed.
        let record = serde_json::json!({"email": "ada@example.com", "name": "Ada"});
        for i in 0..450 {
            let key = keys::signup("gala", &format!("s{i:03}"));
            block_on(rig.store.set(&key, &old.seal(&key, &record).unwrap(), None)).unwrap();
        }
        let legacy = keys::annotation("gala", "s000");
        block_on(rig.store.set(&legacy, br#"{"note":"plain"}"#, None)).unwrap();
        let mail = crate::ports::mail::Mail {
            id: "m1".into(),
            from: "w@shop.example".into(),
            to: "ada@example.com".into(),
            message: "Subject: hi\r\n\r\nhi".into(),
        };
        let n = crate::app::outbox::Reserved(1);
        let queued = crate::app::outbox::queue_item(&old, n, mail.clone(), 0).unwrap();
        block_on(rig.store.set(&queued.key, &queued.value, Some(std::time::Duration::from_secs(60))))
            .unwrap();
        block_on(rig.store.set(&keys::line_counter("gala"), b"450", None)).unwrap();

        let (resealed, last) = whole_pass(&rotated);
        assert_eq!((resealed, last.left), (452, 0), "{last:?}");
        assert_eq!(last.retired, vec![old.vault.current().unwrap().hex()]);
        assert_eq!(block_on(registered(&rig.store)).unwrap(), vec![rotated.vault.current().unwrap()]);
        let new_only = Vault::new(DataKeys::parse(new_key).unwrap());
        for i in [0, 449] {
            let key = keys::signup("gala", &format!("s{i:03}"));
            let value = block_on(rig.store.get(&key)).unwrap().unwrap();
            assert_eq!(sealed_with(&value), rotated.vault.current());
            assert_eq!(
                new_only.open_json::<serde_json::Value>(&key, Some(value)).unwrap(),
                Some(record.clone())
            );
        }
        let note = block_on(rig.store.get(&legacy)).unwrap().unwrap();
        assert_eq!(
            new_only.open(&legacy, &note).unwrap(),
            br#"{"note":"plain"}"#,
            "sealed for the first time"
        );
        let mut just_new = rig.ports();
        just_new.vault = new_only;
        let item = block_on(rig.store.get(&queued.key)).unwrap();
        assert_eq!(
            crate::app::outbox::Item::from_stored(&just_new, 1, item).unwrap().unwrap().message,
            mail.into()
        );
        assert_eq!(
            block_on(rig.store.get(&keys::line_counter("gala"))).unwrap().as_deref(),
            Some(&b"450"[..])
        );
        rig.clock.advance(std::time::Duration::from_secs(61));
        assert_eq!(block_on(rig.store.get(&queued.key)).unwrap(), None, "the item's expiry was kept");

        // A second pass finds everything current.
        let (resealed, last) = whole_pass(&rotated);
        assert_eq!((resealed, last.left), (0, 0));
        assert!(last.retired.is_empty());
        assert!(matches!(block_on(reseal_page(&rotated, "9.0.x")), Err(ResealError::BadCursor)));
        assert!(matches!(
            block_on(reseal_page(&crate::app::Ports::new(rig.store.clone(), rig.tasks.clone()), "")),
            Err(ResealError::NoKey)
        ));
    }

    #[test]
    fn a_record_no_key_of_ours_opens_is_left_and_no_key_is_retired() {
        use crate::core::waitlist::keys;
        use crate::testkit::{block_on, TestRig};
        let rig = TestRig::default();
        let mut stranger = rig.ports();
        stranger.vault = Vault::new(DataKeys::parse("a-stranger-key-of-at-least-32-characters").unwrap());
        let key = keys::signup("gala", "x");
        block_on(rig.store.set(
            &key,
            &stranger.seal(&key, &serde_json::json!({"name": "Eve"})).unwrap(),
            None,
        ))
        .unwrap();
        block_on(check_and_register(&rig.store, &rig.ports().vault)).unwrap().unwrap();
        let (resealed, last) = whole_pass(&rig.ports());
        assert_eq!((resealed, last.left), (0, 1));
        assert!(last.retired.is_empty());
        assert_eq!(
            block_on(rig.store.get(&key)).unwrap().map(|v| crate::core::sealing::sealed_with(&v)),
            Some(stranger.vault.current()),
            "left as it was"
        );
    }
}
