//! The waitlist's mails: multipart text + HTML in the signup's language, with the organizer's
//! own text, built with `lettre`'s message builder (which encodes every header, so no field
//! can inject one).

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::i18n::{Arg, Tr};
use super::pages::MailParts;
use super::Waitlist;
use crate::core::text::url_component;
use crate::core::waitlist::broadcast::{Broadcast, Purpose};
use crate::core::waitlist::{Offer, Signup, WaitlistSettings};
use crate::ports::mail::Mail;
use crate::ports::sms::Sms;

/// Which mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// "Confirm your place" with the confirmation link.
    Confirm,
    /// "You are on the waitlist" with the place and the manage link.
    Confirmed,
    /// "You are already on the waitlist" with the manage link.
    Already,
    /// "Your data is erased": the last mail, with no links.
    Erased,
}

impl MailKind {
    /// The template's name in the message history.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Confirmed => "confirmed",
            Self::Already => "already",
            Self::Erased => "erased",
        }
    }
}

/// Why a mail could not be composed (an address lettre refuses, a broken `from`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot compose the mail: {0}")]
pub struct ComposeError(String);

/// The mail of `kind` for `signup`, to be queued under the outbox's `number` (which makes its
/// `Message-ID` unique without a draw).
pub fn mail<S>(
    wl: &Waitlist<S>,
    kind: MailKind,
    signup: &Signup,
    settings: &WaitlistSettings,
    place: Option<u64>,
    number: crate::app::outbox::Reserved,
) -> Result<Mail, ComposeError>
where
    S: crate::ports::store::Store + Clone,
{
    build(wl, signup, mail_parts(wl, kind, signup, settings, place), number)
}

/// The texts of the mail of `kind` for `signup` (what [`mail`] sends, and a preview shows).
pub(in crate::app::waitlist) fn mail_parts<S>(
    wl: &Waitlist<S>,
    kind: MailKind,
    signup: &Signup,
    settings: &WaitlistSettings,
    place: Option<u64>,
) -> MailParts
where
    S: crate::ports::store::Store + Clone,
{
    let tr = Tr::new(signup.lang);
    let event = Arg::Text(&settings.title);
    let count = tr.tickets(signup.tickets);
    let base = format!("{}{}", wl.config.public_url, wl.config.mount);
    let manage = (tr.t("mail-manage-action"), format!("{base}/manage?t={}", wl.manage_token(signup)));
    let (subject, intro, actions) = match kind {
        MailKind::Confirm => (
            tr.with("mail-confirm-subject", &[("event", event)]),
            tr.with(
                "mail-confirm-intro",
                &[
                    ("event", event),
                    ("count", Arg::Text(&count)),
                    ("hours", Arg::Number(settings.confirm_within_secs.div_ceil(3600))),
                ],
            ),
            vec![
                (tr.t("mail-confirm-action"), format!("{base}/confirm?t={}", wl.confirm_token(signup))),
                manage,
            ],
        ),
        MailKind::Confirmed => (
            tr.with("mail-confirmed-subject", &[("event", event)]),
            tr.with(
                "mail-confirmed-intro",
                &[
                    ("event", event),
                    ("count", Arg::Text(&count)),
                    ("place", Arg::Number(place.unwrap_or(0))),
                    ("mode", Arg::Text(settings.mode.as_str())),
                    ("hours", Arg::Number(settings.offer_hours.into())),
                ],
            ),
            vec![manage],
        ),
        MailKind::Already => (
            tr.with("mail-already-subject", &[("event", event)]),
            tr.with("mail-already-intro", &[("event", event)]),
            vec![manage],
        ),
        MailKind::Erased => (
            tr.with("mail-erased-subject", &[("event", event)]),
            tr.with("mail-erased-intro", &[("event", event)]),
            Vec::new(),
        ),
    };
    let organizer_text = settings.mail_text.get(&signup.lang).cloned();
    let footer = tr.with("mail-footer", &[("event", event)]);
    let greeting = tr.with("mail-greeting", &[("name", Arg::Text(&signup.name))]);
    MailParts {
        lang: signup.lang.code(),
        greeting,
        intro,
        organizer_text,
        actions,
        footer,
        subject,
        unsubscribe: None,
    }
}

/// The texts of message to the list `message` for `signup`: staff's text in the signup's
/// language (or the fallback [`Broadcast::text_for`] picks), the organizer's text after it, the
/// manage link, and a footer that says why it came (a signup, or consent to news).
pub(in crate::app::waitlist) fn broadcast_parts<S>(
    wl: &Waitlist<S>,
    signup: &Signup,
    message: &Broadcast,
    settings: &WaitlistSettings,
) -> Result<MailParts, ComposeError>
where
    S: crate::ports::store::Store + Clone,
{
    let (lang, text) = message
        .text_for(signup.lang, &settings.languages)
        .ok_or_else(|| ComposeError("the message has no text".into()))?;
    let tr = Tr::new(lang);
    let event = Arg::Text(&settings.title);
    let base = format!("{}{}", wl.config.public_url, wl.config.mount);
    let manage = (tr.t("mail-manage-action"), format!("{base}/manage?t={}", wl.manage_token(signup)));
    let texts: Vec<&str> = std::iter::once(text.body.as_str())
        .chain(settings.mail_text.get(&lang).map(String::as_str))
        .collect();
    let mut actions = vec![manage];
    let (footer, unsubscribe) = match message.purpose {
        Purpose::Service => ("mail-broadcast-footer", None),
        Purpose::News => {
            let url = format!("{base}/unsubscribe?t={}", url_component(&wl.manage_token(signup)));
            actions.push((tr.t("mail-news-stop"), url.clone()));
            ("mail-news-footer", Some(url))
        }
    };
    Ok(MailParts {
        lang: lang.code(),
        subject: text.subject.clone(),
        greeting: tr.with("mail-greeting", &[("name", Arg::Text(&signup.name))]),
        intro: tr.with("mail-broadcast-intro", &[("event", event)]),
        organizer_text: Some(texts.join("\n\n")),
        actions,
        footer: tr.with(footer, &[("event", event)]),
        unsubscribe,
    })
}

/// The offer mail of `offer` to `signup`: the seats, the deadline, the link to book them and the
/// link to decline, with staff's text (a staff offer) before the organizer's. With `copy_to`,
/// the same mail as a copy for that staff address (its subject says so).
pub fn offer_mail<S>(
    wl: &Waitlist<S>,
    signup: &Signup,
    offer: &Offer,
    settings: &WaitlistSettings,
    number: crate::app::outbox::Reserved,
    copy_to: Option<&str>,
) -> Result<Mail, ComposeError>
where
    S: crate::ports::store::Store + Clone,
{
    let parts = offer_parts(wl, signup, offer, settings, copy_to.is_some())?;
    match copy_to {
        None => build(wl, signup, parts, number),
        Some(staff) => build_to(wl, None, staff, &signup.id, parts, number),
    }
}

/// The texts of the offer mail of `offer` to `signup` (a staff copy's subject says so).
pub(in crate::app::waitlist) fn offer_parts<S>(
    wl: &Waitlist<S>,
    signup: &Signup,
    offer: &Offer,
    settings: &WaitlistSettings,
    copy: bool,
) -> Result<MailParts, ComposeError>
where
    S: crate::ports::store::Store + Clone,
{
    let tr = Tr::new(signup.lang);
    let event = Arg::Text(&settings.title);
    let count = tr.tickets(offer.tickets);
    let deadline = deadline_text(offer.expires);
    let base = format!("{}{}", wl.config.public_url, wl.config.mount);
    let link = offer.link.clone().ok_or_else(|| ComposeError("the offer has no link".into()))?;
    let decline = format!("{base}/offer?c={}", wl.offer_code(offer));
    let intro = tr.with(
        "mail-offer-intro",
        &[("event", event), ("count", Arg::Text(&count)), ("deadline", Arg::Text(&deadline))],
    );
    let texts: Vec<String> = offer.text.iter().chain(settings.mail_text.get(&signup.lang)).cloned().collect();
    let mut subject = tr.with("mail-offer-subject", &[("event", event)]);
    if copy {
        subject = tr.with("mail-copy-subject", &[("subject", Arg::Text(&subject))]);
    }
    let parts = MailParts {
        lang: signup.lang.code(),
        subject,
        greeting: tr.with("mail-greeting", &[("name", Arg::Text(&signup.name))]),
        intro,
        organizer_text: (!texts.is_empty()).then(|| texts.join("\n\n")),
        actions: vec![(tr.t("mail-offer-action"), link), (tr.t("mail-offer-decline"), decline)],
        footer: tr.with("mail-offer-footer", &[("event", event)]),
        unsubscribe: None,
    };
    Ok(parts)
}

/// The SMS of `offer` to `to` (the signup's phone number, international form): the seats,
/// the deadline and both links, in the signup's language.
pub fn offer_sms<S>(
    wl: &Waitlist<S>,
    signup: &Signup,
    offer: &Offer,
    settings: &WaitlistSettings,
    to: String,
    number: crate::app::outbox::Reserved,
) -> Result<Sms, ComposeError>
where
    S: crate::ports::store::Store + Clone,
{
    let tr = Tr::new(signup.lang);
    let link = offer.link.as_deref().ok_or_else(|| ComposeError("the offer has no link".into()))?;
    let decline = format!("{}{}/offer?c={}", wl.config.public_url, wl.config.mount, wl.offer_code(offer));
    let text = tr.with(
        "sms-offer",
        &[
            ("event", Arg::Text(&settings.title)),
            ("count", Arg::Text(&tr.tickets(offer.tickets))),
            ("deadline", Arg::Text(&deadline_text(offer.expires))),
            ("link", Arg::Text(link)),
            ("decline", Arg::Text(&decline)),
        ],
    );
    Ok(Sms { id: format!("{}.{}", signup.id, number.0), to, text })
}

/// The notice to the staff address `to` of a round of automatic `offers` (each with its
/// signup), in the event's first language, with a link to staff's list.
pub fn staff_notice<S>(
    wl: &Waitlist<S>,
    event: &str,
    settings: &WaitlistSettings,
    offers: &[(&Offer, &Signup)],
    to: &str,
    number: crate::app::outbox::Reserved,
) -> Result<Mail, ComposeError>
where
    S: crate::ports::store::Store + Clone,
{
    let lang = settings.languages.first().copied().unwrap_or(crate::core::waitlist::Lang::En);
    let tr = Tr::new(lang);
    let title = Arg::Text(&settings.title);
    let lines: Vec<String> = offers
        .iter()
        .map(|(offer, signup)| {
            tr.with(
                "mail-staff-offer-line",
                &[
                    ("number", Arg::Number(offer.number)),
                    ("name", Arg::Text(&signup.name)),
                    ("email", Arg::Text(&signup.email)),
                    ("count", Arg::Text(&tr.tickets(offer.tickets))),
                    ("deadline", Arg::Text(&deadline_text(offer.expires))),
                ],
            )
        })
        .collect();
    let list = format!("{}{}/staff/list?event={event}", wl.config.public_url, wl.config.mount);
    let parts = MailParts {
        lang: lang.code(),
        subject: tr.with(
            "mail-staff-offers-subject",
            &[("event", title), ("offers", Arg::Number(offers.len() as u64))],
        ),
        greeting: tr.t("mail-staff-greeting"),
        intro: tr.with(
            "mail-staff-offers-intro",
            &[("event", title), ("offers", Arg::Number(offers.len() as u64))],
        ),
        organizer_text: Some(lines.join("\n")),
        actions: vec![(tr.t("mail-staff-list-action"), list)],
        footer: tr.with("mail-staff-footer", &[("event", title)]),
        unsubscribe: None,
    };
    build_to(wl, None, to, &format!("staff-{event}"), parts, number)
}

/// A deadline as customers read it in any language: `2026-12-09 14:00 UTC`.
pub fn deadline_text(secs: u64) -> String {
    let at = humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
    let text = at.to_string();
    format!("{} {} UTC", &text[..10], &text[11..16])
}

/// The message of `parts` to `signup`, queued under `number`.
/// The message of `parts` to `signup`, queued under `number`.
pub(in crate::app::waitlist) fn build<S>(
    wl: &Waitlist<S>,
    signup: &Signup,
    parts: MailParts,
    number: crate::app::outbox::Reserved,
) -> Result<Mail, ComposeError> {
    build_to(wl, Some(&signup.name), &signup.email, &signup.id, parts, number)
}

/// The message of `parts` to `address` (with `name`), queued under `number`; its `Message-ID`
/// is `{id_prefix}.{number}@` the sender's domain.
pub(in crate::app::waitlist) fn build_to<S>(
    wl: &Waitlist<S>,
    name: Option<&str>,
    address: &str,
    id_prefix: &str,
    parts: MailParts,
    number: crate::app::outbox::Reserved,
) -> Result<Mail, ComposeError> {
    let (text, html) = parts.render().map_err(|e| ComposeError(e.to_string()))?;
    let from: Mailbox = wl.config.from.parse().map_err(|e| ComposeError(format!("from: {e}")))?;
    let to_address = address.parse().map_err(|e| ComposeError(format!("to: {e}")))?;
    let to = Mailbox::new(name.map(str::to_owned), to_address);
    let domain = from.email.domain().to_owned();
    let id = format!("{id_prefix}.{}@{domain}", number.0);
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(parts.subject)
        .message_id(Some(format!("<{id}>")));
    if let Some(url) = &parts.unsubscribe {
        // ASCII we built (the token is percent-encoded), so taken as it is, never folded.
        let header = |name: &str, value: String| {
            let name =
                HeaderName::new_from_ascii(name.to_owned()).map_err(|e| ComposeError(e.to_string()))?;
            Ok::<_, ComposeError>(HeaderValue::dangerous_new_pre_encoded(name, value.clone(), value))
        };
        builder = builder
            .raw_header(header("List-Unsubscribe", format!("<{url}>"))?)
            .raw_header(header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_owned())?);
    }
    let message = builder
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html)),
        )
        .map_err(|e| ComposeError(e.to_string()))?;
    let message = String::from_utf8(message.formatted()).map_err(|e| ComposeError(e.to_string()))?;
    Ok(Mail { id, from: from.email.to_string(), to: to.email.to_string(), message })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::outbox::Reserved;
    use crate::app::waitlist::testing::site;
    use crate::core::waitlist::{Lang, Status};

    fn signup(name: &str, email: &str) -> Signup {
        Signup {
            id: "AbC-123_xyz".into(),
            event: "gala".into(),
            email: email.into(),
            name: name.into(),
            phone: None,
            tickets: 2,
            lang: Lang::En,
            account: None,
            status: Status::Pending,
            created: 1_800_000_000,
            expires: 1_800_172_800,
            confirmed: None,
            cancelled: None,
            seq: None,
            box_office: false,
            box_office_address: false,
            note: Some("internal".into()),
            offer: None,
            anonymised: None,
            informed: false,
        }
    }

    #[test]
    fn a_confirmation_mail_carries_its_links_the_organizers_text_and_no_staff_note() {
        let site = site();
        let mut settings = WaitlistSettings::new("gala");
        settings.title = "The <gala> night".into();
        settings.mail_text.insert(Lang::En, "Doors open at 19:00.".into());
        let s = signup("Ada <b>Lovelace</b>", "ada@example.com");
        let confirm =
            super::mail(&site.waitlist, MailKind::Confirm, &s, &settings, None, Reserved(42)).unwrap();
        assert_eq!(confirm.id, "AbC-123_xyz.42@shop.example", "unique by the outbox number, no draw");
        assert!(confirm.to.contains("ada@example.com"));
        let message = confirm.message.replace("=\r\n", "");
        assert!(message.contains("Message-ID: <AbC-123_xyz.42@shop.example>"), "{message}");
        assert!(message.contains("https://shop.example/waitlist/confirm?t="));
        assert!(message.contains("https://shop.example/waitlist/manage?t="));
        assert!(message.contains("Doors open at 19:00."));
        assert!(!message.contains("internal"), "staff notes never reach customers");
        let html = message.split("Content-Type: text/html").nth(1).expect("an HTML part");
        assert!(
            !html.contains("<b>Lovelace</b>") && html.contains("Lovelace"),
            "the name is escaped in HTML"
        );
        assert!(!html.contains("The <gala> night"), "so is the title");
        // The same signup and number make the same message (a retry sends it again unchanged).
        let again =
            super::mail(&site.waitlist, MailKind::Confirm, &s, &settings, None, Reserved(42)).unwrap();
        assert_eq!((again.id, again.to), (confirm.id, confirm.to));
    }

    #[test]
    fn an_address_the_mail_library_refuses_is_an_error_not_a_mail() {
        let site = site();
        let settings = WaitlistSettings::new("gala");
        let bad = signup("Ada", "not an address");
        assert!(super::mail(&site.waitlist, MailKind::Already, &bad, &settings, None, Reserved(1)).is_err());
    }
}
