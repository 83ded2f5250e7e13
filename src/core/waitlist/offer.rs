//! Offers of freed seats, sans I/O: what an offer is, how it ends, and which signups the seats
//! go to.
//!
//! An offer is for a whole signup (all of its tickets, never part of them). It holds until its
//! deadline and ends as taken (the backend reports the booking), declined (the customer's
//! decline link), expired, or withdrawn by staff. An offered signup is out of the line (those
//! behind move up); a declined or expired offer ends its signup, a withdrawn one puts it back in
//! its old place.
//!
//! [`Chooser`] decides, signup by signup in line order, who receives offers for a number of
//! free seats under the event's [`Fit`] rule.

use serde::{Deserialize, Serialize};

use super::settings::Fit;

/// Where an offer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OfferStatus {
    /// Sent, waiting for the customer.
    Open,
    /// The backend reported the booking.
    Taken,
    /// The customer declined.
    Declined,
    /// Its time ran out.
    Expired,
    /// Staff withdrew it; the signup is back in line.
    Withdrawn,
}

impl OfferStatus {
    /// The lowercase name, as in exports and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Taken => "taken",
            Self::Declined => "declined",
            Self::Expired => "expired",
            Self::Withdrawn => "withdrawn",
        }
    }
}

/// Who made an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OfferOrigin {
    /// Freed seats reported by the backend, in line order.
    Automatic,
    /// Staff chose the signup.
    Staff,
}

/// One offer, as stored. Times are seconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// Its number within the event (from 1, in the order offers were made).
    pub number: u64,
    /// The event.
    pub event: String,
    /// The signup it is for.
    pub signup: String,
    /// The signup's line number.
    pub seq: u64,
    /// Tickets offered: the signup's, all of them.
    pub tickets: u32,
    /// Where it stands.
    pub status: OfferStatus,
    /// Who made it.
    pub origin: OfferOrigin,
    /// When it was made.
    pub made: u64,
    /// Until when it holds.
    pub expires: u64,
    /// When it ended (taken, declined, expired, withdrawn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<u64>,
    /// The link the customer books with, when the backend or staff gave one (a reservation's
    /// payment link, an allocation's action link); otherwise the event's link template with
    /// the offer's signed code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Staff's own text for the customer, put into the offer mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Offer {
    /// Whether it is still open at `now` (open and before its deadline).
    pub fn is_open(&self, now: u64) -> bool {
        self.status == OfferStatus::Open && now < self.expires
    }
}

/// Most seats one report may free.
pub const MAX_SEATS: u32 = 10_000;
/// Shortest and longest time an offer holds, in hours (one hour, two weeks).
pub const OFFER_HOURS_RANGE: (u32, u32) = (1, 336);
/// Longest link (given or template), in bytes.
pub const MAX_LINK: usize = 2000;
/// Longest staff text on an offer, in characters.
pub const MAX_OFFER_TEXT: usize = 4000;

/// What [`Chooser::consider`] says about the next signup in line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Offer it the seats it wants.
    Offer,
    /// It does not fit; look at the next one (first fit).
    Pass,
    /// Stop here: no seats left, or the head does not fit and waits (strict).
    Stop,
}

/// Hands out `seats` to signups in line order under a [`Fit`] rule.
#[derive(Debug, Clone)]
pub struct Chooser {
    left: u32,
    fit: Fit,
}

impl Chooser {
    /// A chooser with `seats` to hand out.
    pub fn new(seats: u32, fit: Fit) -> Self {
        Self { left: seats, fit }
    }

    /// Seats not handed out yet.
    pub fn left(&self) -> u32 {
        self.left
    }

    /// Whether nothing is left to hand out.
    pub fn done(&self) -> bool {
        self.left == 0
    }

    /// The verdict on the next waiting signup, which wants `tickets`, without taking anything
    /// (the caller checks the blacklist only for signups that would get seats or stop the line).
    pub fn verdict(&self, tickets: u32) -> Verdict {
        if self.left == 0 {
            Verdict::Stop
        } else if tickets <= self.left {
            Verdict::Offer
        } else {
            match self.fit {
                Fit::Strict => Verdict::Stop,
                Fit::FirstFit => Verdict::Pass,
            }
        }
    }

    /// The verdict on the next waiting signup; an offer takes its seats.
    pub fn consider(&mut self, tickets: u32) -> Verdict {
        let verdict = self.verdict(tickets);
        if verdict == Verdict::Offer {
            self.left -= tickets;
        }
        verdict
    }
}

/// The body of an offer's code: `{event}.{number}`.
pub fn code_body(event: &str, number: u64) -> String {
    format!("{event}.{number}")
}

/// The event and offer number of a code's body.
pub fn parse_code_body(body: &str) -> Option<(&str, u64)> {
    let (event, number) = body.split_once('.')?;
    let digits = !number.is_empty() && number.len() <= 19 && number.bytes().all(|b| b.is_ascii_digit());
    let number: u64 = if digits { number.parse().ok()? } else { return None };
    (crate::core::blacklist::is_slug(event) && number > 0).then_some((event, number))
}

/// The link of an offer from the event's `template`: `{code}` becomes the code and `{event}`
/// the event, both URL-safe already; a template starting with `/` is on the shop's
/// `public_url`.
pub fn link_from_template(template: &str, public_url: &str, event: &str, code: &str) -> String {
    let filled = template.replace("{code}", code).replace("{event}", event);
    if filled.starts_with('/') {
        format!("{}{filled}", public_url.trim_end_matches('/'))
    } else {
        filled
    }
}

/// What is wrong with a link (given for one offer, or a template when `template`), if anything:
/// an absolute `http(s)` URL (a template may also be a path on the shop), at most
/// [`MAX_LINK`] bytes, no spaces or control characters; a template holds `{code}`.
pub fn check_link(link: &str, template: bool) -> Result<(), String> {
    let what = if template { "offer_link" } else { "link" };
    if link.len() > MAX_LINK || link.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("{what}: at most {MAX_LINK} bytes, no spaces or control characters"));
    }
    let absolute = link.starts_with("https://") || link.starts_with("http://");
    let path = template && link.starts_with('/') && !link.starts_with("//");
    if !(absolute || path) {
        return Err(format!(
            "{what}: an http(s) URL{}",
            if template { " or a path on the shop" } else { "" }
        ));
    }
    if template && !link.contains("{code}") {
        return Err("offer_link: the template must hold {code}".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose(seats: u32, fit: Fit, wants: &[u32]) -> (Vec<usize>, u32) {
        let mut c = Chooser::new(seats, fit);
        let mut offered = Vec::new();
        for (i, t) in wants.iter().enumerate() {
            match c.consider(*t) {
                Verdict::Offer => offered.push(i),
                Verdict::Pass => {}
                Verdict::Stop => break,
            }
        }
        (offered, c.left())
    }

    #[test]
    fn strict_lets_the_head_wait_and_first_fit_goes_past_it() {
        assert_eq!(choose(4, Fit::Strict, &[2, 2, 1]), (vec![0, 1], 0));
        assert_eq!(choose(3, Fit::Strict, &[4, 1, 1]), (vec![], 3), "the head wants 4: all wait");
        assert_eq!(choose(3, Fit::FirstFit, &[4, 1, 1]), (vec![1, 2], 1));
        assert_eq!(choose(5, Fit::Strict, &[2, 4, 1]), (vec![0], 3), "strict stops at the second");
        assert_eq!(choose(5, Fit::FirstFit, &[2, 4, 1, 2]), (vec![0, 2, 3], 0));
        assert_eq!(choose(0, Fit::FirstFit, &[1]), (vec![], 0));
        assert_eq!(choose(9, Fit::Strict, &[]), (vec![], 9), "an empty line keeps the seats");
    }

    #[test]
    fn codes_and_links() {
        assert_eq!(parse_code_body(&code_body("gala", 17)), Some(("gala", 17)));
        for bad in ["gala", "gala.", "gala.0", "gala.-1", "Gala.1", "gala.1x", "gala.99999999999999999999"] {
            assert_eq!(parse_code_body(bad), None, "{bad}");
        }
        let t = "/events/{event}/claim?offer={code}";
        assert!(check_link(t, true).is_ok());
        assert_eq!(
            link_from_template(t, "https://shop.example/", "gala", "c0de"),
            "https://shop.example/events/gala/claim?offer=c0de"
        );
        assert!(check_link("https://pay.example/r/123", false).is_ok());
        for bad in ["/claim", "//evil.example/{code}", "javascript:{code}", "https://a b/{code}"] {
            assert!(check_link(bad, true).is_err(), "{bad}");
        }
        assert!(check_link("/relative", false).is_err(), "a given link is absolute");
        assert!(check_link(&format!("https://x/{}", "a".repeat(MAX_LINK)), false).is_err());
    }
}
