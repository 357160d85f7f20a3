//! The answer to a preflight: 204 with the granted method and headers, or
//! 403 without any CORS header ([`Policy::write_preflight`]).

use http::header::{self, HeaderMap};
use http::StatusCode;

use super::{Decision, Rejection, RequestKind, ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK, STAR, TRUE};
use crate::policy::Policy;

impl Policy {
    /// The answer to a preflight: the status (204 when accepted, 403 when
    /// rejected) and the headers corsair sends without calling the inner
    /// service. Rejections carry no CORS headers, so they reveal nothing about
    /// the policy (in debug mode, a rejection on method or headers from an
    /// allowed origin gets 204 with `Access-Control-Allow-Origin`, and the
    /// configured methods for a method rejection or the requested, allowed,
    /// method for a header rejection, so that the browser's console names the
    /// precise cause).
    ///
    /// For a decision that is not a preflight, returns `None`. Builds a new
    /// header map: to write the answer straight into a response, use
    /// [`Policy::write_preflight`].
    pub fn preflight_response(&self, d: &Decision) -> Option<(StatusCode, HeaderMap)> {
        let mut h = HeaderMap::new();
        let status = self.write_preflight(d, &mut h)?;
        Some((status, h))
    }

    /// Writes the answer to a preflight into `headers` (usually the empty
    /// header map of the response being built) and returns its status: the
    /// same answer as [`Policy::preflight_response`], without a map of its
    /// own. Each header of the answer replaces any value `headers` already
    /// had under that name; other headers are kept.
    ///
    /// For a decision that is not a preflight, returns `None` and leaves
    /// `headers` alone.
    ///
    /// ```
    /// use corsair::PolicyConfig;
    /// use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
    ///
    /// let policy = PolicyConfig::new()
    ///     .allow_origins(["https://app.example.com"])
    ///     .allow_methods(["PUT"])
    ///     .max_age(600)
    ///     .build()
    ///     .unwrap();
    /// let mut req = HeaderMap::new();
    /// req.insert("origin", HeaderValue::from_static("https://app.example.com"));
    /// req.insert("access-control-request-method", HeaderValue::from_static("PUT"));
    /// let d = policy.evaluate(&Method::OPTIONS, &req);
    ///
    /// let mut resp = Response::new(());
    /// let status = policy.write_preflight(&d, resp.headers_mut()).unwrap();
    /// *resp.status_mut() = status;
    /// assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    /// assert_eq!(resp.headers()["access-control-allow-origin"], "https://app.example.com");
    /// assert_eq!(resp.headers()["access-control-allow-methods"], "PUT");
    /// assert_eq!(resp.headers()["access-control-max-age"], "600");
    ///
    /// // Not a preflight: nothing to answer.
    /// let d = policy.evaluate(&Method::GET, &req);
    /// assert_eq!(policy.write_preflight(&d, resp.headers_mut()), None);
    /// ```
    pub fn write_preflight(&self, d: &Decision, headers: &mut HeaderMap) -> Option<StatusCode> {
        if !d.is_preflight() {
            return None;
        }
        if !headers.is_empty() {
            return Some(self.insert_preflight(d, headers));
        }
        if let Some(r) = &d.rejection {
            // A refusal without CORS headers (all but debug mode's answers
            // to an allowed origin): the same prebuilt answer every time.
            if !(self.debug && r.origin_was_allowed()) {
                *headers = self.preflight_refused.clone();
                return Some(StatusCode::FORBIDDEN);
            }
        } else if let Some(m) = &d.acrm {
            // The usual case: clone the answer prebuilt for this shape
            // (no hashing of names; the same small table) and fill in
            // what the request decides, in place: fewer instructions per
            // preflight than six insertions (figures in bench/notes.md).
            let t = usize::from(d.acrh.is_some()) | usize::from(d.private_network) << 1;
            *headers = self.preflight_ok[t].clone();
            // The placeholders to fill in; the walk stops at the last
            // (the template's later headers are the policy's own).
            let mut left = 1 + usize::from(d.origin.is_some()) + usize::from(d.acrh.is_some());
            for (name, value) in headers.iter_mut() {
                if name == header::ACCESS_CONTROL_ALLOW_ORIGIN {
                    let Some(o) = &d.origin else { continue };
                    *value = o.clone();
                } else if name == header::ACCESS_CONTROL_ALLOW_METHODS {
                    *value = m.clone();
                } else if name == header::ACCESS_CONTROL_ALLOW_HEADERS {
                    let Some(v) = &d.acrh else { continue };
                    *value = v.clone();
                } else {
                    continue;
                }
                left -= 1;
                if left == 0 {
                    break;
                }
            }
            return Some(StatusCode::NO_CONTENT);
        }
        Some(self.insert_preflight(d, headers))
    }

    /// [`Policy::write_preflight`] by insertions, for any decision and map.
    pub(crate) fn insert_preflight(&self, d: &Decision, h: &mut HeaderMap) -> StatusCode {
        if h.is_empty() {
            // Room for the usual six headers in the smallest table `http`
            // makes (8 slots): a larger one costs more per preflight, mostly
            // in zeroing and allocating it (figures in bench/notes.md).
            h.reserve(6);
        }
        // Fetch "CORS protocol and HTTP caches" (background): the answer
        // depends on these request headers, so it varies on them.
        h.insert(header::VARY, self.preflight_vary.clone());
        match &d.rejection {
            // Fetch §3.3.3 "HTTP responses": a successful answer to a
            // preflight has an ok status (204) and the headers that match
            // the request.
            None => {
                // The CORS check the browser runs on the answer (Fetch §4.8
                // step 7, §4.10 "CORS check" steps 3-7).
                self.put_origin(d, h);
                // Fetch §4.8 step 7.5: the requested method is in the list
                // (it is echoed, byte for byte, as normalized by the browser).
                if let Some(m) = &d.acrm {
                    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, m.clone());
                }
                // Fetch §4.8 steps 7.6 and 7.7: every requested name is in
                // the list (echoed; never `*`, which a credentialed request
                // reads literally).
                if let Some(v) = &d.acrh {
                    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
                }
                // Fetch §4.8 steps 7.8-7.10: the browser caches the result
                // this long (5 s without the header), capped by its limit.
                if let Some(v) = &self.max_age {
                    h.insert(header::ACCESS_CONTROL_MAX_AGE, v.clone());
                }
                if d.private_network {
                    h.insert(ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK, TRUE);
                }
                StatusCode::NO_CONTENT
            }
            Some(r) if self.debug && r.origin_was_allowed() => {
                self.put_origin(d, h);
                // An explicit method list: without it, a browser reads a
                // missing Access-Control-Allow-Methods as "the requested
                // method" for requests with the use-CORS-preflight flag
                // (upload listeners, streams; Fetch §4.8 step 7.4) and would
                // pass the preflight.
                if matches!(r, Rejection::MethodNotAllowed(_)) {
                    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, self.listed_methods.clone());
                } else if let Some(m) = &d.acrm {
                    // A header rejection: the method passed (it is checked
                    // first), so it is granted, or the browser would stop at
                    // the method (Fetch §4.8 step 7.5: a missing list allows
                    // only the safelisted methods) and name it instead of the
                    // refused header (step 7.7).
                    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, m.clone());
                }
                StatusCode::NO_CONTENT
            }
            // Fetch §3.3.3: "the 403 status can be used, coupled with
            // omitting the relevant headers" (the browser's step 7 then
            // fails: a network error).
            Some(_) => StatusCode::FORBIDDEN,
        }
    }

    /// The answers to accepted preflights, built once with the policy's
    /// values and placeholders for the request's, indexed by
    /// `acrh.is_some() | private_network << 1`: exactly the headers, in the
    /// order, that [`Policy::insert_preflight`] writes for such a decision.
    pub(crate) fn preflight_templates(&self) -> [HeaderMap; 4] {
        std::array::from_fn(|t| {
            let mut d = Decision::new(RequestKind::Preflight);
            d.acrm = Some(STAR);
            d.acrh = (t & 1 != 0).then_some(STAR);
            d.private_network = t & 2 != 0;
            let mut h = HeaderMap::new();
            self.insert_preflight(&d, &mut h);
            h
        })
    }

    /// The answer to a refused preflight (without CORS headers): what
    /// [`Policy::insert_preflight`] writes for such a decision.
    pub(crate) fn preflight_refusal(&self) -> HeaderMap {
        let d = Decision::new(RequestKind::Preflight).reject(Rejection::NullOrigin);
        let mut h = HeaderMap::new();
        self.insert_preflight(&d, &mut h);
        h
    }

    /// What the browser's CORS check reads (Fetch §4.10 "CORS check"):
    /// `Access-Control-Allow-Origin` is `*` (step 3, public policies only,
    /// never with credentials) or the request's origin byte for byte (step
    /// 4), and `Access-Control-Allow-Credentials: true` lets a credentialed
    /// request through (steps 6 and 7).
    pub(super) fn put_origin(&self, d: &Decision, h: &mut HeaderMap) {
        match &d.origin {
            Some(o) => h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o.clone()),
            None => h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, STAR),
        };
        if self.credentials {
            h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, TRUE);
        }
    }
}
