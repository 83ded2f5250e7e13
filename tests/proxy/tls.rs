//! TLS on the public listener: real rustls handshakes, ALPN for h2, https in the forwarding headers.

use std::sync::Arc;

use http::Request;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

use crate::support::backend::{executor, Backend};
use crate::support::client::{body, Echo};
use crate::support::doorman::{policy, Doorman};

const CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tls/ca.crt");
const CERT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tls/localhost.crt");
const KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tls/localhost.key");

fn tls_doorman(backend: &Backend) -> Doorman {
    Doorman::start(&policy(
        &backend.url(),
        &format!("tls_cert_file = \"{CERT}\"\ntls_key_file = \"{KEY}\""),
        "",
    ))
}

async fn connect(
    doorman: &Doorman,
    alpn: &[&[u8]],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(CA).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = tokio::net::TcpStream::connect(doorman.public).await.unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("TLS handshake with the policy's certificate")
}

#[tokio::test]
async fn https_clients_are_served_and_the_backend_learns_the_scheme() {
    let backend = Backend::start();
    let doorman = tls_doorman(&backend);
    let tls = connect(&doorman, &[b"http/1.1"]).await;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.unwrap();
    tokio::spawn(conn);
    let req = Request::get("/echo").header("host", "shop.example").body(body("")).unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let echo = Echo::parse(&resp.into_body().collect().await.unwrap().to_bytes());
    assert_eq!(echo.header("x-forwarded-proto").as_deref(), Some("https"));
    assert!(echo.header("forwarded").unwrap().contains("proto=https"));
}

#[tokio::test]
async fn alpn_negotiates_http2() {
    let backend = Backend::start();
    let doorman = tls_doorman(&backend);
    let tls = connect(&doorman, &[b"h2", b"http/1.1"]).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(executor(), TokioIo::new(tls)).await.unwrap();
    tokio::spawn(conn);
    let resp =
        sender.send_request(Request::get("https://localhost/echo").body(body("")).unwrap()).await.unwrap();
    assert_eq!((resp.status().as_u16(), resp.version()), (200, http::Version::HTTP_2));
}

#[test]
fn plain_http_on_the_tls_port_gets_no_answer() {
    let backend = Backend::start();
    let doorman = tls_doorman(&backend);
    let answer = crate::support::client::raw(
        doorman.public,
        b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n",
        std::time::Duration::from_secs(5),
    );
    assert!(!answer.contains("HTTP/1.1 200"), "{answer}");
}

fn doorman_to_https_backend(backend: &Backend, backend_extra: &str) -> Doorman {
    // `localhost`, not the address: the certificate is checked against the URL's host.
    let url = format!("https://localhost:{}", backend.addr.port());
    Doorman::start(&policy(&url, "", backend_extra))
}

#[tokio::test]
async fn https_backends_are_verified_against_the_configured_authority() {
    let backend = Backend::start_tls();
    let doorman = doorman_to_https_backend(&backend, &format!("tls_ca_file = \"{CA}\""));
    for _ in 0..3 {
        let (resp, bytes) = crate::support::client::get(&doorman.url("/echo?over=tls")).await;
        assert_eq!(resp.status(), 200);
        let echo = Echo::parse(&bytes);
        assert_eq!(echo.0["uri"], "/echo?over=tls");
        assert_eq!(echo.header("x-forwarded-proto").as_deref(), Some("http"), "the client spoke plain HTTP");
    }
    let connections = backend.state.connections.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(connections, 1, "the TLS connection to the backend is kept alive and reused");
    // Bodies stream over TLS too.
    let req = Request::post(doorman.url("/echo")).body(body(vec![b'x'; 300_000])).unwrap();
    let (resp, bytes) = crate::support::client::send(req).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(Echo::parse(&bytes).0["body_len"], 300_000);
}

#[tokio::test]
async fn https_backends_with_an_untrusted_or_misnamed_certificate_get_502() {
    let backend = Backend::start_tls();
    // Trusting only the system's authorities (Debian's ca-certificates, which .ci/run installs):
    // the test CA is not among them.
    let untrusted = doorman_to_https_backend(&backend, "");
    assert_eq!(crate::support::client::get(&untrusted.url("/echo")).await.0.status(), 502);
    // The right authority, but the certificate does not name `shop.example`.
    let misnamed = doorman_to_https_backend(
        &backend,
        &format!("tls_ca_file = \"{CA}\"\ntls_server_name = \"shop.example\""),
    );
    let (resp, bytes) = crate::support::client::get(&misnamed.url("/echo")).await;
    assert_eq!(resp.status(), 502);
    assert!(!String::from_utf8_lossy(&bytes).contains("certificate"), "no TLS detail reaches the client");
}
