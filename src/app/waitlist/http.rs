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
//! | `GET /manage?t=` | a guest's signup: status, place, cancel |
//! | `POST /cancel` | cancels by manage link |
//! | `GET /mine` | a signed-in customer's signups |
//! | `POST /mine/cancel` | cancels one of them |
//! | `GET /staff` | box-office sign-in (or who is signed in, and sign out) |
//! | `POST /staff` | exchanges a box-office token for a staff session cookie |
//! | `POST /staff/out` | ends the staff session |
//!
//! With a staff session of the event's organizer, the signup form shows the box-office fields
//! (the organizer's box-office address instead of the customer's, an internal note); sent
//! without one, they are refused (403) and nothing is stored.
//!
//! Links open in the signup's language; other pages negotiate `Accept-Language` unless `?lang=`
//! chooses. Every answer is `no-store`, framed by nobody, and sends no `Referer` onwards (links
//! carry tokens).

use std::time::Duration;

use askama::Template;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Method, Response, StatusCode};

use super::flows::{CancelOutcome, ConfirmOutcome, SignupOutcome, SignupRequest};
use super::i18n::{Arg, Tr};
use super::pages::{
    ButtonForm, FormPage, MessagePage, Page, ShownError, SignupRow, SignupsPage, StaffFields, Values,
};
use super::staff::{StaffSession, STAFF_COOKIE};
use super::{Unavailable, Waitlist};
use crate::app::blacklist::Blacklist;
use crate::app::body::{declared_too_large, read_bounded};
use crate::app::context::RequestContext;
use crate::core::blacklist::is_slug;
use crate::core::error_page::error_response;
use crate::core::text::url_component;
use crate::core::waitlist::form::{self, Filler, Form, SignupFields, MAX_FORM_BYTES};
use crate::core::waitlist::link::{Kind, TokenError};
use crate::core::waitlist::{Lang, Signup, Status, WaitlistSettings};
use crate::ports::body::BodyStream;
use crate::ports::random::RandomUnavailable;
use crate::ports::store::{Store, StoreError};

/// The CSRF cookie of the forms.
pub const CSRF_COOKIE: &str = "doorman_csrf";
/// How long a form's CSRF token lives.
const CSRF_FOR: u64 = 24 * 3600;
/// How long a form body may take to arrive.
const FORM_WITHIN: Duration = Duration::from_secs(10);

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
    /// `GET /staff`.
    StaffPage,
    /// `POST /staff`.
    StaffSignIn,
    /// `POST /staff/out`.
    StaffSignOut,
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
            "staff" if get => Route::StaffPage,
            "staff" if post => Route::StaffSignIn,
            "staff/out" if post => Route::StaffSignOut,
            "confirm" | "manage" | "cancel" | "mine" | "mine/cancel" | "staff" | "staff/out" => wrong,
            event if is_slug(event) && get => Route::Form(event.to_owned()),
            event if is_slug(event) && post => Route::Signup(event.to_owned()),
            event if is_slug(event) => wrong,
            _ => Route::NotHere(StatusCode::NOT_FOUND),
        })
    }
}

pub(super) fn query_param(head: &Parts, name: &str) -> Option<String> {
    let q = head.uri.query()?;
    form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

pub(super) fn cookie(head: &Parts, name: &str) -> Option<String> {
    head.headers.get_all(header::COOKIE).iter().find_map(|v| {
        let text = v.to_str().ok()?;
        cookie::Cookie::split_parse(text).flatten().find(|c| c.name() == name).map(|c| c.value().to_owned())
    })
}

/// An HTML answer with the waitlist's headers.
pub(super) fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response<Bytes> {
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
            | Route::StaffSignIn
            | Route::StaffSignOut => {
                if declared_too_large(body, MAX_FORM_BYTES) {
                    return error_response(StatusCode::PAYLOAD_TOO_LARGE);
                }
                let bytes = match read_bounded(body, MAX_FORM_BYTES, FORM_WITHIN, &*self.ports.tasks).await {
                    Ok(b) => b,
                    Err(fault) => return error_response(fault.status()),
                };
                match Form::parse(&bytes) {
                    Some(form) => form,
                    None => return error_response(StatusCode::BAD_REQUEST),
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
            Route::StaffPage => self.staff_get(head).await,
            Route::StaffSignIn => self.staff_sign_in(context, head, &form).await,
            Route::StaffSignOut => Ok(self.staff_sign_out(head, &form)),
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

    pub(super) fn lang_for(
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

    pub(super) fn page(
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

    pub(super) fn message(&self, page: Page, paragraphs: Vec<String>) -> MessagePage {
        MessagePage { page, paragraphs, place: None, link: None, form: None }
    }

    /// The form's CSRF token (bound to the cookie's nonce and to who is signed in), and the
    /// cookie to set when the request's is missing, not ours or expiring within the hour.
    pub(super) fn csrf(&self, head: &Parts) -> Result<(String, Option<HeaderValue>), RandomUnavailable> {
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

    fn form_token(&self, head: &Parts, nonce: &str) -> String {
        let account = self.account(&head.headers);
        let staff = cookie(head, STAFF_COOKIE);
        self.signer.form_token(nonce, account.as_deref(), staff.as_deref())
    }

    /// Whether the form's token is the one [`Self::csrf`] makes for this request's cookie and
    /// sessions (so neither a copied cookie nor a token made for another session passes).
    fn csrf_ok(&self, head: &Parts, form: &Form) -> bool {
        let (Some(c), Some(f)) = (cookie(head, CSRF_COOKIE), form.get("csrf")) else { return false };
        let Ok(nonce) = self.signer.open(Kind::Csrf, &c, self.now()) else { return false };
        use subtle::ConstantTimeEq;
        bool::from(self.form_token(head, nonce).as_bytes().ct_eq(f.as_bytes()))
    }

    fn bad_form(&self, lang: Lang) -> Response<Bytes> {
        let tr = Tr::new(lang);
        let page = self.page(lang, tr.t("bad-form-title"), &self.config.mount, &[lang], None);
        html(StatusCode::FORBIDDEN, self.message(page, vec![tr.t("bad-form-body")]).render())
    }

    async fn form_page(&self, head: &Parts, event: &str) -> Result<Response<Bytes>, Unavailable> {
        let settings = self.settings(event).await?.unwrap_or_else(|| WaitlistSettings::new(event));
        let lang = self.lang_for(head, None, &settings.languages, None);
        if !settings.takes_signups() {
            return Ok(self.closed(lang, event, &settings));
        }
        let staff = self.staff_for(head, event).await?;
        let (csrf, set_cookie) = self.csrf(head)?;
        let mut r = html(
            StatusCode::OK,
            self.form(lang, event, &settings, csrf, Default::default(), staff.as_ref()).render(),
        );
        if let Some(c) = set_cookie {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
        Ok(r)
    }

    /// The signup form, with what was `entered` (values and their errors) shown again.
    fn form(
        &self,
        lang: Lang,
        event: &str,
        settings: &WaitlistSettings,
        csrf: String,
        entered: (Values, Vec<ShownError>),
        staff: Option<&StaffSession>,
    ) -> FormPage {
        let (values, errors) = entered;
        let tr = Tr::new(lang);
        let path = format!("{}/{event}", self.config.mount);
        let title = tr.with("form-title", &[("event", Arg::Text(&settings.title))]);
        let max = Arg::Number(settings.max_tickets.into());
        FormPage {
            page: self.page(lang, title, &path, &settings.languages, Some(event)),
            intro: tr.with("form-intro", &[("event", Arg::Text(&settings.title))]),
            action: path,
            csrf,
            max_tickets: settings.max_tickets,
            tickets_hint: tr.with("field-tickets-hint", &[("max", max)]),
            values: Values {
                tickets: if values.tickets.is_empty() { "1".into() } else { values.tickets },
                ..values
            },
            errors,
            staff: staff.map(|s| StaffFields {
                organizer: s.name.clone(),
                box_office_address: s.box_office_address.clone(),
            }),
        }
    }

    fn closed(&self, lang: Lang, event: &str, settings: &WaitlistSettings) -> Response<Bytes> {
        let tr = Tr::new(lang);
        let path = format!("{}/{event}", self.config.mount);
        let page = self.page(lang, tr.t("closed-title"), &path, &settings.languages, Some(event));
        html(StatusCode::NOT_FOUND, self.message(page, vec![tr.t("closed-body")]).render())
    }

    async fn signup_post(
        &self,
        context: &RequestContext,
        head: &Parts,
        event: &str,
        form: &Form,
        blacklist: Option<&Blacklist<S>>,
    ) -> Result<Response<Bytes>, Unavailable> {
        let settings = self.settings(event).await?.unwrap_or_else(|| WaitlistSettings::new(event));
        let fields = SignupFields::from_form(form);
        let lang = self.lang_for(head, Some(&fields.lang), &settings.languages, None);
        if !self.csrf_ok(head, form) {
            return Ok(self.bad_form(lang));
        }
        if !settings.takes_signups() {
            return Ok(self.closed(lang, event, &settings));
        }
        let staff = self.staff_for(head, event).await?;
        if staff.is_none() && fields.has_staff_fields() {
            return Ok(self.staff_only(lang, event));
        }
        let tr = Tr::new(lang);
        let path = format!("{}/{event}", self.config.mount);
        if let (None, Some(ip)) = (&staff, self.client(context)) {
            if !self.client_within_limit(&ip.to_string()).await? {
                return Ok(self.limited(lang, &path, &settings, event));
            }
        }
        let check_mail = || {
            let page = self.page(lang, tr.t("check-mail-title"), &path, &[lang], Some(event));
            let hours = Arg::Number(settings.confirm_within_secs.div_ceil(3600));
            html(
                StatusCode::OK,
                self.message(page, vec![tr.with("check-mail-body", &[("hours", hours)])]).render(),
            )
        };
        if !fields.website.is_empty() {
            return Ok(check_mail()); // the honeypot: a bot, answered as a person, nothing kept
        }
        let filler = match &staff {
            Some(s) => Filler::Staff { box_office_address: s.box_office_address.as_deref() },
            None => Filler::Customer,
        };
        let checked = match form::check(&fields, &settings, filler, self.rules) {
            Ok(c) => c,
            Err(errors) => {
                let max = Arg::Number(settings.max_tickets.into());
                let shown = errors
                    .iter()
                    .map(|e| ShownError { field: e.field(), text: tr.with(e.message(), &[("max", max)]) })
                    .collect();
                let values = Values {
                    email: fields.email,
                    name: fields.name,
                    phone: fields.phone,
                    tickets: fields.tickets,
                    box_office_address: fields.box_office_address,
                    note: fields.note,
                };
                let (csrf, _) = self.csrf(head)?;
                return Ok(html(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    self.form(lang, event, &settings, csrf, (values, shown), staff.as_ref()).render(),
                ));
            }
        };
        let request = SignupRequest {
            event: event.to_owned(),
            fields: checked.clone(),
            lang,
            // Staff sign customers up: not on the account of whoever is signed in to the shop.
            account: if staff.is_some() { None } else { self.account(&head.headers) },
            box_office: staff.is_some(),
        };
        let outcome = self.signup(request, &settings, blacklist).await?;
        if staff.is_some() {
            return Ok(self.staff_answer(lang, event, &settings, &checked, outcome));
        }
        Ok(match outcome {
            SignupOutcome::CheckMail => check_mail(),
            SignupOutcome::Closed => self.closed(lang, event, &settings),
            SignupOutcome::Limited => self.limited(lang, &path, &settings, event),
            SignupOutcome::BadAddress => {
                let shown = vec![ShownError { field: "email", text: tr.t("error-email") }];
                let (csrf, _) = self.csrf(head)?;
                html(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    self.form(lang, event, &settings, csrf, (Values::default(), shown), None).render(),
                )
            }
            // Only staff signups come to these.
            SignupOutcome::Placed { .. } | SignupOutcome::AlreadyListed | SignupOutcome::Full => check_mail(),
        })
    }

    /// What staff see after signing a customer up: the place (box-office address), the mail
    /// sent (customer's address) or that the customer is listed already; the note with it.
    fn staff_answer(
        &self,
        lang: Lang,
        event: &str,
        settings: &WaitlistSettings,
        checked: &form::CheckedSignup,
        outcome: SignupOutcome,
    ) -> Response<Bytes> {
        let tr = Tr::new(lang);
        let path = format!("{}/{event}", self.config.mount);
        let title = Arg::Text(&settings.title);
        let count = tr.tickets(checked.tickets);
        let name = Arg::Text(&checked.name);
        let (status, heading, body, place) = match outcome {
            SignupOutcome::Placed { place, .. } => (
                StatusCode::OK,
                "staff-placed-title",
                tr.with(
                    "staff-placed-body",
                    &[("name", name), ("event", title), ("count", Arg::Text(&count))],
                ),
                Some(tr.with("place-in-line", &[("place", Arg::Number(place))])),
            ),
            SignupOutcome::CheckMail => (
                StatusCode::OK,
                "staff-mailed-title",
                tr.with("staff-mailed-body", &[("name", name), ("email", Arg::Text(&checked.email))]),
                None,
            ),
            SignupOutcome::AlreadyListed => (
                StatusCode::OK,
                "staff-already-title",
                tr.with("staff-already-body", &[("event", title)]),
                None,
            ),
            SignupOutcome::Full => {
                (StatusCode::CONFLICT, "full-title", tr.with("full-body", &[("event", title)]), None)
            }
            SignupOutcome::Closed => return self.closed(lang, event, settings),
            SignupOutcome::Limited => return self.limited(lang, &path, settings, event),
            SignupOutcome::BadAddress => {
                (StatusCode::UNPROCESSABLE_ENTITY, "errors-heading", tr.t("error-email"), None)
            }
        };
        let page = self.page(lang, tr.t(heading), &path, &[lang], Some(event));
        let mut paragraphs = vec![body];
        if let Some(note) = &checked.note {
            paragraphs.push(tr.with("staff-note-shown", &[("note", Arg::Text(note))]));
        }
        let mut m = self.message(page, paragraphs);
        m.place = place;
        m.link = Some((path.clone(), tr.t("staff-another")));
        html(status, m.render())
    }

    fn limited(&self, lang: Lang, path: &str, settings: &WaitlistSettings, event: &str) -> Response<Bytes> {
        let tr = Tr::new(lang);
        let page = self.page(lang, tr.t("limited-title"), path, &settings.languages, Some(event));
        let mut r =
            html(StatusCode::TOO_MANY_REQUESTS, self.message(page, vec![tr.t("limited-body")]).render());
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("600"));
        r
    }

    fn link_problem(&self, head: &Parts, error: TokenError, event: Option<String>) -> Response<Bytes> {
        let lang = self.lang_for(head, None, &Lang::ALL, None);
        let tr = Tr::new(lang);
        let (title, body, status) = match error {
            TokenError::Expired => ("link-expired-title", "link-expired-body", StatusCode::GONE),
            _ => ("link-invalid-title", "link-invalid-body", StatusCode::NOT_FOUND),
        };
        let path = head.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let page = self.page(lang, tr.t(title), path, &Lang::ALL, event.as_deref());
        let mut m = self.message(page, vec![tr.t(body)]);
        if let Some(e) = event {
            m.link = Some((format!("{}/{e}", self.config.mount), tr.t("submit-signup")));
        }
        html(status, m.render())
    }

    async fn confirm_page(&self, head: &Parts) -> Result<Response<Bytes>, Unavailable> {
        let token = query_param(head, "t").unwrap_or_default();
        let signup = match self.preview(&token).await? {
            Ok(s) => s,
            Err(e) => return Ok(self.link_problem(head, e, Self::event_of_token(&token))),
        };
        if signup.status != Status::Pending {
            return self.confirm_post(head, &token, None).await;
        }
        let settings =
            self.settings(&signup.event).await?.unwrap_or_else(|| WaitlistSettings::new(&signup.event));
        let lang = self.lang_for(head, None, &Lang::ALL, Some(signup.lang));
        let tr = Tr::new(lang);
        let event = Arg::Text(&settings.title);
        let count = tr.tickets(signup.tickets);
        let path = format!("{}/confirm?t={}", self.config.mount, url_component(&token));
        let page = self.page(lang, tr.t("confirm-title"), &path, &Lang::ALL, Some(&signup.event));
        let mut m = self.message(
            page,
            vec![tr.with(
                "confirm-body",
                &[("event", event), ("count", Arg::Text(&count)), ("name", Arg::Text(&signup.name))],
            )],
        );
        m.form = Some(ButtonForm {
            action: format!("{}/confirm", self.config.mount),
            hidden: vec![("t", token), ("lang", lang.code().to_owned())],
            hint: None,
            button: tr.t("confirm-button"),
            secondary: false,
        });
        Ok(html(StatusCode::OK, m.render()))
    }

    async fn confirm_post(
        &self,
        head: &Parts,
        token: &str,
        form_lang: Option<&str>,
    ) -> Result<Response<Bytes>, Unavailable> {
        let outcome = self.confirm(token).await?;
        let signup_lang = match &outcome {
            ConfirmOutcome::Confirmed { signup, .. }
            | ConfirmOutcome::AlreadyUsed { signup, .. }
            | ConfirmOutcome::Cancelled { signup } => Some(signup.lang),
            _ => None,
        };
        let lang = self.lang_for(head, form_lang, &Lang::ALL, signup_lang);
        let tr = Tr::new(lang);
        let mount = &self.config.mount;
        let (status, m) = match outcome {
            ConfirmOutcome::Confirmed { signup, place, title } => {
                let page = self.page(lang, tr.t("confirmed-title"), mount, &[lang], Some(&signup.event));
                let mut m =
                    self.message(page, vec![tr.with("confirmed-body", &[("event", Arg::Text(&title))])]);
                m.place = Some(tr.with("place-in-line", &[("place", Arg::Number(place))]));
                m.link = Some((
                    format!("{mount}/manage?t={}", self.manage_token(&signup)),
                    tr.t("mail-manage-action"),
                ));
                (StatusCode::OK, m)
            }
            ConfirmOutcome::AlreadyUsed { signup, place } => {
                let page = self.page(lang, tr.t("link-used-title"), mount, &[lang], Some(&signup.event));
                let mut m = self.message(page, vec![tr.t("link-used-body")]);
                m.place = place.map(|p| tr.with("place-in-line", &[("place", Arg::Number(p))]));
                (StatusCode::OK, m)
            }
            ConfirmOutcome::Cancelled { signup } => {
                let page = self.page(lang, tr.t("cancelled-title"), mount, &[lang], Some(&signup.event));
                (StatusCode::OK, self.message(page, vec![tr.t("status-cancelled")]))
            }
            ConfirmOutcome::Expired { event } => {
                return Ok(self.link_problem(
                    head,
                    TokenError::Expired,
                    Some(event).filter(|e| !e.is_empty()),
                ))
            }
            ConfirmOutcome::Invalid => return Ok(self.link_problem(head, TokenError::Forged, None)),
            ConfirmOutcome::Full { event, title } => {
                let page = self.page(lang, tr.t("full-title"), mount, &[lang], Some(&event));
                (
                    StatusCode::CONFLICT,
                    self.message(page, vec![tr.with("full-body", &[("event", Arg::Text(&title))])]),
                )
            }
            ConfirmOutcome::Closed { event } => {
                let page = self.page(lang, tr.t("closed-title"), mount, &[lang], Some(&event));
                (StatusCode::CONFLICT, self.message(page, vec![tr.t("closed-body")]))
            }
        };
        Ok(html(status, m.render()))
    }

    fn status_text(tr: &Tr, status: Status) -> String {
        tr.t(match status {
            Status::Pending => "status-pending",
            Status::Confirmed => "status-confirmed",
            Status::Cancelled => "status-cancelled",
        })
    }

    async fn row(
        &self,
        tr: &Tr,
        signup: &Signup,
        place: Option<u64>,
        cancel: Option<ButtonForm>,
    ) -> Result<SignupRow, StoreError> {
        let title =
            self.settings(&signup.event).await?.map(|s| s.title).unwrap_or_else(|| signup.event.clone());
        Ok(SignupRow {
            event: title,
            status: Self::status_text(tr, signup.status),
            tickets: signup.tickets,
            place,
            cancel: cancel.filter(|_| signup.status != Status::Cancelled),
        })
    }

    async fn manage_page(&self, head: &Parts) -> Result<Response<Bytes>, Unavailable> {
        let token = query_param(head, "t").unwrap_or_default();
        let (signup, place) = match self.view(&token).await? {
            Ok(v) => v,
            Err(e) => return Ok(self.link_problem(head, e, Self::event_of_token(&token))),
        };
        let lang = self.lang_for(head, None, &Lang::ALL, Some(signup.lang));
        let tr = Tr::new(lang);
        let (csrf, set_cookie) = self.csrf(head)?;
        let cancel = ButtonForm {
            action: format!("{}/cancel", self.config.mount),
            hidden: vec![("t", token.clone()), ("csrf", csrf), ("lang", lang.code().to_owned())],
            hint: None,
            button: tr.t("cancel-button"),
            secondary: true,
        };
        let row = self.row(&tr, &signup, place, Some(cancel)).await?;
        let path = format!("{}/manage?t={}", self.config.mount, url_component(&token));
        let page = self.page(lang, tr.t("status-title"), &path, &Lang::ALL, Some(&signup.event));
        let mut r =
            html(StatusCode::OK, SignupsPage { page, paragraphs: Vec::new(), rows: vec![row] }.render());
        if let Some(c) = set_cookie {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
        Ok(r)
    }

    async fn cancelled_page(
        &self,
        head: &Parts,
        form: &Form,
        outcome: CancelOutcome,
    ) -> Result<Response<Bytes>, Unavailable> {
        let CancelOutcome::Cancelled { signup } = outcome else {
            return Ok(error_response(StatusCode::NOT_FOUND));
        };
        let lang = self.lang_for(head, form.get("lang"), &Lang::ALL, Some(signup.lang));
        let tr = Tr::new(lang);
        let title =
            self.settings(&signup.event).await?.map(|s| s.title).unwrap_or_else(|| signup.event.clone());
        let page = self.page(lang, tr.t("cancelled-title"), &self.config.mount, &[lang], Some(&signup.event));
        Ok(html(
            StatusCode::OK,
            self.message(page, vec![tr.with("cancelled-body", &[("event", Arg::Text(&title))])]).render(),
        ))
    }

    /// The answer to a form whose CSRF token is missing or not ours, if it is one of those.
    pub(super) fn refused(&self, head: &Parts, form: &Form) -> Option<Response<Bytes>> {
        (!self.csrf_ok(head, form))
            .then(|| self.bad_form(self.lang_for(head, form.get("lang"), &Lang::ALL, None)))
    }

    async fn cancel_post(&self, head: &Parts, form: &Form) -> Result<Response<Bytes>, Unavailable> {
        if let Some(refusal) = self.refused(head, form) {
            return Ok(refusal);
        }
        let outcome = self.cancel_by_link(form.get("t").unwrap_or_default()).await?;
        self.cancelled_page(head, form, outcome).await
    }

    async fn mine_page(&self, head: &Parts) -> Result<Response<Bytes>, Unavailable> {
        let lang = self.lang_for(head, None, &Lang::ALL, None);
        let tr = Tr::new(lang);
        let path = format!("{}/mine", self.config.mount);
        let page = self.page(lang, tr.t("mine-title"), &path, &Lang::ALL, None);
        let Some(account) = self.account(&head.headers) else {
            return Ok(html(
                StatusCode::OK,
                SignupsPage { page, paragraphs: vec![tr.t("mine-signed-out")], rows: Vec::new() }.render(),
            ));
        };
        let (csrf, set_cookie) = self.csrf(head)?;
        let mut rows = Vec::new();
        for (signup, place) in self.mine(&account).await? {
            let cancel = ButtonForm {
                action: format!("{}/mine/cancel", self.config.mount),
                hidden: vec![
                    ("event", signup.event.clone()),
                    ("id", signup.id.clone()),
                    ("csrf", csrf.clone()),
                    ("lang", lang.code().to_owned()),
                ],
                hint: None,
                button: tr.t("cancel-button"),
                secondary: true,
            };
            rows.push(self.row(&tr, &signup, place, Some(cancel)).await?);
        }
        let paragraphs = if rows.is_empty() { vec![tr.t("mine-empty")] } else { Vec::new() };
        let mut r = html(StatusCode::OK, SignupsPage { page, paragraphs, rows }.render());
        if let Some(c) = set_cookie {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
        Ok(r)
    }

    async fn mine_cancel(&self, head: &Parts, form: &Form) -> Result<Response<Bytes>, Unavailable> {
        if let Some(refusal) = self.refused(head, form) {
            return Ok(refusal);
        }
        let Some(account) = self.account(&head.headers) else {
            return Ok(error_response(StatusCode::FORBIDDEN));
        };
        let (event, id) = (form.get("event").unwrap_or_default(), form.get("id").unwrap_or_default());
        if !is_slug(event) || id.is_empty() || id.len() > 64 {
            return Ok(error_response(StatusCode::NOT_FOUND));
        }
        let outcome = self.cancel_for_account(&account, event, id).await?;
        self.cancelled_page(head, form, outcome).await
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::app::waitlist::testing::{site, text, Browser};
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
        let site = site();
        let client: Option<IpAddr> = Some([192, 0, 2, 7].into());
        let mut browser = Browser::default();
        // One address: five attempts an hour.
        for i in 0..6 {
            let page = site.sign_up(&mut browser, "ada@example.com", client);
            let want = if i < 5 { StatusCode::OK } else { StatusCode::TOO_MANY_REQUESTS };
            assert_eq!(page.status(), want, "attempt {i}");
        }
        site.rig.clock.advance(Duration::from_secs(3600));
        assert_eq!(
            site.sign_up(&mut browser, "ada@example.com", client).status(),
            StatusCode::OK,
            "a new hour"
        );
        // One client: thirty posts in ten minutes, whatever the addresses.
        site.rig.clock.advance(Duration::from_secs(600));
        let statuses: Vec<StatusCode> = (0..31)
            .map(|i| site.sign_up(&mut browser, &format!("guest{i}@example.com"), client).status())
            .collect();
        assert!(statuses[..30].iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
        assert_eq!(statuses[30], StatusCode::TOO_MANY_REQUESTS);
        let other: Option<IpAddr> = Some([192, 0, 2, 8].into());
        assert_eq!(
            site.sign_up(&mut browser, "bob@example.com", other).status(),
            StatusCode::OK,
            "another client"
        );
        site.rig.clock.advance(Duration::from_secs(600));
        assert_eq!(
            site.sign_up(&mut browser, "cy@example.com", client).status(),
            StatusCode::OK,
            "a new window"
        );
        // Without a client address, only the per-address limit applies.
        for i in 0..40 {
            let page = site.sign_up(&mut browser, &format!("anon{i}@example.com"), None);
            assert_eq!(page.status(), StatusCode::OK, "anon {i}");
        }
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
