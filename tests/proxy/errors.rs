//! Misbehaving clients and backends get defined answers, and Doorman keeps serving.

use std::time::{Duration, Instant};

use http::Request;

use crate::support::backend::{Backend, ScriptBackend};
use crate::support::client::{body, get, raw, send};
use crate::support::doorman::{policy, Doorman};

/// The error pages must not leak the backend's address or internal error text.
fn assert_neutral(text: &str, backend: &str) {
    assert!(!text.contains(backend), "error page leaks the backend address: {text}");
    for word in ["hyper", "error trying", "Connection refused", "os error", "127.0.0.1"] {
        assert!(!text.contains(word), "error page leaks `{word}`: {text}");
    }
}

#[tokio::test]
async fn unreachable_backend_gives_a_neutral_502() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let doorman = Doorman::start(&policy(&format!("http://{addr}"), "", ""));
    let (resp, bytes) = get(&doorman.url("/events")).await;
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
    assert!(resp.headers().contains_key("x-request-id"));
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("Bad Gateway"));
    assert_neutral(&text, &addr.to_string());
}

#[tokio::test]
async fn slow_backend_gives_504_after_the_response_timeout() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", "response_timeout = \"300ms\""));
    let started = Instant::now();
    let (resp, bytes) = get(&doorman.url("/slow-head?ms=5000")).await;
    assert_eq!(resp.status(), 504);
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert_neutral(&String::from_utf8_lossy(&bytes), &backend.addr.to_string());
    let (resp, _) = get(&doorman.url("/slow-head?ms=10")).await;
    assert_eq!(resp.status(), 200, "fast enough answers still pass");
}

#[tokio::test]
async fn invalid_backend_status_line_gives_502() {
    let broken = ScriptBackend::start(vec![(b"HTTP/1.1 abc Whatever\r\n\r\n", true)]);
    let doorman = Doorman::start(&policy(&broken.url(), "", ""));
    let (resp, bytes) = get(&doorman.url("/")).await;
    assert_eq!(resp.status(), 502);
    assert_neutral(&String::from_utf8_lossy(&bytes), &broken.addr.to_string());
    let garbage = ScriptBackend::start(vec![(b"\x00\x01\x02 not http at all", true)]);
    let doorman = Doorman::start(&policy(&garbage.url(), "", ""));
    assert_eq!(get(&doorman.url("/")).await.0.status(), 502);
}

#[tokio::test]
async fn backend_closing_mid_body_cuts_the_response_and_doorman_keeps_serving() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    let resp = crate::support::client::client()
        .request(Request::get(doorman.url("/break-mid-body")).body(body("")).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let collected = http_body_util::BodyExt::collect(resp.into_body()).await;
    assert!(collected.is_err(), "a body cut short must not look complete to the client");
    let (resp, _) = get(&doorman.url("/echo")).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn client_vanishing_mid_upload_does_not_hurt_doorman() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    let head = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\npartial body";
    let _ = raw(doorman.public, head, Duration::from_millis(200));
    let (resp, _) = get(&doorman.url("/echo")).await;
    assert_eq!(resp.status(), 200);
}

#[test]
fn oversized_headers_get_431() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "max_header_bytes = 8192", ""));
    let big = format!("GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000));
    let answer = raw(doorman.public, big.as_bytes(), Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
}

#[test]
fn malformed_requests_get_400() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    for bad in [
        &b"NOT HTTP AT ALL\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nBad Header Line\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
    ] {
        let answer = raw(doorman.public, bad, Duration::from_secs(5));
        assert!(
            answer.starts_with("HTTP/1.1 400") || answer.starts_with("HTTP/1.1 505"),
            "{:?} answered {answer:.200}",
            String::from_utf8_lossy(bad)
        );
    }
    let conflicting = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd";
    assert!(raw(doorman.public, conflicting, Duration::from_secs(5)).starts_with("HTTP/1.1 400"));
}

#[test]
fn clients_that_never_finish_their_head_are_cut_off() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "header_read_timeout = \"500ms\"", ""));
    let started = Instant::now();
    let answer = raw(doorman.public, b"GET /echo HTTP/1.1\r\nHost: x\r\n", Duration::from_secs(10));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "slowloris connection held for {:?}",
        started.elapsed()
    );
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[tokio::test]
async fn doorman_recovers_when_the_backend_comes_back() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let doorman = Doorman::start(&policy(&format!("http://{addr}"), "", ""));
    assert_eq!(get(&doorman.url("/echo")).await.0.status(), 502);
    let _backend = Backend::start_on(addr);
    let req = Request::post(doorman.url("/echo")).body(body("x")).unwrap();
    assert_eq!(send(req).await.0.status(), 200, "a 502 must not poison the pool");
}

#[tokio::test]
async fn backends_that_close_kept_alive_connections_do_not_fail_requests() {
    // Answers as if keeping the connection alive, then closes it: the next request on that
    // pooled connection cannot be sent, and must be retried on a fresh one, not answered 502.
    let closing = ScriptBackend::start(vec![(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", true)]);
    let doorman = Doorman::start(&policy(&closing.url(), "", ""));
    for i in 0..20 {
        // Bodiless GETs and POSTs with a body alike.
        let req = if i % 2 == 0 {
            Request::get(doorman.url("/events")).body(body("")).unwrap()
        } else {
            Request::post(doorman.url("/orders")).body(body("x")).unwrap()
        };
        let (resp, bytes) = send(req).await;
        assert_eq!((resp.status().as_u16(), &bytes[..]), (200, &b"ok"[..]), "request {i}");
    }
    assert_eq!(closing.connections(), 20, "every request needed a fresh connection");
}

#[tokio::test]
async fn a_backend_that_never_accepts_gives_502_after_the_connect_timeout() {
    // A listener that never accepts, with its backlog filled: further SYNs go unanswered, so
    // connecting hangs until Doorman's connect timeout (all on loopback).
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        let _ = s.connect(&addr.into());
        fillers.push(s);
    }
    std::thread::sleep(Duration::from_millis(100));
    let doorman = Doorman::start(&policy(&format!("http://{addr}"), "", "connect_timeout = \"300ms\""));
    let started = Instant::now();
    let (resp, _) = get(&doorman.url("/events")).await;
    assert_eq!(resp.status(), 502);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(5), "took {took:?}");
    drop(fillers);
}
