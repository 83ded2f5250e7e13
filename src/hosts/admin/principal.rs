//! Who is calling the admin API, and what they may reach.
//!
//! The operator token (from `DOORMAN_ADMIN_TOKEN` or `admin.token_file`) reaches everything; it is
//! compared in constant time. Organizer tokens are issued by the operator
//! (`POST /v1/organizers`); only their SHA-256 digest is stored, under `tok:<digest>`, and a
//! token reaches only its own organizer's blacklist entries and audit log.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::AdminState;
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
    pub fn require_operator(&self) -> Result<(), ApiError> {
        match self {
            Self::Operator => Ok(()),
            Self::Organizer(_) => Err(ApiError::forbidden("only the operator token may do this")),
        }
    }

    /// The scope a request may act on. Operators choose (default: the platform); organizers get
    /// their own organizer and may name no other.
    pub fn scope(&self, requested: Option<&str>) -> Result<Scope, ApiError> {
        match (self, requested) {
            (_, Some(o)) if !is_slug(o) => Err(ApiError::bad("organizer: 1 to 64 of a-z, 0-9, '-', '_'")),
            (Self::Operator, None) => Ok(Scope::Platform),
            (Self::Operator, Some(o)) => Ok(Scope::Organizer(o.to_owned())),
            (Self::Organizer(own), None) => Ok(Scope::Organizer(own.clone())),
            (Self::Organizer(own), Some(o)) if o == own => Ok(Scope::Organizer(own.clone())),
            (Self::Organizer(_), Some(_)) => {
                Err(ApiError::forbidden("an organizer token reaches only its own organizer"))
            }
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

/// The store key of an organizer token's digest.
pub fn token_key(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("tok:{hex}")
}

/// Middleware: finds the caller, or answers 401. Puts the [`Principal`] into the request.
pub async fn authenticate(State(state): State<AdminState>, mut req: Request, next: Next) -> Response {
    let header = req.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes().to_vec());
    let principal = match header.as_deref() {
        Some(h) if state.token.as_ref().is_some_and(|t| t.matches_header(Some(h))) => {
            Some(Principal::Operator)
        }
        Some(h) => match organizer_of(&state, h).await {
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

async fn organizer_of(state: &AdminState, header: &[u8]) -> Result<Option<Principal>, ApiError> {
    let Some(token) = header.strip_prefix(b"Bearer ").or_else(|| header.strip_prefix(b"bearer ")) else {
        return Ok(None);
    };
    let Ok(token) = std::str::from_utf8(token) else { return Ok(None) };
    if token.len() < 16 || token.len() > 256 {
        return Ok(None);
    }
    let org = state.store.get(&token_key(token)).await?;
    Ok(org.and_then(|o| String::from_utf8(o).ok()).filter(|o| is_slug(o)).map(Principal::Organizer))
}
