//! The component end to end: forwarding, and a blacklisted checkout turned back, on a real
//! Redis shared with the native store adapter.

use bytes::Bytes;
use doorman::adapters::store::RedisStore;
use doorman::core::blacklist::{entry_key, Identity, Scope};
use doorman::core::email_hash::EmailHasher;
use doorman::ports::store::Store;

use crate::host::{compiled_policy, EdgeHost};
use crate::support::backend::Backend;
use crate::support::doorman::HASH_KEY;
use crate::support::redis::RedisServer;

const BLACKLIST: &str = "[blacklist]\nemail_fields = [\"email\"]\n\
    [[blacklist.checkout]]\nroute = \"POST /echo/{event}/checkout\"\nredirect = \"/echo/{event}\"\n";

pub fn request(method: &str, path: &str, body: &'static str) -> http::Request<Bytes> {
    http::Request::builder()
        .method(method)
        .uri(format!("http://shop.example{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap()
}

/// A component in front of a real backend on a real Redis, with `mallory@example.com` blacklisted
/// platform-wide (written as native Doorman writes it); `extra` goes into `[blacklist]`.
struct Edge {
    /// Kept running for the test.
    _redis: RedisServer,
    backend: Backend,
    host: EdgeHost,
    store: RedisStore,
}

async fn edge_with_mallory(extra: &str) -> Edge {
    let redis = RedisServer::start();
    let backend = Backend::start();
    let blacklist = BLACKLIST.replace("[blacklist]\n", &format!("[blacklist]\n{extra}\n"));
    let policy =
        format!("[backend]\nurl = \"{}\"\n[store]\nurl = \"{}\"\n{blacklist}", backend.url(), redis.url());
    let host =
        EdgeHost::new(&redis.url(), &[("policy", &compiled_policy(&policy)), ("hash_key", HASH_KEY)]).await;
    let store = RedisStore::connect(&redis.url(), "doorman").unwrap();
    let hasher = EmailHasher::hmac(HASH_KEY.as_bytes()).unwrap();
    let mallory = Identity::EmailHash(hasher.hash_hex("mallory@example.com"));
    store.set(&entry_key(&mallory, &Scope::Platform), b"{}", None).await.unwrap();
    // What `doorman serve` does to a store it starts on.
    doorman::app::blacklist::index::build(&store).await.unwrap();
    Edge { _redis: redis, backend, host, store }
}

#[tokio::test]
async fn the_component_forwards_and_turns_back_a_blacklisted_checkout() {
    let edge = edge_with_mallory("").await;
    let (host, backend) = (&edge.host, &edge.backend);

    let page = host.handle(request("GET", "/echo/page?x=1", "")).await.unwrap();
    assert_eq!(page.status(), 200);
    let echo: serde_json::Value = serde_json::from_slice(page.body()).unwrap();
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["uri"], "/echo/page?x=1");
    assert!(page.headers().contains_key("x-request-id"));

    let ordered = host.handle(request("POST", "/echo/e1/checkout", "email=ada%40example.com")).await.unwrap();
    assert_eq!(ordered.status(), 200);
    let echo: serde_json::Value = serde_json::from_slice(ordered.body()).unwrap();
    assert_eq!(echo["body"], "email=ada%40example.com", "the backend got the same body");

    let before = backend.state.requests.load(std::sync::atomic::Ordering::SeqCst);
    let blocked =
        host.handle(request("POST", "/echo/e1/checkout", "email=Mallory%40Example.com")).await.unwrap();
    assert_eq!(blocked.status(), 303, "{:?}", String::from_utf8_lossy(blocked.body()));
    assert_eq!(blocked.headers()["location"], "/echo/e1");
    assert!(blocked.body().is_empty());
    assert_eq!(
        backend.state.requests.load(std::sync::atomic::Ordering::SeqCst),
        before,
        "nothing reached the backend"
    );
}

#[tokio::test]
async fn a_store_doorman_did_not_set_up_fails_as_on_store_error_says_and_the_log_says_why() {
    // The runtime config points at another, empty Redis (or none: Spin's local store).
    let edge = edge_with_mallory("").await;
    let wrong = RedisServer::start();
    let hasher = EmailHasher::hmac(HASH_KEY.as_bytes()).unwrap();
    let mallory = Identity::EmailHash(hasher.hash_hex("mallory@example.com"));
    let wrong_store = RedisStore::connect(&wrong.url(), "doorman").unwrap();
    for (mode, status) in [("open", 200), ("closed", 303)] {
        let policy = format!(
            "[backend]\nurl = \"{}\"\n{}",
            edge.backend.url(),
            BLACKLIST.replace("[blacklist]\n", &format!("[blacklist]\non_store_error = \"{mode}\"\n"))
        );
        let host =
            EdgeHost::new(&wrong.url(), &[("policy", &compiled_policy(&policy)), ("hash_key", HASH_KEY)])
                .await;
        let ada = host.handle(request("POST", "/echo/e1/checkout", "email=ada%40example.com")).await.unwrap();
        assert_eq!(ada.status(), status, "on_store_error = {mode}");
        let log = host.log();
        assert!(log.contains("WARN blacklist: the key-value store holds no blacklist index"), "{log}");
        assert!(log.contains("on_store_error decides"), "{log}");

        // The wrong store holding the same entry does not make it the right one.
        wrong_store.set(&entry_key(&mallory, &Scope::Platform), b"{}", None).await.unwrap();
        let eve = host.handle(request("POST", "/echo/e1/checkout", "email=eve%40example.com")).await.unwrap();
        assert_eq!(eve.status(), status, "still not set up");
        wrong_store.delete(&entry_key(&mallory, &Scope::Platform)).await.unwrap();
    }
    // A store being set up (buckets without their ready mark) is not answered from either.
    let ada = Identity::EmailHash(hasher.hash_hex("ada@example.com"));
    let (key, member) = doorman::app::blacklist::index::members([&ada]).remove(0);
    wrong_store.add_members(&[(key, member)]).await.unwrap();
    let policy = format!("[backend]\nurl = \"{}\"\n{BLACKLIST}", edge.backend.url());
    let host =
        EdgeHost::new(&wrong.url(), &[("policy", &compiled_policy(&policy)), ("hash_key", HASH_KEY)]).await;
    let ada = host.handle(request("POST", "/echo/e1/checkout", "email=ada%40example.com")).await.unwrap();
    assert_eq!(ada.status(), 200);
    assert!(host.log().contains("the blacklist index is still being built"), "{}", host.log());

    // The right store: clean checkouts forwarded, mallory turned back, nothing in the log.
    let ada =
        edge.host.handle(request("POST", "/echo/e1/checkout", "email=ada%40example.com")).await.unwrap();
    let mallory =
        edge.host.handle(request("POST", "/echo/e1/checkout", "email=mallory%40example.com")).await.unwrap();
    assert_eq!((ada.status().as_u16(), mallory.status().as_u16()), (200, 303));
    assert_eq!(edge.host.log(), "", "nothing to say");
}

#[tokio::test]
async fn missing_or_broken_settings_get_a_neutral_500_never_their_text() {
    let redis = RedisServer::start();
    let none = EdgeHost::new(&redis.url(), &[]).await;
    let broken = EdgeHost::new(
        &redis.url(),
        &[("policy", r#"{"backend": {"url": "ftp://secret-backend.internal"}}"#)],
    )
    .await;
    let no_key = EdgeHost::new(
        &redis.url(),
        &[("policy", &compiled_policy(&format!("[backend]\nurl = \"http://127.0.0.1:9\"\n{BLACKLIST}")))],
    )
    .await;
    // The TOML file itself rather than its compiled form: the log says what to do.
    let toml =
        EdgeHost::new(&redis.url(), &[("policy", "[backend]\nurl = \"http://secret-backend.internal\"\n")])
            .await;
    let hosts = [none, broken, no_key, toml];
    for host in &hosts {
        let answer =
            host.handle(request("GET", "/events", "")).await.expect("an answer, not a trap or a hang");
        assert_eq!(answer.status(), 500);
        let text = String::from_utf8_lossy(answer.body());
        assert!(text.contains("<h1>Error</h1>"), "{text}");
        assert!(!text.contains("secret-backend") && !text.contains("policy"), "no internal detail: {text}");
    }
    let log = hosts[3].log();
    assert!(log.contains("holds no compiled policy") && log.contains("doorman compile-policy FILE"), "{log}");
    assert!(hosts[1].log().contains("backend.url"), "the field at fault: {}", hosts[1].log());
}

#[tokio::test]
async fn an_unreachable_backend_is_a_neutral_502() {
    let redis = RedisServer::start();
    let closed = crate::support::dead_port();
    let policy = format!("[backend]\nurl = \"http://127.0.0.1:{closed}\"\n");
    let host = EdgeHost::new(&redis.url(), &[("policy", &compiled_policy(&policy))]).await;
    let answer = host.handle(request("GET", "/events", "")).await.unwrap();
    assert_eq!(answer.status(), 502);
    assert!(String::from_utf8_lossy(answer.body()).contains("<h1>Bad Gateway</h1>"));
    assert!(!String::from_utf8_lossy(answer.body()).contains(&closed.to_string()), "no backend address");
}

#[tokio::test]
async fn the_edge_covers_blocked_checkouts_with_the_shared_timing_samples() {
    let edge = edge_with_mallory("blocked_delay = \"3s\"").await;
    let (host, store) = (&edge.host, &edge.store);

    // No sample saved yet: a block waits the policy's fallback.
    let started = std::time::Instant::now();
    let blocked =
        host.handle(request("POST", "/echo/e1/checkout", "email=mallory%40example.com")).await.unwrap();
    assert_eq!(blocked.status(), 303);
    assert!(started.elapsed() >= std::time::Duration::from_millis(2900), "{:?}", started.elapsed());

    // Forwarded checkouts at the edge add their durations to the shared samples...
    for _ in 0..3 {
        let ok = host.handle(request("POST", "/echo/e1/checkout", "email=ada%40example.com")).await.unwrap();
        assert_eq!(ok.status(), 200);
    }
    let saved = store.get("tm:POST /echo/_event_/checkout").await.unwrap().expect("samples saved");
    assert_eq!(String::from_utf8_lossy(&saved).split(',').count(), 3);
    // ...so the next block takes as long as they did, not the fallback.
    let started = std::time::Instant::now();
    let blocked =
        host.handle(request("POST", "/echo/e1/checkout", "email=mallory%40example.com")).await.unwrap();
    assert_eq!(blocked.status(), 303);
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_checkout_body_cut_short_at_the_edge_is_the_clients_fault() {
    use http_body_util::StreamBody;
    use hyper::body::Frame;
    use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
    let edge = edge_with_mallory("").await;
    let (host, backend) = (&edge.host, &edge.backend);
    let parts: Vec<Result<Frame<Bytes>, ErrorCode>> =
        vec![Ok(Frame::data(Bytes::from_static(b"email=mallory%40exa"))), Err(ErrorCode::HttpProtocolError)];
    let req = http::Request::post("http://shop.example/echo/e1/checkout")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-length", "40")
        .body(StreamBody::new(futures_util::stream::iter(parts)))
        .unwrap();
    let answer = host.handle_body(req).await.expect("an answer, not a trap");
    assert_eq!(answer.status(), 400);
    assert!(String::from_utf8_lossy(answer.body()).contains("<h1>Bad Request</h1>"));
    assert_eq!(
        backend.state.requests.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing reached the backend"
    );
}

#[tokio::test]
async fn a_stalled_store_delays_the_checkout_but_never_hangs_it() {
    let mut edge = edge_with_mallory("match_timing = false").await;
    let host = &mut edge.host;
    host.kv_stall = Some(std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        host.handle(request("POST", "/echo/e1/checkout", "email=mallory%40example.com")),
    )
    .await
    .expect("no hang")
    .unwrap();
    assert_eq!(answer.status(), 303, "the stalled store still answered: blocked");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(600),
        "two lookups waited: {:?}",
        started.elapsed()
    );
}
