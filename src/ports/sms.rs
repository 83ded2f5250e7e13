//! The text-message port: hands one finished SMS to a gateway (an HTTP webhook of an SMS
//! provider). Like mail, messages are composed by the application tier and kept in the durable
//! outbox (`app::outbox`) until the gateway has taken them.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

pub use super::mail::MailError as SendError;

/// One text message, ready to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sms {
    /// Its reference, the same on every attempt (a gateway can drop a copy sent twice).
    pub id: String,
    /// The recipient's number in international form (`+` and digits).
    pub to: String,
    /// The text.
    pub text: String,
}

/// What a gateway answered for a message it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// Taken; whether it reached the phone is not known.
    Accepted,
    /// The provider says it reached the phone.
    Delivered,
}

/// The future of [`SmsGateway::send`].
pub type SmsSending<'a> = Pin<Box<dyn Future<Output = Result<Receipt, SendError>> + Send + 'a>>;

/// A text-message gateway. Failures are the mail port's two kinds: try again later, or never.
pub trait SmsGateway: Send + Sync + 'static {
    /// Sends `sms`; `Ok` once the gateway has taken it for good.
    fn send<'a>(&'a self, sms: &'a Sms) -> SmsSending<'a>;
}
