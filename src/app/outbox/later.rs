//! Messages set aside for later: a timer wheel of one-second slots in the store, so that a
//! message waiting out its back-off, held by another sender's lease or not yet written never
//! holds up the messages behind it in the line.
//!
//! Slot `s` covers the second starting at `s` seconds (Unix time); `mail:later:{s}` holds the
//! numbers of the messages due from then, eight bytes each (big-endian), added with
//! [`Store::add_members`], so several senders can set the same message aside at once. Slots are
//! read from `mail:later:from` (the oldest slot not yet retired) up to the current second. A slot
//! is retired (deleted, and the cursor moved past it) once every message in it is settled or set
//! aside again, and [`SETTLE_MS`] has passed since its end: a sender whose clock is behind may
//! still add to a slot others already read, for as long as its clock is that far behind.

use crate::ports::store::{Store, StoreError};

/// The length of a slot, in ms.
pub const SLOT_MS: u64 = 1_000;
/// How long after its end a slot is still read before it is retired: the clock skew between
/// senders it tolerates.
pub const SETTLE_MS: u64 = 30_000;
/// Slots read at once (one `get_many`).
pub const SLOTS_PER_DRAIN: u64 = 64;
/// Where reading starts when no sender has read slots yet (or the cursor was lost): back-offs
/// are at most an hour, leases two minutes; two hours covers both.
pub const LOOKBACK_SLOTS: u64 = 2 * 3600 * 1000 / SLOT_MS;

const CURSOR: &str = "mail:later:from";

/// The slot a message due at `at` (Unix ms) goes into: the first that starts at or after it.
pub fn slot_for(at: u64) -> u64 {
    at.div_ceil(SLOT_MS)
}

/// The slot that starts at or before `now`: every slot up to it is due.
pub fn current_slot(now: u64) -> u64 {
    now / SLOT_MS
}

/// Whether slot `s` may be retired at `now` (its messages done).
pub fn settled(s: u64, now: u64) -> bool {
    now >= (s + 1) * SLOT_MS + SETTLE_MS
}

/// The key of slot `s`.
pub fn slot_key(s: u64) -> String {
    format!("mail:later:{s:012}")
}

/// Sets message `n` aside until `at` (Unix ms).
pub async fn defer(store: &impl Store, n: u64, at: u64) -> Result<(), StoreError> {
    store.add_members(&[(slot_key(slot_for(at)), n.to_be_bytes().to_vec())]).await
}

/// The message numbers a slot's value holds (a torn tail is ignored).
pub fn numbers(value: &[u8]) -> impl Iterator<Item = u64> + '_ {
    value.chunks_exact(8).map(|c| u64::from_be_bytes(c.try_into().unwrap_or_default()))
}

/// The oldest slot not yet retired, or where reading starts without one.
pub async fn cursor(store: &impl Store, now: u64) -> Result<u64, StoreError> {
    let saved = store.get(CURSOR).await?;
    let parsed = saved.as_deref().and_then(|v| std::str::from_utf8(v).ok()).and_then(|s| s.parse().ok());
    Ok(parsed.unwrap_or_else(|| current_slot(now).saturating_sub(LOOKBACK_SLOTS)))
}

/// Slots passed over empty before the cursor is moved (one write a minute on an idle outbox
/// rather than one a second).
pub const RETIRE_EMPTY_EVERY: u64 = 60;

/// Moves the cursor to `to` and deletes `slots` (those before it that held messages).
pub async fn retire(store: &impl Store, to: u64, slots: &[u64]) -> Result<(), StoreError> {
    store.set(CURSOR, to.to_string().as_bytes(), None).await?;
    let keys: Vec<String> = slots.iter().map(|s| slot_key(*s)).collect();
    store.delete_many(&keys).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_goes_into_the_first_slot_that_starts_at_or_after_its_time() {
        assert_eq!(slot_for(5_000), 5);
        assert_eq!(slot_for(5_001), 6);
        assert_eq!(current_slot(5_999), 5);
        assert!(!settled(5, 6_000 + SETTLE_MS - 1));
        assert!(settled(5, 6_000 + SETTLE_MS));
        let value: Vec<u8> = [7u64, 1 << 40].iter().flat_map(|n| n.to_be_bytes()).chain([1, 2]).collect();
        assert_eq!(numbers(&value).collect::<Vec<_>>(), [7, 1 << 40], "a torn tail is ignored");
    }
}
