//! The one place where forwarding failures become responses.
//!
//! Every failure knows its origin ([`Origin`]): the client (its body was badly framed, cut
//! short, too slow or too large: 400, 408, 413), the backend (connect, timeout, protocol: 502,
//! 504) or Doorman itself (500). Clients see a short neutral page and the request id; the cause
//! goes to the log, at `debug` for client faults (they are not the operator's problem) and
//! `warn` for the others. Nothing internal (backend address, error text) reaches the client.

use http::{Response, StatusCode};

use super::pool::PoolError;
use crate::core::error_page::error_response;
use crate::hosts::layer::BodyFromBytes;
use crate::hosts::metrics::{BackendErrorKind, ClientFaultKind};

/// Who caused a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The client: nothing the operator needs to act on.
    Client,
    /// The ticketing backend.
    Backend,
    /// Doorman itself.
    Doorman,
}

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
    /// The client's request body failed while it was being forwarded.
    #[error("the client's request body failed: {0:?}")]
    Client(ClientFaultKind),
}

impl ForwardError {
    /// The status the client gets.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Self::Connect(_) | Self::Protocol(_) | Self::UnaskedUpgrade => StatusCode::BAD_GATEWAY,
            Self::Client(kind) => kind.status(),
        }
    }

    /// Who caused it.
    pub fn origin(&self) -> Origin {
        match self {
            Self::Client(_) => Origin::Client,
            Self::Connect(_) | Self::Timeout | Self::Protocol(_) | Self::UnaskedUpgrade => Origin::Backend,
        }
    }

    /// The backend-error metrics label, for failures of the backend.
    pub fn backend_kind(&self) -> Option<BackendErrorKind> {
        match self {
            Self::Connect(_) => Some(BackendErrorKind::Connect),
            Self::Timeout => Some(BackendErrorKind::Timeout),
            Self::Protocol(_) | Self::UnaskedUpgrade => Some(BackendErrorKind::Protocol),
            Self::Client(_) => None,
        }
    }
}

impl ClientFaultKind {
    /// What went wrong with a request body that failed with `error` while being read.
    pub fn of_body_error(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = cause {
            if let Some(h) = e.downcast_ref::<hyper::Error>() {
                if h.is_parse() {
                    return Self::Framing;
                }
                if h.is_timeout() {
                    return Self::TooSlow;
                }
            }
            if e.is::<http_body_util::LengthLimitError>() {
                return Self::TooLarge;
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
                        return Self::Framing
                    }
                    std::io::ErrorKind::TimedOut => return Self::TooSlow,
                    _ => {}
                }
            }
            cause = e.source();
        }
        Self::CutShort
    }
}

/// The client's fault in a failed exchange, when the failure came from the request body the
/// client was sending (hyper reports it as a "user" error whose source is the body's error).
pub fn client_fault(e: &hyper::Error) -> Option<ClientFaultKind> {
    if !e.is_user() {
        return None;
    }
    let source = std::error::Error::source(e)?;
    // Only errors of the client's own body stream: a source from hyper (the incoming body) or
    // the body-size limit. Other user errors would be Doorman's own.
    let from_body = source.is::<hyper::Error>() || source.is::<http_body_util::LengthLimitError>();
    from_body.then(|| ClientFaultKind::of_body_error(source))
}

/// A neutral error page ([`error_response`]) in the host's body type. The caller adds the
/// request id.
pub fn error_page<B: BodyFromBytes>(status: StatusCode) -> Response<B> {
    error_response(status).map(B::from_bytes)
}

impl From<PoolError> for ForwardError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Connect { .. } => Self::Connect(e),
            PoolError::Exchange(ref h) => match client_fault(h) {
                Some(kind) => Self::Client(kind),
                None => Self::Protocol(e),
            },
        }
    }
}
