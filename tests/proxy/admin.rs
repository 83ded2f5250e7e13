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
    let ready: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        (ready["store"].as_str(), ready["durability"]["level"].as_str()),
        (Some("embedded"), Some("fsync"))
    );
    assert_eq!(ready["durability"]["safe"], true);

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

/// Readiness and the log say what Redis's persistence settings keep of acknowledged writes, and
/// follow a change of them.
#[tokio::test]
async fn readiness_reports_whether_redis_keeps_acknowledged_writes() {
    let redis = crate::support::redis::RedisServer::start(); // appendonly no, no snapshots
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", &format!("[store]\nurl = \"{}\"", redis.url())));
    let durability = || async {
        let (resp, bytes) = get(&doorman.admin_url("/readyz")).await;
        assert_eq!(resp.status(), 200, "{bytes:?}");
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["durability"].clone()
    };
    let d = durability().await;
    assert_eq!((d["level"].as_str(), d["safe"].as_bool()), (Some("none"), Some(false)), "{d}");
    assert!(d["detail"].as_str().unwrap().contains("appendfsync always"), "{d}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !doorman.log().contains("a Redis restart loses every acknowledged write") {
        assert!(std::time::Instant::now() < deadline, "no warning in the log:\n{}", doorman.log());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(doorman.log().contains("WARN"), "{}", doorman.log());

    let client = redis::Client::open(redis.url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    for (name, value) in [("appendonly", "yes"), ("appendfsync", "everysec")] {
        let _: () = redis::cmd("CONFIG").arg("SET").arg(name).arg(value).query_async(&mut c).await.unwrap();
    }
    assert_eq!(durability().await["level"], "aof-everysec");
    let _: () =
        redis::cmd("CONFIG").arg("SET").arg("appendfsync").arg("always").query_async(&mut c).await.unwrap();
    let d = durability().await;
    assert_eq!((d["level"].as_str(), d["safe"].as_bool()), (Some("fsync"), Some(true)), "{d}");
}
