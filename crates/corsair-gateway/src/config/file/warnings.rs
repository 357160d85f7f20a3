//! Warnings: settings that are valid but probably do not do what was meant.
//! The file is accepted; `corsair validate` prints them (exit status 0) and
//! `corsair serve` logs them.
//!
//! - `method_case`: a standard method written in another case than its
//!   usual one in `allow_methods` (`Patch`). Browsers uppercase only `DELETE`,
//!   `GET`, `HEAD`, `OPTIONS`, `POST` and `PUT` (Fetch §2.2.1 "normalize"),
//!   and a preflight's method is compared byte for byte (Fetch §4.8 step
//!   7.5), so `Patch` allows only a script that sends exactly `Patch`, not
//!   `fetch(url, {method: "PATCH"})`.
//! - `private_network`: `allow_private_network = true`. Chrome replaced
//!   Private Network Access (its preflight header) with Local Network Access
//!   in Chrome 142: a permission the user grants; no response header
//!   authorizes a request to a private network any more.
//! - `exempt_without_protection`: `protect_unsafe_requests_exempt` in a
//!   policy with `protect_unsafe_requests = false`: the exemptions do
//!   nothing (perhaps protection was turned off while trying an exemption).

use corsair::fetch::{is_method, normalize_method};

use super::read::FileConfig;
use super::Problem;

/// Standard methods (RFC 9110, RFC 5789 `PATCH`, WebDAV and its
/// extensions, the `QUERY` method) that `fetch()` does not normalize:
/// written in any other case, they are almost certainly a mistake.
const STANDARD_METHODS: &[&str] = &[
    "PATCH",
    "QUERY",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "SEARCH",
    "REPORT",
    "MKCALENDAR",
    "LINK",
    "UNLINK",
];

/// The warnings of a file (keys in the index form, `policy[0].…`).
pub(super) fn of(raw: &FileConfig) -> Vec<Problem> {
    let mut out = Vec::new();
    for (i, t) in raw.policy.iter().enumerate() {
        for (j, m) in t.table.allow_methods.iter().enumerate() {
            // `put` is normalized to `PUT` by browsers and the policy alike.
            if !is_method(m) || normalize_method(m) != m {
                continue;
            }
            let upper = m.to_ascii_uppercase();
            if upper == *m || !STANDARD_METHODS.contains(&upper.as_str()) {
                continue;
            }
            // Both spellings listed: the other case is deliberate.
            if t.table.allow_methods.contains(&upper) {
                continue;
            }
            out.push(
                Problem::new(
                    format!("policy[{i}].allow_methods[{j}]"),
                    format!(
                        "{m:?} allows only a request whose method is exactly `{m}`: browsers uppercase only \
                         DELETE, GET, HEAD, OPTIONS, POST and PUT, and compare the method byte for byte, \
                         so `fetch(url, {{method: \"{upper}\"}})` is refused; did you mean `{upper}`?"
                    ),
                )
                .with_code("method_case")
                .with_suggestion(upper)
                .warning(),
            );
        }
        if t.table.allow_private_network {
            out.push(
                Problem::new(
                    format!("policy[{i}].allow_private_network"),
                    "Chrome no longer uses Private Network Access: since Chrome 142, Local Network Access \
                     asks the user's permission for requests from public sites to private and loopback \
                     addresses, and no response header (Access-Control-Allow-Private-Network included) \
                     can authorize them; this key only answers legacy preflights that still ask for it",
                )
                .with_code("private_network")
                .warning(),
            );
        }
        if t.table.protect_unsafe_requests == Some(false) && !t.table.protect_unsafe_requests_exempt.is_empty() {
            out.push(
                Problem::new(
                    format!("policy[{i}].protect_unsafe_requests_exempt"),
                    "has no effect: protect_unsafe_requests = false already lets every cross-origin unsafe \
                     request through",
                )
                .with_code("exempt_without_protection")
                .warning(),
            );
        }
    }
    out
}
