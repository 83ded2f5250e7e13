//! Who is calling the admin API, and what they may reach.
//!
//! The operator reaches everything. An organizer has two tokens, each shown once and kept only
//! as a SHA-256 digest in the organizer's record; a token is valid while its digest is the
//! record's current one (so issuing a new token revokes the old one in the same write):
//!
//! - the admin token `org.<organizer>.<secret>` reaches the organizer's own blacklist entries,
//!   audit log, box-office setup and waitlists (settings included);
//! - the box-office token `box.<organizer>.<secret>` reaches only the organizer's waitlists, to
//!   read and export them, and signs staff in to the waitlist's pages.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::organizers::OrganizerRecord;
use super::{slug, Admin, AdminError};
use crate::core::blacklist::{is_slug, Scope};
use crate::ports::store::{Store, StoreError};

/// The caller of an admin request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The platform operator: everything.
    Operator,
    /// One organizer's admin: only their own entries, audit log and waitlists.
    Organizer(String),
    /// One organizer's box-office staff: only their own waitlists, read and exported.
    BoxOffice(String),
}

/// What a caller wants to do with an event's waitlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// See its settings and export its list.
    Read,
    /// Change its settings.
    Change,
}

impl Principal {
    /// Fails unless the caller is the operator.
    pub fn require_operator(&self) -> Result<(), AdminError> {
        match self {
            Self::Operator => Ok(()),
            _ => Err(AdminError::Forbidden("only the operator token may do this".into())),
        }
    }

    /// Fails for box-office tokens, which reach waitlists only.
    pub fn require_admin(&self) -> Result<(), AdminError> {
        match self {
            Self::BoxOffice(_) => Err(AdminError::Forbidden(
                "a box-office token reaches only its organizer's waitlists (read and export)".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Fails unless the caller is the operator or organizer `id`'s admin.
    pub fn require_organizer_admin(&self, id: &str) -> Result<(), AdminError> {
        self.require_admin()?;
        match self {
            Self::Organizer(own) if own != id => {
                Err(AdminError::Forbidden("an organizer token reaches only its own organizer".into()))
            }
            _ => Ok(()),
        }
    }

    /// Whether the caller may map events to organizers: the operator only. Hosts check it
    /// before reading a request's body, the use case again.
    pub fn may_map_events(&self) -> Result<(), AdminError> {
        self.require_operator()
    }

    /// Whether the caller may create organizers: the operator only.
    pub fn may_create_organizers(&self) -> Result<(), AdminError> {
        self.require_operator()
    }

    /// Whether the caller may change organizer `id` (name, box-office address): the operator
    /// or that organizer's admin.
    pub fn may_change_organizer(&self, id: &str) -> Result<(), AdminError> {
        self.require_organizer_admin(id)
    }

    /// Whether the caller may read the operations metrics: the operator only.
    pub fn may_read_metrics(&self) -> Result<(), AdminError> {
        self.require_operator()
    }

    /// The organizer of an organizer's token (admin or box office); `None` for the operator.
    pub fn organizer(&self) -> Option<&str> {
        match self {
            Self::Operator => None,
            Self::Organizer(o) | Self::BoxOffice(o) => Some(o),
        }
    }

    /// Fails unless the caller may `access` the waitlists of events mapped to `organizer`
    /// (`None`: the event is mapped to nobody, which only the operator reaches).
    pub fn require_waitlist(&self, organizer: Option<&str>, access: Access) -> Result<(), AdminError> {
        if access == Access::Change {
            self.require_admin()?;
        }
        match self.organizer() {
            None => Ok(()),
            Some(own) if organizer == Some(own) => Ok(()),
            Some(_) => Err(AdminError::Forbidden(
                "an organizer token reaches only its own organizer's events".into(),
            )),
        }
    }

    /// The scope a request may act on. Operators choose (default: the platform); organizers get
    /// their own organizer and may name no other; box-office tokens reach no blacklist scope.
    pub fn scope(&self, requested: Option<&str>) -> Result<Scope, AdminError> {
        self.require_admin()?;
        if let Some(o) = requested {
            slug("organizer", o)?;
        }
        match (self, requested) {
            (Self::Operator, None) => Ok(Scope::Platform),
            (Self::Operator, Some(o)) => Ok(Scope::Organizer(o.to_owned())),
            (Self::Organizer(own), None) => Ok(Scope::Organizer(own.clone())),
            (Self::Organizer(own), Some(o)) if o == own => Ok(Scope::Organizer(own.clone())),
            _ => Err(AdminError::Forbidden("an organizer token reaches only its own organizer".into())),
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

    /// `operator`, `organizer:<slug>` or `box-office:<slug>`, as recorded in entries and the
    /// audit log.
    pub fn label(&self) -> String {
        match self {
            Self::Operator => "operator".into(),
            Self::Organizer(o) => format!("organizer:{o}"),
            Self::BoxOffice(o) => format!("box-office:{o}"),
        }
    }
}

/// The SHA-256 digest of a token, as hex.
pub fn token_digest(token: &str) -> String {
    base16ct::lower::encode_string(&Sha256::digest(token.as_bytes()))
}

/// Which of an organizer's tokens a token claims to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `org.<organizer>.<secret>`.
    Admin,
    /// `box.<organizer>.<secret>`.
    BoxOffice,
}

impl Role {
    /// The token prefix of the role.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Admin => "org",
            Self::BoxOffice => "box",
        }
    }
}

/// The role and organizer a token's shape names, if it has an organizer token's shape.
fn token_shape(token: &str) -> Option<(Role, &str)> {
    let (prefix, rest) = token.split_once('.')?;
    let role = match prefix {
        "org" => Role::Admin,
        "box" => Role::BoxOffice,
        _ => return None,
    };
    let (id, secret) = rest.split_once('.')?;
    (is_slug(id) && secret.len() >= 32 && token.len() <= 256).then_some((role, id))
}

/// The organizer whose current token of `role` `token` is (compared in constant time), with
/// its record. Tokens of another shape are refused without touching the store.
pub async fn token_holder(
    store: &impl Store,
    token: &[u8],
    role: Role,
) -> Result<Option<OrganizerRecord>, StoreError> {
    let Ok(token) = std::str::from_utf8(token) else { return Ok(None) };
    let Some((shape, id)) = token_shape(token) else { return Ok(None) };
    if shape != role {
        return Ok(None);
    }
    let Some(org) = super::organizers::organizer_record(store, id).await? else { return Ok(None) };
    let current = match role {
        Role::Admin => Some(&org.token_digest),
        Role::BoxOffice => org.box_office_digest.as_ref(),
    };
    let Some(current) = current else { return Ok(None) };
    let matches: bool = token_digest(token).as_bytes().ct_eq(current.as_bytes()).into();
    Ok(matches.then_some(org))
}

impl<S: Store> Admin<S> {
    /// The caller an organizer token (admin or box office) stands for, if it is that
    /// organizer's current token of its kind. Other tokens are refused without touching the
    /// store.
    pub async fn organizer_of(&self, token: &[u8]) -> Result<Option<Principal>, AdminError> {
        let shape = std::str::from_utf8(token).ok().and_then(token_shape).map(|(role, _)| role);
        let Some(role) = shape else { return Ok(None) };
        let holder = token_holder(&self.ports.store, token, role).await?;
        Ok(holder.map(|org| match role {
            Role::Admin => Principal::Organizer(org.id),
            Role::BoxOffice => Principal::BoxOffice(org.id),
        }))
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
        assert!(hh.require_organizer_admin("harbour-hall").is_ok());
        assert!(hh.require_organizer_admin("river-club").is_err());
    }

    #[test]
    fn box_office_tokens_reach_their_waitlists_to_read_only() {
        let bo = Principal::BoxOffice("harbour-hall".into());
        assert!(bo.require_waitlist(Some("harbour-hall"), Access::Read).is_ok());
        assert!(bo.require_waitlist(Some("harbour-hall"), Access::Change).is_err());
        assert!(bo.require_waitlist(Some("river-club"), Access::Read).is_err());
        assert!(bo.require_waitlist(None, Access::Read).is_err(), "an unmapped event is the operator's");
        assert!(bo.scope(None).is_err() && bo.filter(None).is_err(), "no blacklist scope");
        assert!(bo.require_organizer_admin("harbour-hall").is_err());
        assert_eq!(bo.label(), "box-office:harbour-hall");
        let admin = Principal::Organizer("harbour-hall".into());
        assert!(admin.require_waitlist(Some("harbour-hall"), Access::Change).is_ok());
        assert!(Principal::Operator.require_waitlist(None, Access::Change).is_ok());
    }

    #[test]
    fn token_shapes() {
        let secret = "a".repeat(64);
        assert_eq!(token_shape(&format!("org.hh.{secret}")), Some((Role::Admin, "hh")));
        assert_eq!(token_shape(&format!("box.hh.{secret}")), Some((Role::BoxOffice, "hh")));
        for bad in
            [format!("adm.hh.{secret}"), "box.hh.short".into(), format!("box.HH.{secret}"), "box".into()]
        {
            assert_eq!(token_shape(&bad), None, "{bad}");
        }
    }
}
