//! The reverse proxy against real parts on loopback: the `doorman` binary in front of a real
//! hyper backend, driven by real HTTP clients and raw TCP.

#[path = "../support/mod.rs"]
mod support;

mod admin;
mod client_faults;
mod errors;
mod fidelity;
mod framing;
mod fuzz;
mod lifecycle;
mod streaming;
mod tls;
