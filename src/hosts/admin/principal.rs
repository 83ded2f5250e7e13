//! Who is calling the admin API: the operator (its token compared in constant time) or an
//! organizer (`app::admin` checks organizer tokens against their record). The rules of what
//! each may reach are `app::admin::Principal`'s.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::AdminState;
use crate::app::admin::strip_bearer;
pub use crate::app::admin::{token_digest, Principal};

/// The message of a 401.
pub const UNAUTHORIZED: &str = "a valid bearer token is required";

/// Middleware: finds the caller, or answers 401. Puts the [`Principal`] into the request.
pub async fn authenticate(State(state): State<AdminState>, mut req: Request, next: Next) -> Response {
    let given =
        req.headers().get(header::AUTHORIZATION).and_then(|v| strip_bearer(v.as_bytes())).map(<[u8]>::to_vec);
    let principal = match given {
        Some(token) if state.token.as_ref().is_some_and(|t| t.matches(&token)) => Some(Principal::Operator),
        Some(token) => match state.admin.organizer_of(&token).await {
            Ok(p) => p,
            Err(e) => return ApiError::from(e).into_response(),
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
            axum::Json(super::error::ErrorBody { error: UNAUTHORIZED.into() }),
        )
            .into_response(),
    }
}
