//! The `[blacklist]` section of the policy, validated.

use std::time::Duration;

use super::super::email::CanonicalRules;
use super::super::fields::{Backend, ContentTypes};
use super::super::route::{RoutePattern, RouteRules};

/// How guest e-mail addresses are hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashMode {
    /// HMAC-SHA256 with a secret key (`DOORMAN_HASH_KEY` or `blacklist.hash_key_file`).
    Hmac,
    /// Plain SHA-256, for backends that compute hashes themselves without a shared key.
    Sha256,
}

/// What a checkout does when the store cannot be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFailureMode {
    /// Forward the checkout (default): a store outage must not stop sales.
    Open,
    /// Treat the checkout as blocked.
    Closed,
}

/// `[blacklist]`.
#[derive(Debug, Clone)]
pub struct BlacklistPolicy {
    /// The routes that complete a purchase; only these are checked.
    pub checkout: Vec<CheckoutRoute>,
    /// How addresses are hashed.
    pub hash: HashMode,
    /// File holding the HMAC key (relative to the policy file); `DOORMAN_HASH_KEY` wins.
    pub hash_key_file: Option<std::path::PathBuf>,
    /// Canonicalization rules for addresses.
    pub rules: CanonicalRules,
    /// Whether account ids are kept as keyed hashes (`account_ids = "hashed"`): hashed on
    /// arrival in the admin API, in imports and at checkout, so neither the store nor the audit
    /// log holds a readable account id.
    pub hash_accounts: bool,
    /// Largest checkout body buffered; beyond it the client gets 413 (default 64 KiB).
    pub max_body_bytes: usize,
    /// Answer blocked checkouts no faster than forwarded ones on the same route usually take
    /// (default true), so timing does not tell a blocked customer apart.
    pub match_timing: bool,
    /// The delay used while no forwarded checkout has been timed yet (default 150 ms).
    pub blocked_delay: std::time::Duration,
    /// Store unreachable during a checkout: forward (open) or block (closed).
    pub on_store_error: StoreFailureMode,
    /// Request header carrying the account id, set by a trusted auth layer in front.
    pub account_header: Option<http::HeaderName>,
    /// Fields carrying the account id, as dotted paths (`customer.id`; the policy may write
    /// `customer[id]`).
    pub account_fields: Vec<String>,
    /// Fields carrying the guest e-mail address, as dotted paths (`customer.email`; the policy
    /// may write `customer[email]`).
    pub email_fields: Vec<String>,
    /// Every field whose value is an address counts as a guest e-mail address, whatever its
    /// name (`email_fields = ["*"]`).
    pub email_in_any_field: bool,
    /// A session cookie holding a signed JWT with the account id.
    pub session: Option<super::session::SessionCookie>,
    /// How the backend reads checkouts, which Doorman reads the same way or refuses.
    pub reading: CheckoutReading,
    /// When a blocked checkout is answered with JSON instead of a redirect.
    pub json_answer: JsonAnswer,
    /// Header fields every blocked answer carries, as the backend's own answers do.
    pub blocked_headers: Vec<(http::HeaderName, http::HeaderValue)>,
}

/// How the backend reads a checkout. Doorman reads it the same way, or refuses it (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutReading {
    /// The framework family the backend is built on (default `any`: every family's reading).
    pub backend: Backend,
    /// How strictly the backend routes paths (default: the broadest reading).
    pub routes: RouteRules,
    /// Field names and JSON keys must match in letter case (default false).
    pub field_case_sensitive: bool,
    /// Identity fields are read from the query string too (default true: many frameworks merge
    /// query and body parameters).
    pub query_fields: bool,
    /// Content types beyond form, JSON and multipart.
    pub content_types: ContentTypes,
    /// Most distinct identities in one checkout (default 8).
    pub max_identities: usize,
    /// Most session cookies in one checkout (default 4).
    pub max_session_cookies: usize,
    /// The whole checkout body must arrive within this time (default 10 s), else 408.
    pub body_read_timeout: Duration,
    /// Event ids that are no slug (after Unicode NFKC, trimming and lowercasing) are checked
    /// against platform entries only (default false: such a checkout is refused, since no
    /// organizer entry could be looked up for it).
    pub any_event_ids: bool,
}

impl Default for CheckoutReading {
    fn default() -> Self {
        Self {
            backend: Backend::Any,
            routes: RouteRules::default(),
            field_case_sensitive: false,
            query_fields: true,
            content_types: ContentTypes::default(),
            max_identities: 8,
            max_session_cookies: 4,
            body_read_timeout: Duration::from_secs(10),
            any_event_ids: false,
        }
    }
}

/// When a blocked checkout gets JSON rather than the redirect: the backend's own rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonAnswer {
    /// A JSON request body gets JSON (default).
    #[default]
    JsonBody,
    /// A JSON body, or `Accept: application/json`, gets JSON.
    JsonBodyOrAccept,
}

/// One checkout-completion route.
#[derive(Debug, Clone)]
pub struct CheckoutRoute {
    /// `POST /events/{event}/checkout`; must capture `{event}`.
    pub route: RoutePattern,
    /// Where a blocked form checkout is sent (303), e.g. `/events/{event}`.
    pub redirect: Template,
    /// The JSON a blocked JavaScript checkout gets (200), e.g. `{"redirect": "/events/{event}"}`.
    pub json: Template,
}

/// A text with `{event}` placeholders, filled from the route's capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(String);

/// Why a template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A redirect must be a path on this site (`/…`, not `//…` or a URL): no open redirects.
    #[error("must be a path on this site starting with a single `/`")]
    NotLocal,
    /// A placeholder other than `{event}`.
    #[error("only the `{{event}}` placeholder is known")]
    Placeholder,
    /// The JSON answer is not JSON.
    #[error("is not valid JSON once `{{event}}` is filled in")]
    NotJson,
}

impl Template {
    /// A redirect target: a local path whose only placeholder is `{event}`.
    pub fn redirect(text: &str) -> Result<Self, TemplateError> {
        if !text.starts_with('/') || text.starts_with("//") || text.contains(['\\', '\r', '\n', ' ', '\t']) {
            return Err(TemplateError::NotLocal);
        }
        if text.replace("{event}", "").contains(['{', '}']) {
            return Err(TemplateError::Placeholder);
        }
        Ok(Self(text.to_owned()))
    }

    /// A JSON answer; `{event}` may appear inside JSON strings.
    pub fn json(text: &str) -> Result<Self, TemplateError> {
        serde_json::from_str::<serde_json::Value>(&text.replace("{event}", "x"))
            .map_err(|_| TemplateError::NotJson)?;
        Ok(Self(text.to_owned()))
    }

    /// Fills `{event}` with `event`, which the caller has escaped for the target syntax.
    pub fn fill(&self, event: &str) -> String {
        self.0.replace("{event}", event)
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl BlacklistPolicy {
    /// The identity an account id is known by: the id itself, or its keyed hash where the policy
    /// keeps account ids hashed.
    pub fn account_identity(
        &self,
        account: &str,
        hasher: &crate::core::email_hash::EmailHasher,
    ) -> super::Identity {
        if self.hash_accounts {
            super::Identity::AccountHash(hasher.account_hex(account))
        } else {
            super::Identity::Account(account.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_the_site() {
        assert_eq!(Template::redirect("/events/{event}").unwrap().fill("spring"), "/events/spring");
        for bad in ["https://evil.example/", "//evil.example/x", "events/{event}", "/\\evil", "/a b"] {
            assert_eq!(Template::redirect(bad), Err(TemplateError::NotLocal), "{bad}");
        }
        assert_eq!(Template::redirect("/events/{id}"), Err(TemplateError::Placeholder));
    }

    #[test]
    fn json_answers_must_be_json() {
        let t = Template::json(r#"{"redirect": "/events/{event}"}"#).unwrap();
        assert_eq!(t.fill("x"), r#"{"redirect": "/events/x"}"#);
        assert_eq!(Template::json("{redirect: 1"), Err(TemplateError::NotJson));
    }
}
