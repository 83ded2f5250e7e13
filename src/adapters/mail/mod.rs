//! Mail transports: a folder of `.eml` files (the embedded default for one node and the demo)
//! and SMTP through `lettre`; see `ports::mail`.

mod file;
mod smtp;

pub use self::file::FileMailer;
pub use self::smtp::{SmtpMailer, SYSTEM_CA_BUNDLE};
