//! Request ids: kept from the client when acceptable, otherwise generated (every runtime).
//!
//! Generated ids are 16 hex digits: a per-thread random seed plus a counter, mixed by a
//! bijective function, so ids never repeat within a thread and look unrelated to each other.

use std::cell::Cell;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::core::forwarding::acceptable_request_id;
use crate::ports::random::{Random, SystemRandom};

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    // Without entropy, ids are still unique per thread; only their unpredictability suffers.
    SystemRandom.next_u64()
}

/// splitmix64's finalizer: a bijection on u64, so distinct counters give distinct ids.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A new request id.
pub fn generate() -> HeaderValue {
    let n = STATE.with(|s| {
        let n = s.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        s.set(n);
        n
    });
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let v = mix(n);
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = HEX[((v >> (60 - 4 * i)) & 0xf) as usize];
    }
    HeaderValue::from_bytes(&out).expect("hex digits are a valid header value")
}

/// Makes sure `headers` carries an acceptable id under `name`, replacing a bad one; answers it.
pub fn ensure(headers: &mut HeaderMap, name: &HeaderName) -> HeaderValue {
    match headers.get(name) {
        Some(v) if acceptable_request_id(v) => v.clone(),
        _ => {
            let id = generate();
            headers.insert(name.clone(), id.clone());
            id
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_differ_and_are_hex() {
        let ids: std::collections::HashSet<_> = (0..10_000).map(|_| generate()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|v| v.len() == 16 && v.as_bytes().iter().all(u8::is_ascii_hexdigit)));
    }

    #[test]
    fn good_ids_are_kept_and_bad_ones_replaced() {
        let name = HeaderName::from_static("x-request-id");
        let mut h = HeaderMap::new();
        h.insert(&name, HeaderValue::from_static("abc"));
        assert_eq!(ensure(&mut h, &name), "abc");
        assert_eq!(h[&name], "abc");
        h.insert(&name, HeaderValue::from_static("has space"));
        let id = ensure(&mut h, &name);
        assert_eq!(h[&name], id);
        assert_eq!(id.len(), 16);
    }
}
