//! The pages links in mails open: confirm, manage, cancel.

use askama::Template;
use bytes::Bytes;
use http::header;
use http::request::Parts;
use http::{Response, StatusCode};

use super::super::i18n::{Arg, Tr};
use super::super::pages::{ButtonForm, SignupRow, SignupsPage};
use super::super::usecases::{CancelOutcome, ConfirmOutcome};
use super::super::{Unavailable, Waitlist};
use super::*;
use crate::core::error_page::error_response;
use crate::core::text::url_component;
use crate::core::waitlist::form::Form;
use crate::core::waitlist::link::TokenError;
use crate::core::waitlist::{Lang, Signup, Status, WaitlistSettings};
use crate::ports::store::{Store, StoreError};

impl<S: Store + Clone> Waitlist<S> {
    pub(in crate::app::waitlist) fn link_problem(
        &self,
        head: &Parts,
        error: TokenError,
        event: Option<String>,
    ) -> Response<Bytes> {
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

    pub(in crate::app::waitlist) async fn confirm_page(
        &self,
        head: &Parts,
    ) -> Result<Response<Bytes>, Unavailable> {
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

    pub(in crate::app::waitlist) async fn confirm_post(
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

    pub(in crate::app::waitlist) fn status_text(tr: &Tr, status: Status) -> String {
        tr.t(match status {
            Status::Pending => "status-pending",
            Status::Confirmed => "status-confirmed",
            Status::Cancelled => "status-cancelled",
            Status::Offered => "status-offered",
            Status::Booked => "status-booked",
            Status::Declined => "status-declined",
            Status::Lapsed => "status-lapsed",
        })
    }

    pub(in crate::app::waitlist) async fn row(
        &self,
        tr: &Tr,
        signup: &Signup,
        place: Option<u64>,
        cancel: Option<ButtonForm>,
    ) -> Result<SignupRow, StoreError> {
        let title =
            self.settings(&signup.event).await?.map(|s| s.title).unwrap_or_else(|| signup.event.clone());
        // An open offer's page, with a fresh code (the offer mail may be lost).
        let offer = match (signup.status, signup.offer) {
            (Status::Offered, Some(n)) => self.offer_record(&signup.event, n).await?.map(|offer| {
                let code = url_component(&self.offer_code(&offer));
                (format!("{}/offer?c={code}", self.config.mount), tr.t("offer-open-link"))
            }),
            _ => None,
        };
        Ok(SignupRow {
            event: title,
            status: Self::status_text(tr, signup.status),
            tickets: signup.tickets,
            place,
            cancel: cancel.filter(|_| matches!(signup.status, Status::Pending | Status::Confirmed)),
            offer,
        })
    }

    pub(in crate::app::waitlist) async fn manage_page(
        &self,
        head: &Parts,
    ) -> Result<Response<Bytes>, Unavailable> {
        let token = query_param(head, "t").unwrap_or_default();
        let (signup, place) = match self.view(&token).await? {
            Ok(v) => v,
            Err(e) => return Ok(self.link_problem(head, e, Self::event_of_token(&token))),
        };
        let lang = self.lang_for(head, None, &Lang::ALL, Some(signup.lang));
        let tr = Tr::new(lang);
        if signup.anonymised.is_some() {
            let page =
                self.page(lang, tr.t("erased-title"), &self.config.mount, &[lang], Some(&signup.event));
            return Ok(html(StatusCode::OK, self.message(page, vec![tr.t("erased-already")]).render()));
        }
        let (csrf, set_cookie) = self.csrf(head)?;
        let data = self.self_service(&signup.event).await?.then(|| {
            let hidden = vec![("t", token.clone()), ("csrf", csrf.clone()), ("lang", lang.code().to_owned())];
            self.data_section(&tr, self.manage_data_link(&token), "manage/erase", hidden, false)
        });
        let cancel = ButtonForm {
            action: format!("{}/cancel", self.config.mount),
            hidden: vec![("t", token.clone()), ("csrf", csrf.clone()), ("lang", lang.code().to_owned())],
            hint: None,
            button: tr.t("cancel-button"),
            secondary: true,
        };
        let row = self.row(&tr, &signup, place, Some(cancel)).await?;
        let path = format!("{}/manage?t={}", self.config.mount, url_component(&token));
        let page = self.page(lang, tr.t("status-title"), &path, &Lang::ALL, Some(&signup.event));
        let paragraphs = if row.offer.is_some() { vec![tr.t("offer-open-hint")] } else { Vec::new() };
        let news = self.news_section(&tr, &signup, &row.event, &token, &csrf, lang).await?;
        let page = SignupsPage { page, paragraphs, link: None, rows: vec![row], data, news };
        let mut r = html(StatusCode::OK, page.render());
        if let Some(c) = set_cookie {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
        Ok(r)
    }

    /// The manage page's news line: whether the customer gets news about the event titled
    /// `title`, and the button that changes it; only while the signup still waits.
    async fn news_section(
        &self,
        tr: &Tr,
        signup: &Signup,
        title: &str,
        token: &str,
        csrf: &str,
        lang: Lang,
    ) -> Result<Option<(String, ButtonForm)>, StoreError> {
        if !matches!(signup.status, Status::Pending | Status::Confirmed | Status::Offered) {
            return Ok(None);
        }
        let (said, button, choice) = match self.wants_news(signup).await? {
            true => (tr.with("news-on", &[("event", Arg::Text(title))]), "news-stop", "no"),
            false => (tr.t("news-off"), "news-start", "yes"),
        };
        let form = ButtonForm {
            action: format!("{}/manage/news", self.config.mount),
            hidden: vec![
                ("t", token.to_owned()),
                ("csrf", csrf.to_owned()),
                ("lang", lang.code().to_owned()),
                ("news", choice.to_owned()),
            ],
            hint: None,
            button: tr.t(button),
            secondary: true,
        };
        Ok(Some((said, form)))
    }

    /// `POST /manage/news` (`t`, `news`: `yes` or `no`, the form's token): the customer's
    /// change of mind about news, then a page that says so.
    pub(in crate::app::waitlist) async fn manage_news_post(
        &self,
        head: &Parts,
        form: &Form,
    ) -> Result<Response<Bytes>, Unavailable> {
        if let Some(refusal) = self.refused(head, form) {
            return Ok(refusal);
        }
        let news = match form.get("news") {
            Some("yes") => true,
            Some("no") => false,
            _ => return Ok(error_response(StatusCode::BAD_REQUEST)),
        };
        let token = form.get("t").unwrap_or_default();
        self.news_changed(head, form.get("lang"), token, news).await
    }

    /// `GET /unsubscribe?t=`: a news mail's unsubscribe link opened in a browser leads to the
    /// signup's page, where one button stops the news (a GET changes nothing: mail scanners
    /// follow links).
    pub(in crate::app::waitlist) fn unsubscribe_page(&self, head: &Parts) -> Response<Bytes> {
        let token = query_param(head, "t").unwrap_or_default();
        let mut r = Response::new(Bytes::new());
        *r.status_mut() = StatusCode::SEE_OTHER;
        let to = format!("{}/manage?t={}", self.config.mount, url_component(&token));
        if let Ok(v) = http::HeaderValue::from_str(&to) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        r
    }

    /// `POST /unsubscribe?t=` with `List-Unsubscribe=One-Click`: a mail program's one-click
    /// unsubscribe (RFC 8058). The signed link is its authority, so it needs no form token;
    /// answers 200 once the news are stopped.
    pub(in crate::app::waitlist) async fn unsubscribe_post(
        &self,
        head: &Parts,
        form: &Form,
    ) -> Result<Response<Bytes>, Unavailable> {
        if form.get("List-Unsubscribe") != Some("One-Click") {
            return Ok(error_response(StatusCode::BAD_REQUEST));
        }
        let token = query_param(head, "t").unwrap_or_default();
        match self.choose_news(&token, false).await? {
            Ok(_) => {
                let mut r = Response::new(Bytes::from_static(b"unsubscribed\n"));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    http::HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                Ok(r)
            }
            Err(_) => Ok(error_response(StatusCode::NOT_FOUND)),
        }
    }

    /// Keeps the choice about news of manage link `token`'s customer and answers the page that
    /// says so, with the way back to the signup.
    async fn news_changed(
        &self,
        head: &Parts,
        form_lang: Option<&str>,
        token: &str,
        news: bool,
    ) -> Result<Response<Bytes>, Unavailable> {
        let signup = match self.choose_news(token, news).await? {
            Ok(s) => s,
            Err(e) => return Ok(self.link_problem(head, e, Self::event_of_token(token))),
        };
        let lang = self.lang_for(head, form_lang, &Lang::ALL, Some(signup.lang));
        let tr = Tr::new(lang);
        let title = self.settings(&signup.event).await?.map_or_else(|| signup.event.clone(), |s| s.title);
        let said =
            tr.with(if news { "news-started" } else { "news-stopped" }, &[("event", Arg::Text(&title))]);
        let page = self.page(lang, tr.t("status-title"), &self.config.mount, &[lang], Some(&signup.event));
        let mut m = self.message(page, vec![said]);
        m.link =
            Some((format!("{}/manage?t={}", self.config.mount, url_component(token)), tr.t("news-back")));
        Ok(html(StatusCode::OK, m.render()))
    }

    pub(in crate::app::waitlist) async fn cancelled_page(
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

    pub(in crate::app::waitlist) async fn cancel_post(
        &self,
        head: &Parts,
        form: &Form,
    ) -> Result<Response<Bytes>, Unavailable> {
        if let Some(refusal) = self.refused(head, form) {
            return Ok(refusal);
        }
        let outcome = self.cancel_by_link(form.get("t").unwrap_or_default()).await?;
        self.cancelled_page(head, form, outcome).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::waitlist::testing::{site, text, Browser};
    use crate::testkit::block_on;

    #[test]
    fn the_links_in_mails_confirm_show_and_cancel_a_signup() {
        let site = site();
        let ada = site.join("ada@example.com", None);
        let mut browser = Browser::default();
        let t = url_component(&site.waitlist.confirm_token(&ada));
        let page = site.send(Method::GET, &format!("/waitlist/confirm?t={t}"), &mut browser, "", None);
        assert_eq!(page.status(), StatusCode::OK);
        assert!(text(&page).contains("Confirm my place"), "a button, so a mail scanner confirms nothing");
        assert!(site.record(&ada).status == Status::Pending);
        let done = site.send(Method::POST, "/waitlist/confirm", &mut browser, &format!("t={t}"), None);
        assert!(text(&done).contains("place in line: 1"), "{}", text(&done));
        let manage = url_component(&site.waitlist.manage_token(&ada));
        let page = site.send(Method::GET, &format!("/waitlist/manage?t={manage}"), &mut browser, "", None);
        assert!(text(&page).contains("Confirmed"));
        let form = format!("t={manage}&csrf={}", browser.token);
        let cancelled = site.send(Method::POST, "/waitlist/cancel", &mut browser, &form, None);
        assert!(text(&cancelled).contains("Your signup is cancelled"), "{}", text(&cancelled));
        let forged = site.send(Method::GET, "/waitlist/manage?t=gala.x.1.AAAA", &mut browser, "", None);
        assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn customers_change_their_mind_about_news_on_their_page_and_with_a_news_mails_one_click_unsubscribe() {
        use crate::core::waitlist::broadcast::{Audience, Draft, Purpose, Text};
        let site = site();
        let ada = site.in_line("ada@example.com", None, 2);
        let mut browser = Browser::default();
        let manage = url_component(&site.waitlist.manage_token(&ada));
        let page = site.send(Method::GET, &format!("/waitlist/manage?t={manage}"), &mut browser, "", None);
        let shown = text(&page);
        assert!(
            shown.contains("only the messages your signup needs") && shown.contains("Keep me informed"),
            "{shown}"
        );
        let unforged = site.send(
            Method::POST,
            "/waitlist/manage/news",
            &mut browser,
            &format!("t={manage}&news=yes"),
            None,
        );
        assert!(!text(&unforged).contains("You will get news"), "no form token, no change");
        let form = format!("t={manage}&csrf={}&news=yes", browser.token);
        let chose = site.send(Method::POST, "/waitlist/manage/news", &mut browser, &form, None);
        assert!(text(&chose).contains("You will get news about"), "{}", text(&chose));

        let news = |subject: &str| Draft {
            audience: Some(Audience::Waiting),
            purpose: Some(Purpose::News),
            texts: [(Lang::En, Text { subject: subject.into(), body: "A new date.".into() })]
                .into_iter()
                .collect(),
            ..Draft::default()
        };
        block_on(site.waitlist.schedule_broadcast("gala", &news("Second show"), "test")).unwrap().unwrap();
        assert_eq!(block_on(site.waitlist.send_broadcasts()).unwrap().mails, 1, "ada chose news");
        let crate::app::outbox::Message::Mail(mail) = site.outbox().pop().unwrap() else { panic!("a mail") };
        let raw = mail.message.replace("=\r\n", "");
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{raw}");
        let url = raw
            .split("List-Unsubscribe: <https://shop.example")
            .nth(1)
            .unwrap()
            .split('>')
            .next()
            .unwrap()
            .to_owned();
        assert!(url.starts_with("/waitlist/unsubscribe?t="), "{url}");

        // The mail program's one-click POST: no cookie, no form token.
        let mut program = Browser::default();
        assert_eq!(
            site.send(Method::POST, &url, &mut program, "nothing=here", None).status(),
            StatusCode::BAD_REQUEST
        );
        let done = site.send(Method::POST, &url, &mut program, "List-Unsubscribe=One-Click", None);
        assert_eq!((done.status(), text(&done).as_str()), (StatusCode::OK, "unsubscribed\n"));
        let forged = site.send(
            Method::POST,
            "/waitlist/unsubscribe?t=gala.x.1.AAAA",
            &mut program,
            "List-Unsubscribe=One-Click",
            None,
        );
        assert_eq!(forged.status(), StatusCode::NOT_FOUND);
        let opened = site.send(Method::GET, &url, &mut program, "", None);
        assert_eq!(opened.status(), StatusCode::SEE_OTHER, "a GET changes nothing: to the signup's page");
        block_on(site.waitlist.schedule_broadcast("gala", &news("Third show"), "test")).unwrap().unwrap();
        assert_eq!(block_on(site.waitlist.send_broadcasts()).unwrap().mails, 0, "unsubscribed");
        let page = site.send(Method::GET, &format!("/waitlist/manage?t={manage}"), &mut browser, "", None);
        assert!(text(&page).contains("Keep me informed"), "{}", text(&page));
    }
}
