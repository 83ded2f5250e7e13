//! The demo shop's sign-in: an HS256 JWT `{sub, exp, iss}` in the `shop_session` cookie, as
//! many real shops keep their sessions. Doorman's demo policy verifies the same cookie with
//! the same secret (`blacklist.session_cookie`), so a signed-in customer is recognised at
//! checkout by the shop's own session, never by a form field the customer could delete.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Name of the session cookie set by `POST /login`.
pub const SESSION_COOKIE: &str = "shop_session";
/// The `iss` claim of the shop's sessions.
pub const SESSION_ISSUER: &str = "demo-shop";
/// How long a sign-in lasts, in seconds.
pub const SESSION_LIFETIME: u64 = 12 * 3600;

/// Issues and verifies the shop's session tokens.
#[derive(Clone)]
pub struct Sessions {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    iss: String,
}

impl Sessions {
    /// Sessions signed with `secret` (HS256).
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[SESSION_ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// A session token for `account`, valid for [`SESSION_LIFETIME`].
    pub fn issue(&self, account: &str) -> String {
        let claims =
            Claims { sub: account.to_owned(), exp: now() + SESSION_LIFETIME, iss: SESSION_ISSUER.into() };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).expect("HS256 signs")
    }

    /// The signed-in account of a request, if its session cookie holds a valid token. The value
    /// is read as common frameworks read cookies: surrounding quotes dropped, percent-escapes
    /// decoded.
    pub fn account(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(name, _)| *name == SESSION_COOKIE)
            .find_map(|(_, value)| {
                let value = value.trim().trim_matches('"');
                let token = percent_encoding::percent_decode_str(value).decode_utf8().ok()?;
                jsonwebtoken::decode::<Claims>(token.as_bytes(), &self.decoding, &self.validation)
                    .ok()
                    .map(|t| t.claims.sub)
            })
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_forgeries_do_not() {
        let sessions = Sessions::new(b"a-demo-secret-of-at-least-32-bytes!!");
        let token = sessions.issue("alice");
        let headers = |cookie: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::COOKIE, cookie.parse().unwrap());
            h
        };
        assert_eq!(
            sessions.account(&headers(&format!("a=1; {SESSION_COOKIE}={token}"))).as_deref(),
            Some("alice")
        );
        assert_eq!(
            sessions.account(&headers(&format!("{SESSION_COOKIE}=\"{token}\""))).as_deref(),
            Some("alice")
        );
        let encoded = token.replace('.', "%2E");
        assert_eq!(
            sessions.account(&headers(&format!("{SESSION_COOKIE}={encoded}"))).as_deref(),
            Some("alice")
        );
        let other = Sessions::new(b"another-secret-of-at-least-32-bytes!");
        assert_eq!(other.account(&headers(&format!("{SESSION_COOKIE}={token}"))), None);
        assert_eq!(sessions.account(&headers(&format!("{SESSION_COOKIE}=alice"))), None);
    }
}
