//! The signup form and its post, for customers and for box-office staff.

use askama::Template;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};

use super::super::i18n::{Arg, Tr};
use super::super::pages::{FormPage, ShownError, StaffFields, Values};
use super::super::usecases::staff::StaffSession;
use super::super::usecases::{SignupOutcome, SignupRequest};
use super::super::{Unavailable, Waitlist};
use super::*;
use crate::app::blacklist::Blacklist;
use crate::app::context::RequestContext;
use crate::core::blacklist::audit::{AuditAction, AuditRecord};
use crate::core::waitlist::form::{self, Filler, Form, SignupFields};
use crate::core::waitlist::{Lang, WaitlistSettings};
use crate::ports::store::Store;

impl<S: Store + Clone> Waitlist<S> {
    pub(in crate::app::waitlist) async fn form_page(
        &self,
        head: &Parts,
        event: &str,
    ) -> Result<Response<Bytes>, Unavailable> {
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
    pub(in crate::app::waitlist) fn form(
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
            intro: tr.with(
                "form-intro",
                &[("event", Arg::Text(&settings.title)), ("mode", Arg::Text(settings.mode.as_str()))],
            ),
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
                signed_in: s.signed_in_message(),
                box_office_address: s.box_office_address.clone(),
                list_href: format!("{}/staff/list?event={event}", self.config.mount),
            }),
        }
    }

    pub(in crate::app::waitlist) fn closed(
        &self,
        lang: Lang,
        event: &str,
        settings: &WaitlistSettings,
    ) -> Response<Bytes> {
        let tr = Tr::new(lang);
        let path = format!("{}/{event}", self.config.mount);
        let page = self.page(lang, tr.t("closed-title"), &path, &settings.languages, Some(event));
        html(StatusCode::NOT_FOUND, self.message(page, vec![tr.t("closed-body")]).render())
    }

    pub(in crate::app::waitlist) async fn signup_post(
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
        // The shop's session is verified once, for the form token and for the signup.
        let account = self.account(&head.headers);
        let Some(session) = self.checked_session(head, form, account.as_deref()) else {
            return Ok(self.bad_form(lang));
        };
        if !settings.takes_signups() {
            return Ok(self.closed(lang, event, &settings));
        }
        let staff = self.staff_for(head, event).await?;
        if staff.is_none() && fields.has_staff_fields() {
            return Ok(self.staff_only(lang, event));
        }
        let tr = Tr::new(lang);
        let path = format!("{}/{event}", self.config.mount);
        if staff.is_none() && !self.posts_allowed(context, &session).await? {
            return Ok(self.limited(lang, &path, &settings, event));
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
                    informed: fields.informed,
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
            account: if staff.is_some() { None } else { account },
            box_office: staff.is_some(),
        };
        let outcome = self.signup(request, &settings, blacklist).await?;
        if let Some(staff) = &staff {
            self.audit_staff_signup(staff, event, &outcome).await;
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

    /// Puts a box-office signup into the organizer's audit log: which event and what came of it,
    /// never who the customer is.
    async fn audit_staff_signup(&self, staff: &StaffSession, event: &str, outcome: &SignupOutcome) {
        let detail = match outcome {
            SignupOutcome::Placed { .. } => "placed",
            SignupOutcome::CheckMail => "confirmation mailed",
            SignupOutcome::AlreadyListed => "already listed",
            SignupOutcome::Full => "list full",
            SignupOutcome::Closed => "closed",
            SignupOutcome::Limited => "limited",
            SignupOutcome::BadAddress => "address refused",
        };
        let actor = staff.principal().label();
        let now = self.ports.clock.unix_ms();
        let record = AuditRecord {
            event: Some(event.to_owned()),
            detail: Some(detail.into()),
            ..AuditRecord::change(now, &staff.organizer, AuditAction::StaffSignup, actor, ("event", event))
        };
        if let Err(e) = crate::app::audit::write(&self.ports, &record).await {
            tracing::error!(error = %e, "audit log write failed for a box-office signup");
        }
    }

    /// What staff see after signing a customer up: the place (box-office address), the mail
    /// sent (customer's address) or that the customer is listed already; the note with it.
    pub(in crate::app::waitlist) fn staff_answer(
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

    pub(in crate::app::waitlist) fn limited(
        &self,
        lang: Lang,
        path: &str,
        settings: &WaitlistSettings,
        event: &str,
    ) -> Response<Bytes> {
        let tr = Tr::new(lang);
        let page = self.page(lang, tr.t("limited-title"), path, &settings.languages, Some(event));
        let mut r =
            html(StatusCode::TOO_MANY_REQUESTS, self.message(page, vec![tr.t("limited-body")]).render());
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("600"));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::waitlist::testing::{site, text, Browser};

    #[test]
    fn the_keep_me_informed_box_is_kept_with_the_signup_and_in_the_export_only_when_ticked() {
        let site = site();
        let mut browser = Browser::default();
        let form = site.send(Method::GET, "/waitlist/gala", &mut browser, "", None);
        assert!(text(&form).contains("name=\"informed\"") && !text(&form).contains(" checked"), "unticked");
        // A form sent back with a mistake keeps the box as it was.
        let wrong = format!("csrf={}&email=nope&name=Ada&tickets=1&informed=on", browser.token);
        let again = site.send(Method::POST, "/waitlist/gala", &mut browser, &wrong, None);
        assert!(text(&again).contains("id=\"informed\" name=\"informed\" checked"), "{}", text(&again));
        let ticked = format!("csrf={}&email=ada%40example.com&name=Ada&tickets=1&informed=on", browser.token);
        site.send(Method::POST, "/waitlist/gala", &mut browser, &ticked, None);
        let plain = format!("csrf={}&email=bob%40example.com&name=Bob&tickets=1", browser.token);
        site.send(Method::POST, "/waitlist/gala", &mut browser, &plain, None);
        let mut records: Vec<(String, bool)> = site
            .signups()
            .iter()
            .map(|id| crate::testkit::block_on(site.waitlist.signup_record("gala", id)).unwrap().unwrap())
            .map(|s| (s.email, s.informed))
            .collect();
        records.sort();
        assert_eq!(records, [("ada@example.com".to_owned(), true), ("bob@example.com".to_owned(), false)]);
    }

    #[test]
    fn bad_fields_are_named_staff_fields_need_a_session_and_a_closed_list_takes_nothing() {
        let site = site();
        let mut browser = Browser::default();
        site.send(Method::GET, "/waitlist/gala", &mut browser, "", None);
        let bad = format!("csrf={}&email=not-an-address&name=&tickets=0", browser.token);
        let page = site.send(Method::POST, "/waitlist/gala", &mut browser, &bad, None);
        assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = text(&page);
        assert!(html.contains("Enter a valid e-mail address") && html.contains("Enter a name."), "{html}");
        let staff = format!("csrf={}&email=ada%40example.com&name=Ada&tickets=1&note=vip", browser.token);
        let page = site.send(Method::POST, "/waitlist/gala", &mut browser, &staff, None);
        assert_eq!(page.status(), StatusCode::FORBIDDEN, "box-office fields without a staff session");
        site.update(|s| s.active = false);
        let closed = site.send(Method::GET, "/waitlist/gala", &mut browser, "", None);
        assert_eq!(closed.status(), StatusCode::NOT_FOUND);
        assert!(site.signups().is_empty(), "nothing stored");
    }
}
