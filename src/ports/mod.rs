//! Ports: the small traits through which the core and the application tier reach the world.
//!
//! Hosts implement them with real parts (tokio, Redis, redb, `wasi:*`); tests may use fakes.
//! Every store implementation passes the same test suite (`tests/store`).

pub mod body;
pub mod clock;
pub mod events;
pub mod mail;
pub mod random;
pub mod sms;
pub mod store;
pub mod tasks;
