//! `mode = "report-only"` (issue 16): the policy decides every request, the
//! upstream's answer goes out untouched, and every disagreement is logged,
//! counted and aggregated at `GET /report`.

use corsair_testkit::bounded;
use corsair_testkit::gateway::{admin_get, TestGateway};
use corsair_testkit::raw::{exchange, request};
use corsair_testkit::upstream::{origin_of, Reply, Upstream};
use serde_json::Value;

const APP: &str = "https://app.example.com";
const OLD: &str = "https://old.example.com";

/// An upstream that reflects any origin with credentials (the lazy answer a
/// team wants to move away from), and grants every preflight.
fn reflecting() -> Upstream {
    Upstream::with(|method, headers| {
        let mut h = Vec::new();
        if let Some(o) = origin_of(headers) {
            h.push(("access-control-allow-origin", o.to_owned()));
            h.push(("access-control-allow-credentials", "true".to_owned()));
            if let Some(m) = headers.get("access-control-request-method") {
                h.push(("access-control-allow-methods", m.to_str().unwrap_or("").to_owned()));
            }
            if let Some(m) = headers.get("access-control-request-headers") {
                h.push(("access-control-allow-headers", m.to_str().unwrap_or("").to_owned()));
            }
        }
        Reply::for_method(method, h)
    })
}

fn config(upstream: &str) -> String {
    format!(
        r#"
listen = "127.0.0.1:0"
upstream = "{upstream}"
[admin]
listen = "127.0.0.1:0"

[[policy]]
name = "api"
mode = "report-only"
allow_origins = ["{APP}"]
allow_methods = ["PUT"]
allow_credentials = true
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_only_leaves_every_answer_untouched_and_reports_the_would_be_rejections() {
    bounded(30, async {
        let up = reflecting();
        let gw = TestGateway::start(&config(&up.url()));
        // An allowed origin: the upstream's own answer, nothing added.
        let r = exchange(gw.addr, &request("GET", "/api/me", Some(APP), &["Cookie: s=1"])).await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.all("access-control-allow-origin"), [APP]);
        assert!(!r.varies_on_origin(), "report-only adds nothing, not even Vary: {r:?}");
        // An origin the policy would refuse: still the upstream's reflection.
        for _ in 0..3 {
            let r = exchange(gw.addr, &request("GET", "/api/me", Some(OLD), &["Cookie: s=1"])).await.unwrap();
            assert_eq!(r.all("access-control-allow-origin"), [OLD]);
            assert_eq!(r.header("access-control-allow-credentials").as_deref(), Some("true"));
        }
        // A preflight the policy would refuse (method): forwarded, answered
        // by the upstream.
        let before = up.seen().len();
        let r = exchange(
            gw.addr,
            &request(
                "OPTIONS",
                "/api/items",
                Some(APP),
                &["Access-Control-Request-Method: DELETE", "Access-Control-Request-Headers: x-token"],
            ),
        )
        .await
        .unwrap();
        assert_eq!(r.status, 204);
        assert_eq!(r.header("access-control-allow-methods").as_deref(), Some("DELETE"));
        assert_eq!(up.seen().len(), before + 1, "the preflight reached the upstream");
        assert_eq!(up.seen().last().unwrap().method, "OPTIONS");

        // The report: one entry per (policy, verdict, reason, origin).
        let (status, body) = admin_get(gw.admin.unwrap(), "/report").await;
        assert_eq!(status, 200);
        let report: Value = serde_json::from_str(&body).unwrap();
        let entries = report["entries"].as_array().unwrap();
        let find = |origin: &str, reason: &str| {
            entries
                .iter()
                .find(|e| e["origin"] == origin && e["reason"] == reason)
                .unwrap_or_else(|| panic!("no {origin} {reason} in {body}"))
        };
        let old = find(OLD, "origin_not_allowed");
        assert_eq!(old["policy"], "api");
        assert_eq!(old["verdict"], "would_reject");
        assert_eq!(old["count"], 3);
        assert_eq!(old["example"]["method"], "GET");
        assert_eq!(old["example"]["path"], "/api/me");
        assert!(old["first_seen"].as_str().unwrap().ends_with('Z'));
        let pf = find(APP, "method_not_allowed");
        assert_eq!(pf["verdict"], "would_reject");
        assert_eq!(pf["example"]["kind"], "preflight");
        assert_eq!(pf["example"]["requested_method"], "DELETE");
        assert!(
            entries.iter().all(|e| !(e["origin"] == APP && e["example"]["method"] == "GET")),
            "the allowed GET agreed with the upstream: {body}"
        );
        // Counted, with the mode label; logged once per new entry.
        let metrics = gw.metrics().await;
        for line in [
            "corsair_requests_total{policy=\"api\",kind=\"actual\",outcome=\"origin_not_allowed\",mode=\"report-only\"} 3",
            "corsair_report_only_disagreements_total{policy=\"api\",verdict=\"would_reject\",reason=\"origin_not_allowed\"} 3",
            "corsair_report_only_disagreements_total{policy=\"api\",verdict=\"would_reject\",reason=\"method_not_allowed\"} 1",
        ] {
            assert!(metrics.contains(line), "{line} in\n{metrics}");
        }
        let logged = gw.logs_with("CORS report-only: would reject what the upstream allowed");
        assert_eq!(logged.len(), 2, "{:?}", logged);
        assert!(gw.logs_with("CORS request rejected").is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_only_reports_what_the_policy_would_allow_and_enforce_still_enforces() {
    bounded(30, async {
        // An upstream that sends no CORS headers at all.
        let up = Upstream::with(|method, _| Reply::for_method(method, Vec::new()));
        let gw = TestGateway::start(&config(&up.url()));
        let r = exchange(gw.addr, &request("GET", "/x", Some(APP), &[])).await.unwrap();
        assert_eq!(r.header("access-control-allow-origin"), None, "untouched");
        let (_, body) = admin_get(gw.admin.unwrap(), "/report").await;
        let report: Value = serde_json::from_str(&body).unwrap();
        let e = &report["entries"][0];
        assert_eq!(e["verdict"], "would_allow", "{body}");
        assert_eq!(e["origin"], APP);
        // Switching to enforce: the same request gets the policy's answer.
        gw.rewrite_config(&config(&up.url()).replace("mode = \"report-only\"\n", ""));
        gw.reload().unwrap();
        let r = exchange(gw.addr, &request("GET", "/x", Some(APP), &[])).await.unwrap();
        assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(APP));
        let metrics = gw.metrics().await;
        assert!(metrics.contains("outcome=\"allowed\",mode=\"enforce\""), "{metrics}");
        // A mode that does not exist is a config error naming the choices.
        let bad = config(&up.url()).replace("report-only", "shadow");
        let e = TestGateway::try_start(&bad, "info", Default::default()).err().unwrap();
        assert!(e.contains("mode") && e.contains("report-only"), "{e}");
    })
    .await;
}

/// Cross-origin protection in report-only mode: a cross-site POST from an
/// origin the policy does not allow reaches the upstream (nothing is
/// enforced) and is reported with protection's reason; enforce refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_only_reports_what_cross_origin_protection_would_refuse() {
    bounded(30, async {
        let up = reflecting();
        let gw = TestGateway::start(&config(&up.url()));
        let forged = request(
            "POST",
            "/api/transfer",
            Some(OLD),
            &["Sec-Fetch-Site: cross-site", "Content-Type: application/x-www-form-urlencoded"],
        );
        for _ in 0..2 {
            let r = exchange(gw.addr, &forged).await.unwrap();
            assert_eq!(r.status, 200, "report-only refuses nothing: {r:?}");
        }
        // A trusted origin's POST: protection has nothing to say.
        let trusted = request("POST", "/api/transfer", Some(APP), &["Sec-Fetch-Site: cross-site"]);
        assert_eq!(exchange(gw.addr, &trusted).await.unwrap().status, 200);
        assert_eq!(up.seen().iter().filter(|r| r.method == "POST").count(), 3);

        let (_, body) = admin_get(gw.admin.unwrap(), "/report").await;
        let report: Value = serde_json::from_str(&body).unwrap();
        let entries = report["entries"].as_array().unwrap();
        let e = entries
            .iter()
            .find(|e| e["reason"] == "cross_origin_request")
            .unwrap_or_else(|| panic!("no cross_origin_request entry in {body}"));
        assert_eq!((e["verdict"].as_str(), e["origin"].as_str()), (Some("would_reject"), Some(OLD)));
        assert_eq!(e["count"], 2);
        assert_eq!(e["example"]["method"], "POST");
        assert!(entries.iter().all(|e| e["origin"] != APP), "{body}");
        let metrics = gw.metrics().await;
        for line in [
            "corsair_requests_total{policy=\"api\",kind=\"actual\",outcome=\"cross_origin_request\",mode=\"report-only\"} 2",
            "corsair_report_only_disagreements_total{policy=\"api\",verdict=\"would_reject\",reason=\"cross_origin_request\"} 2",
        ] {
            assert!(metrics.contains(line), "{line} in\n{metrics}");
        }

        // Enforced, the same request never reaches the upstream.
        gw.rewrite_config(&config(&up.url()).replace("mode = \"report-only\"\n", ""));
        gw.reload().unwrap();
        let r = exchange(gw.addr, &forged).await.unwrap();
        assert_eq!(r.status, 403);
        assert_eq!(up.seen().iter().filter(|r| r.method == "POST").count(), 3);
    })
    .await;
}
