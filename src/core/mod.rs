//! The sans-I/O core: policy model and the pure rules of forwarding.
//!
//! Invariant: nothing under `core` does I/O or imports tokio, hyper, redis, redb or wasi
//! bindings. It compiles for `wasm32-wasip2` and takes time as an argument.

pub mod blacklist;
pub mod email;
pub mod email_hash;
pub mod error_page;
pub mod expiry;
pub mod fields;
pub mod forwarding;
pub mod policy;
pub mod route;
pub mod sealing;
pub mod text;
pub mod waitlist;
