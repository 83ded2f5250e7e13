//! The event → organizer map (operator only): which organizer's entries apply at an event.

use serde::Serialize;

use super::{slug, Admin, AdminError, Principal};
use crate::core::blacklist::audit::AuditAction;
use crate::core::blacklist::{event_key, organizer_event_key, organizer_events_count_key, Scope};
use crate::ports::store::Store;

/// Which organizer an event belongs to, so that organizer's entries apply to its checkouts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "native", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "native", schema(example = json!({"event": "spring-concert", "organizer": "harbour-hall"})))]
pub struct EventMapping {
    /// The event slug.
    #[cfg_attr(feature = "native", schema(pattern = "^[a-z0-9_-]{1,64}$"))]
    pub event: String,
    /// The organizer slug.
    #[cfg_attr(feature = "native", schema(pattern = "^[a-z0-9_-]{1,64}$"))]
    pub organizer: String,
}

impl<S: Store> Admin<S> {
    /// Maps `event` to `organizer` (moving it from an earlier organizer).
    pub async fn map_event(
        &self,
        who: &Principal,
        event: &str,
        organizer: &str,
    ) -> Result<EventMapping, AdminError> {
        who.may_map_events()?;
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
        Ok(EventMapping { event: event.to_owned(), organizer: organizer.to_owned() })
    }

    /// The organizer `event` is mapped to.
    pub async fn event(&self, who: &Principal, event: &str) -> Result<EventMapping, AdminError> {
        who.require_operator()?;
        slug("event", event)?;
        match self.ports.store.get(&event_key(event)).await? {
            Some(org) => Ok(EventMapping {
                event: event.to_owned(),
                organizer: String::from_utf8_lossy(&org).into_owned(),
            }),
            None => Err(AdminError::NotFound("no such event".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::blacklist::organizer_events_count_key as count;
    use crate::testkit::{block_on, TestRig};

    #[test]
    fn an_event_moves_between_organizers_and_their_counts_follow() {
        block_on(async {
            let rig = TestRig::default();
            let admin = Admin::new(rig.ports(), None);
            let op = Principal::Operator;
            let counter = |org: &'static str| {
                let store = rig.store.clone();
                async move { store.get(&count(org)).await.unwrap().map(|v| String::from_utf8(v).unwrap()) }
            };
            admin.map_event(&op, "gala", "harbour").await.unwrap();
            admin.map_event(&op, "gala", "harbour").await.unwrap();
            assert_eq!(counter("harbour").await.as_deref(), Some("1"), "mapping twice counts once");
            admin.map_event(&op, "gala", "river").await.unwrap();
            assert_eq!(
                (counter("harbour").await.as_deref(), counter("river").await.as_deref()),
                (Some("0"), Some("1"))
            );
            assert_eq!(admin.event(&op, "gala").await.unwrap().organizer, "river");
            assert!(matches!(admin.event(&op, "jazz").await, Err(AdminError::NotFound(_))));
            let org = Principal::Organizer("river".into());
            assert!(matches!(admin.map_event(&org, "gala", "river").await, Err(AdminError::Forbidden(_))));
            assert!(matches!(admin.event(&org, "gala").await, Err(AdminError::Forbidden(_))));
            for (event, organizer) in [("Gala", "river"), ("gala", "River Hall"), ("", "river")] {
                assert!(matches!(admin.map_event(&op, event, organizer).await, Err(AdminError::BadInput(_))));
            }
            let audit = admin.audit_log(&op, None, None, None).await.unwrap();
            assert_eq!(audit.records.len(), 3, "every mapping is audited");
        });
    }
}
