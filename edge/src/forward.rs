//! Forwarding at the edge: the request head rewritten by the same rules as the native proxy
//! (`doorman::core::forwarding`), sent through outgoing `wasi:http`, the answer's hop-by-hop
//! fields removed, bodies streamed both ways. Failures get the same neutral pages: 502 when the
//! backend cannot be reached or breaks the protocol, 504 when it does not answer in time, 400
//! when the client's own body broke off.

use std::net::{IpAddr, Ipv4Addr};

use bytes::Bytes;
use doorman::core::forwarding::{self, ClientFacts};
use doorman::core::policy::Policy;
use http::{HeaderName, StatusCode, Uri};
use wasip2::http::types::{ErrorCode, IncomingBody};
use wstd::http::{Body, Client, Request};

use crate::incoming::{Answer, RequestBody, FORBIDDEN};

/// A request body on its way to the backend.
pub enum Outgoing {
    /// Already read (a checkout).
    Bytes(Bytes),
    /// Streamed from the client.
    Stream(RequestBody),
}

impl RequestBody {
    /// This body, to be streamed to the backend.
    pub fn into_streaming(self) -> Outgoing {
        Outgoing::Stream(self)
    }
}

/// Forwards `head` with `body` to the policy's backend and answers what comes back.
pub async fn send(policy: &Policy, mut head: http::request::Parts, body: Outgoing) -> Answer {
    let facts = client_facts(&head, policy);
    // Edge hosts add their own fields (`spin-*`); they describe this hop, not the client's.
    let own: Vec<HeaderName> =
        head.headers.keys().filter(|n| n.as_str().starts_with("spin-")).cloned().collect();
    own.iter().for_each(|n| {
        head.headers.remove(n);
    });
    forwarding::rewrite_request_head(
        &mut head,
        &facts,
        false,
        &policy.backend.host,
        &policy.backend.authority,
    );
    let path = head.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let scheme = if policy.backend.url.starts_with("https://") { "https" } else { "http" };
    head.uri = match format!("{scheme}://{}{path}", policy.backend.authority).parse::<Uri>() {
        Ok(uri) => uri,
        Err(e) => {
            eprintln!("doorman-edge: backend address: {e}");
            return Answer::page(StatusCode::BAD_GATEWAY);
        }
    };
    // The host owns the connection: it sets `Host` from the backend's authority.
    FORBIDDEN.iter().for_each(|n| {
        head.headers.remove(*n);
    });

    let mut client = Client::new();
    client.set_connect_timeout(policy.backend.connect_timeout);
    client.set_first_byte_timeout(policy.backend.response_timeout);
    let (body, parent): (Body, Option<IncomingBody>) = match body {
        Outgoing::Bytes(bytes) => (Body::from(bytes), None),
        Outgoing::Stream(incoming) => match incoming.into_parts() {
            (Some(stream), parent) => (Body::from(stream), parent),
            (None, parent) => (Body::empty(), parent),
        },
    };
    let result = client.send(Request::from_parts(head, body)).await;
    // The incoming body outlives its stream, which the send consumed.
    drop(parent);
    match result {
        Ok(response) if response.status() == StatusCode::SWITCHING_PROTOCOLS => {
            eprintln!("doorman-edge: the backend switched protocols; upgrades do not pass the edge");
            Answer::page(StatusCode::BAD_GATEWAY)
        }
        Ok(mut response) => {
            forwarding::strip_hop_by_hop(response.headers_mut(), false);
            Answer::backend(response)
        }
        Err(e) => {
            let status = status_of(e.downcast_ref::<ErrorCode>());
            eprintln!("doorman-edge: forward failed ({}): {e:#}", status.as_u16());
            Answer::page(status)
        }
    }
}

/// The answer to a failed forward, by origin: an outgoing-handler error is the backend's
/// (504 for its timeouts, else 502); anything else failed on the client's body.
fn status_of(code: Option<&ErrorCode>) -> StatusCode {
    match code {
        Some(ErrorCode::ConnectionReadTimeout | ErrorCode::HttpResponseTimeout) => {
            StatusCode::GATEWAY_TIMEOUT
        }
        Some(_) => StatusCode::BAD_GATEWAY,
        None => StatusCode::BAD_REQUEST,
    }
}

/// The address of the edge's peer, as its platform reports it in the policy's
/// `forwarding.client_address_header` (Spin's `spin-client-addr` unless the policy names
/// another), if it does.
pub fn peer(head: &http::request::Parts, policy: &Policy) -> Option<IpAddr> {
    forwarding::address_in_header(&head.headers, policy.forwarding.client_address_header.as_str())
}

/// What the edge knows of the client for forwarding headers: its address from the platform, the
/// scheme it used.
fn client_facts(head: &http::request::Parts, policy: &Policy) -> ClientFacts {
    let peer = peer(head, policy).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let proto = if head.uri.scheme_str() == Some("https") { "https" } else { "http" };
    ClientFacts::new(peer, proto, &policy.forwarding)
}
