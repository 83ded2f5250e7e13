//! Signature checks for session cookies where `jsonwebtoken`'s RustCrypto provider is not built
//! in (the edge component, which must stay small): verify only, and only the four algorithms a
//! policy can name. The provider links every signer and P-384 too; this one brings none of them.
//! Native builds use the crate's own provider (the demo shop signs cookies).

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey};
use sha2::Sha256;
use signature::Verifier;

/// The provider: signing is refused, verifying as [`verifier`] says.
pub static VERIFY_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: |_, _| Err(ErrorKind::InvalidAlgorithm.into()),
    verifier_factory: verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes [`VERIFY_ONLY`] the process's provider unless one is set (native builds: the crate's).
pub fn install() {
    #[cfg(not(feature = "native"))]
    let _ = VERIFY_ONLY.install_default();
}

/// One key, ready to check signatures of one algorithm.
enum Key {
    Hmac(Vec<u8>),
    Rsa(Box<rsa::pkcs1v15::VerifyingKey<Sha256>>),
    P256(p256::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

struct Check {
    algorithm: Algorithm,
    key: Key,
}

impl Verifier<Vec<u8>> for Check {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let signature = signature.as_slice();
        match &self.key {
            Key::Hmac(secret) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| signature::Error::new())?;
                mac.update(message);
                mac.verify_slice(signature).map_err(|_| signature::Error::new())
            }
            Key::Rsa(key) => key.verify(message, &rsa::pkcs1v15::Signature::try_from(signature)?),
            Key::P256(key) => key.verify(message, &p256::ecdsa::Signature::from_slice(signature)?),
            Key::Ed25519(key) => key.verify(message, &ed25519_dalek::Signature::from_slice(signature)?),
        }
    }
}

impl JwtVerifier for Check {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

/// A checker for `algorithm` with `key` (the bytes `DecodingKey::from_secret`,
/// `from_rsa_der` (PKCS#1), `from_ec_der` (SEC1 point) or `from_ed_der` hold).
pub fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    let bytes = key.try_get_as_bytes()?;
    let key = match algorithm {
        Algorithm::HS256 => Key::Hmac(bytes.to_vec()),
        Algorithm::RS256 => {
            let public = rsa::RsaPublicKey::from_pkcs1_der(bytes)
                .map_err(|e| Error::from(ErrorKind::InvalidRsaKey(e.to_string())))?;
            Key::Rsa(Box::new(rsa::pkcs1v15::VerifyingKey::new(public)))
        }
        Algorithm::ES256 => Key::P256(
            p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?,
        ),
        Algorithm::EdDSA => {
            let raw: &[u8; 32] = bytes.try_into().map_err(|_| Error::from(ErrorKind::InvalidEddsaKey))?;
            Key::Ed25519(
                ed25519_dalek::VerifyingKey::from_bytes(raw)
                    .map_err(|_| Error::from(ErrorKind::InvalidEddsaKey))?,
            )
        }
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(Box::new(Check { algorithm: *algorithm, key }))
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};

    use super::*;
    use crate::core::blacklist::session::{public_key_bits, JwtAlgorithm};

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/fixtures/jwt/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    /// Tokens signed by `jsonwebtoken`'s own provider verify with this one, and only with the
    /// right key and algorithm.
    #[test]
    fn what_the_crates_provider_signs_this_one_verifies_and_nothing_else() {
        let secret = [7u8; 32];
        let cases = [
            (Algorithm::HS256, EncodingKey::from_secret(&secret), DecodingKey::from_secret(&secret)),
            (
                Algorithm::RS256,
                EncodingKey::from_rsa_pem(&fixture("rs256.key")).unwrap(),
                DecodingKey::from_rsa_der(
                    &public_key_bits(JwtAlgorithm::Rs256, &fixture("rs256.pub")).unwrap(),
                ),
            ),
            (
                Algorithm::ES256,
                EncodingKey::from_ec_pem(&fixture("es256.key")).unwrap(),
                DecodingKey::from_ec_der(
                    &public_key_bits(JwtAlgorithm::Es256, &fixture("es256.pub")).unwrap(),
                ),
            ),
            (
                Algorithm::EdDSA,
                EncodingKey::from_ed_pem(&fixture("ed25519.key")).unwrap(),
                DecodingKey::from_ed_der(
                    &public_key_bits(JwtAlgorithm::EdDsa, &fixture("ed25519.pub")).unwrap(),
                ),
            ),
        ];
        for (algorithm, signing, checking) in &cases {
            let token =
                jsonwebtoken::encode(&Header::new(*algorithm), &serde_json::json!({"sub": "eve"}), signing)
                    .unwrap();
            let (signed, signature) = token.rsplit_once('.').unwrap();
            let raw =
                base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature).unwrap();
            let check = verifier(algorithm, checking).unwrap();
            assert!(check.verify(signed.as_bytes(), &raw).is_ok(), "{algorithm:?}");
            let mut tampered = signed.to_owned();
            tampered.push('x');
            assert!(check.verify(tampered.as_bytes(), &raw).is_err(), "{algorithm:?} tampered");
            let mut flipped = raw.clone();
            flipped[0] ^= 1;
            assert!(check.verify(signed.as_bytes(), &flipped).is_err(), "{algorithm:?} other signature");
            assert!(
                check.verify(signed.as_bytes(), &raw[..raw.len() - 1].to_vec()).is_err(),
                "{algorithm:?} short"
            );
        }
        // A key of another kind, or an algorithm no policy names: no checker.
        assert!(verifier(&Algorithm::RS256, &cases[2].2).is_err());
        assert!(verifier(&Algorithm::ES384, &cases[2].2).is_err());
        assert!(verifier(&Algorithm::EdDSA, &DecodingKey::from_ed_der(&[1, 2, 3])).is_err());
    }
}
