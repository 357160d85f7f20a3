//! Validation: a [`PolicyConfig`] checked key by key (every problem is
//! reported, with its kind, not just the first) and compiled into a
//! [`Policy`].

use std::collections::HashSet;

use http::HeaderValue;

use super::{ConfigErrorKind as Kind, ConfigErrors, Policy, PolicyConfig, MAX_AGE_LIMIT, MAX_HEADER_NAME};
use crate::fetch::{
    is_cors_non_wildcard_request_header_name, is_forbidden_method, is_forbidden_request_header_name,
    is_forbidden_response_header_name, is_header_name, is_method, normalize_method,
};
use crate::nameset::NameSet;
use crate::origin::{OriginMatcher, OriginPattern};

/// The message for `*` in `allow_methods` with credentials.
const LITERAL_STAR_METHODS: &str = "`*` is taken literally by browsers when credentials are allowed; list the methods";
/// The message for `*` in `allow_headers` or `expose_headers` with credentials.
const LITERAL_STAR_HEADERS: &str = "`*` is taken literally by browsers when credentials are allowed; list the headers";
/// The message for a header name listed twice.
const TWICE_CASE_INSENSITIVE: &str = "listed twice (header names are case-insensitive)";

impl Policy {
    pub(super) fn compile(c: &PolicyConfig) -> Result<Self, ConfigErrors> {
        let mut errs = ConfigErrors::default();
        let origins = validate_origins(c, &mut errs);
        let methods = validate_methods(c, &mut errs);
        let headers = validate_request_headers(c, &mut errs);
        let expose = validate_expose_headers(c, &mut errs);
        let max_age = validate_max_age(c, &mut errs);
        if !errs.is_empty() {
            return Err(errs);
        }
        let mut normalized = c.clone();
        normalized.allow_methods = methods.normalized;
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
            credentials: c.allow_credentials,
            any_method: methods.any,
            methods: methods.set,
            any_header: headers.any,
            headers: headers.set,
            authorization_listed: headers.authorization_listed,
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

/// `allow_origins`: each entry parsed strictly, `*` alone and never with
/// credentials, and only potentially trustworthy origins unless
/// `allow_insecure_origins`.
fn validate_origins(c: &PolicyConfig, errs: &mut ConfigErrors) -> OriginMatcher {
    let mut origins = OriginMatcher::default();
    let mut seen = HashSet::new();
    if c.allow_origins.is_empty() {
        errs.push(
            Kind::NoOrigins,
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
                errs.push(e.kind(), key, Some(raw), e.message());
                continue;
            }
        };
        if !seen.insert(raw.as_str()) {
            errs.push(Kind::Duplicate, key, Some(raw), "listed twice");
            continue;
        }
        if pattern == OriginPattern::Any {
            if c.allow_credentials {
                errs.push(
                    Kind::WildcardWithCredentials,
                    key,
                    Some(raw),
                    "`*` cannot be used with allow_credentials = true: any site could read \
                     responses with the user's cookies; list the trusted origins instead",
                );
                continue;
            }
            if c.allow_origins.len() > 1 {
                errs.push(
                    Kind::WildcardNotAlone,
                    key,
                    Some(raw),
                    "`*` already allows every origin; remove the other entries or remove `*`",
                );
                continue;
            }
        } else if !c.allow_insecure_origins && !pattern.is_potentially_trustworthy() {
            errs.push(
                Kind::InsecureOrigin,
                key,
                Some(raw),
                "not potentially trustworthy: plain http on a non-loopback host can be spoofed by \
                 anyone on the network path; use https, or set allow_insecure_origins = true",
            );
            continue;
        }
        origins.insert(&pattern);
    }
    origins
}

/// The compiled `allow_methods`.
struct Methods {
    any: bool,
    set: NameSet,
    /// The list as the policy reports it: normalized, `*` kept.
    normalized: Vec<String>,
}

/// `allow_methods`: methods (tokens), not forbidden, normalized as Fetch
/// §2.2.1 does (a preflight's `Access-Control-Request-Method` carries the
/// normalized method and is compared byte for byte), each once.
fn validate_methods(c: &PolicyConfig, errs: &mut ConfigErrors) -> Methods {
    let mut m = Methods {
        any: false,
        set: NameSet::default(),
        normalized: Vec::new(),
    };
    for (i, raw) in c.allow_methods.iter().enumerate() {
        let key = format!("allow_methods[{i}]");
        // Fetch §3.3.4, note: `*` is a wildcard only for requests without
        // credentials; a credentialed request reads it as a literal method.
        if raw == "*" {
            if c.allow_credentials {
                errs.push(Kind::WildcardWithCredentials, key, Some(raw), LITERAL_STAR_METHODS);
            } else {
                m.any = true;
                m.normalized.push(raw.clone());
            }
            continue;
        }
        if !is_method(raw) {
            errs.push(
                Kind::InvalidMethod,
                key,
                Some(raw),
                "not a method name (an HTTP token such as `PUT`)",
            );
            continue;
        }
        // Fetch §2.2.1 "forbidden method" (and §5.4 "Request class",
        // constructor step 25.2: `fetch()` throws for one).
        if is_forbidden_method(raw) {
            errs.push(
                Kind::ForbiddenMethod,
                key,
                Some(raw),
                "browsers never send CONNECT, TRACE or TRACK from scripts; remove it",
            );
            continue;
        }
        // Fetch §2.2.1 "normalize" (the browser normalizes, §5.4 step 25.3,
        // and §4.8 step 7.5 compares byte for byte).
        let normalized = normalize_method(raw);
        if !m.set.insert(normalized) {
            errs.push(
                Kind::Duplicate,
                key,
                Some(raw),
                format!("`{normalized}` is listed twice (after normalization)"),
            );
            continue;
        }
        m.normalized.push(normalized.to_owned());
    }
    m
}

/// The compiled `allow_headers`.
struct RequestHeaders {
    any: bool,
    /// Lowercase names.
    set: NameSet,
    authorization_listed: bool,
}

/// `allow_headers`: header names a script can set (not forbidden, not a
/// CORS protocol header), case-insensitively once each.
fn validate_request_headers(c: &PolicyConfig, errs: &mut ConfigErrors) -> RequestHeaders {
    let mut h = RequestHeaders {
        any: false,
        set: NameSet::default(),
        authorization_listed: false,
    };
    for (i, raw) in c.allow_headers.iter().enumerate() {
        let key = format!("allow_headers[{i}]");
        // Fetch §3.3.4, note: with credentials `*` is a literal name.
        if raw == "*" {
            if c.allow_credentials {
                errs.push(Kind::WildcardWithCredentials, key, Some(raw), LITERAL_STAR_HEADERS);
            } else {
                h.any = true;
            }
            continue;
        }
        if !is_header_name(raw) || raw.len() > MAX_HEADER_NAME {
            errs.push(
                Kind::InvalidHeaderName,
                key,
                Some(raw),
                "not a header name (an HTTP token of at most 128 bytes)",
            );
            continue;
        }
        let lower = raw.to_ascii_lowercase();
        if lower.starts_with("access-control-") {
            errs.push(
                Kind::CorsProtocolHeader,
                key,
                Some(raw),
                "`Access-Control-*` are CORS protocol headers, not request headers a script sends",
            );
            continue;
        }
        // Fetch §2.2.2 "forbidden request-header", steps 1 and 2: the name
        // alone forbids it (the method-override names depend on the value).
        if is_forbidden_request_header_name(&lower) {
            errs.push(
                Kind::ForbiddenRequestHeader,
                key,
                Some(raw),
                "a forbidden request-header name: browsers never let scripts set it, so allowing it does nothing",
            );
            continue;
        }
        if is_cors_non_wildcard_request_header_name(raw) {
            h.authorization_listed = true;
        }
        if !h.set.insert(lower.as_str()) {
            errs.push(Kind::Duplicate, key, Some(raw), TWICE_CASE_INSENSITIVE);
        }
    }
    h
}

/// `expose_headers`: header names a browser can expose (never
/// `Set-Cookie`), once each, joined into the answer's value.
fn validate_expose_headers(c: &PolicyConfig, errs: &mut ConfigErrors) -> Option<HeaderValue> {
    let mut expose = Vec::new();
    let mut seen = HashSet::new();
    for (i, raw) in c.expose_headers.iter().enumerate() {
        let key = format!("expose_headers[{i}]");
        // Fetch §4.1 "Main fetch", step 14.1.2: `*` exposes every name only
        // without credentials.
        if raw == "*" {
            if c.allow_credentials {
                errs.push(Kind::WildcardWithCredentials, key, Some(raw), LITERAL_STAR_HEADERS);
                continue;
            }
        } else if !is_header_name(raw) {
            errs.push(
                Kind::InvalidHeaderName,
                key,
                Some(raw),
                "not a header name (an HTTP token)",
            );
            continue;
        // Fetch §2.2.2 "CORS-safelisted response-header name": never a
        // forbidden response-header name.
        } else if is_forbidden_response_header_name(raw) {
            errs.push(
                Kind::ForbiddenResponseHeader,
                key,
                Some(raw),
                "browsers never expose Set-Cookie to scripts; remove it",
            );
            continue;
        }
        if !seen.insert(raw.to_ascii_lowercase()) {
            errs.push(Kind::Duplicate, key, Some(raw), TWICE_CASE_INSENSITIVE);
            continue;
        }
        expose.push(raw.as_str());
    }
    if expose.is_empty() {
        None
    } else {
        HeaderValue::from_str(&expose.join(", ")).ok()
    }
}

/// `max_age`: `0..=86400` seconds, or unset.
fn validate_max_age(c: &PolicyConfig, errs: &mut ConfigErrors) -> Option<HeaderValue> {
    match c.max_age {
        None => None,
        // Fetch §3.3.4: `Access-Control-Max-Age = delta-seconds`; §4.8 step
        // 7.10 caps it at the browser's limit, 86400 s at most (Firefox).
        Some(n) if (0..=MAX_AGE_LIMIT).contains(&n) => Some(HeaderValue::from(n)),
        Some(n) => {
            errs.push(
                Kind::MaxAgeOutOfRange,
                "max_age",
                Some(&n.to_string()),
                format!(
                    "must be between 0 and {MAX_AGE_LIMIT} seconds (0 disables preflight caching; \
                     leave it unset to omit the header)"
                ),
            );
            None
        }
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

    /// Each error's key and code, in order.
    fn codes(c: PolicyConfig) -> Vec<(String, &'static str)> {
        c.build()
            .unwrap_err()
            .into_iter()
            .map(|e| (e.key.clone(), e.code()))
            .collect()
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
    fn all_errors_are_collected_with_keys_and_kinds() {
        let got = codes(
            PolicyConfig::new()
                .allow_origins(["*", "https://ok.example.com", "https://x.com/"])
                .allow_methods(["CONNECT", "GET POST", "*"])
                .allow_headers(["cookie", "*", "sec-fetch-mode", "x ok"])
                .expose_headers(["*", "set-cookie"])
                .allow_credentials(true)
                .max_age(86_401),
        );
        let want = [
            ("allow_origins[0]", "wildcard_with_credentials"),
            ("allow_origins[2]", "invalid_origin"),
            ("allow_methods[0]", "forbidden_method"),
            ("allow_methods[1]", "invalid_method"),
            ("allow_methods[2]", "wildcard_with_credentials"),
            ("allow_headers[0]", "forbidden_request_header"),
            ("allow_headers[1]", "wildcard_with_credentials"),
            ("allow_headers[2]", "forbidden_request_header"),
            ("allow_headers[3]", "invalid_header_name"),
            ("expose_headers[0]", "wildcard_with_credentials"),
            ("expose_headers[1]", "forbidden_response_header"),
            ("max_age", "max_age_out_of_range"),
        ];
        let got: Vec<(&str, &str)> = got.iter().map(|(k, c)| (k.as_str(), *c)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn each_kind_has_a_config_that_produces_it() {
        let o = || PolicyConfig::new().allow_origins(["https://a.example"]);
        for (config, key, kind) in [
            (PolicyConfig::new(), "allow_origins", Kind::NoOrigins),
            (
                PolicyConfig::new().allow_origins(["https://A.example"]),
                "allow_origins[0]",
                Kind::InvalidOrigin,
            ),
            (
                PolicyConfig::new().allow_origins(["null"]),
                "allow_origins[0]",
                Kind::OpaqueOrigin,
            ),
            (
                PolicyConfig::new().allow_origins(["file://"]),
                "allow_origins[0]",
                Kind::OpaqueOrigin,
            ),
            (
                PolicyConfig::new().allow_origins(["https://*.co.uk"]),
                "allow_origins[0]",
                Kind::PublicSuffixPattern,
            ),
            (
                PolicyConfig::new().allow_origins(["http://a.example"]),
                "allow_origins[0]",
                Kind::InsecureOrigin,
            ),
            (
                PolicyConfig::new().allow_origins(["https://a.example", "*"]),
                "allow_origins[1]",
                Kind::WildcardNotAlone,
            ),
            (
                PolicyConfig::new().allow_origins(["*"]).allow_credentials(true),
                "allow_origins[0]",
                Kind::WildcardWithCredentials,
            ),
            (
                PolicyConfig::new().allow_origins(["https://a.example", "https://a.example"]),
                "allow_origins[1]",
                Kind::Duplicate,
            ),
            (o().allow_methods(["put", "PUT"]), "allow_methods[1]", Kind::Duplicate),
            (o().allow_methods(["P UT"]), "allow_methods[0]", Kind::InvalidMethod),
            (o().allow_methods(["trace"]), "allow_methods[0]", Kind::ForbiddenMethod),
            (o().allow_headers(["x:y"]), "allow_headers[0]", Kind::InvalidHeaderName),
            (
                o().expose_headers(["x y"]),
                "expose_headers[0]",
                Kind::InvalidHeaderName,
            ),
            (
                o().allow_headers(["Access-Control-Allow-Origin"]),
                "allow_headers[0]",
                Kind::CorsProtocolHeader,
            ),
            (
                o().allow_headers(["Host"]),
                "allow_headers[0]",
                Kind::ForbiddenRequestHeader,
            ),
            (
                o().expose_headers(["Set-Cookie2"]),
                "expose_headers[0]",
                Kind::ForbiddenResponseHeader,
            ),
            (o().allow_headers(["X-A", "x-a"]), "allow_headers[1]", Kind::Duplicate),
            (o().max_age(-1), "max_age", Kind::MaxAgeOutOfRange),
        ] {
            let errs = config.build().unwrap_err();
            assert_eq!(errs.len(), 1, "{errs}");
            let e = errs.iter().next().unwrap();
            assert_eq!((e.key.as_str(), e.kind), (key, kind), "{e}");
        }
        // Every kind is produced by one of the configurations above.
        let produced: HashSet<&str> = [
            "no_origins",
            "invalid_origin",
            "opaque_origin",
            "public_suffix_pattern",
            "insecure_origin",
            "wildcard_not_alone",
            "wildcard_with_credentials",
            "duplicate",
            "invalid_method",
            "forbidden_method",
            "invalid_header_name",
            "cors_protocol_header",
            "forbidden_request_header",
            "forbidden_response_header",
            "max_age_out_of_range",
        ]
        .into();
        for k in Kind::ALL {
            assert!(produced.contains(k.code()), "{k:?} untested");
        }
    }

    /// The CLI prints this text and its tests match on it: the kinds added
    /// nothing to it.
    #[test]
    fn display_is_key_value_and_message_one_per_line() {
        let errs = PolicyConfig::new()
            .allow_origins(["http://a.example"])
            .max_age(90_000)
            .build()
            .unwrap_err();
        assert_eq!(
            errs.to_string(),
            "`allow_origins[0]` = \"http://a.example\": not potentially trustworthy: plain http on a \
             non-loopback host can be spoofed by anyone on the network path; use https, or set \
             allow_insecure_origins = true\n\
             `max_age` = \"90000\": must be between 0 and 86400 seconds (0 disables preflight caching; \
             leave it unset to omit the header)"
        );
        assert_eq!(
            PolicyConfig::new().build().unwrap_err().to_string(),
            "`allow_origins`: no origin listed: the policy would allow nothing; list exact origins such as \
             `https://app.example.com`"
        );
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
