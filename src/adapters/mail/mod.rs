//! Mail transports: a folder of `.eml` files (the embedded default for one node and the demo).
//! SMTP through `lettre` comes next; see `ports::mail`.

mod file;

pub use self::file::FileMailer;
