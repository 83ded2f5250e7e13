//! Writing and reading the audit log through the store.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::core::blacklist::audit::{audit_key, AuditRecord};
use crate::ports::store::{SetItem, Store, StoreError};

/// How long audit records are kept.
pub const RETENTION: std::time::Duration = std::time::Duration::from_secs(400 * 86_400);

/// Now, in Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Stores `record` (durably, before it returns).
pub async fn write(store: &impl Store, record: &AuditRecord) -> Result<(), StoreError> {
    let mut nonce = [0u8; 8];
    let _ = getrandom::fill(&mut nonce);
    let value = serde_json::to_vec(record).expect("an audit record serializes");
    store.set(&audit_key(record, u64::from_le_bytes(nonce)), &value, Some(RETENTION)).await
}

/// Stores `records` in one batch (one commit or round trip), durably before it returns.
pub async fn write_many(store: &impl Store, records: &[AuditRecord]) -> Result<(), StoreError> {
    let items: Vec<SetItem> = records
        .iter()
        .map(|record| {
            let mut nonce = [0u8; 8];
            let _ = getrandom::fill(&mut nonce);
            SetItem {
                key: audit_key(record, u64::from_le_bytes(nonce)),
                value: serde_json::to_vec(record).expect("an audit record serializes"),
                ttl: Some(RETENTION),
            }
        })
        .collect();
    store.set_many(&items).await
}
