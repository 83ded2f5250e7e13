//! The operations listener: health, readiness, metrics behind the bearer token.

use http::Request;

use crate::support::backend::Backend;
use crate::support::client::{body, get, send};
use crate::support::doorman::{policy, Doorman, TOKEN};

#[tokio::test]
async fn health_and_readiness_are_open_metrics_need_the_token() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    assert_ne!(doorman.admin, doorman.public, "the admin API has its own listener");
    let (resp, bytes) = get(&doorman.admin_url("/healthz")).await;
    assert_eq!((resp.status().as_u16(), &bytes[..]), (200, &b"ok\n"[..]));
    let (resp, bytes) = get(&doorman.admin_url("/readyz")).await;
    assert_eq!(resp.status(), 200, "{bytes:?}");

    assert_eq!(get(&doorman.admin_url("/metrics")).await.0.status(), 401);
    for wrong in ["Bearer nope", "Bearer test-admin-token-012345678", "Basic dGVzdA==", "Bearer "] {
        let req = Request::get(doorman.admin_url("/metrics"))
            .header("authorization", wrong)
            .body(body(""))
            .unwrap();
        assert_eq!(send(req).await.0.status(), 401, "{wrong}");
    }
    assert_eq!(get(&doorman.url("/metrics")).await.0.status(), 404, "metrics are not on the public listener");

    let _ = get(&doorman.url("/echo")).await;
    let req = Request::get(doorman.admin_url("/metrics"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(body(""))
        .unwrap();
    let (resp, bytes) = send(req).await;
    assert_eq!(resp.status(), 200);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("doorman_responses_total{class=\"2xx\"} 1"), "{text}");
    assert!(text.contains("doorman_response_head_seconds_bucket"), "{text}");
}

#[tokio::test]
async fn backend_errors_are_counted() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let doorman = Doorman::start(&policy(&format!("http://{addr}"), "", ""));
    for _ in 0..3 {
        assert_eq!(get(&doorman.url("/")).await.0.status(), 502);
    }
    let req = Request::get(doorman.admin_url("/metrics"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(body(""))
        .unwrap();
    let text = String::from_utf8_lossy(&send(req).await.1).into_owned();
    assert!(text.contains("doorman_backend_errors_total{kind=\"connect\"} 3"), "{text}");
    assert!(text.contains("doorman_responses_total{class=\"5xx\"} 3"), "{text}");
}
