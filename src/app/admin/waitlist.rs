//! An event's waitlist settings: read by its organizer's tokens and the operator, changed the
//! same way (only the fields given change; deactivating keeps every signup).

use serde::Serialize;

use super::{slug, Access, Admin, AdminError, Principal};
use crate::core::blacklist::audit::AuditAction;
use crate::core::blacklist::{event_key, Scope};
use crate::core::waitlist::settings::SettingsChange;
use crate::core::waitlist::{keys, Annotation, Offer, Signup, Status, WaitlistSettings};
use crate::ports::store::Store;

/// An event's waitlist settings (defaults when never set) and its confirmed totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = WaitlistAnswer))]
pub struct SettingsAnswer {
    /// The event slug.
    pub event: String,
    /// The settings.
    pub settings: WaitlistSettings,
    /// Confirmed signups on the list now.
    pub confirmed_signups: i64,
    /// Tickets over all confirmed signups now.
    pub confirmed_tickets: i64,
}

impl<S: Store> Admin<S> {
    /// Fails unless `who` may `access` the waitlist of `event`: the operator, or a token of
    /// the organizer `event` is mapped to (box-office tokens only to read).
    /// Checks that `who` may have `access` to `event`'s waitlist; answers the event's audit
    /// scope (its organizer, or the platform for an event no organizer owns).
    pub(super) async fn require_event(
        &self,
        who: &Principal,
        event: &str,
        access: Access,
    ) -> Result<Scope, AdminError> {
        slug("event", event)?;
        let organizer = self.ports.store.get(&event_key(event)).await?;
        let organizer = organizer.as_deref().and_then(|o| std::str::from_utf8(o).ok());
        if who.organizer().is_none() {
            who.require_waitlist(None, access)?;
        } else {
            who.require_waitlist(organizer, access)?;
        }
        Ok(organizer.map_or(Scope::Platform, |o| Scope::Organizer(o.to_owned())))
    }

    async fn stored_settings(&self, event: &str) -> Result<WaitlistSettings, AdminError> {
        let raw = self.ports.store.get(&keys::settings(event)).await?;
        Ok(raw.and_then(|v| serde_json::from_slice(&v).ok()).unwrap_or_else(|| WaitlistSettings::new(event)))
    }

    async fn settings_answer(
        &self,
        event: &str,
        settings: WaitlistSettings,
    ) -> Result<SettingsAnswer, AdminError> {
        let store = &self.ports.store;
        let signups = store.increment(&keys::signups_count(event), 0, None).await?;
        let tickets = store.increment(&keys::tickets_count(event), 0, None).await?;
        Ok(SettingsAnswer {
            event: event.to_owned(),
            settings,
            confirmed_signups: signups,
            confirmed_tickets: tickets,
        })
    }

    /// The waitlist settings of `event` (defaults when never set), with its confirmed totals.
    pub async fn waitlist_settings(
        &self,
        who: &Principal,
        event: &str,
    ) -> Result<SettingsAnswer, AdminError> {
        self.require_event(who, event, Access::Read).await?;
        let settings = self.stored_settings(event).await?;
        self.settings_answer(event, settings).await
    }
}

impl<S: Store + Clone> Admin<S> {
    /// Applies `change` to the waitlist settings of `event`.
    pub async fn change_waitlist(
        &self,
        who: &Principal,
        event: &str,
        change: SettingsChange,
    ) -> Result<SettingsAnswer, AdminError> {
        let scope = self.require_event(who, event, Access::Change).await?;
        let fields = change.fields();
        let sms_wanted = change.sms == Some(true);
        let settings = change.apply(self.stored_settings(event).await?).map_err(AdminError::bad)?;
        // Where the admin serves a waitlist, it knows whether the operator set up SMS.
        let waitlist = self.app.as_ref().and_then(|a| a.waitlist());
        if sms_wanted && waitlist.is_some_and(|w| w.config().sms.is_none()) {
            return Err(AdminError::bad(
                "sms: this installation sends no SMS (the operator sets up [waitlist.sms])",
            ));
        }
        let value = serde_json::to_vec(&settings).map_err(|e| AdminError::bad(e.to_string()))?;
        self.ports.store.set(&keys::settings(event), &value, None).await?;
        // Listed for the retention pass (adding a listed event again changes nothing).
        let member = (keys::WAITLIST_EVENTS.to_owned(), keys::event_member(event));
        self.ports.store.add_members(&[member]).await?;
        let detail = Some(fields.join(", "));
        self.record_detail(who, AuditAction::ChangeWaitlist, ("event", event), &scope, detail).await;
        tracing::info!(who = %who.label(), event, active = settings.active, sold_out = settings.sold_out, "waitlist settings changed");
        self.settings_answer(event, settings).await
    }
}

/// Most signups in one page of an export.
pub const MAX_PAGE: usize = 1000;

/// One signup of an export, in line order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = WaitlistSignup))]
pub struct ExportRow {
    /// The signup's id (for staff offers and erasures; the CSV leaves it out).
    pub id: String,
    /// Place in line (confirmed signups only).
    pub place: Option<u64>,
    /// Its line number (the cursor of the next page starts after the last one).
    pub number: u64,
    /// `confirmed` (waiting), `offered` (holds an open offer), `booked`, `declined`, `lapsed`
    /// (its offer expired) or `cancelled`.
    #[cfg_attr(
        feature = "native",
        schema(value_type = String, pattern = "^(confirmed|offered|booked|declined|lapsed|cancelled)$")
    )]
    pub status: &'static str,
    /// Tickets.
    pub tickets: u32,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Phone, if given.
    pub phone: Option<String>,
    /// Staff's note (exports are for the organizer's admins and staff).
    pub note: Option<String>,
    /// Language.
    #[cfg_attr(feature = "native", schema(value_type = crate::core::waitlist::Lang))]
    pub lang: &'static str,
    /// The signed-in customer's account, if any.
    pub account: Option<String>,
    /// Made by box-office staff.
    pub box_office: bool,
    /// When it was made, confirmed and cancelled (RFC 3339).
    #[cfg_attr(feature = "native", schema(format = DateTime))]
    pub created: String,
    /// See [`ExportRow::created`].
    pub confirmed: Option<String>,
    /// See [`ExportRow::created`].
    pub cancelled: Option<String>,
    /// Its latest offer's number, if it had one.
    pub offer: Option<u64>,
    /// That offer's status: `open`, `taken`, `declined`, `expired` or `withdrawn`.
    #[cfg_attr(feature = "native", schema(value_type = Option<String>))]
    pub offer_status: Option<&'static str>,
    /// When the offer was made, until when it holds, when it ended (RFC 3339).
    #[cfg_attr(feature = "native", schema(format = DateTime))]
    pub offered: Option<String>,
    /// See [`ExportRow::offered`].
    pub offer_expires: Option<String>,
    /// See [`ExportRow::offered`].
    pub offer_ended: Option<String>,
    /// When staff marked the customer contacted (RFC 3339).
    pub contacted: Option<String>,
    /// The customer wants news beyond what the signup needs: "keep me informed" ticked at
    /// signup, or chosen later from the manage link (a later "stop the news" wins).
    pub informed: bool,
}

/// One page of an export: its rows, and the cursor of the next page (`None` at the end).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(as = WaitlistPage))]
pub struct ExportPage {
    /// The rows, in line order.
    pub signups: Vec<ExportRow>,
    /// Pass as `after` for the next page; null at the end.
    pub next: Option<u64>,
    /// The rows carry staff's internal notes (`note`), which customers never see: keep the
    /// export among staff.
    pub internal_notes: bool,
}

pub(super) fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .to_string()
}

impl<S: Store> Admin<S> {
    /// Up to `limit` confirmed (and since cancelled) signups of `event` after line number
    /// `after`, in line order: two `get_many`s and one place lookup per page, whatever the
    /// list's length.
    pub async fn waitlist_export(
        &self,
        who: &Principal,
        event: &str,
        after: u64,
        limit: usize,
    ) -> Result<ExportPage, AdminError> {
        let scope = self.require_event(who, event, Access::Read).await?;
        let store = &self.ports.store;
        let limit = limit.clamp(1, MAX_PAGE);
        let top = store.increment(&keys::line_counter(event), 0, None).await?.max(0) as u64;
        let numbers: Vec<u64> = (after.saturating_add(1)..=top).take(limit).collect();
        let line_keys: Vec<String> = numbers.iter().map(|n| keys::line_entry(event, *n)).collect();
        let ids = store.get_many(&line_keys).await?;
        let held: Vec<(u64, String)> =
            numbers.iter().zip(ids).filter_map(|(n, id)| Some((*n, String::from_utf8(id?).ok()?))).collect();
        let signup_keys: Vec<String> = held.iter().map(|(_, id)| keys::signup(event, id)).collect();
        let records: Vec<Option<Signup>> = store
            .get_many(&signup_keys)
            .await?
            .into_iter()
            .zip(&signup_keys)
            .map(|(raw, key)| self.ports.open(key, raw))
            .collect::<Result<_, _>>()?;
        let offer_keys: Vec<String> =
            records.iter().flatten().filter_map(|s| Some(keys::offer(event, s.offer?))).collect();
        let mut offers: std::collections::HashMap<u64, Offer> = store
            .get_many(&offer_keys)
            .await?
            .into_iter()
            .filter_map(|raw| serde_json::from_slice::<Offer>(&raw?).ok())
            .map(|o| (o.number, o))
            .collect();
        let annotation_keys: Vec<String> = records
            .iter()
            .map(|r| keys::annotation(event, r.as_ref().map_or("", |s| s.id.as_str())))
            .collect();
        let annotations: Vec<Option<Annotation>> = store
            .get_many(&annotation_keys)
            .await?
            .into_iter()
            .zip(&annotation_keys)
            .map(|(raw, key)| self.ports.open(key, raw))
            .collect::<Result<_, _>>()?;
        let news_keys: Vec<String> = held.iter().map(|(_, id)| keys::news(event, id)).collect();
        let news = store.get_many(&news_keys).await?;
        let mut next_place = None;
        let mut signups = Vec::with_capacity(held.len());
        for ((((number, _), record), annotation), news) in held.iter().zip(records).zip(annotations).zip(news)
        {
            let Some(s) = record else { continue };
            let informed = crate::core::waitlist::signup::news_choice(news.as_deref()).unwrap_or(s.informed);
            let note = Annotation::note_of(annotation.as_ref(), &s);
            let contacted = annotation.and_then(|a| a.contacted);
            let offer = s.offer.and_then(|n| offers.remove(&n));
            let place = match s.status {
                Status::Confirmed => {
                    let p = match next_place {
                        Some(p) => p,
                        None => crate::app::waitlist::usecases::place_of(store, event, *number).await?,
                    };
                    next_place = Some(p + 1);
                    Some(p)
                }
                _ => None,
            };
            signups.push(ExportRow {
                id: s.id.clone(),
                place,
                number: *number,
                status: s.status.as_str(),
                tickets: s.tickets,
                name: s.name,
                email: s.email,
                phone: s.phone,
                note,
                lang: s.lang.code(),
                account: s.account,
                box_office: s.box_office,
                created: rfc3339(s.created),
                confirmed: s.confirmed.map(rfc3339),
                cancelled: s.cancelled.map(rfc3339),
                offer: s.offer,
                offer_status: offer.as_ref().map(|o| o.status.as_str()),
                offered: offer.as_ref().map(|o| rfc3339(o.made)),
                offer_expires: offer.as_ref().map(|o| rfc3339(o.expires)),
                offer_ended: offer.as_ref().and_then(|o| o.ended).map(rfc3339),
                contacted: contacted.map(rfc3339),
                informed,
            });
        }
        if let (Some(first), Some(last)) = (signups.first(), signups.last()) {
            let detail =
                format!("{} signups, line numbers {} to {}", signups.len(), first.number, last.number);
            self.record_detail(who, AuditAction::ExportWaitlist, ("event", event), &scope, Some(detail))
                .await;
        }
        let last = numbers.last().copied();
        let next = last.filter(|l| *l < top);
        Ok(ExportPage { signups, next, internal_notes: true })
    }
}

/// The CSV columns of an export.
pub const CSV_HEADER: [&str; 20] = [
    "place",
    "status",
    "tickets",
    "name",
    "email",
    "phone",
    "note",
    "language",
    "account",
    "box_office",
    "created",
    "confirmed",
    "cancelled",
    "offer",
    "offer_status",
    "offered",
    "offer_expires",
    "offer_ended",
    "contacted",
    "informed",
];

pub use super::cells::neutral_cell;

/// `page` as CSV rows (RFC 4180 quoting by the `csv` crate), with the header row when `header`.
pub fn csv_page(page: &ExportPage, header: bool) -> String {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    if header {
        let _ = w.write_record(CSV_HEADER);
    }
    for r in &page.signups {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let row = [
            r.place.map(|p| p.to_string()).unwrap_or_default(),
            r.status.to_owned(),
            r.tickets.to_string(),
            r.name.clone(),
            r.email.clone(),
            opt(&r.phone),
            opt(&r.note),
            r.lang.to_owned(),
            opt(&r.account),
            r.box_office.to_string(),
            r.created.clone(),
            opt(&r.confirmed),
            opt(&r.cancelled),
            r.offer.map(|n| n.to_string()).unwrap_or_default(),
            r.offer_status.unwrap_or_default().to_owned(),
            opt(&r.offered),
            opt(&r.offer_expires),
            opt(&r.offer_ended),
            opt(&r.contacted),
            r.informed.to_string(),
        ];
        let _ = w.write_record(row.iter().map(|c| neutral_cell(c).into_owned()));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_look_like_formulas_are_neutralised() {
        assert_eq!(neutral_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutral_cell("+31 6 1234"), "'+31 6 1234");
        assert_eq!(neutral_cell("@SUM"), "'@SUM");
        assert_eq!(neutral_cell("Ada"), "Ada");
        let page = ExportPage {
            signups: vec![ExportRow {
                id: "x".into(),
                place: Some(1),
                number: 1,
                status: "confirmed",
                tickets: 2,
                name: "=cmd|' /C calc'!A0".into(),
                email: "a@b.co".into(),
                phone: None,
                note: Some("line one\nline \"two\"".into()),
                lang: "en",
                account: None,
                box_office: false,
                created: "2026-01-01T00:00:00Z".into(),
                confirmed: None,
                cancelled: None,
                offer: None,
                offer_status: None,
                offered: None,
                offer_expires: None,
                offer_ended: None,
                contacted: None,
                informed: false,
            }],
            next: None,
            internal_notes: true,
        };
        let csv = csv_page(&page, true);
        assert!(csv.starts_with("place,status,tickets,name,email"));
        assert!(
            csv.contains("'=cmd|' /C calc'!A0") && csv.contains("\"line one\nline \"\"two\"\"\""),
            "{csv}"
        );
    }
}

/// What an erasure by staff came to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct ErasedAnswer {
    /// The signup.
    pub signup: String,
    /// `erased` (now) or `already` (erased before).
    pub outcome: &'static str,
}

impl<S: Store + Clone> Admin<S> {
    /// What Doorman holds about signup `id` of `event` (never staff's notes), for a customer who
    /// asks staff for it; the read is in the audit log.
    pub async fn signup_data(
        &self,
        who: &Principal,
        event: &str,
        id: &str,
    ) -> Result<crate::app::waitlist::usecases::erase::SignupData, AdminError> {
        let scope = self.require_event(who, event, Access::Read).await?;
        let waitlist = self.waitlist()?;
        let missing = || AdminError::NotFound(format!("no signup `{id}` at {event}"));
        if id.is_empty() || id.len() > 64 {
            return Err(missing());
        }
        let signup = waitlist.signup_record(event, id).await?.ok_or_else(missing)?;
        let data = waitlist
            .signup_data(&signup)
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("the data of signup `{id}` is erased")))?;
        let number = signup.seq.map_or_else(|| "a pending signup".to_owned(), |n| format!("line number {n}"));
        let detail = Some(format!("one signup's data, {number}"));
        self.record_detail(who, AuditAction::ExportWaitlist, ("event", event), &scope, detail).await;
        Ok(data)
    }

    /// Erases signup `id` of `event` for a customer who asks staff: its place given up, its
    /// data erased, the customer told; in the audit log by line number.
    pub async fn erase_signup(
        &self,
        who: &Principal,
        event: &str,
        id: &str,
    ) -> Result<ErasedAnswer, AdminError> {
        use crate::app::waitlist::usecases::erase::{EraseOutcome, Eraser};
        self.require_event(who, event, Access::Read).await?;
        let waitlist = self.waitlist()?;
        if id.is_empty() || id.len() > 64 {
            return Err(AdminError::NotFound(format!("no signup `{id}` at {event}")));
        }
        let outcome = waitlist
            .erase(event, id, Eraser::Staff(who.label()), self.listed_customers())
            .await
            .map_err(|e| match e {
                crate::app::waitlist::Unavailable::Store(e) => AdminError::Unavailable(e),
                crate::app::waitlist::Unavailable::Randomness(e) => AdminError::NoRandomness(e),
            })?;
        let outcome = match outcome {
            EraseOutcome::Erased { .. } => "erased",
            EraseOutcome::Already => "already",
            EraseOutcome::NotFound => {
                return Err(AdminError::NotFound(format!("no signup `{id}` at {event}")))
            }
        };
        Ok(ErasedAnswer { signup: id.to_owned(), outcome })
    }
}

/// A preview to make: which template, in which language (the event's first when left out),
/// filled from which signup (a sample one when left out).
#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// `confirm`, `confirmed`, `already`, `offer` or `erased`.
    pub template: crate::app::waitlist::usecases::preview::Template,
    /// `en`, `de`, `nl` or `nb`.
    #[serde(default)]
    pub lang: Option<crate::core::waitlist::Lang>,
    /// A signup's id, to fill the placeholders with its data.
    #[serde(default)]
    pub signup: Option<String>,
}

/// A test send to make: a template, filled from a sample signup, to one address.
#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TestSendRequest {
    /// `confirm`, `confirmed`, `already`, `offer` or `erased`.
    pub template: crate::app::waitlist::usecases::preview::Template,
    /// `en`, `de`, `nl` or `nb` (the event's first when left out).
    #[serde(default)]
    pub lang: Option<crate::core::waitlist::Lang>,
    /// Where it goes.
    #[cfg_attr(feature = "native", schema(format = Email))]
    pub to: String,
}

/// A queued test send.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct TestSent {
    /// Its number in the event's history, where its template reads `test:<template>`.
    pub message: u64,
}

impl<S: Store + Clone> Admin<S> {
    fn preview_problem(p: crate::app::waitlist::usecases::preview::PreviewProblem) -> AdminError {
        use crate::app::waitlist::usecases::preview::PreviewProblem;
        match p {
            PreviewProblem::NoSignup(_) => AdminError::NotFound(p.to_string()),
            _ => AdminError::bad(p.to_string()),
        }
    }

    /// The language of a request, or the event's first.
    pub(super) async fn language_of(
        &self,
        event: &str,
        lang: Option<crate::core::waitlist::Lang>,
    ) -> Result<crate::core::waitlist::Lang, AdminError> {
        Ok(match lang {
            Some(l) => l,
            None => self
                .stored_settings(event)
                .await?
                .languages
                .first()
                .copied()
                .unwrap_or(crate::core::waitlist::Lang::En),
        })
    }

    /// A message of `event` as a customer would receive it. Any token that reads the event.
    pub async fn preview_message(
        &self,
        who: &Principal,
        event: &str,
        req: &PreviewRequest,
    ) -> Result<crate::app::waitlist::usecases::preview::Preview, AdminError> {
        self.require_event(who, event, Access::Read).await?;
        let lang = self.language_of(event, req.lang).await?;
        let signup = req.signup.as_deref().filter(|s| !s.is_empty());
        if signup.is_some_and(|s| s.len() > 64) {
            return Err(AdminError::NotFound("no such signup".into()));
        }
        self.waitlist()?
            .preview_message(event, req.template, lang, signup)
            .await?
            .map_err(Self::preview_problem)
    }

    /// Sends a message of `event`, filled from a sample signup, to one address; marked as a test
    /// in the history and in the audit log. The event's admins and the operator.
    pub async fn test_send(
        &self,
        who: &Principal,
        event: &str,
        req: &TestSendRequest,
    ) -> Result<TestSent, AdminError> {
        self.require_event(who, event, Access::Change).await?;
        let lang = self.language_of(event, req.lang).await?;
        let message = self
            .waitlist()?
            .test_send(event, req.template, lang, req.to.trim(), &who.label())
            .await?
            .map_err(Self::preview_problem)?;
        Ok(TestSent { message })
    }
}
