//! The canonical meaning of a request's target, computed once per request
//! and used for every decision: which policy covers it (its host and path)
//! and what is forwarded (the canonical path, so that the upstream serves
//! exactly the resource the policy was chosen for).
//!
//! **Path** (RFC 3986 §6.2.2, syntax-based normalization, and §5.2.4):
//! 1. percent-encodings of unreserved characters (`ALPHA DIGIT - . _ ~`)
//!    are decoded (`/%61pi` is `/api`), the others are kept with uppercase
//!    hex digits (`%3f` → `%3F`); a `%` not followed by two hex digits is
//!    malformed (400);
//! 2. an encoded `/` or `\` (`%2F`, `%5C`) has no single meaning (one
//!    server splits segments on it after decoding, the next does not): 400,
//!    unless [`PathRules::encoded_slashes`] keeps it as an ordinary
//!    character; an encoded NUL (`%00`) and a literal `\` (which browsers
//!    never send: the URL Standard turns it into `/`) are always 400;
//! 3. a `;` starts path parameters, which some servers drop from each
//!    segment (Tomcat, Jetty: `/api;x/me` is `/api/me`, `/a/..;/b` is
//!    `/b`) and others keep: 400 by default, or kept, or stripped, as
//!    [`PathRules::semicolons`] says;
//! 4. with [`PathRules::merge_slashes`] (the default, as nginx), `//` is `/`;
//! 5. dot segments are removed (`remove_dot_segments`, RFC 3986 §5.2.4), the
//!    encoded ones included (`/%2e%2e/` is `/../`); `..` never climbs above
//!    the root.
//!
//! The query is neither decoded nor normalized: no policy depends on it.
//!
//! **Authority** (RFC 9112 §3.2 and §3.2.2, RFC 9113 §8.3.1, RFC 9110
//! §7.2): an HTTP/1.1 request needs exactly one `Host` (none, or more than
//! one, is a 400); an absolute-form target's authority wins over `Host`;
//! on HTTP/2 `:authority` is the authority and a `host` field that names
//! another is a 400. A host is `uri-host [":" port]` with `uri-host` a DNS
//! name (letters, digits, `-`, `_`, dots), an IPv4 address or a bracketed
//! IPv6 address; anything else (`a@b`, `b/x`, `b:abc`, `b:80:80`,
//! percent-encodings) is a 400. Names compare case-insensitively (they are
//! lowercased) and one trailing dot is removed (`api.example.com.` is
//! `api.example.com`).

mod authority;
mod path;

use std::fmt;

pub use authority::{request_authority, Authority};
pub use path::canonical_path;

/// Why a request has no single meaning: answered 400, never routed nor
/// forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// HTTP/1.1 without `Host`.
    MissingHost,
    /// More than one `Host` field line.
    MultipleHosts,
    /// A `Host` (or absolute-form, or `:authority`) that is not
    /// `uri-host [":" port]`.
    InvalidHost,
    /// HTTP/2 `host` naming another authority than `:authority`.
    AuthorityMismatch,
    /// An absolute-form target whose scheme is not http or https.
    InvalidScheme,
    /// A path that is not a path (no leading `/`).
    InvalidPath,
    /// A `%` not followed by two hex digits.
    InvalidEscape,
    /// `%2F` or `%5C`.
    EncodedSlash,
    /// `%00`.
    EncodedNul,
    /// A literal `\`.
    Backslash,
    /// A `;` in the path.
    PathParameters,
}

impl Refusal {
    /// A stable code for logs and metrics.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::MissingHost => "missing_host",
            Refusal::MultipleHosts => "multiple_hosts",
            Refusal::InvalidHost => "invalid_host",
            Refusal::AuthorityMismatch => "authority_mismatch",
            Refusal::InvalidScheme => "invalid_scheme",
            Refusal::InvalidPath => "invalid_path",
            Refusal::InvalidEscape => "invalid_percent_encoding",
            Refusal::EncodedSlash => "encoded_slash",
            Refusal::EncodedNul => "encoded_nul",
            Refusal::Backslash => "backslash",
            Refusal::PathParameters => "path_parameters",
        }
    }

    /// Every code, for the metrics.
    pub const ALL: [Refusal; 11] = [
        Refusal::MissingHost,
        Refusal::MultipleHosts,
        Refusal::InvalidHost,
        Refusal::AuthorityMismatch,
        Refusal::InvalidScheme,
        Refusal::InvalidPath,
        Refusal::InvalidEscape,
        Refusal::EncodedSlash,
        Refusal::EncodedNul,
        Refusal::Backslash,
        Refusal::PathParameters,
    ];
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::MissingHost => "an HTTP/1.1 request needs a Host header (RFC 9112 §3.2)",
            Refusal::MultipleHosts => "more than one Host header (RFC 9112 §3.2)",
            Refusal::InvalidHost => "the Host is not `host[:port]` with a DNS name or an IP address",
            Refusal::AuthorityMismatch => "the host header names another authority than :authority (RFC 9113 §8.3.1)",
            Refusal::InvalidScheme => "an absolute-form target must be an http or https URL",
            Refusal::InvalidPath => "the request target is not a path",
            Refusal::InvalidEscape => "a `%` in the path is not followed by two hex digits",
            Refusal::EncodedSlash => {
                "an encoded `/` or `\\` (%2F, %5C) in the path has no single meaning ([paths] encoded_slashes)"
            }
            Refusal::EncodedNul => "an encoded NUL (%00) in the path",
            Refusal::Backslash => "a `\\` in the path (servers disagree on whether it separates segments)",
            Refusal::PathParameters => "a `;` in the path: servers disagree on path parameters ([paths] semicolons)",
        })
    }
}

#[cfg(test)]
mod tests;
