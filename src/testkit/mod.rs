//! The test kit: ports that tests drive by hand, for the tier's unit tests and for anyone
//! embedding Doorman who wants to test against it without a runtime, a store server or real time.
//!
//! - [`ManualClock`]: time moves only when the test says so.
//! - [`SeededRandom`]: a reproducible sequence of draws; [`FailingRandom`]: every draw fails.
//! - [`MemoryStore`]: the store in memory, on a clock of the test's choosing; it passes the same
//!   store suite as the redb file, Redis and the Redis Cluster (`tests/store`).
//! - [`RecordedEvents`]: what the tier reported (checkout outcomes, client faults, mails).
//! - [`TestMailer`] and [`TestSmsGateway`]: a mail transport and an SMS gateway that take
//!   messages or fail as scripted.
//! - [`TestBody`]: a request body of ready chunks, a client's failure, or a stall.
//! - [`InstantTasks`] and [`block_on`]: sleeps that end at once (recorded), spawned work run on
//!   demand, and an executor for futures that never wait on I/O.
//!
//! - [`TestRig`]: all of them at once, and the `Ports` made of them.
//!
//! Nothing here touches the network, files or the system clock.

mod body;
mod clock;
mod events;
mod mailer;
mod random;
mod rig;
mod store;
mod tasks;

pub use self::body::TestBody;
pub use self::clock::ManualClock;
pub use self::events::{RecordedEvents, Reported};
pub use self::mailer::{TestMailer, TestSmsGateway};
pub use self::random::{FailingRandom, SeededRandom};
pub use self::rig::{test_vault, TestRig, TEST_DATA_KEY};
pub use self::store::MemoryStore;
pub use self::tasks::{block_on, InstantTasks};
