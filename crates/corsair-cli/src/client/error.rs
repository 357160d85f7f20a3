//! Why a request failed: [`ClientError`], and the classification of hyper-util's errors
//! into it (refused connection, DNS, TLS, timeout, ...).

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

/// Why a request could not be made or did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The URL is not an absolute `http://` or `https://` URL with a host.
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request could not be built (e.g. a method or header hyper rejects).
    InvalidRequest {
        /// What is wrong.
        reason: String,
    },
    /// The TLS configuration could not be built (should not happen with the bundled roots).
    Setup {
        /// What failed.
        reason: String,
    },
    /// The host name could not be resolved.
    Dns {
        /// The host that failed to resolve.
        host: String,
        /// The resolver's message.
        reason: String,
    },
    /// Nothing listens on the target address (TCP RST).
    ConnectionRefused {
        /// `host:port` that refused.
        authority: String,
    },
    /// The TLS handshake failed (certificate not trusted, name mismatch, protocol error, ...).
    Tls {
        /// `host:port` of the server.
        authority: String,
        /// The TLS library's message.
        reason: String,
    },
    /// Any other failure while connecting (unreachable network, reset, ...).
    Connect {
        /// `host:port` of the server.
        authority: String,
        /// What failed.
        reason: String,
    },
    /// The exchange did not complete within the timeout.
    Timeout {
        /// The URL requested.
        url: String,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// The connection was established but the HTTP exchange failed
    /// (connection closed early, malformed response, HTTP/2 error, ...).
    Http {
        /// The URL requested.
        url: String,
        /// What failed.
        reason: String,
    },
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::InvalidUrl { url, reason } => write!(f, "invalid URL `{url}`: {reason}"),
            ClientError::InvalidRequest { reason } => write!(f, "invalid request: {reason}"),
            ClientError::Setup { reason } => write!(f, "could not set up the HTTP client: {reason}"),
            ClientError::Dns { host, reason } => {
                write!(f, "could not resolve host `{host}`: {reason}")
            }
            ClientError::ConnectionRefused { authority } => {
                write!(f, "connection refused by {authority} (is the server running?)")
            }
            ClientError::Tls { authority, reason } => {
                write!(f, "TLS handshake with {authority} failed: {reason}")
            }
            ClientError::Connect { authority, reason } => {
                write!(f, "could not connect to {authority}: {reason}")
            }
            ClientError::Timeout { url, after } => {
                write!(f, "request to {url} timed out after {} s", after.as_secs_f64())
            }
            ClientError::Http { url, reason } => write!(f, "request to {url} failed: {reason}"),
        }
    }
}

impl StdError for ClientError {}

/// Turn hyper-util's error into a [`ClientError`] by walking its source chain.
pub(super) fn classify(err: &hyper_util::client::legacy::Error, url: &str, host: &str, authority: &str) -> ClientError {
    let chain = error_chain(err);
    if err.is_connect() {
        for e in error_tree(err) {
            if let Some(tls) = e.downcast_ref::<rustls::Error>() {
                return ClientError::Tls {
                    authority: authority.to_owned(),
                    reason: tls.to_string(),
                };
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::ConnectionRefused {
                    return ClientError::ConnectionRefused {
                        authority: authority.to_owned(),
                    };
                }
            }
        }
        let lower = chain.to_ascii_lowercase();
        if lower.contains("dns error")
            || lower.contains("failed to lookup address")
            || lower.contains("name or service not known")
            || lower.contains("no such host")
        {
            return ClientError::Dns {
                host: host.to_owned(),
                reason: innermost(err),
            };
        }
        return ClientError::Connect {
            authority: authority.to_owned(),
            reason: chain,
        };
    }
    ClientError::Http {
        url: url.to_owned(),
        reason: chain,
    }
}

/// Every error reachable from `err`: its `source()` chain and, for `io::Error`s (which
/// hide the error they wrap from `source()`), the wrapped error. hyper-rustls reports a
/// failed handshake as `io::Error(io::Error(rustls::Error))`.
fn error_tree<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out: Vec<&'a (dyn StdError + 'static)> = Vec::new();
    let mut stack = vec![err];
    while let Some(e) = stack.pop() {
        if out.len() > 64 {
            break; // pathological chains
        }
        out.push(e);
        if let Some(next) = e.source() {
            stack.push(next);
        }
        if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            stack.push(inner);
        }
    }
    out
}

/// The message of the deepest error in the chain (the actual cause).
fn innermost(err: &(dyn StdError + 'static)) -> String {
    let mut last = err;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// `outer: inner: innermost`, skipping messages already contained in the text so far.
fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let msg = e.to_string();
        if !msg.is_empty() && !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        source = e.source();
    }
    out
}
