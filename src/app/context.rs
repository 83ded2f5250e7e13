//! What a host knows about a request beyond its head, handed to the tier with every request
//! the tier has an action for. Every host builds it the same way ([`crate::app::App::context`]):
//! the host says who its peer is, and the policy's forwarding rules decide who the client is.

use std::net::IpAddr;

use http::HeaderMap;

use crate::core::forwarding::client_ip;
use crate::core::policy::ForwardingPolicy;

/// The request's context: who the client is, as far as the host can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestContext {
    /// The client's address for per-client limits: the peer, or past trusted proxies the
    /// nearest untrusted address in `X-Forwarded-For`. `None` when the host cannot know its
    /// peer; per-client limits then do not apply (one shared bucket would limit everyone).
    pub client: Option<IpAddr>,
}

impl RequestContext {
    /// The context of a request from `peer`, read with `forwarding`'s trusted proxies.
    pub fn new(peer: Option<IpAddr>, forwarding: &ForwardingPolicy, headers: &HeaderMap) -> Self {
        let client = peer.map(|peer| client_ip(peer, forwarding, headers));
        Self { client }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn the_client_is_the_peer_or_what_trusted_proxies_say() {
        let mut forwarding = ForwardingPolicy::default();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9, 10.0.0.2"));
        let peer: IpAddr = [10, 0, 0, 1].into();
        let direct = RequestContext::new(Some(peer), &forwarding, &headers);
        assert_eq!(direct.client, Some(peer), "an untrusted peer's header proves nothing");
        forwarding.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
        let behind = RequestContext::new(Some(peer), &forwarding, &headers);
        assert_eq!(behind.client, Some([203, 0, 113, 9].into()));
        assert_eq!(RequestContext::new(None, &forwarding, &headers).client, None, "no peer, no client");
    }
}
