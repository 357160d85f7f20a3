//! Validation: a [`PolicyConfig`] checked key by key (every problem is
//! reported, with its kind, not just the first) and compiled into a
//! [`Policy`].

use std::collections::HashSet;

use http::{HeaderMap, HeaderValue};

use super::{ConfigErrorKind as Kind, ConfigErrors, Policy, PolicyConfig, MAX_AGE_LIMIT, MAX_HEADER_NAME};
use crate::fetch::{
    is_cors_non_wildcard_request_header_name, is_forbidden_method, is_forbidden_request_header_name,
    is_forbidden_response_header_name, is_header_name, is_method, normalize_method,
};
use crate::nameset::NameSet;
use crate::origin::{DynamicOrigins, OriginMatcher, OriginPattern};

/// The message for `*` in `allow_methods` with credentials.
const LITERAL_STAR_METHODS: &str = "`*` is taken literally by browsers when credentials are allowed; list the methods";
/// The message for `*` in `expose_headers` with credentials.
const LITERAL_STAR_HEADERS: &str = "`*` is taken literally by browsers when credentials are allowed; list the headers";
/// The message for an origin that is not potentially trustworthy.
pub(crate) const INSECURE_ORIGIN: &str =
    "not potentially trustworthy: plain http on a non-loopback host can be spoofed by \
     anyone on the network path; use https, or set allow_insecure_origins = true";
/// The message for a header name listed twice.
const TWICE_CASE_INSENSITIVE: &str = "listed twice (header names are case-insensitive)";

impl Policy {
    pub(super) fn compile(c: &PolicyConfig, dynamic: Option<&DynamicOrigins>) -> Result<Self, ConfigErrors> {
        let mut errs = ConfigErrors::default();
        let origins = validate_origins(c, dynamic, &mut errs);
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
            preflight_refused: HeaderMap::new(),
            dynamic: dynamic.cloned(),
            config: normalized,
        };
        policy.preflight_ok = policy.preflight_templates();
        policy.preflight_refused = policy.preflight_refusal();
        Ok(policy)
    }
}

/// `allow_origins`: each entry parsed strictly, `*` alone and never with
/// credentials, and only potentially trustworthy origins unless
/// `allow_insecure_origins`. With a dynamic origin set, the list may be
/// empty, never `*`, and the set may accept insecure origins only if the
/// configuration does.
fn validate_origins(c: &PolicyConfig, dynamic: Option<&DynamicOrigins>, errs: &mut ConfigErrors) -> OriginMatcher {
    let mut origins = OriginMatcher::default();
    let mut seen = HashSet::new();
    if let Some(d) = dynamic {
        if let Some(i) = c.allow_origins.iter().position(|o| o == "*") {
            errs.push(
                Kind::WildcardNotAlone,
                format!("allow_origins[{i}]"),
                Some("*"),
                "`*` already allows every origin; a dynamic origin set adds nothing: remove one of them",
            );
        }
        if d.allows_insecure_origins() && !c.allow_insecure_origins {
            errs.push(
                Kind::InsecureOrigin,
                "allow_insecure_origins",
                Some("false"),
                "the dynamic origin set accepts insecure origins (DynamicOrigins::allowing_insecure_origins); \
                 set allow_insecure_origins = true to accept them here too, or use DynamicOrigins::new()",
            );
        }
    } else if c.allow_origins.is_empty() {
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
            errs.push(Kind::InsecureOrigin, key, Some(raw), INSECURE_ORIGIN);
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
        // `*`: any name a script can set but `Authorization`, with or
        // without credentials. The answer never carries `*` (with
        // credentials, Fetch §3.3.4's note: browsers read it as a literal
        // name): an allowed preflight's answer reflects the names it asked
        // for, which browsers accept in both modes.
        if raw == "*" {
            h.any = true;
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
