//! Staff's pages about an event's messages: the history, previews and admins' test sends of any
//! template, and messages to the whole list (written, previewed, tested and cancelled by the
//! organizer's admins; listed for every staff session).
//!
//! | request | does |
//! |---|---|
//! | `GET /staff/messages?event=&after=` | the event's message history, 100 a page |
//! | `GET /staff/preview?event=&template=&lang=` | a message as customers get it (a sample signup) |
//! | `POST /staff/test` | sends it to one address as a test (admins) |
//! | `GET /staff/broadcasts?event=` | the messages to the whole list, and (admins) the form for one |
//! | `POST /staff/broadcast` | `do`: preview, test, schedule or cancel (admins) |

use bytes::Bytes;
use http::header;
use http::request::Parts;
use http::{Response, StatusCode};

use super::super::compose::deadline_text;
use super::super::i18n::{Arg, Tr};
use super::super::pages::{
    BroadcastFields, BroadcastRow, StaffBroadcastsPage, StaffMessagesPage, StaffPreviewPage,
};
use super::super::usecases::broadcast::{BroadcastProblem, Listed};
use super::super::usecases::preview::Template;
use super::super::usecases::staff::StaffSession;
use super::super::{Unavailable, Waitlist};
use super::staff_list::staff_read;
use super::*;
use crate::app::context::RequestContext;
use crate::core::waitlist::broadcast::{Audience, Broadcast, Draft, Purpose, Text, When};
use crate::core::waitlist::form::Form;
use crate::core::waitlist::link::StaffRole;
use crate::core::waitlist::{Lang, WaitlistSettings};
use crate::ports::store::Store;

/// The templates staff may preview, in the order the form offers them.
const TEMPLATES: [Template; 5] =
    [Template::Confirm, Template::Confirmed, Template::Already, Template::Offer, Template::Erased];

/// When `message` goes, in the page's language.
fn when_words(tr: &Tr, message: &Broadcast) -> String {
    match message.when() {
        When::Now => tr.t("staff-broadcast-when-now"),
        When::At(at) => tr.with("staff-broadcast-when-at", &[("time", Arg::Text(&deadline_text(at)))]),
        When::BeforeStart(d) => {
            let duration = humantime::format_duration(std::time::Duration::from_secs(d)).to_string();
            tr.with("staff-broadcast-when-before", &[("duration", Arg::Text(&duration))])
        }
    }
}

/// Where a message to the list stands, in the page's language.
fn status_words(tr: &Tr, listed: &Listed) -> String {
    tr.t(&format!("broadcast-status-{}", listed.status()))
}

/// The form's fields of a post to `POST /staff/broadcast`.
fn broadcast_fields(form: &Form) -> BroadcastFields {
    let field = |name: &str| form.get(name).unwrap_or_default().to_owned();
    BroadcastFields {
        lang: field("lang"),
        audience: field("audience"),
        purpose: field("purpose"),
        only_lang: form.get("only_lang") == Some("yes"),
        subject: field("subject"),
        body: field("body"),
        when: field("when"),
        at: field("at"),
        before: field("before"),
        to: field("to"),
    }
}

/// The message the form's fields write (its checks name what is wrong), in its text's
/// language; `None` for a language that is no language.
fn draft_of(fields: &BroadcastFields) -> Option<(Lang, Draft)> {
    let lang = Lang::parse(&fields.lang)?;
    let audience = match fields.audience.as_str() {
        "waiting" => Some(Audience::Waiting),
        "confirmed" => Some(Audience::Confirmed),
        _ => None,
    };
    let purpose = match fields.purpose.as_str() {
        "service" => Some(Purpose::Service),
        "news" => Some(Purpose::News),
        _ => None,
    };
    let text = Text { subject: fields.subject.clone(), body: fields.body.clone() };
    // A browser's `datetime-local` has no seconds.
    let at = match fields.at.trim() {
        t if t.len() == 16 => format!("{t}:00Z"),
        t => t.to_owned(),
    };
    let draft = Draft {
        audience,
        purpose,
        texts: [(lang, text)].into_iter().collect(),
        languages: if fields.only_lang { vec![lang] } else { Vec::new() },
        at: (fields.when == "at").then_some(at),
        before_start: (fields.when == "before").then(|| fields.before.clone()),
    };
    Some((lang, draft))
}

impl<S: Store + Clone> Waitlist<S> {
    /// `GET /staff/messages`: the event's message history, read as the admin API reads it (and
    /// audited the same way, as the box office's).
    pub(in crate::app::waitlist) async fn staff_messages(
        &self,
        head: &Parts,
    ) -> Result<Response<Bytes>, Unavailable> {
        let (event, session) = match self.staff_event(head, query_param(head, "event")).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let after = query_param(head, "after").and_then(|a| a.parse().ok()).unwrap_or(0);
        let admin = crate::app::admin::Admin::new(self.ports.clone(), None);
        let who = session.principal();
        let page = match staff_read(admin.messages(&who, &event, after, 100).await)? {
            Ok(p) => p,
            Err(refused) => return Ok(refused),
        };
        let lang = self.lang_for(head, None, &Lang::ALL, None);
        let tr = Tr::new(lang);
        let settings = self.settings(&event).await?.unwrap_or_else(|| WaitlistSettings::new(&event));
        let mount = &self.config.mount;
        let title = tr.with("staff-messages-title", &[("event", Arg::Text(&settings.title))]);
        let path = format!("{mount}/staff/messages?event={event}&after={after}");
        let rows = page
            .messages
            .into_iter()
            .map(|m| {
                let status = match &m.settled {
                    Some(at) => format!("{} ({at})", m.status),
                    None => m.status.to_owned(),
                };
                let template = match m.channel {
                    crate::app::waitlist::history::Channel::Email => m.template,
                    crate::app::waitlist::history::Channel::Sms => format!("{} (SMS)", m.template),
                };
                (m.number, m.to, template, status, m.queued)
            })
            .collect();
        let view = StaffMessagesPage {
            page: self.page(lang, title, &path, &Lang::ALL, None),
            signed_in: tr.with(session.signed_in_message(), &[("organizer", Arg::Text(&session.name))]),
            list_href: format!("{mount}/staff/list?event={event}"),
            rows,
            more_href: page.next.map(|n| format!("{mount}/staff/messages?event={event}&after={n}")),
            preview_action: format!("{mount}/staff/preview"),
            broadcasts_href: format!("{mount}/staff/broadcasts?event={event}"),
            event: event.clone(),
            templates: TEMPLATES.iter().map(|t| t.as_str()).collect(),
            languages: settings.languages.iter().map(|l| l.code()).collect(),
        };
        Ok(html(StatusCode::OK, askama::Template::render(&view)))
    }

    /// `GET /staff/preview?event=&template=&lang=`: a message as customers get it, filled from
    /// a sample signup; for admins, a form that sends it as a test.
    pub(in crate::app::waitlist) async fn staff_preview(
        &self,
        head: &Parts,
    ) -> Result<Response<Bytes>, Unavailable> {
        let (event, session) = match self.staff_event(head, query_param(head, "event")).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let template = query_param(head, "template").unwrap_or_default();
        let lang = query_param(head, "lang").unwrap_or_default();
        self.preview_page(head, &event, &session, &template, &lang, None).await
    }

    /// `POST /staff/test`: sends the previewed message to one address as a test (admins).
    pub(in crate::app::waitlist) async fn staff_test(
        &self,
        context: &RequestContext,
        head: &Parts,
        form: &Form,
    ) -> Result<Response<Bytes>, Unavailable> {
        let lang = self.lang_for(head, form.get("ui"), &Lang::ALL, None);
        let (event, session) = match self.staff_post(context, head, form, lang).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let tr = Tr::new(lang);
        let (template, message_lang) =
            (form.get("template").unwrap_or_default(), form.get("lang").unwrap_or_default());
        let outcome = match (Self::template_named(template), Lang::parse(message_lang), session.role) {
            (_, _, StaffRole::BoxOffice) => tr.t("staff-test-admins"),
            (Some(t), Some(l), StaffRole::Admin) => {
                let (to, by) = (form.get("to").unwrap_or_default().trim(), session.principal().label());
                match self.test_send(&event, t, l, to, &by).await? {
                    Ok(number) => tr.with(
                        "staff-test-sent",
                        &[("number", Arg::Number(number)), ("template", Arg::Text(t.as_str()))],
                    ),
                    Err(problem) => tr.with("staff-failed", &[("reason", Arg::Text(&problem.to_string()))]),
                }
            }
            _ => return Ok(error_response(StatusCode::BAD_REQUEST)),
        };
        self.preview_page(head, &event, &session, template, message_lang, Some(outcome)).await
    }

    fn template_named(name: &str) -> Option<Template> {
        TEMPLATES.iter().copied().find(|t| t.as_str() == name)
    }

    async fn preview_page(
        &self,
        head: &Parts,
        event: &str,
        session: &StaffSession,
        template: &str,
        message_lang: &str,
        outcome: Option<String>,
    ) -> Result<Response<Bytes>, Unavailable> {
        let (Some(t), Some(l)) = (Self::template_named(template), Lang::parse(message_lang)) else {
            return Ok(error_response(StatusCode::BAD_REQUEST));
        };
        let preview = match self.preview_message(event, t, l, None).await? {
            Ok(p) => p,
            Err(_) => return Ok(error_response(StatusCode::BAD_REQUEST)), // a language the event does not offer
        };
        let lang = self.lang_for(head, None, &Lang::ALL, None);
        let tr = Tr::new(lang);
        let mount = &self.config.mount;
        let (csrf, set_cookie) = self.csrf(head)?;
        let test = (session.role == StaffRole::Admin).then(|| {
            let hidden = vec![
                ("csrf", csrf),
                ("event", event.to_owned()),
                ("template", t.as_str().to_owned()),
                ("lang", l.code().to_owned()),
                ("ui", lang.code().to_owned()),
            ];
            (format!("{mount}/staff/test"), hidden)
        });
        let title = tr.with(
            "staff-preview-title",
            &[("template", Arg::Text(t.as_str())), ("lang", Arg::Text(l.code()))],
        );
        let path = format!("{mount}/staff/preview?event={event}&template={}&lang={}", t.as_str(), l.code());
        let view = StaffPreviewPage {
            page: self.page(lang, title, &path, &Lang::ALL, None),
            signed_in: tr.with(session.signed_in_message(), &[("organizer", Arg::Text(&session.name))]),
            messages_href: format!("{mount}/staff/messages?event={event}"),
            outcome,
            subject: preview.subject,
            text: preview.text,
            test,
        };
        let mut r = html(StatusCode::OK, askama::Template::render(&view));
        if let Some(c) = set_cookie {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
        Ok(r)
    }

    /// `GET /staff/broadcasts?event=`: the event's messages to the whole list, and the form
    /// that writes one (the organizer's admins).
    pub(in crate::app::waitlist) async fn staff_broadcasts(
        &self,
        head: &Parts,
    ) -> Result<Response<Bytes>, Unavailable> {
        let (event, session) = match self.staff_event(head, query_param(head, "event")).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let lang = self.lang_for(head, None, &Lang::ALL, None);
        self.broadcasts_page(head, &event, &session, lang, BroadcastFields::default(), None, None).await
    }

    /// `POST /staff/broadcast`: `do` is `preview`, `test` (to `to`), `schedule` or `cancel`
    /// (message `number`); the organizer's admins only. Answers the page with what came of it.
    pub(in crate::app::waitlist) async fn staff_broadcast(
        &self,
        context: &RequestContext,
        head: &Parts,
        form: &Form,
    ) -> Result<Response<Bytes>, Unavailable> {
        let lang = self.lang_for(head, form.get("ui"), &Lang::ALL, None);
        let (event, session) = match self.staff_post(context, head, form, lang).await? {
            Ok(found) => found,
            Err(answer) => return Ok(answer),
        };
        let tr = Tr::new(lang);
        let mut fields = broadcast_fields(form);
        let failed = |reason: &dyn std::fmt::Display| {
            Some((tr.with("staff-failed", &[("reason", Arg::Text(&reason.to_string()))]), true))
        };
        if session.role != StaffRole::Admin {
            let outcome = Some((tr.t("staff-broadcast-admins"), true));
            return self.broadcasts_page(head, &event, &session, lang, fields, outcome, None).await;
        }
        let by = session.principal().label();
        let action = form.get("do").unwrap_or_default();
        if action == "cancel" {
            let number = form.get("number").and_then(|n| n.parse().ok()).unwrap_or(0);
            let outcome = match self.cancel_broadcast(&event, number, &by).await? {
                Ok(_) => {
                    Some((tr.with("staff-broadcast-cancelled", &[("number", Arg::Number(number))]), false))
                }
                Err(problem) => failed(&problem),
            };
            let fields = BroadcastFields::default();
            return self.broadcasts_page(head, &event, &session, lang, fields, outcome, None).await;
        }
        let Some((message_lang, draft)) = draft_of(&fields) else {
            let outcome =
                failed(&BroadcastProblem::Invalid(format!("lang: `{}` is not a language", fields.lang)));
            return self.broadcasts_page(head, &event, &session, lang, fields, outcome, None).await;
        };
        let (outcome, preview) = match action {
            "preview" => match self.preview_broadcast(&event, &draft, message_lang, None).await? {
                Ok(p) => {
                    let reach = tr.with("staff-broadcast-reach", &[("count", Arg::Number(p.recipients))]);
                    (None, Some((p.subject, p.text, reach)))
                }
                Err(problem) => (failed(&problem), None),
            },
            "test" => {
                match self.test_send_broadcast(&event, &draft, message_lang, fields.to.trim(), &by).await? {
                    Ok(number) => {
                        let sent = tr.with(
                            "staff-test-sent",
                            &[("number", Arg::Number(number)), ("template", Arg::Text("message"))],
                        );
                        (Some((sent, false)), None)
                    }
                    Err(problem) => (failed(&problem), None),
                }
            }
            "schedule" => match self.schedule_broadcast(&event, &draft, &by).await? {
                Ok(listed) => {
                    let (when, status) = (when_words(&tr, &listed.message), status_words(&tr, &listed));
                    let scheduled = tr.with(
                        "staff-broadcast-scheduled",
                        &[
                            ("number", Arg::Number(listed.message.number)),
                            ("status", Arg::Text(&status)),
                            ("when", Arg::Text(&when)),
                        ],
                    );
                    fields = BroadcastFields::default();
                    (Some((scheduled, false)), None)
                }
                Err(problem) => (failed(&problem), None),
            },
            _ => return Ok(error_response(StatusCode::BAD_REQUEST)),
        };
        self.broadcasts_page(head, &event, &session, lang, fields, outcome, preview).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn broadcasts_page(
        &self,
        head: &Parts,
        event: &str,
        session: &StaffSession,
        lang: Lang,
        mut fields: BroadcastFields,
        outcome: Option<(String, bool)>,
        preview: Option<(String, String, String)>,
    ) -> Result<Response<Bytes>, Unavailable> {
        let tr = Tr::new(lang);
        let settings = self.settings(event).await?.unwrap_or_else(|| WaitlistSettings::new(event));
        let admin = session.role == StaffRole::Admin;
        let rows = self
            .broadcasts(event)
            .await?
            .iter()
            .map(|l| {
                let m = &l.message;
                let subjects: Vec<&str> = m.texts.values().map(|t| t.subject.as_str()).collect();
                BroadcastRow {
                    number: m.number,
                    status: status_words(&tr, l),
                    audience: tr.t(&format!("audience-{}", m.audience.as_str())),
                    purpose: tr.t(&format!("purpose-{}", m.purpose.as_str())),
                    when: when_words(&tr, m),
                    subject: subjects.join(" / "),
                    queued: m.queued,
                    cancellable: admin && !m.is_done() && !l.cancelled,
                }
            })
            .collect();
        let mount = &self.config.mount;
        let (csrf, set_cookie) = self.csrf(head)?;
        let form = admin.then(|| {
            let hidden = vec![("csrf", csrf), ("event", event.to_owned()), ("ui", lang.code().to_owned())];
            (format!("{mount}/staff/broadcast"), hidden)
        });
        if fields.lang.is_empty() {
            fields.lang = settings.languages.first().copied().unwrap_or(Lang::En).code().to_owned();
        }
        let title = tr.with("staff-broadcasts-title", &[("event", Arg::Text(&settings.title))]);
        let path = format!("{mount}/staff/broadcasts?event={event}");
        let view = StaffBroadcastsPage {
            page: self.page(lang, title, &path, &Lang::ALL, None),
            signed_in: tr.with(session.signed_in_message(), &[("organizer", Arg::Text(&session.name))]),
            messages_href: format!("{mount}/staff/messages?event={event}"),
            outcome,
            rows,
            form,
            fields,
            languages: settings.languages.iter().map(|l| l.code()).collect(),
            preview,
        };
        let mut r = html(StatusCode::OK, askama::Template::render(&view));
        if let Some(c) = set_cookie {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;
    use crate::app::admin::{Admin, Principal};
    use crate::app::waitlist::testing::{site, text, Browser};
    use crate::app::waitlist::web::staff_list::tests::staff;
    use crate::core::text::url_component;
    use crate::testkit::block_on;

    #[test]
    fn staff_preview_any_template_and_admins_send_it_as_a_test_marked_in_the_history() {
        let site = site();
        // The box office previews, and is told that tests are the admins'.
        let mut b = staff(&site);
        let messages = site.send(Method::GET, "/waitlist/staff/messages?event=gala", &mut b, "", None);
        assert!(text(&messages).contains("action=\"/waitlist/staff/preview\""), "{}", text(&messages));
        let page = site.send(
            Method::GET,
            "/waitlist/staff/preview?event=gala&template=offer&lang=de",
            &mut b,
            "",
            None,
        );
        assert_eq!(page.status(), StatusCode::OK);
        assert!(text(&page).contains("Alex Sample") && text(&page).contains("Karten"), "{}", text(&page));
        assert!(!text(&page).contains("name=\"to\""), "no test form for the box office");
        site.send(Method::GET, "/waitlist/gala", &mut b, "", None); // a form's token
        let body =
            format!("csrf={}&event=gala&template=offer&lang=de&ui=en&to=me%40harbour.example", b.token);
        let refused = site.send(Method::POST, "/waitlist/staff/test", &mut b, &body, None);
        assert!(text(&refused).contains("admins send tests"), "{}", text(&refused));
        for bad in ["template=nonsense&lang=en", "template=confirm&lang=xx", "template=confirm"] {
            let page = site.send(
                Method::GET,
                &format!("/waitlist/staff/preview?event=gala&{bad}"),
                &mut b,
                "",
                None,
            );
            assert_eq!(page.status(), StatusCode::BAD_REQUEST, "{bad}");
        }

        // An admin of the organizer sends it as a test: in the outbox and the history.
        let admin = Admin::new(site.rig.ports(), None);
        let token = block_on(admin.rotate_token(&Principal::Operator, "harbour")).unwrap().token;
        let mut boss = Browser::default();
        site.send(Method::GET, "/waitlist/staff?event=gala", &mut boss, "", None);
        let form = format!("csrf={}&token={}&event=gala", boss.token, url_component(&token));
        site.send(Method::POST, "/waitlist/staff", &mut boss, &form, None);
        let page = site.send(
            Method::GET,
            "/waitlist/staff/preview?event=gala&template=confirm&lang=en",
            &mut boss,
            "",
            None,
        );
        assert!(text(&page).contains("name=\"to\""), "{}", text(&page));
        let mails = site.mails();
        let body =
            format!("csrf={}&event=gala&template=confirm&lang=en&ui=en&to=me%40harbour.example", boss.token);
        let sent = site.send(Method::POST, "/waitlist/staff/test", &mut boss, &body, None);
        assert!(text(&sent).contains("test:confirm"), "{}", text(&sent));
        assert_eq!(site.mails(), mails + 1);
        assert_eq!(site.outbox().pop().unwrap().to(), "me@harbour.example");
        let history = site.send(Method::GET, "/waitlist/staff/messages?event=gala", &mut boss, "", None);
        assert!(text(&history).contains("test:confirm") && text(&history).contains("me@harbour.example"));
        let injected = format!(
            "csrf={}&event=gala&template=confirm&lang=en&ui=en&to=a%40b.c%0D%0ABcc%3A+x%40y.z",
            boss.token
        );
        let refused = site.send(Method::POST, "/waitlist/staff/test", &mut boss, &injected, None);
        assert!(text(&refused).contains("not an e-mail address"), "{}", text(&refused));
        assert_eq!(site.mails(), mails + 1, "nothing more queued");
    }

    #[test]
    fn admins_preview_test_schedule_and_cancel_messages_to_the_whole_list_and_the_box_office_reads_them() {
        let site = site();
        let ada = site.in_line("ada@example.com", None, 2);
        let mut b = staff(&site);
        let page = site.send(Method::GET, "/waitlist/staff/broadcasts?event=gala", &mut b, "", None);
        assert!(text(&page).contains("Only the organizer"), "{}", text(&page));
        site.send(Method::GET, "/waitlist/staff/list?event=gala", &mut b, "", None); // a form's token
        let body = format!("csrf={}&event=gala&ui=en&do=schedule&lang=en&audience=waiting&purpose=service&subject=Hi&body=x&when=now", b.token);
        let refused = site.send(Method::POST, "/waitlist/staff/broadcast", &mut b, &body, None);
        assert!(text(&refused).contains("Only the organizer"), "{}", text(&refused));
        assert!(
            block_on(site.waitlist.broadcasts("gala")).unwrap().is_empty(),
            "the box office wrote nothing"
        );

        let admin = Admin::new(site.rig.ports(), None);
        let token = block_on(admin.rotate_token(&Principal::Operator, "harbour")).unwrap().token;
        let mut boss = Browser::default();
        site.send(Method::GET, "/waitlist/staff?event=gala", &mut boss, "", None);
        let form = format!("csrf={}&token={}&event=gala", boss.token, url_component(&token));
        site.send(Method::POST, "/waitlist/staff", &mut boss, &form, None);
        let page = site.send(Method::GET, "/waitlist/staff/broadcasts?event=gala", &mut boss, "", None);
        assert!(text(&page).contains("name=\"subject\""), "the form: {}", text(&page));
        let post = |boss: &mut Browser, fields: &str| {
            let body = format!("csrf={}&event=gala&ui=en&lang=en&audience=waiting&{fields}", boss.token);
            site.send(Method::POST, "/waitlist/staff/broadcast", boss, &body, None)
        };
        let message = "purpose=service&subject=%3Cb%3EDoors%3C%2Fb%3E+move&body=Doors+open+at+18%3A30.";
        let preview = post(&mut boss, &format!("do=preview&when=now&{message}"));
        let shown = text(&preview);
        assert!(
            shown.contains("It would reach 1 signups now.") && shown.contains("Doors open at 18:30."),
            "{shown}"
        );
        assert!(shown.contains("&#60;b&#62;Doors") && !shown.contains("<b>Doors"), "escaped: {shown}");
        let mails = site.mails();
        let tested = post(&mut boss, &format!("do=test&when=now&to=me%40harbour.example&{message}"));
        assert!(text(&tested).contains("test:message"), "{}", text(&tested));
        assert_eq!(site.mails(), mails + 1);

        // Bad input is named and stores nothing.
        for (fields, says) in [
            ("do=schedule&when=at&at=2020-01-01T10:00", "past"),
            ("do=schedule&when=before&before=24h", "starts"),
            ("do=schedule&when=now&subject=a%0D%0ABcc%3A+x&body=b&purpose=service", "subject"),
            ("do=schedule&when=now&subject=a&body=b", "purpose"),
        ] {
            let fields =
                if fields.contains("subject=") { fields.to_owned() } else { format!("{fields}&{message}") };
            let answer = post(&mut boss, &fields);
            assert!(text(&answer).contains(says), "{fields}: {}", text(&answer));
        }
        assert!(block_on(site.waitlist.broadcasts("gala")).unwrap().is_empty());

        let later = humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(site.waitlist.now() + 7200),
        )
        .to_string();
        let scheduled = post(&mut boss, &format!("do=schedule&when=at&at={}&{message}", &later[..16]));
        assert!(text(&scheduled).contains("Message 1 is scheduled"), "{}", text(&scheduled));
        let now = post(&mut boss, &format!("do=schedule&when=now&{message}"));
        assert!(text(&now).contains("Message 2 is scheduled (now)"), "{}", text(&now));
        let cancelled = post(&mut boss, "do=cancel&number=1");
        assert!(text(&cancelled).contains("Message 1 is cancelled."), "{}", text(&cancelled));
        block_on(site.waitlist.send_broadcasts()).unwrap();
        let history = site.send(Method::GET, "/waitlist/staff/messages?event=gala", &mut b, "", None);
        assert!(text(&history).contains("message:2") && text(&history).contains("ada@example.com"));
        let listed = site.send(Method::GET, "/waitlist/staff/broadcasts?event=gala", &mut b, "", None);
        let listed = text(&listed);
        assert!(listed.contains("cancelled") && listed.contains("sent"), "{listed}");
        let german =
            site.send(Method::GET, "/waitlist/staff/broadcasts?event=gala&lang=de", &mut b, "", None);
        let german = text(&german);
        assert!(
            german.contains("abgebrochen") && german.contains("gesendet") && german.contains("jetzt"),
            "{german}"
        );
        let _ = ada;
    }
}
