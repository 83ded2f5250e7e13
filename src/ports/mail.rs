//! The mail port: hands one finished message to a transport (SMTP, a folder of `.eml` files, an
//! HTTP mail API). Messages are composed by the application tier and kept in the durable outbox
//! (`app::outbox`) until a transport has taken them.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

/// One message, ready to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// Its `Message-ID` without the angle brackets; the same on every attempt, so a receiver can
    /// drop a copy sent twice.
    pub id: String,
    /// The envelope sender.
    pub from: String,
    /// The envelope recipient.
    pub to: String,
    /// The whole message as RFC 5322 text (headers encoded, 7-bit).
    pub message: String,
}

/// Why a transport did not take a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Try again later (server down, greylisted, timeout).
    #[error("temporary mail failure: {0}")]
    Transient(String),
    /// Will never work (address refused for good).
    #[error("permanent mail failure: {0}")]
    Permanent(String),
}

impl MailError {
    /// The same failure with its text changed by `f`.
    pub fn map_text(self, f: impl FnOnce(String) -> String) -> Self {
        match self {
            Self::Transient(text) => Self::Transient(f(text)),
            Self::Permanent(text) => Self::Permanent(f(text)),
        }
    }
}

/// The future of [`Mailer::send`].
pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<(), MailError>> + Send + 'a>>;

/// A mail transport.
pub trait Mailer: Send + Sync + 'static {
    /// Sends `mail`; `Ok` once the transport has taken it for good.
    fn send<'a>(&'a self, mail: &'a Mail) -> Sending<'a>;
}
