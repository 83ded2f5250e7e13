//! One customer, several addresses, over HTTP (operator token only); the rules are
//! `app::admin::customers`'.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /v1/customers/attach` | `{account \| account_hash, email \| email_hash, move?}` | 200 the attachment / 409 attached elsewhere |
//! | `POST /v1/customers/detach` | `{account \| account_hash, email \| email_hash}` | 200 / 404 |
//! | `POST /v1/customers/addresses` | `{account \| account_hash}` | 200 `{email_hashes: [...]}` |

use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::{
    ApiError, BadRequest, Body, CommonErrors, ErrorBody, NoBlacklist, OperatorOnly, PayloadTooLarge,
};
use super::principal::Principal;
use super::AdminState;
use crate::app::admin::{AccountAddresses, AccountRequest, AddressRequest, Attachment, Removed};

/// Attach an address to a customer's account
///
/// From now on, on every node, an entry by this account also turns back guest checkouts and
/// waitlist signups with this address. The address is hashed on arrival; only its hash is
/// stored and answered. An address belongs to one account at most: attaching it to another is
/// answered 409 unless `move` is `true`, which detaches it there in the same change. Attaching
/// it again to its own account changes nothing. Operator token only; written to the audit log.
#[utoipa::path(
    post, path = "/v1/customers/attach", operation_id = "attachAddress", tag = "customers",
    request_body = AddressRequest,
    responses(
        (status = 200, description = "The address is attached.", body = Attachment),
        (status = 400, response = BadRequest),
        (status = 403, response = OperatorOnly),
        (status = 409, description = "The address is attached to another account (or the policy has no blacklist).", body = ErrorBody,
            example = json!({"error": "the address is attached to another account: detach it there first, or give \"move\": true"})),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn attach(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    body: Result<Body<AddressRequest>, ApiError>,
) -> Result<Response, ApiError> {
    who.require_operator()?;
    let Body(req) = body?;
    Ok(Json(state.admin.attach_address(&who, &req).await?).into_response())
}

/// Detach an address from a customer's account
///
/// The account's entries stop applying to the address at once. Operator token only; written to
/// the audit log.
#[utoipa::path(
    post, path = "/v1/customers/detach", operation_id = "detachAddress", tag = "customers",
    request_body = AddressRequest,
    responses(
        (status = 200, description = "The address is detached.", body = Removed),
        (status = 400, response = BadRequest),
        (status = 403, response = OperatorOnly),
        (status = 404, description = "The address is not attached to this account.", body = ErrorBody,
            example = json!({"error": "the address is not attached to this account"})),
        (status = 409, response = NoBlacklist),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn detach(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    body: Result<Body<AddressRequest>, ApiError>,
) -> Result<Response, ApiError> {
    who.require_operator()?;
    let Body(req) = body?;
    Ok(Json(state.admin.detach_address(&who, &req).await?).into_response())
}

/// A customer's attached addresses
///
/// The hashes of the addresses attached to an account. A POST, so that the account id stays out
/// of URLs and access logs. Operator token only.
#[utoipa::path(
    post, path = "/v1/customers/addresses", operation_id = "accountAddresses", tag = "customers",
    request_body = AccountRequest,
    responses(
        (status = 200, description = "The account's addresses, as hashes.", body = AccountAddresses),
        (status = 400, response = BadRequest),
        (status = 403, response = OperatorOnly),
        (status = 409, response = NoBlacklist),
        (status = 413, response = PayloadTooLarge),
        CommonErrors,
    )
)]
pub async fn addresses(
    State(state): State<AdminState>,
    Extension(who): Extension<Principal>,
    body: Result<Body<AccountRequest>, ApiError>,
) -> Result<Response, ApiError> {
    who.require_operator()?;
    let Body(req) = body?;
    Ok(Json(state.admin.account_addresses(&who, &req).await?).into_response())
}
