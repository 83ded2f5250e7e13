//! The signup form: its fields as the browser sends them, checked field by field.

use super::WaitlistSettings;
use crate::core::email::{canonicalize, CanonicalRules};

/// Longest name, in characters.
pub const MAX_NAME: usize = 100;
/// Longest phone number, in characters.
pub const MAX_PHONE: usize = 32;
/// Longest staff note, in characters.
pub const MAX_NOTE: usize = 500;

/// A staff note as typed, checked: trimmed, line ends as `\n`, at most [`MAX_NOTE`] characters
/// and no control characters but line ends; `Ok(None)` for an empty note (it removes one).
pub fn checked_note(text: &str) -> Result<Option<String>, FieldError> {
    let note = text.trim();
    let ok =
        note.chars().count() <= MAX_NOTE && !note.chars().any(|c| c.is_control() && c != '\n' && c != '\r');
    if !ok {
        return Err(FieldError::Note);
    }
    Ok((!note.is_empty()).then(|| note.replace("\r\n", "\n")))
}
/// Longest form body read, in bytes.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// Longest body of staff's form for a message to the whole list, in bytes: a message of 4000
/// characters outside ASCII, percent-encoded, with its subject and fields.
pub const MAX_MESSAGE_FORM_BYTES: usize = 64 * 1024;

/// A form posted to one of Doorman's own pages, read once: its fields by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Reads an `application/x-www-form-urlencoded` body (`form_urlencoded`). `None` when a
    /// field repeats (a form never sends one twice, so a repeat is an attempt to be read two
    /// ways) or the text is not UTF-8 once percent-decoded (nothing is read with replacement
    /// characters).
    pub fn parse(body: &[u8]) -> Option<Self> {
        // Separators are ASCII, so the whole body decodes to UTF-8 exactly when every name and
        // value does.
        percent_encoding::percent_decode(body).decode_utf8().ok()?;
        let mut fields: Vec<(String, String)> = Vec::new();
        for (k, v) in form_urlencoded::parse(body) {
            if fields.iter().any(|(name, _)| *name == k) {
                return None;
            }
            fields.push((k.into_owned(), v.into_owned()));
        }
        Some(Self(fields))
    }

    /// The value of field `name`, if sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// The fields of a submitted signup form, as sent (urlencoded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignupFields {
    /// `email`.
    pub email: String,
    /// `name`.
    pub name: String,
    /// `phone`.
    pub phone: String,
    /// `tickets`.
    pub tickets: String,
    /// `website`: the honeypot, empty for people.
    pub website: String,
    /// `csrf`: the form's token.
    pub csrf: String,
    /// `lang`: the page's language.
    pub lang: String,
    /// `box_office_address`: staff use the organizer's box-office address (the checkbox sent,
    /// whatever its value).
    pub box_office_address: bool,
    /// `note`: staff's internal note.
    pub note: String,
    /// `informed`: the "keep me informed" box, ticked (whatever its value).
    pub informed: bool,
}

impl SignupFields {
    /// The signup fields of `form` (missing ones empty).
    pub fn from_form(form: &Form) -> Self {
        let text = |name: &str| form.get(name).unwrap_or_default().to_owned();
        Self {
            email: text("email"),
            name: text("name"),
            phone: text("phone"),
            tickets: text("tickets"),
            website: text("website"),
            csrf: text("csrf"),
            lang: text("lang"),
            box_office_address: form.get("box_office_address").is_some(),
            note: text("note"),
            informed: form.get("informed").is_some(),
        }
    }

    /// Whether the form carries a field only staff may fill in (an empty note is no field).
    pub fn has_staff_fields(&self) -> bool {
        self.box_office_address || !self.note.trim().is_empty()
    }
}

/// A field that is not right, named for the message the form shows beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldError {
    /// The address cannot be a mailbox.
    Email,
    /// No name.
    NameMissing,
    /// Name too long or holding control characters.
    NameInvalid,
    /// Not a phone number.
    Phone,
    /// Staff used the box-office address without a phone number.
    PhoneRequired,
    /// Tickets not a whole number from 1 to the event's limit.
    Tickets,
    /// The note is too long or holds control characters.
    Note,
    /// Staff chose the box-office address, but their organizer has none set up.
    NoBoxOfficeAddress,
}

impl FieldError {
    /// The form field it belongs to.
    pub fn field(self) -> &'static str {
        match self {
            Self::Email | Self::NoBoxOfficeAddress => "email",
            Self::NameMissing | Self::NameInvalid => "name",
            Self::Phone | Self::PhoneRequired => "phone",
            Self::Tickets => "tickets",
            Self::Note => "note",
        }
    }

    /// The message id of its text (see the locale files).
    pub fn message(self) -> &'static str {
        match self {
            Self::Email => "error-email",
            Self::NameMissing => "error-name-missing",
            Self::NameInvalid => "error-name-invalid",
            Self::Phone => "error-phone",
            Self::PhoneRequired => "error-phone-required",
            Self::Tickets => "error-tickets",
            Self::Note => "error-note",
            Self::NoBoxOfficeAddress => "error-no-box-office",
        }
    }
}

/// A signup as checked: ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSignup {
    /// The address mails go to (trimmed).
    pub email: String,
    /// The canonical address (what "one signup per address" compares).
    pub canonical_email: String,
    /// The name (trimmed).
    pub name: String,
    /// The phone number, if given (trimmed).
    pub phone: Option<String>,
    /// Tickets wanted.
    pub tickets: u32,
    /// Staff's note, if any.
    pub note: Option<String>,
    /// Staff used the organizer's box-office address (`email` is that address).
    pub box_office_address: bool,
    /// The customer asked to be kept informed: messages beyond those the signup needs.
    pub informed: bool,
}

/// Who fills the form in: staff may use the box-office address and add a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filler<'a> {
    /// A customer.
    Customer,
    /// Box-office staff, with their organizer's box-office address (if one is set up).
    Staff {
        /// The organizer's general box-office address.
        box_office_address: Option<&'a str>,
    },
}

/// Whether a canonical address is one mail can go to: a dot-atom local part (RFC 5322 `atext`,
/// or non-ASCII letters and digits) and a domain with a dot.
pub fn is_mailbox(canonical: &str) -> bool {
    let Some((local, domain)) = canonical.rsplit_once('@') else { return false };
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let dot_atom = |s: &str| !s.is_empty() && s.split('.').all(|p| !p.is_empty() && p.chars().all(atext));
    let label = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    dot_atom(local) && local.len() <= 64 && domain.contains('.') && domain.split('.').all(label)
}

fn clean_line(s: &str, max: usize) -> Option<String> {
    let s = s.trim();
    (s.chars().count() <= max && !s.chars().any(char::is_control)).then(|| s.to_owned())
}

/// Checks `fields` against the event's `settings`; every field's error at once.
pub fn check(
    fields: &SignupFields,
    settings: &WaitlistSettings,
    filler: Filler<'_>,
    rules: CanonicalRules,
) -> Result<CheckedSignup, Vec<FieldError>> {
    let mut errors = Vec::new();
    let use_box_office = matches!(filler, Filler::Staff { .. }) && fields.box_office_address;
    let email = match filler {
        Filler::Staff { box_office_address } if use_box_office => box_office_address.unwrap_or("").trim(),
        _ => fields.email.trim(),
    };
    let canonical_email = match canonicalize(email, rules) {
        Ok(c) if email.len() <= crate::core::email::MAX_LEN && is_mailbox(&c) => c,
        _ if use_box_office && email.is_empty() => {
            errors.push(FieldError::NoBoxOfficeAddress);
            String::new()
        }
        _ => {
            errors.push(FieldError::Email);
            String::new()
        }
    };
    let name = match clean_line(&fields.name, MAX_NAME) {
        Some(n) if n.is_empty() => {
            errors.push(FieldError::NameMissing);
            n
        }
        Some(n) => n,
        None => {
            errors.push(FieldError::NameInvalid);
            String::new()
        }
    };
    let phone = fields.phone.trim();
    let phone_ok = phone.chars().count() <= MAX_PHONE
        && phone.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
        && (phone.is_empty() || phone.chars().filter(char::is_ascii_digit).count() >= 6);
    if !phone_ok {
        errors.push(FieldError::Phone);
    } else if use_box_office && phone.is_empty() {
        errors.push(FieldError::PhoneRequired);
    }
    let tickets = fields.tickets.trim();
    let tickets = match tickets.parse::<u32>() {
        Ok(n) if (1..=settings.max_tickets).contains(&n) && tickets.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => {
            errors.push(FieldError::Tickets);
            0
        }
    };
    let note = match filler {
        Filler::Customer => None,
        Filler::Staff { .. } => checked_note(&fields.note).unwrap_or_else(|e| {
            errors.push(e);
            None
        }),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CheckedSignup {
        email: email.to_owned(),
        canonical_email,
        name,
        phone: (!phone.is_empty()).then(|| phone.to_owned()),
        tickets,
        note,
        box_office_address: use_box_office,
        informed: fields.informed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> WaitlistSettings {
        WaitlistSettings { max_tickets: 4, ..WaitlistSettings::new("gala") }
    }

    fn fields(email: &str, name: &str, tickets: &str) -> SignupFields {
        SignupFields { email: email.into(), name: name.into(), tickets: tickets.into(), ..Default::default() }
    }

    fn errors(f: &SignupFields, filler: Filler<'_>) -> Vec<FieldError> {
        check(f, &settings(), filler, CanonicalRules::default()).err().unwrap_or_default()
    }

    #[test]
    fn a_good_signup() {
        let c = check(
            &fields(" Ada@Example.com ", " Ada ", "2"),
            &settings(),
            Filler::Customer,
            Default::default(),
        )
        .unwrap();
        assert_eq!((c.email.as_str(), c.canonical_email.as_str()), ("Ada@Example.com", "ada@example.com"));
        assert_eq!((c.name.as_str(), c.tickets, c.phone, c.note), ("Ada", 2, None, None));
    }

    #[test]
    fn tickets_must_be_a_whole_number_within_the_limit() {
        for bad in ["0", "-1", "5", "", "two", "1.5", "+1", "1e1", "99999999999", "٣"] {
            assert_eq!(
                errors(&fields("a@b.co", "A", bad), Filler::Customer),
                [FieldError::Tickets],
                "{bad:?}"
            );
        }
        assert!(errors(&fields("a@b.co", "A", "4"), Filler::Customer).is_empty());
    }

    #[test]
    fn hostile_fields_are_refused() {
        for bad in [
            "",
            "no-at",
            "a@b.co\r\nBcc: x@y.z",
            "a b@c.de",
            "<script>@x.y",
            "a@b",
            "a..b@c.de",
            "a@-x.de",
            "a@x_y.de",
            &format!("{}@x.co", "a".repeat(260)),
        ] {
            assert!(errors(&fields(bad, "A", "1"), Filler::Customer).contains(&FieldError::Email), "{bad:?}");
        }
        assert_eq!(errors(&fields("a@b.co", "A\r\nB", "1"), Filler::Customer), [FieldError::NameInvalid]);
        assert_eq!(errors(&fields("a@b.co", " ", "1"), Filler::Customer), [FieldError::NameMissing]);
        assert_eq!(
            errors(&fields("a@b.co", &"n".repeat(101), "1"), Filler::Customer),
            [FieldError::NameInvalid]
        );
        let mut f = fields("a@b.co", "A", "1");
        f.phone = "call me".into();
        assert_eq!(errors(&f, Filler::Customer), [FieldError::Phone]);
        // Several wrong fields are all reported.
        assert_eq!(errors(&fields("x", "", "0"), Filler::Customer).len(), 3);
    }

    #[test]
    fn staff_fields_count_only_for_staff() {
        let mut f = fields("", "Walk-in", "2");
        f.box_office_address = true;
        f.note = "pays cash".into();
        assert_eq!(errors(&f, Filler::Customer), [FieldError::Email], "customers have no box-office address");
        let staff = Filler::Staff { box_office_address: Some("box@gala.example") };
        assert_eq!(errors(&f, staff), [FieldError::PhoneRequired]);
        f.phone = "+31 6 1234 5678".into();
        let c = check(&f, &settings(), staff, Default::default()).unwrap();
        assert_eq!((c.email.as_str(), c.note.as_deref()), ("box@gala.example", Some("pays cash")));
        assert!(c.box_office_address);
        let unset = Filler::Staff { box_office_address: None };
        assert_eq!(errors(&f, unset), [FieldError::NoBoxOfficeAddress], "no address set up");
        let customer =
            check(&fields("a@b.co", "A", "1"), &settings(), Filler::Customer, Default::default()).unwrap();
        assert_eq!(customer.note, None, "a customer's form carries no note");
        f.note = "bell\u{7}".into();
        assert_eq!(errors(&f, staff), [FieldError::Note]);
    }

    #[test]
    fn repeated_fields_and_broken_text_are_refused() {
        assert!(Form::parse(b"email=a%40b.co&tickets=1&tickets=2").is_none());
        assert!(Form::parse(b"name=Jos%E9").is_none(), "Latin-1, not UTF-8");
        assert!(Form::parse(b"name=\xff").is_none());
        let form = Form::parse(b"email=a%40b.co&name=A+B&tickets=2&extra=x&name2=Jos%C3%A9").unwrap();
        let f = SignupFields::from_form(&form);
        assert_eq!((f.email.as_str(), f.name.as_str(), f.tickets.as_str()), ("a@b.co", "A B", "2"));
        assert_eq!(form.get("name2"), Some("José"));
        assert_eq!(Form::parse(b"").unwrap().get("csrf"), None);
    }
}
