//! The native reverse proxy: the Doorman layer wrapped around the forwarding service, served by
//! worker threads.

pub mod error;
pub mod forward;
pub mod internal;
pub mod pool;
pub mod request_id;
pub mod server;
pub mod tls;
