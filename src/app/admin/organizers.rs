//! Organizers and their tokens. An organizer's record (`org:<id>`) holds the digest of its one
//! valid admin token and of its one valid box-office token, so there is never a valid token the
//! record does not name. The operator creates organizers and issues admin tokens; the operator
//! or the organizer's admin sets up the box office (its address and its token).

use crate::core::waitlist::retention::{DEFAULT_RETENTION_DAYS, RETENTION_DAYS_RANGE};
use serde::{Deserialize, Serialize};

use super::principal::{token_digest, Role};
use super::{slug, Admin, AdminError, Principal};
use crate::core::blacklist::audit::AuditAction;
use crate::core::blacklist::Scope;
use crate::core::waitlist::form::is_mailbox;
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
    /// SHA-256 (hex) of the one valid admin token.
    pub token_digest: String,
    /// SHA-256 (hex) of the one valid box-office token, once one was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub box_office_digest: Option<String>,
    /// The organizer's general box-office address, which staff may sign customers up with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub box_office_address: Option<String>,
    /// Days signups keep their personal data after the event (or a cancellation); the default
    /// ([`DEFAULT_RETENTION_DAYS`]) where unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// Customers may download and erase their own data (the manage link, "my signups").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub self_service: bool,
}

impl OrganizerRecord {
    /// A short fingerprint of the current box-office token (what staff sessions carry).
    pub fn box_office_fingerprint(&self) -> Option<&str> {
        self.box_office_digest.as_deref().map(|d| &d[..16.min(d.len())])
    }

    /// A short fingerprint of the current admin token (what admins' staff sessions carry).
    pub fn admin_fingerprint(&self) -> &str {
        &self.token_digest[..16.min(self.token_digest.len())]
    }

    /// Days its signups keep their personal data.
    pub fn retention_days(&self) -> u32 {
        self.retention_days.unwrap_or(DEFAULT_RETENTION_DAYS)
    }
}

/// A change to an organizer's record: fields left out stay as they are, a `null` address
/// removes it.
#[derive(Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(example = json!({"box_office_address": "box-office@harbour.example"})))]
#[serde(deny_unknown_fields)]
pub struct OrganizerChange {
    /// A new display name: not blank, at most 200 bytes, no control characters.
    #[serde(default)]
    #[cfg_attr(feature = "native", schema(min_length = 1, max_length = 200))]
    pub name: Option<String>,
    /// The general box-office address; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "native", schema(value_type = Option<String>, format = Email))]
    pub box_office_address: Option<Option<String>>,
    /// Days signups of its events keep their personal data after the event starts (or after a
    /// cancellation), 1 to 3650; `null` restores the default (30).
    #[serde(default, deserialize_with = "present_days")]
    #[cfg_attr(feature = "native", schema(value_type = Option<u32>, minimum = 1, maximum = 3650))]
    pub retention_days: Option<Option<u32>>,
    /// Let customers download and erase their own data from the manage link in every mail
    /// and from "my signups".
    #[serde(default)]
    pub self_service: Option<bool>,
}

/// Tells days sent as `null` (`Some(None)`) from days left out (`None`).
fn present_days<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(d).map(Some)
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// The record of organizer `id` in `store`, if any.
pub async fn organizer_record(store: &impl Store, id: &str) -> Result<Option<OrganizerRecord>, StoreError> {
    let Some(raw) = store.get(&org_key(id)).await? else { return Ok(None) };
    serde_json::from_slice(&raw).map(Some).map_err(|e| StoreError::Failed(format!("organizer {id}: {e}")))
}

fn check_name(name: &str) -> Result<String, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(AdminError::bad(format!("name: 1 to {MAX_NAME} characters of text")));
    }
    Ok(name.to_owned())
}

fn check_address(address: &str) -> Result<String, AdminError> {
    let address = address.trim();
    let canonical = crate::core::email::canonicalize(address, Default::default());
    match canonical {
        Ok(c) if address.len() <= crate::core::email::MAX_LEN && is_mailbox(&c) => Ok(address.to_owned()),
        _ => Err(AdminError::bad("box_office_address: an e-mail address, like box-office@example.com")),
    }
}

/// An organizer as its admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(example = json!({
    "id": "harbour-hall", "name": "Harbour Hall",
    "box_office_address": "box-office@harbour.example", "box_office_token": true
})))]
pub struct OrganizerView {
    /// The organizer slug.
    #[cfg_attr(feature = "native", schema(pattern = "^[a-z0-9_-]{1,64}$"))]
    pub id: String,
    /// The display name.
    pub name: String,
    /// The general box-office address staff may sign customers up with (their mails go there;
    /// a phone number is then required).
    #[cfg_attr(feature = "native", schema(format = Email))]
    pub box_office_address: Option<String>,
    /// Whether a box-office token was issued.
    pub box_office_token: bool,
    /// Days signups of its events keep their personal data after the event starts (or after a
    /// cancellation).
    pub retention_days: u32,
    /// Customers may download and erase their own data.
    pub self_service: bool,
}

impl From<&OrganizerRecord> for OrganizerView {
    fn from(org: &OrganizerRecord) -> Self {
        Self {
            id: org.id.clone(),
            name: org.name.clone(),
            box_office_address: org.box_office_address.clone(),
            box_office_token: org.box_office_digest.is_some(),
            retention_days: org.retention_days(),
            self_service: org.self_service,
        }
    }
}

/// An organizer, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = Organizer, example = json!({"id": "harbour-hall", "name": "Harbour Hall"})))]
pub struct OrganizerSummary {
    /// The organizer slug.
    #[cfg_attr(feature = "native", schema(pattern = "^[a-z0-9_-]{1,64}$"))]
    pub id: String,
    /// The display name.
    pub name: String,
}

/// Every organizer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct OrganizerList {
    /// The organizers.
    pub organizers: Vec<OrganizerSummary>,
}

/// A new organizer and its token (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(example = json!({
    "id": "harbour-hall", "name": "Harbour Hall",
    "token": "org.harbour-hall.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
})))]
pub struct OrganizerCreated {
    /// The organizer slug.
    #[cfg_attr(feature = "native", schema(pattern = "^[a-z0-9_-]{1,64}$"))]
    pub id: String,
    /// The display name.
    pub name: String,
    /// The organizer's bearer token. It is shown only in this answer: the server keeps only its
    /// SHA-256 digest.
    #[cfg_attr(feature = "native", schema(pattern = "^org\\.[a-z0-9_-]{1,64}\\.[0-9a-f]{64}$"))]
    pub token: String,
}

/// An organizer's new token, admin (`org.<organizer>.<secret>`) or box-office
/// (`box.<organizer>.<secret>`), shown once; the previous one no longer works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(example = json!({
    "id": "harbour-hall",
    "token": "org.harbour-hall.fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
})))]
pub struct OrganizerToken {
    /// The organizer slug.
    pub id: String,
    /// The new bearer token. It is shown only in this answer: the server keeps only its SHA-256
    /// digest.
    #[cfg_attr(feature = "native", schema(pattern = "^(org|box)\\.[a-z0-9_-]{1,64}\\.[0-9a-f]{64}$"))]
    pub token: String,
}

/// The answer of a deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct OrganizerDeleted {
    /// The organizer slug.
    pub id: String,
    /// Always `true`.
    pub deleted: bool,
}

/// An organizer to create.
#[derive(Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(example = json!({"id": "harbour-hall", "name": "Harbour Hall"})))]
#[serde(deny_unknown_fields)]
pub struct NewOrganizer {
    /// The organizer slug: 1 to 64 of `a-z`, `0-9`, `-`, `_`.
    #[cfg_attr(feature = "native", schema(pattern = "^[a-z0-9_-]{1,64}$"))]
    pub id: String,
    /// The display name: not blank, at most 200 bytes, no control characters; surrounding
    /// whitespace is trimmed.
    #[cfg_attr(feature = "native", schema(min_length = 1, max_length = 200))]
    pub name: String,
}

/// Longest organizer display name, in bytes.
pub const MAX_NAME: usize = 200;

fn org_key(id: &str) -> String {
    format!("org:{id}")
}

/// The claim that makes one creation of organizer `id` win when two race.
fn org_claim_key(id: &str) -> String {
    format!("org-claim:{id}")
}

impl<S: Store> Admin<S> {
    /// A new token of `role` for organizer `id`: `org.<id>.<64 hex digits>` or `box.…`.
    fn new_token(&self, role: Role, id: &str) -> Result<String, AdminError> {
        let secret = crate::ports::random::random_hex(&*self.ports.random, 32)?;
        Ok(format!("{}.{id}.{secret}", role.prefix()))
    }

    /// The record of organizer `id`, if any.
    pub async fn organizer(&self, id: &str) -> Result<Option<OrganizerRecord>, StoreError> {
        organizer_record(&self.ports.store, id).await
    }

    async fn existing(&self, id: &str) -> Result<OrganizerRecord, AdminError> {
        slug("id", id)?;
        self.organizer(id).await?.ok_or_else(|| AdminError::NotFound("no such organizer".into()))
    }

    async fn save(&self, org: &OrganizerRecord) -> Result<(), StoreError> {
        let value = serde_json::to_vec(org).expect("an organizer serializes");
        self.ports.store.set(&org_key(&org.id), &value, None).await
    }

    /// Creates an organizer; answers it with its token, shown this once.
    pub async fn create_organizer(
        &self,
        who: &Principal,
        req: &NewOrganizer,
    ) -> Result<OrganizerCreated, AdminError> {
        who.may_create_organizers()?;
        slug("id", &req.id)?;
        let name = check_name(&req.name)?;
        let exists =
            || AdminError::Conflict(format!("organizer `{}` exists; rotate its token instead", req.id));
        // Drawn before the claim: a failed draw must not leave a claim without an organizer.
        let token = self.new_token(Role::Admin, &req.id)?;
        // Organizers made before claims existed have a record and no claim.
        if self.organizer(&req.id).await?.is_some()
            || !self.ports.store.claim(&org_claim_key(&req.id), None).await?
        {
            return Err(exists());
        }
        let org = OrganizerRecord {
            id: req.id.clone(),
            name,
            created_at_ms: self.ports.clock.unix_ms(),
            token_digest: token_digest(&token),
            box_office_digest: None,
            box_office_address: None,
            retention_days: None,
            self_service: false,
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
        Ok(OrganizerCreated { id: org.id, name: org.name, token })
    }

    /// Every organizer (id and name).
    pub async fn organizers(&self, who: &Principal) -> Result<OrganizerList, AdminError> {
        who.require_operator()?;
        let organizers: Vec<_> = self
            .ports
            .store
            .scan_prefix("org:", 100_000)
            .await?
            .into_iter()
            .filter_map(|e| serde_json::from_slice::<OrganizerRecord>(&e.value).ok())
            .map(|o| OrganizerSummary { id: o.id, name: o.name })
            .collect();
        Ok(OrganizerList { organizers })
    }

    /// Issues organizer `id` a new token; the old one stops working with the same write.
    pub async fn rotate_token(&self, who: &Principal, id: &str) -> Result<OrganizerToken, AdminError> {
        who.require_operator()?;
        let mut org = self.existing(id).await?;
        let token = self.new_token(Role::Admin, id)?;
        org.token_digest = token_digest(&token);
        self.save(&org).await?;
        tracing::info!(organizer = id, "organizer token rotated");
        self.record(who, AuditAction::RotateToken, "organizer", id, &Scope::Organizer(id.to_owned())).await;
        Ok(OrganizerToken { id: id.to_owned(), token })
    }

    /// Deletes organizer `id`: its tokens stop working at once and its staff sessions end. Its
    /// blacklist entries, event mappings and audit log stay (the operator removes entries and
    /// maps events anew); an organizer of the same id can be created again.
    pub async fn delete_organizer(&self, who: &Principal, id: &str) -> Result<OrganizerDeleted, AdminError> {
        who.require_operator()?;
        self.existing(id).await?;
        self.ports.store.delete(&org_key(id)).await?;
        self.ports.store.delete(&org_claim_key(id)).await?;
        tracing::info!(organizer = id, "organizer deleted");
        self.record(who, AuditAction::DeleteOrganizer, "organizer", id, &Scope::Organizer(id.to_owned()))
            .await;
        Ok(OrganizerDeleted { id: id.to_owned(), deleted: true })
    }

    /// Organizer `id` as its admin sees it: name, box-office address, whether a box-office
    /// token was issued.
    pub async fn organizer_view(&self, who: &Principal, id: &str) -> Result<OrganizerView, AdminError> {
        who.require_organizer_admin(id)?;
        Ok(OrganizerView::from(&self.existing(id).await?))
    }

    /// Changes organizer `id`'s name or box-office address.
    pub async fn change_organizer(
        &self,
        who: &Principal,
        id: &str,
        change: OrganizerChange,
    ) -> Result<OrganizerView, AdminError> {
        who.may_change_organizer(id)?;
        let mut org = self.existing(id).await?;
        if let Some(name) = &change.name {
            org.name = check_name(name)?;
        }
        if let Some(address) = change.box_office_address {
            org.box_office_address = address.as_deref().map(check_address).transpose()?;
        }
        if let Some(days) = change.retention_days {
            let (lo, hi) = RETENTION_DAYS_RANGE;
            if days.is_some_and(|d| !(lo..=hi).contains(&d)) {
                return Err(AdminError::bad(format!("retention_days: {lo} to {hi}")));
            }
            org.retention_days = days;
        }
        if let Some(on) = change.self_service {
            org.self_service = on;
        }
        self.save(&org).await?;
        tracing::info!(who = %who.label(), organizer = id, "organizer changed");
        self.record(who, AuditAction::ChangeOrganizer, "organizer", id, &Scope::Organizer(id.to_owned()))
            .await;
        Ok(OrganizerView::from(&org))
    }

    /// Issues organizer `id` a box-office token, shown this once; the old one, and every staff
    /// session signed in with it, stop working with the same write.
    pub async fn rotate_box_office_token(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<OrganizerToken, AdminError> {
        who.require_organizer_admin(id)?;
        let mut org = self.existing(id).await?;
        let token = self.new_token(Role::BoxOffice, id)?;
        org.box_office_digest = Some(token_digest(&token));
        self.save(&org).await?;
        tracing::info!(who = %who.label(), organizer = id, "box-office token issued");
        let scope = Scope::Organizer(id.to_owned());
        self.record(who, AuditAction::RotateBoxOfficeToken, "organizer", id, &scope).await;
        Ok(OrganizerToken { id: id.to_owned(), token })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::app::Ports;
    use crate::testkit::MemoryStore;
    use crate::testkit::{block_on, FailingRandom, InstantTasks};

    #[test]
    fn a_failed_draw_makes_no_token_and_leaves_nothing_behind() {
        block_on(async {
            let store = MemoryStore::default();
            let mut ports = Ports::new(store.clone(), Arc::new(InstantTasks::default()));
            ports.random = Arc::new(FailingRandom);
            let broken = Admin::new(ports, None);
            let working = Admin::new(Ports::new(store.clone(), Arc::new(InstantTasks::default())), None);
            let req = NewOrganizer { id: "harbour-hall".into(), name: "Harbour Hall".into() };
            let failed = broken.create_organizer(&Principal::Operator, &req).await;
            assert!(matches!(failed, Err(AdminError::NoRandomness(_))), "{failed:?}");
            assert!(store.scan_prefix("", 100).await.unwrap().is_empty(), "no claim, no record");

            let created = working.create_organizer(&Principal::Operator, &req).await.unwrap();
            let secret = created.token.strip_prefix("org.harbour-hall.").unwrap();
            assert!(secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()), "{secret}");
            assert_ne!(secret, "0".repeat(64));
            for failed in [
                broken.rotate_token(&Principal::Operator, "harbour-hall").await,
                broken.rotate_box_office_token(&Principal::Operator, "harbour-hall").await,
            ] {
                assert!(matches!(failed, Err(AdminError::NoRandomness(_))), "{failed:?}");
            }
            let org = working.organizer("harbour-hall").await.unwrap().unwrap();
            assert_eq!(org.token_digest, token_digest(&created.token), "the old token still works");
            assert_eq!(org.box_office_digest, None, "no box-office token was issued");
        });
    }
}
