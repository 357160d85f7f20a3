//! `corsair audit --unsafe-probes`: the three form POSTs (same-origin, cross-site with
//! and without `Sec-Fetch-Site`) against an endpoint that accepts everything, one that
//! does not take POSTs, and a corsair gateway with cross-origin protection; and that
//! without the flag nothing but GET and OPTIONS is ever sent.

use std::sync::{Arc, Mutex};

use corsair_testkit::cli::{self, Run};
use corsair_testkit::gateway::TestGateway;
use corsair_testkit::upstream::{Reply, Upstream};
use http::{HeaderMap, Method};
use serde_json::Value;

const TRUSTED: &str = "https://example.com";

fn corsair(args: &[&str]) -> Run {
    cli::run(env!("CARGO_BIN_EXE_corsair"), args)
}

/// A request the server saw: method, `Sec-Fetch-Site`, `Content-Type`, `Origin`.
type Seen = Arc<Mutex<Vec<(String, Option<String>, Option<String>, Option<String>)>>>;

fn value(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// A server answering `post_status` to POSTs and 200 (204 to OPTIONS) to the rest,
/// recording every request.
fn server(post_status: u16) -> (Upstream, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let up = Upstream::with(move |method: &Method, headers: &HeaderMap| {
        log.lock().unwrap().push((
            method.to_string(),
            value(headers, "sec-fetch-site"),
            value(headers, "content-type"),
            value(headers, "origin"),
        ));
        let mut reply = Reply::for_method(method, Vec::new());
        if method == Method::POST {
            reply.status = post_status;
        }
        reply
    });
    (up, seen)
}

fn ids(json: &Value) -> Vec<(&str, &str, Option<&str>)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["implied_by"].as_str(),
            )
        })
        .collect()
}

#[test]
fn without_the_flag_nothing_changes_state() {
    let (up, seen) = server(200);
    let r = corsair(&[
        "audit",
        &format!("{}/account", up.url()),
        "--origin",
        TRUSTED,
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let methods: Vec<String> = seen.lock().unwrap().iter().map(|s| s.0.clone()).collect();
    assert!(methods.iter().all(|m| m == "GET" || m == "OPTIONS"), "{methods:?}");
    let j = r.json();
    let probed: Vec<&str> = j["probed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(!probed.iter().any(|p| p.starts_with("cross-site-post")), "{probed:?}");
}

#[test]
fn an_endpoint_that_accepts_cross_site_posts_is_reported() {
    let (up, seen) = server(200);
    let url = format!("{}/account/email", up.url());
    let r = corsair(&[
        "audit",
        &url,
        "--origin",
        TRUSTED,
        "--unsafe-probes",
        "--format",
        "json",
    ]);
    let j = r.json();
    // Medium: the probe cannot see whether the endpoint acts on cookies. The loopback
    // URL gets Sec-Fetch-Site from browsers, so the variant without it is low.
    assert_eq!(r.code, 0, "{j:#}");
    assert_eq!(
        ids(&j),
        [
            ("cross-site-post", "medium", None),
            ("cross-site-post-without-sec-fetch-site", "low", Some("cross-site-post")),
        ]
    );
    let f = &j["findings"][0];
    assert_eq!(f["request"]["method"], "POST");
    assert_eq!(f["response_status"], 200);
    let text = f["explanation"].as_str().unwrap();
    assert!(
        text.contains("was accepted: 200 (the same POST from the site's own origin got 200)"),
        "{text}"
    );
    assert!(f["fix"].as_str().unwrap().contains("Sec-Fetch-Site"), "{f:#}");
    // The three POSTs, as a browser sends them, with a form body. The audit sends its
    // probes concurrently (audit/send.rs), so the upstream sees them in any order.
    let mut posts: Vec<_> = seen.lock().unwrap().iter().filter(|s| s.0 == "POST").cloned().collect();
    posts.sort();
    let target = up.url();
    let mut expected = [
        (
            "POST".to_owned(),
            Some("same-origin".to_owned()),
            Some("application/x-www-form-urlencoded".to_owned()),
            Some(target.clone()),
        ),
        (
            "POST".to_owned(),
            Some("cross-site".to_owned()),
            Some("application/x-www-form-urlencoded".to_owned()),
            Some("https://corsair-probe.evil.example".to_owned()),
        ),
        (
            "POST".to_owned(),
            None,
            Some("application/x-www-form-urlencoded".to_owned()),
            Some("https://corsair-probe.evil.example".to_owned()),
        ),
    ];
    expected.sort();
    assert_eq!(posts, expected);
    // The text report names the POST and its Fetch Metadata.
    let r = corsair(&["audit", &url, "--origin", TRUSTED, "--unsafe-probes"]);
    assert!(r.stdout.contains("[MEDIUM] cross-site-post\n"), "{}", r.stdout);
    assert!(r.stdout.contains("  request:      POST "), "{}", r.stdout);
    assert!(
        r.stdout.contains("                sec-fetch-site: cross-site\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_endpoint_without_posts_gives_notes_not_findings() {
    let (up, _seen) = server(405);
    let r = corsair(&[
        "audit",
        &format!("{}/page", up.url()),
        "--origin",
        TRUSTED,
        "--unsafe-probes",
        "--format",
        "json",
    ]);
    let j = r.json();
    assert!(ids(&j).is_empty(), "{j:#}");
    let notes: Vec<&str> = j["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("the same-origin form POST got 405: the endpoint does not seem to take POSTs")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("the cross-site form POST (Sec-Fetch-Site: cross-site) got 405")),
        "{notes:?}"
    );
    // Listed as checked.
    let probed: Vec<&str> = j["probed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(probed.contains(&"cross-site-post") && probed.contains(&"cross-site-post-without-sec-fetch-site"));
}

#[test]
fn a_corsair_gateway_refuses_them_before_the_service() {
    let (up, seen) = server(200);
    let gw = TestGateway::start(&format!(
        "listen = \"127.0.0.1:0\"\nupstream = \"{}\"\n[[policy]]\nallow_origins = [\"{TRUSTED}\"]\n",
        up.url()
    ));
    let r = corsair(&[
        "audit",
        &gw.url("/account"),
        "--origin",
        TRUSTED,
        "--unsafe-probes",
        "--format",
        "json",
    ]);
    let j = r.json();
    assert!(ids(&j).is_empty(), "{j:#}");
    let notes: Vec<&str> = j["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for code in ["cross_origin_request", "origin_host_mismatch"] {
        assert!(
            notes
                .iter()
                .any(|n| n.contains(&format!("refused by corsair's cross-origin protection ({code})"))),
            "{code}: {notes:?}"
        );
    }
    // Only the same-origin POST reached the service.
    let posts: Vec<Option<String>> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.0 == "POST")
        .map(|s| s.1.clone())
        .collect();
    assert_eq!(posts, [Some("same-origin".to_owned())]);
}
