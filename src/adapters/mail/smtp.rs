//! Mail through an SMTP server with `lettre`: STARTTLS (required, not opportunistic) or implicit
//! TLS, verified against the system's CA bundle or the policy's `ca_file`, optional
//! authentication. The message is sent as the outbox holds it (`send_raw`), so its bytes and
//! `Message-ID` are the same on every attempt.

use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::core::policy::{SmtpPolicy, SmtpSecurity};
use crate::ports::mail::{Mail, MailError, Mailer, Sending};

/// Debian's bundle of the system's trusted CAs.
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Sends through one SMTP server (a small pool of connections, reused).
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    server: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").field("server", &self.server).finish()
    }
}

impl SmtpMailer {
    /// A mailer for `policy`, with `password` for its user and `cas` (PEM) to trust.
    pub fn new(policy: &SmtpPolicy, password: Option<String>, cas: &[u8]) -> Result<Self, String> {
        let tls = || -> Result<TlsParameters, String> {
            let certificate = Certificate::from_pem(cas).map_err(|e| format!("CA certificates: {e}"))?;
            TlsParameters::builder(policy.host.clone())
                .certificate_store(CertificateStore::None)
                .add_root_certificate(certificate)
                .build_rustls()
                .map_err(|e| format!("TLS: {e}"))
        };
        let security = match policy.security {
            SmtpSecurity::Starttls => Tls::Required(tls()?),
            SmtpSecurity::Implicit => Tls::Wrapper(tls()?),
            SmtpSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&policy.host)
            .port(policy.port)
            .tls(security)
            .timeout(Some(policy.timeout));
        match (&policy.username, password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.clone(), password))
            }
            (Some(_), None) => return Err("the SMTP user needs a password".into()),
            (None, _) => {}
        }
        Ok(Self { transport: builder.build(), server: format!("{}:{}", policy.host, policy.port) })
    }

    async fn deliver(&self, mail: &Mail) -> Result<(), MailError> {
        let from =
            mail.from.parse().map_err(|e| MailError::Permanent(format!("sender {}: {e}", mail.from)))?;
        let to = mail.to.parse().map_err(|e| MailError::Permanent(format!("recipient: {e}")))?;
        let envelope =
            Envelope::new(Some(from), vec![to]).map_err(|e| MailError::Permanent(e.to_string()))?;
        match self.transport.send_raw(&envelope, mail.message.as_bytes()).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(MailError::Permanent(format!("{}: {e}", self.server))),
            Err(e) => Err(MailError::Transient(format!("{}: {e}", self.server))),
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
