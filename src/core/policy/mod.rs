//! The policy: everything an operator configures, loaded from TOML into validated types.
//!
//! ```
//! use doorman::core::policy::Policy;
//! let policy = Policy::from_toml_str(
//!     "example.toml",
//!     "[backend]\nurl = \"http://127.0.0.1:9000\"\n",
//!     std::iter::empty(),
//! )
//! .unwrap();
//! assert_eq!(policy.backend.authority, "127.0.0.1:9000");
//! ```
//!
//! Loading never panics on user input: every problem is a [`PolicyError`] naming the file, the
//! field and what is wrong. Secrets are never read from here; the policy names files to read them
//! from, and the hosts read those.

pub mod edge;
mod env;
mod error;
mod raw;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use http::HeaderName;
use ipnet::IpNet;

pub use env::{Override, PREFIX as ENV_PREFIX, RESERVED as RESERVED_ENV};
pub use error::PolicyError;

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Listeners, workers and client-facing limits.
    pub server: ServerPolicy,
    /// The ticketing backend everything is forwarded to.
    pub backend: BackendPolicy,
    /// How forwarding headers are written.
    pub forwarding: ForwardingPolicy,
    /// Where durable state lives.
    pub store: StorePolicy,
    /// The admin API.
    pub admin: AdminPolicy,
    /// The blacklist, when the policy declares checkout routes.
    pub blacklist: Option<crate::core::blacklist::BlacklistPolicy>,
    /// The waitlist, when the policy has a `[waitlist]` section.
    pub waitlist: Option<WaitlistPolicy>,
    /// Environment variables that overrode fields of the file.
    pub overrides: Vec<Override>,
    /// `DOORMAN_*` service links (Kubernetes, Docker) that were left alone, by name.
    pub ignored_env: Vec<String>,
}

/// `[waitlist]`: where the waitlist's pages live and how it mails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistPolicy {
    /// The shop's public address, for links in mails (`https://shop.example`).
    pub public_url: String,
    /// The mails' sender (`Shop <waitlist@shop.example>`).
    pub from: String,
    /// Where the pages live (default `/waitlist`).
    pub mount: String,
    /// The backend's event page with `{event}`, for "back" links.
    pub event_page: Option<String>,
    /// The file holding the key that signs links and forms (else `DOORMAN_LINK_KEY`).
    pub link_key_file: Option<PathBuf>,
    /// The file holding the data keys personal data is sealed with, the sealing one first (else
    /// `DOORMAN_DATA_KEY`).
    pub data_key_file: Option<PathBuf>,
    /// Signups one address may attempt per hour per event (default 5).
    pub signups_per_address_per_hour: u32,
    /// Form posts one browser session may make per 10 minutes (default 30).
    pub posts_per_client_per_10_minutes: u32,
    /// Form posts all clients at one address (IPv6: one /64) may make per 10 minutes, together
    /// (default 3000: a rush behind one carrier NAT).
    pub posts_per_network_per_10_minutes: u32,
    /// How mail leaves.
    pub mail: MailTransport,
    /// The first retry of a message the transport refused for now; doubling up to an hour.
    pub retry_after: Duration,
    /// Where text messages go (offers to signups with a phone number), if anywhere.
    pub sms: Option<SmsPolicy>,
    /// Where Doorman inserts the "Join the waitlist" button into the backend's event pages.
    pub button: Option<crate::core::waitlist::button::ButtonPlacement>,
    /// The backend's claim route, where Doorman checks offers' codes before forwarding.
    pub claim: Option<crate::core::waitlist::claim::ClaimRoute>,
}

/// `[waitlist.mail]`: how the outbox's mail leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// One `.eml` file per message in a folder (relative: under the data folder).
    File {
        /// The folder (default `outbox`).
        dir: PathBuf,
    },
    /// An SMTP server.
    Smtp(SmtpPolicy),
}

/// `[waitlist.sms]`: the SMS provider's HTTP webhook. Each message is one JSON `POST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsPolicy {
    /// The webhook: `https://`, or `http://` to a loopback address only.
    pub url: String,
    /// The JSON body with `{to}`, `{text}`, `{id}` inside its strings.
    pub body: String,
    /// Connect and answer timeout (default 10 s).
    pub timeout: Duration,
    /// Stands in for the leading `0` of national numbers (`+49`); without it only numbers
    /// written internationally get a text message.
    pub country_code: Option<String>,
    /// The file holding the webhook's token (else `DOORMAN_SMS_TOKEN`).
    pub token_file: Option<PathBuf>,
    /// CAs to trust (PEM), instead of the system's bundle.
    pub ca_file: Option<PathBuf>,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS at all: only for a relay on loopback.
    None,
}

/// `[waitlist.mail]` with `transport = "smtp"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpPolicy {
    /// The server's host name (also the name its certificate must carry).
    pub host: String,
    /// The port (default 587, or 465 for implicit TLS, 25 without TLS).
    pub port: u16,
    /// STARTTLS, implicit TLS, or none.
    pub security: SmtpSecurity,
    /// The user to authenticate as, if any (the password from `DOORMAN_SMTP_PASSWORD` or
    /// `password_file`).
    pub username: Option<String>,
    /// The file holding the password.
    pub password_file: Option<PathBuf>,
    /// CAs to trust (PEM), instead of the system's bundle.
    pub ca_file: Option<PathBuf>,
    /// Connect and command timeout (default 10 s).
    pub timeout: Duration,
}

/// `[server]`: listeners, workers and client-facing limits.
#[derive(Debug, Clone)]
pub struct ServerPolicy {
    /// Public listener (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// Operations and admin listener (default `127.0.0.1:8081`).
    pub admin_listen: SocketAddr,
    /// Worker threads, each with its own event loop and backend pool; 0 means one per CPU.
    pub workers: u32,
    /// Accept HTTP/2 (h2c prior knowledge) besides HTTP/1.1 (default true).
    pub http2: bool,
    /// How long a client may take to send a request head (default 10 s).
    pub header_read_timeout: Duration,
    /// Largest request head accepted; beyond it the client gets 431 (default 16 KiB).
    pub max_header_bytes: usize,
    /// How long in-flight requests may run on after SIGTERM/SIGINT (default 30 s).
    pub shutdown_grace: Duration,
    /// TLS on the public listener, when the policy names a certificate and key.
    pub tls: Option<TlsFiles>,
}

/// PEM files for TLS on the public listener (paths as written, relative to the policy file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
}

/// TLS towards an `https://` backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendTls {
    /// PEM bundle of the certificate authorities to trust (relative to the policy file); `None`
    /// means the system's bundle.
    pub ca_file: Option<PathBuf>,
    /// The name the backend's certificate must carry, also sent as SNI (default: the URL's host).
    pub server_name: String,
}

/// `[backend]`: the ticketing backend.
#[derive(Debug, Clone)]
pub struct BackendPolicy {
    /// The URL as written, e.g. `http://127.0.0.1:9000`.
    pub url: String,
    /// `host:port` of the backend.
    pub authority: String,
    /// Time allowed to open a TCP connection; beyond it the client gets 502 (default 2 s).
    pub connect_timeout: Duration,
    /// Time allowed until the response head arrives; beyond it the client gets 504 (default 30 s).
    pub response_timeout: Duration,
    /// How long an idle pooled connection is kept (default 90 s).
    pub pool_idle_timeout: Duration,
    /// Idle pooled connections kept per worker (default 256).
    pub pool_max_idle: usize,
    /// What the backend sees in `Host`.
    pub host: HostRewrite,
    /// TLS towards the backend, for `https://` URLs.
    pub tls: Option<BackendTls>,
}

/// What the backend sees in the `Host` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRewrite {
    /// The client's `Host` (default).
    Preserve,
    /// The backend URL's authority.
    Backend,
    /// A fixed value.
    Fixed(http::HeaderValue),
}

/// `[forwarding]`: headers Doorman writes on forwarded requests.
#[derive(Debug, Clone)]
pub struct ForwardingPolicy {
    /// Peers whose `Forwarded` / `X-Forwarded-*` values are kept and appended to; from everyone
    /// else those headers are replaced (default: none).
    pub trusted_proxies: Vec<IpNet>,
    /// Header carrying the request id, propagated or generated (default `x-request-id`).
    pub request_id_header: HeaderName,
    /// Where a host that sees no connection (the edge component) finds the client's address:
    /// a header its platform writes, over any the client sent (default `spin-client-addr`,
    /// Spin's own). Native hosts use the connection's peer instead.
    pub client_address_header: HeaderName,
}

/// Spin's header with the address of the connection a request came on.
pub const SPIN_CLIENT_ADDR: &str = "spin-client-addr";

impl Default for ForwardingPolicy {
    /// No trusted proxies, ids in `x-request-id`, the edge's client in `spin-client-addr`: a
    /// policy file's defaults.
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            request_id_header: HeaderName::from_static("x-request-id"),
            client_address_header: HeaderName::from_static(SPIN_CLIENT_ADDR),
        }
    }
}

/// `[store]`: where durable state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorePolicy {
    /// The embedded durable store, a file under `--data-dir` (default).
    Embedded {
        /// Key namespace.
        namespace: String,
    },
    /// A Redis server.
    Redis {
        /// `redis://` or `rediss://` URL.
        url: String,
        /// Key namespace (prefix).
        namespace: String,
    },
    /// A Redis Cluster, reached through any of its nodes.
    RedisCluster {
        /// `redis://` or `rediss://` URLs of nodes to learn the cluster from (one is enough).
        urls: Vec<String>,
        /// Key namespace (prefix).
        namespace: String,
    },
}

impl StorePolicy {
    /// The key namespace: every key is `namespace:key`, on every store and runtime.
    pub fn namespace(&self) -> &str {
        match self {
            Self::Embedded { namespace }
            | Self::Redis { namespace, .. }
            | Self::RedisCluster { namespace, .. } => namespace,
        }
    }
}

/// `[admin]`: the admin API.
#[derive(Debug, Clone, Default)]
pub struct AdminPolicy {
    /// File holding the operator bearer token; `DOORMAN_ADMIN_TOKEN` wins over it.
    pub token_file: Option<PathBuf>,
}

/// The policy document: the file's tables as JSON values. TOML is read into it natively; the
/// compiled form (`doorman compile-policy`) is its JSON text, which the edge component reads
/// without a TOML parser.
pub(crate) type Document = serde_json::Map<String, serde_json::Value>;

// === impl Policy ===

impl Policy {
    /// Parses and validates a policy from TOML text, applying `DOORMAN_*` overrides from `env`.
    ///
    /// `source_name` (usually the file path) is used in error messages.
    #[cfg(feature = "native")]
    pub fn from_toml_str(
        source_name: &str,
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, PolicyError> {
        Self::from_document(source_name, toml_document(source_name, text)?, env)
    }

    /// Parses and validates a compiled policy (the JSON text [`compile_toml`] writes), applying
    /// `DOORMAN_*` overrides from `env`: how the edge component reads its `policy` variable.
    pub fn from_compiled_str(
        source_name: &str,
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, PolicyError> {
        let document: Document = serde_json::from_str(text).map_err(|e| {
            let message = if text.trim_start().starts_with('{') {
                format!("not a compiled policy: {e}")
            } else {
                "holds no compiled policy (a JSON object); compile the policy TOML with \
                 `doorman compile-policy FILE`"
                    .to_owned()
            };
            PolicyError::new(source_name, "", message)
        })?;
        Self::from_document(source_name, document, env)
    }

    fn from_document(
        source_name: &str,
        mut document: Document,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, PolicyError> {
        let env::Applied { overrides, ignored } = env::apply(source_name, &mut document, env)?;
        let raw: raw::RawPolicy = deserialize(document).map_err(|(field, message)| {
            let mut message = message;
            if let Some(o) = overrides.iter().find(|o| field.starts_with(&o.field)) {
                message.push_str(&format!(" (set by {})", o.variable));
            }
            PolicyError::new(source_name, field, message)
        })?;
        let mut policy = validate::validate(source_name, raw)?;
        policy.overrides = overrides;
        policy.ignored_env = ignored;
        Ok(policy)
    }
}

/// Checks a policy TOML as written (no overrides: the edge applies its own variables) and
/// answers its compiled form, one line of JSON, for the edge component's `policy` variable.
#[cfg(feature = "native")]
pub fn compile_toml(source_name: &str, text: &str) -> Result<String, PolicyError> {
    let document = toml_document(source_name, text)?;
    Policy::from_document(source_name, document.clone(), std::iter::empty())?;
    Ok(serde_json::Value::Object(document).to_string())
}

/// Reads TOML text into the policy document.
#[cfg(feature = "native")]
fn toml_document(source_name: &str, text: &str) -> Result<Document, PolicyError> {
    let table: toml::Table =
        text.parse().map_err(|e: toml::de::Error| PolicyError::new(source_name, "", syntax_message(&e)))?;
    // A table always becomes an object (a float that is not a number becomes null, which no
    // policy field takes).
    match serde_json::to_value(table) {
        Ok(serde_json::Value::Object(document)) => Ok(document),
        _ => Err(PolicyError::new(source_name, "", "cannot be read as a policy document")),
    }
}

/// The policy as written, or the field that is wrong (`""` when unknown) and why. Natively the
/// field is tracked (`serde_path_to_error`); the edge component goes without it, to stay small:
/// its messages still name an unknown field or the type expected.
fn deserialize(document: Document) -> Result<raw::RawPolicy, (String, String)> {
    let document = serde_json::Value::Object(document);
    #[cfg(feature = "native")]
    {
        serde_path_to_error::deserialize(document).map_err(|e| {
            let field = e.path().to_string();
            let field = if field == "." { String::new() } else { field };
            (field, e.inner().to_string())
        })
    }
    #[cfg(not(feature = "native"))]
    {
        serde::Deserialize::deserialize(document)
            .map_err(|e: serde_json::Error| (String::new(), e.to_string()))
    }
}

#[cfg(feature = "native")]
fn syntax_message(e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_owned();
    match e.span() {
        Some(span) => format!("not valid TOML (at byte {}): {msg}", span.start),
        None => format!("not valid TOML: {msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_compiled_form_reads_as_the_toml_it_came_from() {
        for file in ["policies/example.toml", "policies/demo.toml"] {
            let text =
                std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_owned() + file).unwrap();
            let compiled = compile_toml(file, &text).unwrap();
            assert!(!compiled.contains('\n'), "one line, for a variable: {compiled}");
            let env = vars(&[("DOORMAN_BACKEND_URL", "http://10.0.0.7:81"), ("DOORMAN_SERVER_WORKERS", "3")]);
            let from_toml = Policy::from_toml_str(file, &text, env.clone()).unwrap();
            let from_compiled = Policy::from_compiled_str(file, &compiled, env).unwrap();
            assert_eq!(format!("{from_toml:?}"), format!("{from_compiled:?}"), "{file}");
            assert_eq!(from_compiled.backend.authority, "10.0.0.7:81");
            assert_eq!(from_compiled.server.workers, 3);
        }
    }

    #[test]
    fn compiling_checks_the_policy_and_names_the_field() {
        let e = compile_toml("p.toml", "[backend]\nurl = \"ftp://x\"\n").unwrap_err();
        assert_eq!(e.field, "backend.url", "{e}");
        let e = compile_toml("p.toml", "[backend]\nurl = \"http://x\"\n[server]\nworkerz = 2\n").unwrap_err();
        assert!(e.message.contains("workerz"), "{e}");
        let e = compile_toml("p.toml", "[backend\n").unwrap_err();
        assert!(e.message.contains("not valid TOML"), "{e}");
    }

    #[test]
    fn a_compiled_policy_is_checked_again_where_it_is_read() {
        let read = |text: &str| Policy::from_compiled_str("variable `policy`", text, []);
        let e = read("[backend]\nurl = \"http://x\"\n").unwrap_err();
        assert!(e.message.contains("doorman compile-policy FILE"), "TOML given: {e}");
        let e = read(r#"{"backend": {"url": "http://x"}"#).unwrap_err();
        assert!(e.message.starts_with("not a compiled policy"), "{e}");
        let e = read(r#"{"backend": {"url": "ftp://x"}}"#).unwrap_err();
        assert_eq!(e.field, "backend.url", "{e}");
        let e = read(r#"{"backend": {"url": "http://x", "workers": 2}}"#).unwrap_err();
        assert!(e.message.contains("workers"), "{e}");
        let e = Policy::from_compiled_str(
            "variable `policy`",
            r#"{"backend": {"url": "http://x"}}"#,
            vars(&[("DOORMAN_SERVER_WORKERS", "many")]),
        )
        .unwrap_err();
        assert!(e.message.contains("DOORMAN_SERVER_WORKERS"), "{e}");
        assert!(read("").is_err() && read("null").is_err() && read("[]").is_err());
    }
}
