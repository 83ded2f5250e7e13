//! Signed, expiring tokens: the links in mails (confirm, manage), the CSRF cookie and form
//! token of the forms, and the box-office staff cookie.
//!
//! A token is `{body}.{expires}.{mac}`: the body (no `.` of its own at the end, see
//! [`Signer::seal`]), the expiry in Unix seconds, and a base64url HMAC-SHA256 over the token's
//! kind, body and expiry. Kinds never stand in for each other: a manage link is no confirm link,
//! a CSRF token no staff cookie. Single use is the flows' business (a claim in the store).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Shortest key accepted, in bytes.
pub const MIN_KEY_LEN: usize = 32;
/// Longest token looked at; anything longer is malformed.
pub const MAX_TOKEN_LEN: usize = 1024;

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The confirmation link of a signup.
    Confirm,
    /// The manage link of a signup (status, place, cancel).
    Manage,
    /// A form's CSRF cookie: a random nonce (the form's own token is [`Signer::form_token`]).
    Csrf,
    /// A box-office staff session.
    Staff,
    /// An offer's code: its decline link, and the claim the backend's booking route checks.
    Offer,
}

impl Kind {
    fn label(self) -> &'static [u8] {
        match self {
            Self::Confirm => b"doorman-waitlist-confirm\0",
            Self::Manage => b"doorman-waitlist-manage\0",
            Self::Csrf => b"doorman-waitlist-csrf\0",
            Self::Staff => b"doorman-waitlist-staff\0",
            Self::Offer => b"doorman-waitlist-offer\0",
        }
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token at all.
    #[error("malformed token")]
    Malformed,
    /// Not signed with our key (or altered).
    #[error("forged or altered token")]
    Forged,
    /// Signed, but past its expiry.
    #[error("expired token")]
    Expired,
}

/// The key was too short.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the link key must be at least {MIN_KEY_LEN} bytes")]
pub struct WeakLinkKey;

/// Seals and opens tokens with one secret key.
#[derive(Clone)]
pub struct Signer {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

impl Signer {
    /// A signer over `key` (at least [`MIN_KEY_LEN`] bytes).
    pub fn new(key: &[u8]) -> Result<Self, WeakLinkKey> {
        if key.len() < MIN_KEY_LEN {
            return Err(WeakLinkKey);
        }
        Ok(Self { mac: Hmac::new_from_slice(key).map_err(|_| WeakLinkKey)? })
    }

    fn tag(&self, kind: Kind, signed: &str) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(kind.label());
        mac.update(signed.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A keyed digest of `data` for store keys that must not show what they stand for (an
    /// address, an account): 32 hex digits, separated by `label`.
    pub fn digest(&self, label: &str, data: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(b"doorman-waitlist-digest\0");
        mac.update(label.as_bytes());
        mac.update(b"\0");
        mac.update(data.as_bytes());
        base16ct::lower::encode_string(&mac.finalize().into_bytes()[..16])
    }

    /// The CSRF token a form carries: a keyed digest of the CSRF cookie's nonce and of who is
    /// signed in (the shop account, the staff session cookie). A sibling site that can set
    /// cookies may toss in a cookie and token we made for the attacker, but those name the
    /// attacker's session (or none), so they do not pass on a signed-in customer's or staff
    /// member's form.
    pub fn form_token(&self, nonce: &str, account: Option<&str>, staff: Option<&str>) -> String {
        let (account, staff) = (account.unwrap_or_default(), staff.unwrap_or_default());
        let who = format!("{nonce}\0{}:{account}\0{}:{staff}", account.len(), staff.len());
        self.digest("csrf-form", &who)
    }

    /// A token of `kind` carrying `body` until `expires`. The body is the caller's text; it may
    /// hold `.` (the last two parts are always the expiry and the MAC).
    pub fn seal(&self, kind: Kind, body: &str, expires: u64) -> String {
        let signed = format!("{body}.{expires}");
        let tag = URL_SAFE_NO_PAD.encode(self.tag(kind, &signed));
        format!("{signed}.{tag}")
    }

    /// The body of a token of `kind`, if it is ours, unaltered and not expired at `now`.
    pub fn open<'t>(&self, kind: Kind, token: &'t str, now: u64) -> Result<&'t str, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let (signed, tag) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (body, expires) = signed.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let expires: u64 = expires.parse().map_err(|_| TokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| TokenError::Malformed)?;
        if !bool::from(tag.as_slice().ct_eq(&self.tag(kind, signed))) {
            return Err(TokenError::Forged);
        }
        if now >= expires {
            return Err(TokenError::Expired);
        }
        Ok(body)
    }
}

/// The body of a signup's link: `{event}.{signup id}`.
pub fn signup_body(event: &str, signup: &str) -> String {
    format!("{event}.{signup}")
}

/// The event and signup id of a link's body.
pub fn parse_signup_body(body: &str) -> Option<(&str, &str)> {
    let (event, signup) = body.split_once('.')?;
    let ok = crate::core::blacklist::is_slug(event)
        && !signup.is_empty()
        && signup.len() <= 64
        && signup.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some((event, signup))
}

/// Who opened a staff session: the box office, or one of the organizer's admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffRole {
    /// With the organizer's box-office token.
    BoxOffice,
    /// With the organizer's admin token.
    Admin,
}

/// The body of a staff session: `{organizer}:{fingerprint}` (box office) or
/// `{organizer}:{fingerprint}:admin`, the fingerprint naming the token it was opened with (so
/// issuing a new token ends every session of the old).
pub fn staff_body(organizer: &str, fingerprint: &str, role: StaffRole) -> String {
    match role {
        StaffRole::BoxOffice => format!("{organizer}:{fingerprint}"),
        StaffRole::Admin => format!("{organizer}:{fingerprint}:admin"),
    }
}

/// The organizer, token fingerprint and role of a staff session's body.
pub fn parse_staff_body(body: &str) -> Option<(&str, &str, StaffRole)> {
    let (organizer, rest) = body.split_once(':')?;
    let (fingerprint, role) = match rest.split_once(':') {
        None => (rest, StaffRole::BoxOffice),
        Some((fingerprint, "admin")) => (fingerprint, StaffRole::Admin),
        Some(_) => return None,
    };
    let ok = crate::core::blacklist::is_slug(organizer)
        && (8..=64).contains(&fingerprint.len())
        && fingerprint.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then_some((organizer, fingerprint, role))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer::new(&[7u8; 32]).unwrap()
    }

    #[test]
    fn round_trip_expiry_and_kinds() {
        let s = signer();
        let t = s.seal(Kind::Confirm, "gala.abc", 1000);
        assert_eq!(s.open(Kind::Confirm, &t, 999), Ok("gala.abc"));
        assert_eq!(s.open(Kind::Confirm, &t, 1000), Err(TokenError::Expired));
        assert_eq!(s.open(Kind::Manage, &t, 10), Err(TokenError::Forged), "kinds do not mix");
        let other = Signer::new(&[8u8; 32]).unwrap();
        assert_eq!(other.open(Kind::Confirm, &t, 10), Err(TokenError::Forged));
        assert!(Signer::new(&[1u8; 31]).is_err());
    }

    #[test]
    fn tampering_is_refused() {
        let s = signer();
        let t = s.seal(Kind::Manage, "gala.abc", 5000);
        let later = t.replace(".5000.", ".9999.");
        assert_eq!(s.open(Kind::Manage, &later, 10), Err(TokenError::Forged), "a pushed expiry");
        let other = t.replace("gala.abc", "gala.abd");
        assert_eq!(s.open(Kind::Manage, &other, 10), Err(TokenError::Forged), "another signup");
        for bad in ["", ".", "..", "a.b.c", "gala.abc.5000", "x.-1.AAAA", &"a".repeat(2000), "a.5000.!!!"] {
            assert!(s.open(Kind::Manage, bad, 10).is_err(), "{bad:?}");
        }
        let mut flipped = t.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        assert!(s.open(Kind::Manage, std::str::from_utf8(&flipped).unwrap(), 10).is_err());
    }

    #[test]
    fn form_tokens_are_bound_to_the_nonce_and_who_is_signed_in() {
        let s = signer();
        let t = s.form_token("n1", Some("acct-1"), None);
        assert_eq!(t, s.form_token("n1", Some("acct-1"), None), "the same request, the same token");
        assert_ne!(t, s.form_token("n2", Some("acct-1"), None), "another cookie");
        assert_ne!(t, s.form_token("n1", Some("acct-2"), None), "another customer");
        assert_ne!(t, s.form_token("n1", None, None), "signed out");
        assert_ne!(t, s.form_token("n1", Some("acct-1"), Some("staff")), "a staff session");
        assert_ne!(s.form_token("n1", Some("a\0b"), None), s.form_token("n1", Some("a"), Some("b")));
        assert_ne!(t, Signer::new(&[8u8; 32]).unwrap().form_token("n1", Some("acct-1"), None), "our key");
    }

    #[test]
    fn staff_bodies() {
        let body = staff_body("harbour-hall", "0123456789abcdef", StaffRole::BoxOffice);
        assert_eq!(parse_staff_body(&body), Some(("harbour-hall", "0123456789abcdef", StaffRole::BoxOffice)));
        let body = staff_body("harbour-hall", "0123456789abcdef", StaffRole::Admin);
        assert_eq!(parse_staff_body(&body), Some(("harbour-hall", "0123456789abcdef", StaffRole::Admin)));
        for bad in [
            "harbour-hall",
            "Hall:0123456789abcdef",
            "h:0123",
            "h:0123456789abcdeg",
            ":0123456789",
            "h:0123456789abcdef:root",
            "h:0123456789abcdef:admin:admin",
        ] {
            assert_eq!(parse_staff_body(bad), None, "{bad}");
        }
    }

    #[test]
    fn signup_bodies() {
        assert_eq!(parse_signup_body(&signup_body("gala", "Ab_-9")), Some(("gala", "Ab_-9")));
        for bad in ["gala", "Gala.x", "gala.", "gala.a.b", "gala.<x>", ".x"] {
            assert_eq!(parse_signup_body(bad), None, "{bad}");
        }
    }
}
