//! TLS with rustls (ring provider): on the public listener when the policy names a certificate,
//! and towards the backend when its URL is `https://`.
//!
//! Clients are offered `h2` (unless HTTP/2 is off) and `http/1.1` by ALPN; the backend only
//! `http/1.1`. The files are read once at start-up; problems are reported with the policy field
//! that names the file.

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
    /// The policy field, e.g. `server.tls_cert_file` or `backend.tls_ca_file`.
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

/// Where Linux distributions keep the system's certificate authorities, tried in order when
/// `backend.tls_ca_file` is not set (Debian and Ubuntu, Fedora and RHEL, openSUSE, Alpine).
const SYSTEM_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// TLS towards an `https://` backend: the connector and the name the certificate must carry.
#[derive(Clone)]
pub struct BackendConnector {
    /// Verifies the backend against the configured authorities; offers only `http/1.1`.
    pub connector: tokio_rustls::TlsConnector,
    /// Sent as SNI and checked against the certificate.
    pub server_name: rustls::pki_types::ServerName<'static>,
}

/// The certificate authorities in the PEM file `ca_file`, or in the system's bundle; answers
/// them with the file they came from. The error says what is wrong with which file.
pub fn ca_roots(
    ca_file: Option<&Path>,
) -> Result<(rustls::RootCertStore, std::path::PathBuf), (std::path::PathBuf, String)> {
    let ca_path = match ca_file {
        Some(file) => file.to_path_buf(),
        None => SYSTEM_CA_BUNDLES.iter().map(Path::new).find(|p| p.is_file()).map(Path::to_path_buf).ok_or_else(
            || {
                (
                    Path::new(SYSTEM_CA_BUNDLES[0]).to_path_buf(),
                    "not set, and no system certificate bundle found (install ca-certificates, or name a PEM file)"
                        .to_owned(),
                )
            },
        )?,
    };
    let pem = std::fs::read(&ca_path).map_err(|e| (ca_path.clone(), e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| (ca_path.clone(), format!("not a PEM bundle: {e}")))?;
        // A bundle may hold certificates rustls cannot use; the usable ones are enough.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err((ca_path, "holds no usable certificate".into()));
    }
    Ok((roots, ca_path))
}

/// A TLS client trusting `roots`, offering `http/1.1` only (ring, safe default versions).
pub fn client_connector(roots: rustls::RootCertStore) -> Result<tokio_rustls::TlsConnector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// Builds the backend connector; a relative `ca_file` is resolved against `base_dir`.
pub fn connector(
    tls: &crate::core::policy::BackendTls,
    base_dir: &Path,
) -> Result<BackendConnector, TlsError> {
    let fail =
        |field, path: &Path, message: String| TlsError { field, path: path.display().to_string(), message };
    let ca_file = tls.ca_file.as_ref().map(|f| base_dir.join(f));
    let (roots, ca_path) = ca_roots(ca_file.as_deref())
        .map_err(|(path, message)| fail("backend.tls_ca_file", &path, message))?;
    let server_name = rustls::pki_types::ServerName::try_from(tls.server_name.clone()).map_err(|e| {
        fail(
            "backend.tls_server_name",
            Path::new(&tls.server_name),
            format!("not a host name or address: {e}"),
        )
    })?;
    let connector = client_connector(roots).map_err(|e| fail("backend.tls_ca_file", &ca_path, e))?;
    Ok(BackendConnector { connector, server_name })
}
