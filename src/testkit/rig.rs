//! Every port driven by hand, in one value.

use std::sync::Arc;

use super::{InstantTasks, ManualClock, MemoryStore, RecordedEvents, SeededRandom};
use crate::app::Ports;

/// A manual clock (at 2027-01-15 08:00 UTC), a memory store on it, seeded randomness, instant
/// tasks and recorded events; [`TestRig::ports`] hands them to the tier.
pub struct TestRig {
    /// The store.
    pub store: MemoryStore,
    /// The clock of the store and the tier.
    pub clock: Arc<ManualClock>,
    /// Sleeps and spawned work.
    pub tasks: Arc<InstantTasks>,
    /// What the tier reported.
    pub events: Arc<RecordedEvents>,
}

impl Default for TestRig {
    fn default() -> Self {
        let clock = Arc::new(ManualClock::at(1_800_000_000_000));
        Self { store: MemoryStore::new(clock.clone()), clock, tasks: Arc::default(), events: Arc::default() }
    }
}

impl TestRig {
    /// The ports made of the rig's parts (randomness seeded with 7).
    pub fn ports(&self) -> Ports<MemoryStore> {
        let mut ports = Ports::new(self.store.clone(), self.tasks.clone()).with_events(self.events.clone());
        ports.clock = self.clock.clone();
        ports.random = Arc::new(SeededRandom::new(7));
        ports.vault = test_vault();
        ports
    }
}

/// The data key the test kit seals personal data with.
pub const TEST_DATA_KEY: &str = "the-test-kit-data-key-0123456789abcdef";

/// A vault over [`TEST_DATA_KEY`].
pub fn test_vault() -> crate::app::vault::Vault {
    crate::app::vault::Vault::new(crate::core::sealing::DataKeys::parse(TEST_DATA_KEY).expect("a valid key"))
}
