//! The command line's client of the admin API (`doorman blacklist …`, `doorman waitlist …`).
//!
//! Reads `DOORMAN_ADMIN_URL` (default `http://127.0.0.1:8081`) and `DOORMAN_ADMIN_TOKEN`. An
//! `https://` URL (the admin listener behind a TLS-terminating proxy) is verified against the
//! system's certificate authorities or the PEM file `DOORMAN_ADMIN_CA_FILE`, so the token never
//! travels in clear text past that proxy.

use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

/// Why an admin call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Bad configuration (URL, token).
    #[error("{0}")]
    Config(String),
    /// The admin listener could not be reached or did not answer in time.
    #[error("cannot reach the admin API at {url}: {reason}")]
    Unreachable {
        /// The admin URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The API answered with an error.
    #[error("the admin API answered {status}: {message}")]
    Api {
        /// HTTP status.
        status: StatusCode,
        /// The `error` field of the answer, or its text.
        message: String,
    },
}

/// A configured admin API client.
pub struct AdminClient {
    base: String,
    token: String,
    transport: Transport,
}

/// How requests reach the admin listener.
enum Transport {
    /// `http://`: a pooled client.
    Plain(Box<Client<HttpConnector, RequestBody>>),
    /// `https://`: a verified TLS connection per request.
    Tls {
        connector: tokio_rustls::TlsConnector,
        server_name: tokio_rustls::rustls::pki_types::ServerName<'static>,
        address: String,
    },
}

/// A request's body: bytes at hand, or a file as it is read.
pub type RequestBody = BoxBody<Bytes, std::io::Error>;

/// How long connecting (TCP and TLS) may take.
const CONNECT_WITHIN: Duration = Duration::from_secs(5);

impl AdminClient {
    /// From `DOORMAN_ADMIN_URL` and `DOORMAN_ADMIN_TOKEN`.
    pub fn from_env() -> Result<Self, ClientError> {
        let base = std::env::var("DOORMAN_ADMIN_URL").unwrap_or_else(|_| "http://127.0.0.1:8081".into());
        let base = base.trim_end_matches('/').to_owned();
        let token = std::env::var("DOORMAN_ADMIN_TOKEN")
            .map_err(|_| ClientError::Config("DOORMAN_ADMIN_TOKEN is not set".into()))?;
        let ca_file = std::env::var_os("DOORMAN_ADMIN_CA_FILE").map(std::path::PathBuf::from);
        Self::with_ca(base, token, ca_file.as_deref())
    }

    /// A client of the admin API at `base` (`http://host:port`) with the bearer `token`.
    pub fn new(base: String, token: String) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_WITHIN));
        Self {
            base,
            token,
            transport: Transport::Plain(Box::new(Client::builder(TokioExecutor::new()).build(connector))),
        }
    }

    /// A client of the admin API at `base`, `http://` or `https://` (verified against `ca_file`,
    /// or the system's authorities).
    pub fn with_ca(
        base: String,
        token: String,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Self, ClientError> {
        let bad =
            || ClientError::Config(format!("DOORMAN_ADMIN_URL `{base}` is not an http:// or https:// URL"));
        let uri = base.parse::<http::Uri>().map_err(|_| bad())?;
        match uri.scheme_str() {
            Some("http") if uri.host().is_some() => Ok(Self::new(base, token)),
            Some("https") => {
                let host =
                    uri.host().ok_or_else(bad)?.trim_start_matches('[').trim_end_matches(']').to_owned();
                let port = uri.port_u16().unwrap_or(443);
                let (roots, _) = crate::hosts::proxy::tls::ca_roots(ca_file).map_err(|(path, why)| {
                    ClientError::Config(format!("DOORMAN_ADMIN_CA_FILE {}: {why}", path.display()))
                })?;
                let connector =
                    crate::hosts::proxy::tls::client_connector(roots).map_err(ClientError::Config)?;
                let server_name =
                    tokio_rustls::rustls::pki_types::ServerName::try_from(host.clone()).map_err(|_| bad())?;
                let address =
                    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
                Ok(Self { base, token, transport: Transport::Tls { connector, server_name, address } })
            }
            _ => Err(bad()),
        }
    }

    /// Sends `req` over a fresh verified TLS connection.
    async fn send_tls(
        &self,
        req: Request<RequestBody>,
    ) -> Result<http::Response<hyper::body::Incoming>, String> {
        let Transport::Tls { connector, server_name, address } = &self.transport else {
            return Err("not a TLS client".into());
        };
        let connect = async {
            let tcp = tokio::net::TcpStream::connect(address.as_str()).await.map_err(|e| e.to_string())?;
            let _ = tcp.set_nodelay(true);
            connector.connect(server_name.clone(), tcp).await.map_err(|e| format!("TLS: {e}"))
        };
        let tls = tokio::time::timeout(CONNECT_WITHIN, connect)
            .await
            .map_err(|_| format!("no connection within {} s", CONNECT_WITHIN.as_secs()))??;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        sender.send_request(req).await.map_err(|e| e.to_string())
    }

    /// Sends `body` as `content_type` and answers the raw reply body.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<Bytes, ClientError> {
        self.call_full(method, path, content_type, bytes_body(body)).await.map(|(_, b)| b)
    }

    /// Sends `body` (read as it goes: a file is never held whole) and answers the raw reply.
    pub async fn call_streaming(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: RequestBody,
    ) -> Result<Bytes, ClientError> {
        self.call_full(method, path, content_type, body).await.map(|(_, b)| b)
    }

    /// `GET path`: the reply's header fields and body.
    pub async fn get_with_headers(&self, path: &str) -> Result<(http::HeaderMap, Bytes), ClientError> {
        self.call_full(Method::GET, path, "text/plain", bytes_body(Bytes::new())).await
    }

    async fn call_full(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: RequestBody,
    ) -> Result<(http::HeaderMap, Bytes), ClientError> {
        let resp = self.send(method, path, content_type, body).await?;
        let headers = resp.headers().clone();
        let text = resp.into_body().collect().await.map_err(|e| self.unreachable(e.to_string()))?.to_bytes();
        Ok((headers, text))
    }

    /// `GET path`, handing the reply's body to `sink` piece by piece as it arrives (an export
    /// of millions of lines is never held whole).
    pub async fn get_streaming(
        &self,
        path: &str,
        mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<(), ClientError> {
        let mut body =
            self.send(Method::GET, path, "text/plain", bytes_body(Bytes::new())).await?.into_body();
        while let Some(frame) = body.frame().await {
            // A body cut short (the server's store failed midway) is an error, never a short list.
            let frame = frame.map_err(|e| self.unreachable(format!("the answer was cut short: {e}")))?;
            if let Some(data) = frame.data_ref() {
                sink(data).map_err(|e| ClientError::Config(format!("cannot write the answer: {e}")))?;
            }
        }
        Ok(())
    }

    fn unreachable(&self, reason: String) -> ClientError {
        ClientError::Unreachable { url: self.base.clone(), reason }
    }

    /// Sends the request; a success answers the response with its body still to read, anything
    /// else the API's error.
    async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: RequestBody,
    ) -> Result<http::Response<hyper::body::Incoming>, ClientError> {
        let url = format!("{}{path}", self.base);
        let req = Request::builder()
            .method(method)
            .uri(&url)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .map_err(|e| ClientError::Config(format!("bad request to {url}: {e}")))?;
        // Imports may be large: the deadline is generous.
        let sent = async {
            match &self.transport {
                Transport::Plain(client) => client.request(req).await.map_err(|e| {
                    std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or(e.to_string())
                }),
                Transport::Tls { .. } => self.send_tls(req).await,
            }
        };
        let resp = tokio::time::timeout(Duration::from_secs(600), sent)
            .await
            .map_err(|_| self.unreachable("no answer within 600 s".into()))?
            .map_err(|e| self.unreachable(e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let text = resp.into_body().collect().await.map_err(|e| self.unreachable(e.to_string()))?.to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&text).unwrap_or(serde_json::Value::Null);
        let message = json["error"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(&text).into());
        Err(ClientError::Api { status, message })
    }

    /// Calls `method path` with an optional JSON body and answers the JSON reply.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, ClientError> {
        let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let text = self.call_raw(method, path, "application/json", bytes).await?;
        Ok(serde_json::from_slice(&text).unwrap_or(serde_json::Value::Null))
    }
}

/// Bytes at hand as a request body.
pub fn bytes_body(bytes: Bytes) -> RequestBody {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// A file as a request body, read 64 KiB at a time as the request is sent.
pub fn file_body(file: tokio::fs::File, on_read: impl Fn(usize) + Send + Sync + 'static) -> RequestBody {
    use tokio::io::AsyncReadExt;
    let on_read = std::sync::Arc::new(on_read);
    let chunks = futures_util::stream::unfold(Some(file), move |file| {
        let on_read = on_read.clone();
        async move {
            let mut file = file?;
            let mut buf = vec![0u8; 64 * 1024];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    on_read(n);
                    buf.truncate(n);
                    Some((Ok(hyper::body::Frame::data(Bytes::from(buf))), Some(file)))
                }
                Err(e) => Some((Err(e), None)),
            }
        }
    });
    http_body_util::StreamBody::new(chunks).boxed()
}
