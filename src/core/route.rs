//! Route patterns from the policy: a method and a path with `{name}` captures, e.g.
//! `POST /events/{event}/checkout`.
//!
//! Matching is exact per segment (no prefixes, no wildcards); a capture matches one non-empty
//! segment. Percent-encoded segments are compared as written.

use std::fmt;

use http::Method;

/// A parsed route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    method: Method,
    segments: Vec<Segment>,
    source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Capture(String),
}

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
    /// The same capture name is used twice.
    #[error("capture `{{{0}}}` appears twice")]
    DuplicateCapture(String),
}

/// The captures of a match, in pattern order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Captures<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Captures<'a> {
    /// The value captured by `{name}`.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

impl RoutePattern {
    /// Parses `METHOD /path/{capture}/more`.
    pub fn parse(text: &str) -> Result<Self, RouteError> {
        let (method, path) = text.trim().split_once(' ').ok_or(RouteError::Shape)?;
        let path = path.trim();
        if !path.starts_with('/') {
            return Err(RouteError::Shape);
        }
        let method =
            Method::from_bytes(method.as_bytes()).map_err(|_| RouteError::Method(method.to_owned()))?;
        let mut segments = Vec::new();
        for raw in path[1..].split('/') {
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
            } else {
                Segment::Literal(raw.to_owned())
            };
            segments.push(seg);
        }
        Ok(Self {
            method,
            segments,
            source: format!("{} {path}", text.trim().split_once(' ').unwrap_or_default().0),
        })
    }

    /// The captures when `method` and `path` (without query) match, else `None`.
    pub fn matches<'a>(&'a self, method: &Method, path: &'a str) -> Option<Captures<'a>> {
        if *method != self.method {
            return None;
        }
        let mut parts = path.strip_prefix('/')?.split('/');
        let mut captures = Captures::default();
        for seg in &self.segments {
            let part = parts.next()?;
            match seg {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::Capture(_) if part.is_empty() => return None,
                Segment::Capture(name) => captures.pairs.push((name.as_str(), part)),
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

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_exact_segments_and_captures() {
        let p = RoutePattern::parse("POST /events/{event}/checkout").unwrap();
        let c = p.matches(&Method::POST, "/events/spring-concert/checkout").unwrap();
        assert_eq!(c.get("event"), Some("spring-concert"));
        assert_eq!(c.get("other"), None);
        for (m, path) in [
            (Method::GET, "/events/spring-concert/checkout"),
            (Method::POST, "/events/spring-concert/checkout/"),
            (Method::POST, "/events//checkout"),
            (Method::POST, "/events/a/b/checkout"),
            (Method::POST, "/events/spring-concert"),
            (Method::POST, "events/spring-concert/checkout"),
            (Method::POST, "/EVENTS/spring-concert/checkout"),
        ] {
            assert!(p.matches(&m, path).is_none(), "{m} {path}");
        }
        assert_eq!(p.capture_names().collect::<Vec<_>>(), ["event"]);
        assert_eq!(p.to_string(), "POST /events/{event}/checkout");
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
        assert_eq!(
            RoutePattern::parse("POST /{a}/{a}").unwrap_err(),
            RouteError::DuplicateCapture("a".into())
        );
    }
}
