//! What a blocked customer gets: the quiet redirect (or the JSON answer for script checkouts),
//! shaped like the backend's own answers on that route, which forwarded checkouts teach.

use std::sync::Mutex;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, Response, StatusCode};

/// What blocked answers copy from the backend's own answers on a route.
#[derive(Default)]
pub struct LearnedHeaders {
    /// From the last forwarded redirect (3xx).
    pub redirect: Mutex<Learned>,
    /// From the last forwarded JSON answer.
    pub json: Mutex<Learned>,
}

/// One learned answer shape.
#[derive(Default, Clone, PartialEq, Eq, Debug)]
pub struct Learned {
    /// Its status, for redirects: 301, 302 or 303 (never 307 or 308, which would make the
    /// browser post the order again to the event page).
    pub status: Option<StatusCode>,
    /// Its site-wide header fields ([`is_site_wide`]).
    pub fields: Vec<(HeaderName, HeaderValue)>,
}

impl LearnedHeaders {
    /// Learns from a forwarded answer the backend completed (2xx or 3xx): the status and
    /// site-wide fields of its redirects and of its JSON answers. Answers whether a shape
    /// changed (so it is worth saving for other nodes and edge instances).
    pub fn learn(&self, status: StatusCode, headers: &HeaderMap) -> bool {
        let is_json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.split(';').next().unwrap_or("").trim().ends_with("json"));
        let (slot, status) = match (status.is_redirection(), is_json) {
            (true, _) => (&self.redirect, matches!(status.as_u16(), 301..=303).then_some(status)),
            (false, true) => (&self.json, None),
            (false, false) => return false,
        };
        let fields: Vec<(HeaderName, HeaderValue)> = headers
            .iter()
            .filter(|(name, value)| is_site_wide(name, value))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        let learned = Learned { status, fields };
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        let changed = *slot != learned;
        *slot = learned;
        changed
    }

    /// The shapes, as saved in the store for the other nodes and edge instances (JSON: per shape
    /// its status, if any, and its fields).
    pub fn snapshot(&self) -> Vec<u8> {
        let saved = |slot: &Mutex<Learned>| {
            let learned = slot.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let fields = learned
                .fields
                .iter()
                .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            SavedShape { status: learned.status.map(|s| s.as_u16()), fields }
        };
        let shapes = SavedShapes { redirect: saved(&self.redirect), json: saved(&self.json) };
        serde_json::to_vec(&shapes).unwrap_or_default()
    }

    /// Takes the shapes another node or instance saved ([`LearnedHeaders::snapshot`]) for the
    /// shapes this one has not learned itself. Read as strictly as they are learned: only
    /// site-wide fields, only 301 to 303; anything else in the value is skipped.
    pub fn restore(&self, saved: &[u8]) {
        let Ok(shapes) = serde_json::from_slice::<SavedShapes>(saved) else { return };
        for (slot, shape) in [(&self.redirect, shapes.redirect), (&self.json, shapes.json)] {
            let status =
                shape.status.filter(|s| (301..=303).contains(s)).and_then(|s| StatusCode::from_u16(s).ok());
            let fields = shape
                .fields
                .into_iter()
                .filter_map(|(n, v)| {
                    Some((HeaderName::from_bytes(n.as_bytes()).ok()?, HeaderValue::from_str(&v).ok()?))
                })
                .filter(|(n, v)| is_site_wide(n, v))
                .collect();
            let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
            if *slot == Learned::default() {
                *slot = Learned { status, fields };
            }
        }
    }

    /// Shapes a blocked answer like the backend's own: its status and site-wide fields, then
    /// the policy's `extra` fields.
    pub fn shape(
        &self,
        mut response: Response<Bytes>,
        as_json: bool,
        extra: &[(HeaderName, HeaderValue)],
    ) -> Response<Bytes> {
        let slot = if as_json { &self.json } else { &self.redirect };
        let learned = slot.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(status) = learned.status {
            *response.status_mut() = status;
        }
        let h = response.headers_mut();
        for (name, value) in learned.fields {
            h.insert(name, value);
        }
        for (name, value) in extra {
            h.insert(name.clone(), value.clone());
        }
        response
    }
}

/// [`LearnedHeaders`] as saved in the store.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct SavedShapes {
    #[serde(default)]
    redirect: SavedShape,
    #[serde(default)]
    json: SavedShape,
}

/// One [`Learned`] as saved: its status, and its fields as name and value.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct SavedShape {
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    fields: Vec<(String, String)>,
}

/// The store key of a route's saved shapes (beside its timing samples, and kept as long).
pub fn saved_shapes(route: &str) -> String {
    // Braces would make a Redis Cluster hash tag of the capture name.
    format!("sh:{}", route.replace(['{', '}'], "_"))
}

/// Header fields that describe the site rather than one answer, so a blocked answer may carry
/// them too. Everything else (cookies, ids, timings, trace context, nonces) belongs to another
/// customer's answer and is never copied.
pub fn is_site_wide(name: &HeaderName, value: &HeaderValue) -> bool {
    const SITE_WIDE: &[&str] = &[
        "server",
        "x-powered-by",
        "content-type",
        "content-language",
        "cache-control",
        "pragma",
        "vary",
        "x-frame-options",
        "x-content-type-options",
        "x-xss-protection",
        "strict-transport-security",
        "referrer-policy",
        "permissions-policy",
        "cross-origin-opener-policy",
        "cross-origin-embedder-policy",
        "cross-origin-resource-policy",
        "content-security-policy",
    ];
    SITE_WIDE.contains(&name.as_str())
        && !(name.as_str() == "content-security-policy"
            && value.as_bytes().windows(6).any(|w| w == b"nonce-"))
}

/// The quiet answer to a blocked form checkout: an ordinary 303 to the event page.
pub fn redirect(location: &str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::SEE_OTHER;
    let h = response.headers_mut();
    // The template is validated as a local path and the event is percent-encoded; if the result
    // is still not a valid header value, fall back to the site root.
    h.insert(header::LOCATION, HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/")));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The quiet answer to a blocked script checkout: 200 with the policy's JSON.
pub fn json_answer(json: String) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(json));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_answers_copy_only_site_wide_fields_and_safe_redirect_statuses() {
        let learned = LearnedHeaders::default();
        let mut h = HeaderMap::new();
        h.insert("server", HeaderValue::from_static("shop/1"));
        h.insert("set-cookie", HeaderValue::from_static("sid=someone-else"));
        h.insert("content-security-policy", HeaderValue::from_static("script-src 'nonce-abc'"));
        learned.learn(StatusCode::FOUND, &h);
        let r = learned.shape(redirect("/e/x"), false, &[]);
        assert_eq!(r.status(), 302);
        assert_eq!(r.headers()["server"], "shop/1");
        assert!(
            !r.headers().contains_key("set-cookie") && !r.headers().contains_key("content-security-policy")
        );
        // Saved and restored elsewhere: the same shape, and only what may be copied.
        let elsewhere = LearnedHeaders::default();
        elsewhere.restore(&learned.snapshot());
        assert_eq!(*elsewhere.redirect.lock().unwrap(), *learned.redirect.lock().unwrap());
        let hostile =
            br#"{"redirect": {"status": 307, "fields": [["set-cookie", "sid=x"], ["server", "shop/2"],
            ["bad name", "x"]]}, "json": {"fields": [["x-frame-options", "DENY"]]}}"#;
        let fresh = LearnedHeaders::default();
        fresh.restore(b"not json");
        fresh.restore(hostile);
        let r = fresh.shape(redirect("/e/x"), false, &[]);
        assert_eq!((r.status().as_u16(), &r.headers()["server"]), (303, &HeaderValue::from_static("shop/2")));
        assert!(!r.headers().contains_key("set-cookie"));
        assert_eq!(fresh.shape(json_answer("{}".into()), true, &[]).headers()["x-frame-options"], "DENY");
        assert!(!learned.learn(StatusCode::FOUND, &h), "the same shape again is no change");
        learned.learn(StatusCode::TEMPORARY_REDIRECT, &h);
        assert_eq!(learned.shape(redirect("/e/x"), false, &[]).status(), 303, "never a 307 that re-posts");
        assert_eq!(redirect("/e/\n").headers()["location"], "/", "an impossible location falls back");
    }
}
