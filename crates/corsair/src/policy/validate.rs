//! Validation: a [`PolicyConfig`] checked key by key (every problem is
//! reported, not just the first) and compiled into a [`Policy`].

use std::collections::HashSet;

use http::HeaderValue;

use super::{ConfigErrors, Policy, PolicyConfig, MAX_AGE_LIMIT, MAX_HEADER_NAME};
use crate::fetch::{
    is_cors_non_wildcard_request_header_name, is_forbidden_method, is_forbidden_request_header_name,
    is_forbidden_response_header_name, is_header_name, is_method, normalize_method,
};
use crate::nameset::NameSet;
use crate::origin::{OriginMatcher, OriginPattern};

impl Policy {
    pub(super) fn compile(c: &PolicyConfig) -> Result<Self, ConfigErrors> {
        let mut errs = ConfigErrors::default();
        let creds = c.allow_credentials;
        let mut normalized = c.clone();

        // Origins.
        let mut origins = OriginMatcher::default();
        let mut seen = HashSet::new();
        if c.allow_origins.is_empty() {
            errs.push(
                "allow_origins",
                None,
                "no origin listed: the policy would allow nothing; list exact origins such as `https://app.example.com`",
            );
        }
        for (i, raw) in c.allow_origins.iter().enumerate() {
            let key = format!("allow_origins[{i}]");
            let pattern = match OriginPattern::parse(raw) {
                Ok(p) => p,
                Err(e) => {
                    errs.push(key, Some(raw), e.0);
                    continue;
                }
            };
            if !seen.insert(raw.as_str()) {
                errs.push(key, Some(raw), "listed twice");
                continue;
            }
            if pattern == OriginPattern::Any {
                if creds {
                    errs.push(
                        key,
                        Some(raw),
                        "`*` cannot be used with allow_credentials = true: any site could read \
                         responses with the user's cookies; list the trusted origins instead",
                    );
                    continue;
                }
                if c.allow_origins.len() > 1 {
                    errs.push(
                        key,
                        Some(raw),
                        "`*` already allows every origin; remove the other entries or remove `*`",
                    );
                    continue;
                }
            } else if !c.allow_insecure_origins && !pattern.is_potentially_trustworthy() {
                errs.push(
                    key,
                    Some(raw),
                    "not potentially trustworthy: plain http on a non-loopback host can be spoofed by \
                     anyone on the network path; use https, or set allow_insecure_origins = true",
                );
                continue;
            }
            origins.insert(&pattern);
        }

        // Methods.
        let mut methods = NameSet::default();
        let mut any_method = false;
        normalized.allow_methods.clear();
        for (i, raw) in c.allow_methods.iter().enumerate() {
            let key = format!("allow_methods[{i}]");
            if raw == "*" {
                if creds {
                    errs.push(
                        key,
                        Some(raw),
                        "`*` is taken literally by browsers when credentials are allowed; list the methods",
                    );
                } else {
                    any_method = true;
                    normalized.allow_methods.push(raw.clone());
                }
                continue;
            }
            if !is_method(raw) {
                errs.push(key, Some(raw), "not a method name (an HTTP token such as `PUT`)");
                continue;
            }
            if is_forbidden_method(raw) {
                errs.push(
                    key,
                    Some(raw),
                    "browsers never send CONNECT, TRACE or TRACK from scripts; remove it",
                );
                continue;
            }
            let m = normalize_method(raw).to_owned();
            if !methods.insert(m.as_str()) {
                errs.push(key, Some(raw), format!("`{m}` is listed twice (after normalization)"));
                continue;
            }
            normalized.allow_methods.push(m);
        }

        // Request headers.
        let mut headers = NameSet::default();
        let mut any_header = false;
        let mut authorization_listed = false;
        for (i, raw) in c.allow_headers.iter().enumerate() {
            let key = format!("allow_headers[{i}]");
            if raw == "*" {
                if creds {
                    errs.push(
                        key,
                        Some(raw),
                        "`*` is taken literally by browsers when credentials are allowed; list the headers",
                    );
                } else {
                    any_header = true;
                }
                continue;
            }
            if !is_header_name(raw) || raw.len() > MAX_HEADER_NAME {
                errs.push(key, Some(raw), "not a header name (an HTTP token of at most 128 bytes)");
                continue;
            }
            let lower = raw.to_ascii_lowercase();
            if lower.starts_with("access-control-") {
                errs.push(
                    key,
                    Some(raw),
                    "`Access-Control-*` are CORS protocol headers, not request headers a script sends",
                );
                continue;
            }
            if is_forbidden_request_header_name(&lower) {
                errs.push(
                    key,
                    Some(raw),
                    "a forbidden request-header name: browsers never let scripts set it, so allowing it does nothing",
                );
                continue;
            }
            if is_cors_non_wildcard_request_header_name(raw) {
                authorization_listed = true;
            }
            if !headers.insert(lower.as_str()) {
                errs.push(key, Some(raw), "listed twice (header names are case-insensitive)");
            }
        }

        // Exposed headers.
        let mut expose = Vec::new();
        let mut expose_seen = HashSet::new();
        for (i, raw) in c.expose_headers.iter().enumerate() {
            let key = format!("expose_headers[{i}]");
            if raw == "*" {
                if creds {
                    errs.push(
                        key,
                        Some(raw),
                        "`*` is taken literally by browsers when credentials are allowed; list the headers",
                    );
                    continue;
                }
            } else if !is_header_name(raw) {
                errs.push(key, Some(raw), "not a header name (an HTTP token)");
                continue;
            } else if is_forbidden_response_header_name(raw) {
                errs.push(key, Some(raw), "browsers never expose Set-Cookie to scripts; remove it");
                continue;
            }
            if !expose_seen.insert(raw.to_ascii_lowercase()) {
                errs.push(key, Some(raw), "listed twice (header names are case-insensitive)");
                continue;
            }
            expose.push(raw.as_str());
        }

        // Max age.
        let max_age = match c.max_age {
            None => None,
            Some(n) if (0..=MAX_AGE_LIMIT).contains(&n) => Some(HeaderValue::from(n)),
            Some(n) => {
                errs.push(
                    "max_age",
                    Some(&n.to_string()),
                    format!(
                        "must be between 0 and {MAX_AGE_LIMIT} seconds (0 disables preflight caching; \
                         leave it unset to omit the header)"
                    ),
                );
                None
            }
        };

        if !errs.is_empty() {
            return Err(errs);
        }
        let expose = if expose.is_empty() {
            None
        } else {
            HeaderValue::from_str(&expose.join(", ")).ok()
        };
        let preflight_vary = HeaderValue::from_static(if c.allow_private_network {
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
        } else {
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        });
        let listed_methods = HeaderValue::from_str(&normalized.allow_methods.join(", "))
            .unwrap_or_else(|_| HeaderValue::from_static(""));
        let mut policy = Self {
            listed_methods,
            origins,
            credentials: creds,
            any_method,
            methods,
            any_header,
            headers,
            authorization_listed,
            expose,
            max_age,
            private_network: c.allow_private_network,
            debug: c.debug,
            preflight_vary,
            preflight_ok: Default::default(),
            config: normalized,
        };
        policy.preflight_ok = policy.preflight_templates();
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(c: PolicyConfig) -> Vec<(String, String)> {
        c.build().unwrap_err().into_iter().map(|e| (e.key, e.message)).collect()
    }

    fn keys(c: PolicyConfig) -> Vec<String> {
        errors(c).into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn sound_policies_build() {
        let p = PolicyConfig::new()
            .allow_origins(["https://a.example.com", "http://localhost:*", "https://*.example.org"])
            .allow_methods(["get", "PUT", "PATCH", "purge"])
            .allow_headers(["Content-Type", "Authorization"])
            .expose_headers(["X-Request-Id"])
            .allow_credentials(true)
            .max_age(0)
            .build()
            .unwrap();
        assert_eq!(p.config().allow_methods, ["GET", "PUT", "PATCH", "purge"]);
        assert!(p.authorization_listed);
        assert_eq!(p.max_age.as_ref().unwrap(), "0");
        assert_eq!(p.origin_count(), 3);
    }

    #[test]
    fn all_errors_are_collected_with_keys() {
        let k = keys(
            PolicyConfig::new()
                .allow_origins(["*", "https://ok.example.com", "https://x.com/"])
                .allow_methods(["CONNECT", "GET POST", "*"])
                .allow_headers(["cookie", "*", "sec-fetch-mode", "x ok"])
                .expose_headers(["*", "set-cookie"])
                .allow_credentials(true)
                .max_age(86_401),
        );
        for want in [
            "allow_origins[0]",
            "allow_origins[2]",
            "allow_methods[0]",
            "allow_methods[1]",
            "allow_methods[2]",
            "allow_headers[0]",
            "allow_headers[1]",
            "allow_headers[2]",
            "allow_headers[3]",
            "expose_headers[0]",
            "expose_headers[1]",
            "max_age",
        ] {
            assert!(k.iter().any(|x| x == want), "missing {want} in {k:?}");
        }
    }

    #[test]
    fn empty_origins_are_refused() {
        assert_eq!(keys(PolicyConfig::new()), ["allow_origins"]);
    }

    #[test]
    fn wildcard_is_alone_and_never_with_credentials() {
        assert!(PolicyConfig::new().allow_origins(["*"]).build().is_ok());
        assert_eq!(
            keys(PolicyConfig::new().allow_origins(["*"]).allow_credentials(true)),
            ["allow_origins[0]"]
        );
        assert_eq!(
            keys(PolicyConfig::new().allow_origins(["*", "https://a.com"])),
            ["allow_origins[0]"]
        );
    }

    #[test]
    fn insecure_origins_need_the_opt_in() {
        let c = PolicyConfig::new().allow_origins(["http://example.com", "http://*.example.net"]);
        assert_eq!(keys(c.clone()), ["allow_origins[0]", "allow_origins[1]"]);
        assert!(c.allow_insecure_origins(true).build().is_ok());
        assert!(PolicyConfig::new()
            .allow_origins(["http://127.0.0.1:8080", "http://[::1]:*", "http://dev.localhost"])
            .build()
            .is_ok());
    }

    #[test]
    fn public_suffix_patterns_are_refused_even_with_the_opt_in() {
        for p in [
            "https://*.github.io",
            "https://*.com",
            "https://*.co.uk",
            "https://*.herokuapp.com",
        ] {
            assert_eq!(
                keys(PolicyConfig::new().allow_origins([p]).allow_insecure_origins(true)),
                ["allow_origins[0]"],
                "{p}"
            );
        }
        assert!(PolicyConfig::new()
            .allow_origins(["https://*.example.co.uk"])
            .build()
            .is_ok());
        assert!(PolicyConfig::new()
            .allow_origins(["http://*.localhost:*"])
            .build()
            .is_ok());
    }

    #[test]
    fn max_age_bounds() {
        assert!(PolicyConfig::new().allow_origins(["*"]).max_age(86_400).build().is_ok());
        assert_eq!(keys(PolicyConfig::new().allow_origins(["*"]).max_age(-1)), ["max_age"]);
    }

    #[test]
    fn header_wildcard_rules() {
        assert!(PolicyConfig::new()
            .allow_origins(["*"])
            .allow_headers(["*"])
            .build()
            .is_ok());
        assert!(PolicyConfig::new()
            .allow_origins(["https://a.com"])
            .allow_headers(["*", "authorization"])
            .expose_headers(["*"])
            .build()
            .is_ok());
        assert_eq!(
            keys(
                PolicyConfig::new()
                    .allow_origins(["https://a.com"])
                    .allow_headers(["X-A", "x-a"])
            ),
            ["allow_headers[1]"]
        );
        assert_eq!(
            keys(PolicyConfig::new().allow_origins(["https://a.com"]).allow_headers([
                "access-control-allow-origin",
                "proxy-authorization",
                "host"
            ])),
            ["allow_headers[0]", "allow_headers[1]", "allow_headers[2]"]
        );
    }

    #[test]
    fn messages_name_the_problem() {
        let e = errors(PolicyConfig::new().allow_origins(["https://example.com:443"]));
        assert!(e[0].1.contains("default port"), "{e:?}");
        let e = errors(PolicyConfig::new().allow_origins(["https://*.github.io"]));
        assert!(e[0].1.contains("public suffix"), "{e:?}");
    }
}
