//! Everything on the upstream side of the gateway.
//!
//! - [`h1`]: the HTTP/1.1 wire format of the gateway's own client (request
//!   heads, response heads, framing, the chunked coding).
//! - `pool`, `exchange`, `body`, `conn`: the gateway's HTTP/1.1 client:
//!   the pooled connections to the upstream (TCP for `http://`, TLS for
//!   `https://`), the exchange of one request over one, the response body
//!   read from it, the socket; `upgrade`, a WebSocket handshake on a
//!   connection of its own, which becomes a tunnel after a 101.
//! - [`https`]: the project's one TLS client configuration (trust roots),
//!   used for `https://` upstreams and by `corsair check` and `audit`.
//! - `echo`: the built-in echo upstream (`upstream = "builtin:echo"`).

mod body;
mod conn;
pub(crate) mod echo;
mod exchange;
pub mod h1;
pub mod https;
pub(crate) mod pool;
pub(crate) mod upgrade;

pub(crate) use conn::tls_connector;
