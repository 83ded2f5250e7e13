//! The admin API's errors and its JSON body extractor: every failure is JSON `{"error": "…"}`.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::app::admin::AdminError;
use crate::ports::store::StoreError;

/// An admin API error: status and a message for the caller.
pub struct ApiError(pub StatusCode, pub String);

impl ApiError {
    /// A 400 with `msg`.
    pub fn bad(msg: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, msg.into())
    }

    /// A 403 with `msg`.
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self(StatusCode::FORBIDDEN, msg.into())
    }

    /// A 404 with `msg`.
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self(StatusCode::NOT_FOUND, msg.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::warn!(error = %e, "admin: store failed");
        Self(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable; try again in a moment".into())
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::BadInput(m) => Self(StatusCode::BAD_REQUEST, m),
            AdminError::Forbidden(m) => Self(StatusCode::FORBIDDEN, m),
            AdminError::NotFound(m) => Self(StatusCode::NOT_FOUND, m),
            AdminError::Conflict(m) => Self(StatusCode::CONFLICT, m),
            AdminError::Unavailable(e) => e.into(),
        }
    }
}

/// `Query<T>` whose rejections are JSON 400s naming the problem.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Params(v))
            .map_err(|rejection| ApiError::bad(rejection.body_text()))
    }
}

/// `Json<T>` whose rejections are JSON 400s naming the problem.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(ApiError(
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    rejection.status()
                } else {
                    StatusCode::BAD_REQUEST
                },
                rejection.body_text(),
            )),
        }
    }
}
