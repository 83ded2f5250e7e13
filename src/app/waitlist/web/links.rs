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
        Ok(SignupRow {
            event: title,
            status: Self::status_text(tr, signup.status),
            tickets: signup.tickets,
            place,
            cancel: cancel.filter(|_| matches!(signup.status, Status::Pending | Status::Confirmed)),
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
            hidden: vec![("t", token.clone()), ("csrf", csrf), ("lang", lang.code().to_owned())],
            hint: None,
            button: tr.t("cancel-button"),
            secondary: true,
        };
        let row = self.row(&tr, &signup, place, Some(cancel)).await?;
        let path = format!("{}/manage?t={}", self.config.mount, url_component(&token));
        let page = self.page(lang, tr.t("status-title"), &path, &Lang::ALL, Some(&signup.event));
        let (mut paragraphs, mut link) = (Vec::new(), None);
        if let (Status::Offered, Some(n)) = (signup.status, signup.offer) {
            // The offer's page, with a fresh code (the offer mail may be lost).
            if let Some(offer) = self.offer_record(&signup.event, n).await? {
                let code = url_component(&self.offer_code(&offer));
                paragraphs.push(tr.t("offer-open-hint"));
                link = Some((format!("{}/offer?c={code}", self.config.mount), tr.t("offer-open-link")));
            }
        }
        let mut r =
            html(StatusCode::OK, SignupsPage { page, paragraphs, link, rows: vec![row], data }.render());
        if let Some(c) = set_cookie {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
        Ok(r)
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
}
