//! Adapters: implementations of the ports against real systems.

pub mod mail;
pub mod sms;
pub mod store;
