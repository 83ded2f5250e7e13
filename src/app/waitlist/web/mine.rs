//! "My signups": a signed-in customer's signups, each with a cancel button.

use askama::Template;
use bytes::Bytes;
use http::header;
use http::request::Parts;
use http::{Response, StatusCode};

use super::super::i18n::Tr;
use super::super::pages::{ButtonForm, SignupsPage};
use super::super::{Unavailable, Waitlist};
use super::*;
use crate::core::blacklist::is_slug;
use crate::core::error_page::error_response;
use crate::core::waitlist::form::Form;
use crate::core::waitlist::{Lang, Signup};
use crate::ports::store::Store;

impl<S: Store + Clone> Waitlist<S> {
    pub(in crate::app::waitlist) async fn mine_page(
        &self,
        head: &Parts,
    ) -> Result<Response<Bytes>, Unavailable> {
        let lang = self.lang_for(head, None, &Lang::ALL, None);
        let tr = Tr::new(lang);
        let path = format!("{}/mine", self.config.mount);
        let page = self.page(lang, tr.t("mine-title"), &path, &Lang::ALL, None);
        let Some(account) = self.account(&head.headers) else {
            return Ok(html(
                StatusCode::OK,
                SignupsPage {
                    page,
                    paragraphs: vec![tr.t("mine-signed-out")],
                    link: None,
                    rows: Vec::new(),
                    data: None,
                    news: None,
                }
                .render(),
            ));
        };
        let (csrf, set_cookie) = self.csrf(head)?;
        let mut rows = Vec::new();
        let mine = self.mine(&account).await?;
        let listed: Vec<Signup> = mine.iter().map(|(s, _)| s.clone()).collect();
        let own = self.own_signups(listed).await?;
        for (signup, place) in mine {
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
        let data = (!own.is_empty()).then(|| {
            let hidden = vec![("csrf", csrf.clone()), ("lang", lang.code().to_owned())];
            self.data_section(&tr, format!("{}/mine/data", self.config.mount), "mine/erase", hidden, true)
        });
        let mut r = html(
            StatusCode::OK,
            SignupsPage { page, paragraphs, link: None, rows, data, news: None }.render(),
        );
        if let Some(c) = set_cookie {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
        Ok(r)
    }

    pub(in crate::app::waitlist) async fn mine_cancel(
        &self,
        head: &Parts,
        form: &Form,
    ) -> Result<Response<Bytes>, Unavailable> {
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
    use super::*;
    use crate::app::waitlist::testing::{site, text, Browser};
    use crate::core::waitlist::Status;

    #[test]
    fn without_a_shop_session_my_signups_lists_and_cancels_nothing() {
        let site = site();
        let ada = site.join("ada@example.com", Some("cust-1"));
        let mut browser = Browser::default();
        let page = site.send(Method::GET, "/waitlist/mine", &mut browser, "", None);
        assert_eq!(page.status(), StatusCode::OK);
        assert!(text(&page).contains("Sign in to the shop"), "{}", text(&page));
        site.send(Method::GET, "/waitlist/gala", &mut browser, "", None);
        let form = format!("event=gala&id={}&csrf={}", ada.id, browser.token);
        let refused = site.send(Method::POST, "/waitlist/mine/cancel", &mut browser, &form, None);
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(site.record(&ada).status, Status::Pending, "nothing cancelled");
    }
}
