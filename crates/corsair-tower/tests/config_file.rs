//! One config file for the gateway and the app: `CorsLayer::from_config_file`
//! reads the `[[policy]]` tables the gateway reads, and the library's
//! reading agrees with the gateway's own parser (names, routing data,
//! policies, and the problems it reports, key by key and word for word).

use std::convert::Infallible;
use std::path::PathBuf;

use corsair::{PolicyFile, PolicyMode};
use corsair_tower::{ConfigFileError, CorsLayer};
use http::{Request, Response};
use tower::{service_fn, Layer, ServiceExt};

const FILE: &str = r#"
listen = "127.0.0.1:0"
upstream = "http://127.0.0.1:3000"
workers = 1
[admin]
listen = "127.0.0.1:0"
[limits]
upstream_timeout = 5
[paths]
semicolons = "keep"

[[policy]]
name = "api"
hosts = ["API.example.com"]
path_prefix = "/api"
allow_origins = ["https://app.example.com", "https://*.admin.example.com"]
allow_methods = ["PUT", "delete"]
allow_headers = ["*", "authorization"]
expose_headers = ["x-request-id"]
allow_credentials = true
max_age = 600
protect_unsafe_requests_exempt = ["/api/oauth/callback"]

[[policy]]
name = "public"
mode = "report-only"
allow_origins = ["*"]
protect_unsafe_requests = false
"#;

/// A file of its own under the system's temporary folder.
fn write(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("corsair-tower-{}-{name}.toml", std::process::id()));
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn a_layer_from_a_config_file() {
    let path = write("ok", FILE);
    let layer = CorsLayer::from_config_file(&path, "api").expect("layer");
    assert_eq!((layer.name(), layer.mode()), (Some("api"), PolicyMode::Enforce));
    let p = layer.policy();
    assert!(p.allows_origin("https://eu.admin.example.com"));
    assert_eq!(p.config().allow_methods, ["PUT", "DELETE"]);
    let public = CorsLayer::from_config_file(&path, "public").expect("layer");
    assert_eq!(public.mode(), PolicyMode::ReportOnly);
    assert!(public.report().is_some());

    // The layer serves what the file says: `*` with credentials reflects.
    let svc = layer.layer(service_fn(|_req: Request<String>| async {
        Ok::<_, Infallible>(Response::new(String::new()))
    }));
    let req = Request::options("/api/x")
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "authorization,x-trace")
        .body(String::new())
        .expect("request");
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let resp = rt.block_on(svc.oneshot(req)).expect("response");
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.headers()["access-control-allow-headers"], "authorization,x-trace");
    assert_eq!(resp.headers()["access-control-max-age"], "600");

    match CorsLayer::from_config_file(&path, "web") {
        Err(ConfigFileError::NoSuchPolicy { name, available }) => {
            assert_eq!(name, "web");
            assert_eq!(available, ["api", "public"]);
        }
        other => panic!("{other:?}"),
    }
    std::fs::remove_file(&path).expect("remove");
    assert!(matches!(
        CorsLayer::from_config_file(&path, "api"),
        Err(ConfigFileError::Read { .. })
    ));
    let bad = write("bad", "[[policy]]\nallow_origins = [\"https://a.example/\"]\n");
    let e = CorsLayer::from_config_file(&bad, "policy[0]").unwrap_err();
    assert_eq!(
        e.to_string(),
        "1 problem\n  policy[0].allow_origins[0]: \"https://a.example/\": an origin has no path, query, \
         fragment or trailing slash (found `/`): write `https://a.example`"
    );
    std::fs::remove_file(&bad).expect("remove");
}

/// The library and the gateway read the same tables the same way.
#[test]
fn the_library_reads_policies_as_the_gateway_does() {
    let lib = PolicyFile::parse(FILE).expect("library");
    let gw = corsair_gateway::config::parse(FILE, "t.toml", None).expect("gateway");
    assert_eq!(lib.policies().len(), gw.policies.len());
    for (l, g) in lib.policies().iter().zip(&gw.policies) {
        assert_eq!((&l.name, &l.hosts, &l.path_prefix), (&g.name, &g.hosts, &g.path_prefix));
        assert_eq!(l.policy.config(), g.policy.config());
        assert_eq!(l.mode, g.mode);
        assert_eq!(l.protection, g.protection);
    }
    assert!(lib.policies()[0].protection.is_exempt("/api/oauth/callback"));
    assert!(!lib.policies()[1].protection.is_enabled());
    // The embedded default too.
    let lib = PolicyFile::parse(corsair_gateway::DEFAULT_CONFIG).expect("library");
    let gw = corsair_gateway::Config::embedded_default().expect("gateway");
    assert_eq!(lib.policies()[0].name, gw.policies[0].name);
    assert_eq!(lib.policies()[0].policy.config(), gw.policies[0].policy.config());
}

/// Every problem of the `[[policy]]` tables, with the gateway's keys and
/// words (problems of the gateway's own keys are the gateway's alone).
#[test]
fn the_library_reports_the_gateways_problems() {
    let text = r#"
upstream = "ftp://nowhere"
[[policy]]
name = "a"
hosts = ["https://api.example.com", "ok.example"]
path_prefix = "api"
allow_origins = ["*", "https://x.com/", "http://plain.example"]
allow_methods = ["TRACE", "put", "PUT"]
allow_headers = ["cookie", "x y"]
expose_headers = ["set-cookie"]
allow_credentials = true
[[policy]]
name = "a"
allow_origins = ["https://*.github.io", "null"]
max_age = 100000
protect_unsafe_requests_exempt = ["/cb?x=1", "/ok", "/ok", "/a/../b"]
[[policy]]
name = ""
path_prefix = "/bank"
protect_unsafe_requests_exempt = ["/other", "/bank/cb"]
"#;
    // The same problems, each with the same key and message (the order of
    // one policy's problems may differ between the two readers).
    let mut lib: Vec<(String, String)> = PolicyFile::parse(text)
        .unwrap_err()
        .problems
        .into_iter()
        .map(|p| (p.key, p.message))
        .collect();
    let mut gw: Vec<(String, String)> = corsair_gateway::config::parse(text, "t.toml", None)
        .unwrap_err()
        .problems
        .into_iter()
        .filter(|p| p.key.starts_with("policy"))
        .map(|p| (p.key, p.message))
        .collect();
    assert!(lib.len() >= 19, "{lib:#?}");
    lib.sort();
    gw.sort();
    assert_eq!(lib, gw);
}
