//! The audit log of the admin API: every change recorded, and read back per scope.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::{json, Value};

use super::entries::MAX_LIST;
use super::{Admin, AdminError, Principal};
use crate::core::blacklist::audit::{AuditAction, AuditRecord, Log};
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

    /// A page of the records `who` may see (one organizer's, or all for the operator), newest
    /// first: at most `limit` (100 by default, at most [`MAX_LIST`]) from below the cursor
    /// `before` (a page's `next`), in a few store reads whatever the log's length.
    pub async fn audit_log(
        &self,
        who: &Principal,
        organizer: Option<&str>,
        limit: Option<usize>,
        before: Option<&str>,
    ) -> Result<Value, AdminError> {
        let log = match who.filter(organizer)? {
            None => Log::All,
            Some(scope) => Log::Scope(scope.as_str().to_owned()),
        };
        let before =
            match before {
                None | Some("") => None,
                Some(c) => Some(c.parse::<u64>().ok().filter(|&n| n > 0).ok_or_else(|| {
                    AdminError::bad("before: not a cursor of this log (use a page's `next`)")
                })?),
            };
        let limit = limit.unwrap_or(100).clamp(1, MAX_LIST);
        let (records, next) = crate::app::audit::page(&self.ports, &log, before, limit).await?;
        let records: Vec<_> = records
            .iter()
            .map(|r| {
                let at = UNIX_EPOCH + Duration::from_millis(r.at_ms);
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["at"] = json!(humantime::format_rfc3339_millis(at).to_string());
                v
            })
            .collect();
        Ok(json!({ "records": records, "next": next.map(|n| n.to_string()) }))
    }
}
