//! Who is checking out: account ids and hashed guest e-mail addresses, from the request head
//! (a trusted header) and the buffered checkout body (`application/x-www-form-urlencoded` or
//! JSON; dotted paths reach into JSON objects).
//!
//! A field that appears more than once counts with every value: a client cannot hide a
//! blacklisted address behind a harmless duplicate that the backend might not read. Values that
//! are not a valid account id or address are ignored, as are bodies that do not parse; nothing
//! here fails the request.

use std::fmt;

use http::HeaderMap;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::session::SessionVerifier;
use super::{is_account_id, BlacklistPolicy, Identity};
use crate::core::email::canonicalize;
use crate::core::email_hash::EmailHasher;

/// The identities in a checkout request, deduplicated, accounts first. `session` verifies the
/// session cookie at time `now` (Unix seconds), when the policy names one.
pub fn identities(
    policy: &BlacklistPolicy,
    headers: &HeaderMap,
    body: &[u8],
    hasher: &EmailHasher,
    session: Option<&SessionVerifier>,
    now: u64,
) -> Vec<Identity> {
    let mut accounts: Vec<String> = session.map(|s| s.accounts(headers, now)).unwrap_or_default();
    let mut emails: Vec<String> = Vec::new();
    if let Some(name) = &policy.account_header {
        for v in headers.get_all(name) {
            if let Ok(v) = v.to_str() {
                accounts.push(v.trim().to_owned());
            }
        }
    }
    match body_kind(headers) {
        BodyKind::Form => {
            for (k, v) in form_urlencoded::parse(body) {
                if policy.account_fields.iter().any(|f| *f == k) {
                    accounts.push(v.trim().to_owned());
                }
                if policy.email_fields.iter().any(|f| *f == k) {
                    emails.push(v.into_owned());
                }
            }
        }
        BodyKind::Json => {
            if let Ok(json) = serde_json::from_slice::<Json>(body) {
                for path in &policy.account_fields {
                    json.collect(path, &mut accounts);
                }
                for path in &policy.email_fields {
                    json.collect(path, &mut emails);
                }
            }
        }
        BodyKind::Multipart(boundary) => {
            for (k, v) in super::multipart::fields(body, &boundary) {
                let Ok(v) = String::from_utf8(v) else { continue };
                if policy.account_fields.contains(&k) {
                    accounts.push(v.trim().to_owned());
                }
                if policy.email_fields.contains(&k) {
                    emails.push(v);
                }
            }
        }
        BodyKind::Other => {}
    }
    let mut out: Vec<Identity> =
        accounts.into_iter().filter(|a| is_account_id(a)).map(Identity::Account).collect();
    out.extend(
        emails
            .iter()
            .filter_map(|e| canonicalize(e, policy.rules).ok())
            .map(|c| Identity::EmailHash(hasher.hash_hex(&c))),
    );
    out.sort();
    out.dedup();
    out
}

enum BodyKind {
    Form,
    Json,
    Multipart(String),
    Other,
}

fn body_kind(headers: &HeaderMap) -> BodyKind {
    let Some(ct) = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return BodyKind::Other;
    };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence == "application/x-www-form-urlencoded" {
        BodyKind::Form
    } else if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        BodyKind::Json
    } else if let Some(boundary) = super::multipart::boundary(ct) {
        BodyKind::Multipart(boundary)
    } else {
        BodyKind::Other
    }
}

/// Whether a request prefers a JSON answer (a checkout sent by JavaScript).
pub fn wants_json(headers: &HeaderMap) -> bool {
    matches!(body_kind(headers), BodyKind::Json)
        || headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.trim_start().starts_with("application/json"))
}

/// A JSON value that keeps every member of an object, duplicates included, in order.
#[derive(Debug, PartialEq)]
enum Json {
    Scalar(Option<String>),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Pushes every string (or number) found at the dotted `path`, through arrays.
    fn collect(&self, path: &str, out: &mut Vec<String>) {
        let (head, rest) = match path.split_once('.') {
            Some((h, r)) => (h, Some(r)),
            None => (path, None),
        };
        match self {
            Json::Array(items) => items.iter().for_each(|i| i.collect(path, out)),
            Json::Object(members) => {
                for (_, v) in members.iter().filter(|(k, _)| k == head) {
                    match rest {
                        Some(rest) => v.collect(rest, out),
                        None => v.leaves(out),
                    }
                }
            }
            Json::Scalar(_) => {}
        }
    }

    fn leaves(&self, out: &mut Vec<String>) {
        match self {
            Json::Scalar(Some(s)) => out.push(s.clone()),
            Json::Array(items) => items.iter().for_each(|i| i.leaves(out)),
            _ => {}
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Json, E> {
                Ok(Json::Scalar(None))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Scalar(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Scalar(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Json, E> {
                Ok(Json::Scalar(None))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
                Ok(Json::Scalar(Some(v.to_owned())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
                Ok(Json::Scalar(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Json>()? {
                    members.push((k, v));
                }
                Ok(Json::Object(members))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;
    use crate::core::blacklist::{HashMode, StoreFailureMode};
    use crate::core::email::CanonicalRules;

    fn policy() -> BlacklistPolicy {
        BlacklistPolicy {
            checkout: Vec::new(),
            hash: HashMode::Sha256,
            hash_key_file: None,
            rules: CanonicalRules::default(),
            max_body_bytes: 65536,
            match_timing: true,
            blocked_delay: std::time::Duration::ZERO,
            on_store_error: StoreFailureMode::Open,
            account_header: Some(http::HeaderName::from_static("x-account")),
            account_fields: vec!["account".into()],
            email_fields: vec!["email".into(), "customer.email".into()],
            session: None,
        }
    }

    fn run(content_type: &str, body: &str) -> Vec<Identity> {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_str(content_type).unwrap());
        identities(&policy(), &h, body.as_bytes(), &EmailHasher::PlainSha256, None, 0)
    }

    fn email(addr: &str) -> Identity {
        Identity::EmailHash(EmailHasher::PlainSha256.hash_hex(addr))
    }

    #[test]
    fn form_bodies() {
        assert_eq!(
            run("application/x-www-form-urlencoded", "email=Ada%40Example.com&quantity=2"),
            [email("ada@example.com")]
        );
        assert_eq!(
            run("application/x-www-form-urlencoded; charset=UTF-8", "account=alice&email=b%40x.org"),
            [Identity::Account("alice".into()), email("b@x.org")]
        );
    }

    #[test]
    fn multipart_bodies() {
        let body =
            "--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nAda@Example.com\r\n--b--\r\n";
        assert_eq!(run("multipart/form-data; boundary=b", body), [email("ada@example.com")]);
    }

    #[test]
    fn duplicates_count_with_every_value() {
        let ids = run("application/x-www-form-urlencoded", "email=harmless%40x.org&email=blocked%40x.org");
        assert_eq!(ids, {
            let mut v = vec![email("harmless@x.org"), email("blocked@x.org")];
            v.sort();
            v
        });
        let ids = run("application/json", r#"{"email":"harmless@x.org","email":"blocked@x.org"}"#);
        assert_eq!(ids.len(), 2, "both JSON duplicates are checked");
    }

    #[test]
    fn json_bodies_with_paths_numbers_and_arrays() {
        let ids = run("application/json", r#"{"account": 42, "customer": {"email": "Ada@Example.com"}}"#);
        assert_eq!(ids, [Identity::Account("42".into()), email("ada@example.com")]);
        let ids = run("application/vnd.shop+json", r#"[{"email": ["a@x.org", "b@x.org"]}]"#);
        assert_eq!(ids.len(), 2);
    }

    #[test]
    fn malformed_and_hostile_bodies_give_no_identity_and_no_panic() {
        for (ct, body) in [
            ("application/json", "{\"email\": \"a@x.org\""),
            ("application/json", "\u{0}\u{1}"),
            ("application/json", &"[".repeat(10_000)),
            ("application/x-www-form-urlencoded", "email=a%0d%0aBcc%3a%20x%40y.z%40x.org"),
            ("application/x-www-form-urlencoded", "email=%ff%fe"),
            ("text/plain", "email=a@x.org"),
            ("multipart/form-data; boundary=x", "--x\r\n"),
            (
                "multipart/form-data; boundary=x",
                "--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@x.org",
            ),
        ] {
            assert!(run(ct, body).is_empty(), "{ct}: {body:.40}");
        }
        let mut h = HeaderMap::new();
        h.insert("x-account", HeaderValue::from_static("alice"));
        h.append("x-account", HeaderValue::from_static(""));
        assert_eq!(
            identities(&policy(), &h, b"", &EmailHasher::PlainSha256, None, 0),
            [Identity::Account("alice".into())]
        );
    }

    #[test]
    fn json_answers_for_javascript() {
        let mut h = HeaderMap::new();
        assert!(!wants_json(&h));
        h.insert("accept", HeaderValue::from_static("application/json, text/plain"));
        assert!(wants_json(&h));
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        assert!(wants_json(&h));
    }
}
