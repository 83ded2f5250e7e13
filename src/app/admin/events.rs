//! The event → organizer map (operator only): which organizer's entries apply at an event.

use serde_json::{json, Value};

use super::{slug, Admin, AdminError, Principal};
use crate::core::blacklist::audit::AuditAction;
use crate::core::blacklist::{event_key, organizer_event_key, organizer_events_count_key, Scope};
use crate::ports::store::Store;

impl<S: Store> Admin<S> {
    /// Maps `event` to `organizer` (moving it from an earlier organizer).
    pub async fn map_event(
        &self,
        who: &Principal,
        event: &str,
        organizer: &str,
    ) -> Result<Value, AdminError> {
        who.require_operator()?;
        slug("event", event)?;
        slug("organizer", organizer)?;
        let store = &self.ports.store;
        let previous = store.get(&event_key(event)).await?.and_then(|o| String::from_utf8(o).ok());
        store.set(&organizer_event_key(organizer, event), b"", None).await?;
        store.set(&event_key(event), organizer.as_bytes(), None).await?;
        if previous.as_deref() != Some(organizer) {
            store.increment(&organizer_events_count_key(organizer), 1, None).await?;
        }
        if let Some(old) = previous.filter(|o| o != organizer) {
            store.delete(&organizer_event_key(&old, event)).await?;
            store.increment(&organizer_events_count_key(&old), -1, None).await?;
        }
        self.record(who, AuditAction::MapEvent, "event", event, &Scope::Organizer(organizer.to_owned()))
            .await;
        Ok(json!({ "event": event, "organizer": organizer }))
    }

    /// The organizer `event` is mapped to.
    pub async fn event(&self, who: &Principal, event: &str) -> Result<Value, AdminError> {
        who.require_operator()?;
        slug("event", event)?;
        match self.ports.store.get(&event_key(event)).await? {
            Some(org) => Ok(json!({ "event": event, "organizer": String::from_utf8_lossy(&org) })),
            None => Err(AdminError::NotFound("no such event".into())),
        }
    }
}
