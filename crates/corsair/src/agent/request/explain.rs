//! [`Request::trace`]: the request explained as the browser sees it before
//! any network traffic.

use super::Request;
use crate::agent::safelist::MAX_SAFELISTED_TOTAL_LEN;
use crate::agent::text::{quote_list, show};
use crate::agent::trace::{Step, Trace};
use crate::fetch::{is_cors_safelisted_method, is_uppercased_by_normalization};

impl Request {
    /// Explains the request as the browser sees it before any network
    /// traffic: origin, method normalization, each header's safelist verdict
    /// and whether a preflight is needed.
    pub fn trace(&self) -> Trace {
        let mut trace = Trace::new();
        let origin_note = if self.origin_input.trim() == self.origin {
            String::new()
        } else {
            format!(" (`{}` serialized)", self.origin_input.trim())
        };
        if self.is_same_origin() {
            trace.push(Step::pass(
                "origin",
                format!(
                    "the page origin `{}`{origin_note} is the URL's origin: a same-origin request, CORS does not apply",
                    self.origin
                ),
            ));
        } else {
            trace.push(Step::pass(
                "origin",
                format!(
                    "cross-origin request from `{}`{origin_note} to `{}`; credentials mode `{}`{}",
                    self.origin,
                    self.url_origin,
                    self.credentials,
                    if self.is_credentialed() {
                        " (credentialed: `*` is never a wildcard)"
                    } else {
                        " (not credentialed)"
                    }
                ),
            ));
        }
        let method_note = if self.method_input != self.method {
            format!("`{}` is normalized to `{}`", self.method_input, self.method)
        } else if is_uppercased_by_normalization(&self.method) {
            format!("`{}`", self.method)
        } else {
            format!(
                "`{}` (only DELETE, GET, HEAD, OPTIONS, POST and PUT are uppercased; this one is sent and compared as written)",
                self.method
            )
        };
        let safelisted = if is_cors_safelisted_method(&self.method) {
            "a CORS-safelisted method"
        } else {
            "not a CORS-safelisted method (only GET, HEAD and POST are)"
        };
        trace.push(Step::pass("method", format!("{method_note}: {safelisted}")));

        let c = self.classification();
        let mut lines = Vec::new();
        for (verdict, (_, value)) in c.verdicts.iter().zip(&self.headers) {
            let origin = if verdict.name == "Accept" && self.added_accept {
                " (added by the browser)"
            } else if verdict.name == "Content-Type"
                && self.added_content_type.as_deref().map(str::as_bytes) == Some(value.as_slice())
            {
                " (set by the body)"
            } else {
                ""
            };
            match &verdict.unsafe_reason {
                None => lines.push(format!("`{}: {}`{origin} is safelisted", verdict.name, show(value))),
                Some(why) => lines.push(format!(
                    "`{}: {}`{origin} is not safelisted: {why}",
                    verdict.name,
                    show(value)
                )),
            }
        }
        if c.safelisted_total > MAX_SAFELISTED_TOTAL_LEN {
            lines.push(format!(
                "the safelisted values add up to {} bytes, more than 1024, so they all count as unsafe",
                c.safelisted_total
            ));
        }
        trace.push(Step::pass("request-headers", lines.join("; ")));

        let step = if self.is_same_origin() {
            Step::pass("preflight", "no preflight: same-origin requests never preflight")
        } else if self.needs_preflight() {
            let mut why = Vec::new();
            if self.use_cors_preflight {
                why.push("the use-CORS-preflight flag is set".to_string());
            }
            if !is_cors_safelisted_method(&self.method) {
                why.push(format!("`{}` is not a safelisted method", self.method));
            }
            if !c.unsafe_names.is_empty() {
                why.push(format!("of the unsafe header names {}", quote_list(&c.unsafe_names)));
            }
            let acrh = if c.unsafe_names.is_empty() {
                "no Access-Control-Request-Headers".to_string()
            } else {
                format!("`Access-Control-Request-Headers: {}`", c.unsafe_names.join(","))
            };
            Step::pass(
                "preflight",
                format!(
                    "a preflight is needed because {}: OPTIONS with `Access-Control-Request-Method: {}` and {acrh}",
                    why.join(" and because "),
                    self.method
                ),
            )
        } else {
            Step::pass(
                "preflight",
                format!(
                    "no preflight: `{}` is safelisted and every header is safelisted",
                    self.method
                ),
            )
        };
        trace.push(step);
        trace
    }
}
