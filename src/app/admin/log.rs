//! The audit log of the admin API: every change recorded, and read back per scope.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::{json, Value};

use super::entries::MAX_LIST;
use super::{Admin, AdminError, Principal};
use crate::core::blacklist::audit::{scope_prefix, AuditAction, AuditRecord, AUDIT_PREFIX};
use crate::core::blacklist::Scope;
use crate::ports::store::Store;

impl<S: Store> Admin<S> {
    /// Records a change by `who`. The change itself has happened: a failing audit write is
    /// logged, not turned into an error for the caller.
    pub async fn record(&self, who: &Principal, action: AuditAction, kind: &str, value: &str, scope: &Scope) {
        let record = AuditRecord {
            at_ms: self.ports.clock.unix_ms(),
            scope: scope.as_str().to_owned(),
            action,
            actor: who.label(),
            kind: kind.to_owned(),
            value: value.to_owned(),
            event: None,
            route: None,
        };
        if let Err(e) = crate::app::audit::write(&self.ports, &record).await {
            tracing::error!(error = %e, "audit log write failed for an admin change");
        }
    }

    /// The newest records `who` may see (one organizer's, or all for the operator), oldest first.
    pub async fn audit_log(
        &self,
        who: &Principal,
        organizer: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Value, AdminError> {
        let prefix = match who.filter(organizer)? {
            None => AUDIT_PREFIX.to_owned(),
            Some(scope) => scope_prefix(scope.as_str()),
        };
        let limit = limit.unwrap_or(100).min(MAX_LIST);
        let mut records: Vec<AuditRecord> = self
            .ports
            .store
            .scan_prefix(&prefix, MAX_LIST * 10)
            .await?
            .into_iter()
            .filter_map(|e| serde_json::from_slice(&e.value).ok())
            .collect();
        records.sort_by_key(|r| r.at_ms);
        let skip = records.len().saturating_sub(limit);
        let records: Vec<_> = records[skip..]
            .iter()
            .map(|r| {
                let at = UNIX_EPOCH + Duration::from_millis(r.at_ms);
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["at"] = json!(humantime::format_rfc3339_millis(at).to_string());
                v
            })
            .collect();
        Ok(json!({ "records": records }))
    }
}
