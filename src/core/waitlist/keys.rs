//! The store keys of the waitlist. Every key of one event carries the event as its Redis Cluster
//! hash tag (`wl:{gala}:…`), so one event's keys share a slot and one `set_many` may span them.

/// The event's settings.
pub fn settings(event: &str) -> String {
    format!("wl:{{{event}}}:settings")
}

/// A signup's record.
pub fn signup(event: &str, id: &str) -> String {
    format!("wl:{{{event}}}:s:{id}")
}

/// What staff noted about a signup (its note, when its customer was contacted).
pub fn annotation(event: &str, id: &str) -> String {
    format!("wl:{{{event}}}:staff:{id}")
}

/// The claim that makes one active signup per address (keyed hash of the canonical address).
pub fn address_claim(event: &str, address_hash: &str) -> String {
    format!("wl:{{{event}}}:addr:{address_hash}")
}

/// Which signup holds an address's claim.
pub fn address_signup(event: &str, address_hash: &str) -> String {
    format!("wl:{{{event}}}:addr-id:{address_hash}")
}

/// The claim of the one confirmation of a signup that gets a number.
pub fn confirm_claim(event: &str, id: &str) -> String {
    format!("wl:{{{event}}}:confirming:{id}")
}

/// The claim of the one cancellation of a signup that counts it out of line.
pub fn cancel_claim(event: &str, id: &str) -> String {
    format!("wl:{{{event}}}:cancelling:{id}")
}

/// Whether `key` is one of the waitlist's records with personal data, stored sealed: a signup,
/// staff's note on it, or a message of the history (not its fate).
pub fn holds_personal_data(key: &str) -> bool {
    let Some(rest) = key.strip_prefix("wl:{") else { return false };
    let Some((_, tail)) = rest.split_once("}:") else { return false };
    match tail.split_once(':') {
        Some(("s" | "staff", id)) => !id.is_empty(),
        Some(("m", n)) => n.len() == 8 && n.bytes().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

/// A customer's later choice about news for a signup (`yes` or `no`), which overrides the box
/// ticked at signup ([`super::signup::news_choice`]). Kept apart from the signup's record, so a
/// change of mind never races a change to the signup.
pub fn news(event: &str, id: &str) -> String {
    format!("wl:{{{event}}}:news:{id}")
}

/// The marker of a used confirmation link (`tag`: the link's MAC).
pub fn link_used(event: &str, tag: &str) -> String {
    format!("wl:{{{event}}}:used:{tag}")
}

/// The counter handing out line numbers.
pub fn line_counter(event: &str) -> String {
    format!("wl:{{{event}}}:seq")
}

/// Which signup holds line number `seq` (exports walk these in order).
pub fn line_entry(event: &str, seq: u64) -> String {
    format!("wl:{{{event}}}:line:{seq:08}")
}

/// One node of the counter tree of numbers that left the line ([`super::line`]).
pub fn left_node(event: &str, node: u64) -> String {
    format!("wl:{{{event}}}:left:{node}")
}

/// Confirmed signups on the list now (for the cap).
pub fn signups_count(event: &str) -> String {
    format!("wl:{{{event}}}:signups")
}

/// Tickets over all confirmed signups now (for the cap).
pub fn tickets_count(event: &str) -> String {
    format!("wl:{{{event}}}:tickets")
}

/// The counter handing out offer numbers.
pub fn offer_counter(event: &str) -> String {
    format!("wl:{{{event}}}:offers")
}

/// Offer number `n`.
pub fn offer(event: &str, n: u64) -> String {
    format!("wl:{{{event}}}:o:{n:08}")
}

/// The lock one release (or one ending offer passing its seats on) holds while it decides.
pub fn offer_lock(event: &str) -> String {
    format!("wl:{{{event}}}:offering")
}

/// Free seats reported but not offered yet (the head waits for more, or nobody waits).
pub fn seat_pool(event: &str) -> String {
    format!("wl:{{{event}}}:pool")
}

/// The lowest line number that may still be waiting: releases read the line from here.
pub fn line_head(event: &str) -> String {
    format!("wl:{{{event}}}:head")
}

/// The lowest offer number that may still be open: the expiry sweep reads offers from here.
pub fn open_offers_from(event: &str) -> String {
    format!("wl:{{{event}}}:o-from")
}

/// The events whose offers the expiry sweep visits: slugs padded to [`EVENT_MEMBER`] bytes,
/// added with `Store::add_members`.
pub const OFFER_EVENTS: &str = "wl:offer-events";

/// The width of one member of [`OFFER_EVENTS`] (the longest slug).
pub const EVENT_MEMBER: usize = 64;

/// An event as a member of [`OFFER_EVENTS`].
pub fn event_member(event: &str) -> Vec<u8> {
    let mut m = event.as_bytes().to_vec();
    m.resize(EVENT_MEMBER, b' ');
    m
}

/// The events a value of [`OFFER_EVENTS`] holds.
pub fn event_members(value: &[u8]) -> impl Iterator<Item = &str> + '_ {
    value.chunks_exact(EVENT_MEMBER).filter_map(|m| std::str::from_utf8(m).ok()).map(str::trim_end)
}

/// The events with waitlist settings, which the retention sweep visits: slugs padded to
/// [`EVENT_MEMBER`] bytes, added when settings are written.
pub const WAITLIST_EVENTS: &str = "wl:events";

/// The marker that [`WAITLIST_EVENTS`] holds the events set up before it existed too.
pub const WAITLIST_EVENTS_LISTED: &str = "meta:waitlist-events-listed";

/// The marker of an event whose signups are all anonymised for good (its retention is over).
pub fn forgotten(event: &str) -> String {
    format!("wl:{{{event}}}:forgotten")
}

/// The counter numbering an event's messages (its history).
pub fn message_counter(event: &str) -> String {
    format!("wl:{{{event}}}:msgs")
}

/// Message `n` of an event's history: to whom, which template, when queued.
pub fn message(event: &str, n: u64) -> String {
    format!("wl:{{{event}}}:m:{n:08}")
}

/// Where the outbox's sender notes message `n`'s fate (sent or failed) once it is settled.
pub fn message_fate(event: &str, n: u64) -> String {
    format!("wl:{{{event}}}:m:{n:08}:fate")
}

/// The counter numbering an event's messages to the whole list.
pub fn broadcast_counter(event: &str) -> String {
    format!("wl:{{{event}}}:bcs")
}

/// Message to the list number `n` ([`super::broadcast::Broadcast`]).
pub fn broadcast(event: &str, n: u64) -> String {
    format!("wl:{{{event}}}:bc:{n:04}")
}

/// The marker of a cancelled message to the list (a claim, so every store can write it).
pub fn broadcast_cancelled(event: &str, n: u64) -> String {
    format!("wl:{{{event}}}:bc:{n:04}:cancelled")
}

/// The lease of the node sending message to the list `n`.
pub fn broadcast_lease(event: &str, n: u64) -> String {
    format!("wl:{{{event}}}:bc:{n:04}:sending")
}

/// The lowest number of an event's messages to the list that may not be done yet.
pub fn broadcasts_from(event: &str) -> String {
    format!("wl:{{{event}}}:bc-from")
}

/// The events with messages to the list, which the sending pass visits: slugs padded to
/// [`EVENT_MEMBER`] bytes.
pub const BROADCAST_EVENTS: &str = "wl:broadcast-events";

/// How many signups an account has made (its list's length).
pub fn account_count(account_hash: &str) -> String {
    format!("wl:acct:{{{account_hash}}}:n")
}

/// The `i`-th signup of an account, as `{event}.{id}`.
pub fn account_item(account_hash: &str, i: u64) -> String {
    format!("wl:acct:{{{account_hash}}}:{i}")
}

/// A fixed-window rate-limit counter (`what`: `ip` or `mail`; `who`: address or hash).
pub fn rate(what: &str, who: &str, window: u64) -> String {
    format!("rl:wl:{what}:{{{who}}}:{window}")
}

/// The marker of a warning that the host gives no client addresses: one warning an hour across
/// every node and edge instance, whoever claims it.
pub const NO_CLIENT_WARNED: &str = "meta:warned-no-client-address";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_records_with_personal_data_are_told_by_their_keys() {
        for key in [signup("gala", "x1"), annotation("gala", "x1"), message("gala", 7)] {
            assert!(holds_personal_data(&key), "{key}");
        }
        for key in [
            message_fate("gala", 7),
            settings("gala"),
            offer("gala", 3),
            line_entry("gala", 1),
            address_claim("gala", "ab"),
            account_item("ab", 1),
            "wl:{gala}:s:".to_owned(),
            "wl:gala:s:x".to_owned(),
            "mail:000000000001".to_owned(),
        ] {
            assert!(!holds_personal_data(&key), "{key}");
        }
    }
}
