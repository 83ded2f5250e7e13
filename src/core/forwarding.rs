//! The pure header rules of forwarding: hop-by-hop fields (RFC 9110 §7.6.1), `Forwarded`
//! (RFC 7239) and `X-Forwarded-*`, and the request id.
//!
//! Per connection, [`ClientFacts`] is computed once (peer address formatted, trusted or not), so
//! the per-request work is a few header-map operations.

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::core::policy::{ForwardingPolicy, HostRewrite};

/// `X-Forwarded-For`.
pub static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
/// `X-Forwarded-Proto`.
pub static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
/// `X-Forwarded-Host`.
pub static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// Hop-by-hop fields a proxy never forwards (RFC 9110 §7.6.1), besides those named in
/// `Connection`. `Upgrade` is kept on upgrade requests and their 101 answers.
const HOP_BY_HOP: [&HeaderName; 5] =
    [&header::CONNECTION, &KEEP_ALIVE, &PROXY_CONNECTION, &header::TE, &header::TRANSFER_ENCODING];

/// What Doorman knows of the client end of a connection, computed once per connection.
#[derive(Debug, Clone)]
pub struct ClientFacts {
    /// The peer's address.
    pub ip: IpAddr,
    /// The peer's address, as a header value (`192.0.2.1`, `2001:db8::1`).
    pub peer: HeaderValue,
    /// The RFC 7239 `for=` node plus `proto=`: `for=192.0.2.1;proto=http`.
    forwarded_element: String,
    /// `http` or `https`.
    pub proto: &'static str,
    /// Whether the peer is a trusted proxy whose forwarding headers are kept.
    pub trusted: bool,
}

impl ClientFacts {
    /// Facts of a connection from `peer`, on a listener speaking `proto`.
    pub fn new(peer: IpAddr, proto: &'static str, policy: &ForwardingPolicy) -> Self {
        let peer = canonical(peer);
        let trusted = is_trusted(peer, policy);
        let node = match peer {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("\"[{v6}]\""),
        };
        Self {
            ip: peer,
            peer: HeaderValue::from_str(&peer.to_string()).expect("an IP address is a valid header value"),
            forwarded_element: format!("for={node};proto={proto}"),
            proto,
            trusted,
        }
    }
}

/// Whether `ip` (canonical) is one of the policy's trusted proxies.
fn is_trusted(ip: IpAddr, policy: &ForwardingPolicy) -> bool {
    policy.trusted_proxies.iter().any(|net| net.contains(&ip))
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are treated as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The client's address for rate limits: the `peer`, or, when the peer is a trusted proxy, the
/// nearest address in `X-Forwarded-For` that is not a trusted proxy itself (entries further
/// left were written by the client and prove nothing).
pub fn client_ip(peer: IpAddr, policy: &ForwardingPolicy, headers: &HeaderMap) -> IpAddr {
    let peer = canonical(peer);
    if !is_trusted(peer, policy) {
        return peer;
    }
    let mut nearest = peer;
    let entries: Vec<&str> = headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for entry in entries.iter().rev() {
        let Ok(ip) = entry.trim().parse::<IpAddr>() else { return nearest };
        let ip = canonical(ip);
        nearest = ip;
        if !is_trusted(ip, policy) {
            return ip;
        }
    }
    nearest
}

/// The client address a platform wrote into the header `name` (the edge's peer, see
/// [`ForwardingPolicy::client_address_header`]): an address, an address with a port
/// (`[v6]:port` for IPv6), or a comma-separated list whose last entry is the nearest hop's.
/// `None` when the header is missing, repeated or unreadable.
pub fn address_in_header(headers: &HeaderMap, name: &str) -> Option<IpAddr> {
    let mut values = headers.get_all(name).iter();
    let (value, None) = (values.next()?, values.next()) else { return None };
    let nearest = value.to_str().ok()?.rsplit(',').next()?.trim();
    let ip = nearest
        .parse::<IpAddr>()
        .or_else(|_| nearest.parse::<std::net::SocketAddr>().map(|a| a.ip()))
        .ok()?;
    Some(canonical(ip))
}

/// Whether a request asks to switch protocols (`Connection: upgrade` and an `Upgrade` field).
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE) && connection_has(headers, "upgrade")
}

fn connection_has(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// The field names listed in `Connection`, as [`strip_hop_by_hop`] removes them.
fn connection_names(headers: &HeaderMap) -> impl Iterator<Item = HeaderName> + '_ {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
}

/// Whether `Connection` names a field beyond the connection options (`close`) and the
/// hop-by-hop fields: one that [`strip_hop_by_hop`] removes although the client sent it for the
/// backend, so the backend reads a request without it (`Connection: keep-alive, Content-Type`).
pub fn connection_names_end_to_end_fields(headers: &HeaderMap) -> bool {
    connection_names(headers).any(|name| {
        !(HOP_BY_HOP.contains(&&name)
            || name == header::UPGRADE
            || name == header::TRAILER
            || name == "close")
    })
}

/// Removes hop-by-hop fields, including every field named in `Connection`. With `upgrade`, the
/// `Upgrade` field and a `Connection: upgrade` are kept so the next hop can switch protocols.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, upgrade: bool) {
    // Fast path, the common case: one pass over the names finds nothing to remove, and no
    // lookups are made for absent fields.
    let present = headers.keys().any(|k| HOP_BY_HOP.contains(&k) || (!upgrade && k == header::UPGRADE));
    if !present {
        if upgrade {
            headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        }
        return;
    }
    if headers.contains_key(header::CONNECTION) {
        // Named fields are collected first: the map cannot be changed while it is borrowed.
        let named: Vec<HeaderName> = connection_names(headers).collect();
        for name in named {
            if !(upgrade && name == header::UPGRADE) {
                headers.remove(&name);
            }
        }
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    if upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        headers.remove(header::UPGRADE);
    }
}

/// Rewrites a request head for the backend: origin-form URI (the backend is addressed by the
/// connection), HTTP/1.1, hop-by-hop fields removed (`upgrade`: keep `Upgrade`), HTTP/2 cookie
/// crumbs joined, forwarding headers written, and `Host` per `host`
/// (`backend_authority` is the backend URL's `host:port`).
pub fn rewrite_request_head(
    head: &mut http::request::Parts,
    client: &ClientFacts,
    upgrade: bool,
    host: &HostRewrite,
    backend_authority: &str,
) {
    let original_host = head
        .headers
        .get(header::HOST)
        .cloned()
        .or_else(|| head.uri.authority().and_then(|a| HeaderValue::from_str(a.as_str()).ok()));
    let path =
        head.uri.path_and_query().cloned().unwrap_or_else(|| http::uri::PathAndQuery::from_static("/"));
    head.uri = http::Uri::from(path);
    head.version = http::Version::HTTP_11;
    let headers = &mut head.headers;
    strip_hop_by_hop(headers, upgrade);
    join_cookie_crumbs(headers);
    set_forwarding_headers(headers, client, original_host.as_ref());
    let host = match host {
        HostRewrite::Preserve => original_host.or_else(|| HeaderValue::from_str(backend_authority).ok()),
        HostRewrite::Backend => HeaderValue::from_str(backend_authority).ok(),
        HostRewrite::Fixed(v) => Some(v.clone()),
    };
    if let Some(host) = host {
        headers.insert(header::HOST, host);
    }
}

/// Writes `Forwarded`, `X-Forwarded-For`, `-Proto` and `-Host` for a request from `client`.
///
/// From a trusted proxy the incoming values are kept and this hop is appended; from anyone else
/// they are dropped and replaced, so a client cannot forge its address. `host` is the host the
/// client asked for (its `Host` field or HTTP/2 `:authority`).
pub fn set_forwarding_headers(headers: &mut HeaderMap, client: &ClientFacts, host: Option<&HeaderValue>) {
    if client.trusted {
        append_list(headers, &X_FORWARDED_FOR, client.peer.as_bytes());
        if !headers.contains_key(&X_FORWARDED_PROTO) {
            headers.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static(client.proto));
        }
        if let (false, Some(h)) = (headers.contains_key(&X_FORWARDED_HOST), host) {
            headers.insert(X_FORWARDED_HOST.clone(), h.clone());
        }
    } else {
        headers.insert(X_FORWARDED_FOR.clone(), client.peer.clone());
        headers.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static(client.proto));
        match host {
            Some(h) => headers.insert(X_FORWARDED_HOST.clone(), h.clone()),
            None => headers.remove(&X_FORWARDED_HOST),
        };
        headers.remove(header::FORWARDED);
    }
    let element = forwarded_element(client, host);
    if headers.contains_key(header::FORWARDED) {
        append_list(headers, &header::FORWARDED, element.as_bytes());
    } else if let Ok(v) = HeaderValue::from_maybe_shared(bytes::Bytes::from(element)) {
        headers.insert(header::FORWARDED, v);
    }
}

fn forwarded_element(client: &ClientFacts, host: Option<&HeaderValue>) -> String {
    let mut element = client.forwarded_element.clone();
    if let Some(host) = host.and_then(|h| h.to_str().ok()) {
        // A quoted-string may not hold '"' or '\'; such a Host is left out rather than escaped.
        if !host.contains(['"', '\\']) {
            element.push_str(";host=\"");
            element.push_str(host);
            element.push('"');
        }
    }
    element
}

/// Appends `value` to the comma-separated list in `name`, joining repeated fields into one.
fn append_list(headers: &mut HeaderMap, name: &HeaderName, value: &[u8]) {
    let mut joined = Vec::with_capacity(64);
    for v in headers.get_all(name) {
        joined.extend_from_slice(v.as_bytes());
        joined.extend_from_slice(b", ");
    }
    joined.extend_from_slice(value);
    if let Ok(v) = HeaderValue::from_bytes(&joined) {
        headers.insert(name.clone(), v);
    }
}

/// A request id from the client is kept when it is 1 to 128 visible ASCII characters.
pub fn acceptable_request_id(value: &HeaderValue) -> bool {
    let b = value.as_bytes();
    !b.is_empty() && b.len() <= 128 && b.iter().all(|c| c.is_ascii_graphic())
}

/// Joins several `Cookie` fields into one, separated by `; ` (RFC 9113 §8.2.3): HTTP/2 clients
/// may split cookies into crumbs, and an HTTP/1.1 backend reads only one `Cookie` line.
pub fn join_cookie_crumbs(headers: &mut HeaderMap) {
    let mut all = headers.get_all(http::header::COOKIE).iter();
    if all.next().is_none() || all.next().is_none() {
        return;
    }
    let mut joined: Vec<u8> = Vec::new();
    for crumb in headers.get_all(http::header::COOKIE) {
        if !joined.is_empty() {
            joined.extend_from_slice(b"; ");
        }
        joined.extend_from_slice(crumb.as_bytes());
    }
    if let Ok(value) = HeaderValue::from_bytes(&joined) {
        headers.insert(http::header::COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::policy::ForwardingPolicy;

    fn policy(trusted: &[&str]) -> ForwardingPolicy {
        ForwardingPolicy {
            trusted_proxies: trusted.iter().map(|t| t.parse().unwrap()).collect(),
            ..ForwardingPolicy::default()
        }
    }

    #[test]
    fn a_platform_header_gives_an_address_in_any_of_the_usual_spellings() {
        let read = |v: &str| address_in_header(&map(&[("cf-connecting-ip", v)]), "cf-connecting-ip");
        assert_eq!(read("203.0.113.9"), Some([203, 0, 113, 9].into()));
        assert_eq!(read("203.0.113.9:51234"), Some([203, 0, 113, 9].into()));
        assert_eq!(read(" 2001:db8::7 "), Some("2001:db8::7".parse().unwrap()));
        assert_eq!(read("[2001:db8::7]:443"), Some("2001:db8::7".parse().unwrap()));
        assert_eq!(read("::ffff:203.0.113.9"), Some([203, 0, 113, 9].into()), "mapped v4 is v4");
        assert_eq!(read("198.51.100.1, 203.0.113.9"), Some([203, 0, 113, 9].into()), "the nearest");
        for bad in ["", "unknown", "203.0.113", "203.0.113.9, junk", "[2001:db8::7", "1.2.3.4:x"] {
            assert_eq!(read(bad), None, "{bad:?}");
        }
        assert_eq!(address_in_header(&HeaderMap::new(), "cf-connecting-ip"), None);
        let twice = map(&[("x-real-ip", "198.51.100.1"), ("x-real-ip", "203.0.113.9")]);
        assert_eq!(
            address_in_header(&twice, "x-real-ip"),
            None,
            "two fields: which one the platform wrote is unknown"
        );
    }

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        m
    }

    #[test]
    fn strips_hop_by_hop_and_fields_named_in_connection() {
        let mut h = map(&[
            ("connection", "keep-alive, X-Secret-Hop"),
            ("connection", "close"),
            ("keep-alive", "timeout=5"),
            ("x-secret-hop", "1"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("proxy-connection", "keep-alive"),
            ("upgrade", "websocket"),
            ("accept", "text/html"),
        ]);
        strip_hop_by_hop(&mut h, false);
        let left: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, ["accept"]);
    }

    #[test]
    fn connection_may_name_options_and_hop_by_hop_fields_only() {
        for (value, end_to_end) in [
            ("keep-alive", false),
            ("Keep-Alive, TE, close", false),
            ("upgrade, trailer", false),
            ("keep-alive, Content-Type", true),
            ("cookie", true),
            ("x-account", true),
        ] {
            assert_eq!(
                connection_names_end_to_end_fields(&map(&[("connection", value)])),
                end_to_end,
                "{value}"
            );
        }
        assert!(!connection_names_end_to_end_fields(&map(&[])));
    }

    #[test]
    fn upgrade_keeps_upgrade_and_connection_upgrade() {
        let mut h = map(&[("connection", "Upgrade, x-a"), ("upgrade", "websocket"), ("x-a", "1")]);
        assert!(is_upgrade(&h));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h["upgrade"], "websocket");
        assert_eq!(h["connection"], "upgrade");
        assert!(!h.contains_key("x-a"));
        assert!(!is_upgrade(&map(&[("upgrade", "websocket")])));
    }

    #[test]
    fn untrusted_clients_cannot_forge_their_address() {
        let facts = ClientFacts::new("203.0.113.9".parse().unwrap(), "http", &policy(&[]));
        let mut h = map(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-host", "evil.example"),
            ("forwarded", "for=1.2.3.4"),
        ]);
        set_forwarding_headers(&mut h, &facts, Some(&HeaderValue::from_static("shop.example")));
        assert_eq!(h["x-forwarded-for"], "203.0.113.9");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-host"], "shop.example");
        assert_eq!(h["forwarded"], "for=203.0.113.9;proto=http;host=\"shop.example\"");
    }

    #[test]
    fn the_client_ip_is_the_nearest_untrusted_address() {
        let policy = policy(&["10.0.0.0/8"]);
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", "203.0.113.9, 198.51.100.7".parse().unwrap());
        h.append("x-forwarded-for", "10.1.1.1".parse().unwrap());
        let from_proxy: IpAddr = "10.0.0.7".parse().unwrap();
        assert_eq!(
            client_ip(from_proxy, &policy, &h).to_string(),
            "198.51.100.7",
            "the client wrote 203.0.113.9"
        );
        assert_eq!(
            client_ip("192.0.2.1".parse().unwrap(), &policy, &h).to_string(),
            "192.0.2.1",
            "an untrusted peer's header counts for nothing"
        );
        h.insert("x-forwarded-for", "junk".parse().unwrap());
        assert_eq!(client_ip(from_proxy, &policy, &h).to_string(), "10.0.0.7");
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().unwrap();
        assert_eq!(client_ip(mapped, &policy, &HeaderMap::new()).to_string(), "10.0.0.7", "IPv4-mapped");
    }

    #[test]
    fn trusted_proxies_are_appended_to() {
        let facts = ClientFacts::new("::ffff:10.0.0.7".parse().unwrap(), "http", &policy(&["10.0.0.0/8"]));
        let mut h = map(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-for", "192.0.2.4"),
            ("x-forwarded-proto", "https"),
            ("forwarded", "for=198.51.100.1;proto=https"),
        ]);
        set_forwarding_headers(&mut h, &facts, None);
        assert_eq!(h["x-forwarded-for"], "198.51.100.1, 192.0.2.4, 10.0.0.7");
        assert_eq!(h["x-forwarded-proto"], "https");
        assert_eq!(h["forwarded"], "for=198.51.100.1;proto=https, for=10.0.0.7;proto=http");
    }

    #[test]
    fn ipv6_nodes_are_quoted() {
        let facts = ClientFacts::new("2001:db8::1".parse().unwrap(), "https", &policy(&[]));
        let mut h = HeaderMap::new();
        set_forwarding_headers(&mut h, &facts, Some(&HeaderValue::from_static("a\"b")));
        assert_eq!(h["forwarded"], "for=\"[2001:db8::1]\";proto=https");
    }

    #[test]
    fn request_ids_are_bounded_and_visible() {
        assert!(acceptable_request_id(&HeaderValue::from_static("abc-123")));
        assert!(!acceptable_request_id(&HeaderValue::from_static("")));
        assert!(!acceptable_request_id(&HeaderValue::from_static("a b")));
        assert!(!acceptable_request_id(&HeaderValue::from_str(&"x".repeat(129)).unwrap()));
    }

    #[test]
    fn cookie_crumbs_become_one_field() {
        let mut h = HeaderMap::new();
        h.append("cookie", HeaderValue::from_static("a=1"));
        join_cookie_crumbs(&mut h);
        assert_eq!(h.get_all("cookie").iter().count(), 1);
        h.append("cookie", HeaderValue::from_static("session=x.y.z"));
        h.append("cookie", HeaderValue::from_static("b=2"));
        join_cookie_crumbs(&mut h);
        let all: Vec<_> = h.get_all("cookie").iter().collect();
        assert_eq!(all, ["a=1; session=x.y.z; b=2"]);
    }
}
