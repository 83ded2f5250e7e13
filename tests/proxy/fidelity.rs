//! Headers and bodies arrive as RFC 9110 says a proxy must pass them.

use http::Request;

use crate::support::backend::Backend;
use crate::support::client::{body, get, send, Echo};
use crate::support::doorman::{policy, Doorman};

#[tokio::test]
async fn forwards_method_path_query_and_body_byte_for_byte() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    let payload = "email=ada%40example.com&quantity=2&note=%E2%9C%93";
    let req = Request::post(doorman.url("/echo/events/spring-concert/checkout?x=1&y=%20"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", "shop_session=alice")
        .body(body(payload))
        .unwrap();
    let (resp, bytes) = send(req).await;
    assert_eq!(resp.status(), 200);
    let echo = Echo::parse(&bytes);
    assert_eq!(echo.0["method"], "POST");
    assert_eq!(echo.0["uri"], "/echo/events/spring-concert/checkout?x=1&y=%20");
    assert_eq!(echo.0["body"], payload);
    assert_eq!(echo.header("cookie").as_deref(), Some("shop_session=alice"));
    assert_eq!(echo.header("content-type").as_deref(), Some("application/x-www-form-urlencoded"));
}

#[tokio::test]
async fn hop_by_hop_fields_are_dropped_both_ways() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    let req = Request::get(doorman.url("/echo"))
        .header("connection", "keep-alive, x-client-hop")
        .header("x-client-hop", "secret")
        .header("keep-alive", "timeout=5")
        .header("proxy-connection", "keep-alive")
        .header("te", "trailers")
        .header("x-end-to-end", "kept")
        .body(body(""))
        .unwrap();
    let (_, bytes) = send(req).await;
    let echo = Echo::parse(&bytes);
    for gone in ["x-client-hop", "keep-alive", "proxy-connection", "te", "upgrade"] {
        assert_eq!(echo.header(gone), None, "{gone} reached the backend");
    }
    assert_eq!(echo.header("x-end-to-end").as_deref(), Some("kept"));
    assert_ne!(echo.header("connection").as_deref(), Some("keep-alive, x-client-hop"));

    let (resp, _) = get(&doorman.url("/hop")).await;
    assert_eq!(resp.headers()["x-kept"], "yes");
    assert!(!resp.headers().contains_key("x-hop-secret"), "field named in Connection leaked");
    assert!(!resp.headers().contains_key("keep-alive"));
}

#[tokio::test]
async fn forwarding_headers_replace_what_untrusted_clients_claim() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    let req = Request::get(doorman.url("/echo"))
        .header("host", "shop.example")
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-forwarded-host", "evil.example")
        .header("forwarded", "for=6.6.6.6")
        .body(body(""))
        .unwrap();
    let (resp, bytes) = send(req).await;
    let echo = Echo::parse(&bytes);
    assert_eq!(echo.header("x-forwarded-for").as_deref(), Some("127.0.0.1"));
    assert_eq!(echo.header("x-forwarded-proto").as_deref(), Some("http"));
    assert_eq!(echo.header("x-forwarded-host").as_deref(), Some("shop.example"));
    assert_eq!(echo.header("forwarded").as_deref(), Some("for=127.0.0.1;proto=http;host=\"shop.example\""));
    assert_eq!(echo.header("host").as_deref(), Some("shop.example"), "Host is preserved by default");
    let id = echo.header("x-request-id").expect("a request id is generated");
    assert_eq!(id.len(), 16);
    assert_eq!(resp.headers()["x-request-id"], id.as_str(), "the client sees the same id");
}

#[tokio::test]
async fn trusted_proxies_keep_the_chain_and_request_ids_propagate() {
    let backend = Backend::start();
    let doorman =
        Doorman::start(&policy(&backend.url(), "", "[forwarding]\ntrusted_proxies = [\"127.0.0.0/8\"]"));
    let req = Request::get(doorman.url("/echo"))
        .header("x-forwarded-for", "198.51.100.7")
        .header("x-forwarded-proto", "https")
        .header("forwarded", "for=198.51.100.7;proto=https")
        .header("x-request-id", "edge-abc-123")
        .body(body(""))
        .unwrap();
    let (resp, bytes) = send(req).await;
    let echo = Echo::parse(&bytes);
    assert_eq!(echo.header("x-forwarded-for").as_deref(), Some("198.51.100.7, 127.0.0.1"));
    assert_eq!(echo.header("x-forwarded-proto").as_deref(), Some("https"));
    assert!(echo
        .header("forwarded")
        .unwrap()
        .starts_with("for=198.51.100.7;proto=https, for=127.0.0.1;proto=http"));
    assert_eq!(echo.header("x-request-id").as_deref(), Some("edge-abc-123"));
    assert_eq!(resp.headers()["x-request-id"], "edge-abc-123");
}

#[tokio::test]
async fn host_can_be_rewritten_to_the_backend_or_a_fixed_name() {
    let backend = Backend::start();
    let to_backend = Doorman::start(&policy(&backend.url(), "", "host = \"backend\""));
    let (_, bytes) = get(&to_backend.url("/echo")).await;
    assert_eq!(Echo::parse(&bytes).header("host"), Some(backend.addr.to_string()));

    let fixed = Doorman::start(&policy(&backend.url(), "", "host = \"tickets.internal\""));
    let (_, bytes) = get(&fixed.url("/echo")).await;
    assert_eq!(Echo::parse(&bytes).header("host").as_deref(), Some("tickets.internal"));
}

#[tokio::test]
async fn backend_connections_are_pooled_and_kept_alive() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    for _ in 0..20 {
        let (resp, _) = get(&doorman.url("/echo")).await;
        assert_eq!(resp.status(), 200);
    }
    let opened = backend.state.connections.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(opened, 1, "20 sequential requests should reuse one backend connection");
}

#[tokio::test]
async fn http2_clients_are_served_over_h2c() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    let mut sender = crate::support::client::h2c(doorman.public).await;
    let req = Request::get("http://shop.example:8080/echo?h2=1").body(body("")).unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), http::Version::HTTP_2);
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    let echo = Echo::parse(&bytes);
    assert_eq!(echo.0["version"], "HTTP/1.1", "the backend speaks HTTP/1.1");
    assert_eq!(echo.header("host").as_deref(), Some("shop.example:8080"), ":authority becomes Host");
    assert_eq!(echo.0["uri"], "/echo?h2=1");
}

#[tokio::test]
async fn http2_can_be_turned_off() {
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "http2 = false", ""));
    let tcp = tokio::net::TcpStream::connect(doorman.public).await.unwrap();
    let handshake = hyper::client::conn::http2::handshake::<_, _, crate::support::client::Body>(
        crate::support::backend::executor(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await;
    if let Ok((mut sender, conn)) = handshake {
        tokio::spawn(conn);
        let req = Request::get("http://x/echo").body(body("")).unwrap();
        assert!(sender.send_request(req).await.is_err(), "an HTTP/1-only server must not answer h2");
    }
}

#[tokio::test]
async fn http2_cookie_crumbs_reach_the_backend_as_one_cookie_line() {
    // RFC 9113 §8.2.3: an HTTP/2 client may split `cookie` into several fields; an HTTP/1.1
    // backend must get them joined with "; " into one.
    let backend = Backend::start();
    let doorman = Doorman::start(&policy(&backend.url(), "", ""));
    let mut sender = crate::support::client::h2c(doorman.public).await;
    let req = Request::get("http://shop.example/echo")
        .header("cookie", "shop_session=abc")
        .header("cookie", "theme=dark")
        .header("cookie", "cart=3; lang=de")
        .body(body(""))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    let echo = Echo::parse(&bytes);
    assert_eq!(echo.headers("cookie"), ["shop_session=abc; theme=dark; cart=3; lang=de"]);
}
