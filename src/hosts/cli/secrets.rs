//! Reading the policy and the files and secrets it names: TLS certificates and keys, the admin
//! token, the e-mail hash key, the session-cookie key. Every problem is a [`Failure::Usage`]
//! (exit 2) naming the file and field.

use std::path::Path;

use super::Failure;
use crate::adapters::mail::{SmtpMailer, SYSTEM_CA_BUNDLE};
use crate::app::secrets;
use crate::app::vault::Vault;
use crate::core::blacklist::session::{JwtAlgorithm, SessionVerifier};
use crate::core::blacklist::HashMode;
use crate::core::email_hash::EmailHasher;
use crate::core::policy::Policy;
use crate::core::policy::{MailTransport, SmtpSecurity};
use crate::core::waitlist::link::Signer;
use crate::hosts::admin::AdminToken;
use crate::hosts::proxy::tls;

/// Why a `DOORMAN_*` service link is left alone (shown by `check-policy`, logged by `serve`).
pub const SERVICE_LINK: &str = "a service link set by Kubernetes or Docker, not a policy override";

/// Reads and validates a policy file, with `DOORMAN_*` overrides from the environment.
pub fn load_policy(path: &Path) -> Result<Policy, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read policy {}: {e}", path.display())))?;
    let policy = Policy::from_toml_str(&path.display().to_string(), &text, std::env::vars())
        .map_err(|e| Failure::Usage(e.to_string()))?;
    for variable in &policy.ignored_env {
        tracing::info!(%variable, "ignored: {SERVICE_LINK}");
    }
    Ok(policy)
}

/// The TLS the policy asks for, its files read and checked: the public listener's acceptor and
/// the connector for an `https://` backend.
pub fn load_tls(
    policy: &Policy,
    policy_path: &Path,
) -> Result<(Option<tokio_rustls::TlsAcceptor>, Option<tls::BackendConnector>), Failure> {
    let policy_dir = policy_path.parent().unwrap_or(Path::new("."));
    let usage = |e: tls::TlsError| Failure::Usage(format!("{}: {e}", policy_path.display()));
    let acceptor = match &policy.server.tls {
        Some(files) => Some(tls::acceptor(files, policy_dir, policy.server.http2).map_err(usage)?),
        None => None,
    };
    let connector = match &policy.backend.tls {
        Some(backend_tls) => Some(tls::connector(backend_tls, policy_dir).map_err(usage)?),
        None => None,
    };
    Ok((acceptor, connector))
}

/// The operator token: `DOORMAN_ADMIN_TOKEN`, else the file named by `admin.token_file`
/// (relative to the policy file's folder).
pub fn load_admin_token(policy: &Policy, policy_path: &Path) -> Result<Option<AdminToken>, Failure> {
    if let Ok(token) = std::env::var("DOORMAN_ADMIN_TOKEN") {
        return AdminToken::new(&token)
            .map(Some)
            .map_err(|e| Failure::Usage(format!("DOORMAN_ADMIN_TOKEN: {e}")));
    }
    let Some(file) = &policy.admin.token_file else {
        tracing::warn!("no admin token (DOORMAN_ADMIN_TOKEN or admin.token_file): the admin API refuses everything but health checks");
        return Ok(None);
    };
    let file = policy_path.parent().unwrap_or(Path::new(".")).join(file);
    let what = format!("{}: field `admin.token_file`", policy_path.display());
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Failure::Usage(format!("{what}: cannot read {}: {e}", file.display())))?;
    AdminToken::new(&text).map(Some).map_err(|e| Failure::Usage(format!("{what}: {}: {e}", file.display())))
}

/// The e-mail hasher the policy asks for: HMAC with `DOORMAN_HASH_KEY` or the file named by
/// `blacklist.hash_key_file`, or plain SHA-256. `None` when the policy has no blacklist.
pub fn load_email_hasher(policy: &Policy, policy_path: &Path) -> Result<Option<EmailHasher>, Failure> {
    let Some(blacklist) = &policy.blacklist else {
        return Ok(None);
    };
    if blacklist.hash == HashMode::Sha256 {
        return Ok(Some(EmailHasher::PlainSha256));
    }
    // Both sources are trimmed alike (`app::secrets`): `export DOORMAN_HASH_KEY="$(cat key)"`
    // and a pasted newline give the same hashes as the key file.
    let (key, source) = if let Ok(key) = std::env::var("DOORMAN_HASH_KEY") {
        (key.into_bytes(), "DOORMAN_HASH_KEY".to_owned())
    } else if let Some(file) = &blacklist.hash_key_file {
        let file = policy_path.parent().unwrap_or(Path::new(".")).join(file);
        let what = format!("{}: field `blacklist.hash_key_file`: {}", policy_path.display(), file.display());
        let bytes = std::fs::read(&file).map_err(|e| Failure::Usage(format!("{what}: {e}")))?;
        (bytes, what)
    } else {
        return Err(Failure::Usage(format!(
            "{}: the blacklist hashes e-mail addresses with HMAC and needs a key: set DOORMAN_HASH_KEY or \
             blacklist.hash_key_file (or choose blacklist.hash = \"sha256\")",
            policy_path.display()
        )));
    };
    secrets::email_hasher(blacklist, Some(&key))
        .map(Some)
        .map_err(|e| Failure::Usage(format!("{source}: {e}")))
}

/// The session-cookie verifier the policy asks for. The HS256 secret comes from
/// `DOORMAN_SESSION_KEY` or `blacklist.session_key_file`; public keys from the file.
pub fn load_session_verifier(
    policy: &Policy,
    policy_path: &Path,
) -> Result<Option<SessionVerifier>, Failure> {
    let Some(settings) = policy.blacklist.as_ref().and_then(|b| b.session.clone()) else {
        return Ok(None);
    };
    let env_secret = (settings.algorithm == JwtAlgorithm::Hs256)
        .then(|| std::env::var("DOORMAN_SESSION_KEY").ok())
        .flatten();
    let (key, source) = match (env_secret, &settings.key_file) {
        (Some(secret), _) => (secret.into_bytes(), "DOORMAN_SESSION_KEY".to_owned()),
        (None, Some(file)) => {
            let file = policy_path.parent().unwrap_or(Path::new(".")).join(file);
            let what =
                format!("{}: field `blacklist.session_key_file`: {}", policy_path.display(), file.display());
            let bytes = std::fs::read(&file).map_err(|e| Failure::Usage(format!("{what}: {e}")))?;
            (bytes, what)
        }
        (None, None) => {
            return Err(Failure::Usage(format!(
                "{}: the session cookie is HS256 and needs its secret: set DOORMAN_SESSION_KEY or \
                 blacklist.session_key_file",
                policy_path.display()
            )))
        }
    };
    let blacklist = policy.blacklist.as_ref().expect("checked above");
    secrets::session_verifier(blacklist, Some(&key)).map_err(|e| Failure::Usage(format!("{source}: {e}")))
}

/// The signer of the waitlist's links and forms: its key from `DOORMAN_LINK_KEY` or the file
/// named by `waitlist.link_key_file`. `None` when the policy has no waitlist.
pub fn load_link_signer(policy: &Policy, policy_path: &Path) -> Result<Option<Signer>, Failure> {
    let Some(waitlist) = &policy.waitlist else { return Ok(None) };
    let file = waitlist.link_key_file.as_deref();
    let Some((key, source)) = env_or_file("DOORMAN_LINK_KEY", file, "waitlist.link_key_file", policy_path)?
    else {
        return Err(Failure::Usage(format!(
            "{}: the waitlist signs its links and needs a key of at least 32 bytes: set DOORMAN_LINK_KEY or \
             waitlist.link_key_file",
            policy_path.display()
        )));
    };
    secrets::link_signer(&key).map(Some).map_err(|e| Failure::Usage(format!("{source}: {e}")))
}

/// A secret from the environment variable `var`, else from the file `file` names (relative to
/// the policy's folder; `field` names it in errors): its bytes and where they came from.
/// `None` when neither is set.
fn env_or_file(
    var: &str,
    file: Option<&Path>,
    field: &str,
    policy_path: &Path,
) -> Result<Option<(Vec<u8>, String)>, Failure> {
    if let Ok(value) = std::env::var(var) {
        return Ok(Some((value.into_bytes(), var.to_owned())));
    }
    let Some(file) = file else { return Ok(None) };
    let file = policy_path.parent().unwrap_or(Path::new(".")).join(file);
    let what = format!("{}: field `{field}`: {}", policy_path.display(), file.display());
    let bytes = std::fs::read(&file).map_err(|e| Failure::Usage(format!("{what}: {e}")))?;
    Ok(Some((bytes, what)))
}

/// The data keys the waitlist seals personal data with: `DOORMAN_DATA_KEY`, else the file named
/// by `waitlist.data_key_file` (white space between keys, the sealing one first). `None` when
/// the policy has no waitlist.
pub fn load_data_keys(policy: &Policy, policy_path: &Path) -> Result<Option<Vault>, Failure> {
    let Some(waitlist) = &policy.waitlist else { return Ok(None) };
    let file = waitlist.data_key_file.as_deref();
    let Some((keys, source)) = env_or_file("DOORMAN_DATA_KEY", file, "waitlist.data_key_file", policy_path)?
    else {
        return Err(Failure::Usage(format!(
            "{}: the waitlist stores names, addresses and phone numbers sealed and needs a data key of at \
             least 32 characters: set DOORMAN_DATA_KEY or waitlist.data_key_file (`openssl rand -base64 32` makes one)",
            policy_path.display()
        )));
    };
    secrets::data_keys(&keys).map(Some).map_err(|e| Failure::Usage(format!("{source}: {e}")))
}

/// The SMTP transport the policy's waitlist mails through, if it names one: the password from
/// `DOORMAN_SMTP_PASSWORD` or `waitlist.mail.password_file`, the CAs from
/// `waitlist.mail.ca_file` or the system's bundle.
pub fn load_smtp(policy: &Policy, policy_path: &Path) -> Result<Option<SmtpMailer>, Failure> {
    let Some(MailTransport::Smtp(smtp)) = policy.waitlist.as_ref().map(|w| &w.mail) else { return Ok(None) };
    let relative = |f: &Path| policy_path.parent().unwrap_or(Path::new(".")).join(f);
    let password = match (std::env::var("DOORMAN_SMTP_PASSWORD"), &smtp.password_file) {
        (Ok(p), _) => Some(p),
        (Err(_), Some(file)) => {
            let file = relative(file);
            let text = std::fs::read_to_string(&file).map_err(|e| {
                Failure::Usage(format!(
                    "{}: field `waitlist.mail.password_file`: {}: {e}",
                    policy_path.display(),
                    file.display()
                ))
            })?;
            Some(text.trim_end_matches(['\r', '\n']).to_owned())
        }
        (Err(_), None) => None,
    };
    let (cas, what) = match &smtp.ca_file {
        Some(f) => (relative(f), "field `waitlist.mail.ca_file`"),
        None => (SYSTEM_CA_BUNDLE.into(), "the system's CA bundle"),
    };
    let cas = if smtp.security == SmtpSecurity::None {
        Vec::new()
    } else {
        std::fs::read(&cas).map_err(|e| {
            Failure::Usage(format!("{}: {what}: {}: {e}", policy_path.display(), cas.display()))
        })?
    };
    SmtpMailer::new(smtp, password, &cas)
        .map(Some)
        .map_err(|e| Failure::Usage(format!("{}: waitlist.mail: {e}", policy_path.display())))
}

/// The SMS webhook the policy asks for, with its token: `DOORMAN_SMS_TOKEN`, else the file named
/// by `waitlist.sms.token_file`; without either, requests go unsigned (a relay on loopback).
pub fn load_sms(
    policy: &Policy,
    policy_path: &Path,
) -> Result<Option<std::sync::Arc<crate::adapters::sms::WebhookGateway>>, Failure> {
    let Some(sms) = policy.waitlist.as_ref().and_then(|w| w.sms.as_ref()) else { return Ok(None) };
    let relative = |f: &Path| policy_path.parent().unwrap_or(Path::new(".")).join(f);
    let usage =
        |field: &str, e: String| Failure::Usage(format!("{}: field `{field}`: {e}", policy_path.display()));
    let token = match (std::env::var("DOORMAN_SMS_TOKEN"), &sms.token_file) {
        (Ok(t), _) => Some(t),
        (Err(_), Some(file)) => {
            let file = relative(file);
            let text = std::fs::read_to_string(&file)
                .map_err(|e| usage("waitlist.sms.token_file", format!("{}: {e}", file.display())))?;
            Some(text.trim().to_owned())
        }
        (Err(_), None) => {
            tracing::warn!(
                "no SMS webhook token (DOORMAN_SMS_TOKEN or waitlist.sms.token_file): requests go unsigned"
            );
            None
        }
    };
    let connector = if sms.url.starts_with("https://") {
        let ca_file = sms.ca_file.as_deref().map(relative);
        let (roots, _) = tls::ca_roots(ca_file.as_deref())
            .map_err(|(path, why)| usage("waitlist.sms.ca_file", format!("{}: {why}", path.display())))?;
        Some(tls::client_connector(roots).map_err(|e| usage("waitlist.sms.ca_file", e))?)
    } else {
        None
    };
    crate::adapters::sms::WebhookGateway::new(sms, token, connector)
        .map(|g| Some(std::sync::Arc::new(g)))
        .map_err(|e| Failure::Usage(format!("{}: {e}", policy_path.display())))
}
