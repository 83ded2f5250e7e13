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

/// The vault of the data keys in `text` (white space between keys, the sealing one first).
pub fn data_keys(text: &[u8]) -> Result<crate::app::vault::Vault, String> {
    let text = std::str::from_utf8(text).map_err(|_| "data keys are text".to_owned())?;
    crate::core::sealing::DataKeys::parse(text).map(crate::app::vault::Vault::new).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::policy::Policy;

    fn blacklist(extra: &str) -> BlacklistPolicy {
        let text = format!(
            "[backend]\nurl = \"http://127.0.0.1:9\"\n[blacklist]\n{extra}\n[[blacklist.checkout]]\n\
             route = \"POST /e/{{event}}/checkout\"\nredirect = \"/e/{{event}}\"\n"
        );
        Policy::from_toml_str("t.toml", &text, []).unwrap().blacklist.unwrap()
    }

    #[test]
    fn keys_are_required_where_the_policy_needs_them_and_trimmed() {
        let hmac = blacklist("");
        assert!(email_hasher(&hmac, None).is_err(), "HMAC needs a key");
        let key = [b'k'; 32];
        let pasted = [&key[..], b"\n"].concat();
        let (a, b) = (email_hasher(&hmac, Some(&key)).unwrap(), email_hasher(&hmac, Some(&pasted)).unwrap());
        assert_eq!(
            a.hash_hex("ada@example.com"),
            b.hash_hex("ada@example.com"),
            "a trailing newline is no part of the key"
        );
        assert!(matches!(email_hasher(&blacklist("hash = \"sha256\""), None), Ok(EmailHasher::PlainSha256)));
        assert!(session_verifier(&hmac, None).unwrap().is_none(), "no session cookie, no verifier");
        let session = blacklist("session_cookie = \"sid\"\nsession_algorithm = \"HS256\"");
        assert!(session_verifier(&session, None).is_err(), "a session cookie needs its key");
        assert!(session_verifier(&session, Some(b"a-secret-of-enough-length-0123456789\n"))
            .unwrap()
            .is_some());
        assert!(link_signer(&[1u8; 31]).is_err(), "link keys have at least 32 bytes");
        assert!(link_signer(b" 0123456789abcdef0123456789abcdef \n").is_ok());
    }
}
