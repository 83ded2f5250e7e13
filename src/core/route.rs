//! Route patterns from the policy: a method and a path with `{name}` captures, e.g.
//! `POST /events/{event}/checkout`, matched the way lenient backends read paths.
//!
//! A checkout guard must recognise every spelling of a checkout path that the backend would
//! route to the same handler, so matching is deliberately broad (see [`RouteRules`]):
//!
//! - the path is read two ways and a match of either counts: segment by segment (split on `/`,
//!   then percent-decode each segment, as axum, Express and Rails do) and decoded whole (percent
//!   decoding first, `\` as `/`, as Django and IIS do);
//! - `;parameters` are cut from segments (Tomcat, Spring), empty segments (`//`) are dropped and
//!   dot segments (`.`, `..`, also percent-encoded) are resolved;
//! - literal segments compare without letter case, and a trailing `/` is ignored, unless the
//!   policy says the backend is stricter; the last literal may carry a format suffix
//!   (`checkout.json`, as Rails and Spring route it);
//! - for PHP backends, a segment naming a PHP script (`/index.php/events/…`) may stand before
//!   the route: PHP's `PATH_INFO`, and Symfony and Laravel, read the rest as the route;
//! - the method compares without letter case, and a `POST` matches a route of any method,
//!   because frameworks let a POST stand in for other methods (`_method` fields and
//!   `X-HTTP-Method-Override` headers).
//!
//! Matching more than the backend routes costs only a store lookup for a request the backend
//! would not serve anyway; matching less is a way around the guard. Captures are returned
//! percent-decoded, as the backend's handler sees them; when the two readings match with
//! different captures, the match says so ([`Captures::is_ambiguous`]) and the caller refuses.

use std::borrow::Cow;
use std::fmt;

use http::Method;
use percent_encoding::percent_decode_str;

/// A parsed route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    method: Method,
    segments: Vec<Segment>,
    trailing_slash: bool,
    source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Capture(String),
}

/// How strictly the backend routes paths. The defaults are the broadest reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteRules {
    /// Literal segments must match in letter case (default false: `/CHECKOUT` matches too).
    pub case_sensitive: bool,
    /// A trailing `/` makes a different route (default false: it is ignored).
    pub trailing_slash_significant: bool,
    /// A `….php` segment may name the front controller before the route (PHP's `PATH_INFO`):
    /// `/index.php/events/a/checkout` is `/events/a/checkout` too.
    pub php_script_prefix: bool,
}

impl RouteRules {
    /// The broadest reading: any letter case, trailing `/` ignored, PHP script prefixes read.
    pub const BROAD: Self =
        Self { case_sensitive: false, trailing_slash_significant: false, php_script_prefix: true };
}

impl Default for RouteRules {
    fn default() -> Self {
        Self::BROAD
    }
}

/// Most `….php` segments of one path tried as a front controller's name.
const MAX_SCRIPT_PREFIXES: usize = 4;

/// Why a pattern cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// Not `METHOD /path`.
    #[error("expected `METHOD /path`, e.g. `POST /events/{{event}}/checkout`")]
    Shape,
    /// The method is not a valid HTTP method token.
    #[error("`{0}` is not an HTTP method")]
    Method(String),
    /// A `{`…`}` is malformed or shares its segment with other text.
    #[error("segment `{0}` is not a literal or a whole `{{name}}` capture")]
    Segment(String),
    /// A literal segment the matcher would never see as written (empty, a dot segment, or
    /// holding `%`, `;` or `\`).
    #[error("segment `{0}` is not a plain literal (no `%`, `;`, `\\`, `.` or `..`, not empty)")]
    Literal(String),
    /// The same capture name is used twice.
    #[error("capture `{{{0}}}` appears twice")]
    DuplicateCapture(String),
}

/// The captures of a match, in pattern order, percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Captures<'a> {
    pairs: Vec<(&'a str, String)>,
    ambiguous: bool,
}

impl<'a> Captures<'a> {
    /// The value captured by `{name}`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// Whether the two readings of the path matched with different captures (say
    /// `/events/a%2F..%2Fb/checkout`): the backend's reading cannot be known.
    pub fn is_ambiguous(&self) -> bool {
        self.ambiguous
    }
}

impl RoutePattern {
    /// Parses `METHOD /path/{capture}/more`.
    pub fn parse(text: &str) -> Result<Self, RouteError> {
        let (method_text, path) = text.trim().split_once(' ').ok_or(RouteError::Shape)?;
        let path = path.trim();
        if !path.starts_with('/') {
            return Err(RouteError::Shape);
        }
        let method = Method::from_bytes(method_text.to_ascii_uppercase().as_bytes())
            .map_err(|_| RouteError::Method(method_text.to_owned()))?;
        let trailing_slash = path.len() > 1 && path.ends_with('/');
        let mut segments = Vec::new();
        for raw in path[1..].split('/') {
            if raw.is_empty() && trailing_slash {
                continue;
            }
            let seg = if let Some(name) = raw.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    return Err(RouteError::Segment(raw.to_owned()));
                }
                if segments.iter().any(|s| matches!(s, Segment::Capture(n) if n == name)) {
                    return Err(RouteError::DuplicateCapture(name.to_owned()));
                }
                Segment::Capture(name.to_owned())
            } else if raw.contains(['{', '}']) {
                return Err(RouteError::Segment(raw.to_owned()));
            } else if raw.is_empty() && path == "/" {
                continue;
            } else if raw.is_empty() || raw == "." || raw == ".." || raw.contains(['%', ';', '\\']) {
                return Err(RouteError::Literal(raw.to_owned()));
            } else {
                Segment::Literal(raw.to_owned())
            };
            segments.push(seg);
        }
        let source = format!("{method} {path}");
        Ok(Self { method, segments, trailing_slash, source })
    }

    /// The route's method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Whether a request with `method` may reach this route: the same method in any letter
    /// case, or a POST (which frameworks let stand in for other methods).
    pub fn method_matches(&self, method: &Method) -> bool {
        let m = method.as_str();
        m.eq_ignore_ascii_case(self.method.as_str()) || m.eq_ignore_ascii_case("POST")
    }

    /// The captures when `method` and `path` (without query) may reach this route, else `None`.
    pub fn matches<'a>(&'a self, method: &Method, path: &str, rules: RouteRules) -> Option<Captures<'a>> {
        if !self.method_matches(method) {
            return None;
        }
        if rules.trailing_slash_significant && (path.len() > 1 && path.ends_with('/')) != self.trailing_slash
        {
            return None;
        }
        let scripts = rules.php_script_prefix && names_a_php_script(path);
        if is_plain(path) && !scripts {
            // The common case: nothing to decode or resolve, so no allocation unless it matches.
            return self.match_segments(path.split('/').filter(|s| !s.is_empty()).map(Cow::Borrowed), rules);
        }
        let segment_wise = self.match_reading(&by_segment(path), rules);
        let whole = self.match_reading(&decoded_whole(path), rules);
        match (segment_wise, whole) {
            (Some(mut a), Some(b)) => {
                a.ambiguous = a.pairs != b.pairs;
                Some(a)
            }
            (a, b) => a.or(b),
        }
    }

    /// A match of the path's segments, or of what follows a PHP script's name among them (any
    /// two matches with different captures make the match ambiguous).
    fn match_reading(&self, parts: &[Cow<'_, str>], rules: RouteRules) -> Option<Captures<'_>> {
        let borrowed = |from: usize| parts[from..].iter().map(|p| Cow::Borrowed(p.as_ref()));
        let mut found = self.match_segments(borrowed(0), rules);
        if rules.php_script_prefix {
            let scripts =
                parts.iter().enumerate().filter(|(_, p)| is_php_script(p)).take(MAX_SCRIPT_PREFIXES);
            for (at, _) in scripts {
                match (&mut found, self.match_segments(borrowed(at + 1), rules)) {
                    (_, None) => {}
                    (None, after) => found = after,
                    (Some(f), Some(after)) => f.ambiguous |= f.pairs != after.pairs,
                }
            }
        }
        found
    }

    fn match_segments<'s>(
        &self,
        mut parts: impl Iterator<Item = Cow<'s, str>>,
        rules: RouteRules,
    ) -> Option<Captures<'_>> {
        let mut captures = Captures::default();
        let last = self.segments.len().saturating_sub(1);
        for (i, seg) in self.segments.iter().enumerate() {
            let part = parts.next()?;
            let same =
                |l: &str, p: &str| if rules.case_sensitive { l == p } else { l.eq_ignore_ascii_case(p) };
            match seg {
                Segment::Literal(l) if same(l, &part) => {}
                Segment::Literal(l) if i == last && without_format(&part).is_some_and(|p| same(l, p)) => {}
                Segment::Literal(_) => return None,
                Segment::Capture(_) if part.is_empty() => return None,
                Segment::Capture(name) => captures.pairs.push((name.as_str(), part.into_owned())),
            }
        }
        parts.next().is_none().then_some(captures)
    }

    /// The capture names, in order.
    pub fn capture_names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Capture(n) => Some(n.as_str()),
            Segment::Literal(_) => None,
        })
    }
}

/// `checkout` of `checkout.json`: a last segment with a format suffix of 1 to 10 letters or
/// digits, as Rails (`(.:format)`) and Spring's suffix matching route it.
fn without_format(part: &str) -> Option<&str> {
    let (stem, ext) = part.rsplit_once('.')?;
    let ok =
        !stem.is_empty() && (1..=10).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then_some(stem)
}

/// Whether a segment names a PHP script (`index.php`, in any letter case).
fn is_php_script(segment: &str) -> bool {
    segment.len() > 4 && segment.as_bytes()[segment.len() - 4..].eq_ignore_ascii_case(b".php")
}

/// Whether the raw path may hold a PHP script's name (`.php`, any case, perhaps encoded).
fn names_a_php_script(path: &str) -> bool {
    path.as_bytes().windows(3).any(|w| w.eq_ignore_ascii_case(b"php"))
}

/// A path with nothing to decode, cut or resolve.
fn is_plain(path: &str) -> bool {
    !path.contains(['%', ';', '\\']) && !path.split('/').any(|s| s == "." || s == "..")
}

/// Split on `/`, cut `;parameters`, then percent-decode each segment; dot segments resolved.
fn by_segment(path: &str) -> Vec<Cow<'_, str>> {
    resolve(path.split('/').map(|s| decode(s.split(';').next().unwrap_or(""))))
}

/// Percent-decode the whole path first (`\` counts as `/`), then split and cut `;parameters`.
fn decoded_whole(path: &str) -> Vec<Cow<'static, str>> {
    let whole = decode(path).replace('\\', "/");
    resolve(whole.split('/').map(|s| Cow::Owned(s.split(';').next().unwrap_or("").to_owned())))
}

fn decode(s: &str) -> Cow<'_, str> {
    percent_decode_str(s).decode_utf8_lossy()
}

/// Drops empty and `.` segments and lets `..` remove the one before it (RFC 3986 §5.2.4).
fn resolve<'s>(parts: impl Iterator<Item = Cow<'s, str>>) -> Vec<Cow<'s, str>> {
    let mut out: Vec<Cow<'s, str>> = Vec::new();
    for part in parts {
        match part.as_ref() {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            _ => out.push(part),
        }
    }
    out
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BROAD: RouteRules = RouteRules::BROAD;
    const STRICT: RouteRules =
        RouteRules { case_sensitive: true, trailing_slash_significant: true, php_script_prefix: false };

    fn event(p: &RoutePattern, method: &str, path: &str, rules: RouteRules) -> Option<String> {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        p.matches(&m, path, rules).map(|c| c.get("event").unwrap().to_owned())
    }

    #[test]
    fn matches_exact_segments_and_captures() {
        let p = RoutePattern::parse("POST /events/{event}/checkout").unwrap();
        let c = p.matches(&Method::POST, "/events/spring-concert/checkout", BROAD).unwrap();
        assert_eq!(c.get("event"), Some("spring-concert"));
        assert_eq!(c.get("other"), None);
        for (m, path) in [
            ("GET", "/events/spring-concert/checkout"),
            ("POST", "/events/checkout"),
            ("POST", "/events/a/b/checkout"),
            ("POST", "/events/spring-concert"),
            ("POST", "/events/spring-concert/checkout-now"),
            ("POST", "/events/spring-concert/checkout/extra"),
        ] {
            assert_eq!(event(&p, m, path, BROAD), None, "{m} {path}");
        }
        assert_eq!(p.capture_names().collect::<Vec<_>>(), ["event"]);
        assert_eq!(p.to_string(), "POST /events/{event}/checkout");
    }

    #[test]
    fn every_spelling_a_lenient_backend_routes_is_matched_and_decoded() {
        let p = RoutePattern::parse("POST /events/{event}/checkout").unwrap();
        for (method, path, expected) in [
            ("POST", "/events/spring-concert/checkout", "spring-concert"),
            ("post", "/events/spring-concert/checkout", "spring-concert"),
            ("POST", "/events/%73pring-concert/checkout", "spring-concert"),
            ("POST", "/events/spring%2Dconcert/checkout", "spring-concert"),
            ("POST", "/events/spring-concert/%63heckout", "spring-concert"),
            ("POST", "/events/spring-concert/checkout/", "spring-concert"),
            ("POST", "//events//spring-concert//checkout", "spring-concert"),
            ("POST", "/events/./spring-concert/checkout", "spring-concert"),
            ("POST", "/events/x/../spring-concert/checkout", "spring-concert"),
            ("POST", "/events/x/%2e%2E/spring-concert/checkout", "spring-concert"),
            ("POST", "/events/spring-concert/checkout;jsessionid=1", "spring-concert"),
            ("POST", "/events/spring-concert;v=2/checkout", "spring-concert"),
            ("POST", "/EVENTS/spring-concert/CheckOut", "spring-concert"),
            ("POST", "/events%2Fspring-concert%2Fcheckout", "spring-concert"),
            ("POST", "/events\\spring-concert\\checkout", "spring-concert"),
            ("POST", "/events/Spring-Concert/checkout", "Spring-Concert"),
            ("POST", "/events/spring-concert/checkout.html", "spring-concert"),
            ("POST", "/events/spring-concert/CHECKOUT.json/", "spring-concert"),
        ] {
            assert_eq!(event(&p, method, path, BROAD).as_deref(), Some(expected), "{method} {path}");
        }
    }

    #[test]
    fn a_php_front_controller_before_the_route_is_read_past() {
        let p = RoutePattern::parse("POST /events/{event}/checkout").unwrap();
        for path in [
            "/index.php/events/spring-concert/checkout",
            "/INDEX.PHP/events/spring-concert/checkout",
            "/index%2Ephp/events/spring-concert/checkout",
            "/shop/public/index.php/events/spring-concert/checkout",
            "/app.php/events/spring-concert/checkout;x=1",
            "/a.php/b.php/events/spring-concert/checkout",
        ] {
            assert_eq!(event(&p, "POST", path, BROAD).as_deref(), Some("spring-concert"), "{path}");
            assert_eq!(event(&p, "POST", path, STRICT), None, "{path}: not for other backends");
        }
        assert_eq!(event(&p, "POST", "/index.php", BROAD), None);
        assert_eq!(event(&p, "POST", "/.php/events/a/checkout", BROAD), None, "no script name");
        let c = p.matches(&Method::POST, "/events/a.php/events/b/checkout", BROAD);
        assert_eq!(c.and_then(|c| c.get("event").map(str::to_owned)).as_deref(), Some("b"));
        let c = p.matches(&Method::POST, "/events/x.php/checkout", BROAD).unwrap();
        assert_eq!(
            (c.get("event"), c.is_ambiguous()),
            (Some("x.php"), false),
            "an event named like a script"
        );
        let short = RoutePattern::parse("POST /checkout/{event}").unwrap();
        assert_eq!(event(&short, "POST", "/checkout/a.php/checkout/b", BROAD).as_deref(), Some("b"));
    }

    #[test]
    fn readings_that_disagree_on_a_capture_are_flagged() {
        let p = RoutePattern::parse("POST /events/{event}/checkout").unwrap();
        for path in ["/events/x%2F..%2Fspring-concert/checkout", "/events/spring-concert%2F/checkout"] {
            let c = p.matches(&Method::POST, path, BROAD).unwrap();
            assert!(c.is_ambiguous(), "{path}");
        }
        let c = p.matches(&Method::POST, "/events/%73pring-concert/checkout", BROAD).unwrap();
        assert!(!c.is_ambiguous());
        assert!(event(&p, "POST", "/events/a/checkout.", BROAD).is_none());
        assert!(event(&p, "POST", "/events/a/checkout.j-s", BROAD).is_none());
        assert!(event(&p, "POST", "/events/a/.checkout", BROAD).is_none());
    }

    #[test]
    fn a_post_matches_routes_of_other_methods_but_not_the_other_way_round() {
        let put = RoutePattern::parse("put /orders/{event}").unwrap();
        assert_eq!(put.method(), &Method::PUT);
        assert!(event(&put, "POST", "/orders/a", BROAD).is_some(), "POST with _method=PUT");
        assert!(event(&put, "Put", "/orders/a", BROAD).is_some());
        assert!(event(&put, "GET", "/orders/a", BROAD).is_none());
        let post = RoutePattern::parse("POST /orders/{event}").unwrap();
        assert!(event(&post, "PUT", "/orders/a", BROAD).is_none());
    }

    #[test]
    fn stricter_backends_can_be_declared() {
        let p = RoutePattern::parse("POST /events/{event}/checkout").unwrap();
        assert!(event(&p, "POST", "/events/a/CHECKOUT", STRICT).is_none());
        assert!(event(&p, "POST", "/events/a/checkout/", STRICT).is_none());
        assert!(event(&p, "POST", "/events/a/checkout", STRICT).is_some());
        let slash = RoutePattern::parse("POST /events/{event}/checkout/").unwrap();
        assert!(event(&slash, "POST", "/events/a/checkout/", STRICT).is_some());
        assert!(event(&slash, "POST", "/events/a/checkout", STRICT).is_none());
        assert!(event(&slash, "POST", "/events/a/checkout", BROAD).is_some());
    }

    #[test]
    fn hostile_paths_do_not_panic() {
        let p = RoutePattern::parse("POST /events/{event}/checkout").unwrap();
        for path in [
            "/%",
            "/%zz/%ff%fe/checkout",
            "/../../..",
            "/;;;",
            &"/%2e%2e".repeat(1000),
            "/events/%00/checkout",
        ] {
            let _ = event(&p, "POST", path, BROAD);
        }
        assert_eq!(event(&p, "POST", "/events/%ff/checkout", BROAD).as_deref(), Some("\u{fffd}"));
        assert_eq!(event(&p, "POST", "/events/%2e/checkout", BROAD), None, "`.` is no event id");
    }

    #[test]
    fn bad_patterns_are_explained() {
        assert_eq!(RoutePattern::parse("/events").unwrap_err(), RouteError::Shape);
        assert_eq!(RoutePattern::parse("POST events").unwrap_err(), RouteError::Shape);
        assert!(matches!(
            RoutePattern::parse("PO\tST /x").unwrap_err(),
            RouteError::Method(_) | RouteError::Shape
        ));
        assert_eq!(RoutePattern::parse("POST /e/{a}x").unwrap_err(), RouteError::Segment("{a}x".into()));
        assert_eq!(RoutePattern::parse("POST /e/{}").unwrap_err(), RouteError::Segment("{}".into()));
        assert_eq!(RoutePattern::parse("POST /e/%41").unwrap_err(), RouteError::Literal("%41".into()));
        assert_eq!(RoutePattern::parse("POST /e//x").unwrap_err(), RouteError::Literal("".into()));
        assert_eq!(
            RoutePattern::parse("POST /{a}/{a}").unwrap_err(),
            RouteError::DuplicateCapture("a".into())
        );
    }
}
