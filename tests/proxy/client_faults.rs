//! Client faults are the client's: badly framed or cut-short bodies get 4xx (or a closed
//! connection), count under `doorman_client_errors_total`, and never raise the backend-error
//! counters an operator alerts on. An early 413 is received even by a client that sends its
//! whole body before reading. A seeded fuzz run through the binary backs this up.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use http::Request;

use crate::support::backend::Backend;
use crate::support::client::{body, send};
use crate::support::doorman::{policy, Doorman, TOKEN};

/// A blacklist so checkout routes are part of the run (their bodies are buffered).
const BLACKLIST: &str = "[blacklist]\nhash = \"sha256\"\nmax_body_bytes = 4096\n\
    [[blacklist.checkout]]\nroute = \"POST /echo/{event}/checkout\"\nredirect = \"/echo/{event}\"\n";

/// Writes `request`, closes the sending side (as a client that is done, or gone, does) and
/// reads the answer until the server closes or `limit` passes.
pub fn exchange(addr: SocketAddr, request: &[u8], limit: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(limit)).unwrap();
    let _ = s.write_all(request);
    let _ = s.shutdown(Shutdown::Write);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// The value of one Prometheus sample line, 0 when absent.
pub fn sample(metrics: &str, line: &str) -> u64 {
    metrics.lines().find_map(|l| l.strip_prefix(line)?.trim().parse::<f64>().ok()).map_or(0, |v| v as u64)
}

pub async fn metrics(doorman: &Doorman) -> String {
    let req = Request::get(doorman.admin_url("/metrics"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(body(""))
        .unwrap();
    String::from_utf8_lossy(&send(req).await.1).into_owned()
}

fn backend_errors(metrics: &str) -> u64 {
    ["connect", "timeout", "protocol"]
        .iter()
        .map(|k| sample(metrics, &format!("doorman_backend_errors_total{{kind=\"{k}\"}}")))
        .sum()
}

fn status_of(answer: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[tokio::test]
async fn badly_framed_and_cut_short_bodies_over_http1_are_the_clients_fault() {
    let backend = Backend::start();
    let doorman = Doorman::start(&format!("{}{BLACKLIST}", policy(&backend.url(), "", "")));
    let addr = doorman.public;
    let cases: [(&str, &[u8]); 4] = [
        ("bad chunk size, forwarded route", b"POST /echo HTTP/1.1\r\nhost: shop\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
        ("cut short, forwarded route", b"POST /echo HTTP/1.1\r\nhost: shop\r\ncontent-length: 100\r\n\r\nonly a part"),
        ("bad chunk size, checkout", b"POST /echo/e1/checkout HTTP/1.1\r\nhost: shop\r\ncontent-type: application/x-www-form-urlencoded\r\ntransfer-encoding: chunked\r\n\r\n5\r\nemail\r\nqq\r\n"),
        ("cut short, checkout", b"POST /echo/e1/checkout HTTP/1.1\r\nhost: shop\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\nemail=a"),
    ];
    for (what, request) in cases {
        let request = request.to_vec();
        let answer = tokio::task::spawn_blocking(move || exchange(addr, &request, Duration::from_secs(5)))
            .await
            .unwrap();
        match status_of(&answer) {
            None => {} // the connection was closed: fine for a client that is gone
            Some(status) => {
                assert!((400..500).contains(&status), "{what}: {}", String::from_utf8_lossy(&answer))
            }
        }
    }
    let m = metrics(&doorman).await;
    assert_eq!(backend_errors(&m), 0, "client faults raised backend errors:\n{m}");
    assert!(sample(&m, "doorman_client_errors_total{kind=\"framing\"}") >= 2, "{m}");
    assert!(sample(&m, "doorman_client_errors_total{kind=\"cut_short\"}") >= 2, "{m}");
    let log = doorman.log();
    assert!(!log.contains("WARN"), "client faults are not warnings:\n{log}");
    assert_eq!(crate::support::client::get(&doorman.url("/echo")).await.0.status(), 200, "still serving");
}

#[tokio::test]
async fn a_body_cut_short_over_h2c_is_the_clients_fault() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    let mut sender = crate::support::client::h2c(doorman.public).await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let req = Request::post("http://shop/echo")
        .header("content-length", "1000")
        .body(crate::support::ChannelBody(rx))
        .unwrap();
    let pending = tokio::spawn(async move { sender.send_request(req).await.map(|r| r.status()) });
    tx.send(Ok(bytes::Bytes::from_static(b"a part of it"))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    tx.send(Err(std::io::Error::other("the customer closed the tab"))).await.unwrap();
    // The stream is reset by the client: it may or may not see an answer, but never a 5xx.
    if let Ok(Ok(status)) = pending.await {
        assert!(status.is_client_error(), "{status}");
    }
    // The request ends by being counted as the client's fault: depending on who is first, the
    // cut body or the reset stream. Once it is counted, nothing more happens to it.
    let faults = |m: &str| {
        sample(m, "doorman_client_errors_total{kind=\"cut_short\"}")
            + sample(m, "doorman_client_errors_total{kind=\"gone\"}")
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut m = metrics(&doorman).await;
    while faults(&m) == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        m = metrics(&doorman).await;
    }
    assert_eq!(faults(&m), 1, "{m}");
    assert_eq!(backend_errors(&m), 0, "{m}");
}

#[tokio::test]
async fn a_client_that_sends_its_whole_oversized_checkout_first_still_reads_the_413() {
    let backend = Backend::start();
    let doorman = Doorman::start(&format!("{}{BLACKLIST}", policy(&backend.url(), "", "")));
    let addr = doorman.public;
    for declared in [true, false] {
        // Larger than the socket buffers: the client is still writing when the 413 is sent.
        let payload = format!("email=a%40x.org&pad={}", "x".repeat(4 << 20));
        let head = if declared {
            format!("POST /echo/e1/checkout HTTP/1.1\r\nhost: shop\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n", payload.len())
        } else {
            "POST /echo/e1/checkout HTTP/1.1\r\nhost: shop\r\ncontent-type: application/x-www-form-urlencoded\r\ntransfer-encoding: chunked\r\n\r\n".to_owned()
        };
        let mut request = head.into_bytes();
        if declared {
            request.extend_from_slice(payload.as_bytes());
        } else {
            for chunk in payload.as_bytes().chunks(8192) {
                request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                request.extend_from_slice(chunk);
                request.extend_from_slice(b"\r\n");
            }
            request.extend_from_slice(b"0\r\n\r\n");
        }
        // Write everything first, then read: no reset may swallow the answer.
        let answer = tokio::task::spawn_blocking(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
            let written = s.write_all(&request);
            let mut out = Vec::new();
            let mut buf = [0u8; 8192];
            loop {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                }
                if out.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            (written, out)
        })
        .await
        .unwrap();
        let (written, answer) = answer;
        assert!(written.is_ok(), "declared {declared}: the client could not finish sending: {written:?}");
        assert_eq!(
            status_of(&answer),
            Some(413),
            "declared {declared}: {:?}",
            String::from_utf8_lossy(&answer)
        );
    }
    let m = metrics(&doorman).await;
    assert_eq!(sample(&m, "doorman_client_errors_total{kind=\"too_large\"}"), 2, "{m}");
}
