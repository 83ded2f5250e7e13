//! Messages to a whole list (an event's broadcasts): one text per language, to every signup of an
//! audience (those still waiting, or every one that confirmed), sent now or at a time (absolute,
//! or relative to the event's start), limited by language and by consent.
//!
//! Consent: a `service` message is one every signup of the audience needs (the waitlist closes,
//! the show moves) and goes to all of them; any other message is `news` and goes only to those
//! who ticked "keep me informed" when they signed up. No message goes after the event's start.
//!
//! Pending signups (address not confirmed), cancelled ones and those whose data is erased never
//! receive one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::settings::{parse_time, MAX_MAIL_TEXT};
use super::{Lang, Signup, Status, WaitlistSettings};

/// Longest subject, in characters.
pub const MAX_SUBJECT: usize = 200;
/// Furthest a message may be scheduled before the event's start.
pub const MAX_BEFORE_START_SECS: u64 = 365 * 24 * 3600;
/// Most messages to a whole list one event may have (sent, scheduled and cancelled).
pub const MAX_PER_EVENT: u64 = 200;

/// Who a message to the list is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// Signups still waiting for seats: in line, or holding an open offer.
    Waiting,
    /// Every signup that confirmed its address and was not cancelled: those waiting, and those
    /// whose offer ended (booked, declined, lapsed).
    Confirmed,
}

impl Audience {
    /// Its name, as in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Confirmed => "confirmed",
        }
    }

    /// Whether a signup in `status` belongs to it.
    pub fn includes(self, status: Status) -> bool {
        match self {
            Self::Waiting => matches!(status, Status::Confirmed | Status::Offered),
            Self::Confirmed => !matches!(status, Status::Pending | Status::Cancelled),
        }
    }
}

/// Whether a message needs the signup's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// A message every signup of the audience needs about its signup or the event: goes to all.
    Service,
    /// Anything else: only to signups that ticked "keep me informed".
    News,
}

impl Purpose {
    /// Its name, as in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::News => "news",
        }
    }
}

/// A message's text in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// The subject: 1 to 200 characters, one line.
    #[cfg_attr(feature = "native", schema(min_length = 1, max_length = 200))]
    pub subject: String,
    /// The message, plain text (paragraphs apart by empty lines): 1 to 4000 characters. The
    /// mail puts the greeting before it, and the organizer's text and the manage link after.
    #[cfg_attr(feature = "native", schema(min_length = 1, max_length = 4000))]
    pub body: String,
}

/// A message to the list as staff write it (the admin API's request, the staff page's form).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = BroadcastDraft, example = json!({
    "audience": "waiting", "purpose": "service", "before_start": "24h",
    "texts": {"en": {"subject": "The waitlist closes tomorrow",
                     "body": "The waitlist closes 24 hours before the show."}}
})))]
#[serde(deny_unknown_fields)]
pub struct Draft {
    /// `waiting` or `confirmed`.
    pub audience: Option<Audience>,
    /// `service` (every signup of the audience) or `news` (only those who ticked "keep me
    /// informed").
    pub purpose: Option<Purpose>,
    /// The text per language (languages the event offers). A signup gets the text in its
    /// language, else the one in the first of the event's languages that has one.
    #[serde(default)]
    pub texts: BTreeMap<Lang, Text>,
    /// Only to signups in these languages (default: every language).
    #[serde(default)]
    pub languages: Vec<Lang>,
    /// When to send it (RFC 3339, UTC): not in the past, not after the event's start.
    #[cfg_attr(feature = "native", schema(format = DateTime))]
    pub at: Option<String>,
    /// How long before the event's start to send it (`24h`, `2days`, `90m`): follows the start
    /// if it moves. Needs the event's `starts`.
    pub before_start: Option<String>,
}

/// When a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// As soon as a node takes it up (within seconds).
    Now,
    /// At this time (Unix seconds).
    At(u64),
    /// This many seconds before the event's start.
    BeforeStart(u64),
}

/// Where a message to the list stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Progress {
    /// Waiting for its time.
    Scheduled,
    /// Being queued, a page of the line at a time.
    Sending,
    /// Every recipient's mail is in the outbox.
    Sent,
    /// Its time came after the event's start: nothing was sent.
    Missed,
}

/// A page of recipients whose mails are being written: their numbers were taken before the
/// write, so a node that takes over after a crash writes the same page again, or finds it
/// written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// The last line number the page covers.
    pub to: u64,
    /// The first outbox number taken.
    pub outbox: u64,
    /// The first history number taken.
    pub history: u64,
    /// Mails in the page.
    pub count: u64,
}

/// A message to the list, as stored (no personal data: the texts are staff's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Broadcast {
    /// Its number at the event (1, 2, …).
    pub number: u64,
    /// Who it is for.
    pub audience: Audience,
    /// Whether it needs consent.
    pub purpose: Purpose,
    /// The texts.
    pub texts: BTreeMap<Lang, Text>,
    /// Only to these languages (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<Lang>,
    /// At this time (Unix seconds), if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<u64>,
    /// This long before the event's start (seconds), if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_start: Option<u64>,
    /// When it was written (Unix seconds).
    pub created: u64,
    /// Who wrote it (the token's or staff session's label).
    pub by: String,
    /// Where it stands.
    pub progress: Progress,
    /// The last line number of its audience, fixed when sending starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_seq: Option<u64>,
    /// The line walked so far.
    #[serde(default)]
    pub cursor: u64,
    /// A page being written, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<Page>,
    /// Mails queued.
    #[serde(default)]
    pub queued: u64,
    /// Recipients whose mail could not be composed (an address the mail library refuses).
    #[serde(default)]
    pub skipped: u64,
    /// When it was sent in full, or found missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<u64>,
}

impl Draft {
    /// The message `draft` asks for at an event with `settings` at `now`, written by `by`, or
    /// what is wrong with it (its `number` is 0 until the store gives it one).
    pub fn check(&self, settings: &WaitlistSettings, now: u64, by: &str) -> Result<Broadcast, String> {
        let audience = self.audience.ok_or("audience: `waiting` or `confirmed`")?;
        let purpose = self.purpose.ok_or(
            "purpose: `service` (a message every signup needs) or `news` (only to those who ticked \
             \"keep me informed\")",
        )?;
        let texts = check_texts(&self.texts, settings)?;
        let mut languages = self.languages.clone();
        languages.sort();
        languages.dedup();
        if let Some(l) = languages.iter().find(|l| !settings.languages.contains(l)) {
            return Err(format!("languages: the event does not offer {}", l.code()));
        }
        let when = match (self.at.as_deref(), self.before_start.as_deref()) {
            (Some(_), Some(_)) => return Err("give `at` or `before_start`, not both".into()),
            (Some(at), None) => When::At(parse_time(at).map_err(|e| format!("at: {e}"))?),
            (None, Some(d)) => When::BeforeStart(parse_before_start(d)?),
            (None, None) => When::Now,
        };
        let starts = settings.starts_at();
        match (when, starts) {
            (When::At(at), _) if at < now => {
                return Err("at: that time is past; leave it out to send now".into());
            }
            (When::At(at), Some(s)) if at > s => return Err("at: that is after the event's start".into()),
            (When::BeforeStart(_), None) => {
                return Err("before_start needs the event's start: set `starts` first".into());
            }
            (When::BeforeStart(d), Some(s)) if s.saturating_sub(d) < now => {
                return Err("before_start: that time is past".into());
            }
            (When::Now, Some(s)) if now > s => return Err("the event has started: nothing goes after".into()),
            _ => {}
        }
        let (at, before_start) = match when {
            When::Now => (None, None),
            When::At(t) => (Some(t), None),
            When::BeforeStart(d) => (None, Some(d)),
        };
        Ok(Broadcast {
            number: 0,
            audience,
            purpose,
            texts,
            languages,
            at,
            before_start,
            created: now,
            by: by.to_owned(),
            progress: Progress::Scheduled,
            until_seq: None,
            cursor: 0,
            page: None,
            queued: 0,
            skipped: 0,
            finished: None,
        })
    }
}

/// The texts of a draft, trimmed, line ends made `\n`, or what is wrong with them.
fn check_texts(
    texts: &BTreeMap<Lang, Text>,
    settings: &WaitlistSettings,
) -> Result<BTreeMap<Lang, Text>, String> {
    if texts.is_empty() {
        return Err("texts: give the message in at least one language".into());
    }
    let mut clean = BTreeMap::new();
    for (lang, text) in texts {
        let code = lang.code();
        if !settings.languages.contains(lang) {
            return Err(format!("texts.{code}: the event does not offer {code}"));
        }
        let subject = text.subject.trim();
        if subject.is_empty() || subject.chars().count() > MAX_SUBJECT {
            return Err(format!("texts.{code}.subject: 1 to {MAX_SUBJECT} characters"));
        }
        if subject.chars().any(|c| c.is_control()) || crate::core::email::has_invisible(subject) {
            return Err(format!("texts.{code}.subject: one line, no control or invisible characters"));
        }
        let body = text.body.replace("\r\n", "\n");
        let body = body.trim();
        if body.is_empty() || body.chars().count() > MAX_MAIL_TEXT {
            return Err(format!("texts.{code}.body: 1 to {MAX_MAIL_TEXT} characters"));
        }
        if body.chars().any(|c| c.is_control() && c != '\n') {
            return Err(format!("texts.{code}.body: no control characters"));
        }
        clean.insert(*lang, Text { subject: subject.to_owned(), body: body.to_owned() });
    }
    Ok(clean)
}

/// A `before_start` duration (`24h`, `2days`, `90m`) in seconds, or what is wrong with it.
fn parse_before_start(text: &str) -> Result<u64, String> {
    let secs = humantime::parse_duration(text.trim())
        .map_err(|_| format!("before_start: `{text}` is no duration such as 24h, 2days or 90m"))?
        .as_secs();
    if secs == 0 || secs > MAX_BEFORE_START_SECS {
        return Err("before_start: from 1 minute to 365 days".into());
    }
    Ok(secs)
}

impl Broadcast {
    /// When it goes.
    pub fn when(&self) -> When {
        match (self.at, self.before_start) {
            (Some(at), _) => When::At(at),
            (None, Some(d)) => When::BeforeStart(d),
            (None, None) => When::Now,
        }
    }

    /// When it is due (Unix seconds) with the event starting at `starts`; `None` while a message
    /// relative to the start waits for a start.
    pub fn due_at(&self, starts: Option<u64>) -> Option<u64> {
        match self.when() {
            When::Now => Some(self.created),
            When::At(at) => Some(at),
            When::BeforeStart(d) => starts.map(|s| s.saturating_sub(d)),
        }
    }

    /// Whether it is over: sent, or missed.
    pub fn is_done(&self) -> bool {
        matches!(self.progress, Progress::Sent | Progress::Missed)
    }

    /// Whether `signup` receives it: in the audience, in a language it is for, with consent
    /// where it needs it, and with data to send to.
    pub fn reaches(&self, signup: &Signup) -> bool {
        self.audience.includes(signup.status)
            && signup.anonymised.is_none()
            && !signup.email.is_empty()
            && (self.purpose == Purpose::Service || signup.informed)
            && (self.languages.is_empty() || self.languages.contains(&signup.lang))
    }

    /// The text a signup in `lang` gets: its language's, else the one in the first of the
    /// event's `languages` that has one, else the first.
    pub fn text_for(&self, lang: Lang, languages: &[Lang]) -> Option<(Lang, &Text)> {
        if let Some(text) = self.texts.get(&lang) {
            return Some((lang, text));
        }
        languages
            .iter()
            .find_map(|l| self.texts.get(l).map(|t| (*l, t)))
            .or_else(|| self.texts.iter().next().map(|(l, t)| (*l, t)))
    }

    /// Its name in the event's message history: `message:{number}`.
    pub fn template(&self) -> String {
        format!("message:{}", self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn settings(starts: Option<u64>) -> WaitlistSettings {
        let mut s = WaitlistSettings::new("gala");
        s.languages = vec![Lang::De, Lang::En];
        s.starts = starts.map(|t| {
            humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t))
                .to_string()
        });
        s
    }

    fn draft() -> Draft {
        let mut texts = BTreeMap::new();
        texts
            .insert(Lang::En, Text { subject: " Closing soon ".into(), body: "Line one\r\nline two".into() });
        Draft {
            audience: Some(Audience::Waiting),
            purpose: Some(Purpose::Service),
            texts,
            ..Draft::default()
        }
    }

    fn check(d: &Draft, starts: Option<u64>) -> Result<Broadcast, String> {
        d.check(&settings(starts), NOW, "token:box")
    }

    #[test]
    fn a_draft_becomes_a_message_with_its_time_and_clean_texts() {
        let now = check(&draft(), None).unwrap();
        assert_eq!((now.when(), now.due_at(None)), (When::Now, Some(NOW)));
        assert_eq!(now.texts[&Lang::En].subject, "Closing soon");
        assert_eq!(now.texts[&Lang::En].body, "Line one\nline two");
        let starts = NOW + 3 * 86_400;
        let before = check(&Draft { before_start: Some("24h".into()), ..draft() }, Some(starts)).unwrap();
        assert_eq!(before.due_at(Some(starts)), Some(starts - 86_400));
        assert_eq!(before.due_at(Some(starts + 60)), Some(starts + 60 - 86_400), "follows a moved start");
        assert_eq!(before.due_at(None), None, "waits for a start");
        let at = check(&Draft { at: Some("2027-01-15T08:00:00Z".into()), ..draft() }, None).unwrap();
        assert_eq!(at.when(), When::At(NOW), "2027-01-15T08:00:00Z is NOW: not past");
    }

    #[test]
    fn schedules_in_the_past_or_after_the_start_and_bad_texts_are_refused() {
        let starts = NOW + 86_400;
        let refused = |d: Draft, starts: Option<u64>| check(&d, starts).unwrap_err();
        assert!(refused(Draft { at: Some("2020-01-01T00:00:00Z".into()), ..draft() }, None).contains("past"));
        assert!(refused(Draft { at: Some("2027-06-01T00:00:00Z".into()), ..draft() }, Some(starts))
            .contains("after the event's start"));
        assert!(
            refused(Draft { before_start: Some("2days".into()), ..draft() }, Some(starts)).contains("past")
        );
        assert!(refused(Draft { before_start: Some("1h".into()), ..draft() }, None).contains("starts"));
        assert!(refused(Draft { before_start: Some("soon".into()), ..draft() }, Some(starts))
            .contains("duration"));
        assert!(refused(Draft { before_start: Some("400days".into()), ..draft() }, Some(NOW + 500 * 86_400))
            .contains("365"));
        assert!(refused(draft(), Some(NOW - 1)).contains("started"));
        assert!(refused(Draft { at: Some("tomorrow".into()), ..draft() }, None).contains("at:"));
        assert!(refused(
            Draft { at: Some("2027-01-15T08:00:00Z".into()), before_start: Some("1h".into()), ..draft() },
            Some(starts)
        )
        .contains("not both"));
        assert!(refused(Draft { audience: None, ..draft() }, None).contains("audience"));
        assert!(refused(Draft { purpose: None, ..draft() }, None).contains("purpose"));
        assert!(refused(Draft { texts: BTreeMap::new(), ..draft() }, None).contains("at least one"));
        assert!(refused(Draft { languages: vec![Lang::Nb], ..draft() }, None).contains("nb"));
        for (subject, body) in [
            ("Hi\r\nBcc: x@y.z", "b"),
            ("", "b"),
            ("Hi\u{200b}", "b"),
            ("Hi", ""),
            ("Hi", "a\u{7}b"),
            ("Hi", &"x".repeat(MAX_MAIL_TEXT + 1)),
        ] {
            let mut d = draft();
            d.texts.insert(Lang::En, Text { subject: subject.into(), body: body.into() });
            assert!(check(&d, None).is_err(), "{subject:?} {body:?}");
        }
        let mut d = draft();
        d.texts.insert(Lang::Nl, Text { subject: "Hoi".into(), body: "b".into() });
        assert!(check(&d, None).unwrap_err().contains("texts.nl"));
    }

    #[test]
    fn who_receives_it_by_audience_consent_and_language_and_which_text() {
        let signup = |status: Status, informed: bool, lang: Lang| Signup {
            id: "x".into(),
            event: "gala".into(),
            email: "ada@example.com".into(),
            name: "Ada".into(),
            phone: None,
            tickets: 1,
            lang,
            account: None,
            status,
            created: NOW,
            expires: NOW,
            confirmed: Some(NOW),
            cancelled: None,
            seq: Some(1),
            box_office: false,
            box_office_address: false,
            note: None,
            offer: None,
            anonymised: None,
            informed,
        };
        let service = check(&draft(), None).unwrap();
        assert!(service.reaches(&signup(Status::Confirmed, false, Lang::De)), "service needs no consent");
        assert!(service.reaches(&signup(Status::Offered, false, Lang::En)));
        for s in [Status::Pending, Status::Cancelled, Status::Booked, Status::Declined, Status::Lapsed] {
            assert!(!service.reaches(&signup(s, true, Lang::En)), "{s:?} is not waiting");
        }
        let everyone = Broadcast { audience: Audience::Confirmed, ..service.clone() };
        assert!(everyone.reaches(&signup(Status::Booked, false, Lang::En)));
        assert!(!everyone.reaches(&signup(Status::Pending, false, Lang::En)));
        assert!(!everyone.reaches(&signup(Status::Cancelled, false, Lang::En)));
        let news = Broadcast { purpose: Purpose::News, languages: vec![Lang::De], ..service.clone() };
        assert!(!news.reaches(&signup(Status::Confirmed, false, Lang::De)), "news needs consent");
        assert!(news.reaches(&signup(Status::Confirmed, true, Lang::De)));
        assert!(!news.reaches(&signup(Status::Confirmed, true, Lang::En)), "limited to German");
        let mut erased = signup(Status::Confirmed, true, Lang::De);
        erased.anonymised = Some(NOW);
        assert!(!service.reaches(&erased));

        let (lang, text) = service.text_for(Lang::De, &[Lang::De, Lang::En]).unwrap();
        assert_eq!((lang, text.subject.as_str()), (Lang::En, "Closing soon"), "falls back");
        assert_eq!(Broadcast { number: 7, ..service }.template(), "message:7");
    }
}
