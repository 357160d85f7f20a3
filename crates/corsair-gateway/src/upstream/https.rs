//! TLS as a client, one configuration for the whole project: the gateway's
//! `https://` upstreams and the probes of `corsair check` and `corsair audit`.
//!
//! **Trust roots.** The operating system's trust store, read once per
//! client by `rustls-native-certs` (which honours `SSL_CERT_FILE` and
//! `SSL_CERT_DIR`); when it yields no usable certificate (a minimal
//! container), the Mozilla root program compiled into `webpki-roots`.
//! Certificates are always verified; there is no switch to turn that off.
//! rustls with the `ring` provider, TLS 1.2 and 1.3.
//!
//! The gateway's own HTTP/1.1 client uses it for `https://` upstreams
//! (offering `http/1.1` by ALPN; `upstream_ca` replaces the trust roots);
//! [`connector`] wraps it for hyper-util's client, which `check` and
//! `audit` use (offering HTTP/2 and HTTP/1.1).

use std::io;
use std::sync::Arc;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::RootCertStore;

/// Where the trust roots of [`client_config`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustRoots {
    /// The operating system's trust store.
    System,
    /// The Mozilla root program compiled in (`webpki-roots`).
    Mozilla,
}

/// The trust roots: the system's when it has any usable certificate, else
/// Mozilla's (see the module docs).
pub fn trust_roots() -> (RootCertStore, TrustRoots) {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for e in &native.errors {
        tracing::debug!(error = %e, "reading the system trust store");
    }
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    if added > 0 {
        return (roots, TrustRoots::System);
    }
    tracing::debug!("no usable certificate in the system trust store; using the Mozilla roots");
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    (roots, TrustRoots::Mozilla)
}

/// The TLS client configuration (no ALPN set: each client sets its own).
pub fn client_config() -> io::Result<rustls::ClientConfig> {
    let (roots, _) = trust_roots();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// A connector for `http://` and `https://` URLs over [`client_config`],
/// offering HTTP/2 and HTTP/1.1 by ALPN.
pub fn connector() -> io::Result<HttpsConnector<HttpConnector>> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(client_config()?)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http))
}
