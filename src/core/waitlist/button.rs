//! Where the "Join the waitlist" button goes in the backend's event pages: the event page's
//! route, a CSS selector on it, and where at the selected element.

use http::header::{self, HeaderMap};
use http::Method;

use crate::core::blacklist::event_slug;
use crate::core::route::{RoutePattern, RouteRules};

/// Where at the selected element the button goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// As its last child.
    Append,
    /// As its first child.
    Prepend,
    /// Just before it.
    Before,
    /// Just after it.
    After,
    /// Instead of it (a "Sold out" notice, say).
    Replace,
}

/// `[waitlist.button]`: the event page, the selector, the place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ButtonPlacement {
    route: RoutePattern,
    selector: String,
    place: Place,
}

impl ButtonPlacement {
    /// A placement; fails when `selector` is not one the streaming rewriter can match.
    pub fn new(route: RoutePattern, selector: String, place: Place) -> Result<Self, String> {
        selector
            .parse::<lol_html::Selector>()
            .map_err(|e| format!("`{selector}` is not a selector the rewriter supports: {e}"))?;
        Ok(Self { route, selector, place })
    }

    /// Whether the route captures `{event}`.
    pub fn has_event_capture(&self) -> bool {
        self.route.capture_names().any(|n| n == "event")
    }

    /// The CSS selector.
    pub fn selector(&self) -> &str {
        &self.selector
    }

    /// Where at the element.
    pub fn place(&self) -> Place {
        self.place
    }

    /// The event of a request for an event page (`GET` or `HEAD` only), as a slug.
    pub fn event_of(&self, method: &Method, path: &str) -> Option<String> {
        if method != Method::GET {
            return None; // HEAD answers have no body to put a button into
        }
        let rules =
            RouteRules { case_sensitive: true, trailing_slash_significant: false, php_script_prefix: false };
        let captures = self.route.matches(method, path, rules)?;
        event_slug(captures.get("event")?)
    }
}

/// Whether a response can have the button put in as it streams: HTML, and not compressed
/// (Doorman asks the backend for an uncompressed page; a backend that compresses anyway keeps its
/// page as it is).
pub fn rewritable(headers: &HeaderMap) -> bool {
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.essence_str() == "text/html");
    let identity = headers
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .all(|v| v.to_str().is_ok_and(|e| e.trim().eq_ignore_ascii_case("identity")));
    html && identity
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement() -> ButtonPlacement {
        ButtonPlacement::new(
            RoutePattern::parse("GET /events/{event}").unwrap(),
            "#tickets".into(),
            Place::Append,
        )
        .unwrap()
    }

    #[test]
    fn event_pages_are_gets_of_the_route() {
        let p = placement();
        assert_eq!(p.event_of(&Method::GET, "/events/summer-gala"), Some("summer-gala".into()));
        assert_eq!(p.event_of(&Method::POST, "/events/summer-gala"), None);
        assert_eq!(p.event_of(&Method::HEAD, "/events/summer-gala"), None);
        assert_eq!(p.event_of(&Method::GET, "/events/summer-gala/checkout"), None);
        assert_eq!(p.event_of(&Method::GET, "/events/<b>"), None, "not a slug");
        assert!(ButtonPlacement::new(
            RoutePattern::parse("GET /e/{event}").unwrap(),
            "[[".into(),
            Place::After
        )
        .is_err());
    }

    #[test]
    fn only_uncompressed_html_is_rewritten() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, "text/html; charset=utf-8".parse().unwrap());
        assert!(rewritable(&h));
        h.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
        assert!(!rewritable(&h));
        h.insert(header::CONTENT_ENCODING, "identity".parse().unwrap());
        assert!(rewritable(&h));
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        assert!(!rewritable(&h));
        assert!(!rewritable(&HeaderMap::new()));
    }
}
