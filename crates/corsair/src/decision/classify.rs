//! Classification and decision: which CORS headers a request carries, what
//! kind of request it is, and whether the policy allows its origin, method
//! and headers ([`Policy::evaluate`]).

use http::header::{self, HeaderMap, HeaderValue};
use http::Method;

use super::request_headers::Listed;
use super::{Decision, Rejection, RequestKind, ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK};
use crate::fetch::list::first_line;
use crate::fetch::{is_cors_safelisted_method, is_method};
use crate::policy::Policy;

/// Request maps up to this size are scanned once for the CORS headers of
/// a preflight rather than looked up name by name (four hashed lookups cost
/// more than comparing a dozen names; browsers send about a dozen).
const SCAN_MAX: usize = 16;

/// The CORS request headers: the first line of each, and whether there are
/// more lines of those that must have one.
#[derive(Default)]
struct Found<'a> {
    origin: Option<&'a HeaderValue>,
    more_origins: bool,
    acrm: Option<&'a HeaderValue>,
    more_acrm: bool,
    acrh: Option<&'a HeaderValue>,
    more_acrh: bool,
    pna: Option<&'a HeaderValue>,
}

impl<'a> Found<'a> {
    /// One pass over every line (for an OPTIONS request). Inlined into its
    /// one caller: called, its result comes back through memory.
    #[inline(always)]
    fn scan(headers: &'a HeaderMap) -> Self {
        let mut f = Found::default();
        for (name, value) in headers {
            let (first, more) = if name == header::ORIGIN {
                (&mut f.origin, &mut f.more_origins)
            } else if name == header::ACCESS_CONTROL_REQUEST_METHOD {
                (&mut f.acrm, &mut f.more_acrm)
            } else if name == header::ACCESS_CONTROL_REQUEST_HEADERS {
                (&mut f.acrh, &mut f.more_acrh)
            } else if name == ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK {
                if f.pna.is_none() {
                    f.pna = Some(value);
                }
                continue;
            } else {
                continue;
            };
            if first.is_some() {
                *more = true;
            } else {
                *first = Some(value);
            }
        }
        f
    }

    /// Lookups by name: `Origin`, and for an OPTIONS request the others.
    #[inline(always)]
    fn lookup(headers: &'a HeaderMap, options: bool) -> Self {
        let mut f = Found::default();
        (f.origin, f.more_origins) = first_line(headers, &header::ORIGIN);
        if f.origin.is_none() {
            return f;
        }
        if options {
            (f.acrm, f.more_acrm) = first_line(headers, &header::ACCESS_CONTROL_REQUEST_METHOD);
            if f.acrm.is_some() {
                (f.acrh, f.more_acrh) = first_line(headers, &header::ACCESS_CONTROL_REQUEST_HEADERS);
                f.pna = headers.get(ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK);
            }
        }
        f
    }
}

impl Policy {
    /// Decides a request from its method and headers. Pure, allocation-free
    /// (except when a preflight spreads `Access-Control-Request-Headers` over
    /// several lines), and bounded in time whatever the headers hold.
    ///
    /// ```
    /// use corsair::{PolicyConfig, RequestKind};
    /// use http::{HeaderMap, HeaderValue, Method};
    ///
    /// let policy = PolicyConfig::new()
    ///     .allow_origins(["https://app.example.com"])
    ///     .allow_methods(["PUT"])
    ///     .build()
    ///     .unwrap();
    /// let mut h = HeaderMap::new();
    /// h.insert("origin", HeaderValue::from_static("https://app.example.com"));
    /// h.insert("access-control-request-method", HeaderValue::from_static("PUT"));
    /// let d = policy.evaluate(&Method::OPTIONS, &h);
    /// assert_eq!(d.kind(), RequestKind::Preflight);
    /// assert!(d.is_allowed());
    ///
    /// h.insert("access-control-request-method", HeaderValue::from_static("DELETE"));
    /// let d = policy.evaluate(&Method::OPTIONS, &h);
    /// assert_eq!(d.rejection().unwrap().code(), "method_not_allowed");
    /// ```
    pub fn evaluate(&self, method: &Method, headers: &HeaderMap) -> Decision {
        let is_options = method == Method::OPTIONS;
        let f = if is_options && headers.len() <= SCAN_MAX {
            Found::scan(headers)
        } else {
            Found::lookup(headers, is_options)
        };
        // Fetch §3.3.2 "HTTP requests": a CORS request is one with an
        // `Origin` header.
        let Some(origin) = f.origin else {
            return Decision::new(RequestKind::NotCors);
        };
        // Fetch §3.3.2: a CORS-preflight request is an OPTIONS request with
        // `Access-Control-Request-Method` (`f.acrm` is only looked for on
        // OPTIONS requests).
        let preflight = f.acrm.is_some();
        let mut d = Decision::new(if preflight {
            RequestKind::Preflight
        } else {
            RequestKind::Actual
        });

        if !self.origins.any {
            // Fetch §3.2 "`Origin` header": one origin-or-null value; a
            // browser never sends two.
            if f.more_origins {
                return d.reject(Rejection::MultipleOrigins);
            }
            // `null` is what every opaque origin serializes to (Fetch §2.2.5
            // "serializing a request origin", step 2, among others): it names
            // no one in particular, so it is never allowed.
            if origin.as_bytes() == b"null" {
                return d.reject(Rejection::NullOrigin);
            }
            // Exact origins compare bytes (a match is text: configured origins
            // are ASCII); patterns and the dynamic set need the origin as
            // text, checked only when there are some.
            if self.origins.matches_exact(origin.as_bytes())
                || ((self.origins.has_patterns() || self.dynamic.is_some())
                    && origin
                        .to_str()
                        .is_ok_and(|s| self.origins.matches_pattern(s) || self.dynamic_allows(s)))
            {
                d.origin = Some(origin.clone());
            } else {
                return d.reject(Rejection::OriginNotAllowed(origin.clone()));
            }
        }
        let Some(acrm) = f.acrm else {
            return d;
        };

        // The method. Fetch §3.3.4: `Access-Control-Request-Method = method`,
        // one token; the browser sends the normalized method (§4.8 step 3).
        if f.more_acrm || !is_method(acrm.as_bytes()) {
            return d.reject(Rejection::InvalidMethod(acrm.clone()));
        }
        let m = acrm.as_bytes();
        // Fetch §4.8 "CORS-preflight fetch", step 7.5: a CORS-safelisted
        // method passes whatever the answer lists, so it is never refused;
        // any other is compared byte for byte with the (normalized) list.
        let method_ok = is_cors_safelisted_method(m) || self.any_method || self.methods.contains(m);
        if !method_ok {
            return d.reject(Rejection::MethodNotAllowed(acrm.clone()));
        }
        d.acrm = Some(acrm.clone());

        // The headers (Fetch §3.3.4: `Access-Control-Request-Headers =
        // 1#field-name`, sent by §4.8 step 5): one line (the usual case), or
        // several joined.
        let checked = match (f.acrh, f.more_acrh) {
            (None, _) => Ok(None),
            (Some(line), false) => match self.all_listed(line.as_bytes()) {
                Listed::All { named: true } => Ok(Some(line.clone())),
                Listed::All { named: false } => Ok(None),
                Listed::Invalid => Err(Rejection::InvalidHeaders),
                Listed::Unknown => self.check_request_headers(|| std::iter::once(line)),
            },
            (Some(_), true) => {
                let lines = headers.get_all(header::ACCESS_CONTROL_REQUEST_HEADERS);
                self.check_request_headers(|| lines.iter())
            }
        };
        match checked {
            Ok(acrh) => d.acrh = acrh,
            Err(r) => return d.reject(r),
        }

        // Private Network Access (WICG, Chromium's legacy preflight): grant
        // `Access-Control-Allow-Private-Network` only when asked with `true`.
        d.private_network = self.private_network && f.pna.is_some_and(|v| v.as_bytes() == b"true");
        d
    }
}
