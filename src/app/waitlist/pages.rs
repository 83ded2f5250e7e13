//! The waitlist's pages and mails, rendered from the askama templates in `templates/` (checked
//! at compile time, HTML escaped by the engine) with the texts of [`super::i18n`].

use askama::Template;

use super::i18n::{Arg, Tr};
use crate::core::waitlist::Lang;

impl Tr {
    /// Message `id` with one text argument (for templates).
    pub fn with_text(&self, id: &str, name: &str, value: &str) -> String {
        self.with(id, &[(name, Arg::Text(value))])
    }
}

/// One entry of the language switch.
pub struct LangLink {
    /// The code.
    pub code: &'static str,
    /// The language's own name.
    pub name: &'static str,
    /// The same page in that language.
    pub href: String,
    /// Whether it is the page's language.
    pub current: bool,
}

/// What every page has.
pub struct Page {
    /// The texts.
    pub tr: Tr,
    /// The language code (`<html lang>`).
    pub lang: &'static str,
    /// The page title (and its heading).
    pub title: String,
    /// The language switch.
    pub switch: Vec<LangLink>,
    /// The event page to go back to, if any.
    pub back: Option<String>,
}

impl Page {
    /// A page in `lang` titled `title`; `path` is the page's own path, for the switch (a `lang`
    /// query parameter is added), and `offered` the languages to offer.
    pub fn new(lang: Lang, title: String, path: &str, offered: &[Lang]) -> Self {
        let sep = if path.contains('?') { '&' } else { '?' };
        let switch = offered
            .iter()
            .map(|l| LangLink {
                code: l.code(),
                name: l.native_name(),
                href: format!("{path}{sep}lang={}", l.code()),
                current: *l == lang,
            })
            .collect();
        Self { tr: Tr::new(lang), lang: lang.code(), title, switch, back: None }
    }
}

/// A field's error, for the form.
pub struct ShownError {
    /// The field's id.
    pub field: &'static str,
    /// The message.
    pub text: String,
}

/// The values typed, shown again after an error.
#[derive(Default)]
pub struct Values {
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Tickets.
    pub tickets: String,
    /// Staff: box-office address used.
    pub box_office_address: bool,
    /// Staff: note.
    pub note: String,
    /// "Keep me informed" ticked.
    pub informed: bool,
}

/// The signup form.
#[derive(Template)]
#[template(path = "form.html")]
pub struct FormPage {
    /// Common parts.
    pub page: Page,
    /// The sold-out text.
    pub intro: String,
    /// Where the form posts.
    pub action: String,
    /// The CSRF token.
    pub csrf: String,
    /// Most tickets.
    pub max_tickets: u32,
    /// "1 to 4".
    pub tickets_hint: String,
    /// What was typed.
    pub values: Values,
    /// What is wrong.
    pub errors: Vec<ShownError>,
    /// The box-office fields, when a staff session fills the form in.
    pub staff: Option<StaffFields>,
}

/// What the form shows box-office staff.
pub struct StaffFields {
    /// The staff's organizer, by name.
    pub organizer: String,
    /// The message saying who is signed in (box office or admin).
    pub signed_in: &'static str,
    /// The organizer's box-office address, if set up (else no checkbox).
    pub box_office_address: Option<String>,
    /// The event's staff list.
    pub list_href: String,
}

/// The box-office sign-in page, or the signed-in staff's page with its sign-out button.
#[derive(Template)]
#[template(path = "staff.html")]
pub struct StaffPage {
    /// Common parts.
    pub page: Page,
    /// Paragraphs.
    pub paragraphs: Vec<String>,
    /// Why the last sign-in failed.
    pub error: Option<String>,
    /// Where the sign-in form posts.
    pub action: String,
    /// The CSRF token.
    pub csrf: String,
    /// The event whose form to open after signing in.
    pub event: Option<String>,
    /// `list`: open the event's staff list after signing in, not its form.
    pub next: Option<String>,
    /// The sign-out button, when signed in (instead of the sign-in form).
    pub sign_out: Option<ButtonForm>,
}

impl FormPage {
    /// The error shown at `field`, if any.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.text.as_str())
    }
}

/// A form of one button (confirm, cancel, sign out).
pub struct ButtonForm {
    /// Where it posts.
    pub action: String,
    /// Hidden fields.
    pub hidden: Vec<(&'static str, String)>,
    /// Text above the button.
    pub hint: Option<String>,
    /// The button's text.
    pub button: String,
    /// A less prominent button.
    pub secondary: bool,
}

/// A page of paragraphs, a place, a link or one button.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// Common parts.
    pub page: Page,
    /// Paragraphs.
    pub paragraphs: Vec<String>,
    /// "Your place in line: 3".
    pub place: Option<String>,
    /// A link and its text.
    pub link: Option<(String, String)>,
    /// A button.
    pub form: Option<ButtonForm>,
}

/// One row of a list of signups.
pub struct SignupRow {
    /// The event's title.
    pub event: String,
    /// The status, in words.
    pub status: String,
    /// Tickets.
    pub tickets: u32,
    /// Place in line, when confirmed.
    pub place: Option<u64>,
    /// The cancel button, when it can still be cancelled.
    pub cancel: Option<ButtonForm>,
    /// The open offer's page and the link's text, when it holds one.
    pub offer: Option<(String, String)>,
}

/// "My signups" and a guest's status page.
#[derive(Template)]
#[template(path = "signups.html")]
pub struct SignupsPage {
    /// Common parts.
    pub page: Page,
    /// Paragraphs above the table.
    pub paragraphs: Vec<String>,
    /// A link below them and its text (an open offer's page).
    pub link: Option<(String, String)>,
    /// The signups.
    pub rows: Vec<SignupRow>,
    /// The customer's own data: download and erase (where the organizer switched it on).
    pub data: Option<DataSection>,
    /// Whether the customer gets news, and the button that changes it (a signup's own page).
    pub news: Option<(String, ButtonForm)>,
}

/// "Your data": a download link and an erase button.
pub struct DataSection {
    /// The heading.
    pub heading: String,
    /// What they do.
    pub hint: String,
    /// The download's address and text.
    pub download: (String, String),
    /// The erase button.
    pub erase: ButtonForm,
}

impl SignupsPage {
    /// Whether any row has a cancel button.
    pub fn any_cancellable(&self) -> bool {
        self.rows.iter().any(|r| r.cancel.is_some())
    }
}

/// A mail's parts, rendered as text and as HTML.
pub struct MailParts {
    /// The language.
    pub lang: &'static str,
    /// Subject.
    pub subject: String,
    /// "Hello Ada,".
    pub greeting: String,
    /// What happened.
    pub intro: String,
    /// The organizer's own text.
    pub organizer_text: Option<String>,
    /// Links: text and address.
    pub actions: Vec<(String, String)>,
    /// Why the mail came.
    pub footer: String,
    /// Where a one-click unsubscribe posts (RFC 8058), for news: the mail carries it in its
    /// `List-Unsubscribe` headers.
    pub unsubscribe: Option<String>,
}

#[derive(Template)]
#[template(path = "mail.txt")]
struct MailText<'a> {
    greeting: &'a str,
    intro: &'a str,
    organizer_text: Option<&'a str>,
    actions: &'a [(String, String)],
    footer: &'a str,
}

#[derive(Template)]
#[template(path = "mail.html")]
struct MailHtml<'a> {
    lang: &'a str,
    subject: &'a str,
    greeting: &'a str,
    intro: &'a str,
    organizer_text: Option<&'a str>,
    actions: &'a [(String, String)],
    footer: &'a str,
}

impl MailParts {
    /// The plain-text and HTML bodies.
    pub fn render(&self) -> Result<(String, String), askama::Error> {
        let text = MailText {
            greeting: &self.greeting,
            intro: &self.intro,
            organizer_text: self.organizer_text.as_deref(),
            actions: &self.actions,
            footer: &self.footer,
        }
        .render()?;
        let html = MailHtml {
            lang: self.lang,
            subject: &self.subject,
            greeting: &self.greeting,
            intro: &self.intro,
            organizer_text: self.organizer_text.as_deref(),
            actions: &self.actions,
            footer: &self.footer,
        }
        .render()?;
        Ok((text, html))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_users_typed() {
        let mut form = FormPage {
            page: Page::new(Lang::En, "Waitlist: <b>gala</b>".into(), "/waitlist/gala", &Lang::ALL),
            intro: "intro".into(),
            action: "/waitlist/gala".into(),
            csrf: "t\"ok".into(),
            max_tickets: 4,
            tickets_hint: "1 to 4".into(),
            values: Values {
                name: "<script>alert(1)</script>".into(),
                email: "\"><img>".into(),
                ..Default::default()
            },
            errors: vec![ShownError { field: "email", text: "bad".into() }],
            staff: None,
        };
        let html = form.render().unwrap();
        assert!(!html.contains("<script>alert") && !html.contains("\"><img>") && !html.contains("<b>gala"));
        assert!(html.contains("&#60;script&#62;"), "escaped, not dropped");
        assert!(html.contains("aria-invalid=\"true\""), "the wrong field is marked");
        assert!(!html.contains("name=\"note\""), "customers see no staff fields");
        form.staff = Some(StaffFields {
            organizer: "acme".into(),
            signed_in: "staff-signed-in",
            box_office_address: None,
            list_href: "/l".into(),
        });
        let staff = form.render().unwrap();
        assert!(
            staff.contains("name=\"note\"") && !staff.contains("box_office_address"),
            "no address set up"
        );
        form.staff = Some(StaffFields {
            organizer: "acme".into(),
            signed_in: "staff-signed-in-admin",
            box_office_address: Some("box@a.example".into()),
            list_href: "/l".into(),
        });
        let staff = form.render().unwrap();
        assert!(staff.contains("box_office_address") && staff.contains("box@a.example"));
        for lang in ["nl", "de", "nb"] {
            assert!(html.contains(&format!("?lang={lang}")), "the switch offers {lang}");
        }
        assert!(html.contains("aria-current=\"true\"><strong>English"), "the page's own language is marked");
    }

    #[test]
    fn mails_render_in_both_parts() {
        let parts = MailParts {
            lang: "en",
            subject: "Confirm".into(),
            greeting: "Hello <Ada>,".into(),
            intro: "intro".into(),
            organizer_text: Some("Doors open at 8.\nBring ID.".into()),
            actions: vec![("Confirm".into(), "https://shop.example/waitlist/confirm?t=a.b&x=1".into())],
            footer: "footer".into(),
            unsubscribe: None,
        };
        let (text, html) = parts.render().unwrap();
        assert!(text.contains("Hello <Ada>,") && text.contains("t=a.b&x=1") && text.contains("Bring ID."));
        assert!(
            html.contains("Hello &#60;Ada&#62;,")
                && html.contains("t=a.b&#38;x=1")
                && html.contains("<p>Bring ID.</p>")
        );
    }
}

/// One signup on the staff list, in words.
pub struct StaffListRow {
    /// The signup's id (the forms name it).
    pub id: String,
    /// Its place, when waiting.
    pub place: Option<u64>,
    /// The customer's name, address and phone.
    pub name: String,
    /// See [`StaffListRow::name`].
    pub email: String,
    /// See [`StaffListRow::name`].
    pub phone: Option<String>,
    /// Its status, in words.
    pub status: String,
    /// Its latest offer, in words.
    pub offer: Option<String>,
    /// When its customer was marked contacted, in words.
    pub contacted: Option<String>,
    /// Tickets.
    pub tickets: u32,
    /// Staff's note.
    pub note: Option<String>,
    /// Whether its mail can be sent again (pending or waiting).
    pub can_resend: bool,
    /// Whether it can receive an offer (waiting in line).
    pub can_offer: bool,
    /// Whether it can be cancelled (pending or waiting).
    pub can_cancel: bool,
    /// Its data can be erased (not erased yet).
    pub can_erase: bool,
}

/// Staff's list of an event: search, rows with their actions, the export, the next page.
#[derive(Template)]
#[template(path = "staff_list.html")]
pub struct StaffListPage {
    /// Common parts.
    pub page: Page,
    /// "Signed in as box-office staff of …".
    pub signed_in: String,
    /// What the last action came to.
    pub message: Option<String>,
    /// Whether it failed.
    pub failed: bool,
    /// The event.
    pub event: String,
    /// The search.
    pub query: String,
    /// Where the search goes.
    pub list_action: String,
    /// Where the actions post.
    pub act_action: String,
    /// The hidden fields every action carries (CSRF token, event, language, the list's place).
    pub hidden: Vec<(&'static str, String)>,
    /// The CSV download.
    pub export_href: String,
    /// The event's message history.
    pub messages_href: String,
    /// The rows.
    pub rows: Vec<StaffListRow>,
    /// The next page.
    pub more_href: Option<String>,
    /// The event's offer hours, the offer form's default.
    pub offer_hours: u32,
}

/// Staff's view of an event's message history: number, recipient, template, status, queued.
#[derive(Template)]
#[template(path = "staff_messages.html")]
pub struct StaffMessagesPage {
    /// Common parts.
    pub page: Page,
    /// "Signed in as box-office staff of …".
    pub signed_in: String,
    /// Back to the event's list.
    pub list_href: String,
    /// The messages, oldest first.
    pub rows: Vec<(u64, String, String, String, String)>,
    /// The next page.
    pub more_href: Option<String>,
    /// Where the preview form goes, and the event it is for.
    pub preview_action: String,
    /// The event's messages to the whole list.
    pub broadcasts_href: String,
    /// The event.
    pub event: String,
    /// The templates and languages to choose from.
    pub templates: Vec<&'static str>,
    /// The event's languages (codes).
    pub languages: Vec<&'static str>,
}

/// Staff's page of an event's messages to the whole list: each with where it stands, and (for
/// the organizer's admins) a cancel button on those not done and the form that writes one.
#[derive(Template)]
#[template(path = "staff_broadcasts.html")]
pub struct StaffBroadcastsPage {
    /// Common parts.
    pub page: Page,
    /// "Signed in as …".
    pub signed_in: String,
    /// Back to the event's messages.
    pub messages_href: String,
    /// What came of a post, and whether it failed.
    pub outcome: Option<(String, bool)>,
    /// The messages, in the order they were written.
    pub rows: Vec<BroadcastRow>,
    /// Where the form posts and its hidden fields (admins only).
    pub form: Option<(String, Vec<(&'static str, String)>)>,
    /// The form's values (kept when it comes back).
    pub fields: BroadcastFields,
    /// The event's languages (codes).
    pub languages: Vec<&'static str>,
    /// A preview of the form's message: subject, text, and how many it would reach now.
    pub preview: Option<(String, String, String)>,
}

/// One message to the list as staff's page shows it.
pub struct BroadcastRow {
    /// Its number.
    pub number: u64,
    /// Where it stands, in words.
    pub status: String,
    /// Who it is for, in words.
    pub audience: String,
    /// Whether it needs consent, in words.
    pub purpose: String,
    /// When it goes, in words.
    pub when: String,
    /// Its subjects, one per language.
    pub subject: String,
    /// Mails queued.
    pub queued: u64,
    /// Whether it can still be cancelled (and staff may).
    pub cancellable: bool,
}

/// The fields of staff's form for a message to the list.
#[derive(Debug, Clone, Default)]
pub struct BroadcastFields {
    /// The text's language.
    pub lang: String,
    /// `waiting` or `confirmed`.
    pub audience: String,
    /// `service` or `news`.
    pub purpose: String,
    /// Only to signups in the text's language.
    pub only_lang: bool,
    /// The subject.
    pub subject: String,
    /// The message.
    pub body: String,
    /// `now`, `at` or `before`.
    pub when: String,
    /// The time for `at` (`2027-03-01T18:00`, UTC).
    pub at: String,
    /// The duration for `before` (`24h`).
    pub before: String,
    /// Where a test goes.
    pub to: String,
}

/// Staff's preview of a message: its subject and text as a customer gets them, and (for admins)
/// a form that sends it to one address as a test.
#[derive(Template)]
#[template(path = "staff_preview.html")]
pub struct StaffPreviewPage {
    /// Common parts.
    pub page: Page,
    /// "Signed in as …".
    pub signed_in: String,
    /// Back to the event's messages.
    pub messages_href: String,
    /// What came of a test send, if one was made.
    pub outcome: Option<String>,
    /// The subject.
    pub subject: String,
    /// The text part.
    pub text: String,
    /// The test send's form (admins only): where it posts, and its hidden fields.
    pub test: Option<(String, Vec<(&'static str, String)>)>,
}
