//! Unit tests of the parent module.

use super::*;

#[test]
fn renders_counters_and_histogram() {
    let m = Metrics::default();
    let p = m.policy("api \"v1\"", corsair::PolicyMode::Enforce);
    p.request(RequestKind::Actual, "allowed");
    p.request(RequestKind::Preflight, "origin_not_allowed");
    p.request(RequestKind::Actual, "some_future_code");
    p.preflight(false);
    m.observe(Duration::from_millis(3));
    m.upstream_error(UpstreamError::Timeout);
    assert!(Arc::ptr_eq(&p, &m.policy("api \"v1\"", corsair::PolicyMode::Enforce)));
    let text = m.render(false);
    for want in [
        r#"corsair_requests_total{policy="api \"v1\"",kind="actual",outcome="allowed",mode="enforce"} 1"#,
        r#"corsair_requests_total{policy="api \"v1\"",kind="preflight",outcome="origin_not_allowed",mode="enforce"} 1"#,
        r#"corsair_requests_total{policy="api \"v1\"",kind="actual",outcome="some_future_code",mode="enforce"} 1"#,
        r#"corsair_requests_total{policy="api \"v1\"",kind="not_cors",outcome="not_cors",mode="enforce"} 0"#,
        r#"corsair_preflights_total{policy="api \"v1\"",result="rejected"} 1"#,
        r#"corsair_upstream_errors_total{kind="timeout"} 1"#,
        r#"corsair_request_duration_seconds_bucket{le="0.0025"} 0"#,
        r#"corsair_request_duration_seconds_bucket{le="0.005"} 1"#,
        r#"corsair_request_duration_seconds_bucket{le="+Inf"} 1"#,
        "corsair_request_duration_seconds_count 1",
    ] {
        assert!(text.contains(want), "missing {want}\n{text}");
    }
    assert!(!text.contains(r#"kind="not_cors",outcome="allowed""#), "{text}");
}

/// Counts made on many workers (more than there are copies, so some
/// share one) all show up in the rendered sums.
#[test]
fn counts_of_every_worker_are_summed() {
    let m = Metrics::default();
    let p = m.policy("api", corsair::PolicyMode::Enforce);
    std::thread::scope(|s| {
        for id in 0..SHARDS + 3 {
            let (m, p) = (&m, &p);
            s.spawn(move || {
                crate::runtime::workers::set_current_id(id);
                for _ in 0..1000 {
                    p.request(RequestKind::Preflight, "allowed");
                    p.preflight(true);
                    m.observe(Duration::from_micros(100));
                }
            });
        }
    });
    let n = (SHARDS + 3) * 1000;
    let text = m.render(false);
    for want in [
        format!(r#"corsair_requests_total{{policy="api",kind="preflight",outcome="allowed",mode="enforce"}} {n}"#),
        format!(r#"corsair_preflights_total{{policy="api",result="accepted"}} {n}"#),
        format!(r#"corsair_request_duration_seconds_bucket{{le="0.0005"}} {n}"#),
        format!("corsair_request_duration_seconds_count {n}"),
        format!("corsair_request_duration_seconds_sum {}", n as f64 * 100e-6),
    ] {
        assert!(text.contains(&want), "missing {want}\n{text}");
    }
}

#[test]
fn cross_origin_refusals_have_counters_of_their_own() {
    // Every refusal code of cross-origin protection is a known outcome (a
    // hot counter, not the locked list of unknown ones).
    for code in corsair::CrossOriginRejection::CODES {
        assert!(OUTCOMES.contains(&code), "{code}");
    }
    let m = Metrics::default();
    let p = m.policy("api", corsair::PolicyMode::Enforce);
    p.request(RequestKind::Actual, "cross_origin_request");
    p.request(RequestKind::NotCors, "cross_origin_request");
    p.request(RequestKind::Actual, "origin_host_mismatch");
    assert!(p.other.lock().unwrap().is_empty());
    let text = m.render(false);
    for line in [
        r#"corsair_requests_total{policy="api",kind="actual",outcome="cross_origin_request",mode="enforce"} 1"#,
        r#"corsair_requests_total{policy="api",kind="not_cors",outcome="cross_origin_request",mode="enforce"} 1"#,
        r#"corsair_requests_total{policy="api",kind="actual",outcome="origin_host_mismatch",mode="enforce"} 1"#,
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
}
