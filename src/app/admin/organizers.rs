//! Organizers and their tokens (operator only). An organizer's record (`org:<id>`) holds the
//! digest of its one valid token, so there is never a valid token the record does not name.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::principal::token_digest;
use super::{slug, Admin, AdminError, Principal};
use crate::core::blacklist::audit::AuditAction;
use crate::core::blacklist::Scope;
use crate::ports::store::{Store, StoreError};

/// An organizer as stored under `org:<id>`.
#[derive(Serialize, Deserialize)]
pub struct OrganizerRecord {
    /// The slug.
    pub id: String,
    /// Display name.
    pub name: String,
    /// When it was created, Unix milliseconds.
    pub created_at_ms: u64,
    /// SHA-256 (hex) of the one valid token.
    pub token_digest: String,
}

/// A request to create an organizer.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganizer {
    /// The slug.
    pub id: String,
    /// Display name.
    pub name: String,
}

fn org_key(id: &str) -> String {
    format!("org:{id}")
}

impl<S: Store> Admin<S> {
    /// A new token for organizer `id`: `org.<id>.<64 hex digits>`.
    fn new_token(&self, id: &str) -> String {
        let mut secret = [0u8; 32];
        self.ports.random.fill(&mut secret);
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        format!("org.{id}.{hex}")
    }

    /// The record of organizer `id`, if any.
    pub async fn organizer(&self, id: &str) -> Result<Option<OrganizerRecord>, StoreError> {
        let Some(raw) = self.ports.store.get(&org_key(id)).await? else { return Ok(None) };
        serde_json::from_slice(&raw).map(Some).map_err(|e| StoreError::Failed(format!("organizer {id}: {e}")))
    }

    async fn save(&self, org: &OrganizerRecord) -> Result<(), StoreError> {
        let value = serde_json::to_vec(org).expect("an organizer serializes");
        self.ports.store.set(&org_key(&org.id), &value, None).await
    }

    /// Creates an organizer; answers it with its token, shown this once.
    pub async fn create_organizer(&self, who: &Principal, req: &NewOrganizer) -> Result<Value, AdminError> {
        who.require_operator()?;
        slug("id", &req.id)?;
        if req.name.trim().is_empty() || req.name.len() > 200 || req.name.chars().any(char::is_control) {
            return Err(AdminError::bad("name: 1 to 200 characters of text"));
        }
        if self.organizer(&req.id).await?.is_some() {
            return Err(AdminError::Conflict(format!(
                "organizer `{}` exists; rotate its token instead",
                req.id
            )));
        }
        let token = self.new_token(&req.id);
        let org = OrganizerRecord {
            id: req.id.clone(),
            name: req.name.trim().to_owned(),
            created_at_ms: self.ports.clock.unix_ms(),
            token_digest: token_digest(&token),
        };
        self.save(&org).await?;
        tracing::info!(organizer = org.id, "organizer created");
        self.record(
            who,
            AuditAction::CreateOrganizer,
            "organizer",
            &org.id,
            &Scope::Organizer(org.id.clone()),
        )
        .await;
        Ok(json!({ "id": org.id, "name": org.name, "token": token }))
    }

    /// Every organizer (id and name).
    pub async fn organizers(&self, who: &Principal) -> Result<Value, AdminError> {
        who.require_operator()?;
        let organizers: Vec<_> = self
            .ports
            .store
            .scan_prefix("org:", 100_000)
            .await?
            .into_iter()
            .filter_map(|e| serde_json::from_slice::<OrganizerRecord>(&e.value).ok())
            .map(|o| json!({ "id": o.id, "name": o.name }))
            .collect();
        Ok(json!({ "organizers": organizers }))
    }

    /// Issues organizer `id` a new token; the old one stops working with the same write.
    pub async fn rotate_token(&self, who: &Principal, id: &str) -> Result<Value, AdminError> {
        who.require_operator()?;
        slug("id", id)?;
        let Some(mut org) = self.organizer(id).await? else {
            return Err(AdminError::NotFound("no such organizer".into()));
        };
        let token = self.new_token(id);
        org.token_digest = token_digest(&token);
        self.save(&org).await?;
        tracing::info!(organizer = id, "organizer token rotated");
        self.record(who, AuditAction::RotateToken, "organizer", id, &Scope::Organizer(id.to_owned())).await;
        Ok(json!({ "id": id, "token": token }))
    }
}
