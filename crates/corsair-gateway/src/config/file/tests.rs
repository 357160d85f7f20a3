//! Unit tests of the parent module.

use super::*;

fn problems(text: &str) -> Vec<String> {
    parse(text, "test.toml", None)
        .unwrap_err()
        .problems
        .into_iter()
        .map(|p| p.key)
        .collect()
}

#[test]
fn embedded_default_is_valid() {
    let c = Config::embedded_default().unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.upstream, Upstream::Echo);
    let p = &c.route(Some("localhost:8080"), "/anything").unwrap().policy;
    assert!(p.allows_origin("http://localhost:3000"));
    assert!(p.allows_origin("http://127.0.0.1:5173"));
    assert!(!p.allows_origin("https://evil.example"));
}

#[test]
fn unknown_keys_are_errors() {
    let e = parse("upstream = \"http://127.0.0.1:1\"\nlisten_on = 1\n", "x.toml", None).unwrap_err();
    assert!(e.to_string().contains("listen_on"), "{e}");
    let e = parse(
        "upstream = \"http://127.0.0.1:1\"\n[[policy]]\nallow_origins=[\"*\"]\nallow_origin = []\n",
        "x.toml",
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("allow_origin"), "{e}");
}

#[test]
fn every_problem_is_reported_with_its_key() {
    let k = problems(
        r#"
listen = "nowhere"
upstream = "ftp://x"
workers = 0
[admin]
listen = "also nowhere"
[limits]
upstream_timeout = 0
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
"#,
    );
    for want in [
        "listen",
        "upstream",
        "workers",
        "admin.listen",
        "limits.upstream_timeout",
        "policy[0].hosts[0]",
        "policy[0].path_prefix",
        "policy[0].allow_origins[0]",
        "policy[0].allow_origins[1]",
        "policy[1].name",
        "policy[1].allow_origins[0]",
        "policy[1].max_age",
    ] {
        assert!(k.iter().any(|x| x == want), "missing {want} in {k:?}");
    }
}

#[test]
fn workers_default_to_one_per_cpu() {
    let base = "upstream = \"builtin:echo\"\n[[policy]]\nallow_origins = [\"https://a.example\"]\n";
    let c = parse(base, "t.toml", None).unwrap();
    assert_eq!(c.workers, None);
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    assert_eq!(c.worker_count(), cpus);
    let c = parse(&format!("workers = 3\n{base}"), "t.toml", None).unwrap();
    assert_eq!(c.worker_count(), 3);
    assert!(problems(&format!("workers = 257\n{base}"))
        .iter()
        .any(|k| k == "workers"));
}

#[test]
fn routing_takes_the_first_policy_that_fits() {
    let c = parse(
        r#"
upstream = "http://127.0.0.1:3000"
[[policy]]
name = "admin"
hosts = ["Admin.Example.com"]
path_prefix = "/api"
allow_origins = ["https://admin.example.com"]
[[policy]]
name = "public"
path_prefix = "/public/"
allow_origins = ["*"]
"#,
        "x.toml",
        None,
    )
    .unwrap();
    let r = |h: Option<&str>, p: &str| c.route(h, p).map(|r| r.name.as_str());
    assert_eq!(r(Some("admin.example.com:8443"), "/api/users"), Some("admin"));
    assert_eq!(r(Some("ADMIN.example.com"), "/api"), Some("admin"));
    assert_eq!(r(Some("admin.example.com"), "/apix"), None);
    assert_eq!(r(Some("other.example.com"), "/api"), None);
    assert_eq!(r(None, "/api"), None);
    assert_eq!(r(Some("any"), "/public/x.js"), Some("public"));
    assert_eq!(r(Some("any"), "/public"), None);
}

#[test]
fn missing_upstream_and_policies() {
    let k = problems("listen = \"127.0.0.1:1\"\n");
    assert_eq!(k, ["upstream", "policy"]);
}
