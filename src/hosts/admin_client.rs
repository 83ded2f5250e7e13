//! The command line's client of the admin API (`doorman blacklist …`).
//!
//! Reads `DOORMAN_ADMIN_URL` (default `http://127.0.0.1:8081`) and `DOORMAN_ADMIN_TOKEN`.

use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
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
    client: Client<HttpConnector, Full<Bytes>>,
}

impl AdminClient {
    /// From `DOORMAN_ADMIN_URL` and `DOORMAN_ADMIN_TOKEN`.
    pub fn from_env() -> Result<Self, ClientError> {
        let base = std::env::var("DOORMAN_ADMIN_URL").unwrap_or_else(|_| "http://127.0.0.1:8081".into());
        let base = base.trim_end_matches('/').to_owned();
        if !base.starts_with("http://") || base.parse::<http::Uri>().is_err() {
            return Err(ClientError::Config(format!("DOORMAN_ADMIN_URL `{base}` is not an http:// URL")));
        }
        let token = std::env::var("DOORMAN_ADMIN_TOKEN")
            .map_err(|_| ClientError::Config("DOORMAN_ADMIN_TOKEN is not set".into()))?;
        Ok(Self::new(base, token))
    }

    /// A client of the admin API at `base` (`http://host:port`) with the bearer `token`.
    pub fn new(base: String, token: String) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        Self { base, token, client: Client::builder(TokioExecutor::new()).build(connector) }
    }

    /// Sends `body` as `content_type` and answers the raw reply body.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<Bytes, ClientError> {
        self.call_full(method, path, content_type, body).await.map(|(_, b)| b)
    }

    /// `GET path`: the reply's header fields and body.
    pub async fn get_with_headers(&self, path: &str) -> Result<(http::HeaderMap, Bytes), ClientError> {
        self.call_full(Method::GET, path, "text/plain", Bytes::new()).await
    }

    async fn call_full(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<(http::HeaderMap, Bytes), ClientError> {
        let url = format!("{}{path}", self.base);
        let req = Request::builder()
            .method(method)
            .uri(&url)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::CONTENT_TYPE, content_type)
            .body(Full::new(body))
            .map_err(|e| ClientError::Config(format!("bad request to {url}: {e}")))?;
        let unreachable = |reason: String| ClientError::Unreachable { url: self.base.clone(), reason };
        // Imports may be large: the deadline is generous.
        let resp = tokio::time::timeout(Duration::from_secs(600), self.client.request(req))
            .await
            .map_err(|_| unreachable("no answer within 600 s".into()))?
            .map_err(|e| {
                unreachable(std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or(e.to_string()))
            })?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.into_body().collect().await.map_err(|e| unreachable(e.to_string()))?.to_bytes();
        if status.is_success() {
            return Ok((headers, text));
        }
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
