//! The README's migration table, row by row: each tower-http 0.7 call, its
//! corsair equivalent, and what corsair refuses. Both layers answer the
//! same requests around the same service; where they should agree, the
//! answers are judged as a browser would (the engine's `agent` half), so a
//! `*` from one and a reflection from the other count as the same.

use std::convert::Infallible;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use corsair::agent::{check_preflight, cors_check, CredentialsMode, FailureKind, Request as BrowserRequest};
use corsair::DynamicOrigins;
use corsair_tower::{Any, CorsLayer};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response};
use tower::{Layer, Service, ServiceExt};
use tower_http::cors as th;

const APP: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example";
const URL: &str = "https://api.example.net/items";

/// One answer: status, headers, and whether the inner service ran.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: HeaderMap,
    reached_service: bool,
}

/// The service both layers wrap: answers 200 and says it ran.
#[derive(Clone, Copy)]
struct Svc;

impl Service<Request<String>> for Svc {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<String>) -> Self::Future {
        let mut r = Response::new(String::from("service"));
        r.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        std::future::ready(Ok(r))
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("runtime")
}

/// One request through `layer` around [`Svc`].
fn send<L>(layer: &L, method: Method, headers: &[(&str, &str)]) -> Answer
where
    L: Layer<Svc>,
    L::Service: Service<Request<String>, Response = Response<String>, Error = Infallible>,
{
    let svc = layer.layer(Svc);
    let mut b = Request::builder().method(method).uri("/items");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = rt()
        .block_on(svc.oneshot(b.body(String::new()).expect("request")))
        .expect("response");
    Answer {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        reached_service: resp.body() == "service",
    }
}

/// A preflight's request headers.
fn pf<'a>(origin: &'a str, method: &'a str, names: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![("origin", origin), ("access-control-request-method", method)];
    if !names.is_empty() {
        h.push(("access-control-request-headers", names));
    }
    h
}

/// What a browser makes of a preflight's answer for `method` and the
/// (unsafe) header `names` from `origin`.
fn browser_preflight(
    origin: &str,
    method: &str,
    names: &[&str],
    credentials: bool,
    a: &Answer,
) -> Result<(), FailureKind> {
    let mut b = BrowserRequest::builder(origin, URL).method(method);
    for n in names {
        b = b.header(*n, "{");
    }
    if credentials {
        b = b.credentials(CredentialsMode::Include);
    }
    let req = b.build().expect("a browser request");
    check_preflight(&req, a.status, &a.headers)
        .map(|_| ())
        .map_err(|f| f.kind)
}

/// Whether a browser lets the page read an actual response.
fn browser_reads(origin: &str, credentials: bool, a: &Answer) -> Result<(), FailureKind> {
    let mode = if credentials {
        CredentialsMode::Include
    } else {
        CredentialsMode::SameOrigin
    };
    let req = BrowserRequest::builder(origin, URL)
        .credentials(mode)
        .build()
        .expect("a browser request");
    cors_check(&req, &a.headers).map_err(|f| f.kind)
}

fn code(e: corsair::ConfigErrors) -> &'static str {
    e.iter().next().expect("an error").code()
}

fn panics(f: impl FnOnce()) -> bool {
    catch_unwind(AssertUnwindSafe(f)).is_err()
}

// ---------------------------------------------------------------------------

/// Row `CorsLayer::new()`: corsair's layer is built (and refuses a policy
/// that allows nothing with an error); tower-http answers every OPTIONS
/// itself, corsair only preflights.
#[test]
fn row_new() {
    let t = th::CorsLayer::new().allow_origin(HeaderValue::from_static(APP));
    let c = CorsLayer::builder().allow_origin([APP]).build().expect("layer");
    // A plain OPTIONS (no Access-Control-Request-Method).
    let a = send(&t, Method::OPTIONS, &[("origin", APP)]);
    assert!(!a.reached_service, "tower-http answers a plain OPTIONS itself");
    let a = send(&c, Method::OPTIONS, &[("origin", APP)]);
    assert!(a.reached_service, "corsair passes it to the service");
    assert_eq!(a.headers["access-control-allow-origin"], APP);
    // A preflight: tower-http 200, corsair 204; a browser accepts both.
    let (ta, ca) = (
        send(&t, Method::OPTIONS, &pf(APP, "GET", "")),
        send(&c, Method::OPTIONS, &pf(APP, "GET", "")),
    );
    assert_eq!((ta.status, ca.status), (200, 204));
    assert_eq!(browser_preflight(APP, "GET", &[], false, &ta), Ok(()));
    assert_eq!(browser_preflight(APP, "GET", &[], false, &ca), Ok(()));
    // Nothing allowed: an error, not a layer that silently does nothing.
    assert_eq!(code(CorsLayer::builder().build().unwrap_err()), "no_origins");
}

/// Rows `allow_origin(AllowOrigin::exact(v))` / `allow_origin(v)`.
#[test]
fn row_allow_origin_exact() {
    let t = th::CorsLayer::new().allow_origin(th::AllowOrigin::exact(HeaderValue::from_static(APP)));
    let c = CorsLayer::builder()
        .allow_origin([HeaderValue::from_static(APP)])
        .build()
        .expect("layer");
    for origin in [APP, EVIL] {
        let (ta, ca) = (
            send(&t, Method::GET, &[("origin", origin)]),
            send(&c, Method::GET, &[("origin", origin)]),
        );
        // A browser reads neither answer for EVIL (tower-http sends its
        // exact origin to every origin, which mismatches; corsair sends none).
        assert_eq!(
            browser_reads(origin, false, &ta).is_ok(),
            browser_reads(origin, false, &ca).is_ok(),
            "{origin}"
        );
    }
    assert_eq!(
        browser_reads(APP, false, &send(&c, Method::GET, &[("origin", APP)])),
        Ok(())
    );
    assert!(!send(&c, Method::GET, &[("origin", EVIL)])
        .headers
        .contains_key("access-control-allow-origin"));
    // A trailing slash: tower-http never matches it, silently; corsair says why.
    let slash = th::CorsLayer::new().allow_origin(HeaderValue::from_static("https://app.example.com/"));
    assert!(browser_reads(APP, false, &send(&slash, Method::GET, &[("origin", APP)])).is_err());
    let e = CorsLayer::builder()
        .allow_origin(["https://app.example.com/"])
        .build()
        .unwrap_err();
    assert_eq!(code(e), "invalid_origin");
    assert_eq!(
        code(
            CorsLayer::builder()
                .allow_origin(["https://app.example.com:443"])
                .build()
                .unwrap_err()
        ),
        "invalid_origin"
    );
}

/// Row `allow_origin(AllowOrigin::list(l))`, plus corsair's patterns.
#[test]
fn row_allow_origin_list() {
    let two = ["https://a.example.com", "https://b.example.com"];
    let t = th::CorsLayer::new().allow_origin(th::AllowOrigin::list(two.map(HeaderValue::from_static)));
    let c = CorsLayer::builder().allow_origin(two).build().expect("layer");
    for origin in [
        "https://a.example.com",
        "https://b.example.com",
        "https://c.example.com",
        EVIL,
    ] {
        let (ta, ca) = (
            send(&t, Method::GET, &[("origin", origin)]),
            send(&c, Method::GET, &[("origin", origin)]),
        );
        assert_eq!(
            browser_reads(origin, false, &ta),
            browser_reads(origin, false, &ca),
            "{origin}"
        );
    }
    let p = CorsLayer::builder()
        .allow_origin(["https://*.example.com"])
        .build()
        .expect("layer");
    assert!(browser_reads(
        "https://c.example.com",
        false,
        &send(&p, Method::GET, &[("origin", "https://c.example.com")])
    )
    .is_ok());
    for origin in ["https://example.com", "https://evilexample.com", "http://c.example.com"] {
        assert!(
            browser_reads(origin, false, &send(&p, Method::GET, &[("origin", origin)])).is_err(),
            "{origin}"
        );
    }
}

/// Row `allow_origin(AllowOrigin::predicate(f))`: the usual predicate
/// admits a look-alike; corsair's pattern and dynamic set do not.
#[test]
fn row_allow_origin_predicate() {
    let t = th::CorsLayer::new().allow_origin(th::AllowOrigin::predicate(|o: &HeaderValue, _| {
        o.as_bytes().ends_with(b"example.com")
    }));
    let look_alike = "https://evilexample.com";
    assert_eq!(
        browser_reads(look_alike, false, &send(&t, Method::GET, &[("origin", look_alike)])),
        Ok(())
    );
    let c = CorsLayer::builder()
        .allow_origin(["https://*.example.com"])
        .build()
        .expect("layer");
    assert!(browser_reads(look_alike, false, &send(&c, Method::GET, &[("origin", look_alike)])).is_err());
    // Origins from a database: a validated dynamic set.
    let tenants = DynamicOrigins::new();
    let d = CorsLayer::builder()
        .allow_origins_dynamic(tenants.clone())
        .build()
        .expect("layer");
    let tenant = "https://shop.tenant.example";
    assert!(browser_reads(tenant, false, &send(&d, Method::GET, &[("origin", tenant)])).is_err());
    tenants.insert(tenant).expect("a sound origin");
    assert_eq!(
        browser_reads(tenant, false, &send(&d, Method::GET, &[("origin", tenant)])),
        Ok(())
    );
    assert_eq!(
        tenants.insert("https://*.github.io").unwrap_err().code(),
        "public_suffix_pattern"
    );
}

/// Row `allow_origin(AllowOrigin::mirror_request())`: with credentials,
/// tower-http lets any site read as the user; corsair has no such setting,
/// and its nearest (`Any`) is refused with credentials.
#[test]
fn row_allow_origin_mirror_request() {
    let t = th::CorsLayer::new()
        .allow_origin(th::AllowOrigin::mirror_request())
        .allow_credentials(true);
    assert_eq!(
        browser_reads(EVIL, true, &send(&t, Method::GET, &[("origin", EVIL)])),
        Ok(())
    );
    let e = CorsLayer::builder()
        .allow_origin(Any)
        .allow_credentials(true)
        .build()
        .unwrap_err();
    assert_eq!(code(e), "wildcard_with_credentials");
}

/// Row `allow_origin(Any)`: the same `*`; with credentials tower-http
/// panics when the layer is applied, corsair returns an error.
#[test]
fn row_allow_origin_any() {
    let t = th::CorsLayer::new().allow_origin(th::Any);
    let c = CorsLayer::builder().allow_origin(Any).build().expect("layer");
    let (ta, ca) = (
        send(&t, Method::GET, &[("origin", EVIL)]),
        send(&c, Method::GET, &[("origin", EVIL)]),
    );
    assert_eq!(ta.headers["access-control-allow-origin"], "*");
    assert_eq!(ca.headers["access-control-allow-origin"], "*");
    assert!(panics(|| {
        let _ = th::CorsLayer::new()
            .allow_origin(th::Any)
            .allow_credentials(true)
            .layer(Svc);
    }));
    assert_eq!(
        code(
            CorsLayer::builder()
                .allow_origin(Any)
                .allow_credentials(true)
                .build()
                .unwrap_err()
        ),
        "wildcard_with_credentials"
    );
}

/// Row `allow_methods([Method::GET, Method::PUT])`.
#[test]
fn row_allow_methods_list() {
    let t = th::CorsLayer::new()
        .allow_origin(HeaderValue::from_static(APP))
        .allow_methods([Method::GET, Method::PUT]);
    let c = CorsLayer::builder()
        .allow_origin([APP])
        .allow_methods([Method::GET, Method::PUT])
        .build()
        .expect("layer");
    for m in ["PUT", "DELETE", "PATCH"] {
        let (ta, ca) = (
            send(&t, Method::OPTIONS, &pf(APP, m, "")),
            send(&c, Method::OPTIONS, &pf(APP, m, "")),
        );
        assert_eq!(
            browser_preflight(APP, m, &[], false, &ta).is_ok(),
            browser_preflight(APP, m, &[], false, &ca).is_ok(),
            "{m}"
        );
    }
    // corsair echoes the method asked for only, and refuses the others with 403.
    let ca = send(&c, Method::OPTIONS, &pf(APP, "PUT", ""));
    assert_eq!(ca.headers["access-control-allow-methods"], "PUT");
    assert_eq!(send(&c, Method::OPTIONS, &pf(APP, "DELETE", "")).status, 403);
    // No browser can send TRACE: listing it is a mistake corsair names.
    assert_eq!(
        code(
            CorsLayer::builder()
                .allow_origin([APP])
                .allow_methods([Method::TRACE])
                .build()
                .unwrap_err()
        ),
        "forbidden_method"
    );
}

/// Row `allow_methods(Any)`: `*` from tower-http, the method itself from
/// corsair, the same for a browser; refused with credentials.
#[test]
fn row_allow_methods_any() {
    let t = th::CorsLayer::new()
        .allow_origin(HeaderValue::from_static(APP))
        .allow_methods(th::Any);
    let c = CorsLayer::builder()
        .allow_origin([APP])
        .allow_methods(Any)
        .build()
        .expect("layer");
    let (ta, ca) = (
        send(&t, Method::OPTIONS, &pf(APP, "PATCH", "")),
        send(&c, Method::OPTIONS, &pf(APP, "PATCH", "")),
    );
    assert_eq!(ta.headers["access-control-allow-methods"], "*");
    assert_eq!(ca.headers["access-control-allow-methods"], "PATCH");
    assert_eq!(browser_preflight(APP, "PATCH", &[], false, &ta), Ok(()));
    assert_eq!(browser_preflight(APP, "PATCH", &[], false, &ca), Ok(()));
    let e = CorsLayer::builder()
        .allow_origin([APP])
        .allow_methods(Any)
        .allow_credentials(true)
        .build()
        .unwrap_err();
    assert_eq!(code(e), "wildcard_with_credentials");
}

/// Row `allow_methods(AllowMethods::mirror_request())`: any method, even
/// with credentials; corsair has only lists (or `*` without credentials).
#[test]
fn row_allow_methods_mirror_request() {
    let t = th::CorsLayer::new()
        .allow_origin(HeaderValue::from_static(APP))
        .allow_methods(th::AllowMethods::mirror_request())
        .allow_credentials(true);
    let ta = send(&t, Method::OPTIONS, &pf(APP, "DELETE", ""));
    assert_eq!(browser_preflight(APP, "DELETE", &[], true, &ta), Ok(()));
    let c = CorsLayer::builder()
        .allow_origin([APP])
        .allow_methods(["PUT"])
        .allow_credentials(true)
        .build()
        .expect("layer");
    let ca = send(&c, Method::OPTIONS, &pf(APP, "DELETE", ""));
    assert_eq!(ca.status, 403);
    assert!(browser_preflight(APP, "DELETE", &[], true, &ca).is_err());
}

/// Row `allow_headers([header::CONTENT_TYPE])`.
#[test]
fn row_allow_headers_list() {
    let t = th::CorsLayer::new()
        .allow_origin(HeaderValue::from_static(APP))
        .allow_methods([Method::PUT])
        .allow_headers([header::CONTENT_TYPE]);
    let c = CorsLayer::builder()
        .allow_origin([APP])
        .allow_methods([Method::PUT])
        .allow_headers([header::CONTENT_TYPE])
        .build()
        .expect("layer");
    for names in [&["content-type"][..], &["content-type", "x-secret"]] {
        let line = names.join(",");
        let (ta, ca) = (
            send(&t, Method::OPTIONS, &pf(APP, "PUT", &line)),
            send(&c, Method::OPTIONS, &pf(APP, "PUT", &line)),
        );
        assert_eq!(
            browser_preflight(APP, "PUT", names, false, &ta).is_ok(),
            browser_preflight(APP, "PUT", names, false, &ca).is_ok(),
            "{line}"
        );
    }
    // tower-http answers 200 with its list and lets the browser fail;
    // corsair answers 403 with no CORS header at all.
    let ta = send(&t, Method::OPTIONS, &pf(APP, "PUT", "content-type,x-secret"));
    assert_eq!(
        (ta.status, ta.headers.contains_key("access-control-allow-headers")),
        (200, true)
    );
    let ca = send(&c, Method::OPTIONS, &pf(APP, "PUT", "content-type,x-secret"));
    assert_eq!(
        (ca.status, ca.headers.contains_key("access-control-allow-headers")),
        (403, false)
    );
    // A name no script can set is refused in the configuration.
    let e = CorsLayer::builder()
        .allow_origin([APP])
        .allow_headers([header::COOKIE])
        .build()
        .unwrap_err();
    assert_eq!(code(e), "forbidden_request_header");
}

/// Row `allow_headers(Any)`: the same for a browser; corsair allows it
/// with credentials too (where tower-http panics), and never for
/// Authorization unless listed.
#[test]
fn row_allow_headers_any() {
    let t = th::CorsLayer::new()
        .allow_origin(HeaderValue::from_static(APP))
        .allow_methods([Method::PUT])
        .allow_headers(th::Any);
    let c = CorsLayer::builder()
        .allow_origin([APP])
        .allow_methods([Method::PUT])
        .allow_headers(Any)
        .build()
        .expect("layer");
    for names in [&["x-a", "x-b"][..], &["authorization"]] {
        let line = names.join(",");
        let (ta, ca) = (
            send(&t, Method::OPTIONS, &pf(APP, "PUT", &line)),
            send(&c, Method::OPTIONS, &pf(APP, "PUT", &line)),
        );
        assert_eq!(
            browser_preflight(APP, "PUT", names, false, &ta).is_ok(),
            browser_preflight(APP, "PUT", names, false, &ca).is_ok(),
            "{line}"
        );
    }
    assert!(browser_preflight(
        APP,
        "PUT",
        &["authorization"],
        false,
        &send(&c, Method::OPTIONS, &pf(APP, "PUT", "authorization"))
    )
    .is_err());
    // With credentials: tower-http panics; corsair reflects.
    assert!(panics(|| {
        let _ = th::CorsLayer::new()
            .allow_origin(HeaderValue::from_static(APP))
            .allow_headers(th::Any)
            .allow_credentials(true)
            .layer(Svc);
    }));
    let cc = CorsLayer::builder()
        .allow_origin([APP])
        .allow_methods([Method::PUT])
        .allow_headers(Any)
        .allow_credentials(true)
        .build()
        .expect("layer");
    let a = send(&cc, Method::OPTIONS, &pf(APP, "PUT", "x-a,x-b"));
    assert_eq!(a.headers["access-control-allow-headers"], "x-a,x-b");
    assert_eq!(browser_preflight(APP, "PUT", &["x-a", "x-b"], true, &a), Ok(()));
}

/// Row `allow_headers(AllowHeaders::mirror_request())`: reflection, which
/// corsair's `Any` does, minus Authorization and forbidden names.
#[test]
fn row_allow_headers_mirror_request() {
    let t = th::CorsLayer::new()
        .allow_origin(HeaderValue::from_static(APP))
        .allow_methods([Method::PUT])
        .allow_headers(th::AllowHeaders::mirror_request())
        .allow_credentials(true);
    let c = CorsLayer::builder()
        .allow_origin([APP])
        .allow_methods([Method::PUT])
        .allow_headers(Any)
        .allow_credentials(true)
        .build()
        .expect("layer");
    let (ta, ca) = (
        send(&t, Method::OPTIONS, &pf(APP, "PUT", "x-a,x-b")),
        send(&c, Method::OPTIONS, &pf(APP, "PUT", "x-a,x-b")),
    );
    assert_eq!(ta.headers["access-control-allow-headers"], "x-a,x-b");
    assert_eq!(ca.headers["access-control-allow-headers"], "x-a,x-b");
    // Authorization: reflected by tower-http, refused by corsair unless listed.
    let ta = send(&t, Method::OPTIONS, &pf(APP, "PUT", "authorization"));
    assert_eq!(browser_preflight(APP, "PUT", &["authorization"], true, &ta), Ok(()));
    assert_eq!(send(&c, Method::OPTIONS, &pf(APP, "PUT", "authorization")).status, 403);
    let listed = CorsLayer::builder()
        .allow_origin([APP])
        .allow_headers(["*", "authorization"])
        .allow_credentials(true)
        .build()
        .expect("layer");
    let a = send(&listed, Method::OPTIONS, &pf(APP, "GET", "authorization"));
    assert_eq!(browser_preflight(APP, "GET", &["authorization"], true, &a), Ok(()));
    // A forbidden name, which no browser sends: reflected by one, refused by the other.
    assert_eq!(
        send(&t, Method::OPTIONS, &pf(APP, "PUT", "cookie")).headers["access-control-allow-headers"],
        "cookie"
    );
    assert_eq!(send(&c, Method::OPTIONS, &pf(APP, "PUT", "cookie")).status, 403);
}

/// Row `allow_credentials(true)`; tower-http's predicate form has no
/// equivalent (one policy, one answer).
#[test]
fn row_allow_credentials() {
    let t = th::CorsLayer::new()
        .allow_origin(HeaderValue::from_static(APP))
        .allow_credentials(true);
    let c = CorsLayer::builder()
        .allow_origin([APP])
        .allow_credentials(true)
        .build()
        .expect("layer");
    let (ta, ca) = (
        send(&t, Method::GET, &[("origin", APP)]),
        send(&c, Method::GET, &[("origin", APP)]),
    );
    assert_eq!(browser_reads(APP, true, &ta), Ok(()));
    assert_eq!(browser_reads(APP, true, &ca), Ok(()));
    // ACAC for a refused origin: tower-http sends it, corsair does not.
    assert!(send(&t, Method::GET, &[("origin", EVIL)])
        .headers
        .contains_key("access-control-allow-credentials"));
    assert!(!send(&c, Method::GET, &[("origin", EVIL)])
        .headers
        .contains_key("access-control-allow-credentials"));
    // The predicate form answers differently per request.
    let p = th::CorsLayer::new()
        .allow_origin(HeaderValue::from_static(APP))
        .allow_credentials(th::AllowCredentials::predicate(|_, parts| parts.uri.path() == "/items"));
    assert!(send(&p, Method::GET, &[("origin", APP)])
        .headers
        .contains_key("access-control-allow-credentials"));
}

/// Row `expose_headers([..])` / `expose_headers(Any)`.
#[test]
fn row_expose_headers() {
    let etag = header::ETAG;
    let t = th::CorsLayer::new()
        .allow_origin(HeaderValue::from_static(APP))
        .expose_headers([etag.clone()]);
    let c = CorsLayer::builder()
        .allow_origin([APP])
        .expose_headers([etag.clone()])
        .build()
        .expect("layer");
    let (ta, ca) = (
        send(&t, Method::GET, &[("origin", APP)]),
        send(&c, Method::GET, &[("origin", APP)]),
    );
    assert_eq!(ta.headers["access-control-expose-headers"], "etag");
    assert_eq!(ca.headers["access-control-expose-headers"], "etag");
    // To a refused origin: tower-http still lists them, corsair does not.
    assert!(send(&t, Method::GET, &[("origin", EVIL)])
        .headers
        .contains_key("access-control-expose-headers"));
    assert!(!send(&c, Method::GET, &[("origin", EVIL)])
        .headers
        .contains_key("access-control-expose-headers"));
    let any = CorsLayer::builder()
        .allow_origin([APP])
        .expose_headers(Any)
        .build()
        .expect("layer");
    assert_eq!(
        send(&any, Method::GET, &[("origin", APP)]).headers["access-control-expose-headers"],
        "*"
    );
    let e = CorsLayer::builder()
        .allow_origin([APP])
        .expose_headers(Any)
        .allow_credentials(true)
        .build()
        .unwrap_err();
    assert_eq!(code(e), "wildcard_with_credentials");
    let e = CorsLayer::builder()
        .allow_origin([APP])
        .expose_headers([header::SET_COOKIE])
        .build()
        .unwrap_err();
    assert_eq!(code(e), "forbidden_response_header");
}

/// Row `max_age(Duration::from_secs(600))`.
#[test]
fn row_max_age() {
    let t = th::CorsLayer::new()
        .allow_origin(HeaderValue::from_static(APP))
        .max_age(Duration::from_secs(600));
    let c = CorsLayer::builder()
        .allow_origin([APP])
        .max_age(Duration::from_secs(600))
        .build()
        .expect("layer");
    let (ta, ca) = (
        send(&t, Method::OPTIONS, &pf(APP, "GET", "")),
        send(&c, Method::OPTIONS, &pf(APP, "GET", "")),
    );
    assert_eq!(ta.headers["access-control-max-age"], "600");
    assert_eq!(ca.headers["access-control-max-age"], "600");
    assert_eq!(
        CorsLayer::builder()
            .allow_origin([APP])
            .max_age(600)
            .build()
            .expect("layer")
            .policy()
            .config()
            .max_age,
        Some(600)
    );
    // Only on allowed preflights with corsair.
    assert!(send(&t, Method::OPTIONS, &pf(EVIL, "GET", ""))
        .headers
        .contains_key("access-control-max-age"));
    assert!(!send(&c, Method::OPTIONS, &pf(EVIL, "GET", ""))
        .headers
        .contains_key("access-control-max-age"));
    let e = CorsLayer::builder()
        .allow_origin([APP])
        .max_age(Duration::from_secs(86_401))
        .build()
        .unwrap_err();
    assert_eq!(code(e), "max_age_out_of_range");
}

/// Row `allow_private_network(true)`.
#[test]
fn row_allow_private_network() {
    let t = th::CorsLayer::new()
        .allow_origin(HeaderValue::from_static(APP))
        .allow_private_network(true);
    let c = CorsLayer::builder()
        .allow_origin([APP])
        .allow_private_network(true)
        .build()
        .expect("layer");
    let ask = |origin| {
        let mut h = pf(origin, "GET", "");
        h.push(("access-control-request-private-network", "true"));
        h
    };
    let acapn = "access-control-allow-private-network";
    assert_eq!(send(&t, Method::OPTIONS, &ask(APP)).headers[acapn], "true");
    assert_eq!(send(&c, Method::OPTIONS, &ask(APP)).headers[acapn], "true");
    // To a refused origin: tower-http grants it, corsair does not.
    assert_eq!(send(&t, Method::OPTIONS, &ask(EVIL)).headers[acapn], "true");
    assert!(!send(&c, Method::OPTIONS, &ask(EVIL)).headers.contains_key(acapn));
}

/// Row `vary([..])`: corsair writes `Vary` itself, merged with the
/// service's.
#[test]
fn row_vary() {
    let t = th::CorsLayer::new()
        .allow_origin(HeaderValue::from_static(APP))
        .vary([header::ORIGIN]);
    let vary = |a: &Answer| -> Vec<String> {
        a.headers
            .get_all(header::VARY)
            .iter()
            .map(|v| v.to_str().expect("text").to_owned())
            .collect()
    };
    assert!(vary(&send(&t, Method::GET, &[("origin", APP)])).contains(&"origin".to_owned()));
    let c = CorsLayer::builder().allow_origin([APP]).build().expect("layer");
    for origin in [APP, EVIL] {
        assert_eq!(
            vary(&send(&c, Method::GET, &[("origin", origin)])),
            ["accept-encoding", "Origin"]
        );
    }
    assert_eq!(vary(&send(&c, Method::GET, &[])), ["accept-encoding", "Origin"]);
    assert_eq!(
        vary(&send(&c, Method::OPTIONS, &pf(APP, "GET", ""))),
        ["Origin, Access-Control-Request-Method, Access-Control-Request-Headers"]
    );
}

/// Row `CorsLayer::permissive()`: the same public policy, as a browser
/// sees it (tower-http's `*`s, corsair's reflections), Authorization
/// excepted by both.
#[test]
fn row_permissive() {
    let t = th::CorsLayer::permissive();
    let c = CorsLayer::builder()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any)
        .expose_headers(Any)
        .build()
        .expect("layer");
    for (m, names) in [
        ("PATCH", &["x-a"][..]),
        ("DELETE", &["content-type", "x-b"]),
        ("PUT", &["authorization"]),
    ] {
        let line = names.join(",");
        let (ta, ca) = (
            send(&t, Method::OPTIONS, &pf(EVIL, m, &line)),
            send(&c, Method::OPTIONS, &pf(EVIL, m, &line)),
        );
        assert_eq!(
            browser_preflight(EVIL, m, names, false, &ta).is_ok(),
            browser_preflight(EVIL, m, names, false, &ca).is_ok(),
            "{m} {line}"
        );
    }
    let (ta, ca) = (
        send(&t, Method::GET, &[("origin", EVIL)]),
        send(&c, Method::GET, &[("origin", EVIL)]),
    );
    assert_eq!(browser_reads(EVIL, false, &ta), Ok(()));
    assert_eq!(browser_reads(EVIL, false, &ca), Ok(()));
    assert_eq!(
        ta.headers["access-control-expose-headers"],
        ca.headers["access-control-expose-headers"]
    );
}

/// Row `CorsLayer::very_permissive()`: any site reads as the user; no
/// corsair configuration does that.
#[test]
fn row_very_permissive() {
    let t = th::CorsLayer::very_permissive();
    let a = send(&t, Method::OPTIONS, &pf(EVIL, "DELETE", "x-csrf"));
    assert_eq!(browser_preflight(EVIL, "DELETE", &["x-csrf"], true, &a), Ok(()));
    assert_eq!(
        browser_reads(EVIL, true, &send(&t, Method::GET, &[("origin", EVIL)])),
        Ok(())
    );
    // Each way to approach it is refused.
    for attempt in [
        CorsLayer::builder().allow_origin(Any).allow_credentials(true),
        CorsLayer::builder()
            .allow_origin([APP])
            .allow_methods(Any)
            .allow_credentials(true),
        CorsLayer::builder().allow_origin(["null"]).allow_credentials(true),
    ] {
        assert!(attempt.build().is_err());
    }
}

// ---------------------------------------------------------------------------
