//! Who is calling the admin API, and what they may reach.
//!
//! The operator reaches everything. Organizer tokens look like `org.<organizer>.<secret>`; only
//! their SHA-256 digest is kept, in the organizer's record, and a token is valid while its digest
//! is the record's current one (so issuing a new token revokes the old one in the same write). An
//! organizer token reaches only its own organizer's entries and audit log.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{slug, Admin, AdminError};
use crate::core::blacklist::{is_slug, Scope};
use crate::ports::store::Store;

/// The caller of an admin request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The platform operator: everything.
    Operator,
    /// One organizer: only their own entries.
    Organizer(String),
}

impl Principal {
    /// Fails unless the caller is the operator.
    pub fn require_operator(&self) -> Result<(), AdminError> {
        match self {
            Self::Operator => Ok(()),
            Self::Organizer(_) => Err(AdminError::Forbidden("only the operator token may do this".into())),
        }
    }

    /// The scope a request may act on. Operators choose (default: the platform); organizers get
    /// their own organizer and may name no other.
    pub fn scope(&self, requested: Option<&str>) -> Result<Scope, AdminError> {
        if let Some(o) = requested {
            slug("organizer", o)?;
        }
        match (self, requested) {
            (Self::Operator, None) => Ok(Scope::Platform),
            (Self::Operator, Some(o)) => Ok(Scope::Organizer(o.to_owned())),
            (Self::Organizer(own), None) => Ok(Scope::Organizer(own.clone())),
            (Self::Organizer(own), Some(o)) if o == own => Ok(Scope::Organizer(own.clone())),
            (Self::Organizer(_), Some(_)) => {
                Err(AdminError::Forbidden("an organizer token reaches only its own organizer".into()))
            }
        }
    }

    /// Which scope a read may cover: `None` for everything (the operator naming no organizer),
    /// else the one scope [`Principal::scope`] allows.
    pub fn filter(&self, requested: Option<&str>) -> Result<Option<Scope>, AdminError> {
        match (self, requested) {
            (Self::Operator, None) => Ok(None),
            _ => self.scope(requested).map(Some),
        }
    }

    /// `operator` or `organizer:<slug>`, as recorded in entries and the audit log.
    pub fn label(&self) -> String {
        match self {
            Self::Operator => "operator".into(),
            Self::Organizer(o) => format!("organizer:{o}"),
        }
    }
}

/// The SHA-256 digest of a token, as hex.
pub fn token_digest(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl<S: Store> Admin<S> {
    /// The organizer an `org.<id>.<secret>` token belongs to, if it is that organizer's current
    /// one (compared in constant time). Other tokens are refused without touching the store.
    pub async fn organizer_of(&self, token: &[u8]) -> Result<Option<Principal>, AdminError> {
        let Ok(token) = std::str::from_utf8(token) else { return Ok(None) };
        let Some((id, secret)) = token.strip_prefix("org.").and_then(|rest| rest.split_once('.')) else {
            return Ok(None);
        };
        if !is_slug(id) || secret.len() < 32 || token.len() > 256 {
            return Ok(None);
        }
        let Some(org) = self.organizer(id).await? else { return Ok(None) };
        let matches: bool = token_digest(token).as_bytes().ct_eq(org.token_digest.as_bytes()).into();
        Ok(matches.then_some(Principal::Organizer(org.id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organizers_reach_only_their_own_scope() {
        let hh = Principal::Organizer("harbour-hall".into());
        assert_eq!(hh.scope(None).unwrap(), Scope::Organizer("harbour-hall".into()));
        assert!(matches!(hh.scope(Some("river-club")), Err(AdminError::Forbidden(_))));
        assert!(matches!(hh.require_operator(), Err(AdminError::Forbidden(_))));
        assert_eq!(Principal::Operator.scope(None).unwrap(), Scope::Platform);
        assert_eq!(Principal::Operator.filter(None).unwrap(), None);
        assert!(matches!(Principal::Operator.scope(Some("Bad Slug")), Err(AdminError::BadInput(_))));
        assert_eq!(hh.label(), "organizer:harbour-hall");
    }
}
