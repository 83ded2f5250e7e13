//! Doorman's WebAssembly component under a real wasmtime host: the very `.wasm` that
//! `spin.toml` builds, its key-value store on a real `redis-server`, in front of a real loopback
//! backend.

#[path = "../support/mod.rs"]
mod support;

mod conformance;
mod host;
mod manifest;
mod shared;
mod smoke;
mod spin;
mod sweep;
