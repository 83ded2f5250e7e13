//! A customer's own data, where the event's organizer switches self-service on: the download
//! (JSON, never staff's notes) and the erasure (after a page that asks once more), from the
//! manage link in every mail and from "my signups".

use askama::Template;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};

use super::super::i18n::{Arg, Tr};
use super::super::pages::{ButtonForm, DataSection};
use super::super::usecases::erase::{EraseOutcome, Eraser, SignupData};
use super::super::{Unavailable, Waitlist};
use super::*;
use crate::app::blacklist::Blacklist;
use crate::core::error_page::error_response;
use crate::core::text::url_component;
use crate::core::waitlist::form::Form;
use crate::core::waitlist::link::Kind;
use crate::core::waitlist::{Lang, Signup};
use crate::ports::store::{Store, StoreError};

/// The download: pretty JSON, shown by the browser (and saved under a telling name).
fn json_download(signups: Vec<SignupData>, now: u64) -> Response<Bytes> {
    let exported =
        humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(now));
    let value = serde_json::json!({ "exported": exported.to_string(), "signups": signups });
    let body = serde_json::to_vec_pretty(&value).unwrap_or_default();
    let mut r = Response::new(Bytes::from(body));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline; filename=\"waitlist-data.json\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    r
}

impl<S: Store + Clone> Waitlist<S> {
    /// The "Your data" section of a page: a download link and an erase button posting `hidden`.
    pub(in crate::app::waitlist) fn data_section(
        &self,
        tr: &Tr,
        download: String,
        erase_action: &str,
        hidden: Vec<(&'static str, String)>,
        several: bool,
    ) -> DataSection {
        DataSection {
            heading: tr.t("data-heading"),
            hint: tr.t(if several { "data-hint-mine" } else { "data-hint" }),
            download: (download, tr.t("data-download")),
            erase: ButtonForm {
                action: format!("{}/{erase_action}", self.config.mount),
                hidden,
                hint: None,
                button: tr.t("erase-button"),
                secondary: true,
            },
        }
    }

    /// The signup of a manage link, read once, where its organizer lets customers help
    /// themselves; otherwise the answer: the link's problem, or 404.
    async fn self_service_signup(
        &self,
        head: &Parts,
        token: &str,
    ) -> Result<Result<Signup, Response<Bytes>>, Unavailable> {
        let signup = match self.signup_of(Kind::Manage, token).await? {
            Ok(s) => s,
            Err(e) => return Ok(Err(self.link_problem(head, e, Self::event_of_token(token)))),
        };
        if !self.self_service(&signup.event).await? {
            return Ok(Err(error_response(StatusCode::NOT_FOUND)));
        }
        Ok(Ok(signup))
    }

    /// `GET /manage/data?t=`: the signup's data as JSON.
    pub(in crate::app::waitlist) async fn manage_data(
        &self,
        head: &Parts,
    ) -> Result<Response<Bytes>, Unavailable> {
        let token = query_param(head, "t").unwrap_or_default();
        let signup = match self.self_service_signup(head, &token).await? {
            Ok(s) => s,
            Err(answer) => return Ok(answer),
        };
        match self.signup_data(&signup).await? {
            Some(data) => Ok(json_download(vec![data], self.now())),
            None => Ok(self.erased_page(head, signup.lang, "erased-already", None, StatusCode::GONE)),
        }
    }

    /// `POST /manage/erase`: asks once more, then erases the signup of the manage link.
    pub(in crate::app::waitlist) async fn manage_erase(
        &self,
        head: &Parts,
        form: &Form,
        blacklist: Option<&Blacklist<S>>,
    ) -> Result<Response<Bytes>, Unavailable> {
        if let Some(refusal) = self.refused(head, form) {
            return Ok(refusal);
        }
        let token = form.get("t").unwrap_or_default().to_owned();
        let signup = match self.self_service_signup(head, &token).await? {
            Ok(s) => s,
            Err(answer) => return Ok(answer),
        };
        if signup.anonymised.is_some() {
            return Ok(self.erased_page(head, signup.lang, "erased-already", None, StatusCode::OK));
        }
        let title = self.settings(&signup.event).await?.map_or_else(|| signup.event.clone(), |s| s.title);
        if form.get("sure") != Some("yes") {
            return Ok(self.erase_question(
                head,
                form,
                signup.lang,
                "manage/erase",
                vec![("t", token)],
                Some(&title),
            ));
        }
        let body = match self.erase(&signup.event, &signup.id, Eraser::Customer, blacklist).await? {
            EraseOutcome::Erased { .. } => "erased-body",
            EraseOutcome::Already => "erased-already",
            EraseOutcome::NotFound => return Ok(error_response(StatusCode::NOT_FOUND)),
        };
        Ok(self.erased_page(head, signup.lang, body, Some(&title), StatusCode::OK))
    }

    /// Those of `signups` (a signed-in customer's) at events whose organizers let customers
    /// help themselves, their data not erased yet: one organizer lookup per event.
    pub(in crate::app::waitlist) async fn own_signups(
        &self,
        signups: Vec<Signup>,
    ) -> Result<Vec<Signup>, StoreError> {
        let mut allowed: std::collections::HashMap<String, bool> = Default::default();
        let mut found = Vec::new();
        for signup in signups {
            let on = match allowed.get(&signup.event) {
                Some(on) => *on,
                None => {
                    let on = self.self_service(&signup.event).await?;
                    allowed.insert(signup.event.clone(), on);
                    on
                }
            };
            if on && signup.anonymised.is_none() {
                found.push(signup);
            }
        }
        Ok(found)
    }

    /// `GET /mine/data`: the signed-in customer's data as JSON.
    pub(in crate::app::waitlist) async fn mine_data(
        &self,
        head: &Parts,
    ) -> Result<Response<Bytes>, Unavailable> {
        let Some(account) = self.account(&head.headers) else {
            return Ok(error_response(StatusCode::FORBIDDEN));
        };
        let mut data = Vec::new();
        let mine: Vec<Signup> = self.mine(&account).await?.into_iter().map(|(s, _)| s).collect();
        for signup in self.own_signups(mine).await? {
            data.extend(self.signup_data(&signup).await?);
        }
        Ok(json_download(data, self.now()))
    }

    /// `POST /mine/erase`: asks once more, then erases every signup of the signed-in customer
    /// where self-service is on.
    pub(in crate::app::waitlist) async fn mine_erase(
        &self,
        head: &Parts,
        form: &Form,
        blacklist: Option<&Blacklist<S>>,
    ) -> Result<Response<Bytes>, Unavailable> {
        if let Some(refusal) = self.refused(head, form) {
            return Ok(refusal);
        }
        let Some(account) = self.account(&head.headers) else {
            return Ok(error_response(StatusCode::FORBIDDEN));
        };
        let lang = self.lang_for(head, form.get("lang"), &Lang::ALL, None);
        let mine: Vec<Signup> = self.mine(&account).await?.into_iter().map(|(s, _)| s).collect();
        let signups = self.own_signups(mine).await?;
        if signups.is_empty() {
            return Ok(self.erased_page(head, lang, "erased-already", None, StatusCode::OK));
        }
        if form.get("sure") != Some("yes") {
            return Ok(self.erase_question(head, form, lang, "mine/erase", Vec::new(), None));
        }
        for signup in signups {
            self.erase(&signup.event, &signup.id, Eraser::Customer, blacklist).await?;
        }
        Ok(self.erased_page(head, lang, "erased-body-mine", None, StatusCode::OK))
    }

    /// The page that asks once more before erasing: a button posting `hidden` and `sure=yes`.
    fn erase_question(
        &self,
        head: &Parts,
        form: &Form,
        lang: Lang,
        action: &str,
        mut hidden: Vec<(&'static str, String)>,
        title: Option<&str>,
    ) -> Response<Bytes> {
        let lang = self.lang_for(head, form.get("lang"), &Lang::ALL, Some(lang));
        let tr = Tr::new(lang);
        let body = match title {
            Some(t) => tr.with("erase-confirm-body", &[("event", Arg::Text(t))]),
            None => tr.t("erase-confirm-body-mine"),
        };
        let page = self.page(lang, tr.t("erase-confirm-title"), &self.config.mount, &[lang], None);
        let mut m = self.message(page, vec![body]);
        hidden.push(("csrf", form.get("csrf").unwrap_or_default().to_owned()));
        hidden.push(("lang", lang.code().to_owned()));
        hidden.push(("sure", "yes".to_owned()));
        m.form = Some(ButtonForm {
            action: format!("{}/{action}", self.config.mount),
            hidden,
            hint: None,
            button: tr.t("erase-confirm-button"),
            secondary: false,
        });
        html(StatusCode::OK, m.render())
    }

    /// The page after an erasure (or one found done).
    fn erased_page(
        &self,
        head: &Parts,
        lang: Lang,
        body: &str,
        title: Option<&str>,
        status: StatusCode,
    ) -> Response<Bytes> {
        let lang = self.lang_for(head, None, &Lang::ALL, Some(lang));
        let tr = Tr::new(lang);
        let text = match title {
            Some(t) => tr.with(body, &[("event", Arg::Text(t))]),
            None => tr.t(body),
        };
        let page = self.page(lang, tr.t("erased-title"), &self.config.mount, &[lang], None);
        html(status, self.message(page, vec![text]).render())
    }

    /// The download link of a manage link's page.
    pub(in crate::app::waitlist) fn manage_data_link(&self, token: &str) -> String {
        format!("{}/manage/data?t={}", self.config.mount, url_component(token))
    }
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;
    use crate::app::waitlist::testing::{site, text, Browser, Site};
    use crate::core::waitlist::Status;
    use crate::testkit::block_on;

    /// Maps the gala to organizer `harbour`, with self-service as `on` says.
    fn organizer(site: &Site, on: bool) {
        let org = serde_json::json!({
            "id": "harbour", "name": "Harbour", "created_at_ms": 0, "token_digest": "00", "self_service": on
        });
        block_on(site.rig.store.set("org:harbour", org.to_string().as_bytes(), None)).unwrap();
        block_on(site.rig.store.set(&crate::core::blacklist::event_key("gala"), b"harbour", None)).unwrap();
    }

    #[test]
    fn a_guest_downloads_and_erases_their_data_through_the_manage_link_once() {
        let site = site();
        let ada = site.in_line_with("ada@example.com", None, 2, Some("+31612345678"));
        let bob = site.in_line("bob@example.com", None, 1);
        let t = url_component(&site.waitlist.manage_token(&ada));
        let mut browser = Browser::default();

        // Without self-service: no section, and its addresses answer 404.
        organizer(&site, false);
        let page = site.send(Method::GET, &format!("/waitlist/manage?t={t}"), &mut browser, "", None);
        assert!(!text(&page).contains("Your data"), "{}", text(&page));
        let data = site.send(Method::GET, &format!("/waitlist/manage/data?t={t}"), &mut browser, "", None);
        assert_eq!(data.status(), StatusCode::NOT_FOUND);

        organizer(&site, true);
        let page = site.send(Method::GET, &format!("/waitlist/manage?t={t}"), &mut browser, "", None);
        let html = text(&page);
        assert!(html.contains("Your data") && html.contains("/waitlist/manage/data?t="), "{html}");
        let data = site.send(Method::GET, &format!("/waitlist/manage/data?t={t}"), &mut browser, "", None);
        assert_eq!(data.status(), StatusCode::OK);
        assert_eq!(data.headers()[header::CONTENT_TYPE], "application/json; charset=utf-8");
        let json: serde_json::Value = serde_json::from_slice(data.body()).unwrap();
        let mine = &json["signups"][0];
        assert_eq!(
            (mine["email"].as_str(), mine["phone"].as_str()),
            (Some("ada@example.com"), Some("+31612345678"))
        );
        assert_eq!((mine["place"].as_u64(), mine["tickets"].as_u64()), (Some(1), Some(2)));
        assert_eq!(mine["messages"][1]["template"], "confirmed", "{json}");
        assert!(mine.get("note").is_none(), "never staff's notes");

        // Erasing asks once more, then erases; Bob moves up; a last mail goes out.
        let form = format!("t={t}&csrf={}&lang=en", browser.token);
        let asked = site.send(Method::POST, "/waitlist/manage/erase", &mut browser, &form, None);
        assert!(text(&asked).contains("Erase your data?"), "{}", text(&asked));
        assert!(site.record(&ada).anonymised.is_none(), "nothing erased by the first click");
        let mails = site.mails();
        let sure = format!("t={t}&csrf={}&lang=en&sure=yes", browser.token);
        let done = site.send(Method::POST, "/waitlist/manage/erase", &mut browser, &sure, None);
        assert!(text(&done).contains("Your data is erased"), "{}", text(&done));
        let gone = site.record(&ada);
        assert_eq!((gone.status, gone.email.as_str(), gone.phone.as_ref()), (Status::Cancelled, "", None));
        assert_eq!(site.mails(), mails + 1, "the last mail");
        let last = site.outbox().pop().unwrap();
        assert_eq!(last.to(), "ada@example.com");
        let (rows, _) = block_on(site.waitlist.staff_rows("gala", 0, "", 10)).unwrap();
        assert_eq!(rows.iter().find(|r| r.signup.id == bob.id).unwrap().place, Some(1), "Bob moved up");

        // Replayed: nothing more happens; the link now says the data is gone.
        let again = site.send(Method::POST, "/waitlist/manage/erase", &mut browser, &sure, None);
        assert!(text(&again).contains("erased already"), "{}", text(&again));
        assert_eq!(site.mails(), mails + 1);
        let page = site.send(Method::GET, &format!("/waitlist/manage?t={t}"), &mut browser, "", None);
        assert!(text(&page).contains("erased already"));
        let data = site.send(Method::GET, &format!("/waitlist/manage/data?t={t}"), &mut browser, "", None);
        assert_eq!(data.status(), StatusCode::GONE);
        // Forged links and forms without their CSRF token change nothing.
        let forged = site.send(Method::GET, "/waitlist/manage/data?t=gala.x.1.AAAA", &mut browser, "", None);
        assert_eq!(forged.status(), StatusCode::NOT_FOUND);
        let bob_t = url_component(&site.waitlist.manage_token(&bob));
        let no_csrf = format!("t={bob_t}&lang=en&sure=yes");
        let refused =
            site.send(Method::POST, "/waitlist/manage/erase", &mut Browser::default(), &no_csrf, None);
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(site.record(&bob).anonymised.is_none());
        // The audit log has it by line number, never whose.
        let log = crate::core::blacklist::audit::Log::Scope("harbour".into());
        let (records, _) = block_on(crate::app::audit::page(&site.rig.ports(), &log, None, 10)).unwrap();
        let text = serde_json::to_string(&records).unwrap();
        assert!(
            text.contains("erase_signup") && text.contains("line number 1 erased by the customer"),
            "{text}"
        );
        assert!(!text.contains("ada@"), "{text}");
    }

    #[test]
    fn two_erasures_at_once_erase_once() {
        let site = site();
        organizer(&site, true);
        let ada = site.in_line("ada@example.com", None, 1);
        let mails = site.mails();
        let both = block_on(futures_util::future::join_all([
            site.waitlist.erase("gala", &ada.id, Eraser::Customer, None),
            site.waitlist.erase("gala", &ada.id, Eraser::Customer, None),
        ]));
        let outcomes: Vec<EraseOutcome> = both.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            outcomes.iter().filter(|o| matches!(o, EraseOutcome::Erased { .. })).count(),
            1,
            "{outcomes:?}"
        );
        assert_eq!(site.mails(), mails + 1, "one last mail");
        assert_eq!(
            block_on(site.waitlist.erase("gala", "nobody", Eraser::Customer, None)).unwrap(),
            EraseOutcome::NotFound
        );
    }
}
