//! The data keys, for the operator: which keys this node holds and the store lists, and the
//! re-sealing pass that lets an old key go after a rotation ([`crate::app::vault`]).

use serde::{Deserialize, Serialize};

use super::{Admin, AdminError, Principal};
use crate::app::vault::{self, ResealError, Resealed};
use crate::core::blacklist::audit::AuditAction;
use crate::core::blacklist::Scope;
use crate::core::sealing::KeyId;
use crate::ports::store::Store;

/// The data keys as this node and the store see them (ids only: 8 hex digits each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct DataKeysView {
    /// The key this node seals with (null: the policy has no waitlist, so no keys).
    pub sealing: Option<String>,
    /// Every key this node holds, the sealing one first.
    pub keys: Vec<String>,
    /// The keys the store lists as having sealed records (a key may be dropped from the nodes
    /// once it is listed no more).
    pub registered: Vec<String>,
}

/// A page of a re-sealing pass to do.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResealRequest {
    /// The `next` of the previous page; absent or empty to start a pass.
    #[serde(default)]
    pub cursor: String,
}

fn hexes(ids: &[KeyId]) -> Vec<String> {
    ids.iter().map(KeyId::hex).collect()
}

impl<S: Store> Admin<S> {
    /// The data keys of this node and of the store. Operator only.
    pub async fn data_keys(&self, who: &Principal) -> Result<DataKeysView, AdminError> {
        who.require_operator()?;
        let vault = &self.ports.vault;
        Ok(DataKeysView {
            sealing: vault.current().map(|k| k.hex()),
            keys: hexes(&vault.ids()),
            registered: hexes(&vault::registered(&self.ports.store).await?),
        })
    }

    /// One page of the pass that seals every record with personal data again with the current
    /// key. Operator only; the pass's end is written to the audit log (the keys it retired).
    pub async fn reseal(&self, who: &Principal, req: &ResealRequest) -> Result<Resealed, AdminError>
    where
        S: Clone,
    {
        who.require_operator()?;
        let page = vault::reseal_page(&self.ports, &req.cursor).await.map_err(|e| match e {
            ResealError::BadCursor => AdminError::bad("cursor: not the `next` of a re-sealing page"),
            ResealError::NoKey => {
                AdminError::Conflict("this node has no data keys (the policy has no waitlist)".into())
            }
            ResealError::Store(e) => AdminError::Unavailable(e),
        })?;
        if page.next.is_none() {
            let detail = match (page.left, page.retired.is_empty()) {
                (0, true) => "every record sealed with the current key; no key to retire".to_owned(),
                (0, false) => {
                    format!("every record sealed with the current key; retired {}", page.retired.join(", "))
                }
                (left, _) => format!("{left} records left sealed with other keys; no key retired"),
            };
            let current = self.ports.vault.current().map(|k| k.hex()).unwrap_or_default();
            self.record_detail(
                who,
                AuditAction::ResealData,
                ("data_key", &current),
                &Scope::Platform,
                Some(detail),
            )
            .await;
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::admin::Admin;
    use crate::testkit::{block_on, TestRig};

    #[test]
    fn only_the_operator_sees_the_keys_and_reseals_and_the_end_of_a_pass_is_audited() {
        let rig = TestRig::default();
        let admin = Admin::new(rig.ports(), None);
        block_on(async {
            vault::check_and_register(&rig.store, &rig.ports().vault).await.unwrap().unwrap();
            let org = Principal::Organizer("harbour".into());
            assert!(matches!(admin.data_keys(&org).await, Err(AdminError::Forbidden(_))));
            assert!(matches!(
                admin.reseal(&org, &ResealRequest::default()).await,
                Err(AdminError::Forbidden(_))
            ));
            let keys = admin.data_keys(&Principal::Operator).await.unwrap();
            let current = rig.ports().vault.current().unwrap().hex();
            assert_eq!(
                (keys.sealing.as_deref(), keys.keys.clone(), keys.registered),
                (Some(current.as_str()), vec![current.clone()], vec![current.clone()])
            );
            let bad = ResealRequest { cursor: "nonsense".into() };
            assert!(matches!(admin.reseal(&Principal::Operator, &bad).await, Err(AdminError::BadInput(_))));
            let mut cursor = String::new();
            let last = loop {
                let page = admin.reseal(&Principal::Operator, &ResealRequest { cursor }).await.unwrap();
                match page.next.clone() {
                    Some(next) => cursor = next,
                    None => break page,
                }
            };
            assert_eq!((last.left, last.retired.len()), (0, 0));
            let log = admin.audit_log(&Principal::Operator, None, None, None).await.unwrap();
            let record = serde_json::to_value(&log.records[0]).unwrap();
            assert_eq!(record["action"], "reseal_data");
            assert_eq!(record["value"], current.as_str());
        });
    }
}
