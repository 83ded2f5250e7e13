//! The one place where forwarding failures become responses.
//!
//! Clients see a short neutral page and the request id; the cause goes to the log. Nothing
//! internal (backend address, error text) reaches the client.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;

use super::pool::PoolError;
use crate::hosts::metrics::BackendErrorKind;

/// Why a request was not forwarded.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// The backend could not be reached.
    #[error("backend unreachable: {0}")]
    Connect(PoolError),
    /// The backend did not send a response head in time.
    #[error("backend response timed out")]
    Timeout,
    /// The exchange failed after connecting (bad status line, closed connection, client gone).
    #[error("forwarding failed: {0}")]
    Protocol(PoolError),
    /// The backend answered 101 to a request that asked for no upgrade (RFC 9110 §15.2.2
    /// forbids it); there is no tunnel to hand the client.
    #[error("backend switched protocols unasked")]
    UnaskedUpgrade,
}

impl ForwardError {
    /// The status the client gets.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Self::Connect(_) | Self::Protocol(_) | Self::UnaskedUpgrade => StatusCode::BAD_GATEWAY,
        }
    }

    /// The metrics label.
    pub fn kind(&self) -> BackendErrorKind {
        match self {
            Self::Connect(_) => BackendErrorKind::Connect,
            Self::Timeout => BackendErrorKind::Timeout,
            Self::Protocol(_) | Self::UnaskedUpgrade => BackendErrorKind::Protocol,
        }
    }
}

/// A neutral error page: the status and one sentence. The caller adds the request id.
pub fn error_page(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(error_html(status))));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The HTML of a neutral error page.
pub fn error_html(status: StatusCode) -> String {
    let (title, sentence) = match status {
        StatusCode::GATEWAY_TIMEOUT => {
            ("Gateway Timeout", "The shop is taking too long to answer. Please try again in a moment.")
        }
        StatusCode::BAD_GATEWAY => {
            ("Bad Gateway", "The shop cannot be reached right now. Please try again in a moment.")
        }
        StatusCode::PAYLOAD_TOO_LARGE => ("Payload Too Large", "The request is too large."),
        StatusCode::BAD_REQUEST => ("Bad Request", "The request could not be understood."),
        _ => ("Error", "Something went wrong. Please try again in a moment."),
    };
    let code = status.as_u16();
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{code} {title}</title></head>\
         <body><h1>{title}</h1><p>{sentence}</p></body></html>\n"
    )
}

impl From<PoolError> for ForwardError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Connect { .. } => Self::Connect(e),
            PoolError::Exchange(_) => Self::Protocol(e),
        }
    }
}
