//! Finding the real cause of a refused preflight.
//!
//! A preflight refused without any CORS header (corsair's own 403, and many
//! servers' 401/404/405) looks the same whether the server refused the
//! origin, the method or one of the headers: the browser, and the engine,
//! only see "no `Access-Control-Allow-Origin`". [`diagnose`] asks again, as
//! a browser could and with safe requests only, one part at a time:
//!
//! 1. the origin: a GET from the same origin (a CORS-safelisted request),
//!    and, when its answer does not grant the origin, a preflight asking for
//!    `GET` alone;
//! 2. the method alone: the preflight without the request headers;
//! 3. each CORS-unsafe header alone: a preflight asking for that header with
//!    the request's method (or `GET`, when the method itself is refused).
//!
//! Every answer is judged by the engine ([`corsair::agent`]), and every
//! refused part is reported at once, with the fix for it; a part the server
//! accepts gets no fix (no advice to change what is already in place).

use corsair::agent::{check_preflight, cors_check, CredentialsMode, FailureKind, Request};
use corsair::fetch::is_cors_safelisted_method;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;

use super::report::{Exchange, Kind, SentRequest};
use super::responders::{Received, Responder};
use super::CheckError;
use crate::report::{isomorphic_decode, HeaderList};

/// A part of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Part {
    Origin,
    Method,
    Header,
}

impl Part {
    fn noun(self) -> &'static str {
        match self {
            Part::Origin => "origin",
            Part::Method => "method",
            Part::Header => "header",
        }
    }
}

/// What the server does with one part, asked alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Verdict {
    Accepted,
    Refused,
    /// Not asked: the answer is already known to be a refusal of something else.
    Untested,
}

/// One part of the request and what the probes showed about it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Item {
    pub(crate) part: Part,
    pub(crate) value: String,
    pub(crate) verdict: Verdict,
    /// What the probe showed.
    pub(crate) evidence: String,
    /// For a refused part: what to change.
    pub(crate) fix: Option<String>,
}

/// The cause of a refused preflight, as `--format json` shows it (`cause`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Cause {
    /// Every part of the request, in order: the origin, the method (when it is not
    /// CORS-safelisted), each CORS-unsafe header.
    pub(crate) items: Vec<Item>,
    /// The cause in one sentence.
    pub(crate) conclusion: String,
    /// Whether the refusal has the shape of a corsair gateway's (403, no CORS header,
    /// `Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers`).
    pub(crate) looks_like_corsair: bool,
    /// The requests sent to find it out (OPTIONS preflights and GETs only), in order.
    pub(crate) probes: Vec<Exchange>,
}

impl Cause {
    /// The refused parts.
    pub(crate) fn refused(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.verdict == Verdict::Refused)
    }

    /// Every fix, joined (what the report's `failure.fix` becomes).
    pub(crate) fn fixes(&self) -> Option<String> {
        let fixes: Vec<&str> = self.refused().filter_map(|i| i.fix.as_deref()).collect();
        (!fixes.is_empty()).then(|| fixes.join("; "))
    }
}

/// The `Vary` a corsair gateway puts on every preflight answer.
const CORSAIR_PREFLIGHT_VARY: &str = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// Whether a refused preflight's answer has the shape of a corsair gateway's: 403,
/// no `Access-Control-*` header, the preflight `Vary` corsair always sends, no body.
pub(crate) fn looks_like_corsair(status: u16, headers: &HeaderMap) -> bool {
    let vary: Vec<&[u8]> = headers
        .get_all(http::header::VARY)
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    let vary_ok = matches!(vary.as_slice(), [v] if v.starts_with(CORSAIR_PREFLIGHT_VARY.as_bytes()));
    let empty = headers
        .get(http::header::CONTENT_LENGTH)
        .is_none_or(|v| v.as_bytes() == b"0");
    status == 403 && vary_ok && empty && !headers.keys().any(|n| n.as_str().starts_with("access-control-"))
}

/// Who the fixes address.
struct Audience {
    /// With `--policy`: "policy `api` in corsair.toml".
    policy: Option<String>,
    corsair: bool,
    credentialed: bool,
}

impl Audience {
    fn fix(&self, part: Part, value: &str) -> String {
        let key = match part {
            Part::Origin => "allow_origins",
            Part::Method => "allow_methods",
            Part::Header => "allow_headers",
        };
        if let Some(place) = &self.policy {
            return format!("add `{value}` to {key} of {place}");
        }
        let server = match part {
            Part::Origin => {
                let creds = if self.credentialed {
                    " and `Access-Control-Allow-Credentials: true`"
                } else {
                    ""
                };
                format!(
                    "allow the origin `{value}` on the server: its preflight answers need a 2xx status, \
                     `Access-Control-Allow-Origin: {value}`{creds}"
                )
            }
            Part::Method => format!(
                "allow the method `{value}` on the server: its preflight answer must list it in \
                 Access-Control-Allow-Methods (exactly `{value}`: methods are case-sensitive)"
            ),
            Part::Header => format!(
                "allow the request header `{value}` on the server: its preflight answer must list it in \
                 Access-Control-Allow-Headers"
            ),
        };
        if self.corsair {
            format!(
                "{server} (a corsair gateway: add `{value}` to `{key}` of the policy that covers this URL; \
                 `corsair check --policy FILE` names it)"
            )
        } else {
            server
        }
    }
}

/// Sends one probe and records it.
async fn ask<R: Responder>(
    responder: &mut R,
    probes: &mut Vec<Exchange>,
    method: &str,
    url: &str,
    headers: &[(&str, String)],
) -> Result<Received, CheckError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| CheckError::new("invalid-header-name", format!("cannot send header `{name}`")))?;
        let v = HeaderValue::from_str(value)
            .map_err(|_| CheckError::new("invalid-header-value", format!("cannot send `{name}: {value}`")))?;
        map.append(n, v);
    }
    let received = responder.exchange(Kind::Probe, method, url, &map).await?;
    probes.push(Exchange {
        kind: Kind::Probe,
        request: SentRequest {
            method: method.to_owned(),
            url: url.to_owned(),
            headers: HeaderList::from_lines(headers.iter().map(|(n, v)| (*n, v.as_bytes()))),
        },
        status: received.status,
        headers: HeaderList::from_map(&received.headers),
    });
    Ok(received)
}

/// "403 without CORS headers", "403 with Access-Control-Allow-Origin `x`"…
fn answer(r: &Received) -> String {
    let cors: Vec<String> = r
        .headers
        .iter()
        .filter(|(n, _)| n.as_str().starts_with("access-control-"))
        .map(|(n, v)| format!("{n}: {}", isomorphic_decode(v.as_bytes())))
        .collect();
    if cors.is_empty() {
        format!("{} without CORS headers", r.status)
    } else {
        format!("{} with {}", r.status, cors.join(", "))
    }
}

/// Whether `headers` grant `origin` (one `Access-Control-Allow-Origin` that is the
/// origin, or `*` for a request without credentials); the ACAC is a separate matter.
fn grants_origin(req: &Request, headers: &HeaderMap) -> bool {
    let Ok(plain) = Request::builder(req.origin(), req.url()).build() else {
        return false;
    };
    let star = headers
        .get(http::header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_some_and(|v| v.as_bytes() == b"*");
    cors_check(&plain, headers).is_ok() && !(star && req.is_credentialed())
}

/// The preflight headers for `method` and, optionally, one header name.
fn preflight_headers(origin: &str, method: &str, header: Option<&str>) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("Origin", origin.to_owned()),
        ("Accept", "*/*".to_owned()),
        ("Access-Control-Request-Method", method.to_owned()),
    ];
    if let Some(name) = header {
        h.push(("Access-Control-Request-Headers", name.to_owned()));
    }
    h
}

/// A request like `req` with `method` and only the header lines named `only`.
fn variant(req: &Request, method: &str, only: Option<&str>) -> Option<Request> {
    let mut b = Request::builder(req.origin(), req.url())
        .method(method)
        .credentials(req.credentials());
    if let Some(name) = only {
        for (n, v) in req.headers() {
            if n.eq_ignore_ascii_case(name) {
                b = b.header(n.clone(), isomorphic_decode(v));
            }
        }
    }
    b.build().ok()
}

/// Asks the server about each part of `req` whose preflight was refused without CORS
/// headers (`refusal` is that answer), and says which parts it refuses.
pub(crate) async fn diagnose<R: Responder>(
    responder: &mut R,
    req: &Request,
    refusal: &Received,
) -> Result<Cause, CheckError> {
    let mut probes = Vec::new();
    let origin = req.origin().to_owned();
    let url = req.url().to_owned();
    let audience = Audience {
        policy: responder.policy_place(&url),
        corsair: looks_like_corsair(refusal.status, &refusal.headers),
        credentialed: req.credentials() == CredentialsMode::Include,
    };
    let mut items = Vec::new();

    // 1. The origin: a safelisted GET, then (if needed) a preflight for GET alone.
    let get = ask(
        responder,
        &mut probes,
        "GET",
        &url,
        &[("Origin", origin.clone()), ("Accept", "*/*".to_owned())],
    )
    .await?;
    let mut evidence = format!("a GET from this origin got {}", answer(&get));
    let mut origin_ok = grants_origin(req, &get.headers);
    if !origin_ok {
        let pf = ask(
            responder,
            &mut probes,
            "OPTIONS",
            &url,
            &preflight_headers(&origin, "GET", None),
        )
        .await?;
        origin_ok = grants_origin(req, &pf.headers);
        evidence.push_str(&format!(", a preflight asking for GET alone got {}", answer(&pf)));
    }
    items.push(Item {
        part: Part::Origin,
        value: origin.clone(),
        verdict: if origin_ok { Verdict::Accepted } else { Verdict::Refused },
        fix: (!origin_ok).then(|| audience.fix(Part::Origin, &origin)),
        evidence,
    });

    // 2. The method alone, unless it is safelisted (it then needs no approval).
    let method = req.method().to_owned();
    let mut method_ok = true;
    let preflighted_method = !is_cors_safelisted_method(&method);
    let unsafe_names = req.unsafe_header_names();
    if preflighted_method {
        if origin_ok {
            let got = ask(
                responder,
                &mut probes,
                "OPTIONS",
                &url,
                &preflight_headers(&origin, &method, None),
            )
            .await?;
            let verdict = variant(req, &method, None).map(|r| check_preflight(&r, got.status, &got.headers));
            method_ok = matches!(verdict, Some(Ok(_)));
            let why = match &verdict {
                Some(Err(f)) if f.kind != FailureKind::MissingAllowOrigin => format!(": {}", f.explanation),
                _ => String::new(),
            };
            items.push(Item {
                part: Part::Method,
                value: method.clone(),
                verdict: if method_ok { Verdict::Accepted } else { Verdict::Refused },
                evidence: format!("a preflight asking for `{method}` alone got {}{why}", answer(&got)),
                fix: (!method_ok).then(|| audience.fix(Part::Method, &method)),
            });
        } else {
            items.push(untested(Part::Method, &method));
        }
    }

    // 3. Each unsafe header alone, with the method when it is accepted.
    let carrier = if method_ok { method.clone() } else { "GET".to_owned() };
    for name in &unsafe_names {
        if !origin_ok {
            items.push(untested(Part::Header, name));
            continue;
        }
        let got = ask(
            responder,
            &mut probes,
            "OPTIONS",
            &url,
            &preflight_headers(&origin, &carrier, Some(name)),
        )
        .await?;
        let verdict = variant(req, &carrier, Some(name)).map(|r| check_preflight(&r, got.status, &got.headers));
        let ok = matches!(verdict, Some(Ok(_)));
        let why = match &verdict {
            Some(Err(f)) if f.kind != FailureKind::MissingAllowOrigin => format!(": {}", f.explanation),
            _ => String::new(),
        };
        items.push(Item {
            part: Part::Header,
            value: name.clone(),
            verdict: if ok { Verdict::Accepted } else { Verdict::Refused },
            evidence: format!(
                "a preflight asking for `{carrier}` with the header `{name}` alone got {}{why}",
                answer(&got)
            ),
            fix: (!ok).then(|| audience.fix(Part::Header, name)),
        });
    }

    let conclusion = conclude(&items);
    Ok(Cause {
        items,
        conclusion,
        looks_like_corsair: audience.corsair,
        probes,
    })
}

fn untested(part: Part, value: &str) -> Item {
    Item {
        part,
        value: value.to_owned(),
        verdict: Verdict::Untested,
        evidence: "not asked: the server refuses the origin, so it refuses every preflight from it".to_owned(),
        fix: None,
    }
}

fn list(items: &[&Item]) -> String {
    let named: Vec<String> = items
        .iter()
        .map(|i| format!("the {} `{}`", i.part.noun(), i.value))
        .collect();
    match named.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The cause in one sentence.
fn conclude(items: &[Item]) -> String {
    let of = |v: Verdict| items.iter().filter(|i| i.verdict == v).collect::<Vec<_>>();
    let (refused, accepted, untested) = (of(Verdict::Refused), of(Verdict::Accepted), of(Verdict::Untested));
    if refused.is_empty() {
        return format!(
            "asked one at a time, the server accepts {}, but refuses the preflight that asks for them together \
             (it may limit the headers of one request, or refuse this combination)",
            list(&accepted)
        );
    }
    let mut s = format!("the server refuses {}", list(&refused));
    if !accepted.is_empty() {
        s.push_str(&format!("; it accepts {}", list(&accepted)));
    }
    if !untested.is_empty() {
        s.push_str(&format!(
            "; {} could not be asked about (every preflight from a refused origin is refused)",
            list(&untested)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(part: Part, value: &str, verdict: Verdict) -> Item {
        Item {
            part,
            value: value.to_owned(),
            verdict,
            evidence: String::new(),
            fix: None,
        }
    }

    #[test]
    fn conclusions() {
        let o = item(Part::Origin, "https://a.example", Verdict::Accepted);
        let m = item(Part::Method, "PATCH", Verdict::Refused);
        let h = item(Part::Header, "x-a", Verdict::Refused);
        let h2 = item(Part::Header, "x-b", Verdict::Accepted);
        assert_eq!(
            conclude(&[o.clone(), m.clone(), h.clone(), h2.clone()]),
            "the server refuses the method `PATCH` and the header `x-a`; it accepts the origin \
             `https://a.example` and the header `x-b`"
        );
        let all_ok = [o.clone(), item(Part::Method, "PUT", Verdict::Accepted)];
        assert!(conclude(&all_ok).contains("refuses the preflight that asks for them together"));
        let refused_origin = [
            item(Part::Origin, "https://a.example", Verdict::Refused),
            item(Part::Method, "PUT", Verdict::Untested),
        ];
        assert_eq!(
            conclude(&refused_origin),
            "the server refuses the origin `https://a.example`; the method `PUT` could not be asked about \
             (every preflight from a refused origin is refused)"
        );
    }

    #[test]
    fn corsair_refusals_are_recognised() {
        let mut h = HeaderMap::new();
        h.insert("vary", HeaderValue::from_static(CORSAIR_PREFLIGHT_VARY));
        h.insert("content-length", HeaderValue::from_static("0"));
        assert!(looks_like_corsair(403, &h));
        assert!(!looks_like_corsair(401, &h));
        let mut other = h.clone();
        other.insert("vary", HeaderValue::from_static("Origin"));
        assert!(!looks_like_corsair(403, &other));
        let mut with_cors = h.clone();
        with_cors.insert("access-control-allow-methods", HeaderValue::from_static("GET"));
        assert!(!looks_like_corsair(403, &with_cors));
        let mut body = h;
        body.insert("content-length", HeaderValue::from_static("12"));
        assert!(!looks_like_corsair(403, &body));
    }

    #[test]
    fn fixes_name_the_key_with_a_policy() {
        let a = Audience {
            policy: Some("policy `api` in c.toml".to_owned()),
            corsair: false,
            credentialed: false,
        };
        assert_eq!(
            a.fix(Part::Method, "PATCH"),
            "add `PATCH` to allow_methods of policy `api` in c.toml"
        );
        let net = Audience {
            policy: None,
            corsair: true,
            credentialed: true,
        };
        let f = net.fix(Part::Origin, "https://a.example");
        assert!(f.contains("Access-Control-Allow-Credentials: true"), "{f}");
        assert!(f.contains("`allow_origins` of the policy that covers this URL"), "{f}");
    }
}
