//! Account ids from a session cookie holding a signed JWT.
//!
//! Only the algorithm the policy names is accepted (so `alg: none` and algorithm swaps fail), the
//! signature must verify with the configured key, and `iss` and `aud` must match when
//! configured. Tokens that fail any check are ignored, as if the customer were a guest.
//!
//! For checkouts the token's times (`exp`, `nbf`) are deliberately not checked: shops disagree
//! on clock skew (30 s to 5 minutes) and some never check expiry, and a token the shop signed for
//! an account names that account for as long as the shop might still honour it. Signing in to
//! Doorman's own pages ([`SessionVerifier::signed_in_account`]) is the opposite case and checks
//! them. The cookie is found and read as the frameworks find and read it
//! ([`crate::core::fields::read_cookies`]): the name also in any letter case, the value also
//! unquoted, unescaped and percent-decoded, the token's base64 also with padding or the standard
//! alphabet (as PyJWT accepts it).

use http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::is_account_id;
use crate::core::fields::{read_cookies, Backend, CookieReading};

/// A signature algorithm the policy may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with a shared secret.
    Hs256,
    /// RSA PKCS#1 v1.5 with SHA-256; PEM public key.
    Rs256,
    /// ECDSA P-256 with SHA-256; PEM public key.
    Es256,
    /// Ed25519; PEM public key.
    EdDsa,
}

impl JwtAlgorithm {
    /// Parses `HS256`, `RS256`, `ES256` or `EdDSA`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "HS256" => Some(Self::Hs256),
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            "EdDSA" => Some(Self::EdDsa),
            _ => None,
        }
    }

    fn jwt(self) -> Algorithm {
        match self {
            Self::Hs256 => Algorithm::HS256,
            Self::Rs256 => Algorithm::RS256,
            Self::Es256 => Algorithm::ES256,
            Self::EdDsa => Algorithm::EdDSA,
        }
    }
}

/// The session-cookie settings from the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCookie {
    /// Cookie name.
    pub cookie: String,
    /// The one accepted algorithm.
    pub algorithm: JwtAlgorithm,
    /// File with the HS256 secret or the PEM public key (relative to the policy file).
    pub key_file: Option<std::path::PathBuf>,
    /// Claim holding the account id (default `sub`).
    pub claim: String,
    /// Required `iss`, if any.
    pub issuer: Option<String>,
    /// Required `aud`, if any.
    pub audience: Option<String>,
}

/// Why a key cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("not a usable key for {algorithm:?}: {reason}")]
pub struct SessionKeyError {
    algorithm: JwtAlgorithm,
    reason: String,
}

/// The key bytes `jsonwebtoken`'s verifiers take, read from a PEM public key: a `PUBLIC KEY`
/// (SubjectPublicKeyInfo) of the algorithm's key type gives its key bits (the PKCS#1 key for
/// RSA, the SEC1 point for P-256, the 32 bytes of Ed25519); an `RSA PUBLIC KEY` (PKCS#1) is the
/// RSA key itself. (`jsonwebtoken`'s own PEM reading would bring an ASN.1 and a date-time crate
/// into the edge component for the same.)
pub(crate) fn public_key_bits(algorithm: JwtAlgorithm, pem: &[u8]) -> Result<Vec<u8>, String> {
    use spki::der::{pem as der_pem, Decode};
    use spki::ObjectIdentifier as Oid;
    const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    const EC: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
    let (label, der) =
        der_pem::decode_vec(pem.trim_ascii()).map_err(|e| format!("not a PEM public key ({e})"))?;
    match (label, algorithm) {
        ("RSA PUBLIC KEY", JwtAlgorithm::Rs256) => return Ok(der),
        ("PUBLIC KEY", _) => {}
        (other, _) => return Err(format!("a PEM public key (BEGIN PUBLIC KEY) is needed, not {other}")),
    }
    let info =
        spki::SubjectPublicKeyInfoRef::from_der(&der).map_err(|e| format!("not a public key ({e})"))?;
    let oid = info.algorithm.oid;
    let fits = match algorithm {
        JwtAlgorithm::Rs256 => oid == RSA,
        JwtAlgorithm::Es256 => oid == EC && info.algorithm.parameters_oid().ok() == Some(P256),
        JwtAlgorithm::EdDsa => oid == ED25519,
        JwtAlgorithm::Hs256 => false,
    };
    if !fits {
        return Err(format!("the PEM holds no public key for {algorithm:?}"));
    }
    info.subject_public_key.as_bytes().map(<[u8]>::to_vec).ok_or_else(|| "a malformed public key".into())
}

/// Verifies session cookies.
#[derive(Clone)]
pub struct SessionVerifier {
    settings: SessionCookie,
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for SessionVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionVerifier").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl SessionVerifier {
    /// A verifier; `key` is the HS256 secret (at least 32 bytes) or a PEM public key.
    pub fn new(settings: SessionCookie, key: &[u8]) -> Result<Self, SessionKeyError> {
        super::signatures::install();
        let algorithm = settings.algorithm;
        let fail = |reason: String| SessionKeyError { algorithm, reason };
        let key = match algorithm {
            JwtAlgorithm::Hs256 if key.len() < 32 => {
                return Err(fail("an HS256 secret needs at least 32 bytes".into()))
            }
            JwtAlgorithm::Hs256 => DecodingKey::from_secret(key),
            JwtAlgorithm::Rs256 => DecodingKey::from_rsa_der(&public_key_bits(algorithm, key).map_err(fail)?),
            JwtAlgorithm::Es256 => DecodingKey::from_ec_der(&public_key_bits(algorithm, key).map_err(fail)?),
            JwtAlgorithm::EdDsa => DecodingKey::from_ed_der(&public_key_bits(algorithm, key).map_err(fail)?),
        };
        let mut validation = Validation::new(algorithm.jwt());
        // `exp` and `nbf` are deliberately never checked (see the module comment), and no claim is
        // required; `iss`, `aud` and the account claim are checked in `verify` against the
        // settings (`aud` as a string or an array).
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        Ok(Self { settings, key, validation })
    }

    /// The account ids in valid session cookies among `cookies` (the request's, read with
    /// [`read_cookies`] for the backend). More than `max_candidates` cookies of the session's
    /// name is refused (each costs signature checks). Times are not checked: this is the
    /// checkout's reading, which errs towards blocking.
    pub fn accounts(
        &self,
        cookies: &[CookieReading],
        max_candidates: usize,
    ) -> Result<Vec<String>, TooManyCookies> {
        let mut out = Vec::new();
        for claims in self.candidates(cookies, max_candidates)? {
            out.extend(self.account(&claims));
        }
        Ok(out)
    }

    /// The account a customer is signed in as, for signing them in to Doorman's own pages: only
    /// tokens whose `exp` has not passed and whose `nbf` has come at `now` (seconds since the
    /// epoch) count, and two different accounts, or more than a few session cookies, sign in
    /// nobody.
    pub fn signed_in_account(&self, headers: &HeaderMap, now: u64) -> Option<String> {
        let mut found: Option<String> = None;
        for claims in self.candidates(&read_cookies(headers, Backend::Any), 4).ok()? {
            let number = |name: &str| claims.get(name).map(|v| v.as_f64());
            let expired = match number("exp") {
                None => false,
                Some(Some(exp)) => exp <= now as f64,
                Some(None) => true,
            };
            let early = match number("nbf") {
                None => false,
                Some(Some(nbf)) => nbf > now as f64,
                Some(None) => true,
            };
            if expired || early {
                continue;
            }
            let Some(account) = self.account(&claims) else { continue };
            match &found {
                Some(other) if *other != account => return None,
                _ => found = Some(account),
            }
        }
        found
    }

    /// The claims of every session cookie among `cookies` whose token verifies.
    fn candidates(
        &self,
        cookies: &[CookieReading],
        max_candidates: usize,
    ) -> Result<Vec<serde_json::Value>, TooManyCookies> {
        let wanted = cookie_name(&self.settings.cookie);
        let mut out = Vec::new();
        let mut candidates = 0;
        for cookie in cookies.iter().filter(|c| c.names.iter().any(|n| cookie_name(n) == wanted)) {
            candidates += 1;
            if candidates > max_candidates {
                return Err(TooManyCookies(max_candidates));
            }
            for token in cookie.values.iter().flat_map(|v| jwt_readings(v)) {
                out.extend(self.claims(&token));
            }
        }
        Ok(out)
    }

    /// The account id in `token`, if it is signed with the key and matches the settings.
    pub fn verify(&self, token: &str) -> Option<String> {
        self.account(&self.claims(token)?)
    }

    /// The claims of `token`, if it is signed with the key and `iss` and `aud` match.
    fn claims(&self, token: &str) -> Option<serde_json::Value> {
        if token.len() > 8192 {
            return None;
        }
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &self.key, &self.validation).ok()?;
        let claims = data.claims;
        if let Some(iss) = &self.settings.issuer {
            if claims.get("iss")?.as_str()? != iss {
                return None;
            }
        }
        if let Some(aud) = &self.settings.audience {
            let ok = match claims.get("aud")? {
                serde_json::Value::String(a) => a == aud,
                serde_json::Value::Array(all) => all.iter().any(|a| a.as_str() == Some(aud)),
                _ => false,
            };
            if !ok {
                return None;
            }
        }
        Some(claims)
    }

    /// The account claim of verified `claims`, if it is an account id.
    fn account(&self, claims: &serde_json::Value) -> Option<String> {
        let account = match claims.get(&self.settings.claim)? {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return None,
        };
        is_account_id(&account).then_some(account)
    }
}

/// More session cookies in one request than the policy allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("more than {0} session cookies")]
pub struct TooManyCookies(pub usize);

/// A cookie name as lenient parsers compare it: any letter case, `.` and ` ` read as `_`.
fn cookie_name(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['.', ' '], "_")
}

/// A token as sent, and with its base64 in the canonical form (no padding, the URL-safe
/// alphabet) the JWT library insists on and others (PyJWT) do not.
fn jwt_readings(value: &str) -> Vec<String> {
    let canonical: String = value
        .split('.')
        .map(|part| part.trim_end_matches('=').replace('+', "-").replace('/', "_"))
        .collect::<Vec<_>>()
        .join(".");
    if canonical == value {
        vec![canonical]
    } else {
        vec![value.to_owned(), canonical]
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    use super::*;

    const SECRET: &[u8] = b"a-demo-session-secret-of-32-bytes!!";
    const NOW: u64 = 1_800_000_000;

    fn settings(algorithm: JwtAlgorithm) -> SessionCookie {
        SessionCookie {
            cookie: "session".into(),
            algorithm,
            key_file: None,
            claim: "sub".into(),
            issuer: Some("shop".into()),
            audience: None,
        }
    }

    fn hs(claims: serde_json::Value) -> String {
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET)).unwrap()
    }

    /// The checkout's reading of `headers`' session cookies.
    fn accounts_in(
        v: &SessionVerifier,
        headers: &HeaderMap,
        max: usize,
    ) -> Result<Vec<String>, TooManyCookies> {
        v.accounts(&read_cookies(headers, Backend::Any), max)
    }

    fn cookie(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("cookie", format!("theme=dark; session={token}; other=1").parse().unwrap());
        h
    }

    #[test]
    fn a_valid_hs256_session_gives_the_account() {
        let v = SessionVerifier::new(settings(JwtAlgorithm::Hs256), SECRET).unwrap();
        let token = hs(json!({"sub": "alice", "exp": NOW + 600, "iss": "shop"}));
        assert_eq!(accounts_in(&v, &cookie(&token), 4).unwrap(), ["alice"]);
        let numeric = hs(json!({"sub": 42, "exp": NOW + 600, "iss": "shop"}));
        assert_eq!(accounts_in(&v, &cookie(&numeric), 4).unwrap(), ["42"]);
    }

    #[test]
    fn bad_tokens_are_ignored() {
        let v = SessionVerifier::new(settings(JwtAlgorithm::Hs256), SECRET).unwrap();
        let wrong_iss = hs(json!({"sub": "alice", "exp": NOW + 600, "iss": "evil"}));
        let other_key = encode(
            &Header::new(Algorithm::HS256),
            &json!({"sub": "alice", "exp": NOW + 600, "iss": "shop"}),
            &EncodingKey::from_secret(b"another-secret-another-secret-xx"),
        )
        .unwrap();
        // alg: none, with the payload of a valid token.
        let valid = hs(json!({"sub": "alice", "exp": NOW + 600, "iss": "shop"}));
        let payload = valid.split('.').nth(1).unwrap();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        let hs384 = encode(
            &Header::new(Algorithm::HS384),
            &json!({"sub": "alice", "exp": NOW + 600, "iss": "shop"}),
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        for (what, token) in [
            ("wrong issuer", wrong_iss),
            ("wrong key", other_key),
            ("alg none", none),
            ("another algorithm", hs384),
            ("garbage", "not.a.jwt".into()),
            ("huge", "a".repeat(100_000)),
        ] {
            assert!(accounts_in(&v, &cookie(&token), 4).unwrap().is_empty(), "{what} was accepted");
        }
    }

    #[test]
    fn public_key_algorithms_verify_and_cannot_be_swapped() {
        let fixture =
            |f: &str| std::fs::read(format!("{}/fixtures/jwt/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let claims = json!({"sub": "bob", "exp": NOW + 60, "iss": "shop"});
        let cases = [
            (
                JwtAlgorithm::Rs256,
                Algorithm::RS256,
                EncodingKey::from_rsa_pem(&fixture("rs256.key")).unwrap(),
                "rs256.pub",
            ),
            (
                JwtAlgorithm::Es256,
                Algorithm::ES256,
                EncodingKey::from_ec_pem(&fixture("es256.key")).unwrap(),
                "es256.pub",
            ),
            (
                JwtAlgorithm::EdDsa,
                Algorithm::EdDSA,
                EncodingKey::from_ed_pem(&fixture("ed25519.key")).unwrap(),
                "ed25519.pub",
            ),
        ];
        for (ours, theirs, signing, public) in cases {
            let v = SessionVerifier::new(settings(ours), &fixture(public)).unwrap();
            let token = encode(&Header::new(theirs), &claims, &signing).unwrap();
            assert_eq!(accounts_in(&v, &cookie(&token), 4).unwrap(), ["bob"], "{ours:?}");
            // HS256 signed with the public key's bytes: the classic algorithm-confusion attack.
            let confused =
                encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&fixture(public)))
                    .unwrap();
            assert!(accounts_in(&v, &cookie(&confused), 4).unwrap().is_empty(), "{ours:?} accepted HS256");
        }
    }

    #[test]
    fn quoted_and_percent_encoded_cookies_are_read_like_shops_read_them() {
        let v = SessionVerifier::new(settings(JwtAlgorithm::Hs256), SECRET).unwrap();
        let token = hs(json!({"sub": "alice", "exp": NOW + 600, "iss": "shop"}));
        let quoted = format!("\"{token}\"");
        let encoded = token.replace('.', "%2E").replace('e', "%65");
        for value in [quoted, encoded] {
            assert_eq!(accounts_in(&v, &cookie(&value), 4).unwrap(), ["alice"], "{value}");
        }
    }

    #[test]
    fn a_signed_token_names_its_account_whatever_its_times_say() {
        let v = SessionVerifier::new(settings(JwtAlgorithm::Hs256), SECRET).unwrap();
        for claims in [
            json!({"sub": "alice", "exp": NOW - 600, "iss": "shop"}),
            json!({"sub": "alice", "iss": "shop"}),
            json!({"sub": "alice", "exp": NOW + 600, "nbf": NOW + 600, "iss": "shop"}),
            json!({"sub": "alice", "exp": NOW as f64 + 0.5, "iss": "shop"}),
            json!({"sub": "alice", "exp": u64::MAX, "iss": "shop"}),
            json!({"sub": "alice", "exp": "soon", "iss": "shop"}),
        ] {
            assert_eq!(v.verify(&hs(claims.clone())).as_deref(), Some("alice"), "{claims}");
        }
    }

    #[test]
    fn signing_in_needs_a_token_within_its_times_and_one_account() {
        let v = SessionVerifier::new(settings(JwtAlgorithm::Hs256), SECRET).unwrap();
        let at = |claims: serde_json::Value| v.signed_in_account(&cookie(&hs(claims)), NOW);
        assert_eq!(at(json!({"sub": "alice", "exp": NOW + 600, "iss": "shop"})).as_deref(), Some("alice"));
        assert_eq!(
            at(json!({"sub": "alice", "iss": "shop"})).as_deref(),
            Some("alice"),
            "no exp: the shop's choice"
        );
        for claims in [
            json!({"sub": "alice", "exp": NOW - 1, "iss": "shop"}),
            json!({"sub": "alice", "exp": NOW, "iss": "shop"}),
            json!({"sub": "alice", "exp": NOW + 600, "nbf": NOW + 60, "iss": "shop"}),
            json!({"sub": "alice", "exp": "soon", "iss": "shop"}),
            json!({"sub": "alice", "exp": NOW + 600, "iss": "evil"}),
        ] {
            assert_eq!(at(claims.clone()), None, "{claims}");
        }
        let alice = hs(json!({"sub": "alice", "exp": NOW + 600, "iss": "shop"}));
        let bob = hs(json!({"sub": "bob", "exp": NOW + 600, "iss": "shop"}));
        let mut h = HeaderMap::new();
        h.insert("cookie", format!("session={alice}; session={bob}").parse().unwrap());
        assert_eq!(v.signed_in_account(&h, NOW), None, "two accounts sign in nobody");
        h.insert("cookie", format!("session={alice}; session=\"{alice}\"").parse().unwrap());
        assert_eq!(v.signed_in_account(&h, NOW).as_deref(), Some("alice"));
    }

    #[test]
    fn cookie_names_and_token_encodings_are_read_leniently() {
        let v = SessionVerifier::new(settings(JwtAlgorithm::Hs256), SECRET).unwrap();
        let token = hs(json!({"sub": "alice", "exp": NOW + 600, "iss": "shop"}));
        let padded: String = token
            .split('.')
            .map(|p| format!("{p}{}", "=".repeat((4 - p.len() % 4) % 4)))
            .collect::<Vec<_>>()
            .join(".");
        let standard = token.replace('-', "+").replace('_', "/");
        for header in [
            format!("Session={token}"),
            format!("SESSION={token}"),
            format!("session={padded}"),
            format!("session={standard}"),
        ] {
            let mut h = HeaderMap::new();
            h.insert("cookie", header.parse().unwrap());
            assert_eq!(accounts_in(&v, &h, 4).unwrap(), ["alice"], "{header}");
        }
        let mut dotted = settings(JwtAlgorithm::Hs256);
        dotted.cookie = "shop_session".into();
        let v = SessionVerifier::new(dotted, SECRET).unwrap();
        let mut h = HeaderMap::new();
        h.insert("cookie", format!("shop.session={token}").parse().unwrap());
        assert_eq!(accounts_in(&v, &h, 4).unwrap(), ["alice"], "PHP reads `shop.session` as `shop_session`");
    }

    #[test]
    fn too_many_session_cookies_are_refused() {
        let v = SessionVerifier::new(settings(JwtAlgorithm::Hs256), SECRET).unwrap();
        let mut h = HeaderMap::new();
        h.insert("cookie", "session=a; session=b; session=c".parse().unwrap());
        assert_eq!(accounts_in(&v, &h, 2), Err(TooManyCookies(2)));
        assert_eq!(accounts_in(&v, &h, 3), Ok(Vec::new()));
    }

    #[test]
    fn keys_are_checked_up_front() {
        assert!(SessionVerifier::new(settings(JwtAlgorithm::Hs256), b"short").is_err());
        assert!(SessionVerifier::new(settings(JwtAlgorithm::Rs256), b"not pem").is_err());
        assert!(SessionVerifier::new(settings(JwtAlgorithm::Es256), b"").is_err());
        assert_eq!(JwtAlgorithm::parse("none"), None);
    }
}
