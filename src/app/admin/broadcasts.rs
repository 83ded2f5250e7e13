//! Messages to an event's whole list through the admin API: write one (now, at a time, or before
//! the event's start), list them with where they stand, cancel one, preview a draft with the
//! number it would reach, and send a draft to one address as a test. Writing, cancelling and
//! test sends are the event's admins' and the operator's, and are in the audit log; reading is
//! any token that reads the event.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::waitlist::rfc3339;
use super::{Access, Admin, AdminError, Principal};
use crate::app::waitlist::usecases::broadcast::{when_text, BroadcastPreview, BroadcastProblem, Listed};
use crate::core::waitlist::broadcast::{Audience, Draft, Purpose, Text};
use crate::core::waitlist::Lang;
use crate::ports::store::Store;

/// A message to the list, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct BroadcastView {
    /// Its number at the event.
    pub number: u64,
    /// `scheduled`, `waiting-for-start` (relative to a start not set), `sending`, `sent`,
    /// `missed` (its time came after the event's start) or `cancelled`.
    #[cfg_attr(feature = "native", schema(value_type = String,
        pattern = "^(scheduled|waiting-for-start|sending|sent|missed|cancelled)$"))]
    pub status: &'static str,
    /// Who it is for.
    pub audience: Audience,
    /// Whether it needs consent.
    pub purpose: Purpose,
    /// The texts per language.
    pub texts: BTreeMap<Lang, Text>,
    /// Only to these languages (empty: all).
    pub languages: Vec<Lang>,
    /// When it goes, in words: `now`, `at 2027-03-01 18:00 UTC`, `1day before the start`.
    pub when: String,
    /// When it is (or was) due (RFC 3339), with the event's start as it is now.
    #[cfg_attr(feature = "native", schema(format = DateTime))]
    pub due: Option<String>,
    /// When it was written (RFC 3339).
    #[cfg_attr(feature = "native", schema(format = DateTime))]
    pub created: String,
    /// Who wrote it.
    pub by: String,
    /// Mails queued so far (each recipient's fate is in the message history, template
    /// `message:{number}`).
    pub queued: u64,
    /// Recipients whose mail could not be composed.
    pub skipped: u64,
    /// When it was sent in full, or found missed (RFC 3339).
    #[cfg_attr(feature = "native", schema(format = DateTime))]
    pub finished: Option<String>,
}

impl From<Listed> for BroadcastView {
    fn from(listed: Listed) -> Self {
        let status = listed.status();
        let when = when_text(&listed.message);
        let m = listed.message;
        Self {
            number: m.number,
            status,
            audience: m.audience,
            purpose: m.purpose,
            texts: m.texts,
            languages: m.languages,
            when,
            due: listed.due.map(rfc3339),
            created: rfc3339(m.created),
            by: m.by,
            queued: m.queued,
            skipped: m.skipped,
            finished: m.finished.map(rfc3339),
        }
    }
}

/// Every message to an event's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
pub struct BroadcastList {
    /// In the order they were written.
    pub messages: Vec<BroadcastView>,
}

/// A draft to preview: in which language (the event's first when left out), filled from which
/// signup (a sample one when left out).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BroadcastPreviewRequest {
    /// The message as it would be written.
    pub message: Draft,
    /// `en`, `de`, `nl` or `nb`.
    #[serde(default)]
    pub lang: Option<Lang>,
    /// A signup's id, to fill the placeholders with its data.
    #[serde(default)]
    pub signup: Option<String>,
}

/// A draft to send to one address as a test.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BroadcastTestRequest {
    /// The message as it would be written.
    pub message: Draft,
    /// `en`, `de`, `nl` or `nb` (the event's first when left out).
    #[serde(default)]
    pub lang: Option<Lang>,
    /// Where it goes.
    #[cfg_attr(feature = "native", schema(format = Email))]
    pub to: String,
}

fn problem(p: BroadcastProblem) -> AdminError {
    match p {
        BroadcastProblem::NotFound(_) | BroadcastProblem::NoSignup(_) | BroadcastProblem::NoWaitlist => {
            AdminError::NotFound(p.to_string())
        }
        BroadcastProblem::Done(..) | BroadcastProblem::TooMany => AdminError::Conflict(p.to_string()),
        _ => AdminError::bad(p.to_string()),
    }
}

impl<S: Store + Clone> Admin<S> {
    /// Writes a message to `event`'s list (sent once it is due by the nodes' sending pass).
    pub async fn schedule_broadcast(
        &self,
        who: &Principal,
        event: &str,
        draft: &Draft,
    ) -> Result<BroadcastView, AdminError> {
        self.require_event(who, event, Access::Change).await?;
        let listed =
            self.waitlist()?.schedule_broadcast(event, draft, &who.label()).await?.map_err(problem)?;
        Ok(listed.into())
    }

    /// Every message to `event`'s list.
    pub async fn broadcasts(&self, who: &Principal, event: &str) -> Result<BroadcastList, AdminError> {
        self.require_event(who, event, Access::Read).await?;
        let messages = self.waitlist()?.broadcasts(event).await?;
        Ok(BroadcastList { messages: messages.into_iter().map(Into::into).collect() })
    }

    /// Message `n` to `event`'s list.
    pub async fn broadcast(&self, who: &Principal, event: &str, n: u64) -> Result<BroadcastView, AdminError> {
        self.require_event(who, event, Access::Read).await?;
        let listed = self.waitlist()?.broadcast(event, n).await?;
        Ok(listed.ok_or_else(|| problem(BroadcastProblem::NotFound(n)))?.into())
    }

    /// Cancels message `n` to `event`'s list.
    pub async fn cancel_broadcast(
        &self,
        who: &Principal,
        event: &str,
        n: u64,
    ) -> Result<BroadcastView, AdminError> {
        self.require_event(who, event, Access::Change).await?;
        let listed = self.waitlist()?.cancel_broadcast(event, n, &who.label()).await?.map_err(problem)?;
        Ok(listed.into())
    }

    /// A draft as a signup would receive it, and how many it would reach now.
    pub async fn preview_broadcast(
        &self,
        who: &Principal,
        event: &str,
        req: &BroadcastPreviewRequest,
    ) -> Result<BroadcastPreview, AdminError> {
        self.require_event(who, event, Access::Read).await?;
        let lang = self.language_of(event, req.lang).await?;
        let signup = req.signup.as_deref().filter(|s| !s.is_empty());
        if signup.is_some_and(|s| s.len() > 64) {
            return Err(AdminError::NotFound("no such signup".into()));
        }
        self.waitlist()?.preview_broadcast(event, &req.message, lang, signup).await?.map_err(problem)
    }

    /// Sends a draft, filled from a sample signup, to one address as a test (`test:message` in
    /// the history); in the audit log.
    pub async fn test_broadcast(
        &self,
        who: &Principal,
        event: &str,
        req: &BroadcastTestRequest,
    ) -> Result<super::waitlist::TestSent, AdminError> {
        self.require_event(who, event, Access::Change).await?;
        let lang = self.language_of(event, req.lang).await?;
        let message = self
            .waitlist()?
            .test_send_broadcast(event, &req.message, lang, req.to.trim(), &who.label())
            .await?
            .map_err(problem)?;
        Ok(super::waitlist::TestSent { message })
    }

    /// Queues every message to a list that is due, at every event (none without a waitlist):
    /// the sending pass.
    pub async fn send_broadcasts(
        &self,
    ) -> Result<crate::app::waitlist::usecases::broadcast::BroadcastsSent, AdminError> {
        match self.app.as_ref().and_then(|a| a.waitlist()) {
            Some(w) => Ok(w.send_broadcasts().await?),
            None => Ok(Default::default()),
        }
    }
}
