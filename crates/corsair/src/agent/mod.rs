//! The user-agent (browser) half of the Fetch CORS protocol.
//!
//! Pure and deterministic: no I/O, and time is passed in. A [`Request`] is
//! built and validated as `fetch()` would; the engine then answers, step by
//! step and with explanations, what a browser does with it:
//!
//! 1. [`Request::trace`] and [`Request::preflight`]: method normalization,
//!    which headers are CORS-safelisted, whether a preflight is needed and the
//!    exact `OPTIONS` request (the [`PreflightCache`] can spare it);
//! 2. [`check_preflight`]: validation of the preflight response;
//! 3. [`cors_check`]: the CORS check on the actual response;
//! 4. [`exposed_headers`]: which response headers the script can read;
//! 5. [`follow_redirect`]: what a CORS-mode redirect does to the request;
//! 6. [`sec_fetch_site`]: the `Sec-Fetch-Site` a request carries (what
//!    the server's cross-origin protection reads).
//!
//! Every failure is a [`Failure`] that names what the server must change.
//!
//! ```
//! use corsair::agent::{check_preflight, cors_check, Request};
//! use http::{HeaderMap, HeaderValue};
//!
//! let req = Request::builder("https://app.example", "https://api.example/items")
//!     .method("PUT")
//!     .header("Content-Type", "application/json")
//!     .build()?;
//! let preflight = req.preflight().expect("PUT with JSON is preflighted");
//! assert_eq!(preflight.header("Access-Control-Request-Headers"), Some("content-type"));
//!
//! let mut response = HeaderMap::new();
//! response.insert("access-control-allow-origin", HeaderValue::from_static("https://app.example"));
//! response.insert("access-control-allow-methods", HeaderValue::from_static("GET, POST"));
//! let failure = check_preflight(&req, 204, &response).unwrap_err();
//! assert_eq!(failure.fix, "add `PUT` to Access-Control-Allow-Methods (exactly `PUT`, case-sensitive)");
//!
//! response.insert("access-control-allow-methods", HeaderValue::from_static("PUT"));
//! response.insert("access-control-allow-headers", HeaderValue::from_static("Content-Type"));
//! assert!(check_preflight(&req, 204, &response).is_ok());
//! assert!(cors_check(&req, &response).is_ok());
//! # Ok::<(), corsair::agent::RequestError>(())
//! ```

mod cache;
mod check;
mod expose;
mod metadata;
mod mime;
mod origin;
mod preflight;
#[cfg(test)]
mod proptests;
mod range;
mod redirect;
mod request;
mod safelist;
mod text;
mod trace;

pub use cache::{BrowserProfile, CacheLookup, PreflightCache};
pub use check::{cors_check, cors_check_traced};
pub use expose::{exposed_headers, exposed_headers_traced, ExposedHeaders, SAFELISTED_RESPONSE_HEADERS};
pub use metadata::sec_fetch_site;
pub use origin::origin_of_url;
pub use preflight::{check_preflight, check_preflight_traced, MaxAge, PreflightOk, PreflightRequest, DEFAULT_MAX_AGE};
pub use redirect::{follow_redirect, follow_redirect_traced, Redirect, MAX_REDIRECTS};
pub use request::{BodyType, CredentialsMode, Request, RequestBuilder, RequestError};
pub use safelist::{
    cors_unsafe_request_header_names, is_cors_safelisted_request_header, is_cors_unsafe_request_header_byte,
    MAX_SAFELISTED_TOTAL_LEN, MAX_SAFELISTED_VALUE_LEN,
};
pub use trace::{Failure, FailureKind, Step, Trace};
