//! TLS for the listener: PEM certificate chain and key, rustls with ring,
//! ALPN offering HTTP/2 then HTTP/1.1.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::config::{ConfigFileError, Problem, Tls};

/// Builds the acceptor, or the problems (`tls.cert`, `tls.key`) of `file`.
pub fn acceptor(t: &Tls, file: &str) -> Result<TlsAcceptor, ConfigFileError> {
    let fail = |key: &str, message: String| ConfigFileError {
        file: file.to_owned(),
        problems: vec![Problem::new(key, message)],
    };
    let certs = read_certs(&t.cert).map_err(|m| fail("tls.cert", m))?;
    let key = read_key(&t.key).map_err(|m| fail("tls.key", m))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut sc = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("tls", e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            fail(
                "tls.key",
                format!("{}: unusable with the certificate: {e}", t.key.display()),
            )
        })?;
    sc.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(sc)))
}

/// The certificates of a PEM file (rustls-pki-types' PEM parser).
pub(crate) fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not a PEM certificate chain: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no `BEGIN CERTIFICATE` block", path.display()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            format!("{}: no PEM private key (PKCS#8, PKCS#1 or SEC1)", path.display())
        }
        e => format!("{}: not a PEM private key: {e}", path.display()),
    })
}
