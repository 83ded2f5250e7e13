//! The checkout decision: forward, or answer a quiet redirect back to the event page.

use super::{entry_key, CheckoutRoute, Identity, Scope, StoreFailureMode};

/// Everything but RFC 3986 unreserved characters is escaped in a redirect's event segment.
const PATH_SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// What happens to a checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutDecision {
    /// Not blacklisted (or the store failed open): forward unchanged.
    Forward,
    /// Blacklisted: do not forward; send the customer back to the event page.
    Block {
        /// `Location` of the 303 for form checkouts.
        location: String,
        /// The body of the 200 for JSON checkouts.
        json: String,
    },
}

/// What the store said about the checkout's identities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Whether any entry matched.
    Answered(bool),
    /// The store could not be asked.
    Failed,
}

/// The keys whose existence blocks `identities` at an event of `organizer` (platform-wide
/// entries always; the organizer's own when the event has one).
pub fn lookup_keys(identities: &[Identity], organizer: Option<&str>) -> Vec<String> {
    let mut keys = Vec::with_capacity(identities.len() * 2);
    for id in identities {
        keys.push(entry_key(id, &Scope::Platform));
        if let Some(org) = organizer {
            keys.push(entry_key(id, &Scope::Organizer(org.to_owned())));
        }
    }
    keys
}

/// Decides a checkout of `event` on `route`.
pub fn decide(
    route: &CheckoutRoute,
    event: &str,
    lookup: Lookup,
    on_failure: StoreFailureMode,
) -> CheckoutDecision {
    let blocked = match lookup {
        Lookup::Answered(b) => b,
        Lookup::Failed => on_failure == StoreFailureMode::Closed,
    };
    if !blocked {
        return CheckoutDecision::Forward;
    }
    // The event is the decoded path segment: percent-encode it again for the redirect's path,
    // and escape it for a JSON string.
    let path_event = percent_encoding::utf8_percent_encode(event, PATH_SEGMENT).to_string();
    let json_event = serde_json::to_string(&path_event).unwrap_or_default();
    let json_event = json_event.trim_matches('"');
    CheckoutDecision::Block { location: route.redirect.fill(&path_event), json: route.json.fill(json_event) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::blacklist::Template;
    use crate::core::route::RoutePattern;

    fn route() -> CheckoutRoute {
        CheckoutRoute {
            route: RoutePattern::parse("POST /events/{event}/checkout").unwrap(),
            redirect: Template::redirect("/events/{event}").unwrap(),
            json: Template::json(r#"{"redirect": "/events/{event}"}"#).unwrap(),
        }
    }

    #[test]
    fn blocked_checkouts_go_back_to_the_event_page() {
        let d = decide(&route(), "spring-concert", Lookup::Answered(true), StoreFailureMode::Open);
        assert_eq!(
            d,
            CheckoutDecision::Block {
                location: "/events/spring-concert".into(),
                json: r#"{"redirect": "/events/spring-concert"}"#.into()
            }
        );
        assert_eq!(
            decide(&route(), "x", Lookup::Answered(false), StoreFailureMode::Closed),
            CheckoutDecision::Forward
        );
    }

    #[test]
    fn store_failures_follow_the_policy() {
        assert_eq!(decide(&route(), "x", Lookup::Failed, StoreFailureMode::Open), CheckoutDecision::Forward);
        assert!(matches!(
            decide(&route(), "x", Lookup::Failed, StoreFailureMode::Closed),
            CheckoutDecision::Block { .. }
        ));
    }

    #[test]
    fn odd_event_segments_cannot_break_the_redirect_or_the_json() {
        let CheckoutDecision::Block { json, location } =
            decide(&route(), "a\"b\\c/\r\n?x é", Lookup::Answered(true), StoreFailureMode::Open)
        else {
            panic!()
        };
        assert_eq!(location, "/events/a%22b%5Cc%2F%0D%0A%3Fx%20%C3%A9");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["redirect"], location.as_str());
    }

    #[test]
    fn keys_cover_platform_and_organizer() {
        let ids = [Identity::Account("alice".into())];
        assert_eq!(lookup_keys(&ids, None), ["bl:{a:alice}:*"]);
        assert_eq!(lookup_keys(&ids, Some("hh")), ["bl:{a:alice}:*", "bl:{a:alice}:hh"]);
    }
}
