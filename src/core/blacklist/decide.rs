//! The checkout decision: forward, or answer a quiet redirect back to the event page.

use super::{entry_key, legacy_entry_key, CheckoutRoute, Identity, Scope, StoreFailureMode};

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

/// The keys a checkout's lookup asks the store about, and whose they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupKeys {
    /// The keys, in the order the store's answer follows.
    pub keys: Vec<String>,
    /// Per key: the index of its identity, and whether it is the organizer's own entry (else
    /// the platform's).
    owners: Vec<(usize, bool)>,
}

impl LookupKeys {
    /// The keys whose existence blocks `identities` at an event of `organizer` (platform-wide
    /// entries always; the organizer's own when the event has one). With `legacy`, also the keys
    /// hash identities had in the layout of earlier versions ([`legacy_entry_key`]), for a store
    /// whose entries may not have been moved yet.
    pub fn new(identities: &[Identity], organizer: Option<&str>, legacy: bool) -> Self {
        let scopes: Vec<(Scope, bool)> = std::iter::once((Scope::Platform, false))
            .chain(organizer.map(|o| (Scope::Organizer(o.to_owned()), true)))
            .collect();
        let mut keys = Vec::with_capacity(identities.len() * scopes.len() * 2);
        let mut owners = Vec::with_capacity(keys.capacity());
        for (i, id) in identities.iter().enumerate() {
            for (scope, own) in &scopes {
                // The old key first: a move writes the new key before it deletes the old one, so
                // a pipeline that reads them in this order cannot miss an entry moving meanwhile.
                if let Some(old) = legacy.then(|| legacy_entry_key(id, scope)).flatten() {
                    keys.push(old);
                    owners.push((i, *own));
                }
                keys.push(entry_key(id, scope));
                owners.push((i, *own));
            }
        }
        Self { keys, owners }
    }

    /// The identities that matched, given whether each key exists (`hits`, in key order): each
    /// identity's index once, with whether its match is the organizer's own entry, which wins
    /// over a platform-wide one (so its audit record goes to that organizer).
    pub fn matched(&self, hits: &[bool]) -> Vec<(usize, bool)> {
        let mut matched: Vec<(usize, bool)> = Vec::new();
        for (&(i, own), _) in self.owners.iter().zip(hits).filter(|(_, hit)| **hit) {
            match matched.iter_mut().find(|(j, _)| *j == i) {
                Some(m) => m.1 |= own,
                None => matched.push((i, own)),
            }
        }
        matched
    }
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
        assert_eq!(LookupKeys::new(&ids, None, true).keys, ["bl:{a:alice}:*"]);
        assert_eq!(LookupKeys::new(&ids, Some("hh"), false).keys, ["bl:{a:alice}:*", "bl:{a:alice}:hh"]);
    }

    #[test]
    fn legacy_keys_count_as_their_identity_and_scope() {
        let hash = Identity::EmailHash("ab".repeat(32));
        let ids = [Identity::Account("alice".into()), hash.clone()];
        let current = LookupKeys::new(&ids, Some("hh"), false);
        assert_eq!(current.keys.len(), 4);
        let both = LookupKeys::new(&ids, Some("hh"), true);
        let old_platform = legacy_entry_key(&hash, &Scope::Platform).unwrap();
        let old_own = legacy_entry_key(&hash, &Scope::Organizer("hh".into())).unwrap();
        assert_eq!(both.keys.len(), 6);
        assert!(both.keys.contains(&old_platform) && both.keys.contains(&old_own));
        let hit = |key: &str| both.keys.iter().map(|k| k == key).collect::<Vec<_>>();
        assert_eq!(both.matched(&hit(&old_platform)), [(1, false)]);
        assert_eq!(both.matched(&hit(&old_own)), [(1, true)]);
        assert_eq!(both.matched(&hit("bl:{a:alice}:hh")), [(0, true)]);
        // Platform and own entries of one identity: one match, the organizer's.
        let all: Vec<bool> = both.keys.iter().map(|_| true).collect();
        assert_eq!(both.matched(&all), [(0, true), (1, true)]);
        assert_eq!(both.matched(&[false; 6]), []);
    }
}
