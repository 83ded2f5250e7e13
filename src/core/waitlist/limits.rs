//! Who the waitlist's rate limits count: a mailbox over all events, a browser session, and a
//! client network.
//!
//! - **A mailbox**: the address with `+tags` removed and a provider's dots folded
//!   (`a.d.a+gala@googlemail.com` is `ada@gmail.com`), whatever the policy's canonicalization
//!   rules for the one-signup-per-address check: one person's mailbox reached through spellings
//!   is one mailbox to the limit.
//! - **A browser session**: the nonce of the form's CSRF cookie. One client hammering the form
//!   is stopped here, with or without an address.
//! - **A client network**: an IPv4 address, or an IPv6 /64 (what one subscriber is given, so
//!   rotating addresses within it counts once). Its limit is set high enough for a rush of
//!   customers behind one carrier NAT (thousands of sessions at one address), and caps a client
//!   that mints a new session for every few posts.

use std::net::IpAddr;

use crate::core::email::{canonicalize, CanonicalRules};

/// The mailbox `email` reaches, for counting; `None` when it is no address.
pub fn mailbox(email: &str) -> Option<String> {
    canonicalize(email, CanonicalRules { strip_plus_tags: true, gmail_dots: true }).ok()
}

/// The network a client address counts in: an IPv4 address as is, an IPv6 address as its /64
/// (an IPv4 address carried in IPv6 as that IPv4 address).
pub fn network(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{prefix}/64")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_per_64_and_ipv4_per_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(network(ip("203.0.113.9")), "203.0.113.9");
        assert_eq!(network(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(network(ip("2001:db8:1:2:bbbb:cccc:dddd:eeee")), "2001:db8:1:2::/64");
        assert_ne!(network(ip("2001:db8:1:3::1")), network(ip("2001:db8:1:2::1")));
        assert_eq!(network(ip("::ffff:203.0.113.9")), "203.0.113.9");
    }

    #[test]
    fn a_mailbox_is_one_however_it_is_spelt() {
        let one = mailbox("Ada@Gmail.com");
        for spelling in ["a.d.a+gala@gmail.com", "ADA+x+y@googlemail.com", "a.da@GMAIL.COM"] {
            assert_eq!(mailbox(spelling), one, "{spelling}");
        }
        assert_ne!(mailbox("a.da@example.com"), mailbox("ada@example.com"), "dots count elsewhere");
        assert_eq!(mailbox("ada+tickets@example.com"), mailbox("ada@example.com"));
        assert_eq!(mailbox("not an address"), None);
    }
}
