//! Unit tests of the parent module.

use super::*;
use crate::{ConfigErrorKind, PolicyMode};

fn keys(text: &str) -> Vec<String> {
    PolicyFile::parse(text)
        .unwrap_err()
        .problems
        .into_iter()
        .map(|p| p.key)
        .collect()
}

#[test]
fn the_gateways_embedded_default_serves_the_library_too() {
    let text = include_str!("../../../../corsair-gateway/src/config/default.toml");
    let file = PolicyFile::parse(text).unwrap();
    let p = &file.policies()[0];
    assert_eq!(p.name, "local-development");
    assert_eq!((p.hosts.as_slice(), p.path_prefix.as_str()), (&[][..], "/"));
    assert_eq!(p.mode, PolicyMode::Enforce);
    assert!(p.policy.allows_origin("http://localhost:3000"));
    assert!(!p.policy.allows_origin("https://evil.example"));
    assert_eq!(p.config.max_age, Some(600));
}

#[test]
fn the_gateways_keys_are_ignored_and_every_policy_key_is_read() {
    let file = PolicyFile::parse(
        r#"
listen = "127.0.0.1:8080"
upstream = "http://127.0.0.1:3000"
upstream_ca = "ca.pem"
workers = 2
[tls]
cert = "c.pem"
key = "k.pem"
[admin]
listen = "127.0.0.1:9090"
[limits]
upstream_timeout = 5
[paths]
semicolons = "keep"

[[policy]]
name = "admin"
hosts = ["Admin.Example.com", "[::1]"]
path_prefix = "/api"
mode = "report-only"
allow_origins = ["https://admin.example.com", "http://*.dev.example"]
allow_methods = ["put", "PATCH"]
allow_headers = ["*", "authorization"]
expose_headers = ["x-request-id"]
allow_credentials = true
max_age = 0
allow_private_network = true
allow_insecure_origins = true
debug = true

[[policy]]
allow_origins = ["*"]
"#,
    )
    .unwrap();
    let [admin, second] = file.policies() else {
        panic!("two policies");
    };
    assert_eq!(admin.name, "admin");
    assert_eq!(admin.hosts, ["admin.example.com", "[::1]"]);
    assert_eq!(admin.path_prefix, "/api");
    assert_eq!(admin.mode, PolicyMode::ReportOnly);
    let c = &admin.config;
    assert_eq!(c.allow_methods, ["put", "PATCH"]);
    assert_eq!(admin.policy.config().allow_methods, ["PUT", "PATCH"]);
    assert!(c.allow_credentials && c.allow_private_network && c.allow_insecure_origins && c.debug);
    assert_eq!(c.max_age, Some(0));
    assert!(admin.policy.allows_origin("http://a.dev.example"));
    assert_eq!(second.name, "policy[1]");
    assert!(second.policy.is_public());
    assert!(file.get("policy[1]").is_some());
    assert!(file.get("nope").is_none());
}

#[test]
fn every_problem_is_reported_with_its_key() {
    let k = keys(
        r#"
[[policy]]
name = "a"
hosts = ["https://api.example.com"]
path_prefix = "api"
allow_origins = ["*", "https://x.com/"]
allow_credentials = true
[[policy]]
name = "a"
allow_origins = ["https://*.github.io"]
max_age = 100000
[[policy]]
name = " "
allow_origins = ["https://ok.example"]
"#,
    );
    assert_eq!(
        k,
        [
            "policy[0].hosts[0]",
            "policy[0].path_prefix",
            "policy[0].allow_origins[0]",
            "policy[0].allow_origins[1]",
            "policy[1].name",
            "policy[1].allow_origins[0]",
            "policy[1].max_age",
            "policy[2].name",
        ]
    );
    let e = PolicyFile::parse("[[policy]]\nallow_origins = [\"http://a.example\"]\n").unwrap_err();
    assert_eq!(e.problems[0].kind, Some(ConfigErrorKind::InsecureOrigin));
    assert!(e.problems[0]
        .message
        .starts_with("\"http://a.example\": not potentially trustworthy"));
    assert_eq!(
        e.to_string(),
        format!("1 problem\n  policy[0].allow_origins[0]: {}", e.problems[0].message)
    );
}

#[test]
fn unknown_keys_in_a_policy_and_bad_modes_are_errors() {
    let e = PolicyFile::parse("[[policy]]\nallow_origins = [\"*\"]\nallow_origin = []\n").unwrap_err();
    assert_eq!(e.problems.len(), 1);
    assert_eq!(e.problems[0].key, "");
    assert!(e.problems[0].message.contains("unknown field `allow_origin`"), "{e}");
    let e = PolicyFile::parse("[[policy]]\nallow_origins = [\"*\"]\nmode = \"shadow\"\n").unwrap_err();
    assert!(
        e.to_string()
            .contains("unknown variant `shadow`, expected `enforce` or `report-only`"),
        "{e}"
    );
    let e = PolicyFile::parse("[[policy]\n").unwrap_err();
    assert_eq!(e.problems[0].key, "");
    assert_eq!(keys("listen = \"127.0.0.1:1\"\n"), ["policy"]);
}
