//! Bodies stream both ways: nothing is buffered on forwarded routes, memory stays flat.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::BodyExt;

use crate::support::backend::Backend;
use crate::support::client::{client, get};
use crate::support::doorman::{policy, Doorman};
use crate::support::ChannelBody;

/// Waits until `check` holds, polling, for at most `limit`.
async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    check()
}

#[tokio::test]
async fn upload_bytes_reach_the_backend_before_the_upload_ends() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let req =
        Request::post(doorman.url("/upload")).body(http_body_util::BodyExt::boxed(ChannelBody(rx))).unwrap();
    let pending = tokio::spawn(client().request(req));
    tx.send(Ok(Bytes::from_static(b"first part;"))).await.unwrap();
    let state = backend.state.clone();
    assert!(
        eventually(Duration::from_secs(10), || state.uploaded.load(Ordering::SeqCst) >= 11).await,
        "the first part never reached the backend while the upload was open: Doorman buffers uploads"
    );
    tx.send(Ok(Bytes::from_static(b"second part"))).await.unwrap();
    drop(tx);
    let resp = pending.await.unwrap().unwrap();
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&text[..], b"received 22");
}

#[tokio::test]
async fn download_chunks_reach_the_client_before_the_backend_finishes() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    let resp = client().request(
        Request::get(doorman.url("/gated-download")).body(crate::support::client::body("")).unwrap(),
    );
    let mut body = tokio::time::timeout(Duration::from_secs(10), resp).await.unwrap().unwrap().into_body();
    let first = tokio::time::timeout(Duration::from_secs(10), body.frame())
        .await
        .expect("the first chunk arrives while the backend still holds the rest")
        .unwrap()
        .unwrap();
    assert_eq!(first.data_ref().unwrap().as_ref(), b"first-chunk;");
    backend.state.gate.notify_one();
    let rest = body.collect().await.unwrap().to_bytes();
    assert_eq!(&rest[..], b"second-chunk");
}

#[tokio::test]
async fn a_200_mb_upload_and_download_pass_with_flat_memory() {
    const SIZE: u64 = 200 * 1024 * 1024;
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    let _ = get(&doorman.url("/echo")).await; // warm up: pools and buffers allocated
    let baseline = doorman.rss_kib();

    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move {
        let chunk = Bytes::from(vec![b'u'; 256 * 1024]);
        for _ in 0..SIZE / chunk.len() as u64 {
            if tx.send(Ok(chunk.clone())).await.is_err() {
                return;
            }
        }
    });
    let req = Request::post(doorman.url("/upload"))
        .header("content-length", SIZE.to_string())
        .body(http_body_util::BodyExt::boxed(ChannelBody(rx)))
        .unwrap();
    let resp = client().request(req).await.unwrap();
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(String::from_utf8_lossy(&text), format!("received {SIZE}"));

    let resp = client()
        .request(
            Request::get(doorman.url(&format!("/download?size={SIZE}")))
                .body(crate::support::client::body(""))
                .unwrap(),
        )
        .await
        .unwrap();
    let mut body = resp.into_body();
    let mut total = 0u64;
    while let Some(frame) = body.frame().await {
        total += frame.unwrap().data_ref().map_or(0, |d| d.len() as u64);
    }
    assert_eq!(total, SIZE);

    let peak = doorman.peak_rss_kib();
    assert!(
        peak < baseline + 32 * 1024,
        "peak memory grew from {baseline} KiB to {peak} KiB moving 2 × 200 MB: bodies are being buffered"
    );
}
