//! Staff's list of an event (box-office sessions of the event's organizer): the signups a page
//! at a time with a search, and on each its actions: a note, "contacted", its mail again,
//! cancel on the customer's behalf, an offer with staff's own link and text; the CSV download.
//! Works without JavaScript (each action is a small form, behind a `<details>`).
//!
//! | request | does |
//! |---|---|
//! | `GET /staff/list?event=&after=&q=` | the list (or the sign-in, without a session) |
//! | `POST /staff/act` | one action (`do`: note, contacted, resend, cancel, offer); the list again |
//! | `GET /staff/export?event=` | the whole list as CSV, as the admin API's export |

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};

use super::super::compose::deadline_text;
use super::super::i18n::{Arg, Tr};
use super::super::pages::{StaffListPage, StaffListRow};
use super::super::usecases::erase::{EraseOutcome, Eraser};
use super::super::usecases::staff::StaffSession;
use super::super::usecases::staff_work::{StaffDone, StaffRow};
use super::super::usecases::StaffOffer;
use super::super::{Unavailable, Waitlist};
use super::*;
use crate::app::context::RequestContext;
use crate::core::blacklist::audit::AuditAction;
use crate::core::text::url_component;
use crate::core::waitlist::form::Form;
use crate::core::waitlist::{Annotation, Lang, Status, WaitlistSettings};
use crate::ports::store::Store;

/// Rows per page of the list.
const PAGE_ROWS: usize = 50;
/// Longest search, in characters.
const MAX_QUERY: usize = 100;

/// What the list shows above its rows after an action.
struct Outcome {
    message: String,
    failed: bool,
}

/// What an admin read on a staff session's behalf comes to: its answer, a 403 page when the admin
/// rules refuse it, or the store's failure (the page's 503).
pub(super) fn staff_read<T>(
    read: Result<T, crate::app::admin::AdminError>,
) -> Result<Result<T, Response<Bytes>>, Unavailable> {
    match read {
        Ok(answer) => Ok(Ok(answer)),
        Err(crate::app::admin::AdminError::Unavailable(e)) => Err(e.into()),
        Err(_) => Ok(Err(error_response(StatusCode::FORBIDDEN))),
    }
}

impl<S: Store + Clone> Waitlist<S> {
    /// `GET /staff/list`: the list, or the sign-in page when the browser has no staff session of
    /// the event's organizer.
    pub(in crate::app::waitlist) async fn staff_list(
        &self,
        head: &Parts,
    ) -> Result<Response<Bytes>, Unavailable> {
        let (event, session) = match self.staff_event(head, query_param(head, "event")).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let after = query_param(head, "after").and_then(|a| a.parse().ok()).unwrap_or(0);
        let query: String = query_param(head, "q").unwrap_or_default().chars().take(MAX_QUERY).collect();
        self.list_page(head, None, &session, &event, after, &query, None).await
    }

    /// `POST /staff/act`: one action on one signup, then the list where it was.
    pub(in crate::app::waitlist) async fn staff_act(
        &self,
        context: &RequestContext,
        head: &Parts,
        form: &Form,
        blacklist: Option<&crate::app::blacklist::Blacklist<S>>,
    ) -> Result<Response<Bytes>, Unavailable> {
        let lang = self.lang_for(head, form.get("lang"), &Lang::ALL, None);
        let (event, session) = match self.staff_post(context, head, form, lang).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let tr = Tr::new(lang);
        let id = form.get("id").unwrap_or_default();
        let action = form.get("do").unwrap_or_default();
        let done = |what: &str| Outcome {
            message: tr.with("staff-done", &[("what", Arg::Text(what))]),
            failed: false,
        };
        let failed = |reason: String| Outcome {
            message: tr.with("staff-failed", &[("reason", Arg::Text(&reason))]),
            failed: true,
        };
        let staff_done = |d: StaffDone, what: &str| match d {
            StaffDone::Done(_) => done(what),
            StaffDone::NotFound => failed("no such signup".into()),
            StaffDone::BadNote => failed(tr.t("error-note")),
            StaffDone::NothingToSend => failed("nothing to send for a signup in this state".into()),
        };
        let outcome = match action {
            "note" => {
                staff_done(self.set_note(&event, id, form.get("note").unwrap_or_default()).await?, "note")
            }
            "contacted" => staff_done(self.mark_contacted(&event, id).await?, "contacted"),
            "resend" => staff_done(self.resend(&event, id).await?, "resend"),
            "cancel" => match self.signup_record(&event, id).await? {
                Some(s) if matches!(s.status, Status::Pending | Status::Confirmed) => {
                    self.cancel(s).await?;
                    done("cancel")
                }
                Some(_) => failed("only a pending or waiting signup can be cancelled".into()),
                None => failed("no such signup".into()),
            },
            "offer" => {
                let text =
                    |name: &str| form.get(name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
                let hours = match text("hours").map(|h| h.parse::<u32>()) {
                    Some(Ok(h)) => Some(h),
                    Some(Err(_)) => Some(0), // refused below with the range
                    None => None,
                };
                let offer = StaffOffer { link: text("link"), text: text("text"), hours };
                match self.offer_to(&event, id, offer).await? {
                    Ok(_) => done("offer"),
                    Err(refused) => failed(refused.to_string()),
                }
            }
            "erase" if form.get("sure") != Some("yes") => failed(tr.t("staff-erase-unsure")),
            "erase" => {
                let by = Eraser::Staff(session.principal().label());
                match self.erase(&event, id, by, blacklist).await? {
                    EraseOutcome::Erased { .. } | EraseOutcome::Already => done("erase"),
                    EraseOutcome::NotFound => failed("no such signup".into()),
                }
            }
            _ => return Ok(error_response(StatusCode::BAD_REQUEST)),
        };
        // An erasure writes its own audit record.
        if !outcome.failed && action != "erase" {
            self.audit_staff_act(&session, &event, id, action).await;
        }
        let after = form.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
        let query: String = form.get("q").unwrap_or_default().chars().take(MAX_QUERY).collect();
        self.list_page(head, form.get("lang"), &session, &event, after, &query, Some(outcome)).await
    }

    /// `GET /staff/export`: the whole list as CSV, read as the admin API's export (and audited
    /// the same way, page by page, as the box office's).
    pub(in crate::app::waitlist) async fn staff_export(
        &self,
        head: &Parts,
    ) -> Result<Response<Bytes>, Unavailable> {
        let (event, session) = match self.staff_event(head, query_param(head, "event")).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let admin = crate::app::admin::Admin::new(self.ports.clone(), None);
        let who = session.principal();
        let mut csv = String::new();
        let mut after = 0;
        loop {
            let read =
                admin.waitlist_export(&who, &event, after, crate::app::admin::waitlist::MAX_PAGE).await;
            let page = match staff_read(read)? {
                Ok(p) => p,
                Err(refused) => return Ok(refused),
            };
            csv.push_str(&crate::app::admin::waitlist::csv_page(&page, after == 0));
            match page.next {
                Some(n) if n > after => after = n,
                _ => break,
            }
        }
        let mut r = Response::new(Bytes::from(csv));
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert("doorman-internal-notes", HeaderValue::from_static("included"));
        let disposition = format!("attachment; filename=\"waitlist-{event}-with-internal-notes.csv\"");
        if let Ok(v) = HeaderValue::from_str(&disposition) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        Ok(r)
    }

    /// What every staff form post checks first: its CSRF token, the staff session of the
    /// form's event, and the posting limits. Answers the event and the session, or the answer
    /// that refuses the post.
    pub(super) async fn staff_post(
        &self,
        context: &RequestContext,
        head: &Parts,
        form: &Form,
        lang: Lang,
    ) -> Result<Result<(String, StaffSession), Response<Bytes>>, Unavailable> {
        let Some(browser) = self.checked_session(head, form, self.account(&head.headers).as_deref()) else {
            return Ok(Err(self.bad_form(lang)));
        };
        let found = match self.staff_event(head, form.get("event").map(str::to_owned)).await? {
            Ok(found) => found,
            Err(answer) => return Ok(Err(answer)),
        };
        if !self.posts_allowed(context, &browser).await? {
            return Ok(Err(error_response(StatusCode::TOO_MANY_REQUESTS)));
        }
        Ok(Ok(found))
    }

    /// The event a staff request names and the browser's staff session of its organizer; or
    /// the answer without them: 404 for no event, the sign-in for no session.
    pub(super) async fn staff_event(
        &self,
        head: &Parts,
        event: Option<String>,
    ) -> Result<Result<(String, StaffSession), Response<Bytes>>, Unavailable> {
        let Some(event) = event.filter(|e| is_slug(e)) else {
            return Ok(Err(error_response(StatusCode::NOT_FOUND)));
        };
        match self.staff_for(head, &event).await? {
            Some(session) => Ok(Ok((event, session))),
            None => Ok(Err(self.to_sign_in(&event))),
        }
    }

    /// `303` to the staff sign-in, which comes back to the list once signed in.
    fn to_sign_in(&self, event: &str) -> Response<Bytes> {
        let mut r = Response::new(Bytes::new());
        *r.status_mut() = StatusCode::SEE_OTHER;
        let to = format!("{}/staff?event={event}&next=list", self.config.mount);
        if let Ok(v) = HeaderValue::from_str(&to) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }

    #[allow(clippy::too_many_arguments)]
    async fn list_page(
        &self,
        head: &Parts,
        form_lang: Option<&str>,
        session: &StaffSession,
        event: &str,
        after: u64,
        query: &str,
        outcome: Option<Outcome>,
    ) -> Result<Response<Bytes>, Unavailable> {
        let lang = self.lang_for(head, form_lang, &Lang::ALL, None);
        let tr = Tr::new(lang);
        let settings = self.settings(event).await?.unwrap_or_else(|| WaitlistSettings::new(event));
        let (rows, next) = self.staff_rows(event, after, query, PAGE_ROWS).await?;
        let mount = &self.config.mount;
        let q = url_component(query);
        let path = format!("{mount}/staff/list?event={event}&after={after}&q={q}");
        let title = tr.with("staff-list-title", &[("event", Arg::Text(&settings.title))]);
        let (csrf, set_cookie) = self.csrf(head)?;
        let failed = outcome.as_ref().is_some_and(|o| o.failed);
        let page = StaffListPage {
            page: self.page(lang, title, &path, &Lang::ALL, None),
            signed_in: tr.with(session.signed_in_message(), &[("organizer", Arg::Text(&session.name))]),
            message: outcome.map(|o| o.message),
            failed,
            event: event.to_owned(),
            query: query.to_owned(),
            list_action: format!("{mount}/staff/list"),
            act_action: format!("{mount}/staff/act"),
            hidden: vec![
                ("csrf", csrf),
                ("event", event.to_owned()),
                ("lang", lang.code().to_owned()),
                ("after", after.to_string()),
                ("q", query.to_owned()),
            ],
            export_href: format!("{mount}/staff/export?event={event}"),
            messages_href: format!("{mount}/staff/messages?event={event}"),
            rows: rows.iter().map(|r| self.list_row(&tr, r)).collect(),
            more_href: next.map(|n| format!("{mount}/staff/list?event={event}&after={n}&q={q}")),
            offer_hours: settings.offer_hours,
        };
        let status = if failed { StatusCode::BAD_REQUEST } else { StatusCode::OK };
        let mut r = html(status, askama::Template::render(&page));
        if let Some(c) = set_cookie {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
        Ok(r)
    }

    fn list_row(&self, tr: &Tr, row: &StaffRow) -> StaffListRow {
        let s = &row.signup;
        let waiting = s.status == Status::Confirmed;
        let pending = s.status == Status::Pending && s.is_active(self.now());
        StaffListRow {
            id: s.id.clone(),
            place: row.place,
            name: s.name.clone(),
            email: s.email.clone(),
            phone: s.phone.clone(),
            status: Self::status_text(tr, s.status),
            offer: row.offer.as_ref().map(|o| {
                let deadline = deadline_text(o.expires);
                tr.with(
                    "staff-offer-state",
                    &[
                        ("number", Arg::Number(o.number)),
                        ("status", Arg::Text(o.status.as_str())),
                        ("deadline", Arg::Text(&deadline)),
                    ],
                )
            }),
            contacted: row.annotation.contacted.map(|t| {
                let when = deadline_text(t);
                tr.with("staff-contacted-at", &[("when", Arg::Text(&when))])
            }),
            tickets: s.tickets,
            note: Annotation::note_of(Some(&row.annotation), s),
            can_resend: waiting || pending,
            can_offer: waiting,
            can_cancel: waiting || pending,
            can_erase: s.anonymised.is_none(),
        }
    }

    /// Puts a staff action into the organizer's audit log: which, at which line number, never
    /// who the customer is or what the note says.
    async fn audit_staff_act(&self, staff: &StaffSession, event: &str, id: &str, action: &str) {
        let number = match self.signup_record(event, id).await {
            Ok(Some(s)) => {
                s.seq.map_or_else(|| "a pending signup".to_owned(), |n| format!("line number {n}"))
            }
            _ => "a signup".to_owned(),
        };
        let detail = format!("{action} on {number}");
        self.audit_event(event, AuditAction::StaffAction, staff.principal().label(), detail).await;
    }
}

#[cfg(test)]
pub(super) mod tests {
    use http::Method;

    use super::*;
    use crate::app::admin::organizers::NewOrganizer;
    use crate::app::admin::{Admin, Principal};
    use crate::app::waitlist::testing::{site, text, Browser, Site};
    use crate::testkit::block_on;

    /// A browser signed in as harbour's box office, which `gala` is mapped to.
    pub(in crate::app::waitlist::web) fn staff(site: &Site) -> Browser {
        let admin = Admin::new(site.rig.ports(), None);
        let op = Principal::Operator;
        let new = NewOrganizer { id: "harbour".into(), name: "Harbour Hall".into() };
        block_on(admin.create_organizer(&op, &new)).unwrap();
        block_on(admin.map_event(&op, "gala", "harbour")).unwrap();
        let token = block_on(admin.rotate_box_office_token(&op, "harbour")).unwrap().token;
        let mut b = Browser::default();
        let page = site.send(Method::GET, "/waitlist/staff/list?event=gala", &mut b, "", None);
        assert_eq!(page.status(), StatusCode::SEE_OTHER, "no session: the sign-in");
        let to = page.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(to, "/waitlist/staff?event=gala&next=list");
        site.send(Method::GET, &to, &mut b, "", None);
        let form = format!("csrf={}&token={}&event=gala&next=list", b.token, url_component(&token));
        let signed_in = site.send(Method::POST, "/waitlist/staff", &mut b, &form, None);
        assert_eq!(signed_in.headers()["location"], "/waitlist/staff/list?event=gala&lang=en");
        b
    }

    #[test]
    fn staff_work_the_list_note_contact_offer_and_cancel_without_javascript() {
        let site = site();
        let ada = site.in_line("ada@example.com", None, 2);
        let bob = site.in_line("bob@example.com", None, 1);
        let mut b = staff(&site);
        let list = site.send(Method::GET, "/waitlist/staff/list?event=gala", &mut b, "", None);
        assert_eq!(list.status(), StatusCode::OK);
        let page = text(&list);
        assert!(page.contains("ada@example.com") && page.contains("bob@example.com"), "{page}");
        assert!(page.contains("Send the offer") && !page.contains("<script"), "forms, no script");
        let act = |b: &mut Browser, fields: &str| {
            let body = format!("csrf={}&event=gala&lang=en&{fields}", b.token);
            site.send(Method::POST, "/waitlist/staff/act", b, &body, None)
        };
        let noted = act(&mut b, &format!("id={}&do=note&note=%3Cb%3EVIP%3C%2Fb%3E", ada.id));
        assert!(text(&noted).contains("The note is saved."), "{}", text(&noted));
        assert!(
            text(&noted).contains("&#60;b&#62;VIP") && !text(&noted).contains("<b>VIP"),
            "escaped: {}",
            text(&noted)
        );
        let contacted = act(&mut b, &format!("id={}&do=contacted", ada.id));
        assert!(text(&contacted).contains("Contacted "));
        let mails = site.mails();
        let offered = act(
            &mut b,
            &format!("id={}&do=offer&link=https%3A%2F%2Fpay.example%2Fr%2F9&text=Row+5&hours=24", bob.id),
        );
        assert!(text(&offered).contains("The offer is sent."), "{}", text(&offered));
        assert_eq!(site.mails(), mails + 1, "the offer mail");
        let again = act(&mut b, &format!("id={}&do=offer&link=https%3A%2F%2Fpay.example%2Fr%2F9", bob.id));
        assert_eq!(again.status(), StatusCode::BAD_REQUEST, "offered already");
        let bad = act(&mut b, &format!("id={}&do=offer&link=javascript%3Aalert(1)", ada.id));
        assert!(text(&bad).contains("Nothing was done"), "{}", text(&bad));
        let cancelled = act(&mut b, &format!("id={}&do=cancel", ada.id));
        assert!(text(&cancelled).contains("The signup is cancelled."));
        assert_eq!(site.record(&ada).status, Status::Cancelled);
        // Erasing needs its box ticked; then the data goes and the row stays.
        let unsure = act(&mut b, &format!("id={}&do=erase", ada.id));
        assert!(text(&unsure).contains("Tick the box"), "{}", text(&unsure));
        assert!(site.record(&ada).anonymised.is_none());
        let found = site.send(Method::GET, "/waitlist/staff/list?event=gala&q=VIP", &mut b, "", None);
        assert!(text(&found).contains("ada@example.com") && !text(&found).contains("bob@example.com"));
        let messages = site.send(Method::GET, "/waitlist/staff/messages?event=gala", &mut b, "", None);
        let shown = text(&messages);
        assert!(
            shown.contains("offer") && shown.contains("bob@example.com") && shown.contains("queued"),
            "{shown}"
        );
        let csv = site.send(Method::GET, "/waitlist/staff/export?event=gala", &mut b, "", None);
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        assert!(
            text(&csv).contains("<b>VIP</b>") && text(&csv).starts_with("place,status"),
            "{}",
            text(&csv)
        );
        // Without the form's token nothing is done; without a session, the sign-in.
        let forged = site.send(
            Method::POST,
            "/waitlist/staff/act",
            &mut b,
            &format!("csrf=x&event=gala&id={}&do=cancel", bob.id),
            None,
        );
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let mut stranger = Browser::default();
        let nope = site.send(Method::GET, "/waitlist/staff/export?event=gala", &mut stranger, "", None);
        assert_eq!(nope.status(), StatusCode::SEE_OTHER);
        let erased = act(&mut b, &format!("id={}&do=erase&sure=yes", ada.id));
        assert!(text(&erased).contains("The data is erased."), "{}", text(&erased));
        assert_eq!(site.record(&ada).email, "");
        let list = text(&site.send(Method::GET, "/waitlist/staff/list?event=gala", &mut b, "", None));
        assert!(!list.contains("ada@example.com") && list.contains("bob@example.com"), "{list}");
    }
}
