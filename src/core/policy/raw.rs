//! The policy file as written: serde types that mirror the TOML, with defaults.
//! [`super::validate`] turns them into the checked [`super::Policy`].

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    #[serde(default)]
    pub server: RawServer,
    pub backend: Option<RawBackend>,
    #[serde(default)]
    pub forwarding: RawForwarding,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub admin: RawAdmin,
    pub blacklist: Option<RawBlacklist>,
    pub waitlist: Option<RawWaitlist>,
}

/// `[waitlist]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWaitlist {
    pub public_url: Option<String>,
    pub from: Option<String>,
    pub mount: Option<String>,
    pub event_page: Option<String>,
    pub link_key_file: Option<String>,
    pub data_key_file: Option<String>,
    pub signups_per_address_per_hour: Option<u32>,
    pub posts_per_client_per_10_minutes: Option<u32>,
    pub posts_per_network_per_10_minutes: Option<u32>,
    pub mail: Option<RawMail>,
    pub sms: Option<RawSms>,
    pub button: Option<RawButton>,
    pub claim_route: Option<String>,
    pub claim_field: Option<String>,
}

/// `[waitlist.button]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawButton {
    pub route: Option<String>,
    pub selector: Option<String>,
    pub place: Option<String>,
}

/// `[waitlist.mail]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMail {
    pub transport: Option<String>,
    pub outbox_dir: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<String>,
    pub username: Option<String>,
    pub password_file: Option<String>,
    pub ca_file: Option<String>,
    pub timeout: Option<String>,
    pub retry_after: Option<String>,
}

/// `[waitlist.sms]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSms {
    pub url: Option<String>,
    pub body: Option<String>,
    pub timeout: Option<String>,
    pub country_code: Option<String>,
    pub token_file: Option<String>,
    pub ca_file: Option<String>,
}

/// `[blacklist]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBlacklist {
    pub checkout: Option<Vec<RawCheckout>>,
    pub hash: Option<String>,
    pub hash_key_file: Option<String>,
    pub account_ids: Option<String>,
    pub strip_plus_tags: Option<bool>,
    pub gmail_dots: Option<bool>,
    pub max_body_bytes: Option<u64>,
    pub match_timing: Option<bool>,
    pub blocked_delay: Option<String>,
    pub on_store_error: Option<String>,
    pub account_header: Option<String>,
    pub account_fields: Option<Vec<String>>,
    pub email_fields: Option<Vec<String>>,
    pub session_cookie: Option<String>,
    pub session_algorithm: Option<String>,
    pub session_key_file: Option<String>,
    pub session_claim: Option<String>,
    pub session_issuer: Option<String>,
    pub session_audience: Option<String>,
    pub backend: Option<String>,
    pub route_case: Option<String>,
    pub route_trailing_slash: Option<String>,
    pub field_case: Option<String>,
    pub query_fields: Option<bool>,
    pub content_types: Option<std::collections::BTreeMap<String, String>>,
    pub max_identities: Option<u64>,
    pub max_session_cookies: Option<u64>,
    pub body_read_timeout: Option<String>,
    pub event_ids: Option<String>,
    pub json_answer: Option<String>,
    pub blocked_headers: Option<std::collections::BTreeMap<String, String>>,
}

/// `[[blacklist.checkout]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheckout {
    pub route: String,
    pub redirect: String,
    pub json: Option<String>,
}

/// `[server]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<String>,
    pub admin_listen: Option<String>,
    pub workers: Option<u32>,
    pub http2: Option<bool>,
    pub header_read_timeout: Option<String>,
    pub max_header_bytes: Option<u64>,
    pub shutdown_grace: Option<String>,
    pub tls_cert_file: Option<String>,
    pub tls_key_file: Option<String>,
}

/// `[backend]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackend {
    pub url: String,
    pub connect_timeout: Option<String>,
    pub response_timeout: Option<String>,
    pub pool_idle_timeout: Option<String>,
    pub pool_max_idle: Option<u32>,
    pub host: Option<String>,
    pub tls_ca_file: Option<String>,
    pub tls_server_name: Option<String>,
}

/// `[forwarding]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawForwarding {
    pub trusted_proxies: Option<Vec<String>>,
    pub request_id_header: Option<String>,
    pub client_address_header: Option<String>,
}

/// `[store]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub url: Option<String>,
    pub cluster: Option<Vec<String>>,
    pub namespace: Option<String>,
}

/// `[admin]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    pub token_file: Option<String>,
}
