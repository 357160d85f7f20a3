//! Everything on the upstream side of the gateway.
//!
//! - [`h1`]: the HTTP/1.1 wire format of the gateway's own client (request
//!   heads, response heads, framing, the chunked coding).
//! - [`pool`]: the pooled connections to an `http://` upstream and the
//!   exchange of one request over them.
//! - [`https`]: hyper-util's pooled client with rustls, for `https://`
//!   upstreams, and the TLS client configuration.
//! - [`echo`]: the built-in echo upstream (`upstream = "builtin:echo"`).

pub(crate) mod echo;
pub mod h1;
pub(crate) mod https;
pub(crate) mod pool;
