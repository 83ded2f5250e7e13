//! How the demo shop reads request paths and methods: as leniently as many real frameworks do,
//! so the demo exposes every way a checkout path can be spelled.
//!
//! Before routing, the method is upper-cased, and the path is percent-decoded as a whole,
//! `\` read as `/`, `;parameters` cut from segments, empty and `.` segments dropped, `..`
//! resolved, letters lower-cased, a trailing `/` and a format suffix (`.html`, `.json`) on the
//! last segment dropped (the behaviours of Rails, Spring, Tomcat, Django and ASP.NET, taken
//! together). This is deliberately written apart from Doorman's own
//! route matching, so the demo can catch a spelling Doorman misses.

use axum::extract::Request;
use axum::http::{Method, Uri};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Characters escaped again when the read path is put back into the URI.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Rewrites `req` to the method and path the shop's router sees.
pub fn read_leniently(mut req: Request) -> Request {
    let upper = req.method().as_str().to_ascii_uppercase();
    if let Ok(method) = Method::from_bytes(upper.as_bytes()) {
        *req.method_mut() = method;
    }
    let decoded = percent_decode_str(req.uri().path()).decode_utf8_lossy().replace('\\', "/");
    let mut segments: Vec<String> = Vec::new();
    for segment in decoded.split('/') {
        let segment = segment.split(';').next().unwrap_or_default();
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(utf8_percent_encode(&s.to_lowercase(), ESCAPED).to_string()),
        }
    }
    if let Some(last) = segments.last_mut() {
        if let Some((stem, ext)) = last.rsplit_once('.') {
            if !stem.is_empty() && !ext.is_empty() && ext.bytes().all(|b| b.is_ascii_alphanumeric()) {
                *last = stem.to_owned();
            }
        }
    }
    let mut path_and_query = format!("/{}", segments.join("/"));
    if let Some(q) = req.uri().query() {
        path_and_query.push('?');
        path_and_query.push_str(q);
    }
    if let Ok(uri) = path_and_query.parse::<Uri>() {
        *req.uri_mut() = uri;
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(method: &str, uri: &str) -> (String, String) {
        let req = Request::builder().method(method).uri(uri).body(axum::body::Body::empty()).unwrap();
        let req = read_leniently(req);
        (req.method().to_string(), req.uri().to_string())
    }

    #[test]
    fn spellings_fold_to_one_path() {
        for uri in [
            "/events/spring-concert/checkout",
            "/events/%73pring-concert/%63heckout",
            "//EVENTS//Spring-Concert/checkout/",
            "/events/x/../spring-concert/./checkout;jsessionid=1",
            "/events%2Fspring-concert%5Ccheckout",
            "/events/spring-concert/checkout.html",
        ] {
            assert_eq!(read("post", uri), ("POST".into(), "/events/spring-concert/checkout".into()), "{uri}");
        }
        assert_eq!(read("GET", "/events?x=%41").1, "/events?x=%41", "the query stays as sent");
        assert_eq!(read("GET", "/a%20b/%ff").1, "/a%20b/%EF%BF%BD");
        assert_eq!(read("GET", "/../..").1, "/");
    }
}
