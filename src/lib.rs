//! Doorman: edge middleware for ticket shops.
//!
//! It sits in front of a ticketing webshop, forwards what it does not handle itself to the
//! ticketing backend, and runs as a reverse proxy, as a tower layer, or (later) as a WebAssembly
//! component. See `ARCHITECTURE.md` for the map of this crate.
//!
//! - [`core`]: the sans-I/O rules (policy, forwarding headers). No sockets, files or runtime.
//! - [`app`]: the flows (the checkout, the audit log), runtime-free, shared by every host.
//! - [`ports`]: the traits the core and the app need from the world (store, clock, tasks, ...).
//! - [`testkit`]: ports tests drive by hand (a manual clock, seeded randomness, an in-memory store).
//! - `adapters`: store implementations (embedded redb file, Redis).
//! - `hosts`: the tower layer, the reverse-proxy server, the admin API, the demo and the CLI.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod core;
pub mod ports;
pub mod testkit;

#[cfg(feature = "native")]
pub mod adapters;
#[cfg(feature = "native")]
pub mod demo;
#[cfg(feature = "native")]
pub mod hosts;
