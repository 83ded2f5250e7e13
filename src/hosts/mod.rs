//! Hosts: what wires adapters to the core and talks to the world. They hold no business rules.

pub mod admin;
pub mod admin_client;
pub mod cli;
pub mod layer;
pub mod metrics;
pub mod proxy;
pub mod serve;

/// Why a command (the CLI's, or the demo) failed, which decides the exit status.
#[derive(Debug)]
pub enum Failure {
    /// Bad policy, secret or argument: exit 2.
    Usage(String),
    /// Anything else: exit 1.
    Runtime(String),
}
