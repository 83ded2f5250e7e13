//! The waitlist's public pages: which request runs which flow, and what it answers.
//!
//! Under the mount (`/waitlist` by default):
//!
//! | request | does |
//! |---|---|
//! | `GET /{event}` | the signup form |
//! | `POST /{event}` | signs up (CSRF, honeypot, rate limits), answers "check your mail" |
//! | `GET /confirm?t=` | shows what the link confirms, with a button |
//! | `POST /confirm` | confirms: the place in line |
//! | `GET /manage?t=` | a guest's signup: status, place, cancel, news on or off |
//! | `POST /cancel` | cancels by manage link |
//! | `POST /manage/news` | the customer's change of mind about news (`news`: yes or no) |
//! | `GET /unsubscribe?t=` | a news mail's unsubscribe link in a browser: to the signup's page |
//! | `POST /unsubscribe?t=` | a mail program's one-click unsubscribe (RFC 8058), no form token |
//! | `GET /mine` | a signed-in customer's signups |
//! | `POST /mine/cancel` | cancels one of them |
//! | `GET /manage/data?t=`, `GET /mine/data` | the customer's own data, as JSON (self-service) |
//! | `POST /manage/erase`, `POST /mine/erase` | erases it, after a confirming page (self-service) |
//! | `GET /offer?c=` | an offer: its seats, deadline and link, and a decline button |
//! | `POST /offer/decline` | declines it (its seats pass on in automatic mode) |
//! | `GET /staff` | box-office sign-in (or who is signed in, and sign out) |
//! | `POST /staff` | exchanges a box-office token for a staff session cookie |
//! | `POST /staff/out` | ends the staff session |
//! | `GET /staff/list?event=` | staff's list of the event: search, notes, actions, offers |
//! | `POST /staff/act` | one staff action on one signup |
//! | `GET /staff/export?event=` | the list as CSV |
//! | `GET /staff/messages?event=` | the event's message history, with a preview form |
//! | `GET /staff/preview?event=&template=&lang=` | a message as customers get it (a sample signup) |
//! | `POST /staff/test` | sends it to one address as a test (the organizer's admins) |
//! | `GET /staff/broadcasts?event=` | the messages to the whole list, and the form for one (admins) |
//! | `POST /staff/broadcast` | previews, test-sends, schedules or cancels one (admins) |
//!
//! With a staff session of the event's organizer, the signup form shows the box-office fields
//! (the organizer's box-office address instead of the customer's, an internal note); sent
//! without one, they are refused (403) and nothing is stored.
//!
//! Links open in the signup's language; other pages negotiate `Accept-Language` unless `?lang=`
//! chooses. Every answer is `no-store`, framed by nobody, and sends no `Referer` onwards (links
//! carry tokens).

//!
//! Files: [`signup`] (the form and its post), [`links`] (confirm, manage, cancel by link),
//! [`mine`] (a signed-in customer's signups), [`offer`] (an offer's page and its decline),
//! [`staff`] (box-office sign-in and out), [`own_data`] (a customer's download and erasure); this
//! module holds the router, forms and their CSRF tokens, cookies and the security headers.

mod links;
mod mine;
mod offer;
mod own_data;
mod signup;
mod staff;
mod staff_list;
mod staff_messages;

use std::time::Duration;

use askama::Template;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Method, Response, StatusCode};

use super::i18n::Tr;
use super::pages::{MessagePage, Page};
use super::usecases::staff::STAFF_COOKIE;
use super::Waitlist;
use crate::app::blacklist::Blacklist;
use crate::app::body::{declared_too_large, read_bounded};
use crate::app::context::RequestContext;
use crate::core::blacklist::is_slug;
use crate::core::error_page::error_response;
use crate::core::waitlist::form::{Form, MAX_FORM_BYTES, MAX_MESSAGE_FORM_BYTES};
use crate::core::waitlist::link::Kind;
use crate::core::waitlist::Lang;
use crate::ports::body::BodyStream;
use crate::ports::random::RandomUnavailable;
use crate::ports::store::Store;

/// The CSRF cookie of the forms.
pub const CSRF_COOKIE: &str = "doorman_csrf";

/// How long a form's CSRF token lives.
pub(in crate::app::waitlist) const CSRF_FOR: u64 = 24 * 3600;

/// How long a form body may take to arrive.
pub(in crate::app::waitlist) const FORM_WITHIN: Duration = Duration::from_secs(10);

/// A request for the waitlist's pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /{event}`.
    Form(String),
    /// `POST /{event}`.
    Signup(String),
    /// `GET /confirm`.
    ConfirmPage,
    /// `POST /confirm`.
    Confirm,
    /// `GET /manage`.
    Manage,
    /// `POST /cancel`.
    Cancel,
    /// `GET /mine`.
    Mine,
    /// `POST /mine/cancel`.
    MineCancel,
    /// `GET /manage/data`.
    ManageData,
    /// `POST /manage/erase`.
    ManageErase,
    /// `GET /mine/data`.
    MineData,
    /// `POST /mine/erase`.
    MineErase,
    /// `POST /manage/news`.
    ManageNews,
    /// `GET /unsubscribe`.
    UnsubscribePage,
    /// `POST /unsubscribe`.
    Unsubscribe,
    /// `GET /offer`.
    Offer,
    /// `POST /offer/decline`.
    Decline,
    /// `GET /staff`.
    StaffPage,
    /// `POST /staff`.
    StaffSignIn,
    /// `POST /staff/out`.
    StaffSignOut,
    /// `GET /staff/list`.
    StaffList,
    /// `POST /staff/act`.
    StaffAct,
    /// `GET /staff/export`.
    StaffExport,
    /// `GET /staff/messages`.
    StaffMessages,
    /// `GET /staff/preview`.
    StaffPreview,
    /// `POST /staff/test`.
    StaffTest,
    /// `GET /staff/broadcasts`.
    StaffBroadcasts,
    /// `POST /staff/broadcast`.
    StaffBroadcast,
    /// Under the mount, but nothing here (404), or the wrong method (405).
    NotHere(StatusCode),
}

impl<S> Waitlist<S> {
    /// The route of a request, if its path is under the mount.
    pub fn route(&self, method: &Method, path: &str) -> Option<Route> {
        let rest = path.strip_prefix(self.config.mount.as_str())?;
        let rest = match rest {
            "" => "",
            r if r.starts_with('/') => &r[1..],
            _ => return None, // `/waitlisting` is not ours
        };
        let get = method == Method::GET || method == Method::HEAD;
        let post = method == Method::POST;
        let wrong = Route::NotHere(StatusCode::METHOD_NOT_ALLOWED);
        Some(match rest {
            "confirm" if get => Route::ConfirmPage,
            "confirm" if post => Route::Confirm,
            "manage" if get => Route::Manage,
            "cancel" if post => Route::Cancel,
            "mine" if get => Route::Mine,
            "mine/cancel" if post => Route::MineCancel,
            "manage/data" if get => Route::ManageData,
            "manage/erase" if post => Route::ManageErase,
            "mine/data" if get => Route::MineData,
            "mine/erase" if post => Route::MineErase,
            "manage/news" if post => Route::ManageNews,
            "unsubscribe" if get => Route::UnsubscribePage,
            "unsubscribe" if post => Route::Unsubscribe,
            "offer" if get => Route::Offer,
            "offer/decline" if post => Route::Decline,
            "staff" if get => Route::StaffPage,
            "staff" if post => Route::StaffSignIn,
            "staff/out" if post => Route::StaffSignOut,
            "staff/list" if get => Route::StaffList,
            "staff/act" if post => Route::StaffAct,
            "staff/export" if get => Route::StaffExport,
            "staff/messages" if get => Route::StaffMessages,
            "staff/preview" if get => Route::StaffPreview,
            "staff/test" if post => Route::StaffTest,
            "staff/broadcasts" if get => Route::StaffBroadcasts,
            "staff/broadcast" if post => Route::StaffBroadcast,
            "confirm" | "manage" | "cancel" | "mine" | "mine/cancel" | "offer" | "offer/decline"
            | "manage/data" | "manage/erase" | "manage/news" | "unsubscribe" | "mine/data" | "mine/erase"
            | "staff" | "staff/out" | "staff/list" | "staff/act" | "staff/export" | "staff/messages"
            | "staff/preview" | "staff/test" | "staff/broadcasts" | "staff/broadcast" => wrong,
            event if is_slug(event) && get => Route::Form(event.to_owned()),
            event if is_slug(event) && post => Route::Signup(event.to_owned()),
            event if is_slug(event) => wrong,
            _ => Route::NotHere(StatusCode::NOT_FOUND),
        })
    }
}

pub(in crate::app::waitlist) fn query_param(head: &Parts, name: &str) -> Option<String> {
    let q = head.uri.query()?;
    form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The value of one of Doorman's own cookies: a request's `Cookie` fields hold `name=value`
/// pairs split by `;` and nothing else (RFC 6265 §4.2.1), so a split reads them (the `cookie`
/// crate's parser, made for `Set-Cookie` attributes, would bring a date parser into the edge
/// component). The first pair of that name wins.
pub(in crate::app::waitlist) fn cookie(head: &Parts, name: &str) -> Option<String> {
    head.headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|text| text.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(n, _)| n.trim() == name)
        .map(|(_, value)| value.trim().to_owned())
}

/// An HTML answer with the waitlist's headers.
pub(in crate::app::waitlist) fn html(
    status: StatusCode,
    body: Result<String, askama::Error>,
) -> Response<Bytes> {
    let Ok(body) = body else { return error_response(StatusCode::INTERNAL_SERVER_ERROR) };
    let mut r = Response::new(Bytes::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    r
}

/// A mail program's one-click unsubscribe (RFC 8058) as a form: `List-Unsubscribe=One-Click`
/// when the body holds that field, url-encoded or as `multipart/form-data` (both are allowed),
/// else an empty form.
fn one_click_form(head: &Parts, body: &[u8]) -> Form {
    use crate::core::fields::{read_body, Backend, BodyKind, ContentTypes};
    let mut one_click = false;
    if let Ok(kind) = BodyKind::of(&head.headers, body.len(), &ContentTypes::default()) {
        let _ = read_body(&kind, body, Backend::Any, &mut |name, value| {
            one_click |= name == "List-Unsubscribe" && value == "One-Click";
        });
    }
    let fields: &[u8] = if one_click { b"List-Unsubscribe=One-Click" } else { b"" };
    Form::parse(fields).unwrap_or_default()
}

impl<S: Store + Clone> Waitlist<S> {
    /// Answers a waitlist request (its body read here, bounded).
    pub async fn serve<B: BodyStream>(
        &self,
        route: Route,
        context: &RequestContext,
        head: &Parts,
        body: &mut B,
        blacklist: Option<&Blacklist<S>>,
    ) -> Response<Bytes> {
        // A form is read once, whole and strictly; the handlers take its fields.
        let form = match &route {
            Route::Signup(_)
            | Route::Confirm
            | Route::Cancel
            | Route::MineCancel
            | Route::ManageErase
            | Route::ManageNews
            | Route::Unsubscribe
            | Route::MineErase
            | Route::Decline
            | Route::StaffAct
            | Route::StaffTest
            | Route::StaffBroadcast
            | Route::StaffSignIn
            | Route::StaffSignOut => {
                let limit =
                    if route == Route::StaffBroadcast { MAX_MESSAGE_FORM_BYTES } else { MAX_FORM_BYTES };
                if declared_too_large(body, limit) {
                    return error_response(StatusCode::PAYLOAD_TOO_LARGE);
                }
                let bytes = match read_bounded(body, limit, FORM_WITHIN, &*self.ports.tasks).await {
                    Ok(b) => b,
                    Err(fault) => return error_response(fault.status()),
                };
                if route == Route::Unsubscribe {
                    one_click_form(head, &bytes)
                } else {
                    match Form::parse(&bytes) {
                        Some(form) => form,
                        None => return error_response(StatusCode::BAD_REQUEST),
                    }
                }
            }
            _ => Form::default(),
        };
        let answer = match route {
            Route::Form(event) => self.form_page(head, &event).await,
            Route::Signup(event) => self.signup_post(context, head, &event, &form, blacklist).await,
            Route::ConfirmPage => self.confirm_page(head).await,
            Route::Confirm => {
                self.confirm_post(head, form.get("t").unwrap_or_default(), form.get("lang")).await
            }
            Route::Manage => self.manage_page(head).await,
            Route::Cancel => self.cancel_post(head, &form).await,
            Route::Mine => self.mine_page(head).await,
            Route::MineCancel => self.mine_cancel(head, &form).await,
            Route::ManageData => self.manage_data(head).await,
            Route::ManageErase => self.manage_erase(head, &form, blacklist).await,
            Route::MineData => self.mine_data(head).await,
            Route::MineErase => self.mine_erase(head, &form, blacklist).await,
            Route::ManageNews => self.manage_news_post(head, &form).await,
            Route::UnsubscribePage => Ok(self.unsubscribe_page(head)),
            Route::Unsubscribe => self.unsubscribe_post(head, &form).await,
            Route::Offer => self.offer_page(head).await,
            Route::Decline => self.decline_post(head, &form, blacklist).await,
            Route::StaffPage => self.staff_get(head).await,
            Route::StaffSignIn => self.staff_sign_in(context, head, &form).await,
            Route::StaffSignOut => Ok(self.staff_sign_out(head, &form)),
            Route::StaffList => self.staff_list(head).await,
            Route::StaffAct => self.staff_act(context, head, &form, blacklist).await,
            Route::StaffExport => self.staff_export(head).await,
            Route::StaffMessages => self.staff_messages(head).await,
            Route::StaffPreview => self.staff_preview(head).await,
            Route::StaffTest => self.staff_test(context, head, &form).await,
            Route::StaffBroadcasts => self.staff_broadcasts(head).await,
            Route::StaffBroadcast => self.staff_broadcast(context, head, &form).await,
            Route::NotHere(status) => Ok(error_response(status)),
        };
        match answer {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "waitlist: unavailable");
                error_response(StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    }

    pub(in crate::app::waitlist) fn lang_for(
        &self,
        head: &Parts,
        form_lang: Option<&str>,
        offered: &[Lang],
        default: Option<Lang>,
    ) -> Lang {
        let chosen = query_param(head, "lang").or_else(|| form_lang.map(str::to_owned));
        if let Some(l) = chosen.as_deref().and_then(Lang::parse).filter(|l| offered.contains(l)) {
            return l;
        }
        if let Some(d) = default.filter(|d| offered.contains(d)) {
            return d;
        }
        let accept = head.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        Lang::negotiate(accept, offered)
    }

    pub(in crate::app::waitlist) fn page(
        &self,
        lang: Lang,
        title: String,
        path: &str,
        offered: &[Lang],
        event: Option<&str>,
    ) -> Page {
        let mut page = Page::new(lang, title, path, offered);
        page.back = event.and_then(|e| self.config.event_page.as_ref().map(|p| p.replace("{event}", e)));
        page
    }

    pub(in crate::app::waitlist) fn message(&self, page: Page, paragraphs: Vec<String>) -> MessagePage {
        MessagePage { page, paragraphs, place: None, link: None, form: None }
    }

    /// The form's CSRF token (bound to the cookie's nonce and to who is signed in), and the
    /// cookie to set when the request's is missing, not ours or expiring within the hour.
    pub(in crate::app::waitlist) fn csrf(
        &self,
        head: &Parts,
    ) -> Result<(String, Option<HeaderValue>), RandomUnavailable> {
        let now = self.now();
        if let Some(c) = cookie(head, CSRF_COOKIE) {
            if let Ok(nonce) = self.signer.open(Kind::Csrf, &c, now + 3600) {
                return Ok((self.form_token(head, nonce), None));
            }
        }
        let nonce = self.random_id()?;
        let c = cookie::Cookie::build((CSRF_COOKIE, self.signer.seal(Kind::Csrf, &nonce, now + CSRF_FOR)))
            .path(self.config.mount.clone())
            .http_only(true)
            .secure(self.config.secure_cookies)
            .same_site(cookie::SameSite::Lax)
            .max_age(cookie::time::Duration::seconds(CSRF_FOR as i64))
            .build();
        Ok((self.form_token(head, &nonce), HeaderValue::from_str(&c.to_string()).ok()))
    }

    pub(in crate::app::waitlist) fn form_token(&self, head: &Parts, nonce: &str) -> String {
        self.form_token_for(head, nonce, self.account(&head.headers).as_deref())
    }

    /// [`Self::form_token`] for the signed-in `account` the caller has already verified (a
    /// session signature is checked once per request, not once per use).
    fn form_token_for(&self, head: &Parts, nonce: &str, account: Option<&str>) -> String {
        let staff = cookie(head, STAFF_COOKIE);
        self.signer.form_token(nonce, account, staff.as_deref())
    }

    /// Whether a form post may go on: its browser `session` (the CSRF cookie's nonce, from
    /// [`Self::checked_session`]) and the client's network have not posted too much
    /// ([`Self::posts_within_limits`]).
    pub(in crate::app::waitlist) async fn posts_allowed(
        &self,
        context: &RequestContext,
        session: &str,
    ) -> Result<bool, crate::ports::store::StoreError> {
        let client = self.client(context).await;
        self.posts_within_limits(session, client).await
    }

    /// Whether the form's token is the one [`Self::csrf`] makes for this request's cookie and
    /// sessions (so neither a copied cookie nor a token made for another session passes).
    pub(in crate::app::waitlist) fn csrf_ok(&self, head: &Parts, form: &Form) -> bool {
        self.checked_session(head, form, self.account(&head.headers).as_deref()).is_some()
    }

    /// [`Self::csrf_ok`] for the signed-in `account` the caller has already verified; answers
    /// the browser session the post comes from (the cookie's nonce) when the token is right.
    pub(in crate::app::waitlist) fn checked_session(
        &self,
        head: &Parts,
        form: &Form,
        account: Option<&str>,
    ) -> Option<String> {
        let (c, f) = (cookie(head, CSRF_COOKIE)?, form.get("csrf")?);
        let nonce = self.signer.open(Kind::Csrf, &c, self.now()).ok()?;
        use subtle::ConstantTimeEq;
        bool::from(self.form_token_for(head, nonce, account).as_bytes().ct_eq(f.as_bytes()))
            .then(|| nonce.to_owned())
    }

    pub(in crate::app::waitlist) fn bad_form(&self, lang: Lang) -> Response<Bytes> {
        let tr = Tr::new(lang);
        let page = self.page(lang, tr.t("bad-form-title"), &self.config.mount, &[lang], None);
        html(StatusCode::FORBIDDEN, self.message(page, vec![tr.t("bad-form-body")]).render())
    }

    /// The answer to a form whose CSRF token is missing or not ours, if it is one of those.
    pub(in crate::app::waitlist) fn refused(&self, head: &Parts, form: &Form) -> Option<Response<Bytes>> {
        (!self.csrf_ok(head, form))
            .then(|| self.bad_form(self.lang_for(head, form.get("lang"), &Lang::ALL, None)))
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::app::waitlist::testing::{site, site_with, text, Browser};
    use crate::testkit::Reported;

    #[test]
    fn a_signup_needs_the_forms_own_token_and_queues_its_mail() {
        let site = site();
        let mut browser = Browser::default();
        let form = site.send(Method::GET, "/waitlist/gala", &mut browser, "", None);
        assert_eq!(form.status(), StatusCode::OK);
        assert!(!browser.cookie.is_empty() && !browser.token.is_empty());
        assert_ne!(browser.cookie, browser.token, "the form's token is not the cookie's value");
        let forged = format!("csrf={}&email=ada%40example.com&name=Ada&tickets=2", browser.cookie);
        let refused = site.send(Method::POST, "/waitlist/gala", &mut browser, &forged, None);
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(site.rig.store.keys().iter().all(|k| !k.starts_with("mail:")), "nothing queued");
        let page = site.sign_up(&mut browser, "ada@example.com", None);
        assert_eq!(page.status(), StatusCode::OK);
        assert!(text(&page).contains("Check your mail"));
        assert_eq!(site.rig.events.take(), [Reported::MailQueued]);
        assert!(page.headers()[header::CACHE_CONTROL].to_str().unwrap().contains("no-store"));
    }

    #[test]
    fn rate_windows_close_and_open_again_with_the_clock() {
        let site = site_with(|c| c.per_network_per_10_minutes = 50);
        site.open("ball");
        let client: Option<IpAddr> = Some([192, 0, 2, 7].into());
        let fresh = || Browser::default();
        // One mailbox: five attempts an hour over all events, however it is spelt.
        let spellings = [
            "ada@example.com",
            "ADA+gala@example.com",
            "ada+x@Example.com",
            "ada@example.com",
            "ada+1@example.com",
        ];
        for (i, email) in spellings.iter().enumerate() {
            let event = if i % 2 == 0 { "gala" } else { "ball" };
            assert_eq!(
                site.sign_up_for(event, &mut fresh(), email, client).status(),
                StatusCode::OK,
                "{email}"
            );
        }
        let sixth = site.sign_up_for("ball", &mut fresh(), "ada+2@example.com", client);
        assert_eq!(sixth.status(), StatusCode::TOO_MANY_REQUESTS, "the sixth, at another event and spelling");
        site.rig.clock.advance(Duration::from_secs(3600));
        assert_eq!(
            site.sign_up(&mut fresh(), "ada@example.com", client).status(),
            StatusCode::OK,
            "a new hour"
        );

        // One browser session: thirty posts in ten minutes, whatever the addresses.
        site.rig.clock.advance(Duration::from_secs(600));
        let mut browser = fresh();
        let statuses: Vec<StatusCode> = (0..31)
            .map(|i| site.sign_up(&mut browser, &format!("guest{i}@example.com"), client).status())
            .collect();
        assert!(statuses[..30].iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
        assert_eq!(statuses[30], StatusCode::TOO_MANY_REQUESTS);
        // Other customers behind the same address (one carrier NAT) go on, each in their own
        // browser, up to the network's limit (50 here): 30 posts so far, 20 more.
        for i in 0..20 {
            let page = site.sign_up(&mut fresh(), &format!("crowd{i}@example.com"), client);
            assert_eq!(page.status(), StatusCode::OK, "customer {i} behind the NAT");
        }
        let over = site.sign_up(&mut fresh(), "late@example.com", client);
        assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS, "the network's 51st post");
        let other: Option<IpAddr> = Some([192, 0, 2, 8].into());
        assert_eq!(
            site.sign_up(&mut fresh(), "bob@example.com", other).status(),
            StatusCode::OK,
            "another network"
        );
        site.rig.clock.advance(Duration::from_secs(600));
        assert_eq!(
            site.sign_up(&mut browser, "cy@example.com", client).status(),
            StatusCode::OK,
            "a new window"
        );

        // IPv6: one /64 is one network, however its addresses rotate; the next /64 is another.
        site.rig.clock.advance(Duration::from_secs(600));
        for i in 0..50u16 {
            let ip = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, i, 0, 0, 1));
            assert_eq!(
                site.sign_up(&mut fresh(), &format!("v6-{i}@example.com"), Some(ip)).status(),
                StatusCode::OK
            );
        }
        let same_64: Option<IpAddr> = Some("2001:db8:1:2:ffff::9".parse().unwrap());
        assert_eq!(
            site.sign_up(&mut fresh(), "v6-late@example.com", same_64).status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        let next_64: Option<IpAddr> = Some("2001:db8:1:3::9".parse().unwrap());
        assert_eq!(site.sign_up(&mut fresh(), "v6-next@example.com", next_64).status(), StatusCode::OK);

        // Without a client address the session limit still applies; the network one cannot.
        site.rig.clock.advance(Duration::from_secs(600));
        for i in 0..60 {
            let page = site.sign_up(&mut fresh(), &format!("anon{i}@example.com"), None);
            assert_eq!(page.status(), StatusCode::OK, "anon {i}");
        }
        let mut one = fresh();
        let statuses: Vec<StatusCode> =
            (0..31).map(|i| site.sign_up(&mut one, &format!("one{i}@example.com"), None).status()).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(),
            1,
            "{statuses:?}"
        );
    }

    #[test]
    fn a_csrf_cookie_expires_with_the_clock() {
        let site = site();
        let mut browser = Browser::default();
        site.send(Method::GET, "/waitlist/gala", &mut browser, "", None);
        let (cookie, token) = (browser.cookie.clone(), browser.token.clone());
        site.rig.clock.advance(Duration::from_secs(CSRF_FOR + 1));
        let form = format!("csrf={token}&email=ada%40example.com&name=Ada&tickets=2");
        let late = site.send(Method::POST, "/waitlist/gala", &mut browser, &form, None);
        assert_eq!(late.status(), StatusCode::FORBIDDEN, "an expired cookie");
        // A page fetched now gives a new cookie (the old one was within an hour of its end).
        site.send(Method::GET, "/waitlist/gala", &mut browser, "", None);
        assert_ne!(browser.cookie, cookie);
    }
}
