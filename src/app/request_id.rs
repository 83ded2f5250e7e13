//! Request ids: kept from the client when acceptable, otherwise generated (every runtime).
//!
//! Generated ids are 16 hex digits: a per-thread seed drawn from the host's randomness plus a
//! counter, mixed by a bijective function, so ids never repeat within a thread and look
//! unrelated to each other. Request ids are labels, not secrets: if the draw fails, the seed is
//! taken from the thread's own address and the counter keeps ids unique.

use std::cell::Cell;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::core::forwarding::acceptable_request_id;
use crate::ports::random::Random;

thread_local! {
    static STATE: Cell<Option<u64>> = const { Cell::new(None) };
}

fn seed(random: &dyn Random) -> u64 {
    random.next_u64().unwrap_or_else(|_| STATE.with(|s| s as *const _ as u64))
}

/// splitmix64's finalizer: a bijection on u64, so distinct counters give distinct ids.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A new request id (the thread's first one draws its seed from `random`).
pub fn generate(random: &dyn Random) -> HeaderValue {
    let n = STATE.with(|s| {
        let n = s.get().unwrap_or_else(|| seed(random)).wrapping_add(0x9e37_79b9_7f4a_7c15);
        s.set(Some(n));
        n
    });
    let id = format!("{:016x}", mix(n));
    HeaderValue::from_str(&id).expect("hex digits are a valid header value")
}

/// Makes sure `headers` carries an acceptable id under `name`, replacing a bad one (with one
/// made from `random`); answers it.
pub fn ensure(headers: &mut HeaderMap, name: &HeaderName, random: &dyn Random) -> HeaderValue {
    match headers.get(name) {
        Some(v) if acceptable_request_id(v) => v.clone(),
        _ => {
            let id = generate(random);
            headers.insert(name.clone(), id.clone());
            id
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::random::SystemRandom;
    use crate::testkit::FailingRandom;

    #[test]
    fn generated_ids_differ_and_are_hex() {
        let ids: std::collections::HashSet<_> = (0..10_000).map(|_| generate(&SystemRandom)).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|v| v.len() == 16 && v.as_bytes().iter().all(u8::is_ascii_hexdigit)));
    }

    #[test]
    fn without_randomness_ids_are_still_unique() {
        std::thread::spawn(|| {
            let ids: std::collections::HashSet<_> = (0..1000).map(|_| generate(&FailingRandom)).collect();
            assert_eq!(ids.len(), 1000);
            assert!(!ids.contains(&HeaderValue::from_static("0000000000000000")));
        })
        .join()
        .unwrap();
    }

    #[test]
    fn good_ids_are_kept_and_bad_ones_replaced() {
        let name = HeaderName::from_static("x-request-id");
        let mut h = HeaderMap::new();
        h.insert(&name, HeaderValue::from_static("abc"));
        assert_eq!(ensure(&mut h, &name, &SystemRandom), "abc");
        assert_eq!(h[&name], "abc");
        h.insert(&name, HeaderValue::from_static("has space"));
        let id = ensure(&mut h, &name, &SystemRandom);
        assert_eq!(h[&name], id);
        assert_eq!(id.len(), 16);
    }
}
