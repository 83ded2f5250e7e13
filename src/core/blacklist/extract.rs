//! Who is checking out: account ids and hashed guest e-mail addresses, from the request head
//! (a trusted header, the session cookie), the query string and the buffered checkout body,
//! read with [`crate::core::fields`].
//!
//! The guard's rule: the request is read the way the backend reads it, or refused. A body that
//! does not parse completely, an identity field holding something that is neither empty nor a
//! valid address or account id, more identities or session cookies than the policy allows: each
//! is a [`Refusal`], never "no identity". A field that appears more than once counts with every
//! value, so a blacklisted address cannot hide behind a harmless duplicate.

use std::borrow::Cow;
use std::collections::BTreeSet;

use http::HeaderMap;

use super::session::SessionVerifier;
use super::{is_account_id, BlacklistPolicy, Identity};
use crate::core::email::{canonicalize, EmailError};
use crate::core::email_hash::EmailHasher;
use crate::core::fields::{self, same_path, BodyKind, Unreadable};

/// Why a checkout is refused instead of read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The body or query cannot be read the way the backend would.
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    /// An e-mail field holds an `@` but no address Doorman can canonicalize.
    #[error("an e-mail field holds no usable address")]
    BadAddress,
    /// An account field holds something that is not an account id.
    #[error("an account field holds no usable account id")]
    BadAccount,
    /// More distinct identities than `blacklist.max_identities`.
    #[error("more than {0} identities")]
    TooManyIdentities(usize),
    /// More session cookies than `blacklist.max_session_cookies`.
    #[error(transparent)]
    TooManySessionCookies(#[from] super::session::TooManyCookies),
    /// `Connection` names a field beyond the hop-by-hop ones, which a proxy removes before the
    /// backend reads the request (`Connection: keep-alive, Content-Type`).
    #[error("`Connection` names a field the backend would not receive")]
    ConnectionFields,
}

impl Refusal {
    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unreadable(Unreadable::ContentType(_)) => "content_type",
            Self::Unreadable(Unreadable::Charset(_)) => "charset",
            Self::Unreadable(Unreadable::ContentEncoding(_)) => "content_encoding",
            Self::Unreadable(Unreadable::NotUtf8(_)) => "not_utf8",
            Self::Unreadable(Unreadable::Json(_)) => "json",
            Self::Unreadable(Unreadable::Multipart(_)) => "multipart",
            Self::Unreadable(Unreadable::TooManyFields(_)) => "too_many_fields",
            Self::BadAddress => "bad_address",
            Self::BadAccount => "bad_account",
            Self::TooManyIdentities(_) => "too_many_identities",
            Self::TooManySessionCookies(_) => "too_many_session_cookies",
            Self::ConnectionFields => "connection_fields",
        }
    }
}

/// The parts of a checkout request identities are read from.
#[derive(Debug, Clone, Copy)]
pub struct CheckoutParts<'a> {
    /// The request head's fields.
    pub headers: &'a HeaderMap,
    /// The query string, without `?`.
    pub query: Option<&'a str>,
    /// The whole buffered body.
    pub body: &'a [u8],
}

/// The identities in a checkout, deduplicated, accounts first, or why it is refused.
/// `session` verifies the session cookie, when the policy names one.
pub fn identities(
    policy: &BlacklistPolicy,
    request: CheckoutParts<'_>,
    hasher: &EmailHasher,
    session: Option<&SessionVerifier>,
) -> Result<Vec<Identity>, Refusal> {
    let reading = &policy.reading;
    let backend = reading.backend;
    if crate::core::forwarding::connection_names_end_to_end_fields(request.headers) {
        return Err(Refusal::ConnectionFields);
    }
    // Distinct values only, and no more than the cap (plus one, to know it was passed): the
    // work a request can cause stays bounded however many fields it repeats.
    let cap = reading.max_identities;
    let mut accounts: BTreeSet<String> = BTreeSet::new();
    let mut emails: BTreeSet<String> = BTreeSet::new();
    let mut bad = None;
    let add = |set: &mut BTreeSet<String>, other: usize, value: &str| {
        if !set.contains(value) && set.len() + other <= cap {
            set.insert(value.to_owned());
        }
    };
    // Read once, for the session and, where the backend merges them, as fields.
    let cookies = if session.is_some() || backend.reads_cookies_as_fields() {
        fields::read_cookies(request.headers, backend)
    } else {
        Vec::new()
    };
    if let Some(s) = session {
        for account in s.accounts(&cookies, reading.max_session_cookies)? {
            add(&mut accounts, 0, &account);
        }
    }
    if let Some(name) = &policy.account_header {
        for v in request.headers.get_all(name) {
            match std::str::from_utf8(v.as_bytes()) {
                Ok(v) if v.trim().is_empty() => {}
                Ok(v) if is_account_id(v.trim()) => add(&mut accounts, 0, v.trim()),
                _ => bad = Some(Refusal::BadAccount),
            }
        }
    }
    let mut found = |path: &str, value: Cow<'_, str>| {
        let wanted =
            |fields: &[String]| fields.iter().any(|f| same_path(path, f, reading.field_case_sensitive));
        if wanted(&policy.account_fields) {
            let v = value.trim();
            if is_account_id(v) {
                add(&mut accounts, emails.len(), v);
            } else if !v.is_empty() {
                bad = Some(Refusal::BadAccount);
            }
        }
        if wanted(&policy.email_fields) {
            add(&mut emails, accounts.len(), &value);
        } else if policy.email_in_any_field && canonicalize(&value, policy.rules).is_ok() {
            // Any field holding an address: only values that are one count.
            add(&mut emails, accounts.len(), &value);
        }
    };
    if reading.query_fields {
        if let Some(query) = request.query {
            fields::read_query(query, backend, &mut found)?;
        }
    }
    if backend.reads_cookies_as_fields() {
        for cookie in &cookies {
            for name in &cookie.names {
                cookie.values.iter().for_each(|v| found(name, Cow::Borrowed(v)));
            }
        }
    }
    let kind = BodyKind::of(request.headers, request.body.len(), &reading.content_types)?;
    fields::read_body(&kind, request.body, backend, &mut found)?;
    if let Some(refusal) = bad {
        return Err(refusal);
    }
    if emails.len() + accounts.len() > cap {
        return Err(Refusal::TooManyIdentities(cap));
    }
    let mut out: Vec<Identity> = accounts.iter().map(|a| policy.account_identity(a, hasher)).collect();
    for e in &emails {
        match canonicalize(e, policy.rules) {
            Ok(canonical) => out.push(Identity::EmailHash(hasher.hash_hex(&canonical))),
            // Empty, or text with no `@` even after normalization: no address any backend
            // could match against the blacklist.
            Err(EmailError::Empty | EmailError::NoAt) => {}
            Err(_) => return Err(Refusal::BadAddress),
        }
    }
    out.sort();
    out.dedup();
    if out.len() > reading.max_identities {
        return Err(Refusal::TooManyIdentities(reading.max_identities));
    }
    Ok(out)
}

/// Whether a blocked checkout is answered with JSON (as the backend answers that request).
pub fn wants_json(headers: &HeaderMap, rule: super::JsonAnswer) -> bool {
    let json_body = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON));
    let accepts_json = || {
        headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.trim_start().starts_with("application/json"))
    };
    match rule {
        super::JsonAnswer::JsonBody => json_body,
        super::JsonAnswer::JsonBodyOrAccept => json_body || accepts_json(),
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;
    use crate::core::blacklist::{CheckoutReading, HashMode, JsonAnswer, StoreFailureMode};
    use crate::core::email::CanonicalRules;
    use crate::core::fields::Backend;

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
            email_in_any_field: false,
            session: None,
            reading: CheckoutReading::default(),
            json_answer: JsonAnswer::JsonBody,
            blocked_headers: Vec::new(),
            hash_accounts: false,
        }
    }

    fn read_with(
        p: &BlacklistPolicy,
        ct: Option<&str>,
        query: Option<&str>,
        body: &str,
    ) -> Result<Vec<Identity>, Refusal> {
        let mut h = HeaderMap::new();
        if let Some(ct) = ct {
            h.insert("content-type", HeaderValue::from_str(ct).unwrap());
        }
        let parts = CheckoutParts { headers: &h, query, body: body.as_bytes() };
        identities(p, parts, &EmailHasher::PlainSha256, None)
    }

    fn run(content_type: &str, body: &str) -> Result<Vec<Identity>, Refusal> {
        read_with(&policy(), Some(content_type), None, body)
    }

    fn email(addr: &str) -> Identity {
        Identity::EmailHash(EmailHasher::PlainSha256.hash_hex(addr))
    }

    fn sorted(mut v: Vec<Identity>) -> Vec<Identity> {
        v.sort();
        v
    }

    const FORM: &str = "application/x-www-form-urlencoded";

    #[test]
    fn form_bodies() {
        assert_eq!(run(FORM, "email=Ada%40Example.com&quantity=2").unwrap(), [email("ada@example.com")]);
        assert_eq!(
            run("application/x-www-form-urlencoded; charset=UTF-8", "account=alice&email=b%40x.org").unwrap(),
            [Identity::Account("alice".into()), email("b@x.org")]
        );
        assert_eq!(run(FORM, "customer%5Bemail%5D=c%40x.org").unwrap(), [email("c@x.org")], "bracket names");
        assert_eq!(run(FORM, "x=1;email=d%40x.org").unwrap(), [email("d@x.org")], "`;` separators");
    }

    #[test]
    fn multipart_bodies() {
        let body =
            "--b\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nAda@Example.com\r\n--b--\r\n";
        assert_eq!(run("multipart/form-data; boundary=b", body).unwrap(), [email("ada@example.com")]);
    }

    #[test]
    fn duplicates_count_with_every_value() {
        let ids = run(FORM, "email=harmless%40x.org&email=blocked%40x.org").unwrap();
        assert_eq!(ids, sorted(vec![email("harmless@x.org"), email("blocked@x.org")]));
        let ids = run("application/json", r#"{"email":"harmless@x.org","email":"blocked@x.org"}"#).unwrap();
        assert_eq!(ids.len(), 2, "both JSON duplicates are checked");
    }

    #[test]
    fn json_bodies_with_paths_numbers_and_arrays() {
        let ids =
            run("application/json", r#"{"account": 42, "customer": {"email": "Ada@Example.com"}}"#).unwrap();
        assert_eq!(ids, [Identity::Account("42".into()), email("ada@example.com")]);
        let ids = run("application/vnd.shop+json", r#"[{"email": ["a@x.org", "b@x.org"]}]"#).unwrap();
        assert_eq!(ids.len(), 2);
    }

    #[test]
    fn field_names_match_without_case_unless_the_policy_says_so() {
        let ids =
            run("application/json", r#"{"EMAIL": "a@x.org", "Customer": {"Email": "b@x.org"}}"#).unwrap();
        assert_eq!(ids.len(), 2);
        assert_eq!(run(FORM, "Email=a%40x.org").unwrap().len(), 1);
        let mut strict = policy();
        strict.reading.field_case_sensitive = true;
        assert!(read_with(&strict, Some(FORM), None, "Email=a%40x.org").unwrap().is_empty());
    }

    #[test]
    fn account_ids_are_hashed_where_the_policy_says_so() {
        let mut hashed = policy();
        hashed.hash_accounts = true;
        let ids = read_with(&hashed, Some(FORM), None, "account=eve&email=eve%40x.org").unwrap();
        let eve = EmailHasher::PlainSha256.account_hex("eve");
        assert!(
            ids.contains(&Identity::AccountHash(eve.clone())) && ids.contains(&email("eve@x.org")),
            "{ids:?}"
        );
        assert!(!format!("{ids:?}").contains("\"eve\""), "no readable account id: {ids:?}");
        // An account id never hashes like an address, nor like another account id.
        assert_ne!(eve, EmailHasher::PlainSha256.hash_hex("eve"));
        assert_ne!(eve, EmailHasher::PlainSha256.account_hex("eve2"));
        let keyed = EmailHasher::hmac(&[7u8; 32]).unwrap();
        assert_ne!(keyed.account_hex("eve"), eve, "keyed, the hash depends on the key");
    }

    #[test]
    fn identities_in_the_query_string_count_too() {
        let ids = read_with(&policy(), Some(FORM), Some("email=q%40x.org"), "quantity=1").unwrap();
        assert_eq!(ids, [email("q@x.org")]);
        let ids = read_with(&policy(), None, Some("account=eve&x=1"), "").unwrap();
        assert_eq!(ids, [Identity::Account("eve".into())]);
        let mut off = policy();
        off.reading.query_fields = false;
        assert!(read_with(&off, None, Some("email=q%40x.org"), "").unwrap().is_empty());
        assert!(matches!(
            read_with(&policy(), None, Some("email=%ff"), ""),
            Err(Refusal::Unreadable(Unreadable::NotUtf8(_)))
        ));
    }

    #[test]
    fn bodies_that_cannot_be_read_completely_are_refused() {
        for (ct, body) in [
            ("application/json", "{\"email\": \"a@x.org\""),
            ("application/json", "\u{0}\u{1}"),
            ("application/json", &"[".repeat(10_000)),
            ("application/json", r#"{"email": "\ud800a@x.org"}"#),
            ("application/json", r#"{"email": NaN}"#),
            (FORM, "email=%ff%fe"),
            ("application/json; charset=latin1", r#"{"email": "a@x.org"}"#),
            ("multipart/form-data; boundary=x", "--x\r\n"),
            (
                "multipart/form-data; boundary=x",
                "--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@x.org",
            ),
            (
                "multipart/form-data; boundary=x",
                "--x\nContent-Disposition: form-data; name=\"email\"\n\na@x.org\n--x--\n",
            ),
        ] {
            assert!(matches!(run(ct, body), Err(Refusal::Unreadable(_))), "{ct}: {body:.40}");
        }
        assert!(
            matches!(read_with(&policy(), None, None, "email=a@x.org"), Err(Refusal::Unreadable(_))),
            "no type"
        );
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static(FORM));
        h.insert("content-encoding", HeaderValue::from_static("gzip"));
        let parts = CheckoutParts { headers: &h, query: None, body: b"\x1f\x8b" };
        assert!(matches!(
            identities(&policy(), parts, &EmailHasher::PlainSha256, None),
            Err(Refusal::Unreadable(Unreadable::ContentEncoding(_)))
        ));
    }

    #[test]
    fn bodies_are_read_as_json_where_backends_parse_them_so_whatever_the_type() {
        for ct in ["text/plain;charset=UTF-8", FORM, "text/json", "application/octet-stream"] {
            let ids = run(ct, r#" {"customer": {"email": "Ada@Example.com"}}"#).unwrap();
            assert_eq!(ids, [email("ada@example.com")], "{ct}");
            assert!(
                run(ct, r#"{"email": "a@x.org", "n": NaN}"#).is_err(),
                "{ct}: Python reads what serde does not"
            );
            assert!(run(ct, r#"/* Ruby */ {"email": "a@x.org"}"#).is_err(), "{ct}: Ruby skips comments");
        }
        assert!(run(FORM, "\u{feff}{\"email\": \"a@x.org\"}").unwrap().len() == 1, "Python skips a BOM");
        let mut express = policy();
        express.reading.backend = Backend::Express;
        let read = |ct| read_with(&express, Some(ct), None, r#"{"email": "a@x.org"}"#);
        assert_eq!(read("text/plain").unwrap(), [], "no framework reads fields from text/plain");
        assert!(matches!(read("text/json"), Err(Refusal::Unreadable(Unreadable::ContentType(_)))));
        assert_eq!(run("text/plain", "email=a@x.org\r\n").unwrap(), [], "a text/plain form: nobody reads it");
        assert_eq!(read(FORM).unwrap(), [], "body-parser reads a form as a form only");
    }

    #[test]
    fn names_are_read_as_the_backends_frameworks_read_them() {
        for body in ["email]=a%40x.org", "%5B%5Demail=a%40x.org", "+email=a%40x.org", "x=1; email=a%40x.org"]
        {
            assert_eq!(run(FORM, body).unwrap(), [email("a@x.org")], "{body}");
        }
        assert_eq!(read_with(&policy(), None, Some("[email=a%40x.org"), "").unwrap(), [email("a@x.org")]);
        assert!(run(FORM, "[email=a%40x.org").is_err(), "a body starting like JSON must parse as JSON");
        let mut django = policy();
        django.reading.backend = Backend::Django;
        assert_eq!(
            read_with(&django, Some(FORM), None, "email]=a%40x.org").unwrap(),
            [],
            "Django reads names as sent"
        );
    }

    #[test]
    fn cookies_are_fields_where_php_merges_them() {
        let mut h = HeaderMap::new();
        h.insert("cookie", HeaderValue::from_static("theme=dark; email=m%40x.org"));
        let parts = CheckoutParts { headers: &h, query: None, body: b"" };
        assert_eq!(
            identities(&policy(), parts, &EmailHasher::PlainSha256, None).unwrap(),
            [email("m@x.org")]
        );
        let mut rack = policy();
        rack.reading.backend = Backend::Rack;
        assert_eq!(identities(&rack, parts, &EmailHasher::PlainSha256, None).unwrap(), []);
    }

    #[test]
    fn a_checkout_naming_end_to_end_fields_in_connection_is_refused() {
        // Which names are hop-by-hop is `core::forwarding`'s rule; here: the refusal follows it.
        for (value, refused) in [("keep-alive", false), ("keep-alive, Content-Type", true)] {
            let mut h = HeaderMap::new();
            h.insert("content-type", HeaderValue::from_static("application/json"));
            h.insert("connection", HeaderValue::from_static(value));
            let parts = CheckoutParts { headers: &h, query: None, body: br#"{"note": "&email=m@x.org&"}"# };
            let result = identities(&policy(), parts, &EmailHasher::PlainSha256, None);
            assert_eq!(result == Err(Refusal::ConnectionFields), refused, "{value}: {result:?}");
        }
    }

    #[test]
    fn any_field_holding_an_address_counts_where_the_policy_says_so() {
        let mut any = policy();
        any.email_in_any_field = true;
        let body = r#"{"order": {"buyer": {"contact": "Ada@Example.com"}}, "note": "call me @ 5", "n": "x"}"#;
        assert_eq!(
            read_with(&any, Some("application/json"), None, body).unwrap(),
            [email("ada@example.com")]
        );
        assert_eq!(run("application/json", body).unwrap(), [], "named fields only by default");
    }

    #[test]
    fn identity_fields_hold_an_identity_or_nothing() {
        assert_eq!(run(FORM, "email=&account=").unwrap(), []);
        assert_eq!(run(FORM, "email=not-an-address").unwrap(), [], "no `@`: nothing to match");
        assert_eq!(run(FORM, "email=a%0d%0aBcc%3a%20x%40y.z%40x.org"), Err(Refusal::BadAddress));
        assert_eq!(run(FORM, "email=%22m%22%40x.org"), Err(Refusal::BadAddress), "quoted local part");
        assert_eq!(run(FORM, "email=m%EF%BC%A0x.org").unwrap(), [email("m@x.org")], "full-width @");
        assert_eq!(run(FORM, &format!("account={}", "a".repeat(300))), Err(Refusal::BadAccount));
    }

    #[test]
    fn identities_are_capped() {
        let body: Vec<String> = (0..9).map(|i| format!("email=a{i}%40x.org")).collect();
        assert_eq!(run(FORM, &body.join("&")), Err(Refusal::TooManyIdentities(8)));
        assert_eq!(run(FORM, &body[..8].join("&")).unwrap().len(), 8);
        let same: Vec<&str> = std::iter::repeat_n("email=a%40x.org", 50).collect();
        assert_eq!(run(FORM, &same.join("&")).unwrap().len(), 1, "repeats of one address count once");
        let mut h = HeaderMap::new();
        h.insert("x-account", HeaderValue::from_static("alice"));
        h.append("x-account", HeaderValue::from_static(""));
        let parts = CheckoutParts { headers: &h, query: None, body: b"" };
        assert_eq!(
            identities(&policy(), parts, &EmailHasher::PlainSha256, None).unwrap(),
            [Identity::Account("alice".into())]
        );
    }

    #[test]
    fn json_answers_follow_the_backends_rule() {
        let mut h = HeaderMap::new();
        assert!(!wants_json(&h, JsonAnswer::JsonBody));
        h.insert("accept", HeaderValue::from_static("application/json, text/plain"));
        assert!(!wants_json(&h, JsonAnswer::JsonBody), "a form post gets the redirect");
        assert!(wants_json(&h, JsonAnswer::JsonBodyOrAccept));
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("application/vnd.shop+json; charset=utf-8"));
        assert!(wants_json(&h, JsonAnswer::JsonBody));
    }
}
