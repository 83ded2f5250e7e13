//! The SMS gateway of an HTTP webhook: each message is one JSON `POST` (its body filled from the
//! policy's template, `core::waitlist::sms`), over a fresh connection, TLS verified for
//! `https://`. With a token, the request carries `Authorization: Bearer <token>` and
//! `Doorman-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the token>`,
//! so a relay can check where it came from and when; `Idempotency-Key` is the message's
//! reference, the same on every attempt.
//!
//! The answer decides: 2xx taken (delivered when its JSON body says `"status": "delivered"`);
//! 408, 425, 429 and 5xx, a timeout or a failed connection: try again later; any other status:
//! never (the provider refused the message itself).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Request;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use crate::core::waitlist::sms::{fill_body, BodyValues};
use crate::ports::sms::{Receipt, SendError, Sms, SmsGateway, SmsSending};

/// Most bytes of an answer read (for its `status`).
const MAX_ANSWER: usize = 64 * 1024;

/// Sends text messages to an HTTP webhook.
pub struct WebhookGateway {
    uri: http::Uri,
    address: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    body: String,
    token: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for WebhookGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookGateway")
            .field("uri", &self.uri)
            .field("token", &self.token.is_some())
            .finish()
    }
}

impl WebhookGateway {
    /// A gateway posting to `url` (checked by the policy) with the body `template`; `tls` is
    /// required for `https://`.
    pub fn new(
        policy: &crate::core::policy::SmsPolicy,
        token: Option<String>,
        tls: Option<TlsConnector>,
    ) -> Result<Self, String> {
        let uri: http::Uri = policy.url.parse().map_err(|e| format!("waitlist.sms.url: {e}"))?;
        let host =
            uri.host().ok_or("waitlist.sms.url: no host")?.trim_start_matches('[').trim_end_matches(']');
        let https = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let address = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        let tls = match (https, tls) {
            (false, _) => None,
            (true, None) => return Err("waitlist.sms.url is https:// but no TLS client was set up".into()),
            (true, Some(connector)) => {
                let name =
                    ServerName::try_from(host.to_owned()).map_err(|e| format!("waitlist.sms.url: {e}"))?;
                Some((connector, name))
            }
        };
        let token = token.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        Ok(Self { uri, address, tls, body: policy.body.clone(), token, timeout: policy.timeout })
    }

    /// The request for `sms`, signed at `now` (Unix seconds) when there is a token.
    fn request(&self, sms: &Sms, now: u64) -> Result<Request<Full<Bytes>>, SendError> {
        let body = fill_body(&self.body, BodyValues { to: &sms.to, text: &sms.text, id: &sms.id });
        let path = self.uri.path_and_query().map_or("/", |p| p.as_str());
        let host = self.uri.authority().map_or("", |a| a.as_str());
        let mut req = Request::post(path)
            .header(http::header::HOST, host)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, concat!("doorman/", env!("CARGO_PKG_VERSION")))
            .header("idempotency-key", &sms.id);
        if let Some(token) = &self.token {
            req = req
                .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
                .header("doorman-signature", signature(token, now, &body));
        }
        req.body(Full::new(Bytes::from(body))).map_err(|e| SendError::Permanent(format!("request: {e}")))
    }

    async fn post(&self, sms: &Sms) -> Result<Receipt, SendError> {
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let req = self.request(sms, now)?;
        let exchange = async {
            let tcp = tokio::net::TcpStream::connect(self.address.as_str())
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let _ = tcp.set_nodelay(true);
            match &self.tls {
                None => send(hyper_util::rt::TokioIo::new(tcp), req).await,
                Some((connector, name)) => {
                    let tls = connector.connect(name.clone(), tcp).await.map_err(|e| format!("TLS: {e}"))?;
                    send(hyper_util::rt::TokioIo::new(tls), req).await
                }
            }
        };
        let (status, answer) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| SendError::Transient(format!("no answer within {:?}", self.timeout)))?
            .map_err(SendError::Transient)?;
        outcome(status, &answer)
    }
}

impl SmsGateway for WebhookGateway {
    fn send<'a>(&'a self, sms: &'a Sms) -> SmsSending<'a> {
        Box::pin(self.post(sms))
    }
}

/// Sends `req` over `io` and reads the answer (at most [`MAX_ANSWER`] bytes of it).
async fn send<I>(io: I, req: Request<Full<Bytes>>) -> Result<(http::StatusCode, Bytes), String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
    let conn = tokio::spawn(conn);
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = Limited::new(resp.into_body(), MAX_ANSWER).collect().await.map(|b| b.to_bytes());
    conn.abort();
    // An answer too long to read whole still tells by its status.
    Ok((status, body.unwrap_or_default()))
}

/// What the webhook's answer means for the message.
fn outcome(status: http::StatusCode, answer: &[u8]) -> Result<Receipt, SendError> {
    let said = || {
        let text = String::from_utf8_lossy(&answer[..answer.len().min(200)]).replace(['\r', '\n'], " ");
        format!("webhook answered {status}: {text}")
    };
    if status.is_success() {
        let delivered = serde_json::from_slice::<serde_json::Value>(answer)
            .ok()
            .and_then(|v| {
                v.get("status").and_then(|s| s.as_str()).map(|s| s.eq_ignore_ascii_case("delivered"))
            })
            .unwrap_or(false);
        return Ok(if delivered { Receipt::Delivered } else { Receipt::Accepted });
    }
    let later = status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429);
    Err(if later { SendError::Transient(said()) } else { SendError::Permanent(said()) })
}

/// `t=<now>,v1=<hex HMAC-SHA256 of "<now>.<body>">` under `token`.
pub fn signature(token: &str, now: u64, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{now}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={now},v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_decide_between_taken_delivered_later_and_never() {
        use http::StatusCode as S;
        assert_eq!(outcome(S::OK, b"{}"), Ok(Receipt::Accepted));
        assert_eq!(outcome(S::ACCEPTED, b"not json"), Ok(Receipt::Accepted));
        assert_eq!(outcome(S::OK, br#"{"status": "Delivered"}"#), Ok(Receipt::Delivered));
        assert_eq!(outcome(S::OK, br#"{"status": 1}"#), Ok(Receipt::Accepted));
        for later in [S::INTERNAL_SERVER_ERROR, S::BAD_GATEWAY, S::TOO_MANY_REQUESTS, S::REQUEST_TIMEOUT] {
            assert!(matches!(outcome(later, b""), Err(SendError::Transient(_))), "{later}");
        }
        for never in [S::BAD_REQUEST, S::UNAUTHORIZED, S::NOT_FOUND, S::UNPROCESSABLE_ENTITY] {
            assert!(
                matches!(outcome(never, b"bad number"), Err(SendError::Permanent(e)) if e.contains("bad number"))
            );
        }
    }

    #[test]
    fn the_signature_is_an_hmac_of_the_time_and_the_body() {
        // Computed apart, with Python's `hmac` module.
        assert_eq!(
            signature("Jefe", 1_700_000_000, r#"{"to": "+491711"}"#),
            "t=1700000000,v1=d4251bb13e0f671bc4337ca566d28482e2c853f00fdd49e42863cd907082d608"
        );
    }
}
