//! The Fetch Standard's primitives, shared by the server half (policy
//! validation and decisions) and the user-agent half ([`crate::agent`]): one
//! function per concept.
//!
//! - methods (Fetch §2.2.1 "Methods"): [`is_method`], [`normalize_method`],
//!   [`is_cors_safelisted_method`], [`is_forbidden_method`];
//! - header-name classes (Fetch §2.2.2 "Headers"): [`is_header_name`],
//!   [`is_forbidden_request_header_name`] (the name alone decides),
//!   [`is_forbidden_request_header`] (the name and, for the method-override
//!   headers, the value), [`is_forbidden_response_header_name`],
//!   [`is_cors_non_wildcard_request_header_name`],
//!   [`is_request_body_header_name`];
//! - inside the crate, the syntax under them: tokens, HTTP tab or space
//!   (OWS), HTTP whitespace, isomorphic decoding, and header-list parsing
//!   ("get", "extract header list values", "get, decode, and split").
//!
//! Comments that implement the standard name its section and step, e.g.
//! `// Fetch §4.10 "CORS check", step 3`. Section numbers are those of
//! fetch.bs at commit 586cd2a (2026-07-02), whose table of contents reads:
//! §2.2.1 Methods, §2.2.2 Headers, §2.2.3 Statuses, §2.2.5 Requests,
//! §2.2.6 Responses, §3.2 `Origin` header, §3.3 CORS protocol (§3.3.2 HTTP
//! requests, §3.3.3 HTTP responses, §3.3.4 HTTP new-header syntax), §4.1
//! Main fetch, §4.4 HTTP fetch, §4.5 HTTP-redirect fetch, §4.8
//! CORS-preflight fetch, §4.9 CORS-preflight cache, §4.10 CORS check,
//! §5.4 Request class. Everything here is allocation-free unless it returns
//! owned text.

mod header;
pub(crate) mod list;
mod method;
pub(crate) mod syntax;

pub(crate) use header::{forbidden_request_header, Forbidden};
pub use header::{
    is_cors_non_wildcard_request_header_name, is_forbidden_request_header, is_forbidden_request_header_name,
    is_forbidden_response_header_name, is_header_name, is_request_body_header_name,
};
pub(crate) use method::is_uppercased_by_normalization;
pub use method::{is_cors_safelisted_method, is_forbidden_method, is_method, normalize_method};
