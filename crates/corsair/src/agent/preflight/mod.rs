//! The CORS preflight (Fetch §4.8 "CORS-preflight fetch"): the
//! [`PreflightRequest`] the browser sends and the validation of the response
//! ([`check_preflight`]), which yields a [`PreflightOk`] (with its
//! [`MaxAge`]) for the preflight cache.

mod check;
mod max_age;
mod request;
#[cfg(test)]
mod tests;

pub use check::{check_preflight, check_preflight_traced, PreflightOk};
pub use max_age::{MaxAge, DEFAULT_MAX_AGE};
pub use request::PreflightRequest;
