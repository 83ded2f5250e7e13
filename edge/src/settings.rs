//! Settings and secrets from `wasi:config` (Spin variables), read per request; nothing is baked
//! into the component. The names are `doorman::core::policy::edge`'s table, which tests check
//! against `spin.toml` and the README.
//!
//! | variable | meaning |
//! |---|---|
//! | `policy` | the compiled policy: `doorman compile-policy FILE` of the TOML native Doorman reads (required) |
//! | `hash_key` | the e-mail hash key, as `DOORMAN_HASH_KEY` natively (for `hash = "hmac"`) |
//! | `session_key` | the session-cookie key, as `DOORMAN_SESSION_KEY` (HS256 secret or PEM public key) |
//! | `link_key` | the key signing the waitlist's links and forms, as `DOORMAN_LINK_KEY` (for a `[waitlist]`) |
//! | `data_key` | the data keys sealing the waitlist's personal data, as `DOORMAN_DATA_KEY` (for a `[waitlist]`) |
//! | `kv_store` | the key-value store label to open (default `default`) |
//! | any other, e.g. `backend_url` | a policy override, as the environment variable `DOORMAN_BACKEND_URL` natively |

use doorman::app::{secrets, AppSpec};
use doorman::core::policy::{edge, Policy};

use crate::bindings::wasi::config::store as config;

/// What one request needs from the settings.
pub struct Settings {
    /// The validated policy.
    pub policy: Policy,
    /// The features the policy turns on, with their secrets.
    pub spec: AppSpec,
    /// The key-value store label.
    pub store_label: String,
}

/// Reads and validates the settings; the error names the variable or policy field.
pub fn load() -> Result<Settings, String> {
    let all = config::get_all().map_err(|e| match e {
        config::Error::Upstream(m) | config::Error::Io(m) => format!("variables unavailable: {m}"),
    })?;
    let (mut text, mut hash_key, mut session_key, mut store_label) = (None, None, None, None);
    let mut link_key = None;
    let mut data_key = None;
    let mut overrides = Vec::new();
    for (name, value) in all {
        // An empty secret is an unset one (Spin variables need a default to be optional).
        let secret = || Some(value.clone()).filter(|v| !v.is_empty());
        match name.as_str() {
            edge::POLICY => text = Some(value),
            edge::HASH_KEY => hash_key = secret(),
            edge::SESSION_KEY => session_key = secret(),
            edge::LINK_KEY => link_key = secret(),
            edge::DATA_KEY => data_key = secret(),
            edge::KV_STORE => store_label = Some(value),
            // `backend_url` among them: it overrides `backend.url`.
            other => overrides.push((format!("DOORMAN_{}", other.to_ascii_uppercase()), value)),
        }
    }
    let text = text.ok_or("the variable `policy` (the compiled policy) is not set")?;
    let policy =
        Policy::from_compiled_str("variable `policy`", &text, overrides).map_err(|e| e.to_string())?;
    let (mut hasher, mut session, mut signer, mut vault) = (None, None, None, None);
    if let Some(b) = &policy.blacklist {
        hasher = Some(
            secrets::email_hasher(b, hash_key.as_deref().map(str::as_bytes))
                .map_err(|e| format!("variable `hash_key`: {e}"))?,
        );
        session = secrets::session_verifier(b, session_key.as_deref().map(str::as_bytes))
            .map_err(|e| format!("variable `session_key`: {e}"))?;
    }
    if policy.waitlist.is_some() {
        let key = link_key.ok_or("variable `link_key`: the waitlist signs its links and needs a key")?;
        signer = Some(secrets::link_signer(key.as_bytes()).map_err(|e| format!("variable `link_key`: {e}"))?);
        let keys = data_key.ok_or("variable `data_key`: the waitlist seals personal data and needs a key")?;
        vault = Some(secrets::data_keys(keys.as_bytes()).map_err(|e| format!("variable `data_key`: {e}"))?);
    }
    let spec = AppSpec::from_policy(&policy, hasher, session, signer, vault).map_err(|e| e.to_string())?;
    Ok(Settings { policy, spec, store_label: store_label.unwrap_or_else(|| "default".into()) })
}
