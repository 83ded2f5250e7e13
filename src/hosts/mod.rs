//! Hosts: what wires adapters to the core and talks to the world. They hold no business rules.

pub mod admin;
pub mod admin_client;
pub mod cli;
pub mod layer;
pub mod metrics;
pub mod proxy;
pub mod serve;
