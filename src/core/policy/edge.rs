//! The settings the WebAssembly component reads from its platform's variables (Spin's
//! `[variables]`, granted to the component in `spin.toml`). One table, read by the component's
//! settings reader and checked against `spin.toml` and the README by tests, so the three cannot
//! drift apart.

/// One variable the component reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeVariable {
    /// Its name (a Spin `LowerSnakeId`).
    pub name: &'static str,
    /// Whether every deployment must set it.
    pub required: bool,
    /// Whether it holds a secret.
    pub secret: bool,
}

/// The compiled policy (`doorman compile-policy FILE`, the TOML file native Doorman reads).
pub const POLICY: &str = "policy";
/// The backend URL: a policy override (`DOORMAN_BACKEND_URL`), and the one outbound host.
pub const BACKEND_URL: &str = "backend_url";
/// The e-mail hash key (`DOORMAN_HASH_KEY` natively).
pub const HASH_KEY: &str = "hash_key";
/// The session cookie's key (`DOORMAN_SESSION_KEY`).
pub const SESSION_KEY: &str = "session_key";
/// The waitlist's link key (`DOORMAN_LINK_KEY`).
pub const LINK_KEY: &str = "link_key";
/// The data keys personal data is sealed with (`DOORMAN_DATA_KEY`).
pub const DATA_KEY: &str = "data_key";
/// The key-value store label the component opens (`default` unless set).
pub const KV_STORE: &str = "kv_store";

/// Every variable the component reads by name (any other declared variable overrides the
/// policy, as `DOORMAN_<NAME>` does natively).
pub const EDGE_VARIABLES: &[EdgeVariable] = &[
    EdgeVariable { name: POLICY, required: true, secret: false },
    EdgeVariable { name: BACKEND_URL, required: true, secret: false },
    EdgeVariable { name: HASH_KEY, required: false, secret: true },
    EdgeVariable { name: SESSION_KEY, required: false, secret: true },
    EdgeVariable { name: LINK_KEY, required: false, secret: true },
    EdgeVariable { name: DATA_KEY, required: false, secret: true },
    EdgeVariable { name: KV_STORE, required: false, secret: false },
];
