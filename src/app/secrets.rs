//! Turning secret material into the blacklist's hasher and session verifier, the same way on
//! every runtime. Hosts find the bytes (the environment or a file natively, `wasi:config` at the
//! edge); the rules for what they must be live here.

use crate::core::blacklist::session::{JwtAlgorithm, SessionVerifier};
use crate::core::blacklist::{BlacklistPolicy, HashMode};
use crate::core::email_hash::EmailHasher;
use crate::core::waitlist::link::Signer;

/// The e-mail hasher `policy` asks for. For HMAC, `key` is required; it is trimmed of ASCII
/// whitespace, so a key pasted with a newline hashes like the key itself.
pub fn email_hasher(policy: &BlacklistPolicy, key: Option<&[u8]>) -> Result<EmailHasher, String> {
    match (policy.hash, key) {
        (HashMode::Sha256, _) => Ok(EmailHasher::PlainSha256),
        (HashMode::Hmac, Some(key)) => EmailHasher::hmac(key.trim_ascii()).map_err(|e| e.to_string()),
        (HashMode::Hmac, None) => Err("the blacklist hashes e-mail addresses with HMAC and needs a key \
             (or choose blacklist.hash = \"sha256\")"
            .into()),
    }
}

/// The session-cookie verifier `policy` asks for (`None` when it names no session cookie). An
/// HS256 secret is trimmed like the hash key; a public key (PEM) is taken as given.
pub fn session_verifier(
    policy: &BlacklistPolicy,
    key: Option<&[u8]>,
) -> Result<Option<SessionVerifier>, String> {
    let Some(settings) = policy.session.clone() else { return Ok(None) };
    let key = key.ok_or("the session cookie needs its key (the HS256 secret or the public key)")?;
    let key = if settings.algorithm == JwtAlgorithm::Hs256 { key.trim_ascii() } else { key };
    SessionVerifier::new(settings, key).map(Some).map_err(|e| e.to_string())
}

/// The signer of the waitlist's links and forms over `key`, trimmed like the hash key.
pub fn link_signer(key: &[u8]) -> Result<Signer, String> {
    Signer::new(key.trim_ascii()).map_err(|e| e.to_string())
}
