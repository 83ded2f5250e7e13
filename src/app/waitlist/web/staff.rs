//! Box-office staff's pages: signing in with the organizer's box-office token (exchanged for a
//! signed, expiring cookie), the session each staff request is checked against, signing out.
//!
//! The cookie holds the organizer and a fingerprint of the box-office token it was opened with;
//! every staff request reads the organizer's record, so issuing a new box-office token ends
//! every session of the old one at once. The token itself is never stored or sent back.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};

use super::super::i18n::{Arg, Tr};
use super::super::pages::{ButtonForm, StaffPage};
use super::super::usecases::staff::{StaffSession, STAFF_COOKIE, STAFF_FOR};
use super::super::{Unavailable, Waitlist};
use super::*;
use crate::app::admin::principal::{token_holder, Role};
use crate::app::context::RequestContext;
use crate::core::blacklist::is_slug;
use crate::core::waitlist::form::Form;
use crate::core::waitlist::link::{self, Kind, StaffRole};
use crate::core::waitlist::Lang;
use crate::ports::random::RandomUnavailable;
use crate::ports::store::{Store, StoreError};

impl<S: Store + Clone> Waitlist<S> {
    /// The staff session in the request's cookie (see [`Self::staff_session_of`]).
    pub async fn staff_session(&self, head: &Parts) -> Result<Option<StaffSession>, StoreError> {
        match cookie(head, STAFF_COOKIE) {
            Some(value) => self.staff_session_of(&value).await,
            None => Ok(None),
        }
    }

    /// The request's staff session, if it belongs to the organizer `event` is mapped to.
    pub async fn staff_for(&self, head: &Parts, event: &str) -> Result<Option<StaffSession>, StoreError> {
        match cookie(head, STAFF_COOKIE) {
            Some(value) => self.staff_session_for(&value, event).await,
            None => Ok(None),
        }
    }

    pub(in crate::app::waitlist) fn staff_cookie(&self, value: &str, max_age: i64) -> Option<HeaderValue> {
        let c = cookie::Cookie::build((STAFF_COOKIE, value.to_owned()))
            .path(self.config.mount.clone())
            .http_only(true)
            .secure(self.config.secure_cookies)
            .same_site(cookie::SameSite::Strict)
            .max_age(cookie::time::Duration::seconds(max_age))
            .build();
        HeaderValue::from_str(&c.to_string()).ok()
    }

    pub(in crate::app::waitlist) fn staff_page(
        &self,
        head: &Parts,
        lang: Lang,
        session: Option<&StaffSession>,
        event: Option<&str>,
        error: Option<String>,
    ) -> Result<(StaffPage, Option<HeaderValue>), RandomUnavailable> {
        let tr = Tr::new(lang);
        let mount = &self.config.mount;
        let path = format!("{mount}/staff");
        let page = self.page(lang, tr.t("staff-title"), &path, &Lang::ALL, None);
        let (csrf, set_cookie) = self.csrf(head)?;
        let (paragraphs, sign_out) = match session {
            Some(s) => (
                vec![
                    tr.with(s.signed_in_message(), &[("organizer", Arg::Text(&s.name))]),
                    tr.t("staff-next"),
                ],
                Some(ButtonForm {
                    action: format!("{mount}/staff/out"),
                    hidden: vec![("csrf", csrf.clone()), ("lang", lang.code().to_owned())],
                    hint: None,
                    button: tr.t("staff-sign-out"),
                    secondary: true,
                }),
            ),
            None => (vec![tr.t("staff-intro")], None),
        };
        let event = event.filter(|e| is_slug(e)).map(str::to_owned);
        let next = (super::query_param(head, "next").as_deref() == Some("list")).then(|| "list".to_owned());
        Ok((StaffPage { page, paragraphs, error, action: path, csrf, event, next, sign_out }, set_cookie))
    }

    /// `GET /staff`: the sign-in form, or who is signed in and the sign-out button.
    pub(in crate::app::waitlist) async fn staff_get(
        &self,
        head: &Parts,
    ) -> Result<Response<Bytes>, Unavailable> {
        let lang = self.lang_for(head, None, &Lang::ALL, None);
        let session = self.staff_session(head).await?;
        let event = super::query_param(head, "event");
        let (page, set_cookie) = self.staff_page(head, lang, session.as_ref(), event.as_deref(), None)?;
        let mut r = html(StatusCode::OK, askama::Template::render(&page));
        if let Some(c) = set_cookie {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
        Ok(r)
    }

    /// `POST /staff`: exchanges a box-office token for a staff session, then opens the event's
    /// form (or the staff page).
    pub(in crate::app::waitlist) async fn staff_sign_in(
        &self,
        context: &RequestContext,
        head: &Parts,
        form: &Form,
    ) -> Result<Response<Bytes>, Unavailable> {
        let lang = self.lang_for(head, form.get("lang"), &Lang::ALL, None);
        let Some(session) = self.checked_session(head, form, self.account(&head.headers).as_deref()) else {
            return Ok(self.bad_form(lang));
        };
        if !self.posts_allowed(context, &session).await? {
            let tr = Tr::new(lang);
            let page = self.page(lang, tr.t("limited-title"), &self.config.mount, &[lang], None);
            let mut r = html(
                StatusCode::TOO_MANY_REQUESTS,
                askama::Template::render(&self.message(page, vec![tr.t("limited-body")])),
            );
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("600"));
            return Ok(r);
        }
        let token = form.get("token").unwrap_or_default().trim();
        let event = form.get("event").filter(|e| is_slug(e));
        // The box office's token, or the organizer's admin token (a token of another shape is
        // refused without reading the store).
        let store = &self.ports.store;
        let signed_in = match token_holder(store, token.as_bytes(), Role::BoxOffice).await? {
            Some(org) => {
                org.box_office_fingerprint().map(|f| (org.id.clone(), f.to_owned(), StaffRole::BoxOffice))
            }
            None => token_holder(store, token.as_bytes(), Role::Admin)
                .await?
                .map(|org| (org.id.clone(), org.admin_fingerprint().to_owned(), StaffRole::Admin)),
        };
        let Some((organizer, fingerprint, role)) = signed_in else {
            tracing::info!("waitlist: a staff sign-in with a token that is not valid");
            let error = Some(Tr::new(lang).t("staff-invalid"));
            let (page, _) = self.staff_page(head, lang, None, event, error)?;
            return Ok(html(StatusCode::FORBIDDEN, askama::Template::render(&page)));
        };
        let body = link::staff_body(&organizer, &fingerprint, role);
        let value = self.signer.seal(Kind::Staff, &body, self.now() + STAFF_FOR);
        tracing::info!(organizer, admin = role == StaffRole::Admin, "waitlist: staff signed in");
        let mount = &self.config.mount;
        let next = match (event, form.get("next")) {
            (Some(e), Some("list")) => format!("{mount}/staff/list?event={e}&lang={}", lang.code()),
            (Some(e), _) => format!("{mount}/{e}?lang={}", lang.code()),
            (None, _) => format!("{mount}/staff?lang={}", lang.code()),
        };
        let mut r = Response::new(Bytes::new());
        *r.status_mut() = StatusCode::SEE_OTHER;
        let h = r.headers_mut();
        h.insert(header::LOCATION, HeaderValue::from_str(&next).expect("a slug and a mount make a header"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        if let Some(c) = self.staff_cookie(&value, STAFF_FOR as i64) {
            h.append(header::SET_COOKIE, c);
        }
        Ok(r)
    }

    /// `POST /staff/out`: ends the staff session in this browser.
    pub(in crate::app::waitlist) fn staff_sign_out(&self, head: &Parts, form: &Form) -> Response<Bytes> {
        if let Some(refusal) = self.refused(head, form) {
            return refusal;
        }
        let lang = self.lang_for(head, form.get("lang"), &Lang::ALL, None);
        let tr = Tr::new(lang);
        let page = self.page(lang, tr.t("staff-title"), &self.config.mount, &[lang], None);
        let mut m = self.message(page, vec![tr.t("staff-signed-out")]);
        m.link = Some((format!("{}/staff", self.config.mount), tr.t("staff-sign-in-link")));
        let mut r = html(StatusCode::OK, askama::Template::render(&m));
        if let Some(c) = self.staff_cookie("", 0) {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
        r
    }

    /// The answer to box-office fields sent without a staff session of the event's organizer.
    pub(in crate::app::waitlist) fn staff_only(&self, lang: Lang, event: &str) -> Response<Bytes> {
        let tr = Tr::new(lang);
        let page = self.page(lang, tr.t("staff-only-title"), &self.config.mount, &[lang], Some(event));
        let mut m = self.message(page, vec![tr.t("staff-only-body")]);
        m.link = Some((format!("{}/staff?event={event}", self.config.mount), tr.t("staff-sign-in-link")));
        html(StatusCode::FORBIDDEN, askama::Template::render(&m))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::{Method, StatusCode};

    use super::*;
    use crate::app::admin::organizers::NewOrganizer;
    use crate::app::admin::{Admin, Principal};
    use crate::app::waitlist::testing::{site, text, Browser};
    use crate::core::text::url_component;

    #[test]
    fn box_office_staff_sign_in_until_the_day_ends_or_a_new_token_is_issued() {
        let site = site();
        let admin = Admin::new(site.rig.ports(), None);
        let op = Principal::Operator;
        let new = NewOrganizer { id: "harbour".into(), name: "Harbour Hall".into() };
        crate::testkit::block_on(async {
            admin.create_organizer(&op, &new).await.unwrap();
            admin.map_event(&op, "gala", "harbour").await.unwrap();
        });
        let token = crate::testkit::block_on(admin.rotate_box_office_token(&op, "harbour")).unwrap().token;
        let mut staff = Browser::default();
        site.send(Method::GET, "/waitlist/staff", &mut staff, "", None);
        let wrong = format!("csrf={}&token=box.harbour.{}", staff.token, "0".repeat(64));
        assert_eq!(
            site.send(Method::POST, "/waitlist/staff", &mut staff, &wrong, None).status(),
            StatusCode::FORBIDDEN
        );
        let sign_in = format!("csrf={}&token={}&event=gala", staff.token, url_component(&token));
        let signed_in = site.send(Method::POST, "/waitlist/staff", &mut staff, &sign_in, None);
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        assert_eq!(signed_in.headers()["location"], "/waitlist/gala?lang=en");
        assert!(!staff.staff.is_empty(), "the staff cookie");
        let form = site.send(Method::GET, "/waitlist/gala", &mut staff, "", None);
        assert!(text(&form).contains("name=\"note\""), "the staff's form");
        // A working day later the session is over.
        site.rig.clock.advance(Duration::from_secs(STAFF_FOR));
        let form = site.send(Method::GET, "/waitlist/gala", &mut staff, "", None);
        assert!(!text(&form).contains("name=\"note\""), "expired");
        // Signed in again, then a new token ends the session at once.
        site.send(Method::GET, "/waitlist/staff", &mut staff, "", None);
        let sign_in = format!("csrf={}&token={}", staff.token, url_component(&token));
        site.send(Method::POST, "/waitlist/staff", &mut staff, &sign_in, None);
        assert!(
            text(&site.send(Method::GET, "/waitlist/gala", &mut staff, "", None)).contains("name=\"note\"")
        );
        crate::testkit::block_on(admin.rotate_box_office_token(&op, "harbour")).unwrap();
        let form = site.send(Method::GET, "/waitlist/gala", &mut staff, "", None);
        assert!(!text(&form).contains("name=\"note\""), "a new token ends old sessions");
    }

    #[test]
    fn the_organizers_admins_sign_in_with_their_admin_token_and_act_as_admins() {
        let site = site();
        let admin = Admin::new(site.rig.ports(), None);
        let op = Principal::Operator;
        let new = NewOrganizer { id: "harbour".into(), name: "Harbour Hall".into() };
        let token = crate::testkit::block_on(async {
            let created = admin.create_organizer(&op, &new).await.unwrap();
            admin.map_event(&op, "gala", "harbour").await.unwrap();
            created.token
        });
        let ada = site.in_line("ada@example.com", None, 2);
        let mut boss = Browser::default();
        site.send(Method::GET, "/waitlist/staff", &mut boss, "", None);
        let sign_in = format!("csrf={}&token={}&event=gala&next=list", boss.token, url_component(&token));
        let signed_in = site.send(Method::POST, "/waitlist/staff", &mut boss, &sign_in, None);
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "{}", text(&signed_in));
        assert_eq!(signed_in.headers()["location"], "/waitlist/staff/list?event=gala&lang=en");
        let list = site.send(Method::GET, "/waitlist/staff/list?event=gala", &mut boss, "", None);
        assert_eq!(list.status(), StatusCode::OK);
        let page = text(&list);
        assert!(page.contains("Signed in as an admin of Harbour Hall"), "{page}");
        assert!(page.contains("ada@example.com"));
        // A note through the list is the admin's, in the audit log.
        let note = format!("csrf={}&event=gala&id={}&do=note&note=called", boss.token, ada.id);
        let acted = site.send(Method::POST, "/waitlist/staff/act", &mut boss, &note, None);
        assert!(acted.status().is_redirection() || acted.status().is_success(), "{}", text(&acted));
        let log = crate::testkit::block_on(admin.audit_log(&op, Some("harbour"), None, None)).unwrap();
        let staff_actions: Vec<String> = log
            .records
            .iter()
            .filter(|r| r.action == crate::core::blacklist::audit::AuditAction::StaffAction)
            .map(|r| r.actor.clone())
            .collect();
        assert_eq!(staff_actions, [Principal::Organizer("harbour".into()).label()]);
        // A new admin token ends the session; a box-office token signs in as the box office.
        crate::testkit::block_on(admin.rotate_token(&op, "harbour")).unwrap();
        let list = site.send(Method::GET, "/waitlist/staff/list?event=gala", &mut boss, "", None);
        assert!(!text(&list).contains("ada@example.com"), "the old admin token's session is over");
    }
}
