//! The admin API's errors and its JSON body extractor: every failure is JSON `{"error": "…"}`.
//! Also the error answers that many operations share, as OpenAPI response components.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::ToSchema;

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

/// Every error of the admin API.
#[derive(Serialize, ToSchema)]
#[schema(as = Error, example = json!({"error": "email_hash: 64 lowercase hex digits"}))]
pub struct ErrorBody {
    /// What went wrong, for a person to read; for bad input it names the field.
    pub error: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorBody { error: self.1 })).into_response()
    }
}

/// A JSON error answer described by `description`, with its examples (one is shown as
/// `example`, several by name).
fn error_answer(description: &str, examples: &[(&str, &str)]) -> ResponseBuilder {
    let mut content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Error")));
    match examples {
        [] => {}
        [(_, message)] => content = content.example(Some(json!({ "error": message }))),
        many => {
            content = content.examples_from_iter(many.iter().map(|(name, message)| {
                let example = utoipa::openapi::example::ExampleBuilder::new()
                    .value(Some(json!({ "error": message })))
                    .build();
                (*name, example)
            }))
        }
    }
    ResponseBuilder::new().description(description).content("application/json", content.build())
}

/// Defines a reusable error answer: a unit type whose [`utoipa::ToResponse`] is a component of
/// `components.responses` under the type's name.
macro_rules! error_responses {
    ($($(#[doc = $doc:literal])+ $name:ident $examples:expr;)+) => {$(
        $(#[doc = $doc])+
        pub struct $name;

        impl<'r> utoipa::ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<utoipa::openapi::Response>) {
                let description = [$($doc.trim()),+].join(" ");
                (stringify!($name), error_answer(&description, $examples).build().into())
            }
        }
    )+};
}

error_responses! {
    /// Bad input: the message names the field. Also malformed JSON, a body without
    /// `Content-Type: application/json`, unknown fields and unknown query parameters.
    BadRequest &[("", "give exactly one of account, email, email_hash, account_hash")];
    /// An organizer token asked for another organizer's data, or for something only the
    /// operator token may do.
    Forbidden &[
        ("other organizer", "an organizer token reaches only its own organizer"),
        ("operator only", "only the operator token may do this"),
    ];
    /// Another organizer, or a box-office token.
    NotTheirOrganizer &[("", "an organizer token reaches only its own organizer")];
    /// The event is not the organizer's (or, for a change, a box-office token).
    NotTheirEvent &[("", "an organizer token reaches only its own organizer")];
    /// There is no such organizer.
    NoSuchOrganizer &[("", "no such organizer")];
    /// An organizer token was used: only the operator token may do this.
    OperatorOnly &[("", "only the operator token may do this")];
    /// The policy has no `[blacklist]` section, so there is nothing to manage.
    NoBlacklist &[("", "the policy has no [blacklist] section")];
    /// The JSON body is over 64 KiB.
    PayloadTooLarge &[("", "Failed to buffer the request body: length limit exceeded")];
    /// The store cannot be reached (this can also happen while checking an organizer token), or,
    /// for changes to blacklist entries, the first start after an upgrade is still moving them to
    /// the new key layout, or the system's randomness failed to draw a token. Either way: try
    /// again.
    StoreUnavailable &[
        ("store", "the store is unavailable; try again in a moment"),
        ("entries moving", "the blacklist's entries are being moved to this version's key layout; try again in a minute"),
        ("randomness", "no token could be drawn; try again in a moment"),
    ];
}

/// The answers any admin call that reaches the store may get, declared once: 401 (no valid
/// token) and 503 (the store, or a draw, failed). Listed last in a handler's `responses`.
pub struct CommonErrors;

impl utoipa::IntoResponses for CommonErrors {
    fn responses() -> std::collections::BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        [("401", "Unauthorized"), ("503", "StoreUnavailable")]
            .into_iter()
            .map(|(status, name)| {
                (status.to_owned(), RefOr::Ref(utoipa::openapi::Ref::from_response_name(name)))
            })
            .collect()
    }
}

/// No valid bearer token (missing, malformed, or neither the operator's nor a current
/// organizer or box-office token).
pub struct Unauthorized;

impl<'r> utoipa::ToResponse<'r> for Unauthorized {
    fn response() -> (&'r str, RefOr<utoipa::openapi::Response>) {
        let header = HeaderBuilder::new()
            .schema(Some(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::String)
                    .enum_values(Some(["Bearer"]))
                    .build(),
            ))
            .description(Some("Always `Bearer`."))
            .build();
        let answer = error_answer(
            "No valid bearer token (missing, malformed, or neither the operator's nor a current \
             organizer or box-office token).",
            &[("", crate::hosts::admin::principal::UNAUTHORIZED)],
        );
        ("Unauthorized", answer.header("WWW-Authenticate", header).build().into())
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
            AdminError::Busy(m) => Self(StatusCode::SERVICE_UNAVAILABLE, m),
            AdminError::NoRandomness(e) => {
                tracing::error!(error = %e, "admin: no token drawn");
                Self(StatusCode::SERVICE_UNAVAILABLE, "no token could be drawn; try again in a moment".into())
            }
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
