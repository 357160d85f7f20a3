//! Cross-origin protection in the gateway, end to end, in-process: what a
//! browser sends for a cross-site `<form method=post>` or a `no-cors` POST
//! (`Sec-Fetch-Site`, `Origin`, a form body), and what other clients send,
//! through a [`TestGateway`] in front of the kit's recording upstream: a
//! refused request is answered 403 without CORS headers, logged and counted,
//! and never reaches the upstream.

use std::time::Duration;

use bytes::Bytes;
use corsair_testkit::bounded;
use corsair_testkit::client::{client, read, ClientBody, Got};
use corsair_testkit::gateway::TestGateway;
use corsair_testkit::raw::raw_exchange;
use corsair_testkit::upstream::Upstream;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;

const APP: &str = "https://app.example.com";
const PARTNER: &str = "https://eu.partner.example";
const EVIL: &str = "https://evil.example";
const FORM: &str = "application/x-www-form-urlencoded";

/// `open` (protection off) on `/open`, then `app` on everything else with an
/// exempt OpenID Connect callback; `extra` goes first (`[admin]`).
fn config(upstream: &str, extra: &str) -> String {
    format!(
        r#"
listen = "127.0.0.1:0"
upstream = "{upstream}"
{extra}

[[policy]]
name = "open"
path_prefix = "/open"
allow_origins = ["{APP}"]
protect_unsafe_requests = false

[[policy]]
name = "app"
allow_origins = ["{APP}", "https://*.partner.example"]
allow_methods = ["PUT", "DELETE"]
allow_headers = ["content-type"]
allow_credentials = true
protect_unsafe_requests_exempt = ["/oauth/callback"]
"#
    )
}

const ADMIN: &str = "[admin]\nlisten = \"127.0.0.1:0\"\n";

/// Sends `method url` with headers and a form body (10 s limit).
async fn send_body(
    c: &Client<HttpConnector, ClientBody>,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &'static str,
) -> Got {
    let mut b = Request::builder().method(method).uri(url);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b.body(Full::new(Bytes::from_static(body.as_bytes())).boxed()).unwrap();
    let fut = async { read(c.request(req).await.map_err(|e| format!("{e:?}"))?).await };
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .expect("an answer within 10 s")
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// What a browser sends with a form POST: `Sec-Fetch-Site` (when the target
/// is potentially trustworthy), `Origin`, the form's content type.
fn form<'a>(site: Option<&'a str>, origin: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![("content-type", FORM)];
    if let Some(s) = site {
        h.push(("sec-fetch-site", s));
    }
    if let Some(o) = origin {
        h.push(("origin", o));
    }
    h
}

/// A form POST with body `a=b` (what a cross-site `<form>` sends).
async fn post_form(c: &Client<HttpConnector, ClientBody>, url: &str, site: Option<&str>, origin: Option<&str>) -> Got {
    send_body(c, "POST", url, &form(site, origin), "a=b").await
}

fn assert_refused(r: &Got, code: &str) {
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.text().contains(code), "{}", r.text());
    assert!(
        r.text().starts_with("corsair: cross-origin request refused"),
        "{}",
        r.text()
    );
    assert_eq!(r.header("content-type").as_deref(), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    let cors: Vec<&str> = r
        .headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|k| k.starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "a refusal carries no CORS header: {cors:?}");
    assert_eq!(
        r.header("x-upstream"),
        None,
        "answered by the gateway, not the upstream"
    );
}

fn assert_forwarded(r: &Got) {
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-upstream").as_deref(), Some("yes"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_browsers_unsafe_request_never_reaches_the_upstream() {
    bounded(30, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&config(&up.url(), ADMIN));
        let c = client();
        let own = format!("http://{}", gw.addr);

        // A cross-site form POST (and a no-cors fetch POST, which sends the
        // same) from an unlisted origin: 403, before the upstream.
        let r = post_form(&c, &gw.url("/transfer"), Some("cross-site"), Some(EVIL)).await;
        assert_refused(&r, "cross_origin_request");
        // A sibling subdomain is another origin too.
        let r = post_form(
            &c,
            &gw.url("/transfer"),
            Some("same-site"),
            Some("https://x.app.example.com"),
        )
        .await;
        assert_refused(&r, "cross_origin_request");
        // PUT, DELETE, PATCH: every unsafe method.
        for m in ["PUT", "DELETE", "PATCH"] {
            let r = send_body(&c, m, &gw.url("/items/1"), &form(Some("cross-site"), Some(EVIL)), "").await;
            assert_refused(&r, "cross_origin_request");
        }
        // `Origin: null` (a sandboxed frame) is never trusted.
        let r = post_form(&c, &gw.url("/transfer"), Some("cross-site"), Some("null")).await;
        assert_refused(&r, "cross_origin_request");
        // Without Sec-Fetch-Site (a plain-http site, an old browser): the
        // Origin must name this host.
        let r = post_form(&c, &gw.url("/transfer"), None, Some(EVIL)).await;
        assert_refused(&r, "origin_host_mismatch");
        let other_port = format!("http://127.0.0.1:{}", gw.addr.port().wrapping_add(1).max(1));
        let r = post_form(&c, &gw.url("/transfer"), None, Some(&other_port)).await;
        assert_refused(&r, "origin_host_mismatch");
        let r = send_body(
            &c,
            "POST",
            &gw.url("/transfer"),
            &form(None, Some(&own.replace("127.0.0.1", "localhost"))),
            "a=b",
        )
        .await;
        assert_refused(&r, "origin_host_mismatch");
        // The exact exempt path only: any other spelling is protected.
        let r = post_form(&c, &gw.url("/oauth/callback/"), Some("cross-site"), Some(EVIL)).await;
        assert_refused(&r, "cross_origin_request");
        let r = post_form(&c, &gw.url("/oauth/callback/x"), Some("cross-site"), Some(EVIL)).await;
        assert_refused(&r, "cross_origin_request");

        assert!(
            up.seen().is_empty(),
            "refused requests reached the upstream: {:?}",
            up.seen()
        );

        // Logged like a CORS rejection, with the new reason.
        let lines = gw.logs_with("cross-origin request refused (403)");
        assert_eq!(lines.len(), 11, "{}", gw.logs());
        let first = &lines[0];
        assert_eq!(first["reason"], "cross_origin_request");
        assert_eq!(first["policy"], "app");
        assert_eq!(first["origin"], EVIL);
        assert_eq!(first["method"], "POST");
        assert_eq!(first["path"], "/transfer");
        assert_eq!(first["kind"], "actual");
        assert!(
            first["detail"]
                .as_str()
                .unwrap()
                .contains("`https://evil.example` is not in allow_origins"),
            "{first}"
        );
        assert_eq!(lines[6]["reason"], "origin_host_mismatch");
        assert!(gw.logs_with("CORS request rejected").is_empty(), "{}", gw.logs());

        // Counted with the reason as outcome.
        let m = gw.metrics().await;
        for line in [
            r#"corsair_requests_total{policy="app",kind="actual",outcome="cross_origin_request",mode="enforce"} 8"#,
            r#"corsair_requests_total{policy="app",kind="actual",outcome="origin_host_mismatch",mode="enforce"} 3"#,
        ] {
            assert!(m.contains(line), "{line}\n{m}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_same_origin_and_non_browser_requests_go_through() {
    bounded(30, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&config(&up.url(), ADMIN));
        let c = client();
        let own = format!("http://{}", gw.addr);

        // A listed origin (a CORS POST from it comes as cross-site), a
        // pattern's origin, the same origin, a navigation the user started,
        // and curl (neither header).
        let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
            ("listed origin", form(Some("cross-site"), Some(APP))),
            ("pattern origin", form(Some("same-site"), Some(PARTNER))),
            ("same origin", form(Some("same-origin"), Some(&own))),
            ("user-initiated", form(Some("none"), Some(EVIL))),
            ("curl", vec![("content-type", FORM)]),
            ("same host, no Sec-Fetch-Site", form(None, Some(&own))),
            ("listed origin, no Sec-Fetch-Site", form(None, Some(APP))),
        ];
        for (what, headers) in &cases {
            let r = send_body(&c, "POST", &gw.url("/transfer"), headers, "a=b").await;
            assert_forwarded(&r);
            let origin = headers.iter().find(|(k, _)| *k == "origin").map(|(_, v)| *v);
            // CORS still decides who reads the answer.
            let acao = r.header("access-control-allow-origin");
            match origin {
                Some(o) if o == APP || o == PARTNER => assert_eq!(acao.as_deref(), Some(o), "{what}"),
                _ => assert_eq!(acao, None, "{what}"),
            }
        }
        // The exempt path (an OpenID Connect form_post callback from the
        // identity provider), in any form that is canonically the path.
        for path in [
            "/oauth/callback",
            "/oauth/./callback",
            "/oauth/%63allback",
            "/oauth//callback",
        ] {
            let r = send_body(
                &c,
                "POST",
                &gw.url(path),
                &form(Some("cross-site"), Some(EVIL)),
                "code=x&state=y",
            )
            .await;
            assert_forwarded(&r);
        }
        // A policy with protect_unsafe_requests = false.
        let r = post_form(&c, &gw.url("/open/x"), Some("cross-site"), Some(EVIL)).await;
        assert_forwarded(&r);
        // Safe methods are never checked.
        for m in ["GET", "HEAD", "OPTIONS"] {
            let r = send_body(
                &c,
                m,
                &gw.url("/page"),
                &[("sec-fetch-site", "cross-site"), ("origin", EVIL)],
                "",
            )
            .await;
            assert_forwarded(&r);
        }

        let seen = up.seen();
        assert_eq!(seen.len(), cases.len() + 4 + 1 + 3, "{seen:?}");
        assert!(seen[..cases.len()]
            .iter()
            .all(|s| s.method == "POST" && s.path == "/transfer"));
        assert!(seen[cases.len()..cases.len() + 4]
            .iter()
            .all(|s| s.path == "/oauth/callback"));
        assert!(
            gw.logs_with("cross-origin request refused (403)").is_empty(),
            "{}",
            gw.logs()
        );
        let m = gw.metrics().await;
        assert!(!m.contains("cross_origin_request"), "{m}");
        assert!(!m.contains("origin_host_mismatch"), "{m}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflights_keep_their_cors_outcome_and_uncovered_requests_are_not_protected() {
    bounded(30, async {
        let up = Upstream::start();
        let text = format!(
            "listen = \"127.0.0.1:0\"\nupstream = \"{}\"\n{ADMIN}\n[[policy]]\nname = \"api\"\npath_prefix = \"/api\"\n\
             allow_origins = [\"{APP}\"]\n",
            up.url()
        );
        let gw = TestGateway::start(&text);
        let c = client();
        // A preflight is OPTIONS: the CORS decision answers it, as before.
        let r = send_body(
            &c,
            "OPTIONS",
            &gw.url("/api/x"),
            &[
                ("origin", EVIL),
                ("access-control-request-method", "PUT"),
                ("sec-fetch-site", "cross-site"),
            ],
            "",
        )
        .await;
        assert_eq!(r.status, 403);
        assert_eq!(gw.logs_with("CORS request rejected")[0]["reason"], "origin_not_allowed");
        // No policy covers /other: proxied untouched, as it gets no CORS
        // headers either.
        let r = post_form(&c, &gw.url("/other"), Some("cross-site"), Some(EVIL)).await;
        assert_forwarded(&r);
        // Covered: refused.
        let r = post_form(&c, &gw.url("/api/x"), Some("cross-site"), Some(EVIL)).await;
        assert_refused(&r, "cross_origin_request");
        let seen = up.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].path, "/other");
        let m = gw.metrics().await;
        assert!(m.contains(r#"outcome="origin_not_allowed",mode="enforce"} 1"#), "{m}");
        assert!(m.contains("corsair_uncovered_requests_total 1"), "{m}");
    })
    .await;
}

/// The refused request's body is never read as the next request: the
/// connection goes on with the next request, or is closed. (hyper reads the
/// unread body of an answered request to its end when it is all there, so
/// `/after` is served on the same connection.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_body_does_not_become_a_request() {
    bounded(30, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&config(&up.url(), ""));
        let smuggled = "GET /smuggled HTTP/1.1\r\nHost: gateway.test\r\n\r\n";
        let raw = format!(
            "POST /transfer HTTP/1.1\r\nHost: gateway.test\r\nOrigin: {EVIL}\r\nSec-Fetch-Site: cross-site\r\n\
             Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{smuggled}\
             GET /after HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n\r\n",
            smuggled.len()
        );
        let (bytes, _closed) = raw_exchange(gw.addr, raw.as_bytes(), Duration::from_secs(5)).await;
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with("HTTP/1.1 403"), "{text}");
        let paths: Vec<String> = up.seen().iter().map(|s| s.path.clone()).collect();
        assert!(!paths.contains(&"/smuggled".to_owned()), "{paths:?}");
        assert!(paths.iter().all(|p| p == "/after"), "{paths:?}");
        // And a chunked body.
        let raw = format!(
            "POST /transfer HTTP/1.1\r\nHost: gateway.test\r\nOrigin: {EVIL}\r\nSec-Fetch-Site: cross-site\r\n\
             Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{smuggled}\r\n0\r\n\r\n\
             GET /after HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n\r\n",
            smuggled.len()
        );
        let (bytes, _closed) = raw_exchange(gw.addr, raw.as_bytes(), Duration::from_secs(5)).await;
        assert!(String::from_utf8_lossy(&bytes).starts_with("HTTP/1.1 403"));
        let paths: Vec<String> = up.seen().iter().map(|s| s.path.clone()).collect();
        assert!(paths.iter().all(|p| p == "/after"), "{paths:?}");
    })
    .await;
}

/// A reload changes the rules for the next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_turns_protection_off_and_on() {
    bounded(30, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&config(&up.url(), ""));
        let c = client();
        let evil_post = form(Some("cross-site"), Some(EVIL));
        assert_refused(
            &send_body(&c, "POST", &gw.url("/x"), &evil_post, "a=b").await,
            "cross_origin_request",
        );
        gw.rewrite_config(&config(&up.url(), "").replace(
            "protect_unsafe_requests_exempt = [\"/oauth/callback\"]",
            "protect_unsafe_requests = false",
        ));
        gw.reload().unwrap();
        assert_forwarded(&send_body(&c, "POST", &gw.url("/x"), &evil_post, "a=b").await);
        gw.rewrite_config(&config(&up.url(), ""));
        gw.reload().unwrap();
        assert_refused(
            &send_body(&c, "POST", &gw.url("/x"), &evil_post, "a=b").await,
            "cross_origin_request",
        );
        assert_eq!(up.seen().len(), 1);
    })
    .await;
}

/// HTTP/2: the same decision, the fallback comparing `Origin` with
/// `:authority`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_requests_are_protected_the_same() {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    bounded(30, async {
        let up = Upstream::start();
        let gw = TestGateway::start(&config(&up.url(), ""));
        let tcp = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
        tokio::spawn(conn);
        let own = format!("http://{}", gw.addr);
        for (site, origin, status) in [
            (Some("cross-site"), EVIL, 403),
            (None, EVIL, 403),
            (None, own.as_str(), 200),
            (Some("cross-site"), APP, 200),
        ] {
            let mut b = Request::post(gw.url("/transfer")).header("origin", origin);
            if let Some(s) = site {
                b = b.header("sec-fetch-site", s);
            }
            let req = b.body(Full::new(Bytes::from_static(b"a=b"))).unwrap();
            let r = read(sender.send_request(req).await.unwrap()).await.unwrap();
            assert_eq!(r.version, http::Version::HTTP_2);
            assert_eq!(r.status, status, "{site:?} {origin}: {}", r.text());
        }
        assert_eq!(up.seen().len(), 2);
    })
    .await;
}
