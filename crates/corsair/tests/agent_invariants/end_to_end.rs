//! (c) The two halves together: generated policies, their intent read off
//! the configuration, and one request run through the policy as a browser
//! runs it.

use corsair::agent::{check_preflight, cors_check, exposed_headers};
use corsair::{Policy, PolicyConfig};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::Method;
use proptest::prelude::*;

use crate::reference::{normalize, Spec};

#[derive(Debug, Clone)]
pub(crate) struct Gen {
    pub(crate) origins: Vec<&'static str>,
    pub(crate) methods: Vec<&'static str>,
    pub(crate) headers: Vec<&'static str>,
    pub(crate) credentials: bool,
    pub(crate) debug: bool,
}

impl Gen {
    pub(crate) fn build(&self) -> Policy {
        PolicyConfig::new()
            .allow_origins(self.origins.iter().copied())
            .allow_methods(self.methods.iter().copied())
            .allow_headers(self.headers.iter().copied())
            .expose_headers(["x-request-id"])
            .allow_credentials(self.credentials)
            .debug(self.debug)
            .build()
            .unwrap_or_else(|e| panic!("generated policies are sound: {e}\n{self:?}"))
    }

    pub(crate) fn public(&self) -> bool {
        self.origins == ["*"]
    }

    /// The policy's intent for a browser request, read off the config.
    pub(crate) fn intends_to_allow(&self, s: &Spec) -> bool {
        // A public resource is for everyone, opaque origins included.
        let origin_ok = self.public()
            || (s.origin != "null"
                && self.origins.iter().any(|p| match p.strip_prefix("https://*.") {
                    Some(domain) => s
                        .origin
                        .strip_prefix("https://")
                        .and_then(|h| h.strip_suffix(domain))
                        .is_some_and(|sub| {
                            sub.len() > 1 && sub.ends_with('.') && !sub[..sub.len() - 1].contains(['.', ':'])
                        }),
                    None => match p.strip_suffix(":*") {
                        Some(host) => {
                            s.origin == host
                                || s.origin
                                    .strip_prefix(host)
                                    .and_then(|r| r.strip_prefix(':'))
                                    .is_some_and(|port| {
                                        !port.is_empty()
                                            && !port.starts_with('0')
                                            && port.bytes().all(|b| b.is_ascii_digit())
                                    })
                        }
                        None => s.origin == *p,
                    },
                }));
        if !origin_ok {
            return false;
        }
        if s.credentialed() && (!self.credentials || self.public()) {
            return false;
        }
        if !s.needs_preflight() {
            return true;
        }
        let m = s.method();
        let method_ok = matches!(m.as_str(), "GET" | "HEAD" | "POST")
            || self.methods.iter().any(|x| *x == "*" || normalize(x) == m);
        let star = self.headers.contains(&"*");
        let header_ok = |n: &str| {
            self.headers.iter().any(|h| h.eq_ignore_ascii_case(n)) || (star && !n.eq_ignore_ascii_case("authorization"))
        };
        method_ok && s.unsafe_names().iter().all(|n| header_ok(n))
    }
}

/// Sound policies only (the builder refuses `*` with credentials), so that
/// no case is skipped: with credentials, `*` leaves the method and header
/// lists, and a public policy has none.
pub(crate) fn gen_policy() -> impl Strategy<Value = Gen> {
    (
        prop_oneof![
            1 => Just(vec!["*"]),
            4 => proptest::sample::subsequence(
                &["https://app.example.com", "https://*.example.org", "http://localhost:*"][..],
                1..=3
            ),
        ],
        proptest::sample::subsequence(&["PUT", "PATCH", "patch", "DELETE", "*"][..], 0..=3),
        proptest::sample::subsequence(&["content-type", "x-token", "Authorization", "range", "*"][..], 0..=3),
        any::<bool>(),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(origins, mut methods, mut headers, credentials, debug)| {
            let credentials = credentials && origins != ["*"];
            if credentials {
                methods.retain(|m| *m != "*");
                headers.retain(|h| *h != "*");
            }
            Gen {
                origins,
                methods,
                headers,
                credentials,
                debug,
            }
        })
}

pub(crate) fn header_map(pairs: &[(String, Vec<u8>)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (n, v) in pairs {
        h.append(
            HeaderName::from_bytes(n.as_bytes()).expect("name"),
            HeaderValue::from_bytes(v).expect("value"),
        );
    }
    h
}

/// (c) for one policy and one cross-origin request: the browser's verdict
/// (preflight, then the actual request) is the policy's intent.
pub(crate) fn end_to_end(g: &Gen, s: &Spec, hostile: bool) -> Result<(), TestCaseError> {
    let policy = g.build();
    let req = s.build();
    prop_assert!(!s.same_origin(), "end-to-end cases are cross-origin: {s:?}");
    let intended = g.intends_to_allow(s);

    // The preflight, when the browser sends one.
    let mut passed = true;
    prop_assert_eq!(req.preflight().is_some(), s.needs_preflight());
    if let Some(pf) = req.preflight() {
        let d = policy.evaluate(&Method::OPTIONS, &pf.header_map());
        let (status, h) = policy.preflight_response(&d).expect("a preflight");
        passed = check_preflight(&req, status.as_u16(), &h).is_ok();
        if passed {
            prop_assert!(
                d.is_allowed(),
                "the agent passed a preflight the policy rejected: {:?}",
                d.rejection()
            );
        }
    }
    // The actual request, if the preflight passed.
    if passed {
        let method = Method::from_bytes(req.method().as_bytes()).expect("method");
        let d = policy.evaluate(&method, &header_map(&req.actual_headers()));
        let mut resp = HeaderMap::new();
        resp.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        resp.insert("x-request-id", HeaderValue::from_static("7"));
        if hostile {
            // An upstream that answers CORS itself, wrongly.
            resp.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            resp.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        policy.apply(&d, &mut resp);
        passed = cors_check(&req, &resp).is_ok();
        if passed {
            let ex = exposed_headers(&req, &resp);
            prop_assert!(
                ex.visible.iter().any(|n| n == "x-request-id"),
                "exposed header hidden: {ex:?}"
            );
        }
    }
    prop_assert_eq!(
        passed,
        intended,
        "agent verdict vs the policy's intent for {:?} under {:?}",
        s,
        g
    );
    Ok(())
}
