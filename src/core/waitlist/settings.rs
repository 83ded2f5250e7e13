//! An event's waitlist settings, as its organizer's admins set them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Lang;

/// Most tickets one signup may ask for, whatever an event allows.
pub const MAX_TICKETS_LIMIT: u32 = 50;
/// Longest organizer mail text per language, in characters.
pub const MAX_MAIL_TEXT: usize = 4000;
/// Longest event title, in characters.
pub const MAX_TITLE: usize = 200;
/// Most staff addresses one event notifies.
pub const MAX_STAFF_ADDRESSES: usize = 5;
/// Shortest and longest life of a confirmation link, in seconds (10 minutes, 14 days).
pub const CONFIRM_WITHIN_RANGE: (u64, u64) = (600, 14 * 24 * 3600);

/// Who gives freed seats to the people on the list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Staff decide whom to contact and in which order (the default).
    #[default]
    Manual,
    /// Seats the backend reports freed are offered to the longest waiting, in line order.
    Automatic,
}

impl Mode {
    /// The snake_case name, as in the API and the texts' selectors.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Automatic => "automatic",
        }
    }
}

/// What happens when the longest waiting signup wants more seats than are free.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// It waits, and so does everyone behind it, until enough seats are free (the default:
    /// nobody is overtaken).
    #[default]
    Strict,
    /// The next signups in line that fit receive the seats; the head keeps its place.
    FirstFit,
}

fn default_offer_hours() -> u32 {
    48
}

/// How an event's waitlist behaves. Deactivating keeps every signup; reactivating carries on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WaitlistSettings {
    /// The event is sold out (the waitlist is shown only then).
    pub sold_out: bool,
    /// The waitlist takes signups.
    pub active: bool,
    /// The event's name on pages and in mails (default: its id): 1 to 200 characters.
    #[cfg_attr(feature = "native", schema(min_length = 1, max_length = 200))]
    pub title: String,
    /// Most tickets one signup may ask for (1 to 50).
    #[cfg_attr(feature = "native", schema(minimum = 1, maximum = 50))]
    pub max_tickets: u32,
    /// Most confirmed signups on the list, if capped.
    #[cfg_attr(feature = "native", schema(minimum = 1))]
    pub max_signups: Option<u32>,
    /// Most tickets over all confirmed signups, if capped.
    #[cfg_attr(feature = "native", schema(minimum = 1))]
    pub max_tickets_total: Option<u32>,
    /// Seconds a confirmation link lives (600 to 1209600, 10 minutes to 14 days); unconfirmed
    /// signups expire with it.
    #[cfg_attr(feature = "native", schema(minimum = 600, maximum = 1209600))]
    pub confirm_within_secs: u64,
    /// The languages offered, the first being the default (at least one, each once).
    #[cfg_attr(feature = "native", schema(min_items = 1))]
    pub languages: Vec<Lang>,
    /// The organizer's own text, per language (at most 4000 characters each), put into every
    /// mail at its placeholder.
    pub mail_text: BTreeMap<Lang, String>,
    /// Who gives freed seats to the list: `manual` (staff) or `automatic` (in line order).
    #[serde(default)]
    pub mode: Mode,
    /// The rule for a head of the line that wants more seats than are free.
    #[serde(default)]
    pub fit: Fit,
    /// Hours an offer holds (1 to 336).
    #[serde(default = "default_offer_hours")]
    #[cfg_attr(feature = "native", schema(minimum = 1, maximum = 336))]
    pub offer_hours: u32,
    /// The link of an offer the backend gives none for: an http(s) URL or a path on the shop,
    /// with `{code}` for the offer's signed code (and `{event}` for the event); the backend's
    /// claim route there is checked by Doorman. Required in automatic mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_link: Option<String>,
    /// Offers also go by SMS to signups with a phone number (where the operator set up an SMS
    /// webhook).
    #[serde(default)]
    pub sms: bool,
    /// Staff addresses (at most 5) told of every round of automatic offers.
    #[serde(default)]
    #[cfg_attr(feature = "native", schema(max_items = 5))]
    pub staff_addresses: Vec<String>,
    /// The staff addresses also receive a copy of every offer mail sent to a customer.
    #[serde(default)]
    pub staff_copies: bool,
    /// When the event starts, in UTC (`2027-03-01T19:30:00Z`): signups are anonymised the
    /// organizer's retention days after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "native", schema(format = DateTime, example = "2027-03-01T19:30:00Z"))]
    pub starts: Option<String>,
}

impl WaitlistSettings {
    /// The settings of an event nobody has set up: not sold out, inactive.
    pub fn new(event: &str) -> Self {
        Self {
            sold_out: false,
            active: false,
            title: event.to_owned(),
            max_tickets: 4,
            max_signups: None,
            max_tickets_total: None,
            confirm_within_secs: 48 * 3600,
            languages: Lang::ALL.to_vec(),
            mail_text: BTreeMap::new(),
            mode: Mode::Manual,
            fit: Fit::Strict,
            offer_hours: default_offer_hours(),
            offer_link: None,
            sms: false,
            staff_addresses: Vec::new(),
            staff_copies: false,
            starts: None,
        }
    }

    /// Whether customers can sign up now.
    pub fn takes_signups(&self) -> bool {
        self.sold_out && self.active
    }

    /// What is wrong with these settings, if anything.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_TICKETS_LIMIT).contains(&self.max_tickets) {
            return Err(format!("max_tickets must be 1 to {MAX_TICKETS_LIMIT}"));
        }
        if self.max_signups == Some(0) || self.max_tickets_total == Some(0) {
            return Err("a cap of 0 would close the list: deactivate it instead".into());
        }
        let (lo, hi) = CONFIRM_WITHIN_RANGE;
        if !(lo..=hi).contains(&self.confirm_within_secs) {
            return Err(format!("confirm_within_secs must be {lo} to {hi}"));
        }
        if self.languages.is_empty() {
            return Err("offer at least one language".into());
        }
        let mut seen = self.languages.clone();
        seen.sort();
        seen.dedup();
        if seen.len() != self.languages.len() {
            return Err("a language is listed twice".into());
        }
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE || title.chars().any(char::is_control) {
            return Err(format!("title must be 1 to {MAX_TITLE} characters, no control characters"));
        }
        for (lang, text) in &self.mail_text {
            if text.chars().count() > MAX_MAIL_TEXT {
                return Err(format!("mail_text.{} is longer than {MAX_MAIL_TEXT} characters", lang.code()));
            }
            if text.chars().any(|c| c.is_control() && c != '\n') {
                return Err(format!("mail_text.{} holds control characters", lang.code()));
            }
        }
        let (lo, hi) = super::offer::OFFER_HOURS_RANGE;
        if !(lo..=hi).contains(&self.offer_hours) {
            return Err(format!("offer_hours must be {lo} to {hi}"));
        }
        if let Some(link) = &self.offer_link {
            super::offer::check_link(link, true)?;
        }
        if self.mode == Mode::Automatic && self.offer_link.is_none() {
            return Err("automatic mode needs offer_link: the link every automatic offer carries".into());
        }
        if self.staff_addresses.len() > MAX_STAFF_ADDRESSES {
            return Err(format!("staff_addresses: at most {MAX_STAFF_ADDRESSES}"));
        }
        let plain = crate::core::email::CanonicalRules { strip_plus_tags: false, gmail_dots: false };
        for address in &self.staff_addresses {
            let clean = !address.chars().any(|c| c.is_control() || c.is_whitespace() || "<>,;\"".contains(c));
            if !clean || crate::core::email::canonicalize(address, plain).is_err() {
                return Err(format!("staff_addresses: `{address}` is not an e-mail address"));
            }
        }
        if let Some(starts) = &self.starts {
            parse_time(starts).map_err(|e| format!("starts: {e}"))?;
        }
        if self.staff_copies && self.staff_addresses.is_empty() {
            return Err("staff_copies needs staff_addresses: where the copies go".into());
        }
        Ok(())
    }

    /// Seconds an offer holds.
    pub fn offer_secs(&self) -> u64 {
        u64::from(self.offer_hours) * 3600
    }

    /// When the event starts (Unix seconds), if the organizer said.
    pub fn starts_at(&self) -> Option<u64> {
        self.starts.as_deref().and_then(|s| parse_time(s).ok())
    }
}

/// A time as written (an event's start, a message's: RFC 3339 in UTC, `T` or a space, `Z`
/// optional), in Unix seconds, between 2000 and 2200.
pub(crate) fn parse_time(text: &str) -> Result<u64, String> {
    let bad = || format!("`{text}` is not a time in UTC such as 2027-03-01T19:30:00Z");
    let at = humantime::parse_rfc3339_weak(text.trim()).map_err(|_| bad())?;
    let secs = at.duration_since(std::time::UNIX_EPOCH).map_err(|_| bad())?.as_secs();
    (946_684_800..7_258_118_400).contains(&secs).then_some(secs).ok_or_else(bad)
}

/// A change to an event's settings: every field is optional, and only those given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = WaitlistChange, example = json!({
    "sold_out": true, "active": true, "max_tickets": 4
})))]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    /// Mark the event sold out (the waitlist is shown only then).
    pub sold_out: Option<bool>,
    /// Activate or deactivate the waitlist (deactivating keeps every signup and its status).
    pub active: Option<bool>,
    /// The event's name on pages and in mails: 1 to 200 characters.
    #[cfg_attr(feature = "native", schema(min_length = 1, max_length = 200))]
    pub title: Option<String>,
    /// Most tickets one signup may ask for (1 to 50).
    #[cfg_attr(feature = "native", schema(minimum = 1, maximum = 50))]
    pub max_tickets: Option<u32>,
    /// Most confirmed signups on the list; `null` removes the cap.
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "native", schema(value_type = Option<u32>, minimum = 1))]
    pub max_signups: Option<Option<u32>>,
    /// Most tickets over all confirmed signups; `null` removes the cap.
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "native", schema(value_type = Option<u32>, minimum = 1))]
    pub max_tickets_total: Option<Option<u32>>,
    /// Seconds a confirmation link lives (600 to 1209600).
    #[cfg_attr(feature = "native", schema(minimum = 600, maximum = 1209600))]
    pub confirm_within_secs: Option<u64>,
    /// The languages offered, the first being the default (at least one, each once).
    #[cfg_attr(feature = "native", schema(min_items = 1))]
    pub languages: Option<Vec<Lang>>,
    /// The organizer's own text per language (at most 4000 characters each), which every mail
    /// carries; replaces the texts of the languages given.
    pub mail_text: Option<BTreeMap<Lang, String>>,
    /// Who gives freed seats to the list: `manual` or `automatic` (needs `offer_link`).
    pub mode: Option<Mode>,
    /// `strict` (the head waits for enough seats) or `first_fit` (the next signups that fit).
    pub fit: Option<Fit>,
    /// Hours an offer holds (1 to 336).
    #[cfg_attr(feature = "native", schema(minimum = 1, maximum = 336))]
    pub offer_hours: Option<u32>,
    /// The link template of offers (`{code}` for the signed code); `null` removes it.
    #[serde(default, deserialize_with = "nullable_text")]
    #[cfg_attr(feature = "native", schema(value_type = Option<String>))]
    pub offer_link: Option<Option<String>>,
    /// Offers also by SMS to signups with a phone number (needs the operator's SMS webhook).
    pub sms: Option<bool>,
    /// Staff addresses (at most 5) told of automatic offers; replaces the list.
    #[cfg_attr(feature = "native", schema(max_items = 5))]
    pub staff_addresses: Option<Vec<String>>,
    /// Staff addresses also receive a copy of every offer mail.
    pub staff_copies: Option<bool>,
    /// When the event starts, in UTC (`2027-03-01T19:30:00Z`); `null` removes it.
    #[serde(default, deserialize_with = "nullable_text")]
    #[cfg_attr(feature = "native", schema(value_type = Option<String>, format = DateTime))]
    pub starts: Option<Option<String>>,
}

fn nullable_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(d).map(Some)
}

impl SettingsChange {
    /// The names of the fields this change sets (`mail_text.de` per language), for the audit
    /// log: which settings changed, not to what.
    pub fn fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = [
            ("sold_out", self.sold_out.is_some()),
            ("active", self.active.is_some()),
            ("title", self.title.is_some()),
            ("max_tickets", self.max_tickets.is_some()),
            ("max_signups", self.max_signups.is_some()),
            ("max_tickets_total", self.max_tickets_total.is_some()),
            ("confirm_within_secs", self.confirm_within_secs.is_some()),
            ("languages", self.languages.is_some()),
            ("mode", self.mode.is_some()),
            ("fit", self.fit.is_some()),
            ("offer_hours", self.offer_hours.is_some()),
            ("offer_link", self.offer_link.is_some()),
            ("sms", self.sms.is_some()),
            ("staff_addresses", self.staff_addresses.is_some()),
            ("staff_copies", self.staff_copies.is_some()),
            ("starts", self.starts.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| name.to_owned())
        .collect();
        for lang in self.mail_text.iter().flat_map(BTreeMap::keys) {
            fields.push(format!("mail_text.{}", lang.code()));
        }
        fields
    }

    /// `current` with this change applied, checked.
    pub fn apply(self, mut current: WaitlistSettings) -> Result<WaitlistSettings, String> {
        let s = &mut current;
        if let Some(v) = self.sold_out {
            s.sold_out = v;
        }
        if let Some(v) = self.active {
            s.active = v;
        }
        if let Some(v) = self.title {
            s.title = v.trim().to_owned();
        }
        if let Some(v) = self.max_tickets {
            s.max_tickets = v;
        }
        if let Some(v) = self.max_signups {
            s.max_signups = v;
        }
        if let Some(v) = self.max_tickets_total {
            s.max_tickets_total = v;
        }
        if let Some(v) = self.confirm_within_secs {
            s.confirm_within_secs = v;
        }
        if let Some(v) = self.languages {
            s.languages = v;
        }
        if let Some(v) = self.mode {
            s.mode = v;
        }
        if let Some(v) = self.fit {
            s.fit = v;
        }
        if let Some(v) = self.offer_hours {
            s.offer_hours = v;
        }
        if let Some(v) = self.offer_link {
            s.offer_link = v.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
        }
        if let Some(v) = self.sms {
            s.sms = v;
        }
        if let Some(v) = self.staff_addresses {
            s.staff_addresses = v.iter().map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect();
        }
        if let Some(v) = self.staff_copies {
            s.staff_copies = v;
        }
        if let Some(v) = self.starts {
            s.starts = match v.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
                Some(text) => Some(
                    humantime::format_rfc3339_seconds(
                        std::time::UNIX_EPOCH
                            + std::time::Duration::from_secs(
                                parse_time(&text).map_err(|e| format!("starts: {e}"))?,
                            ),
                    )
                    .to_string(),
                ),
                None => None,
            };
        }
        if let Some(texts) = self.mail_text {
            for (lang, text) in texts {
                if text.trim().is_empty() {
                    s.mail_text.remove(&lang);
                } else {
                    s.mail_text.insert(lang, text.replace("\r\n", "\n"));
                }
            }
        }
        current.check()?;
        Ok(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(json: &str) -> Result<WaitlistSettings, String> {
        let c: SettingsChange = serde_json::from_str(json).map_err(|e| e.to_string())?;
        c.apply(WaitlistSettings::new("gala"))
    }

    #[test]
    fn changes_apply_and_are_checked() {
        let s =
            change(r#"{"sold_out": true, "active": true, "max_tickets": 6, "max_signups": 100}"#).unwrap();
        assert!(s.takes_signups());
        assert_eq!((s.max_tickets, s.max_signups), (6, Some(100)));
        let c: SettingsChange = serde_json::from_str(r#"{"max_signups": null}"#).unwrap();
        assert_eq!(c.apply(s).unwrap().max_signups, None, "null removes a cap");
        for bad in [
            r#"{"max_tickets": 0}"#,
            r#"{"max_tickets": 51}"#,
            r#"{"max_signups": 0}"#,
            r#"{"confirm_within_secs": 5}"#,
            r#"{"languages": []}"#,
            r#"{"languages": ["en", "en"]}"#,
            r#"{"languages": ["fr"]}"#,
            r#"{"title": " "}"#,
            r#"{"title": "a\u0007b"}"#,
            r#"{"mail_text": {"en": "bell\u0007"}}"#,
            r#"{"unknown": 1}"#,
            r#"{"max_tickets": -1}"#,
            r#"{"max_tickets": "4"}"#,
            r#"{"mode": "automatic"}"#,
            r#"{"mode": "sometimes"}"#,
            r#"{"offer_hours": 0}"#,
            r#"{"offer_hours": 337}"#,
            r#"{"fit": "best"}"#,
            r#"{"offer_link": "/claim"}"#,
            r#"{"offer_link": "javascript:alert({code})"}"#,
            r#"{"staff_addresses": ["not an address"]}"#,
            r#"{"staff_addresses": ["a@b.example\r\nBcc: x@y.example"]}"#,
            r#"{"staff_addresses": ["Box <box@b.example>"]}"#,
            r#"{"staff_addresses": ["a@b.example,c@d.example"]}"#,
            r#"{"staff_addresses": ["1@b.example", "2@b.example", "3@b.example", "4@b.example", "5@b.example", "6@b.example"]}"#,
            r#"{"staff_copies": true}"#,
            r#"{"sms": "yes"}"#,
        ] {
            assert!(change(bad).is_err(), "{bad} was accepted");
        }
        let long = format!(r#"{{"mail_text": {{"en": "{}"}}}}"#, "x".repeat(MAX_MAIL_TEXT + 1));
        assert!(change(&long).is_err());
        let staff =
            change(r#"{"staff_addresses": [" box@hall.example ", ""], "staff_copies": true, "sms": true}"#)
                .unwrap();
        assert_eq!(staff.staff_addresses, ["box@hall.example"], "trimmed, blanks dropped");
        assert!(staff.staff_copies && staff.sms);
    }

    #[test]
    fn automatic_mode_needs_a_link_template_and_older_settings_read_as_manual() {
        let s =
            change(r#"{"mode": "automatic", "fit": "first_fit", "offer_link": "/claim?c={code}"}"#).unwrap();
        assert_eq!((s.mode, s.fit, s.offer_hours), (Mode::Automatic, Fit::FirstFit, 48));
        let c: SettingsChange = serde_json::from_str(r#"{"offer_link": null}"#).unwrap();
        assert!(c.apply(s.clone()).is_err(), "automatic mode without its link");
        let mut stored = serde_json::to_value(WaitlistSettings::new("gala")).unwrap();
        for field in ["mode", "fit", "offer_hours", "offer_link"] {
            stored.as_object_mut().unwrap().remove(field);
        }
        let old: WaitlistSettings = serde_json::from_value(stored).unwrap();
        assert_eq!((old.mode, old.fit, old.offer_hours), (Mode::Manual, Fit::Strict, 48));
    }

    #[test]
    fn the_start_is_a_time_in_utc_kept_in_one_form_and_can_be_removed() {
        let s = change(r#"{"starts": "2027-03-01 19:30:00"}"#).unwrap();
        assert_eq!(s.starts.as_deref(), Some("2027-03-01T19:30:00Z"));
        assert_eq!(s.starts_at(), Some(1_803_929_400));
        assert_eq!(change(r#"{"starts": "2027-03-01T19:30:00Z"}"#).unwrap().starts_at(), Some(1_803_929_400));
        for bad in [
            "tomorrow",
            "2027-03-01",
            "2027-13-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "2027-03-01T19:30:00+01:00",
        ] {
            let err = change(&format!(r#"{{"starts": "{bad}"}}"#)).unwrap_err();
            assert!(err.contains("starts"), "{bad}: {err}");
        }
        let cleared: SettingsChange = serde_json::from_str(r#"{"starts": null}"#).unwrap();
        assert_eq!(cleared.fields(), ["starts"]);
        assert_eq!(cleared.apply(s).unwrap().starts, None);
    }

    #[test]
    fn inactive_or_not_sold_out_takes_no_signups() {
        assert!(!change(r#"{"sold_out": true}"#).unwrap().takes_signups());
        assert!(!change(r#"{"active": true}"#).unwrap().takes_signups());
    }
}
