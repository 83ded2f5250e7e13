//! Clients for the tests: a plain hyper HTTP/1.1 client, and raw TCP for malformed requests.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

pub type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

pub fn client() -> Client<HttpConnector, Body> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

pub fn body(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|never| match never {}).boxed()
}

/// Sends `req` and collects the whole answer.
pub async fn send(req: Request<Body>) -> (Response<()>, Bytes) {
    let resp = client().request(req).await.expect("request goes through");
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.expect("whole body").to_bytes();
    (Response::from_parts(parts, ()), bytes)
}

pub async fn get(url: &str) -> (Response<()>, Bytes) {
    send(Request::get(url).body(body("")).unwrap()).await
}

/// Writes `request` on a fresh TCP connection and reads until the server closes it or
/// `limit` passes. Answers what was read.
pub fn raw(addr: SocketAddr, request: &[u8], limit: Duration) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(limit)).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The backend's `/echo` answer, parsed.
pub struct Echo(pub serde_json::Value);

impl Echo {
    pub fn parse(body: &[u8]) -> Self {
        Self(serde_json::from_slice(body).expect("echo JSON"))
    }

    /// All values of header `name` as the backend saw them.
    pub fn headers(&self, name: &str) -> Vec<String> {
        self.0["headers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|kv| kv[0].as_str() == Some(name))
            .map(|kv| kv[1].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let all = self.headers(name);
        assert!(all.len() <= 1, "{name} appears {} times: {all:?}", all.len());
        all.into_iter().next()
    }
}

/// An HTTP/2 (h2c, prior knowledge) connection to `addr`, its driver spawned.
pub async fn h2c<B>(addr: SocketAddr) -> hyper::client::conn::http2::SendRequest<B>
where
    B: hyper::body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sender, conn) =
        hyper::client::conn::http2::handshake(super::backend::executor(), hyper_util::rt::TokioIo::new(tcp))
            .await
            .expect("h2c prior-knowledge handshake");
    tokio::spawn(conn);
    sender
}
