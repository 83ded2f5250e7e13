//! Backend answers framed every way HTTP/1.1 allows reach the client whole, and pooled backend
//! connections stay in step; broken framings get 502 or a cut-short body, and never leak into
//! the next customer's answer. The backend here is raw TCP, to send framings a well-behaved
//! server never would. Stale pooled connections are in `errors.rs`.

use http::Request;

use crate::support::backend::ScriptBackend;
use crate::support::client::{body, client, get, send};
use crate::support::doorman::{policy, Doorman};

fn doorman_for(backend: &ScriptBackend) -> Doorman {
    Doorman::start(&policy(&backend.url(), "", ""))
}

#[tokio::test]
async fn chunked_bodies_with_extensions_and_trailers_arrive_whole_and_the_connection_is_reused() {
    let backend = ScriptBackend::start(vec![(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;note=x\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n",
        false,
    )]);
    let doorman = doorman_for(&backend);
    for _ in 0..3 {
        let (resp, bytes) = get(&doorman.url("/chunked")).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(&bytes[..], b"hello world");
        assert!(
            !resp.headers().contains_key("transfer-encoding")
                || resp.headers()["transfer-encoding"] == "chunked"
        );
    }
    assert_eq!(backend.connections(), 1, "a cleanly ended chunked body leaves the connection reusable");
}

#[tokio::test]
async fn close_delimited_bodies_arrive_whole_and_the_connection_is_not_reused() {
    let backend = ScriptBackend::start(vec![(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
        true,
    )]);
    let doorman = doorman_for(&backend);
    for _ in 0..2 {
        let (resp, bytes) = get(&doorman.url("/")).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(&bytes[..], b"until the end");
    }
    assert_eq!(backend.connections(), 2);
}

#[tokio::test]
async fn interim_answers_are_skipped() {
    let backend = ScriptBackend::start(vec![(
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        false,
    )]);
    let doorman = doorman_for(&backend);
    let (resp, bytes) = get(&doorman.url("/")).await;
    assert_eq!((resp.status().as_u16(), &bytes[..]), (200, &b"ok"[..]));
}

#[tokio::test]
async fn head_answers_keep_their_length_and_carry_no_body() {
    let backend = ScriptBackend::start(vec![
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter", false),
    ]);
    let doorman = doorman_for(&backend);
    let (resp, bytes) = send(Request::head(doorman.url("/")).body(body("")).unwrap()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"], "5");
    assert!(bytes.is_empty());
    let (_, bytes) = get(&doorman.url("/")).await;
    assert_eq!(&bytes[..], b"after");
    assert_eq!(backend.connections(), 1);
}

#[tokio::test]
async fn bytes_beyond_the_declared_length_never_reach_the_next_answer() {
    // The first answer carries a second, smuggled answer after its declared body. Doorman must
    // drop that connection instead of reading the smuggled bytes as the next answer.
    let backend = ScriptBackend::start(vec![
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled", false),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\ngenuine", false),
    ]);
    let doorman = doorman_for(&backend);
    let (_, first) = get(&doorman.url("/a")).await;
    assert_eq!(&first[..], b"ok");
    let (_, second) = get(&doorman.url("/b")).await;
    assert_eq!(&second[..], b"genuine");
    assert_eq!(backend.connections(), 2);
}

#[tokio::test]
async fn ambiguous_or_broken_heads_get_502() {
    for answer in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header Name: x\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
    ] {
        let backend = ScriptBackend::start(vec![(answer, true)]);
        let doorman = doorman_for(&backend);
        let (resp, _) = get(&doorman.url("/")).await;
        assert_eq!(resp.status(), 502, "{}", String::from_utf8_lossy(answer));
    }
    let huge: &'static [u8] =
        format!("HTTP/1.1 200 OK\r\nX-Big: {}\r\n\r\n", "a".repeat(100_000)).leak().as_bytes();
    let backend = ScriptBackend::start(vec![(huge, true)]);
    let doorman = doorman_for(&backend);
    assert_eq!(get(&doorman.url("/")).await.0.status(), 502);
}

#[tokio::test]
async fn a_chunked_body_cut_short_does_not_look_complete() {
    let backend = ScriptBackend::start(vec![
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", true),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", true),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false),
    ]);
    let doorman = doorman_for(&backend);
    for path in ["/cut", "/garbled"] {
        // The head may or may not have gone out before the body broke; either way the client
        // must not receive something that looks like a whole answer.
        if let Ok(resp) = client().request(Request::get(doorman.url(path)).body(body("")).unwrap()).await {
            assert_eq!(resp.status(), 200);
            let collected = http_body_util::BodyExt::collect(resp.into_body()).await;
            assert!(collected.is_err(), "{path}: a broken body must not look complete to the client");
        }
    }
    let (resp, bytes) = get(&doorman.url("/next")).await;
    assert_eq!((resp.status().as_u16(), &bytes[..]), (200, &b"ok"[..]));
}
