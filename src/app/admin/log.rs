//! The audit log of the admin API: every change recorded, and read back per scope.

use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;

use super::entries::MAX_LIST;
use super::{Admin, AdminError, Principal};
use crate::core::blacklist::audit::{AuditAction, AuditRecord, Log};
use crate::core::blacklist::Scope;
use crate::ports::store::Store;

/// One audit record as the API answers it: a change to the blacklist (`add`, `remove`), a
/// checkout that was turned back (`block`), or a change to events and organizers. Identities
/// appear only as account ids or e-mail hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = AuditRecord, example = json!({
    "at_ms": 1777636800123_u64, "at": "2026-05-01T12:00:00.123Z", "scope": "harbour-hall",
    "action": "block", "actor": "checkout", "kind": "account", "value": "eve-42",
    "event": "spring-concert", "route": "POST /events/{event}/checkout"
})))]
pub struct AuditView {
    /// When, in Unix milliseconds (imported entries: whole seconds × 1000).
    pub at_ms: u64,
    /// The same time as RFC 3339 (UTC, milliseconds).
    #[cfg_attr(feature = "native", schema(format = DateTime))]
    pub at: String,
    /// `*` for the platform, else the organizer slug. For `block`, the organizer of the event
    /// (`*` if the event has none).
    #[cfg_attr(feature = "native", schema(pattern = "^(\\*|[a-z0-9_-]{1,64})$"))]
    pub scope: String,
    /// What happened.
    pub action: AuditAction,
    /// Who did it: `operator`, `organizer:<slug>`, `box-office:<slug>`, or `checkout` for a
    /// blocked checkout.
    #[cfg_attr(
        feature = "native",
        schema(pattern = "^(operator|checkout|organizer:[a-z0-9_-]{1,64}|box-office:[a-z0-9_-]{1,64})$")
    )]
    pub actor: String,
    /// What `value` is: `account` or `email_hash` (`account_hash` where account ids are kept
    /// hashed); `event` or `organizer` for changes to those.
    pub kind: String,
    /// The account id or the e-mail hash (or the event, or the organizer).
    pub value: String,
    /// The event of a blocked checkout (only with `block`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The checkout route of a blocked checkout (only with `block`), e.g.
    /// `POST /events/{event}/checkout`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// For the waitlist's records, what changed or was read, never personal data: the fields
    /// of a settings change (`active, mail_text.de`), the line numbers of an exported page, what
    /// came of a box-office signup (`placed`, `confirmation mailed`, `already listed`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl From<&AuditRecord> for AuditView {
    fn from(r: &AuditRecord) -> Self {
        let at = UNIX_EPOCH + Duration::from_millis(r.at_ms);
        Self {
            at_ms: r.at_ms,
            at: humantime::format_rfc3339_millis(at).to_string(),
            scope: r.scope.clone(),
            action: r.action,
            actor: r.actor.clone(),
            kind: r.kind.clone(),
            value: r.value.clone(),
            event: r.event.clone(),
            route: r.route.clone(),
            detail: r.detail.clone(),
        }
    }
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct AuditPage {
    /// The records of this page, newest first.
    pub records: Vec<AuditView>,
    /// The cursor of the next (older) page; null when no older record remains.
    pub next: Option<String>,
}

impl<S: Store> Admin<S> {
    /// Records a change by `who`. The change itself has happened: a failing audit write is
    /// logged, not turned into an error for the caller.
    pub async fn record(&self, who: &Principal, action: AuditAction, kind: &str, value: &str, scope: &Scope) {
        self.record_detail(who, action, (kind, value), scope, None).await;
    }

    /// [`Self::record`] with a `detail` (what changed or was read, never personal data).
    pub async fn record_detail(
        &self,
        who: &Principal,
        action: AuditAction,
        (kind, value): (&str, &str),
        scope: &Scope,
        detail: Option<String>,
    ) {
        let now = self.ports.clock.unix_ms();
        let record = AuditRecord {
            detail,
            ..AuditRecord::change(now, scope.as_str(), action, who.label(), (kind, value))
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
    ) -> Result<AuditPage, AdminError> {
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
        let records = records.iter().map(AuditView::from).collect();
        Ok(AuditPage { records, next: next.map(|n| n.to_string()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{block_on, TestRig};

    #[test]
    fn each_caller_pages_through_the_records_it_may_see_newest_first() {
        block_on(async {
            let rig = TestRig::default();
            let admin = Admin::new(rig.ports(), None);
            let harbour = Principal::Organizer("harbour".into());
            let river = Principal::Organizer("river".into());
            for i in 0..5 {
                let (who, scope) = if i % 2 == 0 {
                    (&harbour, Scope::Organizer("harbour".into()))
                } else {
                    (&Principal::Operator, Scope::Platform)
                };
                admin.record(who, AuditAction::Add, "account", &format!("a{i}"), &scope).await;
                rig.clock.advance(std::time::Duration::from_secs(1));
            }
            let values = |page: &AuditPage| page.records.iter().map(|r| r.value.clone()).collect::<Vec<_>>();
            let all = admin.audit_log(&Principal::Operator, None, Some(2), None).await.unwrap();
            assert_eq!(values(&all), ["a4", "a3"]);
            let older =
                admin.audit_log(&Principal::Operator, None, Some(10), all.next.as_deref()).await.unwrap();
            assert_eq!((values(&older), older.next), (vec!["a2".to_owned(), "a1".into(), "a0".into()], None));
            let own = admin.audit_log(&harbour, None, None, None).await.unwrap();
            assert_eq!(values(&own), ["a4", "a2", "a0"], "an organizer sees its own records");
            assert!(own
                .records
                .iter()
                .all(|r| r.actor == "organizer:harbour" && r.action == AuditAction::Add));
            assert!(admin.audit_log(&river, Some("harbour"), None, None).await.is_err(), "not another's");
            assert!(admin.audit_log(&river, None, None, None).await.unwrap().records.is_empty());
            for bad in ["x", "0", "-1"] {
                assert!(matches!(
                    admin.audit_log(&Principal::Operator, None, None, Some(bad)).await,
                    Err(AdminError::BadInput(_))
                ));
            }
        });
    }
}
