//! Ports: the small traits through which the core's users reach the world.
//!
//! Every store implementation passes the same test suite (`tests/store`).

pub mod store;
