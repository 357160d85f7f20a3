//! Validation, key by key: what is refused, with which key, kind and
//! message, and what is accepted.

use std::collections::HashSet;

use super::*;
use crate::ConfigErrorKind as Kind;

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
    // `*` in allow_headers is sound with credentials (reflected), so
    // allow_headers[1] is not among them.
    let want = [
        ("allow_origins[0]", "wildcard_with_credentials"),
        ("allow_origins[2]", "invalid_origin"),
        ("allow_methods[0]", "forbidden_method"),
        ("allow_methods[1]", "invalid_method"),
        ("allow_methods[2]", "wildcard_with_credentials"),
        ("allow_headers[0]", "forbidden_request_header"),
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
        "invalid_exempt_path",
    ]
    .into();
    // The one kind a policy's own keys never produce: cross-origin
    // protection's exempt paths.
    let errs = crate::CrossOriginProtection::new()
        .exempt_paths(["no-slash"])
        .unwrap_err();
    let e = errs.iter().next().unwrap();
    assert_eq!(
        (e.key.as_str(), e.kind),
        ("protect_unsafe_requests_exempt[0]", Kind::InvalidExemptPath)
    );
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
    // With credentials `*` stays allowed in allow_headers (the answer
    // reflects the requested names), never in allow_methods or
    // expose_headers (browsers would read it literally).
    let credentialed = || {
        PolicyConfig::new()
            .allow_origins(["https://a.com"])
            .allow_credentials(true)
    };
    assert!(credentialed().allow_headers(["*"]).build().is_ok());
    assert!(credentialed().allow_headers(["*", "authorization"]).build().is_ok());
    assert_eq!(keys(credentialed().allow_methods(["*"])), ["allow_methods[0]"]);
    assert_eq!(keys(credentialed().expose_headers(["*"])), ["expose_headers[0]"]);
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
