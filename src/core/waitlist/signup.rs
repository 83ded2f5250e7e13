//! One signup on an event's waitlist, as stored.

use serde::{Deserialize, Serialize};

use super::Lang;

/// Where a signup stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for the customer to follow the confirmation link.
    Pending,
    /// Confirmed: in line.
    Confirmed,
    /// Cancelled by the customer (or staff): out of line for good.
    Cancelled,
    /// Holds an open offer: out of line while it lasts.
    Offered,
    /// Took its offer (the backend reported the booking).
    Booked,
    /// Declined its offer.
    Declined,
    /// Its offer expired unanswered.
    Lapsed,
}

impl Status {
    /// The lowercase name, as in exports and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Cancelled => "cancelled",
            Self::Offered => "offered",
            Self::Booked => "booked",
            Self::Declined => "declined",
            Self::Lapsed => "lapsed",
        }
    }

    /// Whether the signup is done with (cancelled, or its offer ended it): it holds no place
    /// and its address may sign up again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Cancelled | Self::Booked | Self::Declined | Self::Lapsed)
    }
}

/// A signup. Times are seconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signup {
    /// Random id, unguessable (22 base64url characters).
    pub id: String,
    /// The event.
    pub event: String,
    /// The address mails go to, as typed (trimmed).
    pub email: String,
    /// The customer's name.
    pub name: String,
    /// Phone number, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Tickets wanted.
    pub tickets: u32,
    /// The language of the customer's pages and mails.
    pub lang: Lang,
    /// The signed-in customer's account, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Where it stands.
    pub status: Status,
    /// When it was made.
    pub created: u64,
    /// Until when a pending signup can be confirmed.
    pub expires: u64,
    /// When it was confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<u64>,
    /// When it was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<u64>,
    /// Its number in line, once confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Made by box-office staff on the customer's behalf.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub box_office: bool,
    /// Staff used the organizer's box-office address: mails go to the box office, and the
    /// phone number (not the address) makes the signup one of a kind.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub box_office_address: bool,
    /// Staff's internal note: shown to staff and in staff exports only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Its latest offer's number, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<u64>,
    /// When its personal data was erased (by retention or on request): address, name, phone,
    /// account and note are empty since; its place and status stay, so the line adds up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymised: Option<u64>,
    /// The customer ticked "keep me informed": messages beyond those the signup needs may go to
    /// them (without it, only those). A later choice from the manage link or a news mail's
    /// unsubscribe is kept apart ([`news_choice`]) and read over it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub informed: bool,
}

/// What staff noted about a signup after it was made, kept apart from the signup's record (so a
/// staff edit never races a customer's change to it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    /// Staff's internal note, replacing the one given at signup (`Some("")`: removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When staff marked the customer contacted (a call, a mail of their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacted: Option<u64>,
}

impl Annotation {
    /// The note staff see for `signup`: the annotation's, else the one given at signup.
    pub fn note_of(annotation: Option<&Self>, signup: &Signup) -> Option<String> {
        match annotation.and_then(|a| a.note.clone()) {
            Some(n) if n.is_empty() => None,
            Some(n) => Some(n),
            None => signup.note.clone(),
        }
    }
}

/// A customer's later choice about news as stored under [`super::keys::news`]: `Some(true)`
/// for `yes`, `Some(false)` for `no`, `None` when they never changed their mind (or the value
/// is no choice).
pub fn news_choice(raw: Option<&[u8]>) -> Option<bool> {
    match raw? {
        b"yes" => Some(true),
        b"no" => Some(false),
        _ => None,
    }
}

impl Signup {
    /// Whether it still holds (or waits for) a place: pending and not expired, or confirmed.
    pub fn is_active(&self, now: u64) -> bool {
        match self.status {
            Status::Pending => now < self.expires,
            Status::Confirmed | Status::Offered => true,
            Status::Cancelled | Status::Booked | Status::Declined | Status::Lapsed => false,
        }
    }
}
