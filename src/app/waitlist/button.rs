//! The "Join the waitlist" button in the backend's event pages: whether a page gets it (the
//! event takes signups), the button itself (askama, in the visitor's language), and the
//! streaming rewriter (`lol_html`) that puts it in chunk by chunk, never holding the page whole.

use std::sync::{Arc, Mutex};

use askama::Template;
use bytes::Bytes;
use http::header::{self, HeaderMap};
use lol_html::html_content::ContentType;
use lol_html::send::{HtmlRewriter, Settings};
use lol_html::{element, OutputSink};

use super::i18n::Tr;
use super::Waitlist;
use crate::core::waitlist::button::{rewritable, ButtonPlacement, Place};
use crate::core::waitlist::{Lang, WaitlistSettings};
use crate::ports::store::Store;

#[derive(Template)]
#[template(path = "button.html")]
struct ButtonHtml<'a> {
    href: &'a str,
    label: &'a str,
    lang: &'a str,
}

/// The button an event page gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    /// Its HTML.
    pub html: String,
}

impl<S: Store + Clone> Waitlist<S> {
    /// The event of a request for an event page that may get the button (no store access).
    pub fn event_page(&self, method: &http::Method, path: &str) -> Option<String> {
        self.config.button.as_ref()?.event_of(method, path)
    }

    /// The button for `event`'s page, when its waitlist takes signups. A store failure means no
    /// button: the page is the backend's, as it would be without Doorman.
    pub async fn button(&self, event: &str, request: &HeaderMap) -> Option<Button> {
        let settings: WaitlistSettings = match self.settings(event).await {
            Ok(s) => s?,
            Err(e) => {
                tracing::warn!(error = %e, "waitlist: no button, store unavailable");
                return None;
            }
        };
        if !settings.takes_signups() {
            return None;
        }
        let accept = request.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        let lang = Lang::negotiate(accept, &settings.languages);
        let href = format!("{}/{event}?lang={}", self.config.mount, lang.code());
        let label = Tr::new(lang).t("button-join");
        let html = ButtonHtml { href: &href, label: &label, lang: lang.code() }.render().ok()?;
        Some(Button { html })
    }

    /// A rewriter putting `button` into a page as it streams, at the policy's place.
    pub fn rewriter(&self, button: Button) -> Option<PageRewriter> {
        let placement = self.config.button.as_ref()?;
        Some(PageRewriter::new(placement, button.html))
    }
}

#[derive(Clone, Default)]
struct Collected(Arc<Mutex<Vec<u8>>>);

impl OutputSink for Collected {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(chunk);
    }
}

impl Collected {
    fn take(&self) -> Bytes {
        Bytes::from(std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner())))
    }
}

/// Why a page could not be rewritten to its end.
#[derive(Debug, thiserror::Error)]
#[error("the page could not be rewritten: {0}")]
pub struct RewriteError(String);

/// Puts the button into a page fed chunk by chunk; at most the first element matching the
/// selector gets it.
pub struct PageRewriter {
    rewriter: HtmlRewriter<'static, Collected>,
    out: Collected,
}

impl PageRewriter {
    fn new(placement: &ButtonPlacement, html: String) -> Self {
        let out = Collected::default();
        let place = placement.place();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let handler = element!(placement.selector(), move |el| {
            if done.swap(true, std::sync::atomic::Ordering::Relaxed) {
                return Ok(());
            }
            match place {
                Place::Append => el.append(&html, ContentType::Html),
                Place::Prepend => el.prepend(&html, ContentType::Html),
                Place::Before => el.before(&html, ContentType::Html),
                Place::After => el.after(&html, ContentType::Html),
                Place::Replace => el.replace(&html, ContentType::Html),
            }
            Ok(())
        });
        let settings = Settings { element_content_handlers: vec![handler], ..Settings::new_send() };
        Self { rewriter: HtmlRewriter::new(settings, out.clone()), out }
    }

    /// Feeds the next chunk of the page; answers what is ready to send.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Bytes, RewriteError> {
        self.rewriter.write(chunk).map_err(|e| RewriteError(e.to_string()))?;
        Ok(self.out.take())
    }

    /// Ends the page; answers the rest.
    pub fn finish(self) -> Result<Bytes, RewriteError> {
        let out = self.out.clone();
        self.rewriter.end().map_err(|e| RewriteError(e.to_string()))?;
        Ok(out.take())
    }

    /// Readies the page's request: a compressed page cannot be rewritten without unpacking it,
    /// so the backend is asked for it plain.
    pub fn prepare_request(headers: &mut HeaderMap) {
        headers.remove(header::ACCEPT_ENCODING);
    }

    /// Whether the backend's answer can be rewritten as it streams (HTML, not compressed); if
    /// so, `headers` lose what describes the backend's bytes rather than Doorman's (length,
    /// validators, ranges). Otherwise the answer goes out as the backend sent it.
    pub fn takes_answer(headers: &mut HeaderMap) -> bool {
        if !rewritable(headers) {
            return false;
        }
        for name in [header::CONTENT_LENGTH, header::ETAG, header::CONTENT_RANGE, header::ACCEPT_RANGES] {
            headers.remove(name);
        }
        headers.remove("content-md5");
        true
    }
}

impl std::fmt::Debug for PageRewriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageRewriter(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::route::RoutePattern;

    fn rewrite(place: Place, page: &str, chunk: usize) -> String {
        let placement = ButtonPlacement::new(
            RoutePattern::parse("GET /events/{event}").unwrap(),
            "#tickets".into(),
            place,
        )
        .unwrap();
        let mut r = PageRewriter::new(&placement, "<a href=\"/waitlist/gala\">Join</a>".into());
        let mut out = Vec::new();
        for piece in page.as_bytes().chunks(chunk) {
            out.extend_from_slice(&r.feed(piece).unwrap());
        }
        out.extend_from_slice(&r.finish().unwrap());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_button_goes_where_the_policy_says_in_any_chunking() {
        let page =
            "<html><body><div id=\"tickets\"><p>Sold out</p></div><div id=\"tickets\">x</div></body></html>";
        for chunk in [1, 3, 7, 1000] {
            let out = rewrite(Place::Append, page, chunk);
            assert_eq!(
                out,
                "<html><body><div id=\"tickets\"><p>Sold out</p><a href=\"/waitlist/gala\">Join</a></div><div id=\"tickets\">x</div></body></html>",
                "chunks of {chunk}; only the first match gets it"
            );
        }
        assert!(rewrite(Place::Before, page, 5).starts_with("<html><body><a href"));
        assert!(rewrite(Place::Replace, page, 5)
            .starts_with("<html><body><a href=\"/waitlist/gala\">Join</a><div"));
        let none = "<html><body><p>no such element</p></body></html>";
        assert_eq!(rewrite(Place::Append, none, 4), none, "a page without the element is unchanged");
    }

    #[test]
    fn the_rest_of_the_page_is_byte_for_byte_the_backends() {
        let odd = "<!doctype html><!-- c --><p class=x data-a='1'>é &amp; <b>b</p><div id=tickets></div><script>if (a<b) {}</script>";
        let out = rewrite(Place::Append, odd, 2);
        assert_eq!(
            out,
            odd.replace(
                "<div id=tickets></div>",
                "<div id=tickets><a href=\"/waitlist/gala\">Join</a></div>"
            )
        );
    }
}
