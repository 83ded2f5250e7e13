//! The backend's claim route: where an offer's link lands (`GET /events/{event}/claim?offer=…`).
//! Doorman checks the offer's code there before the backend sees the request; this module reads
//! the route and the code the way the frameworks it guards read them, erring broad.
//!
//! The route matches in any letter case, with or without a trailing `/` and behind a PHP script
//! name, whatever the method: matching more than the backend routes costs one check, matching
//! less would let a forged code through. The code is read from the query only, every spelling a
//! framework reads as the field: any letter case, `offer[]` and `offer[0]`, `&` and `;` as
//! separators. More than one distinct value, or none, is no code.

use http::Method;

use crate::core::blacklist::event_slug;
use crate::core::route::{RoutePattern, RouteRules};

/// The claim route and the query field holding the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRoute {
    route: RoutePattern,
    field: String,
}

/// What a request to the claim route names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimTarget {
    /// The event, as a slug.
    Event(String),
    /// Two readings of the path name different events, or the event is no slug: the backend's
    /// reading cannot be known.
    Unreadable,
}

impl ClaimRoute {
    /// A claim route (`GET` with an `{event}` capture) whose code is in the query field `field`.
    pub fn new(route: RoutePattern, field: &str) -> Result<Self, String> {
        if route.method() != Method::GET {
            return Err("the claim route is the GET an offer's link opens".into());
        }
        if !route.capture_names().any(|n| n == "event") {
            return Err("the claim route needs an {event} capture".into());
        }
        let field = field.trim();
        let plain = !field.is_empty() && field.len() <= 64;
        if !plain || !field.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err("claim_field: 1 to 64 of a-z, A-Z, 0-9, '_', '-'".into());
        }
        Ok(Self { route, field: field.to_ascii_lowercase() })
    }

    /// What a request for `path` (without query), by any method, claims; `None` when it is not
    /// the claim route.
    pub fn target(&self, path: &str) -> Option<ClaimTarget> {
        let captures = self.route.matches(self.route.method(), path, RouteRules::BROAD)?;
        let event = captures.get("event").and_then(event_slug).filter(|_| !captures.is_ambiguous());
        Some(event.map_or(ClaimTarget::Unreadable, ClaimTarget::Event))
    }

    /// The one code `query` holds, when every reading of it names the same single value.
    pub fn code(&self, query: Option<&str>) -> Option<String> {
        let query = query?;
        let mut found: Option<String> = None;
        for pair in query.split(['&', ';']).filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name: String = form_urlencoded::parse(format!("n={name}").as_bytes()).next()?.1.into_owned();
            let base = name.split('[').next().unwrap_or_default().trim();
            if !base.eq_ignore_ascii_case(&self.field) {
                continue;
            }
            let value: String =
                form_urlencoded::parse(format!("v={value}").as_bytes()).next()?.1.into_owned();
            match &found {
                Some(v) if *v != value => return None,
                _ => found = Some(value),
            }
        }
        found.filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> ClaimRoute {
        ClaimRoute::new(RoutePattern::parse("GET /events/{event}/claim").unwrap(), "offer").unwrap()
    }

    #[test]
    fn the_route_matches_broadly_and_names_its_event() {
        let c = claim();
        let gala = Some(ClaimTarget::Event("gala".into()));
        for path in [
            "/events/gala/claim",
            "/EVENTS/gala/Claim/",
            "/index.php/events/gala/claim",
            "/events/GALA/claim",
        ] {
            assert_eq!(c.target(path), gala, "{path}");
        }
        assert_eq!(c.target("/events/gala/checkout"), None);
        assert_eq!(c.target("/events/a%2F..%2Fb/claim"), Some(ClaimTarget::Unreadable));
        assert_eq!(c.target("/events/not%20a%20slug/claim"), Some(ClaimTarget::Unreadable));
        assert!(ClaimRoute::new(RoutePattern::parse("POST /e/{event}/claim").unwrap(), "offer").is_err());
        assert!(ClaimRoute::new(RoutePattern::parse("GET /claim").unwrap(), "offer").is_err());
        assert!(ClaimRoute::new(RoutePattern::parse("GET /e/{event}").unwrap(), "of fer").is_err());
    }

    #[test]
    fn one_code_in_every_spelling_or_none() {
        let c = claim();
        let code = |q: &str| c.code(Some(q));
        assert_eq!(code("offer=abc"), Some("abc".into()));
        assert_eq!(code("x=1&OFFER=abc;y=2"), Some("abc".into()));
        assert_eq!(code("offer[]=abc&offer=abc"), Some("abc".into()), "the same value twice is one");
        assert_eq!(code("offer=abc&offer[0]=def"), None, "two values: the backend's pick is unknown");
        assert_eq!(code("offer=abc;offer=def"), None);
        assert_eq!(code("offer=a%62c"), Some("abc".into()));
        assert_eq!(code("offer="), None);
        assert_eq!(code("other=abc"), None);
        assert_eq!(c.code(None), None);
    }
}
