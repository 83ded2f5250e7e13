//! Mail through an SMTP server with `lettre`: STARTTLS (required, not opportunistic) or implicit
//! TLS, verified against the system's CA bundle or the policy's `ca_file`, optional
//! authentication. The message is sent as the outbox holds it, so its bytes and `Message-ID` are
//! the same on every attempt.
//!
//! Connections are kept open between messages (up to [`IDLE`], one per message the outbox's
//! sender sends at once), and opened with `TCP_NODELAY` for plain and STARTTLS servers: `lettre` writes a message and its
//! closing `.` in two writes, and with Nagle's algorithm the second waits for the server's
//! delayed acknowledgement, 40 ms a message (22 messages a second to a loopback server that
//! takes 1,200 from a client writing once). Implicit TLS connects through `lettre`'s own
//! connector, without that option. After any error the connection is dropped and the next
//! message opens a new one.

use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, CertificateStore, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::sync::Mutex;

use crate::core::policy::{SmtpPolicy, SmtpSecurity};
use crate::ports::mail::{Mail, MailError, Mailer, Sending};

/// Debian's bundle of the system's trusted CAs.
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Idle connections kept open at most.
pub const IDLE: usize = 4;

/// Sends through one SMTP server over connections kept open between messages (clones share them).
#[derive(Clone)]
pub struct SmtpMailer {
    host: String,
    port: u16,
    security: SmtpSecurity,
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    timeout: Duration,
    hello: ClientId,
    server: String,
    /// The connections open between messages, idle.
    idle: Arc<Mutex<Vec<AsyncSmtpConnection>>>,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").field("server", &self.server).finish()
    }
}

/// A failure of the transport: permanent when the server said so (5xx), else worth retrying.
fn classify(server: &str, e: lettre::transport::smtp::Error) -> MailError {
    if e.is_permanent() {
        MailError::Permanent(format!("{server}: {e}"))
    } else {
        MailError::Transient(format!("{server}: {e}"))
    }
}

impl SmtpMailer {
    /// A mailer for `policy`, with `password` for its user and `cas` (PEM) to trust.
    pub fn new(policy: &SmtpPolicy, password: Option<String>, cas: &[u8]) -> Result<Self, String> {
        let tls = match policy.security {
            SmtpSecurity::None => None,
            SmtpSecurity::Starttls | SmtpSecurity::Implicit => {
                let certificate = Certificate::from_pem(cas).map_err(|e| format!("CA certificates: {e}"))?;
                let parameters = TlsParameters::builder(policy.host.clone())
                    .certificate_store(CertificateStore::None)
                    .add_root_certificate(certificate)
                    .build_rustls()
                    .map_err(|e| format!("TLS: {e}"))?;
                Some(parameters)
            }
        };
        let credentials = match (&policy.username, password) {
            (Some(user), Some(password)) => Some(Credentials::new(user.clone(), password)),
            (Some(_), None) => return Err("the SMTP user needs a password".into()),
            (None, _) => None,
        };
        Ok(Self {
            host: policy.host.clone(),
            port: policy.port,
            security: policy.security,
            tls,
            credentials,
            timeout: policy.timeout,
            hello: ClientId::default(),
            server: format!("{}:{}", policy.host, policy.port),
            idle: Arc::default(),
        })
    }

    /// A new connection, greeted, encrypted as the policy says and logged in.
    async fn connect(&self) -> Result<AsyncSmtpConnection, MailError> {
        let transient = |what: &str, e: &dyn std::fmt::Display| {
            MailError::Transient(format!("{}: {what}: {e}", self.server))
        };
        let mut conn = match (self.security, &self.tls) {
            (SmtpSecurity::Implicit, Some(tls)) => {
                let address = (self.host.as_str(), self.port);
                AsyncSmtpConnection::connect_tokio1(
                    address,
                    Some(self.timeout),
                    &self.hello,
                    Some(tls.clone()),
                    None,
                )
                .await
                .map_err(|e| classify(&self.server, e))?
            }
            _ => {
                let connecting = tokio::net::TcpStream::connect((self.host.as_str(), self.port));
                let tcp = match tokio::time::timeout(self.timeout, connecting).await {
                    Ok(Ok(tcp)) => tcp,
                    Ok(Err(e)) => return Err(transient("connect", &e)),
                    Err(_) => return Err(transient("connect", &"timed out")),
                };
                tcp.set_nodelay(true).map_err(|e| transient("TCP_NODELAY", &e))?;
                let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello)
                    .await
                    .map_err(|e| classify(&self.server, e))?;
                if let (SmtpSecurity::Starttls, Some(tls)) = (self.security, &self.tls) {
                    // Required: a server that offers no STARTTLS gets nothing in clear text.
                    conn.starttls(tls.clone(), &self.hello).await.map_err(|e| classify(&self.server, e))?;
                }
                conn
            }
        };
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await.map_err(|e| classify(&self.server, e))?;
        }
        Ok(conn)
    }

    async fn deliver(&self, mail: &Mail) -> Result<(), MailError> {
        let from =
            mail.from.parse().map_err(|e| MailError::Permanent(format!("sender {}: {e}", mail.from)))?;
        let to = mail.to.parse().map_err(|e| MailError::Permanent(format!("recipient: {e}")))?;
        let envelope =
            Envelope::new(Some(from), vec![to]).map_err(|e| MailError::Permanent(e.to_string()))?;
        let kept = self.idle.lock().await.pop();
        let mut conn = match kept {
            Some(mut kept) => {
                if kept.test_connected().await {
                    kept
                } else {
                    kept.abort().await;
                    self.connect().await?
                }
            }
            None => self.connect().await?,
        };
        match conn.send(&envelope, mail.message.as_bytes()).await {
            Ok(_) => {
                let mut idle = self.idle.lock().await;
                if idle.len() < IDLE {
                    idle.push(conn);
                }
                Ok(())
            }
            Err(e) => {
                conn.abort().await;
                Err(classify(&self.server, e))
            }
        }
    }
}

impl Mailer for SmtpMailer {
    fn send<'a>(&'a self, mail: &'a Mail) -> Sending<'a> {
        Box::pin(async move {
            // Bounded even if the server stalls between commands.
            match tokio::time::timeout(Duration::from_secs(60), self.deliver(mail)).await {
                Ok(result) => result,
                Err(_) => Err(MailError::Transient(format!("{}: no answer within 60 s", self.server))),
            }
        })
    }
}
