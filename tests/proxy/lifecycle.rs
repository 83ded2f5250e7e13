//! Upgrades, graceful shutdown, and what happens around them.

use std::io::{Read, Write};
use std::time::Duration;

use crate::support::backend::Backend;
use crate::support::client::get;
use crate::support::doorman::{policy, Doorman};

#[test]
fn websocket_upgrades_pass_through_and_carry_bytes_both_ways() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    let mut s = std::net::TcpStream::connect(doorman.public).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "connection closed during the 101 head");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: websocket"), "{head}");
    for msg in [&b"hello through doorman"[..], b"and again"] {
        s.write_all(msg).unwrap();
        let mut echoed = vec![0u8; msg.len()];
        s.read_exact(&mut echoed).unwrap();
        assert_eq!(echoed, msg);
    }
}

#[tokio::test]
async fn sigterm_finishes_in_flight_requests_then_exits() {
    let backend = Backend::start();
    let mut doorman = Doorman::start(&policy(&backend.url(), "", ""));
    let url = doorman.url("/slow-head?ms=800");
    let in_flight = tokio::spawn(async move { get(&url).await });
    tokio::time::sleep(Duration::from_millis(200)).await; // the request is at the backend now
    doorman.terminate();
    let (resp, bytes) = in_flight.await.unwrap();
    assert_eq!(resp.status(), 200, "the in-flight request was cut off");
    assert_eq!(&bytes[..], b"late");
    let status = doorman.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status {status:?}");
    assert!(std::net::TcpStream::connect(doorman.public).is_err(), "still accepting after shutdown");
}

#[tokio::test]
async fn shutdown_grace_bounds_how_long_stragglers_may_run() {
    let backend = Backend::start();
    let mut doorman = Doorman::start(
        &policy(&backend.url(), "", "response_timeout = \"60s\"")
            .replace("shutdown_grace = \"5s\"", "shutdown_grace = \"300ms\""),
    );
    let url = doorman.url("/slow-head?ms=30000");
    let _straggler =
        tokio::spawn(async move { crate::support::client::client().get(url.parse().unwrap()).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    doorman.terminate();
    let status = doorman.wait_exit(Duration::from_secs(5));
    assert!(status.success(), "exit status {status:?}");
}
