//! TLS on the public listener (rustls, ring provider), when the policy names a certificate.
//!
//! ALPN offers `h2` (unless HTTP/2 is off) and `http/1.1`. The files are read once at start-up;
//! problems are reported with the policy field that names the file.

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

use crate::core::policy::TlsFiles;

/// Why TLS could not be set up; the message names the policy field.
#[derive(Debug, thiserror::Error)]
#[error("field `{field}`: {path}: {message}")]
pub struct TlsError {
    /// `server.tls_cert_file` or `server.tls_key_file`.
    pub field: &'static str,
    /// The file as resolved.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Builds the acceptor; relative paths are resolved against `base_dir` (the policy's folder).
pub fn acceptor(files: &TlsFiles, base_dir: &Path, http2: bool) -> Result<TlsAcceptor, TlsError> {
    let cert_path = base_dir.join(&files.cert_file);
    let key_path = base_dir.join(&files.key_file);
    let fail =
        |field, path: &Path, message: String| TlsError { field, path: path.display().to_string(), message };

    let cert_pem =
        std::fs::read(&cert_path).map_err(|e| fail("server.tls_cert_file", &cert_path, e.to_string()))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| fail("server.tls_cert_file", &cert_path, format!("not a PEM certificate chain: {e}")))?;
    if certs.is_empty() {
        return Err(fail("server.tls_cert_file", &cert_path, "holds no certificate".into()));
    }
    let key_pem =
        std::fs::read(&key_path).map_err(|e| fail("server.tls_key_file", &key_path, e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| fail("server.tls_key_file", &key_path, format!("not a PEM private key: {e}")))?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("server.tls_cert_file", &cert_path, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| fail("server.tls_key_file", &key_path, format!("does not fit the certificate: {e}")))?;
    config.alpn_protocols =
        if http2 { vec![b"h2".to_vec(), b"http/1.1".to_vec()] } else { vec![b"http/1.1".to_vec()] };
    Ok(TlsAcceptor::from(Arc::new(config)))
}
