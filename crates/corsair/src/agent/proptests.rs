//! Property tests: no input makes the agent panic, and the preflight request
//! is always well-formed.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;

use super::*;
use crate::fetch::is_forbidden_request_header;

/// Header names a CORS response might carry, plus noise.
fn response_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("access-control-allow-origin".to_string()),
        Just("access-control-allow-credentials".to_string()),
        Just("access-control-allow-methods".to_string()),
        Just("access-control-allow-headers".to_string()),
        Just("access-control-expose-headers".to_string()),
        Just("access-control-max-age".to_string()),
        Just("location".to_string()),
        Just("set-cookie".to_string()),
        "[a-z*-]{1,12}",
    ]
}

fn response_headers() -> impl Strategy<Value = HeaderMap> {
    proptest::collection::vec((response_name(), proptest::collection::vec(any::<u8>(), 0..40)), 0..8).prop_map(
        |pairs| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(&value)) {
                    map.append(n, v);
                }
            }
            map
        },
    )
}

fn request() -> impl Strategy<Value = Result<Request, RequestError>> {
    (
        prop_oneof![
            Just("https://app.example".to_string()),
            Just("null".to_string()),
            any::<String>()
        ],
        prop_oneof![Just("https://api.example/r".to_string()), any::<String>()],
        prop_oneof![Just("PUT".to_string()), Just("get".to_string()), any::<String>()],
        proptest::collection::vec((any::<String>(), any::<String>()), 0..5),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(origin, url, method, headers, cred, flag)| {
            let mut b = Request::builder(origin, url).method(method).use_cors_preflight(flag);
            for (n, v) in headers {
                b = b.header(n, v);
            }
            if cred {
                b = b.credentials(CredentialsMode::Include);
            }
            b.build()
        })
}

proptest! {
    #[test]
    fn never_panics(req in request(), status in any::<u16>(), headers in response_headers()) {
        if let Ok(req) = req {
            let _ = req.trace();
            if let Some(pf) = req.preflight() {
                prop_assert_eq!(pf.header_map().len(), pf.headers.len());
                if let Some(acrh) = pf.header("access-control-request-headers") {
                    prop_assert!(!acrh.is_empty() && !acrh.contains(' '));
                    prop_assert_eq!(acrh.to_ascii_lowercase(), acrh);
                }
            }
            let mut trace = Trace::new();
            let ok = check_preflight_traced(&req, status, &headers, &mut trace);
            prop_assert_eq!(ok.is_ok(), trace.is_ok());
            let mut cache = PreflightCache::new(BrowserProfile::Safari);
            if let Ok(ok) = ok {
                cache.store(&req, &ok, Duration::from_secs(1));
            }
            let _ = cache.explain(&req, Duration::from_secs(2));
            let _ = cors_check(&req, &headers);
            let _ = exposed_headers(&req, &headers);
            let _ = follow_redirect(&req, 0, status, &headers);
        }
    }

    #[test]
    fn safelist_functions_total(name in any::<String>(), value in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = is_cors_safelisted_request_header(&name, &value);
        let _ = is_forbidden_request_header(&name, &value);
        let names = cors_unsafe_request_header_names([(name.as_str(), value.as_slice())]);
        prop_assert!(names.len() <= 1);
    }
}
