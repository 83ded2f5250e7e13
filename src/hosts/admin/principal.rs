//! Who is calling the admin API, and what they may reach.
//!
//! The operator token (from `DOORMAN_ADMIN_TOKEN` or `admin.token_file`) reaches everything; it is
//! compared in constant time. Organizer tokens look like `org.<organizer>.<secret>`; they are
//! issued by the operator (`POST /v1/organizers`), and only their SHA-256 digest is kept, in the
//! organizer's record. A token is valid while its digest is the record's current one, so issuing
//! a new token revokes the old one in the same write. An organizer token reaches only its own
//! organizer's blacklist entries and audit log.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::auth::strip_bearer;
use super::error::{slug, ApiError};
use super::organizers::load as load_organizer;
use super::AdminState;
use crate::core::blacklist::{is_slug, Scope};

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
    pub fn require_operator(&self) -> Result<(), ApiError> {
        match self {
            Self::Operator => Ok(()),
            Self::Organizer(_) => Err(ApiError::forbidden("only the operator token may do this")),
        }
    }

    /// The scope a request may act on. Operators choose (default: the platform); organizers get
    /// their own organizer and may name no other.
    pub fn scope(&self, requested: Option<&str>) -> Result<Scope, ApiError> {
        if let Some(o) = requested {
            slug("organizer", o)?;
        }
        match (self, requested) {
            (Self::Operator, None) => Ok(Scope::Platform),
            (Self::Operator, Some(o)) => Ok(Scope::Organizer(o.to_owned())),
            (Self::Organizer(own), None) => Ok(Scope::Organizer(own.clone())),
            (Self::Organizer(own), Some(o)) if o == own => Ok(Scope::Organizer(own.clone())),
            (Self::Organizer(_), Some(_)) => {
                Err(ApiError::forbidden("an organizer token reaches only its own organizer"))
            }
        }
    }

    /// Which scope a read may cover: `None` for everything (the operator naming no organizer),
    /// else the one scope [`Principal::scope`] allows.
    pub fn filter(&self, requested: Option<&str>) -> Result<Option<Scope>, ApiError> {
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

/// Middleware: finds the caller, or answers 401. Puts the [`Principal`] into the request.
pub async fn authenticate(State(state): State<AdminState>, mut req: Request, next: Next) -> Response {
    let given =
        req.headers().get(header::AUTHORIZATION).and_then(|v| strip_bearer(v.as_bytes())).map(<[u8]>::to_vec);
    let principal = match given {
        Some(token) if state.token.as_ref().is_some_and(|t| t.matches(&token)) => Some(Principal::Operator),
        Some(token) => match organizer_of(&state, &token).await {
            Ok(p) => p,
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    match principal {
        Some(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        None => (
            axum::http::StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            axum::Json(serde_json::json!({"error": "a valid bearer token is required"})),
        )
            .into_response(),
    }
}

/// The organizer an `org.<id>.<secret>` token belongs to, if it is that organizer's current one.
/// Other tokens are refused without touching the store.
async fn organizer_of(state: &AdminState, token: &[u8]) -> Result<Option<Principal>, ApiError> {
    let Ok(token) = std::str::from_utf8(token) else { return Ok(None) };
    let Some((id, secret)) = token.strip_prefix("org.").and_then(|rest| rest.split_once('.')) else {
        return Ok(None);
    };
    if !is_slug(id) || secret.len() < 32 || token.len() > 256 {
        return Ok(None);
    }
    let Some(org) = load_organizer(&state.ports.store, id).await? else { return Ok(None) };
    let matches: bool = token_digest(token).as_bytes().ct_eq(org.token_digest.as_bytes()).into();
    Ok(matches.then_some(Principal::Organizer(org.id)))
}
