//! Messages before customers see them: a preview of any template in any language, with the
//! organizer's text in place and the placeholders filled from a real signup or a sample one, and
//! a test send of it to one address, marked as a test in the event's history.

use serde::{Deserialize, Serialize};

use super::super::compose::{self, MailKind};
use super::super::Waitlist;
use crate::app::outbox::Message;
use crate::core::blacklist::audit::AuditAction;
use crate::core::waitlist::offer::{OfferOrigin, OfferStatus};
use crate::core::waitlist::{Lang, Offer, Signup, Status, WaitlistSettings};
use crate::ports::store::{Store, StoreError};

/// A template customers receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Template {
    /// "Confirm your place", with the confirmation link.
    Confirm,
    /// "You are on the waitlist", with the place.
    Confirmed,
    /// "You are already on the waitlist".
    Already,
    /// An offer of freed seats.
    Offer,
    /// "Your data is erased".
    Erased,
}

impl Template {
    /// Its name, as in the history (`test:` before it for a test send).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Confirmed => "confirmed",
            Self::Already => "already",
            Self::Offer => "offer",
            Self::Erased => "erased",
        }
    }
}

/// A message as a customer would receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct Preview {
    /// The template.
    pub template: Template,
    /// The language.
    pub lang: Lang,
    /// Filled from a real signup (its id), or from a sample one (null).
    pub signup: Option<String>,
    /// The subject.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// Why no preview or test could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreviewProblem {
    /// The event offers no such language.
    #[error("the event does not offer {0}")]
    Language(&'static str),
    /// No such signup (or its data is erased).
    #[error("no signup `{0}` with data at this event")]
    NoSignup(String),
    /// Not an address a mail can go to.
    #[error("to: not an e-mail address")]
    Address,
    /// The mail could not be composed.
    #[error("{0}")]
    Compose(String),
}

/// Whether `to` is an address a test may go to: one plain address, no CR/LF, spaces, list
/// separators or invisible characters.
pub(super) fn is_test_address(to: &str) -> bool {
    let plain = crate::core::email::CanonicalRules { strip_plus_tags: false, gmail_dots: false };
    let clean = !to.chars().any(|c| c.is_control() || c.is_whitespace() || "<>,;\"".contains(c));
    clean
        && !crate::core::email::has_invisible(to)
        && to.len() <= 254
        && crate::core::email::canonicalize(to, plain).is_ok()
}

impl<S: Store + Clone> Waitlist<S> {
    /// The signup a preview fills its placeholders from: `id`'s, or a sample one (Alex Sample,
    /// two tickets, first in line), in `lang` either way.
    pub(super) async fn preview_signup(
        &self,
        event: &str,
        id: Option<&str>,
        lang: Lang,
    ) -> Result<Result<Signup, PreviewProblem>, StoreError> {
        let mut signup = match id {
            Some(id) => match self.signup_record(event, id).await? {
                Some(s) if s.anonymised.is_none() => s,
                _ => return Ok(Err(PreviewProblem::NoSignup(id.to_owned()))),
            },
            None => Signup {
                id: "sample".into(),
                event: event.to_owned(),
                email: "alex.sample@example.com".into(),
                name: "Alex Sample".into(),
                phone: None,
                tickets: 2,
                lang,
                account: None,
                status: Status::Confirmed,
                created: self.now(),
                expires: self.now(),
                confirmed: Some(self.now()),
                cancelled: None,
                seq: Some(1),
                box_office: false,
                box_office_address: false,
                note: None,
                offer: None,
                anonymised: None,
                informed: false,
            },
        };
        signup.lang = lang;
        Ok(Ok(signup))
    }

    /// The parts of `template` for `signup` at `event` under `settings`.
    async fn template_parts(
        &self,
        template: Template,
        signup: &Signup,
        settings: &WaitlistSettings,
    ) -> Result<Result<crate::app::waitlist::pages::MailParts, PreviewProblem>, StoreError> {
        let place = match (signup.status, signup.seq, signup.id.as_str()) {
            (_, _, "sample") => Some(1),
            (Status::Confirmed, Some(seq), _) => Some(self.place(&signup.event, seq).await?),
            _ => None,
        };
        let kind = match template {
            Template::Confirm => MailKind::Confirm,
            Template::Confirmed => MailKind::Confirmed,
            Template::Already => MailKind::Already,
            Template::Erased => MailKind::Erased,
            Template::Offer => {
                let now = self.now();
                let link = settings.offer_link.as_deref().unwrap_or("/events/{event}?offer={code}");
                let offer = Offer {
                    number: 0,
                    event: signup.event.clone(),
                    signup: signup.id.clone(),
                    seq: signup.seq.unwrap_or(1),
                    tickets: signup.tickets,
                    status: OfferStatus::Open,
                    origin: OfferOrigin::Automatic,
                    made: now,
                    expires: now + settings.offer_secs(),
                    ended: None,
                    link: Some(format!(
                        "{}{}",
                        self.config().public_url,
                        link.replace("{event}", &signup.event).replace("{code}", "SAMPLE-CODE")
                    )),
                    text: None,
                };
                return Ok(compose::offer_parts(self, signup, &offer, settings, false)
                    .map_err(|e| PreviewProblem::Compose(e.to_string())));
            }
        };
        Ok(Ok(compose::mail_parts(self, kind, signup, settings, place)))
    }

    /// `template` of `event` in `lang` as a customer would receive it, filled from signup `id`
    /// or a sample.
    pub async fn preview_message(
        &self,
        event: &str,
        template: Template,
        lang: Lang,
        id: Option<&str>,
    ) -> Result<Result<Preview, PreviewProblem>, StoreError> {
        let settings = self.settings(event).await?.unwrap_or_else(|| WaitlistSettings::new(event));
        if !settings.languages.contains(&lang) {
            return Ok(Err(PreviewProblem::Language(lang.code())));
        }
        let signup = match self.preview_signup(event, id, lang).await? {
            Ok(s) => s,
            Err(p) => return Ok(Err(p)),
        };
        let parts = match self.template_parts(template, &signup, &settings).await? {
            Ok(p) => p,
            Err(p) => return Ok(Err(p)),
        };
        let (text, html) = match parts.render() {
            Ok(rendered) => rendered,
            Err(e) => return Ok(Err(PreviewProblem::Compose(e.to_string()))),
        };
        let signup = id.map(str::to_owned);
        Ok(Ok(Preview { template, lang, signup, subject: parts.subject, text, html }))
    }

    /// Sends `template` of `event` in `lang`, filled from a sample signup, to `to` for `by` (an
    /// audit label): queued in the outbox, noted in the history as `test:<template>`, and in the
    /// audit log. Answers its number in the history.
    pub async fn test_send(
        &self,
        event: &str,
        template: Template,
        lang: Lang,
        to: &str,
        by: &str,
    ) -> Result<Result<u64, PreviewProblem>, StoreError> {
        if !is_test_address(to) {
            return Ok(Err(PreviewProblem::Address));
        }
        let settings = self.settings(event).await?.unwrap_or_else(|| WaitlistSettings::new(event));
        if !settings.languages.contains(&lang) {
            return Ok(Err(PreviewProblem::Language(lang.code())));
        }
        let mut signup = match self.preview_signup(event, None, lang).await? {
            Ok(s) => s,
            Err(p) => return Ok(Err(p)),
        };
        signup.email = to.to_owned();
        let parts = match self.template_parts(template, &signup, &settings).await? {
            Ok(p) => p,
            Err(p) => return Ok(Err(p)),
        };
        let name = format!("test:{}", template.as_str());
        Ok(self.queue_test(event, &signup, parts, &name, by).await?.map_err(PreviewProblem::Compose))
    }

    /// Queues the mail of `parts` to `signup` (a sample with the test's address) as a test for
    /// `by`, noted in the history as `name` and in the audit log: answers its number in the
    /// history, or why it could not be composed.
    pub(super) async fn queue_test(
        &self,
        event: &str,
        signup: &Signup,
        parts: crate::app::waitlist::pages::MailParts,
        name: &str,
        by: &str,
    ) -> Result<Result<u64, String>, StoreError> {
        let numbers = self.reserve_mail(event).await?;
        let mail = match compose::build(self, signup, parts, numbers.outbox) {
            Ok(m) => m,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let writes = self.queue_message(numbers, Message::Mail(mail), name, event, None)?;
        self.ports.store.set_many(&writes).await?;
        self.ports.events.mail_queued();
        let what = name.trim_start_matches("test:");
        let detail = format!("test send of {what} ({}), message {}", signup.lang.code(), numbers.history);
        self.audit_event(event, AuditAction::TestMessage, by.to_owned(), detail).await;
        Ok(Ok(numbers.history))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::waitlist::testing::site;
    use crate::testkit::block_on;

    #[test]
    fn previews_fill_any_template_in_any_language_and_a_test_send_is_marked_in_the_history() {
        let site = site();
        site.update(|s| {
            s.title = "Gala Night".into();
            s.mail_text.insert(Lang::De, "Einlass ab 19 Uhr".into());
        });
        let w = &site.waitlist;
        let sample =
            block_on(w.preview_message("gala", Template::Confirmed, Lang::De, None)).unwrap().unwrap();
        assert!(sample.subject.contains("Gala Night"), "{}", sample.subject);
        assert!(
            sample.text.contains("Alex Sample") && sample.text.contains("Einlass ab 19 Uhr"),
            "{}",
            sample.text
        );
        assert!(
            sample.html.contains("Einlass ab 19 Uhr") && sample.html.contains("<html"),
            "{}",
            sample.html
        );
        let ada = site.in_line("ada@example.com", None, 3);
        let real =
            block_on(w.preview_message("gala", Template::Offer, Lang::En, Some(&ada.id))).unwrap().unwrap();
        assert!(real.text.contains("Ada") && real.text.contains("3 tickets"), "{}", real.text);
        for template in [Template::Confirm, Template::Already, Template::Erased] {
            for lang in Lang::ALL {
                let p = block_on(w.preview_message("gala", template, lang, None)).unwrap().unwrap();
                assert!(!p.subject.is_empty() && !p.text.is_empty(), "{template:?} {lang:?}");
            }
        }
        assert_eq!(
            block_on(w.preview_message("gala", Template::Confirm, Lang::En, Some("nobody"))).unwrap(),
            Err(PreviewProblem::NoSignup("nobody".into()))
        );
        site.update(|s| s.languages = vec![Lang::En]);
        assert_eq!(
            block_on(w.preview_message("gala", Template::Confirm, Lang::Nl, None)).unwrap(),
            Err(PreviewProblem::Language("nl"))
        );

        let mails = site.mails();
        let n = block_on(w.test_send("gala", Template::Offer, Lang::En, "staff@harbour.example", "test"))
            .unwrap()
            .unwrap();
        assert_eq!(site.mails(), mails + 1);
        let sent = site.outbox().pop().unwrap();
        assert_eq!(sent.to(), "staff@harbour.example");
        let key = crate::core::waitlist::keys::message("gala", n);
        let record: crate::app::waitlist::history::MessageRecord =
            site.rig.ports().open(&key, block_on(site.rig.store.get(&key)).unwrap()).unwrap().unwrap();
        assert_eq!((record.template.as_str(), record.to.as_str()), ("test:offer", "staff@harbour.example"));
        for bad in ["x@y.z\r\nBcc: a@b.c", "not an address", "a@b.c\u{200b}", ""] {
            assert_eq!(
                block_on(w.test_send("gala", Template::Confirm, Lang::En, bad, "test")).unwrap(),
                Err(PreviewProblem::Address),
                "{bad:?}"
            );
        }
        assert_eq!(site.mails(), mails + 1, "nothing more queued");
    }
}
