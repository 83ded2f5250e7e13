//! An event's waitlist settings: read by its organizer's tokens and the operator, changed the
//! same way (only the fields given change; deactivating keeps every signup).

use serde_json::{json, Value};

use super::{slug, Admin, AdminError, Principal};
use crate::core::blacklist::event_key;
use crate::core::waitlist::settings::SettingsChange;
use crate::core::waitlist::{keys, WaitlistSettings};
use crate::ports::store::Store;

impl<S: Store> Admin<S> {
    /// Fails unless `who` is the operator or the organizer `event` is mapped to.
    async fn require_event(&self, who: &Principal, event: &str) -> Result<(), AdminError> {
        slug("event", event)?;
        let Principal::Organizer(own) = who else { return Ok(()) };
        let organizer = self.ports.store.get(&event_key(event)).await?;
        if organizer.as_deref() == Some(own.as_bytes()) {
            Ok(())
        } else {
            Err(AdminError::Forbidden("an organizer token reaches only its own organizer's events".into()))
        }
    }

    async fn stored_settings(&self, event: &str) -> Result<WaitlistSettings, AdminError> {
        let raw = self.ports.store.get(&keys::settings(event)).await?;
        Ok(raw.and_then(|v| serde_json::from_slice(&v).ok()).unwrap_or_else(|| WaitlistSettings::new(event)))
    }

    async fn settings_answer(&self, event: &str, settings: &WaitlistSettings) -> Result<Value, AdminError> {
        let store = &self.ports.store;
        let signups = store.increment(&keys::signups_count(event), 0, None).await?;
        let tickets = store.increment(&keys::tickets_count(event), 0, None).await?;
        Ok(
            json!({ "event": event, "settings": settings, "confirmed_signups": signups, "confirmed_tickets": tickets }),
        )
    }

    /// The waitlist settings of `event` (defaults when never set), with its confirmed totals.
    pub async fn waitlist_settings(&self, who: &Principal, event: &str) -> Result<Value, AdminError> {
        self.require_event(who, event).await?;
        let settings = self.stored_settings(event).await?;
        self.settings_answer(event, &settings).await
    }

    /// Applies `change` to the waitlist settings of `event`.
    pub async fn change_waitlist(
        &self,
        who: &Principal,
        event: &str,
        change: SettingsChange,
    ) -> Result<Value, AdminError> {
        self.require_event(who, event).await?;
        let settings = change.apply(self.stored_settings(event).await?).map_err(AdminError::bad)?;
        let value = serde_json::to_vec(&settings).map_err(|e| AdminError::bad(e.to_string()))?;
        self.ports.store.set(&keys::settings(event), &value, None).await?;
        tracing::info!(who = %who.label(), event, active = settings.active, sold_out = settings.sold_out, "waitlist settings changed");
        self.settings_answer(event, &settings).await
    }
}
