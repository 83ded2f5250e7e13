//! The waitlist's rules, sans I/O: what an event's waitlist accepts, what a signup is, how links
//! are signed, where a signup stands in line, and which store keys hold it all.
//!
//! The flows that use them (signup, confirm, cancel, my signups, the outbox) live in
//! `app::waitlist`; everything here takes time as an argument.

pub mod broadcast;
pub mod button;
pub mod claim;
pub mod form;
pub mod keys;
pub mod lang;
pub mod limits;
pub mod line;
pub mod link;
pub mod offer;
pub mod retention;
pub mod settings;
pub mod signup;
pub mod sms;

pub use self::lang::Lang;
pub use self::offer::{Offer, OfferStatus};
pub use self::settings::{Fit, Mode, WaitlistSettings};
pub use self::signup::{Annotation, Signup, Status};
