//! Where the responses of a simulated fetch come from: the network ([`NetResponder`]) or,
//! with `--policy FILE`, a corsair config file answered by the server-side engine
//! ([`PolicyResponder`]: cross-origin protection, then the CORS decision, as the gateway).

use std::path::Path;

use corsair::agent::{Failure, FailureKind, Step};
use corsair::cross_origin::Passed;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use url::{Position, Url};

use super::protection;
use super::report::{Kind, Mode};
use super::CheckError;
use crate::client::Client;
use corsair_gateway::config::{self, Config};

/// A response, from the network or from a policy.
pub(crate) struct Received {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    /// Extra explanation steps (policy mode).
    pub(crate) notes: Vec<Step>,
}

/// Where responses come from.
pub(crate) trait Responder {
    fn mode(&self) -> Mode;

    /// Sends one request (the engine built it) and returns the response.
    async fn exchange(
        &mut self,
        kind: Kind,
        method: &str,
        url: &str,
        headers: &HeaderMap,
    ) -> Result<Received, CheckError>;

    /// A config-file fix for a failure the engine reported, if this responder knows one.
    fn policy_fix(&self, _failure: &Failure) -> Option<String> {
        None
    }

    /// The config policy that answers requests for `url` ("policy `api` in
    /// corsair.toml"), when this responder is a config file.
    fn policy_place(&self, _url: &str) -> Option<String> {
        None
    }

    /// How the config answered the last exchange, when this responder is a config file.
    fn answer(&self) -> Option<Answer> {
        None
    }
}

/// Sends requests over the network.
pub(crate) struct NetResponder {
    pub(crate) client: Client,
}

impl Responder for NetResponder {
    fn mode(&self) -> Mode {
        Mode::Network
    }

    async fn exchange(
        &mut self,
        _kind: Kind,
        method: &str,
        url: &str,
        headers: &HeaderMap,
    ) -> Result<Received, CheckError> {
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| CheckError::new("invalid-method", format!("cannot send method `{method}`")))?;
        let pairs: Vec<(HeaderName, HeaderValue)> = headers.iter().map(|(n, v)| (n.clone(), v.clone())).collect();
        let resp = self
            .client
            .send(&method, url, &pairs)
            .await
            .map_err(|e| CheckError::new("unreachable", e.to_string()))?;
        // A corsair gateway's cross-origin protection names its refusal in the body.
        let notes = match protection::recognize(resp.status.as_u16(), &resp.body) {
            Some(code) => vec![Step::fail(
                "cross-origin-protection",
                format!(
                    "the server refused the {method} with corsair's cross-origin protection ({code}): it never \
                     reached the service behind the gateway"
                ),
                "trust the page's origin in the covering policy's allow_origins, or exempt the path \
                 (protect_unsafe_requests_exempt) if it must accept cross-site POSTs",
            )],
            None => Vec::new(),
        };
        Ok(Received {
            status: resp.status.as_u16(),
            headers: resp.headers,
            notes,
        })
    }
}

/// Answers from a corsair config file with the server-side engine, as
/// `corsair serve` would (the upstream is assumed to add no CORS headers).
pub(crate) struct PolicyResponder {
    config: Config,
    file: String,
    /// How the policy answered the last exchange.
    last: Option<Answer>,
}

/// How the config answered one exchange.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// The name of the policy that covers the URL; `None` when no policy does.
    pub(crate) policy: Option<String>,
    /// "policy `api` in corsair.toml" (or the file, when no policy covers the URL).
    pub(crate) place: String,
    /// The rejection's [`corsair::Rejection::code`] and its explanation, when the
    /// policy rejected the request.
    pub(crate) rejection: Option<(&'static str, String)>,
    /// The change to the config file that would accept it.
    pub(crate) hint: Option<String>,
}

impl PolicyResponder {
    /// The name of the policy that covers `url`, if one does.
    pub(crate) fn policy_name(&self, url: &str) -> Option<String> {
        let (host, path) = route_target(url).ok()?;
        Some(self.config.route(host.as_deref(), &path)?.name.clone())
    }

    pub(crate) fn load(path: &Path) -> Result<Self, CheckError> {
        let config = config::load(path).map_err(|e| CheckError::new("invalid-config", e.to_string().trim_end()))?;
        Ok(PolicyResponder {
            config,
            file: path.display().to_string(),
            last: None,
        })
    }
}

/// The `Host` a browser sends for `url` (the port only when it is not the scheme's
/// default) and the path with the query: what the gateway routes on.
pub(crate) fn route_target(url: &str) -> Result<(Option<String>, String), CheckError> {
    let parsed = Url::parse(url).map_err(|e| CheckError::new("invalid-url", format!("invalid URL `{url}`: {e}")))?;
    let host = parsed.host_str().map(|h| match parsed.port() {
        Some(p) => format!("{h}:{p}"),
        None => h.to_owned(),
    });
    Ok((host, parsed[Position::BeforePath..Position::AfterQuery].to_owned()))
}

impl Responder for PolicyResponder {
    fn mode(&self) -> Mode {
        Mode::Policy
    }

    async fn exchange(
        &mut self,
        kind: Kind,
        method: &str,
        url: &str,
        headers: &HeaderMap,
    ) -> Result<Received, CheckError> {
        let (host, path) = route_target(url)?;
        let Some(routed) = self.config.route(host.as_deref(), &path) else {
            let hint = format!(
                "add a [[policy]] to {} whose `hosts` and `path_prefix` cover {}{}",
                self.file,
                host.as_deref().unwrap_or(""),
                path
            );
            self.last = Some(Answer {
                policy: None,
                place: self.file.clone(),
                rejection: None,
                hint: Some(hint),
            });
            return Ok(Received {
                status: 200,
                headers: HeaderMap::new(),
                notes: vec![Step::pass(
                    "policy",
                    format!(
                        "no [[policy]] in {} covers {}{path}: corsair passes the request to the upstream untouched, assumed here to answer 200 without CORS headers",
                        self.file,
                        host.as_deref().unwrap_or("")
                    ),
                )],
            });
        };
        let m = Method::from_bytes(method.as_bytes())
            .map_err(|_| CheckError::new("invalid-method", format!("`{method}` is not a method")))?;
        let where_ = format!("policy `{}` in {}", routed.name, self.file);
        // The gateway's cross-origin protection decides first: a refused request never
        // reaches the upstream (a preflight is OPTIONS, never checked).
        let mut notes = Vec::new();
        if kind == Kind::Actual {
            match protection::decide(routed, &m, host.as_deref(), &path, headers) {
                Err(r) => {
                    let fix = protection::fix(&r, &where_, &path);
                    self.last = Some(Answer {
                        policy: Some(routed.name.clone()),
                        place: where_.clone(),
                        rejection: Some((r.code(), r.to_string())),
                        hint: Some(fix.clone()),
                    });
                    let mut h = HeaderMap::new();
                    r.write_headers(&mut h);
                    return Ok(Received {
                        status: r.status().as_u16(),
                        headers: h,
                        notes: vec![Step::fail(
                            "cross-origin-protection",
                            format!(
                                "{where_} refuses the {method} before the upstream sees it ({}): {r}; the answer is \
                                 403 without CORS headers",
                                r.code()
                            ),
                            fix,
                        )],
                    });
                }
                Ok(Passed::SafeMethod) => {}
                Ok(p) => notes.push(Step::pass(
                    "cross-origin-protection",
                    format!("{where_} lets the {method} through to the upstream ({}): {p}", p.code()),
                )),
            }
        }
        let decision = routed.policy.evaluate(&m, headers);
        // What the gateway does: it answers a preflight itself, and decorates
        // the upstream's answer to anything else (assumed 200 without CORS
        // headers of its own).
        let (status, response_headers) = match routed.policy.preflight_response(&decision) {
            Some((s, h)) => (s.as_u16(), h),
            None => {
                let mut h = HeaderMap::new();
                routed.policy.apply(&decision, &mut h);
                (200, h)
            }
        };
        let rejection = decision.rejection().map(|r| (r.code(), r.to_string()));
        let (explanation, hint) = match decision.rejection() {
            None => (
                format!(
                    "{where_} answers the {} request ({})",
                    kind.as_str(),
                    decision.outcome()
                ),
                None,
            ),
            Some(r) => {
                let hint = match r.code() {
                    "origin_not_allowed" => headers
                        .get(http::header::ORIGIN)
                        .and_then(|o| o.to_str().ok())
                        .map(|o| format!("add `{o}` to allow_origins of {where_}")),
                    "method_not_allowed" => headers
                        .get(http::header::ACCESS_CONTROL_REQUEST_METHOD)
                        .and_then(|o| o.to_str().ok())
                        .map(|m| format!("add `{m}` to allow_methods of {where_}")),
                    "header_not_allowed" => r
                        .header_name()
                        .map(|h| format!("add `{h}` to allow_headers of {where_}")),
                    "null_origin" => {
                        Some("corsair never allows the `null` origin; serve the page from a real origin".to_string())
                    }
                    _ => None,
                };
                (format!("{where_} rejects the {} request: {r}", kind.as_str()), hint)
            }
        };
        self.last = Some(Answer {
            policy: Some(routed.name.clone()),
            place: where_,
            rejection,
            hint,
        });
        notes.push(Step::pass("policy", explanation));
        Ok(Received {
            status,
            headers: response_headers,
            notes,
        })
    }

    fn answer(&self) -> Option<Answer> {
        self.last.clone()
    }

    fn policy_place(&self, url: &str) -> Option<String> {
        let (host, path) = route_target(url).ok()?;
        let routed = self.config.route(host.as_deref(), &path)?;
        Some(format!("policy `{}` in {}", routed.name, self.file))
    }

    fn policy_fix(&self, failure: &Failure) -> Option<String> {
        let Answer {
            place: where_, hint, ..
        } = self.last.as_ref()?;
        if let Some(h) = hint {
            return Some(h.clone());
        }
        match failure.kind {
            FailureKind::MissingAllowCredentials | FailureKind::InvalidAllowCredentials => {
                Some(format!("set `allow_credentials = true` in {where_}"))
            }
            FailureKind::WildcardOriginWithCredentials => Some(format!(
                "list the page's origin in allow_origins of {where_} instead of `*`, with `allow_credentials = true`"
            )),
            FailureKind::MethodNotAllowed => Some(format!("add the method to allow_methods of {where_}")),
            FailureKind::HeaderNotAllowed | FailureKind::AuthorizationNotAllowed => {
                Some(format!("add the header to allow_headers of {where_}"))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_targets_are_what_a_browser_sends() {
        let t = |u: &str| route_target(u).unwrap();
        assert_eq!(
            t("https://API.example/items?x=1#f"),
            (Some("api.example".to_owned()), "/items?x=1".to_owned())
        );
        assert_eq!(
            t("https://api.example:443/"),
            (Some("api.example".to_owned()), "/".to_owned())
        );
        assert_eq!(
            t("http://api.example:8080"),
            (Some("api.example:8080".to_owned()), "/".to_owned())
        );
        assert_eq!(t("http://[::1]:9/a"), (Some("[::1]:9".to_owned()), "/a".to_owned()));
        let err = route_target("not a url").unwrap_err();
        assert_eq!(err.code, "invalid-url");
        assert!(err.message.contains("`not a url`"), "{}", err.message);
    }
}
